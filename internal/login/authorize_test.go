package login_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
)

func TestAuthorizationErrorsWithoutRedirect(t *testing.T) {
	e := newEnv(t)
	e.addClient("two-uris", func(c *client.Client) {
		c.RedirectURIs = []string{"https://two.example/a", "https://two.example/b"}
	})
	e.addClient("off", func(c *client.Client) { c.Enabled = false; c.RedirectURIs = []string{"https://off.example/cb"} })
	base := e.url("/protocol/openid-connect/auth")
	for _, tt := range []struct {
		name, url, want string
	}{
		{"unknown client", e.codeRequest(map[string]string{"client_id": "nope"}), "Client not found."},
		{"disabled client", e.authURL(map[string]string{"client_id": "off", "response_type": "code"}), "Client disabled."},
		{"no client_id", e.codeRequest(map[string]string{"client_id": ""}), "Missing parameters: client_id"},
		{"unregistered redirect_uri", e.codeRequest(map[string]string{"redirect_uri": "https://evil.example/cb"}), "Invalid parameter: redirect_uri"},
		{"redirect_uri with another case", e.codeRequest(map[string]string{"redirect_uri": "https://app.example/CB"}), "Invalid parameter: redirect_uri"},
		{"redirect_uri with a trailing slash", e.codeRequest(map[string]string{"redirect_uri": "https://app.example/cb/"}), "Invalid parameter: redirect_uri"},
		{"redirect_uri with an extra query", e.codeRequest(map[string]string{"redirect_uri": "https://app.example/cb?x=1"}), "Invalid parameter: redirect_uri"},
		{"redirect_uri traversing out of a wildcard", e.codeRequest(map[string]string{"redirect_uri": "https://app.example/wild/../evil"}), "Invalid parameter: redirect_uri"},
		{"redirect_uri on another host", e.codeRequest(map[string]string{"redirect_uri": "https://app.example.evil.com/cb"}), "Invalid parameter: redirect_uri"},
		{"javascript redirect_uri", e.codeRequest(map[string]string{"redirect_uri": "javascript:alert(1)"}), "Invalid parameter: redirect_uri"},
		{"missing redirect_uri with two registered", e.authURL(map[string]string{"client_id": "two-uris", "response_type": "code"}), "Invalid parameter: redirect_uri"},
		{"missing redirect_uri with a wildcard registered", e.codeRequest(map[string]string{"redirect_uri": ""}), "Invalid parameter: redirect_uri"},
		{"redirect_uri twice", base + "?client_id=app&response_type=code&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&redirect_uri=https%3A%2F%2Fevil.example%2F", "Invalid parameter: redirect_uri"},
		{"client_id twice", base + "?client_id=app&client_id=app2&response_type=code&redirect_uri=https%3A%2F%2Fapp.example%2Fcb", "Invalid parameter: client_id"},
		{"state twice", e.codeRequest(nil) + "&state=other", "Invalid parameter: state"},
		{"unknown realm", e.srv.URL + "/realms/nope/protocol/openid-connect/auth?client_id=app", "Realm does not exist."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := e.browser().get(tt.url)
			want := http.StatusBadRequest
			if tt.name == "unknown realm" {
				want = http.StatusNotFound
			}
			if res.status != want || res.header.Get("Location") != "" {
				t.Fatalf("%d, Location %q", res.status, res.header.Get("Location"))
			}
			if !strings.Contains(res.body, tt.want) || !strings.Contains(res.header.Get("Content-Type"), "text/html") {
				t.Fatalf("page lacks %q: %s", tt.want, res.body)
			}
			if strings.Contains(res.body, "evil.example") {
				t.Error("the error page links to the rejected URI")
			}
		})
	}
}

func TestAuthorizationErrorsRedirected(t *testing.T) {
	e := newEnv(t)
	e.addClient("pkce", func(c *client.Client) {
		c.PublicClient = true
		c.RedirectURIs = []string{"https://pkce.example/cb"}
		c.Attributes["pkce.code.challenge.method"] = "S256"
	})
	e.addClient("implicit", func(c *client.Client) {
		c.ImplicitFlowEnabled = true
		c.RedirectURIs = []string{"https://implicit.example/cb"}
	})
	e.addClient("nostandard", func(c *client.Client) {
		c.StandardFlowEnabled = false
		c.RedirectURIs = []string{"https://nostandard.example/cb"}
	})
	challenge := s256(strings.Repeat("a", 43))
	for _, tt := range []struct {
		name  string
		over  map[string]string
		error string
		desc  string
	}{
		{"missing response_type", map[string]string{"response_type": ""}, "invalid_request", "Missing parameter: response_type"},
		{"unknown response_type", map[string]string{"response_type": "foo"}, "unsupported_response_type", ""},
		{"implicit without implicit flow", map[string]string{"response_type": "id_token token", "response_mode": "fragment"}, "unauthorized_client",
			"Client is not allowed to initiate browser login with given response_type. Implicit flow is disabled for the client."},
		{"implicit without a nonce", map[string]string{"client_id": "implicit", "redirect_uri": "https://implicit.example/cb",
			"response_type": "token", "nonce": ""}, "invalid_request", "Missing parameter: nonce"},
		{"implicit in the query", map[string]string{"client_id": "implicit", "redirect_uri": "https://implicit.example/cb",
			"response_type": "code id_token", "response_mode": "query"}, "invalid_request", "Response_mode 'query' not allowed for implicit or hybrid flow"},
		{"response_type none", map[string]string{"response_type": "none"}, "unsupported_response_type", "response_type=none is not supported"},
		{"standard flow disabled", map[string]string{"client_id": "nostandard", "redirect_uri": "https://nostandard.example/cb"}, "unauthorized_client",
			"Client is not allowed to initiate browser login with given response_type. Standard flow is disabled for the client."},
		{"unknown response_mode", map[string]string{"response_mode": "form_post.xml"}, "invalid_request", "Invalid parameter: response_mode"},
		{"unknown optional scope", map[string]string{"scope": "openid nope"}, "invalid_scope", "Invalid scopes: openid nope"},
		{"prompt none with another value", map[string]string{"prompt": "none login"}, "invalid_request", "Invalid parameter: prompt"},
		{"negative max_age", map[string]string{"max_age": "-1"}, "invalid_request", "Invalid parameter: max_age"},
		{"PKCE required but absent", map[string]string{"client_id": "pkce", "redirect_uri": "https://pkce.example/cb"},
			"invalid_request", "Missing parameter: code_challenge_method"},
		{"PKCE plain when S256 is required", map[string]string{"client_id": "pkce", "redirect_uri": "https://pkce.example/cb",
			"code_challenge": challenge, "code_challenge_method": "plain"}, "invalid_request", "Invalid parameter: code challenge method is not configured one"},
		{"PKCE method without challenge", map[string]string{"client_id": "pkce", "redirect_uri": "https://pkce.example/cb",
			"code_challenge_method": "S256"}, "invalid_request", "Missing parameter: code_challenge"},
		{"PKCE challenge too short", map[string]string{"code_challenge": "short", "code_challenge_method": "S256"},
			"invalid_request", "Invalid parameter: code_challenge"},
		{"PKCE unknown method", map[string]string{"code_challenge": challenge, "code_challenge_method": "S512"},
			"invalid_request", "Invalid parameter: invalid code_challenge_method"},
		{"prompt none without a session", map[string]string{"prompt": "none"}, "login_required", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := e.browser().get(e.codeRequest(tt.over))
			if res.status != http.StatusFound {
				t.Fatalf("%d %s", res.status, res.body)
			}
			loc := res.location(t)
			params := loc.Query()
			if loc.Fragment != "" {
				params, _ = url.ParseQuery(loc.Fragment)
			}
			if params.Get("error") != tt.error || params.Get("error_description") != tt.desc ||
				params.Get("state") != "st-123" || params.Get("iss") != e.issuer() || params.Has("code") {
				t.Fatalf("error response: %s", loc)
			}
		})
	}
	if n := len(e.sessions("alice")); n != 0 {
		t.Errorf("errors created %d sessions", n)
	}
}

func TestStateIsEchoedExactly(t *testing.T) {
	e := newEnv(t)
	state := "<script>alert('x')</script>\r\nSet-Cookie: evil=1 \"quoted\" " + strings.Repeat("s", 4000)
	res := e.browser().get(e.codeRequest(map[string]string{"state": state, "prompt": "none"}))
	loc := res.location(t)
	if got := loc.Query().Get("state"); got != state {
		t.Fatalf("state came back as %q", got)
	}
	if strings.ContainsAny(res.header.Get("Location"), "\r\n<>\" ") {
		t.Fatal("state not encoded in the Location header")
	}
	if _, ok := res.header["Set-Cookie"]; ok && strings.Contains(strings.Join(res.header["Set-Cookie"], ";"), "evil") {
		t.Fatal("header injection")
	}
}

func TestPKCEPlainWhenAllowed(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	verifier := strings.Repeat("p", 43)
	res := e.login(b, b.get(e.codeRequest(map[string]string{"code_challenge": verifier})), "alice", alicePassword)
	_, data := e.codeData(res.location(t).Query().Get("code"))
	if data.CodeChallenge != verifier || data.CodeChallengeMethod != "plain" {
		t.Errorf("a challenge without method is plain (RFC 7636 §4.3): %+v", data)
	}
	// Without PKCE both fields are empty.
	b2 := e.browser()
	res = e.login(b2, b2.get(e.codeRequest(nil)), "alice", alicePassword)
	if _, data := e.codeData(res.location(t).Query().Get("code")); data.CodeChallenge != "" || data.CodeChallengeMethod != "" {
		t.Errorf("no PKCE: %+v", data)
	}
}

func TestMissingRedirectURIWithOneRegistered(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	res := e.login(b, b.get(e.authURL(map[string]string{"client_id": "app2", "response_type": "code", "state": "s"})), "alice", alicePassword)
	loc := res.location(t)
	if loc.Scheme+"://"+loc.Host+loc.Path != "https://app2.example/cb" {
		t.Fatalf("redirected to %s", loc)
	}
	if _, data := e.codeData(loc.Query().Get("code")); data.RedirectURI != "" {
		t.Errorf("redirect_uri in code data = %q, want empty (none was given)", data.RedirectURI)
	}
}

func TestResponseModes(t *testing.T) {
	e := newEnv(t)
	t.Run("fragment", func(t *testing.T) {
		b := e.browser()
		res := e.login(b, b.get(e.codeRequest(map[string]string{"response_mode": "fragment"})), "alice", alicePassword)
		loc := res.location(t)
		f, _ := url.ParseQuery(loc.Fragment)
		if loc.RawQuery != "" || f.Get("code") == "" || f.Get("state") != "st-123" || f.Get("iss") != e.issuer() {
			t.Fatalf("fragment response: %s", loc)
		}
	})
	t.Run("form_post", func(t *testing.T) {
		b := e.browser()
		res := e.login(b, b.get(e.codeRequest(map[string]string{"response_mode": "form_post", "redirect_uri": "https://app.example/wild/x?y=1"})),
			"alice", alicePassword)
		if res.status != http.StatusOK || res.header.Get("Location") != "" {
			t.Fatalf("%d %s", res.status, res.body)
		}
		action, fields := e.form(res)
		if action != "https://app.example/wild/x?y=1" || fields.Get("code") == "" || fields.Get("state") != "st-123" ||
			fields.Get("session_state") == "" || fields.Get("iss") != e.issuer() {
			t.Fatalf("form: %s %v", action, fields)
		}
		csp := res.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'sha256-") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("form_post CSP: %q", csp)
		}
		if !strings.Contains(res.body, "<noscript>") {
			t.Error("no fallback without JavaScript")
		}
	})
}

func TestDuplicatePostParametersAreRefused(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	form := url.Values{"client_id": {"app"}, "response_type": {"code"}, "redirect_uri": {"https://app.example/cb"}}
	if res := b.post(e.url("/protocol/openid-connect/auth"), form); res.status != http.StatusOK || !strings.Contains(res.body, "kc-form-login") {
		t.Fatalf("POST authorization request: %d", res.status)
	}
	res := b.post(e.url("/protocol/openid-connect/auth")+"?redirect_uri=https%3A%2F%2Fevil.example%2F", form)
	if res.status != http.StatusBadRequest || res.header.Get("Location") != "" {
		t.Fatalf("query and body disagreeing: %d", res.status)
	}
}
