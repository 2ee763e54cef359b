package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/sso"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Keycloak's cookie names; the SSO ones are package sso's.
const (
	cookieAuthSession = "AUTH_SESSION_ID"
	cookieIdentity    = sso.CookieIdentity
	cookieSession     = sso.CookieSession
	cookie3PCheck     = "KEYCLOAK_3P_COOKIE"
)

// typeIdentity is the typ of the identity cookie's token, Keycloak's.
const typeIdentity = sso.TypeIdentity

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
func urlPathEscape(s string) string  { return url.PathEscape(s) }

func (h *Handler) cookies() sso.Cookies { return sso.Cookies{URLs: h.URLs, DB: h.Store} }

// cookiePath is /realms/{realm}/ under the public base path.
func (h *Handler) cookiePath(r *http.Request, rl realm.Realm) string {
	return h.cookies().Path(r, rl.Name)
}

// secureCookies reports whether the browser reaches us over HTTPS.
func (h *Handler) secureCookies(r *http.Request) bool { return h.cookies().Secure(r) }

// setCookie sets a realm cookie (sso.Cookies.Set).
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, rl realm.Realm, name, value string, maxAge int64, httpOnly bool) {
	h.cookies().Set(w, r, rl, name, value, maxAge, httpOnly)
}

// setSSOCookies sets the identity cookie and the session cookie of us.
func (h *Handler) setSSOCookies(ctx context.Context, w http.ResponseWriter, r *http.Request, rl realm.Realm, us session.UserSession) error {
	return h.cookies().SetSSO(ctx, w, r, rl, us, h.now())
}

// expireSSOCookies ends the browser's SSO cookies.
func (h *Handler) expireSSOCookies(w http.ResponseWriter, r *http.Request, rl realm.Realm) {
	h.cookies().ExpireSSO(w, r, rl)
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
