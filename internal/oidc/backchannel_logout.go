package oidc

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// The answers of the back-channel logout endpoint, in Keycloak's words.
var (
	errNoLogoutToken = badRequest("invalid_request", "No logout token")
	errLogoutDecode  = badRequest("invalid_request", "The decode of the logoutToken failed")
	errNoLogoutIdP   = badRequest("invalid_request", "No Identity Provider has been found")
)

// backchannelLogout serves POST .../logout/backchannel-logout, where an
// upstream identity provider this realm brokers tells it (Back-Channel
// Logout 1.0) that a user's session there ended. A token is accepted only
// from a provider whose issuer it names and whose keys sign it; the realm
// has no identity providers yet, so every token that decodes is refused
// as Keycloak refuses one no provider claims, and nothing ends.
func (h *Handler) backchannelLogout(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	if _, err := h.loadRealm(r); err != nil {
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
	if !decodesAsLogoutToken(raw) {
		return errLogoutDecode
	}
	return errNoLogoutIdP
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
