package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// ErrNoKey is SigningKey's failure when no key provider signs with the
// algorithm asked for.
var ErrNoKey = errors.New("realm has no active signing key")

// SigningKey returns the realm's active key for alg, ks being the realm's
// keys. A realm without one gets a fallback key (keys.Fallback), stored and
// added to *ks, so a realm whose defaultSignatureAlgorithm or a client's
// signature setting names an algorithm without a key, or one imported
// without an HS512 key, still issues tokens and cookies. Two nodes racing
// here each store a valid key; both verify.
func SigningKey(ctx context.Context, db *store.DB, log *slog.Logger, rl realm.Realm, ks *[]keys.Key, alg string, now time.Time) (keys.Key, error) {
	if k, ok := keys.Active(*ks, alg); ok {
		return k, nil
	}
	k, err := keys.Fallback(alg, rl.Name, now)
	if err != nil {
		return keys.Key{}, fmt.Errorf("%w: %v", ErrNoKey, err)
	}
	k.RealmID = rl.ID
	if err := db.CreateKey(ctx, k); err != nil {
		return keys.Key{}, err
	}
	if log != nil {
		log.Warn("created a fallback key: no active key for the algorithm", "realm", rl.Name, "alg", alg, "kid", k.Kid)
	}
	*ks = append(slices.Clip(*ks), k)
	return k, nil
}
