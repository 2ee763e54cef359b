package oidc

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/bearer"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// errTokenInvalid is every reason a token is refused.
var errTokenInvalid = bearer.ErrInvalid

// checkAccessToken validates the access token request r presented to a
// resource endpoint of realm rl, DPoP binding included: see package bearer,
// shared with the admin and account APIs.
func (h *Handler) checkAccessToken(ctx context.Context, r *http.Request, rl realm.Realm, pt bearer.Presented) (bearer.Token, error) {
	return bearer.ValidateRequest(ctx, h.Store, rl, h.URLs.RealmURL(r, rl.Name), r, h.URLs.RequestURL(r), pt, h.Now())
}

// checkParsed applies the checks that follow signature verification, for
// access tokens and (at introspection) refresh tokens alike.
func (h *Handler) checkParsed(ctx context.Context, r *http.Request, rl realm.Realm, p token.Parsed) (bearer.Token, error) {
	return bearer.Check(ctx, h.Store, rl, h.URLs.RealmURL(r, rl.Name), p, h.Now())
}

// tokenInput rebuilds the token input of a live token, for userinfo and
// introspection claims.
func (h *Handler) tokenInput(ctx context.Context, r *http.Request, rl realm.Realm, lt bearer.Token) (token.Input, error) {
	scopes, err := h.resolveScopes(ctx, rl, lt.Client, lt.Claims.Scope)
	if err != nil {
		// The client lost a scope since: answer with its default ones.
		if scopes, err = h.resolveScopes(ctx, rl, lt.Client, ""); err != nil {
			return token.Input{}, err
		}
	}
	acc, err := h.access(ctx, rl, lt.Client, lt.User, scopes)
	if err != nil {
		return token.Input{}, err
	}
	us := lt.UserSession
	if !lt.HasSession {
		us = session.UserSession{UserID: lt.User.ID, AuthTime: lt.Claims.Iat, Started: lt.Claims.Iat,
			Notes: map[string]string{"client_id": lt.Client.ClientID}}
	}
	return token.Input{
		Issuer: h.URLs.RealmURL(r, rl.Name), Realm: rl, Client: lt.Client, User: lt.User,
		UserSession: us, ClientSession: lt.ClientSession, Scopes: acc.Scopes, RealmRoles: acc.RealmRoles, ClientRoles: acc.ClientRoles,
		Groups: acc.Groups, Now: h.Now(), AccessExp: lt.Claims.Exp, ACR: "1", AllowedOrigins: lt.Client.AllowedOrigins(h.URLs.Base(r)),
	}, nil
}

// bearerToken reads the token of an RFC 6750 request: the Authorization
// header (Bearer, or DPoP for a DPoP-bound token), or for POST the
// access_token form field, never both.
func bearerToken(r *http.Request) (bearer.Presented, error) {
	// Another scheme (Basic client credentials, say) carries no bearer
	// token: the request is one without a token, as in Keycloak, not a
	// token sent twice (SECURITY.md U1).
	pt := bearer.FromRequest(r)
	fromHeader := pt.Raw
	var fromForm string
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r.Body = http.MaxBytesReader(nil, r.Body, MaxFormBytes)
		if err := r.ParseForm(); err == nil {
			if vs := r.PostForm["access_token"]; len(vs) > 1 {
				return bearer.Presented{}, errors.New("duplicated parameter")
			} else if len(vs) == 1 {
				fromForm = vs[0]
			}
		}
	}
	if fromHeader != "" && fromForm != "" {
		return bearer.Presented{}, errors.New("token sent twice")
	}
	if fromHeader == "" {
		return bearer.Presented{Raw: fromForm}, nil
	}
	return pt, nil
}
