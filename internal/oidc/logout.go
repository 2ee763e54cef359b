package oidc

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// logout serves the non-browser logout: POST with a refresh token and the
// client's credentials ends that session and answers 204. An online
// session's end leaves the user's offline sessions alone; an offline token
// ends its offline session.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	form, err := readForm(w, r)
	if err != nil {
		return err
	}
	raw := form.Get("refresh_token")
	if raw == "" {
		if browserLogout(form) {
			// RP-initiated logout posted by a browser (keycloak-js with
			// logoutMethod POST): the front channel's GET serves it.
			http.Redirect(w, r, h.URLs.RequestURL(r)+"?"+form.Encode(), http.StatusSeeOther)
			return nil
		}
		return badRequest("invalid_request", "No refresh token")
	}
	c, err := h.authClient(w, r, form, rl)
	if err != nil {
		return h.logoutFailed(r, rl, err)
	}
	h.cors(w, r, c)
	rt, _, err := h.verifyRefreshToken(r.Context(), r, rl, raw)
	if err != nil {
		h.logoutEvent(r, rl, c, rt, "invalid_token")
		return err
	}
	if rt.Azp != c.ClientID {
		h.logoutEvent(r, rl, c, rt, "invalid_token")
		return invalidGrant("Invalid refresh token")
	}
	err = h.Store.DeleteUserSession(r.Context(), rl.ID, rt.Sid)
	if errors.Is(err, store.ErrNotFound) {
		h.logoutEvent(r, rl, c, rt, "user_session_not_found")
		return invalidGrant("Session not active")
	}
	if err != nil {
		return err
	}
	h.logoutEvent(r, rl, c, rt, "")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// browserLogout reports whether a logout POST without a refresh token carries
// RP-initiated logout parameters (OpenID Connect RP-Initiated Logout 1.0 §2).
func browserLogout(form url.Values) bool {
	for _, k := range []string{"id_token_hint", "post_logout_redirect_uri", "client_id", "state", "ui_locales"} {
		if form.Get(k) != "" {
			return true
		}
	}
	return false
}
