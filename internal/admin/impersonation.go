package admin

import (
	"errors"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/sso"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

func (h *Handler) impersonationRoutes(mux Mux) {
	var a userAPI
	h.handle(mux, "POST /admin/realms/{realm}/users/{id}/impersonation", "impersonation@user.impersonate", a.impersonate)
}

// impersonate answers POST /users/{id}/impersonation as Keycloak does: a
// new SSO session for the user (auth method "impersonate"), its cookies set
// on the answer for the user's realm, and {"sameRealm", "redirect"} pointing
// at the account console. The session notes who impersonates
// (IMPERSONATOR_ID, IMPERSONATOR_USERNAME), which the "impersonator id" and
// "impersonator username" mappers put into tokens where a client adds them.
//
// sameRealm is true when the caller's token is from the user's realm and
// names a session: that session ends first (one browser holds one SSO
// session per realm, and the administrator's would otherwise survive under
// the impersonated one's cookies). A service-account token names none, so
// nothing ends and sameRealm stays false.
//
// Beyond the impersonation role (or the Users resource's impersonate
// permission), the caller must be able to confer every role the user holds
// (requireTakeover): signing in as a realm administrator is being one. And
// the user must be impersonatable: when the Users resource's
// user-impersonated permission has policies, they must grant it to the
// user (adminperm.Impersonatable), whoever asks. What is recorded is the login event IMPERSONATE in the
// user's realm, not an admin event (adminOperation leaves this route out).
func (a userAPI) impersonate(rq *Request) error {
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	ctx := rq.R.Context()
	if err := rq.requireTakeover(ctx, u.ID); err != nil {
		return err
	}
	if ok, err := adminperm.Impersonatable(ctx, rq.h.Store, rq.Realm, u, rq.Now()); err != nil {
		return err
	} else if !ok {
		return errForbidden
	}
	if !u.Enabled {
		return badRequest("User is disabled")
	}
	if u.ServiceAccountClientID != "" {
		return badRequest("Service accounts cannot be impersonated")
	}
	caller := rq.Caller
	sameRealm := caller.Realm.ID == rq.Realm.ID && caller.Token.HasSession && caller.Token.UserSession.ID != ""
	if sameRealm {
		err := rq.h.Store.DeleteUserSessionOfKind(ctx, rq.Realm.ID, caller.Token.UserSession.ID, false)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	now := rq.Now().Unix()
	us := session.UserSession{ID: store.NewID(), RealmID: rq.Realm.ID, UserID: u.ID, Started: now, LastRefresh: now,
		AuthTime: now, IPAddress: web.ClientIP(rq.R), AuthMethod: "impersonate",
		Notes: map[string]string{session.NoteImpersonatorID: caller.Token.User.ID, session.NoteImpersonatorUsername: caller.Token.User.Username}}
	if err := rq.h.Store.CreateUserSession(ctx, us); err != nil {
		return err
	}
	if err := (sso.Cookies{URLs: rq.h.URLs, DB: rq.h.Store}).SetSSO(ctx, rq.W, rq.R, rq.Realm, us, now); err != nil {
		return err
	}
	rq.h.recorder().Record(ctx, rq.Realm, events.Event{Type: events.Impersonate, UserID: u.ID, SessionID: us.ID,
		IPAddress: remoteIP(rq.R), Details: map[string]string{
			events.DetailImpersonatorRealm: caller.Realm.Name, events.DetailImpersonator: caller.Token.User.Username}})
	return rq.JSON(map[string]any{
		"sameRealm": sameRealm,
		"redirect":  rq.h.URLs.RealmURL(rq.R, rq.Realm.Name) + "/account",
	})
}
