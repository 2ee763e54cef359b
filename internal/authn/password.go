package authn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/federation"
	"github.com/gatehouse-iam/gatehouse/internal/ldap"
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
//
// A federated user's password goes where its provider keeps it: written
// to the directory (WRITABLE; the realm's policy applies first only when
// the provider asks for it, and the directory's own refusal is a
// *user.PolicyError carrying its message), refused (READ_ONLY, a
// *user.PolicyError wrapping federation.ErrReadOnly), or stored here like
// a local user's (UNSYNCED). Never both.
func SetPassword(ctx context.Context, db *store.DB, rl realm.Realm, u user.User, password string, temporary bool, now time.Time) error {
	if u.FederationLink != "" {
		done, err := setFederatedPassword(ctx, db, rl, u, password, temporary)
		if done || err != nil {
			return err
		}
	}
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

// msgReadOnlyStorage is the refusal a login page or the account console
// shows for a password its user storage provider does not let us change.
const msgReadOnlyStorage = "Federated storage is not writable"

// setFederatedPassword writes a federated user's password to its
// provider; done=false means the password is to be stored here.
func setFederatedPassword(ctx context.Context, db *store.DB, rl realm.Realm, u user.User, password string, temporary bool) (done bool, err error) {
	p, err := federation.ProviderOf(ctx, db, u)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if p.Config.EditMode == ldap.Writable && p.Config.ValidatePasswordPolicy {
		if err := CheckNewPassword(ctx, db, rl, u, password); err != nil {
			return false, err
		}
	}
	stored, err := federation.WritePassword(ctx, p, u, password)
	var rejected *federation.PasswordRejectedError
	switch {
	case errors.Is(err, federation.ErrReadOnly):
		return false, &user.PolicyError{Key: msgReadOnlyStorage, Message: msgReadOnlyStorage, Cause: err}
	case errors.As(err, &rejected):
		return false, &user.PolicyError{Key: rejected.Msg, Message: rejected.Msg, Cause: err}
	case err != nil:
		return false, err
	case !stored:
		return false, nil
	}
	return true, db.UpdateUser(ctx, rl.ID, u.ID, func(x *user.User) error {
		x.RequiredActions = slices.DeleteFunc(x.RequiredActions, func(a string) bool { return a == actionUpdatePassword })
		if temporary {
			x.RequiredActions = append(x.RequiredActions, actionUpdatePassword)
		}
		return nil
	})
}
