package federation

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Search asks every enabled provider of the realm for the users s matches
// (ldap.SearchCondition) and imports at most limit of each
// provider's matches (ImportEntry), so that a search of the local users
// that follows finds them. An entry that cannot be imported (a local user
// of the same username) is left out; other failures are returned with
// the rest imported. The providers that could not be
// asked are returned as an error, after all the others were; the caller
// decides whether that fails its search.
func Search(ctx context.Context, db *store.DB, rl realm.Realm, s ldap.UserSearch, limit int, now time.Time) error {
	ps, err := Providers(ctx, db, rl.ID)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range ps {
		cond := ldap.SearchCondition(p.Config, p.Mappers, s)
		if cond == "" {
			continue
		}
		if err := searchIn(ctx, db, rl, p, cond, limit, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func searchIn(ctx context.Context, db *store.DB, rl realm.Realm, p Provider, cond string, limit int, now time.Time) error {
	c, err := Dial(ctx, p)
	if err != nil {
		return err
	}
	defer c.Close()
	es, err := c.SearchUsers(ctx, cond, limit)
	if err != nil {
		return wrap(p, err)
	}
	var errs []error
	for _, e := range es {
		if _, err := ImportEntry(ctx, db, rl, p, c, e, now); err != nil && !errors.Is(err, store.ErrConflict) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
