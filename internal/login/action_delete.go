package login

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// delete_account: after a confirmation page, the user's account is deleted
// through the store's one deletion (credentials, role mappings, sessions
// and consents go with it). Only a user holding the account client's
// delete-account role may do it, as in Keycloak.
//
// delete_credential: kc_action=delete_credential:<id> asks the user to
// confirm removing one of their credentials; a credential type that cannot
// be removed (the password) is refused.
func init() {
	registerActionPage(authn.ActionDeleteAccount, actionPage{Challenge: deleteAccountPage, Process: deleteAccount})
	registerActionPage(authn.ActionDeleteCredential, actionPage{Challenge: deleteCredentialPage, Process: deleteCredential})
}

// mayDeleteAccount reports whether u holds the account client's
// delete-account role, directly, through a group or a composite.
func mayDeleteAccount(ctx context.Context, db *store.DB, rl realm.Realm, u user.User) (bool, error) {
	acc, err := db.GetClientByClientID(ctx, rl.ID, "account")
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	ro, err := db.GetClientRole(ctx, rl.ID, acc.ID, "delete-account")
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	ids, err := db.EffectiveRoleIDs(ctx, rl.ID, u.ID)
	return slices.Contains(ids, ro.ID), err
}

func deleteAccountPage(a *actionRun, msg *ui.Message) (bool, error) {
	ok, err := mayDeleteAccount(a.r.Context(), a.h.Store, a.Realm, a.User)
	if err != nil {
		return false, err
	}
	if !ok {
		p := a.page("errorTitle")
		p.Message = &ui.Message{Type: "error", Text: p.T("deletingAccountForbidden")}
		a.render(http.StatusOK, "message.html", p)
		return true, nil
	}
	p := a.page("deleteAccountConfirm")
	p.Message = msg
	a.render(http.StatusOK, "delete-account-confirm.html", p)
	return true, nil
}

func deleteAccount(a *actionRun) (actionResult, error) {
	ctx := a.r.Context()
	ok, err := mayDeleteAccount(ctx, a.h.Store, a.Realm, a.User)
	if err != nil {
		return actionShown, err
	}
	if !ok {
		p := a.page("deleteAccountConfirm")
		p.Message = &ui.Message{Type: "error", Text: p.T("deletingAccountForbidden")}
		a.render(http.StatusOK, "delete-account-confirm.html", p)
		return actionShown, nil
	}
	err = a.h.Store.InTx(ctx, func(tx *store.DB) error {
		if err := tx.DeleteUser(ctx, a.Realm.ID, a.User.ID); err != nil {
			return err
		}
		return tx.DeleteAuthSession(ctx, a.ID)
	})
	if err != nil {
		return actionShown, err
	}
	a.h.Log.InfoContext(ctx, "account deleted by its user", "realm", a.Realm.Name, "client", a.Client.ClientID, "user", a.User.ID)
	a.h.recorder().Record(ctx, a.Realm, events.Event{Type: "DELETE_ACCOUNT", ClientID: a.Client.ClientID, UserID: a.User.ID,
		IPAddress: clientIP(a.r), Details: map[string]string{events.DetailUsername: a.User.Username}})
	a.h.expireSSOCookies(a.w, a.r, a.Realm)
	p := a.h.page(a.r, &a.Realm, "", a.State.Req.UILocales)
	p.Message = &ui.Message{Type: "info", Text: p.T("userDeletedSuccessfully")}
	a.render(http.StatusOK, "message.html", p)
	return actionEnded, nil
}

// credentialToDelete finds the credential the kc_action parameter names
// among the user's own.
func credentialToDelete(a *actionRun) (user.Credential, bool, error) {
	if a.Param == "" {
		return user.Credential{}, false, nil
	}
	creds, err := a.h.Store.ListCredentials(a.r.Context(), a.User.ID)
	if err != nil {
		return user.Credential{}, false, err
	}
	for _, c := range creds {
		if c.ID == a.Param {
			return c, true, nil
		}
	}
	return user.Credential{}, false, nil
}

func deleteCredentialPage(a *actionRun, msg *ui.Message) (bool, error) {
	c, ok, err := credentialToDelete(a)
	if err != nil || !ok {
		// No such credential of this user: Keycloak ignores the action.
		return false, err
	}
	label := c.UserLabel
	if label == "" {
		label = c.Type
	}
	p := a.page("deleteCredentialTitle")
	p.TitleArgs, p.Subject, p.Message = []string{label}, label, msg
	a.render(http.StatusOK, "delete-credential.html", p)
	return true, nil
}

func deleteCredential(a *actionRun) (actionResult, error) {
	ctx := a.r.Context()
	c, ok, err := credentialToDelete(a)
	if err != nil {
		return actionShown, err
	}
	if ok && c.Type == user.CredentialPassword {
		// Keycloak's password provider says its credentials are not
		// removable; the page says so and the login waits here.
		p := a.page("errorTitle")
		p.Message = &ui.Message{Type: "error", Text: p.T("credentialCannotBeRemoved")}
		a.render(http.StatusBadRequest, "message.html", p)
		return actionShown, nil
	}
	if ok {
		if err := a.h.Store.DeleteCredential(ctx, a.User.ID, c.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return actionShown, err
		}
		a.h.Log.InfoContext(ctx, "credential removed by its user", "realm", a.Realm.Name, "user", a.User.ID, "type", c.Type, "credential", c.ID)
	}
	return actionDone, nil
}
