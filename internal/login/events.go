package login

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// The front channel's login events, Keycloak's: LOGIN when a login ends in
// a code, LOGIN_ERROR when the form is refused or consent declined,
// UPDATE_PASSWORD from the required action, LOGOUT when a session ends.
// code_id is the user session's id, never the authorization code.

func (h *Handler) recorder() events.Recorder {
	return events.Recorder{Store: h.Store, Now: h.Now, Log: h.Log}
}

// loginDetails are the details Keycloak gives a browser login's events.
func loginDetails(st loginState) map[string]string {
	if st.Req.SAML != nil {
		return map[string]string{events.DetailAuthMethod: protocolSAML, events.DetailRedirectURI: st.Req.Target}
	}
	authType := "code"
	if st.Req.wants("token") || st.Req.wants("id_token") {
		authType = "implicit" // the implicit and hybrid flows alike
	}
	return map[string]string{
		events.DetailAuthMethod:   "openid-connect",
		events.DetailAuthType:     authType,
		events.DetailRedirectURI:  st.Req.Target,
		events.DetailResponseMode: st.Req.ResponseMode,
		events.DetailResponseType: st.Req.ResponseType,
	}
}

// loggedIn records LOGIN for a login that issued a code in session us.
// consent says how the client's consent stood: not required, given on this
// login's consent page, or given before.
func (h *Handler) loggedIn(r *http.Request, rl realm.Realm, c client.Client, st loginState, u user.User, us session.UserSession) {
	d := loginDetails(st)
	d[events.DetailUsername] = u.Username
	d[events.DetailCodeID] = us.ID
	switch {
	case !c.ConsentRequired:
		d[events.DetailConsent] = "no_consent_required"
	case st.Step == stepConsent:
		d[events.DetailConsent] = "consent_granted"
	default:
		d[events.DetailConsent] = "persistent_consent"
	}
	if st.RememberMe {
		d[events.DetailRememberMe] = "true"
	}
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.Login, ClientID: c.ClientID, UserID: u.ID,
		SessionID: us.ID, IPAddress: clientIP(r), Details: d})
}

// loginFailed records LOGIN_ERROR for a refused login form. The page says
// the same for every cause; the event tells them apart (user_not_found,
// user_disabled, invalid_user_credentials), for the administrator only.
func (h *Handler) loginFailed(r *http.Request, rl realm.Realm, c client.Client, st loginState, username string) {
	if !events.Wants(rl, events.LoginError) {
		return
	}
	e := events.Event{Type: events.LoginError, ClientID: c.ClientID, IPAddress: clientIP(r), Error: "invalid_user_credentials",
		Details: loginDetails(st)}
	e.Details[events.DetailUsername] = username
	u, err := authn.Checker{Store: h.Store, Log: h.Log}.FindUser(r.Context(), rl, strings.TrimSpace(username))
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && u.ServiceAccountClientID != ""):
		e.Error = "user_not_found"
	case err != nil:
	case !u.Enabled:
		e.UserID, e.Error = u.ID, "user_disabled"
	default:
		e.UserID = u.ID
	}
	h.recorder().Record(r.Context(), rl, e)
}

// consentDenied records LOGIN_ERROR consent_denied for a declined consent.
func (h *Handler) consentDenied(r *http.Request, rl realm.Realm, c client.Client, st loginState, u user.User) {
	d := loginDetails(st)
	d[events.DetailUsername] = u.Username
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.LoginError, ClientID: c.ClientID, UserID: u.ID,
		IPAddress: clientIP(r), Error: "consent_denied", Details: d})
}

// passwordUpdated records UPDATE_PASSWORD for the required action.
func (h *Handler) passwordUpdated(r *http.Request, rl realm.Realm, c client.Client, u user.User) {
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.UpdatePassword, ClientID: c.ClientID, UserID: u.ID,
		IPAddress: clientIP(r), Details: map[string]string{events.DetailUsername: u.Username, events.DetailCredentialType: "password"}})
}

// passwordReset records RESET_PASSWORD for a new password set through a
// reset-credentials link.
func (h *Handler) passwordReset(r *http.Request, rl realm.Realm, c client.Client, u user.User) {
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.ResetPassword, ClientID: c.ClientID, UserID: u.ID,
		IPAddress: clientIP(r), Details: map[string]string{events.DetailUsername: u.Username, events.DetailCredentialType: "password"}})
}

// loggedOut records LOGOUT for the browser logout that ended session us.
func (h *Handler) loggedOut(r *http.Request, rl realm.Realm, lr logoutRequest, us session.UserSession) {
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.Logout, ClientID: lr.ClientID, UserID: us.UserID,
		SessionID: us.ID, IPAddress: clientIP(r), Details: map[string]string{events.DetailRedirectURI: lr.RedirectTo}})
}
