package client

import (
	"testing"
)

func TestRedirectURIMatching(t *testing.T) {
	rules := newRedirectRules([]string{
		"https://app.example/cb",
		"https://app.example/wild/*",
		"https://host.example*",
		"/relative/*",
		"http://127.0.0.1/native",
		"http://localhost/loop",
		"com.example.app:/oauth2redirect",
		"https://q.example/cb?tenant=1",
	}, "https://root.example", "https://id.example")
	tests := []struct {
		name  string
		given string
		ok    bool
	}{
		{"exact match", "https://app.example/cb", true},
		{"case change in the path is another URI", "https://app.example/CB", false},
		{"case change in the host is refused too (exact text)", "https://APP.example/cb", false},
		{"scheme case change is refused", "HTTPS://app.example/cb", false},
		{"trailing slash is another URI", "https://app.example/cb/", false},
		{"extra query on an exact URI", "https://app.example/cb?x=1", false},
		{"fragment", "https://app.example/cb#f", false},
		{"dot-dot traversal", "https://app.example/cb/../evil", false},
		{"encoded dot-dot traversal", "https://app.example/wild/%2e%2e/evil", false},
		{"encoded slash", "https://app.example/wild/a%2Fb", false},
		{"encoded slash in a path Go re-escapes", "https://app.example/wild/a%2Fb\"", false},
		{"single dot segment", "https://app.example/wild/./x", false},
		{"other host", "https://evil.example/cb", false},
		{"suffix host", "https://app.example.evil.com/cb", false},
		{"user info", "https://app.example@evil.com/cb", false},
		{"backslash", `https://evil.com\@app.example/cb`, false},
		{"other port", "https://app.example:444/cb", false},
		{"http downgrade", "http://app.example/cb", false},
		{"javascript scheme", "javascript:alert(1)", false},
		{"javascript scheme, upper case", "JavaScript:alert(1)", false},
		{"data scheme", "data:text/html,<script>alert(1)</script>", false},
		{"space", "https://app.example/cb x", false},
		{"CRLF", "https://app.example/cb\r\nSet-Cookie: x=1", false},
		{"empty", "", false},
		{"wildcard below the prefix", "https://app.example/wild/page", true},
		{"wildcard with a query", "https://app.example/wild/page?a=b", true},
		{"wildcard prefix itself without slash", "https://app.example/wild", true},
		{"wildcard does not match a sibling path", "https://app.example/wildcard", false},
		{"wildcard ending in the host stays on the host", "https://host.example/anything", true},
		{"wildcard ending in the host refuses a longer host", "https://host.example.evil.com/x", false},
		{"wildcard ending in the host refuses another port", "https://host.example:8443/x", false},
		{"relative URI resolved against the root URL", "https://root.example/relative/x", true},
		{"relative URI is not resolved against another host", "https://id.example/relative/x", false},
		{"given relative URI", "/relative/x", false},
		{"loopback with any port", "http://127.0.0.1:53111/native", true},
		{"loopback with another path", "http://127.0.0.1:53111/other", false},
		{"localhost with any port", "http://localhost:8123/loop", true},
		{"loopback exception is not for other hosts", "http://127.0.0.2:80/native", false},
		{"custom scheme, exact", "com.example.app:/oauth2redirect", true},
		{"custom scheme, other path", "com.example.app:/other", false},
		{"registered query, exact", "https://q.example/cb?tenant=1", true},
		{"registered query, another value", "https://q.example/cb?tenant=2", false},
		{"registered query, extra parameter", "https://q.example/cb?tenant=1&x=1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := rules.Match(tt.given)
			if ok != tt.ok {
				t.Fatalf("match(%q) = %v, want %v", tt.given, ok, tt.ok)
			}
			if ok && got != tt.given {
				t.Fatalf("match(%q) sends the browser to %q", tt.given, got)
			}
		})
	}
}

func TestRedirectURIAnyWildcard(t *testing.T) {
	rules := newRedirectRules([]string{"*"}, "", "https://id.example")
	if _, ok := rules.Match("https://anything.example/x"); !ok {
		t.Error(`"*" should allow any https URI`)
	}
	for _, bad := range []string{"javascript:alert(1)", "https://a.example/../x", "https://a.example/#x"} {
		if _, ok := rules.Match(bad); ok {
			t.Errorf(`"*" allowed %q`, bad)
		}
	}
}

func TestSingleRedirectURI(t *testing.T) {
	for _, tt := range []struct {
		name       string
		registered []string
		want       string
	}{
		{"one exact URI", []string{"https://app.example/cb"}, "https://app.example/cb"},
		{"one relative URI", []string{"/cb"}, "https://root.example/cb"},
		{"one wildcard URI", []string{"https://app.example/*"}, ""},
		{"two URIs", []string{"https://app.example/a", "https://app.example/b"}, ""},
		{"none", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := newRedirectRules(tt.registered, "https://root.example/", "https://id.example").Single()
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("single() = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestPostLogoutRules(t *testing.T) {
	rr := clientWith(map[string]string{"post.logout.redirect.uris": "https://app.example/bye##+"},
		"https://app.example/cb").PostLogoutRules("https://id.example")
	for given, want := range map[string]bool{
		"https://app.example/bye": true,
		"https://app.example/cb":  true, // through "+"
		"https://app.example/x":   false,
	} {
		if _, ok := rr.Match(given); ok != want {
			t.Errorf("match(%q) = %v, want %v", given, ok, want)
		}
	}
	none := clientWith(nil, "https://app.example/cb").PostLogoutRules("https://id.example")
	if _, ok := none.Match("https://app.example/cb"); ok {
		t.Error("without post.logout.redirect.uris no URI may be allowed (Keycloak)")
	}
}

func clientWith(attrs map[string]string, redirects ...string) Client {
	return Client{ClientID: "c", Attributes: attrs, RedirectURIs: redirects}
}
