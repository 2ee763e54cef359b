// Package sso issues the browser's single sign-on cookies: the identity
// cookie (an HS512 token naming the user session, HttpOnly) and the session
// cookie the login-status iframe reads. The login pages set them after a
// sign-in, and the admin API after an impersonation; both go through here
// so that a realm's SSO cookies have one shape.
package sso

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Keycloak's cookie names.
const (
	CookieIdentity = "KEYCLOAK_IDENTITY"
	CookieSession  = "KEYCLOAK_SESSION"
)

// TypeIdentity is the typ of the identity cookie's token, Keycloak's.
const TypeIdentity = "Serialized-ID"

// Cookies writes a realm's cookies for the server at URLs.
type Cookies struct {
	URLs web.URLs
	DB   *store.DB
}

// BasePath is the public base path of the server, without a trailing slash.
func BasePath(u web.URLs, r *http.Request) string {
	b, err := url.Parse(u.Base(r))
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(b.EscapedPath(), "/")
}

// Path is /realms/{realm}/ under the public base path, so a realm's cookies
// never reach another realm's pages.
func (c Cookies) Path(r *http.Request, realmName string) string {
	return BasePath(c.URLs, r) + "/realms/" + url.PathEscape(realmName) + "/"
}

// Secure reports whether the browser reaches us over HTTPS (directly or
// through a proxy the operator declared), which decides Secure and
// SameSite: cross-site flows need SameSite=None, which browsers accept on
// Secure cookies only; over plain HTTP, Lax is the best there is.
func (c Cookies) Secure(r *http.Request) bool {
	return strings.HasPrefix(c.URLs.Base(r), "https://")
}

// Set sets a realm cookie. maxAge 0 makes a session cookie; a negative
// maxAge deletes the cookie.
func (c Cookies) Set(w http.ResponseWriter, r *http.Request, rl realm.Realm, name, value string, maxAge int64, httpOnly bool) {
	ck := &http.Cookie{Name: name, Value: value, Path: c.Path(r, rl.Name), HttpOnly: httpOnly, SameSite: http.SameSiteLaxMode}
	if c.Secure(r) {
		ck.Secure, ck.SameSite = true, http.SameSiteNoneMode
	}
	switch {
	case maxAge < 0:
		ck.MaxAge, ck.Value = -1, ""
	case maxAge > 0:
		ck.MaxAge = int(maxAge)
	}
	http.SetCookie(w, ck)
}

// MaxLifespan is the SSO session max that applies (the remember-me one
// when it is set and the user asked to be remembered).
func MaxLifespan(rl realm.Realm, rememberMe bool) int64 {
	if rememberMe && rl.SSOSessionMaxLifespanRememberMe > 0 {
		return int64(max(rl.SSOSessionMaxLifespan, rl.SSOSessionMaxLifespanRememberMe))
	}
	return int64(rl.SSOSessionMaxLifespan)
}

// SessionHash is the KEYCLOAK_SESSION value: the base64url SHA-256 of the
// session id. Script can read this cookie (the login-status iframe compares
// it with the session keycloak-js holds), so it carries no usable id.
func SessionHash(sessionID string) string {
	sum := sha256.Sum256([]byte(sessionID))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// SetSSO sets the identity and session cookies of us at now (epoch seconds).
func (c Cookies) SetSSO(ctx context.Context, w http.ResponseWriter, r *http.Request, rl realm.Realm, us session.UserSession, now int64) error {
	ks, err := c.DB.ListKeys(ctx, rl.ID)
	if err != nil {
		return err
	}
	k, err := provision.SigningKey(ctx, c.DB, nil, rl, &ks, keys.HS512, time.Unix(now, 0))
	if err != nil {
		return err
	}
	exp := us.Started + MaxLifespan(rl, us.RememberMe)
	jwt, err := token.Sign(map[string]any{
		"exp": exp,
		"iat": now,
		"jti": token.NewJTI(),
		"iss": c.URLs.RealmURL(r, rl.Name),
		"sub": us.UserID,
		"typ": TypeIdentity,
		"sid": us.ID,
	}, k)
	if err != nil {
		return err
	}
	maxAge := max(exp-now, 1)
	identityAge := int64(0) // a browser-session cookie unless "remember me"
	if us.RememberMe {
		identityAge = maxAge
	}
	c.Set(w, r, rl, CookieIdentity, jwt, identityAge, true)
	c.Set(w, r, rl, CookieSession, SessionHash(us.ID), maxAge, false)
	return nil
}

// ExpireSSO ends the browser's SSO cookies.
func (c Cookies) ExpireSSO(w http.ResponseWriter, r *http.Request, rl realm.Realm) {
	c.Set(w, r, rl, CookieIdentity, "", -1, true)
	c.Set(w, r, rl, CookieSession, "", -1, false)
}
