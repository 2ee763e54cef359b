package oidc

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/grant"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// tokenResponse is the token endpoint's answer, fields in Keycloak's order.
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
	RefreshToken     string `json:"refresh_token,omitempty"`
	TokenType        string `json:"token_type"`
	IDToken          string `json:"id_token,omitempty"`
	NotBeforePolicy  int64  `json:"not-before-policy"`
	SessionState     string `json:"session_state,omitempty"`
	Scope            string `json:"scope"`
	// IssuedTokenType is RFC 8693's (§2.2.1), on a token exchange only.
	IssuedTokenType string `json:"issued_token_type,omitempty"`
}

// resolveScopes returns the client scopes that apply (grant.ResolveScopes),
// answering a scope the client does not have with Keycloak's invalid_scope.
func (h *Handler) resolveScopes(ctx context.Context, rl realm.Realm, c client.Client, requested string) (grant.Scopes, error) {
	out, err := grant.ResolveScopes(ctx, h.Store, rl, c, requested)
	if errors.Is(err, grant.ErrInvalidScope) {
		return out, badRequest("invalid_scope", "Invalid scopes: "+requested)
	}
	return out, err
}

// narrowScopes checks a refresh request's scope against the scope the
// session was granted: it may narrow it, never widen it (RFC 6749 §6).
// It returns the scope parameter to resolve.
func narrowScopes(granted grant.Scopes, grantedParam, requested string) (string, error) {
	if strings.TrimSpace(requested) == "" {
		return grantedParam, nil
	}
	have := map[string]bool{"openid": granted.OpenID}
	for _, s := range granted.Scopes {
		have[s.Name] = true
	}
	for _, s := range strings.Fields(requested) {
		if !have[s] {
			return "", badRequest("invalid_scope", "Invalid scopes: "+requested)
		}
	}
	return requested, nil
}

// access applies role scope to a request (grant.Resolve).
func (h *Handler) access(ctx context.Context, rl realm.Realm, c client.Client, u user.User, sr grant.Scopes) (grant.Access, error) {
	return grant.Resolve(ctx, h.Store, rl, c, u, sr)
}

// hasRealmRole reports whether name is among the user's effective roles,
// whatever the client's scope (offline_access is checked this way).
func (h *Handler) hasRealmRole(ctx context.Context, rl realm.Realm, u user.User, name string) (bool, error) {
	held, err := h.Store.EffectiveRoles(ctx, rl.ID, u.ID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(held, func(r store.RoleRef) bool { return r.ClientID == "" && r.Name == name }), nil
}

// issued is what a grant hands to issueTokens.
type issued struct {
	realm   realm.Realm
	client  client.Client
	user    user.User
	us      session.UserSession
	cs      session.ClientSession
	scopes  grant.Scopes
	refresh bool // issue a refresh token
	acr     string
	nonce   string
	// rotatedFrom is the jti of the refresh token a refresh grant used;
	// other grants leave it empty and the client session's current refresh
	// token stands in (see grant.ClaimRotatedFrom).
	rotatedFrom string
	// audience, on a token exchange that asked for one, narrows the access
	// token's aud and client roles to these clientIds (grant.Issue).
	audience []string
	// keys are the realm's keys if the grant has read them.
	keys []keys.Key
	// authorization and resourceServer make the access token an RPT (the
	// uma-ticket grant; a refresh of an RPT keeps its authorization).
	authorization  any
	resourceServer string
	// subjectClient and requestedType describe a token exchange, for its event.
	subjectClient, requestedType string
}

// issueTokens mints x's tokens (grant.Mint) and returns the token response.
func (h *Handler) issueTokens(ctx context.Context, r *http.Request, x issued) (tokenResponse, error) {
	now := h.Now()
	jkt := proofJkt(r)
	m, err := grant.Mint(ctx, h.Store, h.Log, grant.Issue{Realm: x.realm, Client: x.client, User: x.user,
		UserSession: x.us, ClientSession: x.cs, Scopes: x.scopes, Refresh: x.refresh, ACR: x.acr, Nonce: x.nonce,
		RotatedFrom: x.rotatedFrom, Audience: x.audience, Keys: x.keys,
		Authorization: x.authorization, ResourceServer: x.resourceServer, Issuer: h.URLs.RealmURL(r, x.realm.Name),
		Origins: x.client.AllowedOrigins(h.URLs.Base(r)), DPoPJkt: jkt, Now: now})
	var ae *grant.AudienceError
	if errors.As(err, &ae) {
		return tokenResponse{}, errAudienceMissing(ae.Missing)
	}
	if err != nil {
		return tokenResponse{}, err
	}
	x.scopes = m.Scopes
	nowS := now.Unix()
	tokenType := token.TypeBearer
	if jkt != "" {
		tokenType = token.TypeDPoP
	}
	resp := tokenResponse{
		AccessToken:     m.Access,
		ExpiresIn:       m.AccessExp - nowS,
		RefreshToken:    m.Refresh,
		TokenType:       tokenType,
		IDToken:         m.ID,
		NotBeforePolicy: x.realm.NotBefore,
		SessionState:    x.us.ID,
		Scope:           scopeString(x.scopes),
	}
	if m.Refresh != "" && m.RefreshExp > 0 {
		resp.RefreshExpiresIn = m.RefreshExp - nowS
	}
	h.tokensIssued(r, x, resp)
	return resp, nil
}

// scopeString is the granted scope as the token response states it:
// "openid" only when it was asked for.
func scopeString(s grant.Scopes) string {
	out := token.ScopeString(s.Scopes)
	if !s.OpenID {
		out = strings.TrimSpace(strings.TrimPrefix(out, "openid"))
	}
	return out
}

// signingKey is provision.SigningKey for this handler.
func (h *Handler) signingKey(ctx context.Context, rl realm.Realm, ks *[]keys.Key, alg string) (keys.Key, error) {
	return provision.SigningKey(ctx, h.Store, h.Log, rl, ks, alg, h.Now())
}

// sessionClock converts a time to the session clock (epoch seconds).
func sessionClock(t time.Time) int64 { return t.Unix() }
