package admin_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

const keyProvider = "org.keycloak.keys.KeyProvider"

type component struct {
	ID           string              `json:"id"`
	Name         string              `json:"name"`
	ProviderID   string              `json:"providerId"`
	ProviderType string              `json:"providerType"`
	ParentID     string              `json:"parentId"`
	Config       map[string][]string `json:"config"`
}

// tokenKid is the kid in a JWT's header.
func tokenKid(t *testing.T, jwt string) string { t.Helper(); return jwtHeader(t, jwt).Kid }

// jwtHeader reads a JWT's protected header.
func jwtHeader(t *testing.T, jwt string) struct{ Alg, Kid string } {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.SplitN(jwt, ".", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Alg, Kid string }
	json.Unmarshal(b, &h)
	return h
}

// userinfo is the status of the realm's userinfo endpoint for token.
func (s *testServer) userinfo(realmName, token string) int {
	s.t.Helper()
	st, _, _ := s.do("GET", "/realms/"+realmName+"/protocol/openid-connect/userinfo", token, nil)
	return st
}

func (s *testServer) jwksKids(realmName string) []string {
	s.t.Helper()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	s.get("/realms/"+realmName+"/protocol/openid-connect/certs", "", &set)
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.Kid)
	}
	return out
}

func TestComponentKeyRotation(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		rl := s.newRealm("rot")
		admin := s.adminToken()
		base := "/admin/realms/rot/components"

		var list []component
		s.get(base+"?type="+keyProvider, admin, &list)
		var oldRSA component
		for _, c := range list {
			if c.ProviderType != keyProvider || c.ParentID != rl.ID || c.Config["priority"] == nil {
				t.Errorf("component %+v", c)
			}
			if c.ProviderID == "rsa-generated" {
				oldRSA = c
			}
		}
		if oldRSA.ID == "" {
			t.Fatalf("no rsa-generated component in %+v", list)
		}
		if b, _ := json.Marshal(list); strings.Contains(string(b), "rivateKey") || strings.Contains(string(b), `"secret"`) {
			t.Errorf("list leaks key material: %s", b)
		}
		var other []component
		s.get(base+"?type=org.keycloak.storage.UserStorageProvider", admin, &other)
		if len(other) != 0 {
			t.Errorf("other type listed %+v", other)
		}

		oldToken := s.realmAdmin(rl, "alice", "view-realm")
		oldKid := tokenKid(t, oldToken)
		if s.userinfo("rot", oldToken) != 200 {
			t.Fatal("userinfo refuses a fresh token")
		}

		// Add an RSA key with a higher priority: new tokens use it.
		st, hdr, b := s.do("POST", base, admin, map[string]any{"name": "rsa-2", "providerId": "rsa-generated",
			"providerType": keyProvider, "config": map[string][]string{"priority": {"200"}, "active": {"true"}, "enabled": {"true"}}})
		if st != http.StatusCreated || !strings.Contains(hdr.Get("Location"), "/admin/realms/rot/components/") {
			t.Fatalf("create: %d %s %s", st, hdr.Get("Location"), b)
		}
		newID := hdr.Get("Location")[strings.LastIndexByte(hdr.Get("Location"), '/')+1:]
		var created component
		s.get(base+"/"+newID, admin, &created)
		if created.ProviderID != "rsa-generated" || created.Config["priority"][0] != "200" || created.Config["active"][0] != "true" {
			t.Errorf("created %+v", created)
		}
		newToken := s.token("rot", "admin-cli", "alice", "pw-alice")
		newKid := tokenKid(t, newToken)
		if newKid == oldKid || newKid == "" {
			t.Fatalf("new token still signed with kid %s", newKid)
		}

		// Make the old key passive: its tokens still verify, the JWKS has both.
		st, _, b = s.do("PUT", base+"/"+oldRSA.ID, admin, map[string]any{"id": oldRSA.ID, "providerId": "rsa-generated",
			"providerType": keyProvider, "config": map[string][]string{"active": {"false"}}})
		if st != http.StatusNoContent {
			t.Fatalf("make passive: %d %s", st, b)
		}
		var passive component
		s.get(base+"/"+oldRSA.ID, admin, &passive)
		if passive.Config["active"][0] != "false" || passive.Config["enabled"][0] != "true" || passive.Config["priority"][0] != oldRSA.Config["priority"][0] {
			t.Errorf("passive %+v", passive)
		}
		if st := s.userinfo("rot", oldToken); st != 200 {
			t.Errorf("old token after passive: %d", st)
		}
		kids := strings.Join(s.jwksKids("rot"), " ")
		if !strings.Contains(kids, oldKid) || !strings.Contains(kids, newKid) {
			t.Errorf("JWKS %s lacks %s or %s", kids, oldKid, newKid)
		}

		// Delete the old key: its tokens no longer verify.
		if st, _, b := s.do("DELETE", base+"/"+oldRSA.ID, admin, nil); st != http.StatusNoContent {
			t.Fatalf("delete old: %d %s", st, b)
		}
		if st := s.userinfo("rot", oldToken); st != http.StatusUnauthorized {
			t.Errorf("old token after delete: %d", st)
		}
		if st := s.userinfo("rot", newToken); st != 200 {
			t.Errorf("new token after delete: %d", st)
		}

		// The last active RS256 key can be neither deleted, disabled nor made passive.
		for _, c := range []struct {
			method string
			body   any
		}{
			{"DELETE", nil},
			{"PUT", map[string]any{"config": map[string][]string{"enabled": {"false"}}}},
			{"PUT", map[string]any{"config": map[string][]string{"active": {"false"}}}},
		} {
			st, _, b := s.do(c.method, base+"/"+newID, admin, c.body)
			var e map[string]string
			json.Unmarshal(b, &e)
			if st != http.StatusBadRequest || e["errorMessage"] == "" {
				t.Errorf("%s last RS256 key: %d %s", c.method, st, b)
			}
		}
		if st := s.userinfo("rot", newToken); st != 200 {
			t.Errorf("new token after refused changes: %d", st)
		}

		// Unknown ids and bad input.
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			var body any
			if m == "PUT" {
				body = map[string]any{"config": map[string][]string{}}
			}
			st, _, b := s.do(m, base+"/nope", admin, body)
			if st != http.StatusNotFound || !strings.Contains(string(b), "Could not find component") {
				t.Errorf("%s unknown: %d %s", m, st, b)
			}
		}
		if st, _, b := s.do("POST", base, admin, map[string]any{"providerId": "java-keystore", "providerType": keyProvider}); st != 400 {
			t.Errorf("unsupported provider: %d %s", st, b)
		}
		if st, _, b := s.do("POST", base, admin, map[string]any{"providerId": "hmac-generated",
			"config": map[string][]string{"priority": {"high"}}}); st != 400 {
			t.Errorf("bad priority: %d %s", st, b)
		}
		if st, _, b := s.do("POST", base, admin, map[string]any{"providerId": "hmac-generated",
			"config": map[string][]string{"priority": {"50"}}}); st != http.StatusCreated {
			t.Errorf("hmac: %d %s", st, b)
		}

		// A view-realm administrator reads but cannot write.
		viewer := s.realmAdmin(rl, "viewer", "view-realm")
		s.get(base, viewer, &list)
		if st, _, _ := s.do("POST", base, viewer, map[string]any{"providerId": "rsa-generated"}); st != http.StatusForbidden {
			t.Errorf("viewer POST: %d", st)
		}
		if st, _, _ := s.do("DELETE", base+"/"+newID, viewer, nil); st != http.StatusForbidden {
			t.Errorf("viewer DELETE: %d", st)
		}
		if st, _, _ := s.do("GET", base, "", nil); st != http.StatusUnauthorized {
			t.Errorf("anonymous GET: %d", st)
		}
	})
}
