package admin_test

import (
	"net/http"
	"regexp"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/admin"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// The mapper types token applies, which serverinfo must advertise exactly.
var tokenMapperTypes = []string{
	token.MapperUserProperty, token.MapperUserAttribute, token.MapperFullName, token.MapperHardcodedClaim,
	token.MapperAudience, token.MapperAudienceResolve, token.MapperRealmRole, token.MapperClientRole,
	token.MapperAllowedOrigins, token.MapperACR, token.MapperSub, token.MapperSessionNote,
	token.MapperAddress, token.MapperGroups, token.MapperHardcodedRole,
}

func TestServerInfo(t *testing.T) {
	s := newServer(t, storetest.Open)
	old := admin.Version
	admin.Version = "1.2.3-test"
	t.Cleanup(func() { admin.Version = old })

	var info struct {
		SystemInfo struct {
			Version          string `json:"version"`
			GatehouseVersion string `json:"gatehouseVersion"`
			ServerTime       string `json:"serverTime"`
			UptimeMillis     *int64 `json:"uptimeMillis"`
		} `json:"systemInfo"`
		MemoryInfo struct {
			Total, Used, Free int64
		} `json:"memoryInfo"`
		ProfileInfo struct {
			Name             string   `json:"name"`
			DisabledFeatures []string `json:"disabledFeatures"`
		} `json:"profileInfo"`
		ProtocolMapperTypes map[string][]struct {
			ID, Name, Category, HelpText string
			Properties                   []struct{ Name, Label, Type string }
		} `json:"protocolMapperTypes"`
		BuiltinProtocolMappers map[string][]struct {
			Name, Protocol, ProtocolMapper string
		} `json:"builtinProtocolMappers"`
		PasswordPolicies []struct{ ID string } `json:"passwordPolicies"`
		Themes           map[string][]struct {
			Name    string   `json:"name"`
			Locales []string `json:"locales"`
		} `json:"themes"`
		ClientInstallations map[string][]struct {
			ID string `json:"id"`
		} `json:"clientInstallations"`
		Providers map[string]struct {
			Providers map[string]any `json:"providers"`
		} `json:"providers"`
	}
	s.get("/admin/serverinfo", s.adminToken(), &info)

	if info.SystemInfo.GatehouseVersion != "1.2.3-test" || info.SystemInfo.ServerTime == "" || info.SystemInfo.UptimeMillis == nil {
		t.Errorf("systemInfo = %+v", info.SystemInfo)
	}
	// Clients parse systemInfo.version to pick their requests (Terraform's
	// Keycloak provider refuses to log in when it reads "dev"), so it names
	// the Keycloak release whose behaviour Gatehouse implements.
	if !regexp.MustCompile(`^26\.\d+\.\d+$`).MatchString(info.SystemInfo.Version) {
		t.Errorf("systemInfo.version = %q, want a Keycloak 26.x.y release", info.SystemInfo.Version)
	}
	if info.MemoryInfo.Total <= 0 || info.MemoryInfo.Used+info.MemoryInfo.Free != info.MemoryInfo.Total {
		t.Errorf("memoryInfo = %+v", info.MemoryInfo)
	}
	if info.ProfileInfo.Name != "community" || info.ProfileInfo.DisabledFeatures == nil {
		t.Errorf("profileInfo = %+v", info.ProfileInfo)
	}
	var ids []string
	for _, m := range info.ProtocolMapperTypes["openid-connect"] {
		ids = append(ids, m.ID)
		if m.Name == "" || m.Category != "Token mapper" || m.HelpText == "" {
			t.Errorf("mapper type %+v", m)
		}
		for _, p := range m.Properties {
			if p.Name == "" || p.Label == "" || p.Type == "" {
				t.Errorf("%s property %+v", m.ID, p)
			}
		}
	}
	if len(info.ProtocolMapperTypes) != 2 {
		t.Errorf("protocols = %v; Gatehouse maps openid-connect and saml", len(info.ProtocolMapperTypes))
	}
	slices.Sort(ids)
	want := slices.Sorted(slices.Values(tokenMapperTypes))
	if !slices.Equal(ids, want) {
		t.Errorf("mapper types = %v, want exactly token's %v", ids, want)
	}
	// SAML's are exactly those internal/saml applies.
	var samlIDs []string
	for _, m := range info.ProtocolMapperTypes["saml"] {
		samlIDs = append(samlIDs, m.ID)
		if !saml.SupportedMapper(m.ID) || m.Name == "" || m.Category == "" {
			t.Errorf("SAML mapper type %+v", m)
		}
	}
	if len(samlIDs) != len(saml.MapperTypes) || !slices.Contains(samlIDs, "saml-role-list-mapper") {
		t.Errorf("SAML mapper types = %v", samlIDs)
	}
	if got := info.Providers["protocol-mapper"].Providers; len(got) != len(want)+len(samlIDs) {
		t.Errorf("protocol-mapper providers = %v", got)
	}
	if got := info.Providers["login-protocol"].Providers; len(got) != 2 || got["saml"] == nil {
		t.Errorf("login protocols = %v", got)
	}
	for _, m := range info.BuiltinProtocolMappers["saml"] {
		if m.Protocol != "saml" || !saml.SupportedMapper(m.ProtocolMapper) {
			t.Errorf("SAML builtin mapper %+v has a type Gatehouse does not apply", m)
		}
	}
	if got := info.ClientInstallations["saml"]; len(got) != 3 || got[0].ID != "saml-idp-descriptor" {
		t.Errorf("SAML client installations = %+v", got)
	}
	builtins := info.BuiltinProtocolMappers["openid-connect"]
	if len(builtins) < 20 {
		t.Errorf("%d builtin mappers", len(builtins))
	}
	for _, m := range builtins {
		if m.Protocol != "openid-connect" || !slices.Contains(want, m.ProtocolMapper) {
			t.Errorf("builtin mapper %+v has a type Gatehouse does not apply", m)
		}
	}
	var policies []string
	for _, p := range info.PasswordPolicies {
		policies = append(policies, p.ID)
	}
	// Exactly the terms user.CheckPassword and the hashing enforce.
	wantPolicies := []string{"digits", "forceExpiredPasswordChange", "hashAlgorithm", "hashIterations", "length", "lowerCase", "maxLength",
		"notContainsUsername", "notEmail", "notUsername", "passwordAge", "passwordHistory", "regexPattern", "specialChars", "upperCase"}
	if !slices.Equal(policies, wantPolicies) {
		t.Errorf("password policies = %v", policies)
	}
	for _, id := range policies {
		if err := user.ValidatePolicyString(id); err != nil && id != "regexPattern" && id != "hashAlgorithm" {
			t.Errorf("advertised policy %s is refused: %v", id, err)
		}
	}
	themes := map[string][]string{}
	for typ, list := range info.Themes {
		for _, th := range list {
			themes[typ] = append(themes[typ], th.Name)
			if !slices.Contains(th.Locales, "en") {
				t.Errorf("theme %s/%s locales %v", typ, th.Name, th.Locales)
			}
		}
	}
	if !slices.Equal(themes["login"], []string{"base", "keycloak", "keycloak.v2"}) || !slices.Equal(themes["admin"], []string{"base", "keycloak.v2"}) {
		t.Errorf("themes = %v", themes)
	}
	if got := info.ClientInstallations["openid-connect"]; len(got) != 2 || got[0].ID != "keycloak-oidc-keycloak-json" {
		t.Errorf("client installations = %+v", got)
	}

	// Without a token: 401 (who may read it: TestServerInfoNeedsAnAdminRole).
	st, _, b := s.do("GET", "/admin/serverinfo", "", nil)
	rtExpect(t, "no token", st, b, http.StatusUnauthorized, `{"error":"HTTP 401 Unauthorized"}`)
}

// Regression (issue 12): serverinfo answered any signed-in user of any
// realm. Keycloak answers only administrators: master's admin or
// create-realm holders, or whoever holds an admin role over some realm.
func TestServerInfoNeedsAnAdminRole(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		s := newServer(t, open)
		r := s.newRealm("acme")
		if st, _, b := s.do("POST", "/admin/realms/master/users", s.adminToken(), map[string]any{"username": "nobody", "enabled": true,
			"credentials": []any{map[string]any{"type": "password", "value": "Nobody-pw-1"}}}); st != 201 {
			t.Fatalf("create nobody: %d %s", st, b)
		}
		for _, c := range []struct {
			name, tok string
			want      int
		}{
			{"master's admin", s.adminToken(), 200},
			{"a realm's view-users", s.realmAdmin(r, "viewer", "view-users"), 200},
			{"a plain user of a realm", s.realmAdmin(r, "plain"), 403},
			{"a plain user of master", s.token("master", "admin-cli", "nobody", "Nobody-pw-1"), 403},
		} {
			st, _, b := s.do("GET", "/admin/serverinfo", c.tok, nil)
			if st != c.want || st == 403 && string(b) != `{"error":"HTTP 403 Forbidden"}` {
				t.Errorf("%s: %d %.80s, want %d", c.name, st, b, c.want)
			}
		}
	})
}
