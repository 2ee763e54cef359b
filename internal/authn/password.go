package authn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// CheckNewPassword applies the realm's whole password policy to a new
// password for u, history included: the user's stored credentials are read
// here, so no caller can forget them. A user not (yet) stored in rl, such
// as one being created, has no history; the lookup is by realm so that a
// user ID chosen by a caller never lets it test passwords against another
// realm's user. A refusal is a *user.PolicyError, whose Key is Keycloak's
// message key.
func CheckNewPassword(ctx context.Context, db *store.DB, rl realm.Realm, u user.User, password string) error {
	var creds []user.Credential
	_, err := db.GetUser(ctx, rl.ID, u.ID)
	if err == nil {
		creds, err = db.ListCredentials(ctx, u.ID)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("read password history of user %s: %w", u.ID, err)
	}
	if pe := user.CheckPolicy(rl.PasswordPolicy, password, u, creds); pe != nil {
		return pe
	}
	return nil
}

// SetPassword replaces u's password: it checks the new one against the
// realm's policy (CheckNewPassword), hashes it with the realm's hashing
// policy, and in one transaction stores it, keeps the replaced password as
// history as far as passwordHistory and passwordAge ask, and settles
// UPDATE_PASSWORD: set when temporary, cleared otherwise (Keycloak clears a
// pending password update once a password is set for good).
//
// Every path that sets a password a person typed goes through here (the
// admin API's reset-password, the account console, the update-password
// page of a login, and those to come such as reset-credentials and
// registration), so the policy cannot be applied differently on one of
// them. The slow part, verifying old hashes and hashing the new password,
// runs before the transaction. The password is never logged nor part of an
// error. A policy refusal is a *user.PolicyError and changes nothing.
func SetPassword(ctx context.Context, db *store.DB, rl realm.Realm, u user.User, password string, temporary bool, now time.Time) error {
	if err := CheckNewPassword(ctx, db, rl, u, password); err != nil {
		return err
	}
	c, err := user.NewPasswordCredential(store.NewID(), u.ID, password, now.UnixMilli(), user.ParseHashPolicy(rl.PasswordPolicy))
	if err != nil {
		return fmt.Errorf("hash password of user %s: %w", u.ID, err)
	}
	return db.InTx(ctx, func(tx *store.DB) error {
		if err := tx.ReplacePasswordKeepHistory(ctx, c, user.PolicyHistoryRetention(rl.PasswordPolicy)); err != nil {
			return err
		}
		return tx.UpdateUser(ctx, rl.ID, u.ID, func(x *user.User) error {
			x.RequiredActions = slices.DeleteFunc(x.RequiredActions, func(a string) bool { return a == actionUpdatePassword })
			if temporary {
				x.RequiredActions = append(x.RequiredActions, actionUpdatePassword)
			}
			return nil
		})
	})
}
