package oidc

import (
	"errors"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// revoke serves RFC 7009 token revocation. Revoking a refresh token ends its
// client's session (for an offline token, the offline session); revoking an
// access token blocks its jti until it expires. Unknown tokens answer 200.
// A storage failure is a 5xx, never a 200: "revoked" must mean revoked.
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	form, err := readForm(w, r)
	if err != nil {
		return err
	}
	c, err := h.authClient(w, r, form, rl)
	if err != nil {
		return h.revokeFailed(r, rl, c, err)
	}
	h.cors(w, r, c)
	raw := form.Get("token")
	if raw == "" {
		return badRequest("invalid_request", "Token not provided")
	}
	switch hint := form.Get("token_type_hint"); hint {
	case "", "access_token", "refresh_token":
	default:
		return badRequest("unsupported_token_type", "Unsupported token type: "+hint)
	}
	ctx := r.Context()
	ks, err := h.Store.ListKeys(ctx, rl.ID)
	if err != nil {
		return err
	}
	var (
		claims map[string]any
		access bool
	)
	if cl, err := token.Verify(raw, ks, keys.HS512); err == nil {
		claims = cl
	} else if cl, err := token.VerifySigned(raw, ks); err == nil {
		claims, access = cl, true
	} else {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	p, err := token.Parse(claims)
	if err != nil {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	if p.Azp != c.ClientID {
		// Keycloak's TokenRevocationEndpoint.checkIssuedFor: invalid_request.
		return h.revokeFailed(r, rl, c, badRequest("invalid_request", "Unmatching clients"))
	}
	if access {
		if !token.IsAccessType(p.Typ) {
			w.WriteHeader(http.StatusOK)
			return nil
		}
		if err := h.Store.RevokeToken(ctx, rl.ID, p.Jti, p.Exp); err != nil {
			return err
		}
		h.revoked(r, rl, c, p, "")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	if p.Typ != "Refresh" && p.Typ != "Offline" {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	us, err := h.Store.GetUserSession(ctx, rl.ID, p.Sid)
	if errors.Is(err, store.ErrNotFound) {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	if err != nil {
		return err
	}
	if err := h.Store.InTx(ctx, func(tx *store.DB) error {
		if err := tx.DeleteClientSession(ctx, us.ID, c.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		left, err := tx.ListClientSessions(ctx, us.ID)
		if err != nil {
			return err
		}
		if len(left) == 0 {
			if err := tx.DeleteUserSession(ctx, rl.ID, us.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	h.revoked(r, rl, c, p, us.UserID)
	w.WriteHeader(http.StatusOK)
	return nil
}
