package admin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// regDo calls the client registration service and decodes its JSON answer.
func regDo(t *testing.T, s *testServer, method, path, tok string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	st, hd, b := s.do(method, path, tok, body)
	var out map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, st, b)
		}
	}
	return st, hd, out
}

// wantRegError checks an OAuth-shaped refusal of the registration service.
func wantRegError(t *testing.T, what string, st int, body map[string]any, status int, code, desc string) {
	t.Helper()
	if st != status || body["error"] != code || body["error_description"] != desc {
		t.Errorf("%s: got %d %v, want %d %s %q", what, st, body, status, code, desc)
	}
}

func TestClientRegistration(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		rl := s.newRealm("dcr")
		admin := s.adminToken()
		iaBase := "/admin/realms/dcr/clients-initial-access"
		oidcBase := "/realms/dcr/clients-registrations/openid-connect"
		defBase := "/realms/dcr/clients-registrations/default"

		newIAT := func(body any) (string, string) {
			t.Helper()
			st, hd, out := regDo(t, s, "POST", iaBase, admin, body)
			if st != 201 || out["token"] == nil || out["id"] == nil {
				t.Fatalf("create initial access: %d %v", st, out)
			}
			if !strings.HasSuffix(hd.Get("Location"), iaBase+"/"+out["id"].(string)) {
				t.Errorf("Location %q", hd.Get("Location"))
			}
			return out["id"].(string), out["token"].(string)
		}

		iaID, iat := newIAT(map[string]any{"count": 1, "expiration": 3600})
		var list []map[string]any
		s.get(iaBase, admin, &list)
		if len(list) != 1 || list[0]["id"] != iaID || list[0]["count"] != 1.0 || list[0]["remainingCount"] != 1.0 || list[0]["expiration"] != 3600.0 || list[0]["token"] != nil {
			t.Fatalf("initial access list: %v", list)
		}

		meta := map[string]any{
			"client_name":                "Dynamic app",
			"redirect_uris":              []string{"https://app.example/cb"},
			"grant_types":                []string{"authorization_code", "refresh_token"},
			"response_types":             []string{"code"},
			"token_endpoint_auth_method": "client_secret_basic",
			"jwks_uri":                   "https://app.example/jwks.json",
			"post_logout_redirect_uris":  []string{"https://app.example/bye"},
			"backchannel_logout_uri":     "https://app.example/bc",
			"logo_uri":                   "https://app.example/logo.png",
			"scope":                      "address phone",
		}

		t.Run("discovery names the registration endpoint", func(t *testing.T) {
			var doc map[string]any
			s.get("/realms/dcr/.well-known/openid-configuration", "", &doc)
			if doc["registration_endpoint"] != s.URL+oidcBase {
				t.Errorf("registration_endpoint %v", doc["registration_endpoint"])
			}
		})
		t.Run("anonymous registration is refused by the trusted hosts policy", func(t *testing.T) {
			st, _, out := regDo(t, s, "POST", oidcBase, "", meta)
			wantRegError(t, "no token", st, out, 403, "insufficient_scope",
				"Policy 'Trusted Hosts' rejected request to client-registration service. Details: Host not trusted.")
		})

		var reg map[string]any
		t.Run("register with an initial access token", func(t *testing.T) {
			st, hd, out := regDo(t, s, "POST", oidcBase, iat, meta)
			if st != 201 {
				t.Fatalf("register: %d %v", st, out)
			}
			reg = out
			id, _ := out["client_id"].(string)
			if id == "" || out["client_secret"] == "" || out["client_secret"] == nil || out["registration_access_token"] == nil ||
				out["client_secret_expires_at"] != 0.0 || out["client_id_issued_at"] == nil ||
				out["registration_client_uri"] != s.URL+oidcBase+"/"+id || hd.Get("Location") != out["registration_client_uri"] {
				t.Fatalf("registration answer: %v", out)
			}
			// The metadata comes back as it was sent.
			for _, k := range []string{"client_name", "jwks_uri", "backchannel_logout_uri", "token_endpoint_auth_method", "logo_uri", "scope"} {
				if out[k] != meta[k] {
					t.Errorf("%s: got %v, want %v", k, out[k], meta[k])
				}
			}
			for _, k := range []string{"redirect_uris", "grant_types", "response_types", "post_logout_redirect_uris"} {
				got, _ := json.Marshal(out[k])
				want, _ := json.Marshal(meta[k])
				if string(got) != string(want) {
					t.Errorf("%s: got %s, want %s", k, got, want)
				}
			}
			// The stored client carries the mapping (the key URL is kept, not fetched).
			var cs []map[string]any
			s.get("/admin/realms/dcr/clients?clientId="+id, admin, &cs)
			if len(cs) != 1 {
				t.Fatalf("admin sees %v", cs)
			}
			c := cs[0]
			attrs, _ := c["attributes"].(map[string]any)
			if c["name"] != "Dynamic app" || c["standardFlowEnabled"] != true || c["directAccessGrantsEnabled"] != false ||
				c["publicClient"] != false || attrs["jwks.url"] != "https://app.example/jwks.json" || attrs["use.jwks.url"] != "true" ||
				attrs["post.logout.redirect.uris"] != "https://app.example/bye" || attrs["backchannel.logout.url"] != "https://app.example/bc" ||
				attrs["use.refresh.tokens"] != "true" || c["secret"] != out["client_secret"] ||
				fmt.Sprint(c["optionalClientScopes"]) != "[address phone]" || fmt.Sprint(c["defaultClientScopes"]) != "[]" {
				t.Errorf("stored client: %v", c)
			}
			s.get(iaBase, admin, &list)
			if len(list) != 1 || list[0]["remainingCount"] != 0.0 {
				t.Errorf("remaining count after one registration: %v", list)
			}
		})
		if reg == nil {
			t.FailNow()
		}
		clientURI := oidcBase + "/" + reg["client_id"].(string)
		rat := reg["registration_access_token"].(string)

		t.Run("a refused registration spends nothing", func(t *testing.T) {
			id, tok := newIAT(map[string]any{})
			chosen := map[string]any{"client_id": "mine", "redirect_uris": []string{"https://app.example/cb"}}
			st, _, out := regDo(t, s, "POST", oidcBase, tok, chosen)
			wantRegError(t, "client_id included", st, out, 400, "invalid_client_metadata", "Client Identifier included")
			bad := map[string]any{"redirect_uris": []string{"javascript:alert(1)"}}
			st, _, out = regDo(t, s, "POST", oidcBase, tok, bad)
			if st != 400 || out["error"] != "invalid_redirect_uri" {
				t.Errorf("bad redirect URI: %d %v", st, out)
			}
			var left []map[string]any
			s.get(iaBase, admin, &left)
			for _, a := range left {
				if a["id"] == id && a["remainingCount"] != 1.0 {
					t.Errorf("a refused registration used the token: %v", a)
				}
			}
			s.do("DELETE", iaBase+"/"+id, admin, nil)
		})
		t.Run("an initial access token with no registrations left is refused", func(t *testing.T) {
			st, _, out := regDo(t, s, "POST", oidcBase, iat, meta)
			wantRegError(t, "used up", st, out, 401, "invalid_token", "No remaining count on initial access token")
		})
		t.Run("an expired initial access token is refused", func(t *testing.T) {
			_, short := newIAT(map[string]any{"count": 5, "expiration": 1})
			time.Sleep(1100 * time.Millisecond)
			st, _, out := regDo(t, s, "POST", oidcBase, short, meta)
			wantRegError(t, "expired", st, out, 401, "invalid_token", "Expired initial access token")
		})
		t.Run("a deleted initial access token is refused", func(t *testing.T) {
			id, tok := newIAT(map[string]any{})
			if st, _, b := s.do("DELETE", iaBase+"/"+id, admin, nil); st != 204 {
				t.Fatalf("delete: %d %s", st, b)
			}
			st, _, out := regDo(t, s, "POST", oidcBase, tok, meta)
			wantRegError(t, "deleted", st, out, 401, "invalid_token", "Initial Access Token not found")
		})
		t.Run("a token of another realm is refused", func(t *testing.T) {
			s.newRealm("other")
			st, _, out := regDo(t, s, "POST", "/realms/other/clients-registrations/openid-connect", iat, meta)
			wantRegError(t, "foreign", st, out, 401, "invalid_token", "Invalid token")
		})

		t.Run("read with the registration access token", func(t *testing.T) {
			st, _, out := regDo(t, s, "GET", clientURI, rat, nil)
			if st != 200 || out["client_id"] != reg["client_id"] || out["client_secret"] != reg["client_secret"] || out["registration_access_token"] != rat {
				t.Fatalf("read: %d %v", st, out)
			}
			st, _, out = regDo(t, s, "GET", clientURI, iat, nil)
			wantRegError(t, "initial access token", st, out, 401, "invalid_token", "Not initial access token allowed")
			st, _, out = regDo(t, s, "GET", clientURI, "not-a-token", nil)
			wantRegError(t, "garbage", st, out, 401, "invalid_token", "Invalid token")
			st, _, out = regDo(t, s, "GET", clientURI, "", nil)
			wantRegError(t, "no token", st, out, 401, "invalid_token", "Not authorized to view client. Not valid token or client credentials provided.")
		})

		t.Run("update rotates the registration access token", func(t *testing.T) {
			upd := map[string]any{"client_id": reg["client_id"], "client_name": "Renamed", "redirect_uris": []string{"https://app.example/cb2"},
				"grant_types": []string{"authorization_code", "client_credentials"}, "token_endpoint_auth_method": "client_secret_post"}
			st, _, out := regDo(t, s, "PUT", clientURI, rat, upd)
			if st != 200 || out["client_name"] != "Renamed" || out["registration_access_token"] == nil || out["registration_access_token"] == rat {
				t.Fatalf("update: %d %v", st, out)
			}
			if !slices.Contains(out["grant_types"].([]any), any("client_credentials")) || slices.Contains(out["grant_types"].([]any), any("refresh_token")) {
				t.Errorf("grant types after update: %v", out["grant_types"])
			}
			st, _, old := regDo(t, s, "GET", clientURI, rat, nil)
			wantRegError(t, "retired token", st, old, 401, "invalid_token", "Not authorized to view client. Not valid token or client credentials provided.")
			st, _, old = regDo(t, s, "PUT", clientURI, rat, upd)
			wantRegError(t, "retired token update", st, old, 401, "invalid_token", "Not authorized to update client. Maybe missing token or bad token type.")
			rat = out["registration_access_token"].(string)
			st, _, out = regDo(t, s, "GET", clientURI, rat, nil)
			if st != 200 || out["client_name"] != "Renamed" {
				t.Fatalf("read with the new token: %d %v", st, out)
			}
			upd["client_id"] = "someone-else"
			st, _, out = regDo(t, s, "PUT", clientURI, rat, upd)
			wantRegError(t, "client id change", st, out, 400, "invalid_client_metadata", "Client Identifier modified")
		})

		t.Run("updates racing with one token: one wins", func(t *testing.T) {
			upd := map[string]any{"client_id": reg["client_id"], "redirect_uris": []string{"https://app.example/cb"}}
			const n = 8
			codes := make(chan int, n)
			var next string
			var mu sync.Mutex
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range n {
				wg.Go(func() {
					<-start
					st, _, out := regDo(t, s, "PUT", clientURI, rat, upd)
					codes <- st
					if st == 200 {
						mu.Lock()
						next, _ = out["registration_access_token"].(string)
						mu.Unlock()
					}
				})
			}
			close(start)
			wg.Wait()
			close(codes)
			var got []int
			for c := range codes {
				got = append(got, c)
			}
			if slices.Sort(got); got[0] != 200 || got[1] != 401 || next == "" {
				t.Fatalf("racing updates answered %v", got)
			}
			rat = next
		})

		t.Run("the admin API issues the same kind of registration access token", func(t *testing.T) {
			var cs []map[string]any
			s.get("/admin/realms/dcr/clients?clientId="+reg["client_id"].(string), admin, &cs)
			st, _, out := regDo(t, s, "POST", "/admin/realms/dcr/clients/"+cs[0]["id"].(string)+"/registration-access-token", admin, nil)
			if st != 200 || out["registrationAccessToken"] == nil {
				t.Fatalf("regenerate: %d %v", st, out)
			}
			st, _, _ = regDo(t, s, "GET", clientURI, rat, nil)
			if st != 401 {
				t.Errorf("token replaced by the admin still reads: %d", st)
			}
			rat = out["registrationAccessToken"].(string)
			if st, _, out := regDo(t, s, "GET", clientURI, rat, nil); st != 200 {
				t.Errorf("admin-issued token: %d %v", st, out)
			}
		})

		t.Run("delete with the registration access token", func(t *testing.T) {
			st, _, out := regDo(t, s, "DELETE", clientURI, "wrong", nil)
			wantRegError(t, "wrong token", st, out, 401, "invalid_token", "Invalid token")
			if st, _, b := s.do("DELETE", clientURI, rat, nil); st != 204 {
				t.Fatalf("delete: %d %s", st, b)
			}
			var cs []map[string]any
			s.get("/admin/realms/dcr/clients?clientId="+reg["client_id"].(string), admin, &cs)
			if len(cs) != 0 {
				t.Errorf("client still there: %v", cs)
			}
			st, _, out = regDo(t, s, "GET", clientURI, rat, nil)
			wantRegError(t, "deleted client", st, out, 401, "invalid_token", "Not authorized to view client. Not valid token or client credentials provided.")
		})

		t.Run("authenticated registration with a manage-clients user, Keycloak's representation", func(t *testing.T) {
			viewer := s.realmAdmin(rl, "viewer", "view-clients")
			st, _, out := regDo(t, s, "POST", defBase, viewer, map[string]any{"clientId": "by-viewer"})
			wantRegError(t, "view-clients only", st, out, 403, "insufficient_scope", "Forbidden")

			creator := s.realmAdmin(rl, "creator", "create-client")
			st, hd, out := regDo(t, s, "POST", defBase, creator, map[string]any{
				"clientId": "by-creator", "redirectUris": []string{"https://c.example/*"}, "registrationAccessToken": "chosen"})
			if st != 201 || out["clientId"] != "by-creator" || out["secret"] == nil || out["registrationAccessToken"] == nil ||
				out["registrationAccessToken"] == "chosen" || !strings.HasSuffix(hd.Get("Location"), defBase+"/by-creator") {
				t.Fatalf("register: %d %v", st, out)
			}
			tok := out["registrationAccessToken"].(string)
			st, _, out = regDo(t, s, "GET", defBase+"/by-creator", tok, nil)
			if st != 200 || out["clientId"] != "by-creator" || out["registrationAccessToken"] != tok {
				t.Fatalf("read: %d %v", st, out)
			}
			st, _, out = regDo(t, s, "GET", oidcBase+"/by-creator", tok, nil)
			if st != 200 || out["client_id"] != "by-creator" {
				t.Errorf("the OIDC view of a default registration: %d %v", st, out)
			}
			st, _, out = regDo(t, s, "POST", defBase, creator, map[string]any{"clientId": "saml-sp", "protocol": "saml"})
			if st != 201 {
				t.Fatalf("register SAML client: %d %v", st, out)
			}
			st, _, out = regDo(t, s, "GET", oidcBase+"/saml-sp", out["registrationAccessToken"].(string), nil)
			wantRegError(t, "SAML client at the OIDC endpoint", st, out, 400, "invalid_client", "Wrong client protocol.")
			st, _, out = regDo(t, s, "POST", defBase, creator, map[string]any{"clientId": "by-creator"})
			wantRegError(t, "duplicate", st, out, 400, "invalid_client_metadata", "Client Identifier in use")
			st, _, out = regDo(t, s, "POST", defBase, creator, map[string]any{"clientId": "bad-uri", "redirectUris": []string{"javascript:alert(1)"}})
			if st != 400 || out["error"] != "invalid_redirect_uri" {
				t.Errorf("bad redirect URI: %d %v", st, out)
			}
		})
	})
}
