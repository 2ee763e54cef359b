package admin_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"
)

const regPolicyType = "org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy"

type policyComp struct {
	ID           string              `json:"id"`
	Name         string              `json:"name"`
	ProviderID   string              `json:"providerId"`
	ProviderType string              `json:"providerType"`
	SubType      string              `json:"subType"`
	Config       map[string][]string `json:"config"`
}

func TestClientRegistrationPolicies(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		s.newRealm("rp")
		admin := s.adminToken()
		comps := "/admin/realms/rp/components"
		anon := "/realms/rp/clients-registrations/default"
		policies := func() []policyComp {
			t.Helper()
			var ps []policyComp
			s.get(comps+"?type="+regPolicyType, admin, &ps)
			return ps
		}
		find := func(name, sub string) policyComp {
			t.Helper()
			for _, p := range policies() {
				if p.Name == name && p.SubType == sub {
					return p
				}
			}
			t.Fatalf("no policy %s/%s", name, sub)
			return policyComp{}
		}
		put := func(p policyComp) {
			t.Helper()
			if st, _, b := s.do("PUT", comps+"/"+p.ID, admin, p); st != 204 {
				t.Fatalf("PUT policy %s: %d %s", p.Name, st, b)
			}
		}

		t.Run("a new realm has the default set", func(t *testing.T) {
			var got []string
			for _, p := range policies() {
				if p.ProviderType != regPolicyType || p.ID == "" {
					t.Errorf("component %+v", p)
				}
				got = append(got, p.SubType+"/"+p.ProviderID+"/"+p.Name)
			}
			slices.Sort(got)
			want := []string{
				"anonymous/allowed-client-templates/Allowed Client Scopes",
				"anonymous/allowed-protocol-mappers/Allowed Protocol Mapper Types",
				"anonymous/consent-required/Consent Required",
				"anonymous/max-clients/Max Clients Limit",
				"anonymous/registration-web-origins/Allowed Registration Web Origins",
				"anonymous/scope/Full Scope Disabled",
				"anonymous/trusted-hosts/Trusted Hosts",
				"authenticated/allowed-client-templates/Allowed Client Scopes",
				"authenticated/allowed-protocol-mappers/Allowed Protocol Mapper Types",
				"authenticated/registration-web-origins/Allowed Registration Web Origins",
			}
			if !slices.Equal(got, want) {
				t.Errorf("policies\n got %v\nwant %v", got, want)
			}
			th := find("Trusted Hosts", "anonymous")
			if fmt.Sprint(th.Config) != "map[client-uris-must-match:[true] host-sending-registration-request-must-match:[true]]" {
				t.Errorf("trusted hosts config %v", th.Config)
			}
			if mc := find("Max Clients Limit", "anonymous"); fmt.Sprint(mc.Config["max-clients"]) != "[200]" {
				t.Errorf("max clients config %v", mc.Config)
			}
			if pm := find("Allowed Protocol Mapper Types", "authenticated"); len(pm.Config["allowed-protocol-mapper-types"]) != 8 ||
				!slices.Contains(pm.Config["allowed-protocol-mapper-types"], "oidc-usermodel-attribute-mapper") {
				t.Errorf("mapper types %v", pm.Config)
			}
			var one policyComp
			s.get(comps+"/"+th.ID, admin, &one)
			if one.Name != "Trusted Hosts" || one.SubType != "anonymous" {
				t.Errorf("GET one: %+v", one)
			}
		})

		t.Run("providers", func(t *testing.T) {
			var ps []struct {
				ID         string `json:"id"`
				HelpText   string `json:"helpText"`
				Properties []struct {
					Name string `json:"name"`
					Type string `json:"type"`
				} `json:"properties"`
			}
			s.get("/admin/realms/rp/client-registration-policy/providers", admin, &ps)
			ids := map[string][]string{}
			for _, p := range ps {
				if p.HelpText == "" {
					t.Errorf("%s has no helpText", p.ID)
				}
				for _, pr := range p.Properties {
					ids[p.ID] = append(ids[p.ID], pr.Name+":"+pr.Type)
				}
			}
			if fmt.Sprint(ids["trusted-hosts"]) != "[trusted-hosts:MultivaluedString host-sending-registration-request-must-match:boolean client-uris-must-match:boolean]" ||
				fmt.Sprint(ids["max-clients"]) != "[max-clients:String]" || len(ps) != 8 {
				t.Errorf("providers %v", ids)
			}
		})

		t.Run("config is validated", func(t *testing.T) {
			th := find("Trusted Hosts", "anonymous")
			th.Config = map[string][]string{"host-sending-registration-request-must-match": {"false"}, "client-uris-must-match": {"false"}}
			if st, _, b := s.do("PUT", comps+"/"+th.ID, admin, th); st != 400 {
				t.Errorf("both checks off: %d %s", st, b)
			}
			mc := find("Max Clients Limit", "anonymous")
			mc.Config = map[string][]string{"max-clients": {"many"}}
			if st, _, b := s.do("PUT", comps+"/"+mc.ID, admin, mc); st != 400 {
				t.Errorf("max-clients many: %d %s", st, b)
			}
			bad := map[string]any{"name": "x", "providerId": "nope", "providerType": regPolicyType, "subType": "anonymous"}
			if st, _, b := s.do("POST", comps, admin, bad); st != 400 {
				t.Errorf("unknown provider: %d %s", st, b)
			}
			bad = map[string]any{"name": "x", "providerId": "scope", "providerType": regPolicyType, "subType": "sometimes"}
			if st, _, b := s.do("POST", comps, admin, bad); st != 400 {
				t.Errorf("bad subType: %d %s", st, b)
			}
			if len(policies()) != 10 {
				t.Errorf("a refused change was stored: %d policies", len(policies()))
			}
		})

		app := map[string]any{"clientId": "anon-app", "redirectUris": []string{"https://app.example/cb"}}
		t.Run("trusted hosts", func(t *testing.T) {
			st, _, out := regDo(t, s, "POST", anon, "", app)
			wantRegError(t, "untrusted sender", st, out, 403, "insufficient_scope",
				"Policy 'Trusted Hosts' rejected request to client-registration service. Details: Host not trusted.")
			th := find("Trusted Hosts", "anonymous")
			th.Config["trusted-hosts"] = []string{"127.0.0.1"}
			put(th)
			st, _, out = regDo(t, s, "POST", anon, "", app)
			wantRegError(t, "untrusted redirect", st, out, 403, "insufficient_scope",
				"Policy 'Trusted Hosts' rejected request to client-registration service. Details: URI doesn't match any trusted host or trusted domain")
			th.Config["trusted-hosts"] = []string{"127.0.0.1", "*.example"}
			put(th)
		})

		t.Run("anonymous registration is shaped by the policies", func(t *testing.T) {
			st, _, out := regDo(t, s, "POST", anon, "", app)
			if st != 201 {
				t.Fatalf("anonymous registration: %d %v", st, out)
			}
			if out["consentRequired"] != true || out["fullScopeAllowed"] != false {
				t.Errorf("consentRequired %v fullScopeAllowed %v", out["consentRequired"], out["fullScopeAllowed"])
			}
			rat := out["registrationAccessToken"].(string)
			out["consentRequired"] = false
			st, _, res := regDo(t, s, "PUT", anon+"/anon-app", rat, out)
			wantRegError(t, "consent off", st, res, 403, "insufficient_scope",
				"Policy 'Consent Required' rejected request to client-registration service. Details: Not permitted to update consentRequired to false")
			out["consentRequired"], out["fullScopeAllowed"] = true, true
			st, _, res = regDo(t, s, "PUT", anon+"/anon-app", rat, out)
			wantRegError(t, "full scope on", st, res, 403, "insufficient_scope",
				"Policy 'Full Scope Disabled' rejected request to client-registration service. Details: Not permitted to enable fullScopeAllowed")
		})

		t.Run("allowed protocol mappers", func(t *testing.T) {
			withMapper := map[string]any{"clientId": "mapper-app", "redirectUris": []string{"https://app.example/cb"},
				"protocolMappers": []map[string]any{{"name": "hc", "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-claim-mapper",
					"config": map[string]string{"claim.name": "x", "claim.value": "y", "access.token.claim": "true"}}}}
			st, _, out := regDo(t, s, "POST", anon, "", withMapper)
			wantRegError(t, "hardcoded mapper", st, out, 403, "insufficient_scope",
				"Policy 'Allowed Protocol Mapper Types' rejected request to client-registration service. Details: ProtocolMapper type not allowed")
			// An administrator's registration is authenticated: its own
			// list refuses the type too.
			st, _, out = regDo(t, s, "POST", anon, admin, withMapper)
			wantRegError(t, "hardcoded mapper, authenticated", st, out, 403, "insufficient_scope",
				"Policy 'Allowed Protocol Mapper Types' rejected request to client-registration service. Details: ProtocolMapper type not allowed")
		})

		t.Run("client disabled, added and removed", func(t *testing.T) {
			add := map[string]any{"name": "Disabled", "providerId": "client-disabled", "providerType": regPolicyType, "subType": "anonymous"}
			st, hd, b := s.do("POST", comps, admin, add)
			if st != 201 {
				t.Fatalf("add policy: %d %s", st, b)
			}
			st, _, out := regDo(t, s, "POST", anon, "", map[string]any{"clientId": "off-app", "redirectUris": []string{"https://app.example/cb"}})
			if st != 201 || out["enabled"] != false {
				t.Errorf("registration under client-disabled: %d enabled=%v", st, out["enabled"])
			}
			if st, _, b := s.do("DELETE", hd.Get("Location")[len(s.URL):], admin, nil); st != 204 {
				t.Fatalf("delete policy: %d %s", st, b)
			}
			if len(policies()) != 10 {
				t.Errorf("%d policies after delete", len(policies()))
			}
		})

		t.Run("max clients", func(t *testing.T) {
			var cs []map[string]any
			s.get("/admin/realms/rp/clients", admin, &cs)
			mc := find("Max Clients Limit", "anonymous")
			mc.Config["max-clients"] = []string{fmt.Sprint(len(cs))}
			put(mc)
			st, _, out := regDo(t, s, "POST", anon, "", map[string]any{"clientId": "one-too-many", "redirectUris": []string{"https://app.example/cb"}})
			wantRegError(t, "max clients", st, out, 403, "insufficient_scope",
				fmt.Sprintf("Policy 'Max Clients Limit' rejected request to client-registration service. Details: It's allowed to have max %d clients per realm", len(cs)))
			// Authenticated registrations are not limited by it.
			if st, _, out := regDo(t, s, "POST", anon, admin, map[string]any{"clientId": "by-admin"}); st != 201 {
				t.Errorf("authenticated registration: %d %v", st, out)
			}
		})
	})
}

func TestClientRegistrationPoliciesRoundTrip(t *testing.T) {
	data, err := os.ReadFile("../../test/exports/testdata/Alfresco__alfresco-identity-service__alfresco-realm-1.3.json")
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]any
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	type comp struct {
		ID, Name, ProviderID, SubType string
		Config                        map[string][]string
	}
	norm := func(raw any) []string {
		b, _ := json.Marshal(raw)
		var cs []comp
		if err := json.Unmarshal(b, &cs); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			for k := range c.Config {
				slices.Sort(c.Config[k])
			}
			if len(c.Config) == 0 {
				c.Config = nil
			}
			out = append(out, fmt.Sprintf("%+v", c))
		}
		slices.Sort(out)
		return out
	}
	want := norm(file["components"].(map[string]any)[regPolicyType])
	if len(want) != 8 {
		t.Fatalf("%d policies in the file", len(want))
	}
	both(t, func(t *testing.T, s *testServer) {
		admin := s.adminToken()
		if st, _, b := s.do("POST", "/admin/realms", admin, file); st != 201 {
			t.Fatalf("import: %d %s", st, b)
		}
		var got []policyComp
		s.get("/admin/realms/alfresco/components?type="+regPolicyType, admin, &got)
		if g := norm(got); !slices.Equal(g, want) {
			t.Errorf("after import\n got %v\nwant %v", g, want)
		}
		st, _, b := s.do("POST", "/admin/realms/alfresco/partial-export", admin, nil)
		if st != 200 {
			t.Fatalf("export: %d %s", st, b)
		}
		var exp map[string]any
		if err := json.Unmarshal(b, &exp); err != nil {
			t.Fatal(err)
		}
		if g := norm(exp["components"].(map[string]any)[regPolicyType]); !slices.Equal(g, want) {
			t.Errorf("export\n got %v\nwant %v", g, want)
		}
		// A realm file without policies gets the default set.
		if st, _, b := s.do("POST", "/admin/realms", admin, map[string]any{"realm": "bare"}); st != 201 {
			t.Fatalf("bare realm: %d %s", st, b)
		}
		var bare []policyComp
		s.get("/admin/realms/bare/components?type="+regPolicyType, admin, &bare)
		if len(bare) != 10 {
			t.Errorf("bare realm has %d policies", len(bare))
		}
	})
}
