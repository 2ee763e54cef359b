package login_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

func TestSSOSecondClientWithoutForm(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	first := e.login(b, b.get(e.codeRequest(nil)), "alice", alicePassword).location(t).Query()
	sid := first.Get("session_state")
	e.codeData(first.Get("code"))
	e.clock.Add(30 * time.Second)

	res := b.get(e.authURL(map[string]string{"client_id": "app2", "redirect_uri": "https://app2.example/cb",
		"response_type": "code", "state": "two", "scope": "openid"}))
	if res.status != http.StatusFound {
		t.Fatalf("SSO showed a page: %d %s", res.status, res.body)
	}
	q := res.location(t).Query()
	if q.Get("session_state") != sid || q.Get("state") != "two" {
		t.Fatalf("SSO response: %v", q)
	}
	ac, data := e.codeData(q.Get("code"))
	if data.ACR != "0" || data.AuthTime != e.clock.Now().Unix()-30 || ac.ClientID != e.client("app2").ID {
		t.Errorf("SSO code data: %+v", data)
	}
	us, _ := e.db.GetUserSession(context.Background(), e.realm.ID, sid)
	if us.LastRefresh != e.clock.Now().Unix() {
		t.Errorf("SSO did not refresh the session: last %d", us.LastRefresh)
	}
	// The same client again reuses its client session.
	res = b.get(e.authURL(map[string]string{"client_id": "app2", "redirect_uri": "https://app2.example/cb", "response_type": "code"}))
	if _, again := e.codeData(res.location(t).Query().Get("code")); again.ClientSessionID != data.ClientSessionID {
		t.Errorf("client session not reused: %s vs %s", again.ClientSessionID, data.ClientSessionID)
	}
	// prompt=none works with the session.
	res = b.get(e.codeRequest(map[string]string{"prompt": "none"}))
	if res.location(t).Query().Get("code") == "" {
		t.Errorf("prompt=none with a session: %s", res.location(t))
	}
	// prompt=login and an exceeded max_age show the form.
	for _, over := range []map[string]string{{"prompt": "login"}, {"max_age": "0"}, {"max_age": "10"}} {
		if page := b.get(e.codeRequest(over)); page.status != http.StatusOK || !strings.Contains(page.body, "kc-form-login") {
			t.Errorf("%v did not show the form: %d", over, page.status)
		}
	}
	if page := b.get(e.codeRequest(map[string]string{"max_age": "3600"})); page.status != http.StatusFound {
		t.Errorf("a recent enough login was asked again: %d", page.status)
	}
	// A form login with prompt=login gives a new session with a new auth_time.
	e.clock.Add(time.Minute)
	res = e.login(b, b.get(e.codeRequest(map[string]string{"prompt": "login"})), "alice", alicePassword)
	q = res.location(t).Query()
	if _, d := e.codeData(q.Get("code")); d.ACR != "1" || d.AuthTime != e.clock.Now().Unix() || q.Get("session_state") == sid {
		t.Errorf("re-authentication: %+v, session %s", d, q.Get("session_state"))
	}
}

func TestSSOCookieChecks(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	q := e.login(b, b.get(e.codeRequest(nil)), "alice", alicePassword).location(t).Query()
	sid := q.Get("session_state")
	identity := b.cookie(e, "KEYCLOAK_IDENTITY")

	withCookie := func(value string) response {
		nb := e.browser()
		u, _ := url.Parse(e.url("/"))
		nb.jar.SetCookies(u, []*http.Cookie{{Name: "KEYCLOAK_IDENTITY", Value: value, Path: "/realms/demo/"}})
		return nb.get(e.codeRequest(map[string]string{"prompt": "none"}))
	}
	if withCookie(identity).location(t).Query().Get("code") == "" {
		t.Fatal("the identity cookie alone should give SSO")
	}
	tampered := identity[:len(identity)-4] + "AAAA"
	if withCookie(tampered).location(t).Query().Get("error") != "login_required" {
		t.Error("tampered identity cookie accepted")
	}
	// A session that ended is not revived by its cookie.
	if err := e.db.DeleteUserSession(context.Background(), e.realm.ID, sid); err != nil {
		t.Fatal(err)
	}
	if withCookie(identity).location(t).Query().Get("error") != "login_required" {
		t.Error("cookie of an ended session accepted")
	}
}

func TestSSOIdleTimeout(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.login(b, b.get(e.codeRequest(nil)), "alice", alicePassword)
	e.clock.Add(time.Duration(e.realm.SSOSessionIdleTimeout+1) * time.Second)
	if res := b.get(e.codeRequest(map[string]string{"prompt": "none"})); res.location(t).Query().Get("error") != "login_required" {
		t.Errorf("idle session reused: %s", res.location(t))
	}
}

func TestAnotherUserOnTheSameBrowserEndsThePreviousSession(t *testing.T) {
	e := newEnv(t)
	e.addUser("bob", "bob-pw", nil)
	b := e.browser()
	e.login(b, b.get(e.codeRequest(nil)), "alice", alicePassword)
	res := e.login(b, b.get(e.codeRequest(map[string]string{"prompt": "login"})), "bob", "bob-pw")
	if res.status != http.StatusFound {
		t.Fatal(res.body)
	}
	if n := len(e.sessions("alice")); n != 0 {
		t.Errorf("alice keeps %d sessions after bob logged in on her browser", n)
	}
}

func TestRememberMe(t *testing.T) {
	e := newEnv(t, func(r *realm.Realm) { r.SSOSessionMaxLifespanRememberMe = 7 * 24 * 3600 })
	b := e.browser()
	page := b.get(e.codeRequest(nil))
	action, fields := e.form(page)
	fields.Set("username", "alice")
	fields.Set("password", alicePassword)
	fields.Set("rememberMe", "on")
	res := b.post(action, fields)
	sid := res.location(t).Query().Get("session_state")
	us, _ := e.db.GetUserSession(context.Background(), e.realm.ID, sid)
	if !us.RememberMe {
		t.Error("session not remembered")
	}
	if c := setCookies(res)["KEYCLOAK_IDENTITY"]; c == nil || c.MaxAge != 7*24*3600 {
		t.Errorf("remember-me identity cookie: %+v", c)
	}
}

func TestOfflineSessionIsNotAnSSOSession(t *testing.T) {
	e := newEnv(t)
	u := e.user("alice")
	off := session.UserSession{ID: store.NewID(), RealmID: e.realm.ID, UserID: u.ID, Offline: true,
		Started: e.clock.Now().Unix(), LastRefresh: e.clock.Now().Unix(), AuthTime: e.clock.Now().Unix()}
	if err := e.db.CreateUserSession(context.Background(), off); err != nil {
		t.Fatal(err)
	}
	for name, cookie := range map[string]string{
		"an ID token": e.idToken("app", u.ID, off.ID),
		"an identity token of an offline session": e.identityToken(u.ID, off.ID),
	} {
		b := e.browser()
		u2, _ := url.Parse(e.url("/"))
		b.jar.SetCookies(u2, []*http.Cookie{{Name: "KEYCLOAK_IDENTITY", Value: cookie, Path: "/realms/demo/"}})
		if res := b.get(e.codeRequest(map[string]string{"prompt": "none"})); res.location(t).Query().Get("error") != "login_required" {
			t.Errorf("%s was taken as the identity cookie", name)
		}
	}
	// The same token for an online session works, so the refusals above
	// are for the reasons named.
	online := off
	online.ID, online.Offline = store.NewID(), false
	if err := e.db.CreateUserSession(context.Background(), online); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	u2, _ := url.Parse(e.url("/"))
	b.jar.SetCookies(u2, []*http.Cookie{{Name: "KEYCLOAK_IDENTITY", Value: e.identityToken(u.ID, online.ID), Path: "/realms/demo/"}})
	if res := b.get(e.codeRequest(map[string]string{"prompt": "none"})); res.location(t).Query().Get("code") == "" {
		t.Errorf("identity token of an online session refused: %s", res.location(t))
	}
}

func TestRelativePath(t *testing.T) {
	e := newEnvURLs(t, web.URLs{RelativePath: "/auth"})
	b := e.browser()
	page := b.get(e.codeRequest(nil))
	if page.status != http.StatusOK {
		t.Fatalf("%d %s", page.status, page.body)
	}
	action, _ := e.form(page)
	if !strings.HasPrefix(action, e.srv.URL+"/auth/realms/demo/login-actions/authenticate?") {
		t.Errorf("form action %s", action)
	}
	if c := setCookies(page)[cookieAuthSession]; c == nil || c.Path != "/auth/realms/demo/" {
		t.Errorf("AUTH_SESSION_ID path: %+v", c)
	}
	if css := cssPath(t, page.body); !strings.HasPrefix(css, "/auth/resources/") || b.get(e.srv.URL+css).status != http.StatusOK {
		t.Errorf("stylesheet %s", css)
	}
	res := e.login(b, page, "alice", alicePassword)
	if q := res.location(t).Query(); q.Get("iss") != e.srv.URL+"/auth/realms/demo" || q.Get("code") == "" {
		t.Fatalf("response: %s", res.location(t))
	}
	if c := setCookies(res)["KEYCLOAK_IDENTITY"]; c == nil || c.Path != "/auth/realms/demo/" {
		t.Errorf("identity cookie path: %+v", c)
	}
	if res := b.get(e.codeRequest(map[string]string{"prompt": "none"})); res.location(t).Query().Get("code") == "" {
		t.Error("SSO under the relative path failed")
	}
}

func TestCookiesOverHTTPS(t *testing.T) {
	host, _ := web.ParseHostname("https://id.example")
	e := newEnvURLs(t, web.URLs{Hostname: host})
	page := e.browser().get(e.srv.URL + "/realms/demo/protocol/openid-connect/auth?client_id=app&response_type=code&redirect_uri=https%3A%2F%2Fapp.example%2Fcb")
	c := setCookies(page)[cookieAuthSession]
	if c == nil || !c.Secure || c.SameSite != http.SameSiteNoneMode || !c.HttpOnly {
		t.Fatalf("AUTH_SESSION_ID over https: %+v", c)
	}
	if !strings.Contains(page.header.Get("Strict-Transport-Security"), "max-age=") {
		t.Error("no HSTS")
	}
}
