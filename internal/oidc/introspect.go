package oidc

import (
	"errors"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

var inactive = map[string]bool{"active": false}

// introspect serves RFC 7662 token introspection, open to confidential
// clients only. An inactive token is {"active":false} and nothing else.
func (h *Handler) introspect(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	form, err := readForm(w, r)
	if err != nil {
		return err
	}
	if r.Header.Get("Authorization") == "" && form.Get("client_id") == "" && form.Get("client_assertion") == "" {
		// Introspection is for authenticated clients only: a request with no
		// client credentials at all is 401 here (SECURITY.md I1), where the
		// token endpoint answers Keycloak's 400 "Missing client_id parameter".
		return oauthErr(http.StatusUnauthorized, "invalid_client", "Missing client_id parameter")
	}
	c, err := h.authClient(w, r, form, rl)
	if err != nil {
		return h.introspectFailed(r, rl, c, err)
	}
	h.cors(w, r, c)
	if c.PublicClient {
		// Keycloak refuses a public client here with 403, once it has
		// named itself: it authenticated, but may not introspect.
		return oauthErr(http.StatusForbidden, "invalid_request", "Client not allowed.")
	}
	raw := form.Get("token")
	if raw == "" {
		return badRequest("invalid_request", "Token not provided.")
	}
	switch hint := form.Get("token_type_hint"); hint {
	case "", "access_token", "refresh_token", "requesting_party_token":
	default:
		// Keycloak's TokenIntrospectionEndpoint answers invalid_request here;
		// unsupported_token_type is RFC 7009's (revocation) code, not RFC 7662's.
		return badRequest("invalid_request", "Unsupported token type ["+hint+"].")
	}
	ks, err := h.Store.ListKeys(r.Context(), rl.ID)
	if err != nil {
		return err
	}
	// The kind of token is read from its own typ, whatever the hint says:
	// with an HMAC realm default, access and refresh tokens share an alg.
	// A resource server introspects the same token again and again.
	claims, err := token.VerifySignedCached(raw, ks, h.Now())
	if err != nil {
		return h.inactive(w, r, rl, c)
	}
	p, err := token.Parse(claims)
	access := err == nil && (token.IsAccessType(p.Typ) || p.Typ == token.TypeID)
	if err != nil || (!access && p.Typ != token.TypeRefresh && p.Typ != token.TypeOffline) {
		return h.inactive(w, r, rl, c)
	}
	lt, err := h.checkParsed(r.Context(), r, rl, p)
	if errors.Is(err, errTokenInvalid) {
		return h.inactive(w, r, rl, c)
	}
	if err != nil {
		return err
	}
	if access && form.Get("token_type_hint") == "requesting_party_token" {
		h.introspected(r, rl, c, lt)
		return web.WriteJSON(w, http.StatusOK, rptIntrospection(claims))
	}
	// Sized for the claims and the fields added below, so that it is
	// allocated once.
	out := make(map[string]any, len(claims)+8)
	for k, v := range claims {
		out[k] = v
	}
	if access {
		in, err := h.tokenInput(r.Context(), r, rl, lt)
		if err != nil {
			return err
		}
		for k, v := range token.Introspection(in) {
			if _, ok := out[k]; !ok {
				out[k] = v
			}
		}
	}
	var jwt string
	if access && wantsIntrospectionJWT(r, c) {
		// The token itself as introspection states it, before the
		// response's own fields are added.
		if jwt, err = h.introspectionJWT(r.Context(), rl, c, out); err != nil {
			return err
		}
	}
	out["active"] = true
	out["client_id"] = p.Azp
	out["token_type"] = p.Typ
	if lt.User.Username != "" {
		out["username"] = lt.User.Username
	}
	// A token of an impersonated session names the administrator acting as
	// the user, in RFC 8693's act claim (4.1), as Keycloak's introspection
	// does whatever the client's mappers.
	if actor := lt.UserSession.Notes[session.NoteImpersonatorUsername]; lt.HasSession && actor != "" {
		out["act"] = map[string]string{"sub": actor}
	}
	if jwt != "" {
		out["jwt"] = jwt
	}
	h.introspected(r, rl, c, lt)
	return web.WriteJSON(w, http.StatusOK, out)
}

// rptIntrospection is the answer to an introspection that names the token a
// requesting party token (UMA 2.0 Federated Authorization §5.1.1): the
// token's registered claims and its permissions, each with UMA's
// resource_id and resource_scopes beside Gatehouse's rsid and scopes.
func rptIntrospection(claims map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range []string{"jti", "exp", "nbf", "iat", "aud", "typ", "acr"} {
		if v, ok := claims[k]; ok {
			out[k] = v
		}
	}
	if a, ok := claims["authorization"].(map[string]any); ok {
		perms := []map[string]any{}
		list, _ := a["permissions"].([]any)
		for _, p := range list {
			pm, ok := p.(map[string]any)
			if !ok {
				continue
			}
			e := map[string]any{}
			for k, v := range pm {
				e[k] = v
			}
			if id, ok := pm["rsid"]; ok {
				e["resource_id"] = id
			}
			if sc, ok := pm["scopes"]; ok {
				e["resource_scopes"] = sc
			}
			perms = append(perms, e)
		}
		out["permissions"] = perms
	}
	out["active"] = true
	return out
}
