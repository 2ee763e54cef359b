package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestClientPolicies(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "cp")
		e.want("GET", "/client-policies/profiles", e.tok, nil, 200, `{"profiles":[]}`)
		e.want("GET", "/client-policies/policies?include-global-policies=true", e.tok, nil, 200, `{"globalPolicies":[],"policies":[]}`)

		// An executor Gatehouse does not run is refused, and nothing is stored.
		e.want("PUT", "/client-policies/profiles", e.tok, map[string]any{"profiles": []any{map[string]any{
			"name": "fapi", "executors": []any{map[string]any{"executor": "holder-of-key-enforcer", "configuration": map[string]any{"auto-configure": "true"}}}}}},
			400, `{"errorMessage":"executor not supported: holder-of-key-enforcer"}`)
		e.want("GET", "/client-policies/profiles", e.tok, nil, 200, `{"profiles":[]}`)

		profiles := map[string]any{"profiles": []any{map[string]any{
			"name": "strict", "description": "locked down",
			"executors": []any{
				map[string]any{"executor": "full-scope-disabled", "configuration": map[string]any{"auto-configure": "true"}},
				map[string]any{"executor": "secure-redirect-uris-enforcer", "configuration": map[string]any{}},
				map[string]any{"executor": "confidential-client", "configuration": map[string]any{}},
				map[string]any{"executor": "pkce-enforcer", "configuration": map[string]any{"auto-configure": "true"}},
			}}}}
		e.want("PUT", "/client-policies/profiles", e.tok, profiles, 204, "")
		_, body := e.want("GET", "/client-policies/profiles", e.tok, nil, 200, "")
		if !strings.Contains(body, `"name":"strict"`) || !strings.Contains(body, `"executor":"pkce-enforcer"`) {
			t.Fatalf("profiles read back: %s", body)
		}
		// A policy naming a profile that does not exist, or a condition
		// Gatehouse does not evaluate, is refused.
		e.want("PUT", "/client-policies/policies", e.tok, map[string]any{"policies": []any{map[string]any{
			"name": "p", "enabled": true, "conditions": []any{map[string]any{"condition": "any-client", "configuration": map[string]any{}}}, "profiles": []string{"nope"}}}},
			400, `{"errorMessage":"profile not found: nope"}`)
		e.want("PUT", "/client-policies/policies", e.tok, map[string]any{"policies": []any{map[string]any{
			"name": "p", "enabled": true, "conditions": []any{map[string]any{"condition": "client-scopes", "configuration": map[string]any{}}}, "profiles": []string{"strict"}}}},
			400, `{"errorMessage":"condition not supported: client-scopes"}`)
		viewer := s.realmAdmin(e.realm, "v", "view-realm")
		e.want("PUT", "/client-policies/policies", viewer, map[string]any{"policies": []any{}}, 403, "")

		// Before the policy: a public client with an http redirect is fine.
		e.create("/clients", map[string]any{"clientId": "before", "publicClient": true, "directAccessGrantsEnabled": true,
			"redirectUris": []string{"http://app.example/cb"}})
		e.want("PUT", "/client-policies/policies", e.tok, map[string]any{"policies": []any{map[string]any{
			"name": "all", "enabled": true, "conditions": []any{map[string]any{"condition": "any-client", "configuration": map[string]any{}}}, "profiles": []string{"strict"}}}}, 204, "")
		// The profile's referenced by a policy: removing it is refused.
		e.want("PUT", "/client-policies/profiles", e.tok, map[string]any{"profiles": []any{}}, 400, `{"errorMessage":"profile not found: strict"}`)

		// On save: http redirect refused; full scope and PKCE configured.
		e.want("POST", "/clients", e.tok, map[string]any{"clientId": "web", "publicClient": false, "redirectUris": []string{"http://app.example/cb"}},
			400, `{"error":"invalid_client_metadata","error_description":"Invalid client metadata: redirect_uris http://app.example/cb"}`)
		id := e.create("/clients", map[string]any{"clientId": "web", "publicClient": false, "secret": "web-secret", "serviceAccountsEnabled": true,
			"redirectUris": []string{"https://app.example/cb"}})
		c := e.obj("/clients/" + id)
		if c["fullScopeAllowed"] != false || c["attributes"].(map[string]any)["pkce.code.challenge.method"] != "S256" {
			t.Fatalf("auto-configured client: %v %v", c["fullScopeAllowed"], c["attributes"])
		}
		e.want("PUT", "/clients/"+id, e.tok, map[string]any{"redirectUris": []string{"http://x.example/"}}, 400, "")

		// At the token endpoint: the public client made before is refused,
		// the confidential one is served.
		form := url.Values{"grant_type": {"password"}, "client_id": {"before"}, "username": {"boss"}, "password": {"pw-boss"}}
		resp, err := http.PostForm(s.URL+"/realms/cp/protocol/openid-connect/token", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("public client under confidential-client: %d", resp.StatusCode)
		}
		if st := tokenWithSecret(t, s, "cp", "web", "web-secret"); st != 200 {
			t.Fatalf("confidential client: %d", st)
		}

		// At the authorization endpoint: the client made before the policy
		// must now send an S256 code challenge.
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		auth := s.URL + "/realms/cp/protocol/openid-connect/auth?response_type=code&client_id=before&scope=openid&redirect_uri=" +
			url.QueryEscape("http://app.example/cb")
		resp, err = noRedirect.Get(auth)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=invalid_request") || !strings.Contains(loc, "code_challenge_method") {
			t.Fatalf("authorization without PKCE under pkce-enforcer: %d %s", resp.StatusCode, loc)
		}
		resp, _ = noRedirect.Get(auth + "&code_challenge_method=S256&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); strings.Contains(loc, "error=") {
			t.Fatalf("authorization with PKCE: %d %s", resp.StatusCode, loc)
		}

		// Disabling the policy lifts it.
		e.want("PUT", "/client-policies/policies", e.tok, map[string]any{"policies": []any{map[string]any{
			"name": "all", "enabled": false, "conditions": []any{map[string]any{"condition": "any-client"}}, "profiles": []string{"strict"}}}}, 204, "")
		resp, _ = http.PostForm(s.URL+"/realms/cp/protocol/openid-connect/token", form)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("after disabling: %d", resp.StatusCode)
		}
	})
}

// Under a secret-rotation policy, regenerating keeps the replaced secret
// working until the rotated expiration; without one it stops at once.
func TestSecretRotationPolicy(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "rotp")
		id := e.create("/clients", map[string]any{"clientId": "svc", "publicClient": false, "secret": "first", "serviceAccountsEnabled": true})
		e.want("POST", "/clients/"+id+"/client-secret", e.tok, nil, 200, "")
		if st := tokenWithSecret(t, s, "rotp", "svc", "first"); st != 401 {
			t.Fatalf("replaced secret without a policy: %d", st)
		}
		e.want("GET", "/clients/"+id+"/client-secret/rotated", e.tok, nil, 404, "")

		e.want("PUT", "/client-policies/profiles", e.tok, map[string]any{"profiles": []any{map[string]any{"name": "rotate",
			"executors": []any{map[string]any{"executor": "secret-rotation", "configuration": map[string]any{"rotated-expiration-period": "3600"}}}}}}, 204, "")
		e.want("PUT", "/client-policies/policies", e.tok, map[string]any{"policies": []any{map[string]any{"name": "confidential", "enabled": true,
			"conditions": []any{map[string]any{"condition": "client-access-type", "configuration": map[string]any{"type": []string{"confidential"}}}},
			"profiles":   []string{"rotate"}}}}, 204, "")
		var cur struct{ Value string }
		s.get(e.path("/clients/"+id+"/client-secret"), e.tok, &cur)
		e.want("POST", "/clients/"+id+"/client-secret", e.tok, nil, 200, "")
		if st := tokenWithSecret(t, s, "rotp", "svc", cur.Value); st != 200 {
			t.Fatalf("rotated secret under the policy: %d", st)
		}
		e.want("GET", "/clients/"+id+"/client-secret/rotated", e.tok, nil, 200, `{"type":"secret","value":"`+cur.Value+`"}`)
	})
}

// The realm representation carries the client policy documents, as an
// export does, and a realm update is held to the same rules.
func TestClientPoliciesInRealmRepresentation(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "cpr")
		profiles := map[string]any{"profiles": []any{map[string]any{"name": "c", "executors": []any{map[string]any{"executor": "consent-required", "configuration": map[string]any{}}}}}}
		e.want("PUT", "/client-policies/profiles", e.tok, profiles, 204, "")
		r := e.obj("")
		if p, _ := r["clientProfiles"].(map[string]any); p == nil || len(p["profiles"].([]any)) != 1 {
			t.Fatalf("realm clientProfiles: %v", r["clientProfiles"])
		}
		e.want("PUT", "", e.tok, map[string]any{"clientPolicies": map[string]any{"policies": []any{map[string]any{"name": "p", "enabled": true,
			"conditions": []any{map[string]any{"condition": "any-client"}}, "profiles": []string{"missing"}}}}}, 400, `{"errorMessage":"profile not found: missing"}`)
		e.want("PUT", "", e.tok, map[string]any{"clientPolicies": map[string]any{"policies": []any{map[string]any{"name": "p", "enabled": true,
			"conditions": []any{map[string]any{"condition": "any-client"}}, "profiles": []string{"c"}}}}}, 204, "")
		_, body := e.want("GET", "/client-policies/policies", e.tok, nil, 200, "")
		if !strings.Contains(body, `"name":"p"`) {
			t.Fatalf("policies after realm PUT: %s", body)
		}
		st, _, exp := s.do("POST", e.path("/partial-export"), e.tok, nil)
		if st != 200 || !strings.Contains(string(exp), `"clientPolicies"`) || !strings.Contains(string(exp), `"consent-required"`) {
			t.Fatalf("partial export: %d", st)
		}
	})
}
