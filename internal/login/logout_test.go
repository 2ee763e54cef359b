package login_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// loggedIn logs alice in to app with a fresh browser and returns it with
// the session id.
func (e *env) loggedIn() (*browser, string) {
	e.t.Helper()
	b := e.browser()
	q := e.login(b, b.get(e.codeRequest(nil)), "alice", alicePassword).location(e.t).Query()
	e.codeData(q.Get("code"))
	return b, q.Get("session_state")
}

func (e *env) sessionAlive(sid string) bool {
	_, err := e.db.GetUserSession(context.Background(), e.realm.ID, sid)
	return err == nil
}

func (e *env) logoutURL(params map[string]string) string {
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	return e.url("/protocol/openid-connect/logout") + "?" + q.Encode()
}

func TestLogoutWithIDTokenHint(t *testing.T) {
	e := newEnv(t)
	b, sid := e.loggedIn()
	// An offline session of the same user survives the logout.
	off := session.UserSession{ID: store.NewID(), RealmID: e.realm.ID, UserID: e.user("alice").ID, Offline: true,
		Started: e.clock.Now().Unix(), LastRefresh: e.clock.Now().Unix(), AuthTime: e.clock.Now().Unix()}
	if err := e.db.CreateUserSession(context.Background(), off); err != nil {
		t.Fatal(err)
	}
	hint := e.idToken("app", e.user("alice").ID, sid)
	res := b.get(e.logoutURL(map[string]string{"id_token_hint": hint,
		"post_logout_redirect_uri": "https://app.example/bye", "state": "bye-state"}))
	if res.status != http.StatusFound || res.header.Get("Location") != "https://app.example/bye?state=bye-state" {
		t.Fatalf("logout: %d %q %s", res.status, res.header.Get("Location"), res.body)
	}
	if e.sessionAlive(sid) {
		t.Error("SSO session not ended")
	}
	if !e.sessionAlive(off.ID) {
		t.Error("offline session ended by a browser logout")
	}
	c := setCookies(res)
	for _, name := range []string{"KEYCLOAK_IDENTITY", "KEYCLOAK_SESSION"} {
		if c[name] == nil || c[name].MaxAge >= 0 || c[name].Path != "/realms/demo/" {
			t.Errorf("%s not expired: %+v", name, c[name])
		}
	}
	// The old identity cookie no longer logs anybody in: the form is back.
	if page := b.get(e.codeRequest(nil)); page.status != http.StatusOK || !strings.Contains(page.body, "kc-form-login") {
		t.Errorf("after logout: %d", page.status)
	}
}

func TestLogoutWithHintAndNoRedirect(t *testing.T) {
	e := newEnv(t)
	b, sid := e.loggedIn()
	res := b.get(e.logoutURL(map[string]string{"id_token_hint": e.idToken("app", e.user("alice").ID, sid)}))
	if res.status != http.StatusOK || !strings.Contains(res.body, "You are logged out") || e.sessionAlive(sid) {
		t.Fatalf("%d %s", res.status, res.body)
	}
}

func TestLogoutRefusals(t *testing.T) {
	e := newEnv(t)
	b, sid := e.loggedIn()
	alice := e.user("alice").ID
	hint := e.idToken("app", alice, sid)
	other := newEnv(t) // another realm's key signs this one
	otherHint := other.idToken("app", alice, sid)
	for _, tt := range []struct {
		name   string
		params map[string]string
		want   string
	}{
		{"tampered hint", map[string]string{"id_token_hint": hint[:len(hint)-6] + "AAAAAA"}, "Invalid parameter: id_token_hint"},
		{"another realm's hint", map[string]string{"id_token_hint": otherHint}, "Invalid parameter: id_token_hint"},
		{"hint of another client than client_id", map[string]string{"id_token_hint": hint, "client_id": "app2"}, "Invalid parameter: id_token_hint"},
		{"unregistered post-logout URI", map[string]string{"id_token_hint": hint, "post_logout_redirect_uri": "https://evil.example/"}, "Invalid redirect uri"},
		{"near-miss post-logout URI", map[string]string{"id_token_hint": hint, "post_logout_redirect_uri": "https://app.example/bye/"}, "Invalid redirect uri"},
		{"login redirect URI is not a post-logout one", map[string]string{"id_token_hint": hint, "post_logout_redirect_uri": "https://app.example/cb"}, "Invalid redirect uri"},
		{"post-logout URI without client", map[string]string{"post_logout_redirect_uri": "https://app.example/bye"}, "Missing parameters: id_token_hint"},
		{"post-logout URI of an unknown client", map[string]string{"client_id": "nope", "post_logout_redirect_uri": "https://app.example/bye"}, "Invalid redirect uri"},
		{"legacy redirect_uri", map[string]string{"redirect_uri": "https://app.example/bye"}, "Invalid parameter: redirect_uri"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := b.get(e.logoutURL(tt.params))
			if res.status != http.StatusBadRequest || res.header.Get("Location") != "" || !strings.Contains(res.body, tt.want) {
				t.Fatalf("%d %q %s", res.status, res.header.Get("Location"), res.body)
			}
			if !e.sessionAlive(sid) {
				t.Fatal("session ended by a refused logout")
			}
		})
	}
}

func TestLogoutWithoutHintAsksFirst(t *testing.T) {
	e := newEnv(t)
	b, sid := e.loggedIn()
	page := b.get(e.logoutURL(map[string]string{"client_id": "app", "post_logout_redirect_uri": "https://app.example/bye", "state": "s1"}))
	if page.status != http.StatusOK || !strings.Contains(page.body, "Do you want to log out?") {
		t.Fatalf("no confirmation page: %d %s", page.status, page.body)
	}
	if !e.sessionAlive(sid) {
		t.Fatal("a GET without id_token_hint ended the session")
	}
	if page.header.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Error("confirmation page can be framed")
	}
	action, fields := e.form(page)
	fields.Set("confirmLogout", "yes")
	noToken := url.Values{"confirmLogout": {"yes"}}
	if res := b.post(action, noToken); res.status != http.StatusBadRequest || !e.sessionAlive(sid) {
		t.Fatalf("confirmation without CSRF token: %d", res.status)
	}
	if res := e.browser().post(action, fields); res.status != http.StatusBadRequest || !e.sessionAlive(sid) {
		t.Fatalf("confirmation from a browser without cookies: %d", res.status)
	}
	other, _ := e.loggedIn()
	if res := other.post(action, fields); res.status != http.StatusBadRequest || !e.sessionAlive(sid) {
		t.Fatalf("confirmation from another browser: %d", res.status)
	}
	res := b.post(action, fields)
	if res.status != http.StatusFound || res.header.Get("Location") != "https://app.example/bye?state=s1" || e.sessionAlive(sid) {
		t.Fatalf("confirmed logout: %d %q", res.status, res.header.Get("Location"))
	}
}

func TestLogoutWithoutAnyParameter(t *testing.T) {
	e := newEnv(t)
	b, sid := e.loggedIn()
	page := b.get(e.logoutURL(nil))
	action, fields := e.form(page)
	fields.Set("confirmLogout", "yes")
	res := b.post(action, fields)
	if res.status != http.StatusOK || !strings.Contains(res.body, "You are logged out") || e.sessionAlive(sid) {
		t.Fatalf("%d %s", res.status, res.body)
	}
}

func TestLogoutWithoutSessionRedirectsAtOnce(t *testing.T) {
	e := newEnv(t)
	res := e.browser().get(e.logoutURL(map[string]string{"client_id": "app2", "post_logout_redirect_uri": "https://app2.example/cb"}))
	if res.status != http.StatusFound || res.header.Get("Location") != "https://app2.example/cb" {
		t.Fatalf("%d %q", res.status, res.header.Get("Location"))
	}
}

func TestLogoutHintOfAnotherSessionAsks(t *testing.T) {
	e := newEnv(t)
	b, sid := e.loggedIn()
	_, other := e.loggedIn()
	page := b.get(e.logoutURL(map[string]string{"id_token_hint": e.idToken("app", e.user("alice").ID, other)}))
	if page.status != http.StatusOK || !strings.Contains(page.body, "Do you want to log out?") {
		t.Fatalf("%d %s", page.status, page.body)
	}
	if !e.sessionAlive(sid) || !e.sessionAlive(other) {
		t.Fatal("a session ended before confirmation")
	}
}
