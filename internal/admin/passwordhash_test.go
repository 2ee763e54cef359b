package admin_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// heavyCredential is a password credential as Keycloak exports one, with
// the given credentialData. Its hash is never computed by these tests.
func heavyCredential(credentialData string) map[string]any {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	return map[string]any{
		"type":           "password",
		"secretData":     fmt.Sprintf(`{"value":"%s","salt":"%s","additionalParameters":{}}`, b64(32), b64(16)),
		"credentialData": credentialData,
	}
}

// Issue 12, hole 4: a realm admin stored a credential whose argon2
// parameters needed 1 GiB and 4 passes (or PBKDF2 at 10 million
// iterations); four wrong passwords for that user took 16 s each and the
// server to 4.3 GB. Every way a hash enters refuses it, storing nothing.
var heavyCredentials = map[string]map[string]any{
	"argon2 at 1 GiB and 4 passes": heavyCredential(`{"hashIterations":4,"algorithm":"argon2","additionalParameters":{"hashLength":["32"],"memory":["1048576"],"type":["id"],"version":["1.3"],"parallelism":["1"]}}`),
	"pbkdf2-sha512 at 10 million":  heavyCredential(`{"hashIterations":10000000,"algorithm":"pbkdf2-sha512","additionalParameters":{}}`),
}

func TestHeavyPasswordHashIsRefused(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		e := newUsersEnv(t, s, "hb")
		admin := e.tok
		bob := e.create(map[string]any{"username": "bob", "credentials": []any{map[string]any{"type": "password", "value": "bob-pw"}}})
		before, err := s.DB.ListCredentials(ctx, bob)
		if err != nil || len(before) != 1 {
			t.Fatalf("bob's credentials: %v %v", before, err)
		}
		for name, cred := range heavyCredentials {
			t.Run(name, func(t *testing.T) {
				refused := func(what string, st int, body []byte) {
					t.Helper()
					if st != http.StatusBadRequest || !strings.Contains(string(body), `"errorMessage"`) {
						t.Errorf("%s: %d %s; want 400 with Keycloak's errorMessage", what, st, body)
					}
				}

				st, _, b := s.do("POST", e.path("/users"), admin, map[string]any{"username": "heavy", "credentials": []any{cred}})
				refused("POST /users", st, b)
				if _, err := s.DB.GetUserByUsername(ctx, e.realm.ID, "heavy"); err == nil {
					t.Error("POST /users: the refused user was stored")
				}

				st, _, b = s.do("PUT", e.path("/users/"+bob), admin, map[string]any{"firstName": "Bobby", "credentials": []any{cred}})
				refused("PUT /users/{id}", st, b)
				after, _ := s.DB.ListCredentials(ctx, bob)
				if len(after) != 1 || after[0].SecretData != before[0].SecretData || after[0].CredentialData != before[0].CredentialData {
					t.Error("PUT /users/{id}: bob's password changed")
				}
				if u, _ := s.DB.GetUser(ctx, e.realm.ID, bob); u.FirstName != "" {
					t.Errorf("PUT /users/{id}: bob's first name became %q", u.FirstName)
				}

				st, _, b = s.do("POST", "/admin/realms/hb/partialImport", admin, map[string]any{
					"ifResourceExists": "OVERWRITE",
					"users": []any{
						map[string]any{"username": "carol", "enabled": true},
						map[string]any{"username": "heavy", "enabled": true, "credentials": []any{cred}},
					}})
				refused("partialImport", st, b)
				for _, name := range []string{"carol", "heavy"} {
					if _, err := s.DB.GetUserByUsername(ctx, e.realm.ID, name); err == nil {
						t.Errorf("partialImport: %s was stored", name)
					}
				}

				st, _, b = s.do("POST", "/admin/realms", admin, map[string]any{"realm": "imported", "enabled": true,
					"users": []any{map[string]any{"username": "heavy", "enabled": true, "credentials": []any{cred}}}})
				refused("realm import", st, b)
				if _, err := s.DB.GetRealmByName(ctx, "imported"); err == nil {
					t.Error("realm import: the refused realm was stored")
				}
			})
		}
	})
}

func TestHeavyPasswordPolicyIsRefused(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		admin := s.adminToken()
		s.newRealm("hp")
		for _, policy := range []string{
			"hashIterations(10000000)",
			"hashAlgorithm(pbkdf2-sha512) and hashIterations(10000000)",
			"hashAlgorithm(pbkdf2-sha256) and hashIterations(1200001)",
		} {
			st, _, b := s.do("PUT", "/admin/realms/hp", admin, map[string]any{"passwordPolicy": policy})
			if st != http.StatusBadRequest || !strings.Contains(string(b), "Invalid config for hashIterations") {
				t.Errorf("PUT realm %q: %d %s; want 400", policy, st, b)
			}
			st, _, b = s.do("POST", "/admin/realms", admin, map[string]any{"realm": "hp2", "passwordPolicy": policy})
			if st != http.StatusBadRequest {
				t.Errorf("POST realm %q: %d %s; want 400", policy, st, b)
			}
		}
		if r, _ := s.DB.GetRealmByName(ctx, "hp"); r.PasswordPolicy != "" {
			t.Errorf("policy became %q", r.PasswordPolicy)
		}
		if _, err := s.DB.GetRealmByName(ctx, "hp2"); err == nil {
			t.Error("a refused realm was stored")
		}
		// Keycloak's PBKDF2-era count under argon2 is still taken (and ignored).
		st, _, b := s.do("PUT", "/admin/realms/hp", admin, map[string]any{"passwordPolicy": "hashIterations(27500)"})
		if st != http.StatusNoContent {
			t.Errorf("PUT realm hashIterations(27500): %d %s", st, b)
		}
	})
}
