package client

import (
	"slices"
	"testing"
)

func TestAllowedOrigins(t *testing.T) {
	const base = "https://id.example/auth"
	for _, tt := range []struct {
		name      string
		root      string
		redirects []string
		origins   []string
		want      []string
	}{
		{"none", "", []string{"https://app.example/cb"}, nil, nil},
		{"explicit origin", "", nil, []string{"https://app.example"}, []string{"https://app.example"}},
		{"explicit origin with a trailing slash", "", nil, []string{"https://app.example/"}, []string{"https://app.example"}},
		{"any origin", "", nil, []string{"*"}, []string{"*"}},
		{"plus takes the redirect URIs' origins", "", []string{"https://a.example/cb", "https://b.example:8443/x/*"},
			[]string{"+"}, []string{"https://a.example", "https://b.example:8443"}},
		// Regression: allowed-origins was [] for this client in its tokens.
		{"plus resolves relative redirect URIs against the root URL", "https://app.example", []string{"/cb/*"},
			[]string{"+"}, []string{"https://app.example"}},
		{"plus resolves relative redirect URIs against the server without a root URL", "", []string{"/cb"},
			[]string{"+"}, []string{"https://id.example"}},
		{"plus resolves ${authBaseUrl}", "${authBaseUrl}", []string{"/realms/x/account/*"},
			[]string{"+"}, []string{"https://id.example"}},
		{"plus skips non-web redirect URIs", "", []string{"com.example.app:/cb", "*"}, []string{"+"}, nil},
		{"duplicates are dropped", "", []string{"https://a.example/1", "https://a.example/2"},
			[]string{"+", "https://a.example"}, []string{"https://a.example"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Client{RootURL: tt.root, RedirectURIs: tt.redirects, WebOrigins: tt.origins}
			if got := c.AllowedOrigins(base); !slices.Equal(got, tt.want) {
				t.Fatalf("AllowedOrigins = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResolveURL(t *testing.T) {
	const base = "https://id.example/auth"
	for _, tt := range []struct{ root, u, want string }{
		{"https://app.example/", "/home", "https://app.example/home"},
		{"", "/home", "https://id.example/home"},
		{"${authBaseUrl}", "/realms/x/account/", "https://id.example/auth/realms/x/account/"},
		{"https://app.example", "https://other.example/x", "https://other.example/x"},
	} {
		if got := (Client{RootURL: tt.root}).ResolveURL(tt.u, base); got != tt.want {
			t.Errorf("ResolveURL(%q) with root %q = %q, want %q", tt.u, tt.root, got, tt.want)
		}
	}
}
