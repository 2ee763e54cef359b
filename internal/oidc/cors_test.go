package oidc_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// Regression: a client with rootUrl https://app.example, redirectUris
// ["/cb/*"] and webOrigins ["+"] got allowed-origins [] in its tokens and no
// CORS at the token endpoint, while the login iframe allowed its origin: the
// back channel resolved "+" without resolving relative redirect URIs.
func TestCORSFollowsClientWebOrigins(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		a := newAttackEnv(t, open)
		a.newClient("spa", func(c *client.Client) {
			c.PublicClient, c.DirectAccessGrantsEnabled = true, true
			c.RootURL, c.RedirectURIs, c.WebOrigins = "https://app.example", []string{"/cb/*"}, []string{"+"}
		})
		grant := func(origin string) reply {
			req := a.formReq(tokenPath, url.Values{"grant_type": {"password"}, "client_id": {"spa"},
				"username": {"user1"}, "password": {user1PW}, "scope": {"openid"}}, "", "")
			req.Header.Set("Origin", origin)
			return a.do(req)
		}
		r := grant("https://app.example")
		if r.status != http.StatusOK {
			t.Fatalf("password grant: %d %s", r.status, r.short())
		}
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "https://app.example" {
			t.Errorf("token endpoint: Access-Control-Allow-Origin %q, want https://app.example", got)
		}
		claims := payload(t, r.str("access_token"))
		got, _ := claims["allowed-origins"].([]any)
		if !slices.Equal(got, []any{"https://app.example"}) {
			t.Errorf("allowed-origins %v, want [https://app.example]", claims["allowed-origins"])
		}

		req := a.bearerReq("GET", r.str("access_token"))
		req.Header.Set("Origin", "https://app.example")
		if ui := a.do(req); ui.status != http.StatusOK || ui.header.Get("Access-Control-Allow-Origin") != "https://app.example" {
			t.Errorf("userinfo: %d, Access-Control-Allow-Origin %q", ui.status, ui.header.Get("Access-Control-Allow-Origin"))
		}

		if r := grant("https://evil.example"); r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("another origin may read the token response: %q", r.header.Get("Access-Control-Allow-Origin"))
		}

		// Introspection answers a resource server's page like the other
		// endpoints do: its preflight was answered, its response was not.
		a.newClient("api", func(c *client.Client) {
			c.Secret, c.WebOrigins = otherSecret, []string{"https://api.example"}
		})
		ireq := a.formReq(introspectPath, url.Values{"token": {r.str("access_token")}}, "api", otherSecret)
		ireq.Header.Set("Origin", "https://api.example")
		if ir := a.do(ireq); ir.status != http.StatusOK || ir.header.Get("Access-Control-Allow-Origin") != "https://api.example" {
			t.Errorf("introspection: %d, Access-Control-Allow-Origin %q", ir.status, ir.header.Get("Access-Control-Allow-Origin"))
		}
	})
}

// The realm's keys are public: any page may read them (Keycloak answers the
// certs endpoint with CORS for every origin), and its preflight is answered.
func TestCertsAllowAnyOrigin(t *testing.T) {
	a := newAttackEnv(t, storetest.Open)
	req := a.rawReq("GET", "/protocol/openid-connect/certs", "", "")
	req.Header.Set("Origin", "https://any.example")
	if r := a.do(req); r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "https://any.example" {
		t.Errorf("certs: %d, Access-Control-Allow-Origin %q", r.status, r.header.Get("Access-Control-Allow-Origin"))
	}
	pre := a.rawReq("OPTIONS", "/protocol/openid-connect/certs", "", "")
	pre.Header.Set("Origin", "https://any.example")
	pre.Header.Set("Access-Control-Request-Method", "GET")
	if r := a.do(pre); r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Methods") == "" {
		t.Errorf("certs preflight: %d %v", r.status, r.header)
	}
}
