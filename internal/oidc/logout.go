package oidc

import (
	"errors"
	"net/http"

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
		return badRequest("invalid_request", "No refresh token")
	}
	c, err := h.authClient(w, r, form, rl)
	if err != nil {
		return err
	}
	h.cors(w, r, c)
	rt, err := h.verifyRefreshToken(r.Context(), r, rl, raw)
	if err != nil {
		return err
	}
	if rt.Azp != c.ClientID {
		return invalidGrant("Invalid refresh token")
	}
	err = h.Store.DeleteUserSession(r.Context(), rl.ID, rt.Sid)
	if errors.Is(err, store.ErrNotFound) {
		return invalidGrant("Session not active")
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
