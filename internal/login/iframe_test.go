package login_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
)

// inlineScriptAllowed checks that a page's one inline script is exactly
// the one its CSP allows by hash.
func inlineScriptAllowed(t *testing.T, res response) {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script>(.*)</script>`).FindStringSubmatch(res.body)
	if m == nil {
		t.Fatalf("no inline script: %s", res.body)
	}
	sum := sha256.Sum256([]byte(m[1]))
	want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	csp := res.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src "+want) || strings.Contains(csp, "unsafe") {
		t.Fatalf("CSP %q does not allow the script by its hash %s", csp, want)
	}
	if res.header.Get("X-Frame-Options") != "" || strings.Contains(csp, "frame-ancestors") {
		t.Errorf("an application cannot frame this page: %v", res.header)
	}
}

func TestLoginStatusIframe(t *testing.T) {
	e := newEnv(t)
	e.addClient("spa", func(c *client.Client) {
		c.PublicClient = true
		c.RedirectURIs = []string{"https://spa.example/app/*"}
		c.WebOrigins = []string{"+"}
	})
	e.addClient("listed", func(c *client.Client) {
		c.RedirectURIs = []string{"https://listed.example/cb"}
		c.WebOrigins = []string{"https://other.example"}
	})
	page := e.browser().get(e.url("/protocol/openid-connect/login-status-iframe.html"))
	if page.status != http.StatusOK || !strings.Contains(page.body, "KEYCLOAK_SESSION") {
		t.Fatalf("%d %s", page.status, page.body)
	}
	inlineScriptAllowed(t, page)
	if !strings.Contains(page.header.Get("Content-Security-Policy"), "connect-src 'self'") {
		t.Error("the iframe cannot ask the server")
	}
	init := e.url("/protocol/openid-connect/login-status-iframe.html/init")
	for _, tt := range []struct {
		query string
		want  int
	}{
		{"client_id=spa&origin=https%3A%2F%2Fspa.example", http.StatusNoContent},
		{"client_id=spa&origin=https%3A%2F%2Fevil.example", http.StatusForbidden},
		{"client_id=listed&origin=https%3A%2F%2Fother.example", http.StatusNoContent},
		{"client_id=listed&origin=https%3A%2F%2Flisted.example", http.StatusForbidden},
		{"client_id=spa&origin=" + strings.ReplaceAll(e.srv.URL, ":", "%3A"), http.StatusNoContent},
		{"client_id=nope&origin=https%3A%2F%2Fspa.example", http.StatusForbidden},
		{"client_id=spa", http.StatusForbidden},
		{"client_id=spa&origin=https%3A%2F%2Fspa.example&origin=https%3A%2F%2Fevil.example", http.StatusForbidden},
	} {
		if res := e.browser().get(init + "?" + tt.query); res.status != tt.want {
			t.Errorf("init?%s = %d, want %d", tt.query, res.status, tt.want)
		}
	}
}

func TestThirdPartyCookieCheck(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	step1 := b.get(e.url("/protocol/openid-connect/3p-cookies/step1.html"))
	if step1.status != http.StatusFound || step1.header.Get("Location") != "step2.html" {
		t.Fatalf("step1: %d %q", step1.status, step1.header.Get("Location"))
	}
	if c := setCookies(step1)["KEYCLOAK_3P_COOKIE"]; c == nil || c.Path != "/realms/demo/" {
		t.Fatalf("test cookie: %+v", c)
	}
	step2 := b.get(e.url("/protocol/openid-connect/3p-cookies/step2.html"))
	if step2.status != http.StatusOK || !strings.Contains(step2.body, `data-result="supported"`) {
		t.Fatalf("step2 with the cookie: %s", step2.body)
	}
	inlineScriptAllowed(t, step2)
	// A browser that blocked the cookie.
	if res := e.browser().get(e.url("/protocol/openid-connect/3p-cookies/step2.html")); !strings.Contains(res.body, `data-result="unsupported"`) {
		t.Fatalf("step2 without the cookie: %s", res.body)
	}
}

func TestSessionCookieMatchesTheIframeCheck(t *testing.T) {
	e := newEnv(t)
	b, sid := e.loggedIn()
	// The iframe compares base64url(SHA-256(session id)) with this cookie.
	if got := b.cookie(e, "KEYCLOAK_SESSION"); got != sessionHash(sid) {
		t.Fatalf("KEYCLOAK_SESSION = %q, want the hash of %s", got, sid)
	}
	if strings.Contains(b.cookie(e, "KEYCLOAK_SESSION"), sid) {
		t.Fatal("the script-readable cookie holds the session id")
	}
}
