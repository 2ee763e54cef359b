package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/grant"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
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
	// token stands in (see claimRotatedFrom).
	rotatedFrom string
}

// issueTokens builds, signs and returns the token response.
func (h *Handler) issueTokens(ctx context.Context, r *http.Request, x issued) (tokenResponse, error) {
	now := h.Now()
	ks, err := h.Store.ListKeys(ctx, x.realm.ID)
	if err != nil {
		return tokenResponse{}, err
	}
	sigKey, err := h.signingKey(ctx, x.realm, &ks, token.AccessAlg(x.realm, x.client))
	if err != nil {
		return tokenResponse{}, err
	}
	acc, err := h.access(ctx, x.realm, x.client, x.user, x.scopes)
	if err != nil {
		return tokenResponse{}, err
	}
	x.scopes.Scopes = acc.Scopes
	nowS := now.Unix()
	in := token.Input{
		Issuer:         h.URLs.RealmURL(r, x.realm.Name),
		Realm:          x.realm,
		Client:         x.client,
		User:           x.user,
		UserSession:    x.us,
		ClientSession:  x.cs,
		Scopes:         acc.Scopes,
		RealmRoles:     acc.RealmRoles,
		ClientRoles:    acc.ClientRoles,
		Groups:         acc.Groups,
		Now:            now,
		AccessExp:      session.AccessExpiry(x.realm, x.client, x.us, nowS),
		Nonce:          x.nonce,
		ACR:            x.acr,
		AllowedOrigins: x.client.AllowedOrigins(h.URLs.Base(r)),
		ServiceAccount: x.user.ServiceAccountClientID != "",
		DPoPJkt:        proofJkt(r),
	}
	if x.refresh {
		in.RefreshExp = session.RefreshExpiry(x.realm, x.client, x.us, nowS)
	}
	access, err := token.Sign(token.Access(in), sigKey)
	if err != nil {
		return tokenResponse{}, err
	}
	tokenType := token.TypeBearer
	if in.DPoPJkt != "" {
		tokenType = token.TypeDPoP
	}
	resp := tokenResponse{
		AccessToken:     access,
		ExpiresIn:       in.AccessExp - nowS,
		TokenType:       tokenType,
		NotBeforePolicy: x.realm.NotBefore,
		SessionState:    x.us.ID,
		Scope:           scopeString(x.scopes),
	}
	if x.refresh {
		hmacKey, err := h.signingKey(ctx, x.realm, &ks, keys.HS512)
		if err != nil {
			return tokenResponse{}, err
		}
		claims := token.Refresh(in, x.us.Offline)
		if x.realm.RevokeRefreshToken { // the token's lineage, for session.DecideRefresh
			from := x.rotatedFrom
			if from == "" {
				from = x.cs.CurrentRefreshToken // "" in a new client session
			}
			claims[claimRotatedFrom] = from
		}
		if resp.RefreshToken, err = token.Sign(claims, hmacKey); err != nil {
			return tokenResponse{}, err
		}
		if in.RefreshExp > 0 {
			resp.RefreshExpiresIn = in.RefreshExp - nowS
		}
	}
	if x.scopes.OpenID {
		idKey, err := h.signingKey(ctx, x.realm, &ks, token.IDAlg(x.realm, x.client))
		if err != nil {
			return tokenResponse{}, err
		}
		if resp.IDToken, err = token.Sign(token.ID(in, access), idKey); err != nil {
			return tokenResponse{}, err
		}
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

var errNoKey = errors.New("realm has no active signing key")

// signingKey returns the realm's active key for alg. A realm without one
// gets a fallback key (keys.Fallback), stored and added to *ks, so a realm
// whose defaultSignatureAlgorithm or a client's signature setting names an
// algorithm without a key still issues tokens. Two nodes racing here each
// store a valid key; both verify.
func (h *Handler) signingKey(ctx context.Context, rl realm.Realm, ks *[]keys.Key, alg string) (keys.Key, error) {
	if k, ok := keys.Active(*ks, alg); ok {
		return k, nil
	}
	k, err := keys.Fallback(alg, rl.Name, h.Now())
	if err != nil {
		return keys.Key{}, fmt.Errorf("%w: %v", errNoKey, err)
	}
	k.RealmID = rl.ID
	if err := h.Store.CreateKey(ctx, k); err != nil {
		return keys.Key{}, err
	}
	h.Log.Warn("created a fallback key: no active key for the algorithm", "realm", rl.Name, "alg", alg, "kid", k.Kid)
	*ks = append(*ks, k)
	return k, nil
}

// sessionClock converts a time to the session clock (epoch seconds).
func sessionClock(t time.Time) int64 { return t.Unix() }
