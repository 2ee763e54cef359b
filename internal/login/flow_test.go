package login_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

func TestLoginIssuesCodeForTheTokenEndpoint(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	verifier := strings.Repeat("v", 50)
	page := b.get(e.codeRequest(map[string]string{"code_challenge": s256(verifier), "code_challenge_method": "S256"}))
	if page.status != http.StatusOK || !strings.Contains(page.body, "Sign in to your account") || !strings.Contains(page.body, "Demo Realm") {
		t.Fatalf("login page: %d %s", page.status, page.body)
	}
	for _, want := range []string{`<label for="username">Username or email</label>`, `<label for="password">Password</label>`,
		`autocomplete="current-password"`, `name="rememberMe"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	action, _ := e.form(page)
	if !strings.HasPrefix(action, e.url("/login-actions/authenticate?session_code=")) ||
		!strings.Contains(action, "&client_id=app&tab_id=") {
		t.Errorf("form action = %s", action)
	}
	auth := setCookies(page)[cookieAuthSession]
	if auth == nil || !auth.HttpOnly || auth.Path != "/realms/demo/" || auth.SameSite != http.SameSiteLaxMode || auth.Secure {
		t.Errorf("AUTH_SESSION_ID cookie over http: %+v", auth)
	}

	before := e.clock.Now().Unix()
	res := e.login(b, page, "alice", alicePassword)
	if res.status != http.StatusFound {
		t.Fatalf("login: %d %s", res.status, res.body)
	}
	loc := res.location(t)
	if loc.Scheme+"://"+loc.Host+loc.Path != "https://app.example/cb" {
		t.Fatalf("redirected to %s", loc)
	}
	q := loc.Query()
	if q.Get("state") != "st-123" || q.Get("iss") != e.issuer() || q.Get("code") == "" || q.Get("session_state") == "" {
		t.Fatalf("authorization response: %s", loc.RawQuery)
	}
	// Keycloak's parameter order: state, session_state, iss, code.
	if !strings.HasPrefix(loc.RawQuery, "state=") || !strings.Contains(loc.RawQuery, "&iss=") ||
		strings.Index(loc.RawQuery, "session_state=") > strings.Index(loc.RawQuery, "code=") {
		t.Errorf("response parameters out of order: %s", loc.RawQuery)
	}
	if len(q.Get("code")) != 43 {
		t.Errorf("code %q is not 32 random bytes in base64url", q.Get("code"))
	}
	sid := q.Get("session_state")

	cookies := setCookies(res)
	id := cookies["KEYCLOAK_IDENTITY"]
	if id == nil || !id.HttpOnly || id.Path != "/realms/demo/" || id.MaxAge != 0 {
		t.Errorf("KEYCLOAK_IDENTITY: %+v", id)
	}
	ks := cookies["KEYCLOAK_SESSION"]
	if ks == nil || ks.HttpOnly || ks.Value != sessionHash(sid) || ks.MaxAge != e.realm.SSOSessionMaxLifespan || ks.Path != "/realms/demo/" {
		t.Errorf("KEYCLOAK_SESSION: %+v", ks)
	}

	ac, data := e.codeData(q.Get("code"))
	app := e.client("app")
	if ac.ClientID != app.ID || ac.UserSessionID != sid || ac.ExpiresAt != before+int64(e.realm.AccessCodeLifespan) {
		t.Errorf("auth code: %+v", ac)
	}
	var raw map[string]any
	json.Unmarshal([]byte(ac.Data), &raw)
	var names []string
	for k := range raw {
		names = append(names, k)
	}
	slices.Sort(names)
	if want := []string{"acr", "auth_time", "client_session_id", "code_challenge", "code_challenge_method", "nonce",
		"redirect_uri", "scope", "state"}; !slices.Equal(names, want) {
		t.Errorf("code data members = %v, want %v", names, want)
	}
	if data.RedirectURI != "https://app.example/cb" || data.Scope != "openid profile" || data.Nonce != "n-456" ||
		data.CodeChallenge != s256(verifier) || data.CodeChallengeMethod != "S256" || data.ACR != "1" ||
		data.AuthTime != before || data.State != "st-123" {
		t.Errorf("code data: %+v", data)
	}
	us, err := e.db.GetUserSession(context.Background(), e.realm.ID, sid)
	if err != nil || us.UserID != e.user("alice").ID || us.AuthMethod != "openid-connect" || us.AuthTime != before || us.Offline || us.RememberMe {
		t.Fatalf("user session: %+v %v", us, err)
	}
	cs, err := e.db.GetClientSession(context.Background(), sid, app.ID)
	if err != nil || cs.ID != data.ClientSessionID {
		t.Fatalf("client session %+v (%v), code names %s", cs, err, data.ClientSessionID)
	}
	// The code is single use.
	if _, fresh, _ := e.db.RedeemAuthCode(context.Background(), e.realm.ID, q.Get("code"), e.clock.Now().Unix()); fresh {
		t.Error("code redeemed twice")
	}
	// The login in progress is gone: posting the form again logs nobody in.
	again := e.login(b, page, "alice", alicePassword)
	if again.status == http.StatusFound || len(e.sessions("alice")) != 1 {
		t.Errorf("replayed form: %d, sessions %d", again.status, len(e.sessions("alice")))
	}
	// No secret reaches the log.
	for _, secret := range []string{alicePassword, q.Get("code"), verifier} {
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("log contains a secret %q", secret)
		}
	}
}

func TestLoginPageSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	page := e.browser().get(e.codeRequest(nil))
	h := page.header
	csp := h.Values("Content-Security-Policy")
	if len(csp) == 0 || !strings.Contains(csp[0], "default-src 'self'") || !strings.Contains(csp[0], "frame-ancestors 'self'") ||
		!strings.Contains(csp[0], "object-src 'none'") {
		t.Errorf("CSP: %q", csp)
	}
	if len(csp) < 2 || csp[1] != realm.DefaultSecurityHeaders()["contentSecurityPolicy"] {
		t.Errorf("realm CSP not sent: %q", csp)
	}
	for name, want := range map[string]string{
		"X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
		"X-Robots-Tag": "none", "Content-Type": "text/html; charset=utf-8",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if !strings.Contains(h.Get("Cache-Control"), "no-store") {
		t.Errorf("Cache-Control = %q", h.Get("Cache-Control"))
	}
	// The page's stylesheet is served.
	css := e.browser().get(e.srv.URL + cssPath(t, page.body))
	if css.status != 200 || !strings.Contains(css.header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", css.status, css.header.Get("Content-Type"))
	}
}

func cssPath(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, `<link rel="stylesheet" href="`)
	if i < 0 {
		t.Fatal("no stylesheet link")
	}
	rest := body[i+len(`<link rel="stylesheet" href="`):]
	return rest[:strings.Index(rest, `"`)]
}

func TestRealmSecurityHeadersApply(t *testing.T) {
	e := newEnv(t, func(r *realm.Realm) {
		r.BrowserSecurityHeaders = realm.DefaultSecurityHeaders()
		r.BrowserSecurityHeaders["xFrameOptions"] = "DENY"
		r.BrowserSecurityHeaders["contentSecurityPolicy"] = "frame-ancestors 'none'"
	})
	page := e.browser().get(e.codeRequest(nil))
	if page.header.Get("X-Frame-Options") != "DENY" || !slices.Contains(page.header.Values("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("realm headers ignored: %v", page.header)
	}
}

func TestWrongPasswordShowsTheFormAgain(t *testing.T) {
	e := newEnv(t)
	e.addUser("dora", "dora-pw", func(u *realmUser) { u.Enabled = false })
	for _, tt := range []struct{ name, username, password string }{
		{"wrong password", "alice", "not-her-password"},
		{"unknown user", "nobody", "whatever-pw"},
		{"disabled user with the right password", "dora", "dora-pw"},
		{"empty password", "alice", ""},
		{"oversized password", "alice", strings.Repeat("x", 4096)},
		{"NUL in the username", "ali\x00ce", alicePassword},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := e.browser()
			res := e.login(b, b.get(e.codeRequest(nil)), tt.username, tt.password)
			if res.status != http.StatusOK || !strings.Contains(res.body, "Invalid username or password.") {
				t.Fatalf("%d %s", res.status, res.body)
			}
			if tt.password != "" && strings.Contains(res.body, tt.password) {
				t.Error("the password is echoed")
			}
			if !strings.Contains(res.body, `role="alert"`) || !strings.Contains(res.body, `aria-invalid="true"`) {
				t.Error("the error is not announced")
			}
			if setCookies(res)["KEYCLOAK_IDENTITY"] != nil {
				t.Error("a failed login set the identity cookie")
			}
			// The form works again afterwards.
			ok := e.login(b, res, "alice", alicePassword)
			if ok.status != http.StatusFound || ok.location(t).Query().Get("code") == "" {
				t.Fatalf("retry: %d %s", ok.status, ok.body)
			}
		})
	}
	if n := len(e.sessions("dora")); n != 0 {
		t.Errorf("disabled user got %d sessions", n)
	}
}

func TestUsernameIsEchoedEscaped(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	res := e.login(b, b.get(e.codeRequest(map[string]string{"login_hint": `<svg onload=alert(1)>`})), `"><script>x</script>`, "pw")
	if strings.Contains(res.body, "<script>x") || !strings.Contains(res.body, "&#34;&gt;&lt;script&gt;x&lt;/script&gt;") {
		t.Errorf("username not escaped: %s", res.body)
	}
	page := b.get(e.codeRequest(map[string]string{"login_hint": `<svg onload=alert(1)>`}))
	if strings.Contains(page.body, "<svg") || !strings.Contains(page.body, `value="&lt;svg onload=alert(1)&gt;"`) {
		t.Errorf("login_hint not escaped or not prefilled: %s", page.body)
	}
}

func TestLoginCSRF(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	page := b.get(e.codeRequest(nil))
	action, fields := e.form(page)
	other := e.browser()
	other.get(e.codeRequest(nil))
	if other.cookie(e, cookieAuthSession) == "" || other.cookie(e, cookieAuthSession) == b.cookie(e, cookieAuthSession) {
		t.Fatal("the second browser has no AUTH_SESSION_ID of its own")
	}
	form := func(edit func(url.Values)) url.Values {
		f := url.Values{}
		for k, v := range fields {
			f[k] = v
		}
		f.Set("username", "alice")
		f.Set("password", alicePassword)
		edit(f)
		return f
	}
	tests := []struct {
		name string
		b    *browser
		url  string
		form url.Values
	}{
		{"no CSRF token", b, action, form(func(f url.Values) { f.Del("csrf_token") })},
		{"wrong CSRF token", b, action, form(func(f url.Values) { f.Set("csrf_token", "forged") })},
		{"CSRF token twice", b, action, form(func(f url.Values) { f.Add("csrf_token", "forged") })},
		{"a browser without AUTH_SESSION_ID", e.browser(), action, form(func(url.Values) {})},
		// Login CSRF: an attacker's form (its session_code and token) posted
		// from the victim's browser, which has its own login in progress.
		{"another browser's AUTH_SESSION_ID", other, action, form(func(url.Values) {})},
		{"wrong tab", b, strings.Replace(action, "tab_id=", "tab_id=x", 1), form(func(url.Values) {})},
		{"unknown session_code", b, strings.Replace(action, "session_code=", "session_code=x", 1), form(func(url.Values) {})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.b.post(tt.url, tt.form)
			if res.status != http.StatusBadRequest || res.header.Get("Location") != "" {
				t.Fatalf("%d %s", res.status, res.body)
			}
			if n := len(e.sessions("alice")); n != 0 {
				t.Fatalf("a refused form created %d sessions", n)
			}
		})
	}
	// The real form still works.
	if res := b.post(action, form(func(url.Values) {})); res.status != http.StatusFound {
		t.Fatalf("genuine form: %d %s", res.status, res.body)
	}
}

func TestLocale(t *testing.T) {
	e := newEnv(t, func(r *realm.Realm) {
		r.InternationalizationEnabled = true
		r.SupportedLocales = []string{"en", "de"}
	})
	page := e.browser().get(e.codeRequest(map[string]string{"ui_locales": "fr de"}))
	if !strings.Contains(page.body, "Bei Ihrem Konto anmelden") || !strings.Contains(page.body, `<html lang="de">`) {
		t.Errorf("ui_locales=de ignored: %s", page.body)
	}
	req, _ := http.NewRequest("GET", e.codeRequest(nil), nil)
	req.Header.Set("Accept-Language", "de-CH, en;q=0.5")
	if res := e.browser().do(req); !strings.Contains(res.body, "Bei Ihrem Konto anmelden") {
		t.Errorf("Accept-Language ignored")
	}
	// A realm without internationalization speaks English.
	plain := newEnv(t)
	if res := plain.browser().get(plain.codeRequest(map[string]string{"ui_locales": "de"})); !strings.Contains(res.body, "Sign in to your account") {
		t.Errorf("i18n off: %s", res.body)
	}
}
