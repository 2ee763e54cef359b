package admin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// keySummary lists a realm's keys as "<type> <alg> <use> <status>",
// sorted, from GET /admin/realms/{realm}/keys.
func (s *testServer) keySummary(realmName, admin string) []string {
	s.t.Helper()
	var kl keyList
	s.get("/admin/realms/"+realmName+"/keys", admin, &kl)
	var out []string
	for _, k := range kl.Keys {
		out = append(out, fmt.Sprintf("%s %s %s %s", k.Type, k.Algorithm, k.Use, k.Status))
	}
	slices.Sort(out)
	return out
}

// jwksSummary lists a realm's JWKS as "<alg> <use>", sorted.
func (s *testServer) jwksSummary(realmName string) []string {
	s.t.Helper()
	var out []string
	for _, k := range s.jwks(realmName) {
		out = append(out, k.Alg+" "+strings.ToLower(k.Use))
	}
	slices.Sort(out)
	return out
}

// componentNames lists a realm's key provider components as
// "<name> <providerId> <priority>", sorted.
func (s *testServer) componentNames(realmName, admin string) []string {
	s.t.Helper()
	var comps []component
	s.get("/admin/realms/"+realmName+"/components?type="+keyProvider, admin, &comps)
	var out []string
	for _, c := range comps {
		out = append(out, fmt.Sprintf("%s %s %s", c.Name, c.ProviderID, strings.Join(c.Config["priority"], ",")))
	}
	slices.Sort(out)
	return out
}

// A realm created without components, and the master realm made at
// bootstrap, have Keycloak's default key providers: rsa-generated (RS256),
// rsa-enc-generated (RSA-OAEP), hmac-generated-hs512 (HS512) and
// aes-generated, at priority 100; the JWKS publishes the two RSA keys.
func TestNewRealmHasKeycloakDefaultKeys(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		admin := s.adminToken()
		if st, _, b := s.do("POST", "/admin/realms", admin, map[string]any{"realm": "fresh", "enabled": true}); st != http.StatusCreated {
			t.Fatalf("create: %d %s", st, b)
		}
		wantKeys := []string{
			"OCT AES ENC ACTIVE",
			"OCT HS512 SIG ACTIVE",
			"RSA RS256 SIG ACTIVE",
			"RSA RSA-OAEP ENC ACTIVE",
		}
		wantComps := []string{
			"aes-generated aes-generated 100",
			"hmac-generated-hs512 hmac-generated 100",
			"rsa-enc-generated rsa-enc-generated 100",
			"rsa-generated rsa-generated 100",
		}
		for _, name := range []string{"fresh", "master"} {
			if got := s.keySummary(name, admin); !slices.Equal(got, wantKeys) {
				t.Errorf("%s keys:\n%v\nwant\n%v", name, got, wantKeys)
			}
			if got := s.componentNames(name, admin); !slices.Equal(got, wantComps) {
				t.Errorf("%s key providers:\n%v\nwant\n%v", name, got, wantComps)
			}
			if got, want := s.jwksSummary(name), []string{"RS256 sig", "RSA-OAEP enc"}; !slices.Equal(got, want) {
				t.Errorf("%s JWKS %v, want %v", name, got, want)
			}
		}
	})
}

// A realm file with key providers of its own gets none added: one with an
// ES256 provider alone publishes that key and no RSA key, and still issues
// tokens and refresh tokens (the HS512 key they need is a fallback key,
// never published); one with an HMAC provider alone signs its RS256 access
// tokens with a fallback RSA key instead of answering 500.
func TestImportedRealmKeepsItsOwnKeyProviders(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		admin := s.adminToken()
		file := realmWithOnlyKey("ec-only", "ES256", "ecdsa-generated", map[string][]string{"ecdsaEllipticCurveKey": {"P-256"}})
		if st, _, b := s.do("POST", "/admin/realms", admin, file); st != http.StatusCreated {
			t.Fatalf("import: %d %s", st, b)
		}
		if got, want := s.jwksSummary("ec-only"), []string{"ES256 sig"}; !slices.Equal(got, want) {
			t.Errorf("JWKS after import %v, want %v", got, want)
		}
		if got := s.componentNames("ec-only", admin); len(got) != 1 || !strings.HasPrefix(got[0], "ecdsa-generated ") {
			t.Errorf("key providers after import: %v", got)
		}
		tok := passwordGrant(t, s, "ec-only")
		if got := jwtAlg(t, tok["access_token"].(string)); got != "ES256" {
			t.Errorf("access token alg %s", got)
		}
		if got := jwtAlg(t, tok["refresh_token"].(string)); got != "HS512" {
			t.Errorf("refresh token alg %s", got)
		}
		if got, want := s.jwksSummary("ec-only"), []string{"ES256 sig"}; !slices.Equal(got, want) {
			t.Errorf("JWKS after a login %v, want %v", got, want)
		}

		file = realmWithOnlyKey("hmac-only", "RS256", "hmac-generated", map[string][]string{"algorithm": {"HS256"}})
		if st, _, b := s.do("POST", "/admin/realms", admin, file); st != http.StatusCreated {
			t.Fatalf("import: %d %s", st, b)
		}
		if got := s.jwksSummary("hmac-only"); len(got) != 0 {
			t.Errorf("JWKS after import %v, want none", got)
		}
		tok = passwordGrant(t, s, "hmac-only")
		if got := jwtAlg(t, tok["access_token"].(string)); got != "RS256" {
			t.Errorf("access token alg %s", got)
		}
		if got, want := s.jwksSummary("hmac-only"), []string{"RS256 sig"}; !slices.Equal(got, want) {
			t.Errorf("JWKS after a login %v, want %v (the fallback key)", got, want)
		}
	})
}

// passwordGrant logs alice in to the "app" client of realmName and returns
// the token response.
func passwordGrant(t *testing.T, s *testServer, realmName string) map[string]any {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"pw-alice"}, "scope": {"openid"}}
	req, _ := http.NewRequest("POST", s.URL+"/realms/"+realmName+"/protocol/openid-connect/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", "app-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("password grant in %s: %d %v", realmName, resp.StatusCode, body)
	}
	return body
}

// A defaultSignatureAlgorithm that no realm key signs with is refused on
// creation, import and update with 400 and an errorMessage, and nothing is
// stored.
func TestDefaultSignatureAlgorithmValidated(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		admin := s.adminToken()
		for _, alg := range []string{"HS1024", "none", "RSA-OAEP", "rs256"} {
			st, _, b := s.do("POST", "/admin/realms", admin, map[string]any{"realm": "badalg", "enabled": true, "defaultSignatureAlgorithm": alg})
			var e struct {
				ErrorMessage string `json:"errorMessage"`
			}
			json.Unmarshal(b, &e)
			if st != http.StatusBadRequest || !strings.Contains(e.ErrorMessage, "defaultSignatureAlgorithm") {
				t.Errorf("create with %q: %d %s", alg, st, b)
			}
			if st, _, _ := s.do("GET", "/admin/realms/badalg", admin, nil); st != http.StatusNotFound {
				t.Errorf("create with %q stored a realm: GET %d", alg, st)
			}
		}
		if st, _, b := s.do("POST", "/admin/realms", admin, map[string]any{"realm": "goodalg", "enabled": true, "defaultSignatureAlgorithm": "PS384"}); st != http.StatusCreated {
			t.Fatalf("create with PS384: %d %s", st, b)
		}
		st, _, b := s.do("PUT", "/admin/realms/goodalg", admin, map[string]any{"defaultSignatureAlgorithm": "XS256", "displayName": "changed"})
		if st != http.StatusBadRequest || !strings.Contains(string(b), "defaultSignatureAlgorithm") {
			t.Errorf("update with XS256: %d %s", st, b)
		}
		var got map[string]any
		s.get("/admin/realms/goodalg", admin, &got)
		if got["defaultSignatureAlgorithm"] != "PS384" || got["displayName"] == "changed" {
			t.Errorf("a refused update was stored: %v %v", got["defaultSignatureAlgorithm"], got["displayName"])
		}
		if st, _, b := s.do("PUT", "/admin/realms/goodalg", admin, map[string]any{"defaultSignatureAlgorithm": "HS256"}); st != http.StatusNoContent {
			t.Errorf("update with HS256: %d %s", st, b)
		}
	})
}

// A realm whose default is HS256 signs access tokens with an HMAC key,
// which Gatehouse itself verifies: userinfo answers, introspection says
// active (and tells the refresh token from the access token by its type),
// and revocation revokes it.
func TestHMACDefaultRealmTokensAreAccepted(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		admin := s.adminToken()
		file := realmWithOnlyKey("hs", "HS256", "hmac-generated", map[string][]string{"algorithm": {"HS256"}})
		if st, _, b := s.do("POST", "/admin/realms", admin, file); st != http.StatusCreated {
			t.Fatalf("import: %d %s", st, b)
		}
		tok := passwordGrant(t, s, "hs")
		access := tok["access_token"].(string)
		if got := jwtAlg(t, access); got != "HS256" {
			t.Fatalf("access token alg %s, want HS256", got)
		}
		base := s.URL + "/realms/hs/protocol/openid-connect/"

		req, _ := http.NewRequest("GET", base+"userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+access)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ui map[string]any
		json.NewDecoder(resp.Body).Decode(&ui)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || ui["preferred_username"] != "alice" {
			t.Errorf("userinfo: %d %v", resp.StatusCode, ui)
		}

		post := func(endpoint string, form url.Values) (int, map[string]any) {
			req, _ := http.NewRequest("POST", base+endpoint, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("app", "app-secret")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			json.NewDecoder(resp.Body).Decode(&body)
			return resp.StatusCode, body
		}
		if st, in := post("token/introspect", url.Values{"token": {access}}); st != 200 || in["active"] != true || in["token_type"] != "Bearer" || in["username"] != "alice" {
			t.Errorf("introspect access token: %d %v", st, in)
		}
		if st, in := post("token/introspect", url.Values{"token": {tok["refresh_token"].(string)}}); st != 200 || in["active"] != true || in["token_type"] != "Refresh" {
			t.Errorf("introspect refresh token: %d %v", st, in)
		}
		if st, _ := post("revoke", url.Values{"token": {access}}); st != 200 {
			t.Errorf("revoke: %d", st)
		}
		if st, in := post("token/introspect", url.Values{"token": {access}}); st != 200 || in["active"] != false {
			t.Errorf("introspect a revoked access token: %d %v", st, in)
		}
	})
}
