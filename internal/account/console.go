package account

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// The console has no session of its own: it is the browser's SSO session,
// found through the KEYCLOAK_IDENTITY cookie the login pages set (an HS512
// token naming the session), checked on every request exactly as the login
// pages check it, and required to be alive. Signing in is the realm's own
// login page, reached through an authorization request of the
// account-console client (PKCE, redirect back to the console); the code
// that comes back is not needed, since the SSO cookie is what the console
// reads. Logging out anywhere, an administrator ending the session, or the
// session expiring ends the console at once, and nothing about the console
// lives in one node's memory.

// Keycloak's identity cookie and its token type (set by package login).
const (
	cookieIdentity = "KEYCLOAK_IDENTITY"
	typeIdentity   = "Serialized-ID"
)

// consoleSession is the signed-in user of a console request.
type consoleSession struct {
	realm realm.Realm
	us    session.UserSession
	user  user.User
	roles map[string]bool
	csrf  string
}

// consoleSession returns the browser's live SSO session, or ok = false.
func (h *Handler) consoleSession(ctx context.Context, r *http.Request, rl realm.Realm) (*consoleSession, bool, error) {
	c, err := r.Cookie(cookieIdentity)
	if err != nil || c.Value == "" || len(c.Value) > token.MaxTokenSize {
		return nil, false, nil
	}
	ks, err := h.Store.ListKeys(ctx, rl.ID)
	if err != nil {
		return nil, false, err
	}
	claims, err := token.Verify(c.Value, ks, keys.HS512)
	if err != nil {
		return nil, false, nil
	}
	p, err := token.Parse(claims)
	now := h.nowS()
	if err != nil || p.Typ != typeIdentity || p.Iss != h.URLs.RealmURL(r, rl.Name) || p.Sid == "" || p.Exp == 0 || now >= p.Exp {
		return nil, false, nil
	}
	us, err := h.Store.GetUserSession(ctx, rl.ID, p.Sid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if us.Offline || us.UserID != p.Sub || !session.Valid(rl, us, now) {
		return nil, false, nil
	}
	u, err := h.Store.GetUser(ctx, rl.ID, us.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if !u.Enabled || u.ServiceAccountClientID != "" || p.Iat < u.NotBefore || p.Iat < rl.NotBefore {
		return nil, false, nil
	}
	// Using the console is activity in the session, as the token refreshes
	// of Keycloak's single-page console are.
	if err := h.Store.TouchUserSession(ctx, us.ID, now); err != nil {
		return nil, false, err
	}
	roles, err := h.accountRoles(ctx, rl, u.ID)
	if err != nil {
		return nil, false, err
	}
	csrf, err := csrfToken(ks, us.ID)
	if err != nil {
		return nil, false, err
	}
	return &consoleSession{realm: rl, us: us, user: u, roles: roles, csrf: csrf}, true, nil
}

// csrfToken is the console's CSRF token for an SSO session: an HMAC of the
// session id under the realm's active HS512 key. It is the same on every
// node, changes with every login, and cannot be made without the key even
// by someone who knows the session id (it travels as session_state and
// sid to every application).
func csrfToken(ks []keys.Key, sid string) (string, error) {
	k, ok := keys.Active(ks, keys.HS512)
	if !ok {
		return "", errors.New("realm has no active HS512 key")
	}
	return csrfMAC(k.Private, sid), nil
}

func csrfMAC(secret []byte, sid string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("gatehouse-account-console-csrf\x00" + sid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF accepts a token made with any enabled HS512 key of the realm,
// so that a key rotation does not break a form already on screen.
func checkCSRF(ks []keys.Key, sid, got string) bool {
	if got == "" {
		return false
	}
	for _, k := range ks {
		if k.Enabled && k.Algorithm == keys.HS512 && hmac.Equal([]byte(csrfMAC(k.Private, sid)), []byte(got)) {
			return true
		}
	}
	return false
}

// loginRedirect sends the browser to the realm's login page as the
// account-console client would (authURL), back to page.
func (h *Handler) loginRedirect(w http.ResponseWriter, r *http.Request, rl realm.Realm, page string) {
	noStore(w)
	http.Redirect(w, r, h.authURL(r, rl, page, ""), http.StatusFound)
}

// authURL is an authorization request of the account-console client:
// authorization code flow with PKCE (the client requires S256), back to
// page, with kcAction (kc_action, "" for none) for an action the user
// starts from the console, such as setting up an authenticator app. The
// verifier is not kept: the code is never redeemed, so nobody can ever
// redeem it.
func (h *Handler) authURL(r *http.Request, rl realm.Realm, page, kcAction string) string {
	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id":             {accountConsoleClientID},
		"redirect_uri":          {h.URLs.Base(r) + "/realms/" + url.PathEscape(rl.Name) + "/account/" + page},
		"response_type":         {"code"},
		"scope":                 {"openid"},
		"state":                 {rand.Text()},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	if kcAction != "" {
		q.Set("kc_action", kcAction)
	}
	if l := r.URL.Query().Get("kc_locale"); l != "" && len(l) < 32 {
		q.Set("ui_locales", l)
	}
	return h.basePath(r) + "/realms/" + url.PathEscape(rl.Name) + "/protocol/openid-connect/auth?" + q.Encode()
}

// Console sections: the page path under /account/ and the title key.
type section struct {
	id, path, title string
}

var (
	sectionPersonalInfo   = section{"personal-info", "", "personalInfo"}
	sectionSigningIn      = section{"signing-in", "account-security/signing-in", "signingIn"}
	sectionDeviceActivity = section{"device-activity", "account-security/device-activity", "deviceActivity"}
	sectionApplications   = section{"applications", "applications", "applications"}
	sectionLinkedAccounts = section{"linked-accounts", "account-security/linked-accounts", "linkedAccounts"}
	sectionResources      = section{"resources", "resources", "resources"}
)

// page serves a console section by GET: the signed-in user's page, or the
// way to the login page.
func (h *Handler) page(s section) http.Handler {
	return h.console(func(w http.ResponseWriter, r *http.Request) error {
		rl, err := h.loadRealm(r)
		if errors.Is(err, store.ErrNotFound) {
			return h.renderMessage(w, r, nil, http.StatusNotFound, "realmNotFoundMessage", "", "")
		}
		if err != nil {
			return err
		}
		cs, ok, err := h.consoleSession(r.Context(), r, rl)
		if err != nil {
			return err
		}
		q := r.URL.Query()
		returning := q.Has("code") || q.Has("error") || q.Has("state")
		switch {
		case ok && returning:
			// Back from the login page: the URL carries a code nobody
			// needs; show the page at its plain address.
			noStore(w)
			http.Redirect(w, r, h.consoleBase(r, rl.Name)+"/"+s.path, http.StatusSeeOther)
			return nil
		case !ok && returning:
			// The login came back without an SSO session (cookies blocked,
			// or the login refused): say so rather than loop.
			key := "accountLoginFailedMessage"
			if q.Get("error") == "access_denied" {
				key = "accountAccessDeniedMessage"
			}
			return h.renderMessage(w, r, &rl, http.StatusUnauthorized, key, "doTryAgain", h.consoleBase(r, rl.Name)+"/"+s.path)
		case !ok:
			h.loginRedirect(w, r, rl, s.path)
			return nil
		}
		return h.showSection(w, r, cs, s, http.StatusOK, nil)
	})
}

// console adapts a console handler: a failure is logged and shown as a page
// that reveals nothing.
func (h *Handler) console(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			h.Log.ErrorContext(r.Context(), "account console request failed", "pattern", r.Pattern, "err", err)
			h.renderMessage(w, r, nil, http.StatusInternalServerError, "internalServerError", "", "")
		}
	})
}

// maxFormBytes bounds a console form; the largest holds a few short fields.
const maxFormBytes = 16 << 10

// formFunc handles a console form posted by the signed-in user.
type formFunc func(w http.ResponseWriter, r *http.Request, cs *consoleSession, form url.Values) error

// form serves a console form POST. Before anything is read or changed, the
// request must come from the console's own pages: the same origin (when the
// browser says), the SSO session alive, the CSRF token of that session, and
// one of roles. A cookie alone never does anything (SECURITY.md C4).
func (h *Handler) form(roles []string, fn formFunc) http.Handler {
	return h.console(func(w http.ResponseWriter, r *http.Request) error {
		rl, err := h.loadRealm(r)
		if errors.Is(err, store.ErrNotFound) {
			return h.renderMessage(w, r, nil, http.StatusNotFound, "realmNotFoundMessage", "", "")
		}
		if err != nil {
			return err
		}
		if !h.sameOrigin(r) {
			h.Log.InfoContext(r.Context(), "account console: cross-origin form refused", "realm", rl.Name, "origin", r.Header.Get("Origin"))
			return h.renderMessage(w, r, &rl, http.StatusForbidden, "accountInvalidRequestMessage", "doTryAgain", h.consoleBase(r, rl.Name)+"/")
		}
		form, ok := readForm(w, r)
		if !ok {
			return h.renderMessage(w, r, &rl, http.StatusBadRequest, "invalidRequestMessage", "doTryAgain", h.consoleBase(r, rl.Name)+"/")
		}
		cs, ok, err := h.consoleSession(r.Context(), r, rl)
		if err != nil {
			return err
		}
		if !ok {
			// Signed out meanwhile: the console page leads to the login.
			noStore(w)
			http.Redirect(w, r, h.consoleBase(r, rl.Name)+"/", http.StatusSeeOther)
			return nil
		}
		ks, err := h.Store.ListKeys(r.Context(), rl.ID)
		if err != nil {
			return err
		}
		if !checkCSRF(ks, cs.us.ID, form.Get("csrf_token")) {
			h.Log.InfoContext(r.Context(), "account console: CSRF token mismatch", "realm", rl.Name, "user", cs.user.ID)
			return h.renderMessage(w, r, &rl, http.StatusForbidden, "accountInvalidRequestMessage", "doTryAgain", h.consoleBase(r, rl.Name)+"/")
		}
		if !holdsAny(cs.roles, roles) {
			return h.renderMessage(w, r, &rl, http.StatusForbidden, "accountNoPermissionMessage", "", "")
		}
		return fn(w, r, cs, form)
	})
}

// sameOrigin refuses a request a browser marks as coming from another site
// or origin. Browsers send Origin on every POST (the console's pages keep a
// same-origin referrer policy so that it is not "null"), and Sec-Fetch-Site
// when they know it.
func (h *Handler) sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && o != h.serverOrigin(r) {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// readForm reads a URL-encoded form body, each field at most once.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, false
	}
	for _, v := range r.PostForm {
		if len(v) != 1 {
			return nil, false
		}
	}
	return r.PostForm, true
}

// done sends the browser back to a section after a successful form, with
// the message to show (post/redirect/get: reloading does not post again).
func (h *Handler) done(w http.ResponseWriter, r *http.Request, cs *consoleSession, s section, msg string) error {
	noStore(w)
	http.Redirect(w, r, h.consoleBase(r, cs.realm.Name)+"/"+s.path+"?done="+msg, http.StatusSeeOther)
	return nil
}

// doneMessages are the outcomes a ?done= parameter may name; anything else
// shows nothing, so a link cannot put text of its choosing on the page.
var doneMessages = map[string]string{
	"profile":  "accountUpdatedMessage",
	"password": "accountPasswordUpdatedMessage",
	"session":  "accountSessionSignedOutMessage",
	"sessions": "accountOtherSessionsSignedOutMessage",
	"access":   "accountAccessRemovedMessage",
	"unlinked": "accountUnlinkedMessage",
	"shared":   "accountResourceSharedMessage",
	"revoked":  "accountResourceRevokedMessage",
	"approved": "accountRequestApprovedMessage",
	"denied":   "accountRequestDeniedMessage",
}

// templates are the console's pages, parsed once from the embedded theme:
// each page with the console's own layout.
var templates = sync.OnceValues(func() (map[string]*template.Template, error) {
	return parseTemplates(ui.FS())
})

func parseTemplates(fsys fs.FS) (map[string]*template.Template, error) {
	names, err := fs.Glob(fsys, "templates/account/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, file := range names {
		name := path.Base(file)
		if name == "layout.html" {
			continue
		}
		t, err := template.New(name).ParseFS(fsys, "templates/account/layout.html", file)
		if err != nil {
			return nil, fmt.Errorf("account: parse %s: %w", name, err)
		}
		out[name] = t
	}
	if len(out) == 0 {
		return nil, errors.New("account: no console templates")
	}
	return out, nil
}

// baseCSP is the policy of every console page: its own scripts, styles and
// forms only, never framed. A realm's own policy is sent as a second header
// and browsers enforce both.
const baseCSP = "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'"

// pageHeaders sets the headers every console page carries, the login
// pages' security headers with the realm's own where it set them.
func pageHeaders(w http.ResponseWriter, rl *realm.Realm) {
	hdr := w.Header()
	sec := realm.DefaultSecurityHeaders()
	if rl != nil && rl.BrowserSecurityHeaders != nil {
		for k, v := range rl.BrowserSecurityHeaders {
			sec[k] = v
		}
	}
	hdr.Set("Content-Security-Policy", baseCSP)
	if v := strings.TrimSpace(sec["contentSecurityPolicy"]); v != "" && !strings.ContainsAny(v, "\r\n") {
		hdr.Add("Content-Security-Policy", v)
	}
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("X-Content-Type-Options", "nosniff")
	// same-origin rather than the login pages' no-referrer: the console's
	// own form posts then carry their real Origin, which sameOrigin checks;
	// other sites still learn nothing.
	hdr.Set("Referrer-Policy", "same-origin")
	hdr.Set("X-Robots-Tag", "none")
	if v := strings.TrimSpace(sec["strictTransportSecurity"]); v != "" && !strings.ContainsAny(v, "\r\n") {
		hdr.Set("Strict-Transport-Security", v)
	}
	noStore(w)
}

// noStore keeps pages with personal data and CSRF tokens out of caches.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store, must-revalidate, max-age=0")
	w.Header().Set("Pragma", "no-cache")
	w.Header().Set("Expires", "0")
}

// render writes a console page; output is buffered so a template error
// never leaves half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, rl *realm.Realm, status int, name string, p *consolePage) error {
	ts, err := templates()
	if err != nil {
		return err
	}
	t, ok := ts[name]
	if !ok {
		return fmt.Errorf("account: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("account: render %s: %w", name, err)
	}
	pageHeaders(w, rl)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", p.Lang)
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, err = w.Write(buf.Bytes())
	}
	return err
}

// renderMessage shows a page holding only a message, with an optional link
// (linkKey, href) to go on.
func (h *Handler) renderMessage(w http.ResponseWriter, r *http.Request, rl *realm.Realm, status int, key, linkKey, href string) error {
	p := h.newPage(r, rl, "accountConsoleTitle")
	kind := "error"
	if status < 400 {
		kind = "info"
	}
	p.Message = &ui.Message{Type: kind, Text: p.T(key)}
	p.LinkText, p.LinkHref = "", href
	if linkKey != "" {
		p.LinkText = p.T(linkKey)
	}
	return h.render(w, r, rl, status, "message.html", p)
}
