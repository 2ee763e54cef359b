package oidc

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/broker"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// The answers of the back-channel logout endpoint, in Keycloak's words.
var (
	errNoLogoutToken = badRequest("invalid_request", "No logout token")
	errLogoutDecode  = badRequest("invalid_request", "The decode of the logoutToken failed")
	errNoLogoutIdP   = badRequest("invalid_request", "No Identity Provider has been found")
	errLogoutInvalid = badRequest("invalid_request", "The logout token is invalid")
)

// backchannelLogout serves POST .../logout/backchannel-logout, where an
// upstream identity provider this realm brokers tells it (Back-Channel
// Logout 1.0) that a user's session there ended. The token's issuer picks
// the provider (an enabled OpenID Connect provider configured with that
// issuer); the token is then verified with that provider's keys, and the
// local sessions that signed in through it end (broker.EndSessions).
func (h *Handler) backchannelLogout(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	form, err := readForm(w, r)
	if err != nil {
		return err
	}
	raw := form.Get("logout_token")
	if raw == "" {
		return errNoLogoutToken
	}
	iss, ok := logoutTokenIssuer(raw)
	if !ok {
		return errLogoutDecode
	}
	ps, err := h.Store.ListIdentityProviders(r.Context(), rl.ID)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if !p.Enabled || iss == "" || p.Config[broker.CfgIssuer] != iss || (p.ProviderID != "oidc" && p.ProviderID != "keycloak-oidc") {
			continue
		}
		up := &broker.OIDC{Alias: p.Alias, Config: p.Config, Keys: h.Keys, Now: h.Now()}
		sub, sid, err := up.VerifyLogoutToken(r.Context(), raw)
		if err != nil {
			h.Log.InfoContext(r.Context(), "upstream logout token refused", "realm", rl.Name, "alias", p.Alias, "err", err)
			return errLogoutInvalid
		}
		if _, err := broker.EndSessions(r.Context(), h.Store, rl.ID, p.Alias, sub, sid); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
	return errNoLogoutIdP
}

// logoutTokenIssuer is the iss of a token that decodes as a logout token
// (not verified: it only picks the provider whose keys verify it).
func logoutTokenIssuer(raw string) (string, bool) {
	if !decodesAsLogoutToken(raw) {
		return "", false
	}
	b, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
	var c struct {
		Iss string `json:"iss"`
	}
	json.Unmarshal(b, &c)
	return c.Iss, true
}

// decodesAsLogoutToken reports whether raw is a compact JWS (signature not
// checked) whose header and payload are JSON objects, with the logout
// token's claims of the right JSON types where present.
func decodesAsLogoutToken(raw string) bool {
	if len(raw) > token.MaxTokenSize {
		return false
	}
	parts := strings.Split(raw, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return false
	}
	var header map[string]any
	if b, err := base64.RawURLEncoding.DecodeString(parts[0]); err != nil || json.Unmarshal(b, &header) != nil || header == nil {
		return false
	}
	var claims struct {
		Iss    *string         `json:"iss"`
		Sub    *string         `json:"sub"`
		Sid    *string         `json:"sid"`
		Jti    *string         `json:"jti"`
		Iat    *float64        `json:"iat"`
		Exp    *float64        `json:"exp"`
		Events map[string]any  `json:"events"`
		Aud    json.RawMessage `json:"aud"`
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(b, &claims) != nil {
		return false
	}
	if len(claims.Aud) > 0 {
		var one string
		var many []string
		if json.Unmarshal(claims.Aud, &one) != nil && json.Unmarshal(claims.Aud, &many) != nil {
			return false
		}
	}
	return true
}
