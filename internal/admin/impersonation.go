package admin

import (
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/sso"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

func (h *Handler) impersonationRoutes(mux *http.ServeMux) {
	var a userAPI
	h.handle(mux, "POST /admin/realms/{realm}/users/{id}/impersonation", "impersonation", a.impersonate)
}

// impersonate answers POST /users/{id}/impersonation as Keycloak does: a
// new SSO session for the user, its cookies set on the answer for the
// user's realm, and {"sameRealm", "redirect"} pointing at the account
// console. The session notes who impersonates. Beyond the impersonation
// role, the caller must be able to confer every role the user holds
// (requireTakeover): signing in as a realm administrator is being one. The
// admin event is the route's ACTION on the user.
func (a userAPI) impersonate(rq *Request) error {
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	ctx := rq.R.Context()
	if err := rq.requireTakeover(ctx, u.ID); err != nil {
		return err
	}
	if !u.Enabled {
		return badRequest("User is disabled")
	}
	if u.ServiceAccountClientID != "" {
		return badRequest("Service account users cannot be impersonated")
	}
	now := rq.Now().Unix()
	us := session.UserSession{ID: store.NewID(), RealmID: rq.Realm.ID, UserID: u.ID, Started: now, LastRefresh: now,
		AuthTime: now, IPAddress: web.ClientIP(rq.R), AuthMethod: "openid-connect",
		Notes: map[string]string{"IMPERSONATOR_ID": rq.Caller.Token.User.ID, "IMPERSONATOR_USERNAME": rq.Caller.Token.User.Username}}
	if err := rq.h.Store.CreateUserSession(ctx, us); err != nil {
		return err
	}
	if err := (sso.Cookies{URLs: rq.h.URLs, DB: rq.h.Store}).SetSSO(ctx, rq.W, rq.R, rq.Realm, us, now); err != nil {
		return err
	}
	return rq.JSON(map[string]any{
		"sameRealm": rq.Caller.Realm.ID == rq.Realm.ID,
		"redirect":  rq.h.URLs.RealmURL(rq.R, rq.Realm.Name) + "/account",
	})
}
