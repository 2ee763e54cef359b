package login

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Keycloak's cookie names.
const (
	cookieAuthSession = "AUTH_SESSION_ID"
	cookieIdentity    = "KEYCLOAK_IDENTITY"
	cookieSession     = "KEYCLOAK_SESSION"
	cookie3PCheck     = "KEYCLOAK_3P_COOKIE"
)

// typeIdentity is the typ of the identity cookie's token, Keycloak's.
const typeIdentity = "Serialized-ID"

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
func urlPathEscape(s string) string  { return url.PathEscape(s) }

// cookiePath is /realms/{realm}/ under the public base path, so a realm's
// cookies never reach another realm's pages.
func (h *Handler) cookiePath(r *http.Request, rl realm.Realm) string {
	return basePath(h.URLs, r) + "/realms/" + urlPathEscape(rl.Name) + "/"
}

// secureCookies reports whether the browser reaches us over HTTPS (directly
// or through a proxy the operator declared), which decides Secure and
// SameSite: cross-site flows need SameSite=None, which browsers accept on
// Secure cookies only; over plain HTTP, Lax is the best there is.
func (h *Handler) secureCookies(r *http.Request) bool {
	return strings.HasPrefix(h.URLs.Base(r), "https://")
}

// setCookie sets a realm cookie. maxAge 0 makes a session cookie; a
// negative maxAge deletes the cookie.
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, rl realm.Realm, name, value string, maxAge int64, httpOnly bool) {
	c := &http.Cookie{Name: name, Value: value, Path: h.cookiePath(r, rl), HttpOnly: httpOnly, SameSite: http.SameSiteLaxMode}
	if h.secureCookies(r) {
		c.Secure, c.SameSite = true, http.SameSiteNoneMode
	}
	switch {
	case maxAge < 0:
		c.MaxAge, c.Value = -1, ""
	case maxAge > 0:
		c.MaxAge = int(maxAge)
	}
	http.SetCookie(w, c)
}

// ssoMaxLifespan is the SSO session max that applies (the remember-me one
// when it is set and the user asked to be remembered).
func ssoMaxLifespan(rl realm.Realm, rememberMe bool) int64 {
	if rememberMe && rl.SSOSessionMaxLifespanRememberMe > 0 {
		return int64(max(rl.SSOSessionMaxLifespan, rl.SSOSessionMaxLifespanRememberMe))
	}
	return int64(rl.SSOSessionMaxLifespan)
}

// sessionHash is the KEYCLOAK_SESSION value: the base64url SHA-256 of the
// session id. Script can read this cookie (the login-status iframe compares
// it with the session keycloak-js holds), so it carries no usable id.
func sessionHash(sessionID string) string {
	sum := sha256.Sum256([]byte(sessionID))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// setSSOCookies sets the identity cookie (an HS512 token naming the user
// session, HttpOnly) and the session cookie the login-status iframe reads.
func (h *Handler) setSSOCookies(ctx context.Context, w http.ResponseWriter, r *http.Request, rl realm.Realm, us session.UserSession) error {
	ks, err := h.Store.ListKeys(ctx, rl.ID)
	if err != nil {
		return err
	}
	k, ok := keys.Active(ks, keys.HS512)
	if !ok {
		return errors.New("realm has no active HS512 key")
	}
	now := h.now()
	exp := us.Started + ssoMaxLifespan(rl, us.RememberMe)
	jwt, err := token.Sign(map[string]any{
		"exp": exp,
		"iat": now,
		"jti": token.NewJTI(),
		"iss": h.URLs.RealmURL(r, rl.Name),
		"sub": us.UserID,
		"typ": typeIdentity,
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
	h.setCookie(w, r, rl, cookieIdentity, jwt, identityAge, true)
	h.setCookie(w, r, rl, cookieSession, sessionHash(us.ID), maxAge, false)
	return nil
}

// expireSSOCookies ends the browser's SSO cookies.
func (h *Handler) expireSSOCookies(w http.ResponseWriter, r *http.Request, rl realm.Realm) {
	h.setCookie(w, r, rl, cookieIdentity, "", -1, true)
	h.setCookie(w, r, rl, cookieSession, "", -1, false)
}

// ssoLogin is the browser's live SSO session, found through its identity cookie.
type ssoLogin struct {
	us   session.UserSession
	user user.User
}

// ssoSession returns the SSO session behind the request's identity cookie,
// if its signature, type, issuer and expiry check out and the session is
// alive, online and its user enabled.
func (h *Handler) ssoSession(ctx context.Context, r *http.Request, rl realm.Realm) (ssoLogin, bool, error) {
	c, err := r.Cookie(cookieIdentity)
	if err != nil || c.Value == "" {
		return ssoLogin{}, false, nil
	}
	ks, err := h.Store.ListKeys(ctx, rl.ID)
	if err != nil {
		return ssoLogin{}, false, err
	}
	claims, err := token.Verify(c.Value, ks, keys.HS512)
	if err != nil {
		return ssoLogin{}, false, nil
	}
	p, err := token.Parse(claims)
	now := h.now()
	if err != nil || p.Typ != typeIdentity || p.Iss != h.URLs.RealmURL(r, rl.Name) || p.Sid == "" || p.Exp == 0 || now >= p.Exp {
		return ssoLogin{}, false, nil
	}
	us, err := h.Store.GetUserSession(ctx, rl.ID, p.Sid)
	if errors.Is(err, store.ErrNotFound) {
		return ssoLogin{}, false, nil
	}
	if err != nil {
		return ssoLogin{}, false, err
	}
	if us.Offline || us.UserID != p.Sub || !session.Valid(rl, us, now) {
		return ssoLogin{}, false, nil
	}
	u, err := h.Store.GetUser(ctx, rl.ID, us.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return ssoLogin{}, false, nil
	}
	if err != nil {
		return ssoLogin{}, false, err
	}
	if !u.Enabled || p.Iat < u.NotBefore || p.Iat < rl.NotBefore {
		return ssoLogin{}, false, nil
	}
	return ssoLogin{us: us, user: u}, true, nil
}
