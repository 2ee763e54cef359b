package admin_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// A partial import reads users, groups, clients, roles (and identity
// providers) only. The realm's user profile (its UserProfileProvider
// component) and its localization texts in the same file are not imported,
// as Keycloak's PartialImportRepresentation ignores them; the answer's
// warnings name both, and neither the profile nor the texts change. A user
// the file carries is still added, with the attribute the ignored profile
// would have declared kept as an unmanaged one would be.
func TestPartialImportIgnoresUserProfileAndTexts(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "pimp")
		profile := `{"attributes":[{"name":"username"},{"name":"email"},{"name":"badge","validations":{"pattern":{"pattern":"^[0-9]+$"}}}]}`
		body := map[string]any{
			"ifResourceExists": "SKIP",
			"users":            []any{map[string]any{"username": "erin", "enabled": true}},
			"components": map[string]any{"org.keycloak.userprofile.UserProfileProvider": []any{map[string]any{
				"providerId": "declarative-user-profile", "subComponents": map[string]any{},
				"config": map[string]any{"kc.user.profile.config": []string{profile}}}}},
			"localizationTexts": map[string]any{"en": map[string]any{"greeting": "Hello from the file"}},
		}
		before := e.want("GET", "/users/profile", e.tok, nil, 200, "")
		st, _, b := s.do("POST", e.path("/partialImport"), e.tok, body)
		if st != 200 {
			t.Fatalf("partialImport: %d %s", st, b)
		}
		var res struct {
			Added    int
			Warnings []string
		}
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		if res.Added != 1 {
			t.Errorf("added %d, want the one user: %s", res.Added, b)
		}
		for _, w := range []string{"$.components", "$.localizationTexts"} {
			if !slices.Contains(res.Warnings, w) {
				t.Errorf("warnings %v lack %s", res.Warnings, w)
			}
		}
		if after := e.want("GET", "/users/profile", e.tok, nil, 200, ""); after != before || strings.Contains(after, "badge") {
			t.Errorf("the user profile changed:\n%s\n%s", before, after)
		}
		e.want("GET", "/localization", e.tok, nil, 200, "[]")
		e.want("GET", "/localization/en", e.tok, nil, 200, "{}")
		var users []struct{ Username string }
		s.get(e.path("/users?username=erin&exact=true"), e.tok, &users)
		if len(users) != 1 {
			t.Errorf("the file's user was not added: %+v", users)
		}
	})
}
