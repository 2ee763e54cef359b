package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/bearer"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Cookie names. Both are HttpOnly and scoped to one realm's console path.
const (
	// cookieSession holds the administrator's tokens and the CSRF token.
	cookieSession = "GATEHOUSE_CONSOLE"
	// cookieLogin holds a sign-in in progress: state, PKCE verifier and
	// the page to return to.
	cookieLogin = "GATEHOUSE_CONSOLE_LOGIN"
)

// clientID is the client the console signs in as, in every realm.
const clientID = provision.SecurityAdminConsole

// loginLifespan bounds a sign-in in progress, as Keycloak's default login
// timeout does.
const loginLifespan = 30 * 60

// refreshMargin: an access token this close to its expiry is refreshed
// before the page uses it, so that no API call of the page meets an
// expired token.
const refreshMargin = 30

// consoleSession is the value of the session cookie.
type consoleSession struct {
	Access  string `json:"a"`
	Refresh string `json:"r"`
	CSRF    string `json:"c"`
}

// loginState is the value of the login cookie.
type loginState struct {
	State    string `json:"s"`
	Verifier string `json:"v"`
	Return   string `json:"r"`
}

// rq is one console request by a signed-in administrator.
type rq struct {
	h     *Handler
	w     http.ResponseWriter
	r     *http.Request
	sess  consoleSession
	login realm.Realm // the realm signed in to
	admin user.User
	// roleIDs are the administrator's effective roles in the login realm.
	roleIDs map[string]bool

	target string      // the realm the page is about, "" above realms
	realm  realm.Realm // that realm, on the pages of one realm
	perms  perms
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func equalSecret(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func encodeCookie(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCookie(r *http.Request, name string, v any) bool {
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" || len(c.Value) > 8<<10 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	return err == nil && json.Unmarshal(b, v) == nil
}

// setCookie sets a console cookie of realm rl; maxAge 0 makes a browser
// session cookie, a negative maxAge deletes it. SameSite is Lax, not
// Strict: a sign-in that starts from a link on another site comes back
// through a redirect chain that Strict cookies would not survive. Lax still
// keeps the cookie off cross-site POSTs, and every form carries a CSRF token.
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, rl realm.Realm, name, value string, maxAge int) {
	c := &http.Cookie{Name: name, Value: value, Path: h.consolePath(r, rl.Name) + "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: strings.HasPrefix(h.URLs.Base(r), "https://")}
	switch {
	case maxAge < 0:
		c.MaxAge, c.Value = -1, ""
	case maxAge > 0:
		c.MaxAge = maxAge
	}
	http.SetCookie(w, c)
}

// loginRealm loads the realm in the path; an unknown or disabled realm has
// no console.
func (h *Handler) loginRealm(r *http.Request) (realm.Realm, error) {
	rl, err := h.Store.GetRealmByName(r.Context(), r.PathValue("realm"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !rl.Enabled) {
		return realm.Realm{}, errPage(http.StatusNotFound, "Realm not found.")
	}
	return rl, err
}

// session wraps a page that needs a signed-in administrator: it reads the
// session cookie, refreshes the access token when it is about to expire,
// validates it as the admin API will, and checks the CSRF token of every
// POST. Without a session the browser is sent to the realm's login page.
func (h *Handler) session(fn func(q *rq) error) http.Handler {
	return h.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		rl, err := h.loginRealm(r)
		if err != nil {
			return err
		}
		var sess consoleSession
		ok := decodeCookie(r, cookieSession, &sess) && sess.Access != "" && sess.CSRF != ""
		if ok {
			sess, ok = h.freshen(w, r, rl, sess)
		}
		var t bearer.Token
		if ok {
			t, err = bearer.Validate(ctx, h.Store, rl, h.URLs.RealmURL(r, rl.Name), sess.Access, h.Now())
			if errors.Is(err, bearer.ErrInvalid) {
				ok = false
			} else if err != nil {
				return err
			}
		}
		if ok && t.Client.ClientID != clientID {
			ok = false // a token of another client has no business here
		}
		if !ok {
			if _, err := r.Cookie(cookieSession); err == nil {
				h.setCookie(w, r, rl, cookieSession, "", -1)
			}
			return h.startLogin(w, r, rl)
		}
		if r.Method == http.MethodPost {
			if err := checkCSRF(r, sess); err != nil {
				return err
			}
		}
		ids, err := h.Store.EffectiveRoleIDs(ctx, rl.ID, t.User.ID)
		if err != nil {
			return err
		}
		q := &rq{h: h, w: w, r: r, sess: sess, login: rl, admin: t.User, roleIDs: map[string]bool{}}
		for _, id := range ids {
			q.roleIDs[id] = true
		}
		return q.showError(fn(q))
	})
}

// showError shows a refusal as a page of the signed-in console, with the
// realm switcher and the sign-out button; other errors go on to handle.
func (q *rq) showError(err error) error {
	var pe *pageError
	var ae *apiError
	switch {
	case errors.As(err, &pe):
		if pe.Err != nil {
			q.h.Log.DebugContext(q.r.Context(), "console refused", "pattern", q.r.Pattern, "reason", pe.Msg, "err", pe.Err)
		}
	case errors.As(err, &ae):
		pe = &pageError{Status: ae.Status, Msg: ae.Message}
	default:
		return err
	}
	v := q.view("Error", "", "")
	v.Data = pe
	return q.render(pe.Status, "error.html", v)
}

// checkCSRF refuses a POST whose csrf field is not the session's token, or
// that the browser says came from another site.
func checkCSRF(r *http.Request, sess consoleSession) error {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return &pageError{Status: http.StatusForbidden, Msg: "The form was sent from another site and was refused.",
			Err: errors.New("cross-site POST")}
	}
	// A form with a file (a partial import) may be as large as the admin
	// API takes a JSON body; its files wait on disk beyond 1 MiB.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		r.Body = http.MaxBytesReader(nil, r.Body, maxImportFile+1<<20)
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return errPage(http.StatusBadRequest, "The form could not be read.")
		}
	} else {
		r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil {
			return errPage(http.StatusBadRequest, "The form could not be read.")
		}
	}
	if sess.CSRF == "" || !equalSecret(r.PostForm.Get("csrf"), sess.CSRF) {
		return &pageError{Status: http.StatusForbidden, Msg: "The form has expired. Reload the page and try again.",
			Err: errors.New("CSRF token mismatch")}
	}
	return nil
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// freshen refreshes the session's tokens when the access token is about to
// expire, and stores the new ones in the cookie. It reports false when the
// session can no longer be refreshed.
func (h *Handler) freshen(w http.ResponseWriter, r *http.Request, rl realm.Realm, sess consoleSession) (consoleSession, bool) {
	exp := tokenExpiry(sess.Access)
	if exp == 0 || exp-h.Now().Unix() > refreshMargin {
		return sess, true
	}
	if sess.Refresh == "" {
		return sess, false
	}
	var tr tokenResponse
	err := h.tokenCall(r, rl.Name, "token", url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID},
		"refresh_token": {sess.Refresh}}, &tr)
	if err != nil || tr.AccessToken == "" {
		h.Log.DebugContext(r.Context(), "console session not refreshed", "realm", rl.Name, "err", err)
		return sess, false
	}
	sess.Access = tr.AccessToken
	if tr.RefreshToken != "" {
		sess.Refresh = tr.RefreshToken
	}
	h.setCookie(w, r, rl, cookieSession, encodeCookie(sess), 0)
	return sess, true
}

// tokenExpiry reads exp from a JWT without verifying it: only to decide
// whether to refresh. Validation happens after.
func tokenExpiry(raw string) int64 {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return 0
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return 0
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	json.Unmarshal(b, &c)
	return c.Exp
}

// redirectURI is where the login page sends the browser back with a code.
func (h *Handler) redirectURI(r *http.Request, rl realm.Realm) string {
	return h.URLs.Base(r) + "/admin/" + url.PathEscape(rl.Name) + "/console/callback"
}

// startLogin sends the browser to the realm's login page, remembering the
// page it asked for. A POST without a session loses its form: the page is
// shown again after the sign-in.
func (h *Handler) startLogin(w http.ResponseWriter, r *http.Request, rl realm.Realm) error {
	st := loginState{State: randomToken(24), Verifier: randomToken(32),
		Return: basePath(h.URLs, r) + r.URL.EscapedPath()}
	if r.Method == http.MethodGet && r.URL.RawQuery != "" {
		st.Return += "?" + r.URL.RawQuery
	}
	h.setCookie(w, r, rl, cookieLogin, encodeCookie(st), loginLifespan)
	sum := sha256.Sum256([]byte(st.Verifier))
	q := url.Values{
		"client_id":             {clientID},
		"redirect_uri":          {h.redirectURI(r, rl)},
		"response_type":         {"code"},
		"response_mode":         {"query"},
		"scope":                 {"openid"},
		"state":                 {st.State},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	pageHeaders(w)
	status := http.StatusFound
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		status = http.StatusSeeOther
	}
	w.Header().Set("Location", h.URLs.RealmURL(r, rl.Name)+"/protocol/openid-connect/auth?"+q.Encode())
	w.WriteHeader(status)
	return nil
}

// callback finishes a sign-in: it checks the state against the login
// cookie, redeems the code with the PKCE verifier at the realm's token
// endpoint, and starts the console session.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loginRealm(r)
	if err != nil {
		return err
	}
	var st loginState
	if !decodeCookie(r, cookieLogin, &st) || st.State == "" {
		return errPage(http.StatusBadRequest, "The sign-in expired or was started in another browser. Open the console again to sign in.")
	}
	p := r.URL.Query()
	if !equalSecret(p.Get("state"), st.State) {
		return &pageError{Status: http.StatusBadRequest, Msg: "The sign-in was started in another window. Open the console again to sign in.",
			Err: errors.New("state mismatch")}
	}
	h.setCookie(w, r, rl, cookieLogin, "", -1)
	if e := p.Get("error"); e != "" {
		msg := "The sign-in failed: " + e
		if d := p.Get("error_description"); d != "" {
			msg += " (" + d + ")"
		}
		return errPage(http.StatusBadRequest, msg)
	}
	var tr tokenResponse
	err = h.tokenCall(r, rl.Name, "token", url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID},
		"code": {p.Get("code")}, "redirect_uri": {h.redirectURI(r, rl)}, "code_verifier": {st.Verifier}}, &tr)
	var ae *apiError
	if errors.As(err, &ae) {
		return &pageError{Status: http.StatusBadRequest, Msg: "The sign-in failed: " + ae.Message, Err: err}
	}
	if err != nil {
		return err
	}
	sess := consoleSession{Access: tr.AccessToken, Refresh: tr.RefreshToken, CSRF: randomToken(32)}
	h.setCookie(w, r, rl, cookieSession, encodeCookie(sess), 0)
	ret := st.Return
	home := h.consolePath(r, rl.Name) + "/"
	if !strings.HasPrefix(ret, home) || strings.HasPrefix(ret, home+"callback") {
		ret = home
	}
	pageHeaders(w)
	w.Header().Set("Location", ret)
	w.WriteHeader(http.StatusFound)
	return nil
}

// logout ends the administrator's session (the SSO session behind the
// tokens, as the token endpoint's logout does) and the console's cookie.
func (h *Handler) logout(q *rq) error {
	if q.sess.Refresh != "" {
		err := q.h.tokenCall(q.r, q.login.Name, "logout", url.Values{"client_id": {clientID}, "refresh_token": {q.sess.Refresh}}, nil)
		if err != nil {
			q.h.Log.DebugContext(q.r.Context(), "console logout", "realm", q.login.Name, "err", err)
		}
	}
	q.h.setCookie(q.w, q.r, q.login, cookieSession, "", -1)
	return q.redirect(q.h.consolePath(q.r, q.login.Name)+"/", "")
}

// inRealm wraps a page about the realm in {target}: the realm must exist and
// the administrator must hold some admin role over it.
func (h *Handler) inRealm(fn func(q *rq) error) func(q *rq) error {
	return func(q *rq) error {
		name := q.r.PathValue("target")
		target, err := h.Store.GetRealmByName(q.r.Context(), name)
		if errors.Is(err, store.ErrNotFound) {
			if q.login.Name != realm.MasterName && q.login.Name != name {
				return errPage(http.StatusForbidden, "You are not an administrator of this realm.")
			}
			return errPage(http.StatusNotFound, "Realm not found.")
		}
		if err != nil {
			return err
		}
		if q.perms, err = q.permissions(q.r.Context(), target); err != nil {
			return err
		}
		if len(q.perms) == 0 {
			return errPage(http.StatusForbidden, "You are not an administrator of this realm.")
		}
		q.target, q.realm = target.Name, target
		return fn(q)
	}
}

// perms are the names of the admin roles held over a realm.
type perms map[string]bool

// can reports whether the roles held grant perm, by the admin API's own
// table (role.Permits); the console uses it only to leave out buttons, never
// to allow anything.
func (p perms) can(perm string) bool { return role.Permits(p, perm) }

// permissions returns the admin roles the administrator holds over target:
// roles of master's "<target>-realm" client for master's administrators,
// of the realm's realm-management client for its own.
func (q *rq) permissions(ctx context.Context, target realm.Realm) (perms, error) {
	var realmID, clientName string
	switch {
	case q.login.Name == realm.MasterName:
		realmID, clientName = q.login.ID, provision.MasterAdminClient(target.Name)
	case q.login.ID == target.ID:
		realmID, clientName = target.ID, provision.RealmManagement
	default:
		return perms{}, nil
	}
	c, err := q.h.Store.GetClientByClientID(ctx, realmID, clientName)
	if errors.Is(err, store.ErrNotFound) {
		return perms{}, nil
	}
	if err != nil {
		return nil, err
	}
	roles, err := q.h.Store.ListClientRoles(ctx, realmID, c.ID)
	if err != nil {
		return nil, err
	}
	p := perms{}
	for _, ro := range roles {
		if q.roleIDs[ro.ID] {
			p[ro.Name] = true
		}
	}
	return p, nil
}

// canCreateRealm: master's users holding create-realm create realms.
func (q *rq) canCreateRealm() bool {
	if q.login.Name != realm.MasterName {
		return false
	}
	ro, err := q.h.Store.GetRealmRole(q.r.Context(), q.login.ID, provision.CreateRealmRole)
	return err == nil && q.roleIDs[ro.ID]
}
