package oidc

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// liveToken is a token that passed every check: signature, type, issuer,
// expiry, revocation, not-before, and a live session, client and user.
type liveToken struct {
	parsed  token.Parsed
	client  client.Client
	user    user.User
	us      session.UserSession
	cs      session.ClientSession
	hasSess bool
}

var errTokenInvalid = errors.New("token is not active")

// checkAccessToken validates an access token of realm rl for use now. It
// answers errTokenInvalid (never a reason an attacker could use) or a
// storage error.
func (h *Handler) checkAccessToken(ctx context.Context, r *http.Request, rl realm.Realm, raw string) (liveToken, error) {
	ks, err := h.Store.ListKeys(ctx, rl.ID)
	if err != nil {
		return liveToken{}, err
	}
	claims, err := token.Verify(raw, ks, rl.DefaultSignatureAlgorithm)
	if err != nil {
		return liveToken{}, errTokenInvalid
	}
	p, err := token.Parse(claims)
	if err != nil || p.Typ != "Bearer" {
		return liveToken{}, errTokenInvalid
	}
	return h.checkParsed(ctx, r, rl, p, true)
}

// checkParsed applies the checks that follow signature verification, for
// access tokens and (at introspection) refresh tokens alike.
func (h *Handler) checkParsed(ctx context.Context, r *http.Request, rl realm.Realm, p token.Parsed, access bool) (liveToken, error) {
	now := sessionClock(h.Now())
	if p.Iss != h.URLs.RealmURL(r, rl.Name) {
		return liveToken{}, errTokenInvalid
	}
	if (p.Exp != 0 && now >= p.Exp) || (p.Exp == 0 && p.Typ != "Offline") {
		return liveToken{}, errTokenInvalid
	}
	if p.Iat < rl.NotBefore {
		return liveToken{}, errTokenInvalid
	}
	if access && p.Jti != "" {
		revoked, err := h.Store.IsTokenRevoked(ctx, p.Jti)
		if err != nil {
			return liveToken{}, err
		}
		if revoked {
			return liveToken{}, errTokenInvalid
		}
	}
	lt := liveToken{parsed: p}
	c, err := h.Store.GetClientByClientID(ctx, rl.ID, p.Azp)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!c.Enabled || p.Iat < c.NotBefore)) {
		return liveToken{}, errTokenInvalid
	}
	if err != nil {
		return liveToken{}, err
	}
	lt.client = c
	if p.Sid != "" {
		us, err := h.Store.GetUserSession(ctx, rl.ID, p.Sid)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !session.Valid(rl, us, now)) {
			return liveToken{}, errTokenInvalid
		}
		if err != nil {
			return liveToken{}, err
		}
		if p.Typ == "Offline" && !us.Offline {
			return liveToken{}, errTokenInvalid
		}
		cs, err := h.Store.GetClientSession(ctx, us.ID, c.ID)
		if errors.Is(err, store.ErrNotFound) {
			return liveToken{}, errTokenInvalid
		}
		if err != nil {
			return liveToken{}, err
		}
		lt.us, lt.cs, lt.hasSess = us, cs, true
	} else if !c.ServiceAccountsEnabled {
		// Only service-account tokens are issued without a session.
		return liveToken{}, errTokenInvalid
	}
	userID := lt.us.UserID
	if !lt.hasSess {
		sa, err := h.Store.GetServiceAccount(ctx, rl.ID, c.ID)
		if err != nil {
			return liveToken{}, errTokenInvalid
		}
		userID = sa.ID
	}
	u, err := h.Store.GetUser(ctx, rl.ID, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!u.Enabled || p.Iat < u.NotBefore)) {
		return liveToken{}, errTokenInvalid
	}
	if err != nil {
		return liveToken{}, err
	}
	if p.Sub != "" && p.Sub != u.ID {
		return liveToken{}, errTokenInvalid
	}
	lt.user = u
	return lt, nil
}

// tokenInput rebuilds the token input of a live token, for userinfo and
// introspection claims.
func (h *Handler) tokenInput(ctx context.Context, r *http.Request, rl realm.Realm, lt liveToken) (token.Input, error) {
	scopes, err := h.resolveScopes(ctx, rl, lt.client, lt.parsed.Scope)
	if err != nil {
		// The client lost a scope since: answer with its default ones.
		if scopes, err = h.resolveScopes(ctx, rl, lt.client, ""); err != nil {
			return token.Input{}, err
		}
	}
	realmRoles, clientRoles, err := h.roles(ctx, rl, lt.client, lt.user)
	if err != nil {
		return token.Input{}, err
	}
	us := lt.us
	if !lt.hasSess {
		us = session.UserSession{UserID: lt.user.ID, AuthTime: lt.parsed.Iat, Started: lt.parsed.Iat,
			Notes: map[string]string{"client_id": lt.client.ClientID}}
	}
	return token.Input{
		Issuer: h.URLs.RealmURL(r, rl.Name), Realm: rl, Client: lt.client, User: lt.user,
		UserSession: us, ClientSession: lt.cs, Scopes: scopes.scopes, RealmRoles: realmRoles, ClientRoles: clientRoles,
		Now: h.Now(), AccessExp: lt.parsed.Exp, ACR: "1", AllowedOrigins: allowedOrigins(lt.client),
	}, nil
}

// bearerToken reads the token of an RFC 6750 request: the Authorization
// header, or for POST the access_token form field, never both.
func bearerToken(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	var fromHeader string
	if h != "" {
		// Another scheme (Basic client credentials, say) carries no bearer
		// token: the request is one without a token, as in Keycloak, not a
		// token sent twice (SECURITY.md U1).
		if scheme, rest, _ := strings.Cut(h, " "); strings.EqualFold(scheme, "Bearer") {
			fromHeader = strings.TrimSpace(rest)
		}
	}
	var fromForm string
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r.Body = http.MaxBytesReader(nil, r.Body, maxFormBytes)
		if err := r.ParseForm(); err == nil {
			if vs := r.PostForm["access_token"]; len(vs) > 1 {
				return "", errors.New("duplicated parameter")
			} else if len(vs) == 1 {
				fromForm = vs[0]
			}
		}
	}
	if fromHeader != "" && fromForm != "" {
		return "", errors.New("token sent twice")
	}
	if fromHeader == "" {
		return fromForm, nil
	}
	return fromHeader, nil
}
