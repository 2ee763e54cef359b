// Package authn checks what a user presents to log in: it finds the user by
// username or email and verifies the password, re-hashing it when the
// realm's hashing policy has moved on. Every login path (the login form,
// the password grant, the account console) goes through it, so a control
// added here (brute-force lockout) applies to all of them.
package authn

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Checker verifies credentials against the store.
type Checker struct {
	Store *store.DB
	Log   *slog.Logger
}

// FindUser looks a login name up as a username, then (where the realm
// allows it) as an email. Ambiguous emails count as unknown.
func (c Checker) FindUser(ctx context.Context, rl realm.Realm, name string) (user.User, error) {
	u, err := c.Store.GetUserByUsername(ctx, rl.ID, name)
	if errors.Is(err, store.ErrNotFound) && rl.LoginWithEmailAllowed && strings.Contains(name, "@") {
		u, err = c.Store.GetUserByEmail(ctx, rl.ID, name)
		if errors.Is(err, store.ErrConflict) {
			err = store.ErrNotFound
		}
	}
	return u, err
}

// CheckPassword verifies a user's password and, when the stored hash is
// older than the realm's policy, re-hashes it (only if nobody changed it
// meanwhile). A user without a password costs one verification anyway.
func (c Checker) CheckPassword(ctx context.Context, rl realm.Realm, u user.User, password string) (bool, error) {
	creds, err := c.Store.ListCredentials(ctx, u.ID)
	if err != nil {
		return false, err
	}
	for _, cred := range creds {
		if cred.Type != user.CredentialPassword {
			continue
		}
		ok, err := user.VerifyPassword(password, cred)
		if err != nil || !ok {
			return false, nil
		}
		policy := user.ParseHashPolicy(rl.PasswordPolicy)
		if user.NeedsRehash(cred, policy) {
			if sd, cd, err := user.HashPassword(password, policy); err == nil {
				if err := c.Store.UpdateCredentialSecret(ctx, cred.ID, cred.SecretData, sd, cd); err != nil && !errors.Is(err, store.ErrNotFound) && c.Log != nil {
					c.Log.WarnContext(ctx, "re-hash password", "user", u.ID, "err", err)
				}
			}
		}
		return true, nil
	}
	SpendVerification(password)
	return false, nil
}

var (
	dummyOnce sync.Once
	dummy     user.Credential
)

// SpendVerification costs what verifying a real password costs, so that an
// unknown user or a user without a password cannot be told apart from a
// wrong password by response time.
func SpendVerification(password string) {
	dummyOnce.Do(func() {
		var err error
		dummy, err = user.NewPasswordCredential("dummy", "dummy", "gatehouse-dummy-password", 0, user.HashPolicy{})
		if err != nil {
			panic(err)
		}
	})
	user.VerifyPassword(password, dummy)
}
