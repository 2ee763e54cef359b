package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// scopeIDFrom returns the last path segment of a Location header.
func scopeIDFrom(t *testing.T, s *testServer, hdr http.Header, prefix string) string {
	t.Helper()
	loc := hdr.Get("Location")
	if !strings.HasPrefix(loc, s.URL+prefix) {
		t.Fatalf("Location %q, want it under %s%s", loc, s.URL, prefix)
	}
	return strings.TrimPrefix(loc, s.URL+prefix)
}

func TestClientScopeCRUD(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		admin := s.adminToken()
		r := s.newRealm("cs")
		base := "/admin/realms/cs/client-scopes"

		st, hdr, b := s.do("POST", base, admin, map[string]any{"name": "custom", "protocol": "openid-connect",
			"attributes": map[string]string{"include.in.token.scope": "true"},
			"protocolMappers": []any{map[string]any{"name": "dept", "protocolMapper": "oidc-usermodel-attribute-mapper",
				"config": map[string]string{"user.attribute": "dept", "claim.name": "dept", "access.token.claim": "true"}}}})
		rtExpect(t, "create", st, b, http.StatusCreated, "")
		id := scopeIDFrom(t, s, hdr, base+"/")

		var got map[string]any
		s.get(base+"/"+id, admin, &got)
		if got["id"] != id || got["name"] != "custom" || got["protocol"] != "openid-connect" || got["description"] != nil {
			t.Errorf("GET scope = %v", got)
		}
		ms, _ := got["protocolMappers"].([]any)
		if len(ms) != 1 || ms[0].(map[string]any)["protocol"] != "openid-connect" || ms[0].(map[string]any)["id"] == "" {
			t.Errorf("mappers = %v", got["protocolMappers"])
		}
		var list []map[string]any
		s.get(base, admin, &list)
		if !slices.ContainsFunc(list, func(x map[string]any) bool { return x["id"] == id }) || len(list) != 14 {
			t.Errorf("list has %d scopes, want the 13 built-in ones (11 OpenID Connect, 2 SAML) and custom", len(list))
		}

		for _, c := range []struct {
			body   any
			status int
			want   string
		}{
			{map[string]any{"name": "custom", "protocol": "openid-connect"}, 409, `{"errorMessage":"Client Scope custom already exists"}`},
			{map[string]any{"name": "noproto"}, 400, `{"errorMessage":"Unexpected protocol"}`},
			{map[string]any{"name": "x", "protocol": "cas"}, 400, `{"errorMessage":"Unexpected protocol"}`},
			{map[string]any{"name": "two words", "protocol": "openid-connect"}, 400, `{"errorMessage":"Unexpected name \"two words\" for ClientScope"}`},
			{map[string]any{"protocol": "openid-connect"}, 400, `{"errorMessage":"Unexpected name \"\" for ClientScope"}`},
			{map[string]any{"name": "bad-mapper", "protocol": "openid-connect", "protocolMappers": []any{map[string]any{"name": "js", "protocolMapper": "oidc-script-based-protocol-mapper"}}},
				404, `{"error":"ProtocolMapper provider not found"}`},
			{`{"name":`, 400, `{"error":"invalid_request","error_description":"Cannot parse the JSON"}`},
		} {
			st, _, b = s.do("POST", base, admin, c.body)
			rtExpect(t, "create refused", st, b, c.status, c.want)
		}
		if _, err := s.DB.GetClientScopeByName(context.Background(), r.ID, "bad-mapper"); err == nil {
			t.Error("a scope with an unsupported mapper was stored")
		}

		// PUT changes what it carries; attributes merge, null removes.
		st, _, b = s.do("PUT", base+"/"+id, admin, `{"description":"Custom claims","attributes":{"include.in.token.scope":null,"display.on.consent.screen":"false"}}`)
		rtExpect(t, "update", st, b, http.StatusNoContent, "")
		sc, _ := s.DB.GetClientScope(context.Background(), r.ID, id)
		if sc.Name != "custom" || sc.Description != "Custom claims" || len(sc.ProtocolMappers) != 1 ||
			len(sc.Attributes) != 1 || sc.Attributes["display.on.consent.screen"] != "false" {
			t.Errorf("after PUT: %+v", sc)
		}
		st, _, b = s.do("PUT", base+"/"+id, admin, map[string]any{"name": "profile"})
		rtExpect(t, "rename onto profile", st, b, http.StatusConflict, `{"errorMessage":"Client Scope profile already exists"}`)
		st, _, b = s.do("PUT", base+"/"+id, admin, map[string]any{"protocol": "cas"})
		rtExpect(t, "bad protocol", st, b, http.StatusBadRequest, `{"errorMessage":"Unexpected protocol"}`)
		unknown := base + "/" + store.NewID()
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			st, _, b = s.do(m, unknown, admin, map[string]any{"name": "x"})
			rtExpect(t, m+" unknown", st, b, http.StatusNotFound, `{"error":"Could not find client scope"}`)
		}

		// Deleting a scope removes it from the realm defaults too.
		st, _, _ = s.do("PUT", "/admin/realms/cs/default-optional-client-scopes/"+id, admin, nil)
		if st != http.StatusNoContent {
			t.Fatalf("link: %d", st)
		}
		st, _, b = s.do("DELETE", base+"/"+id, admin, nil)
		rtExpect(t, "delete", st, b, http.StatusNoContent, "")
		st, _, b = s.do("GET", base+"/"+id, admin, nil)
		rtExpect(t, "get deleted", st, b, http.StatusNotFound, `{"error":"Could not find client scope"}`)
		links, _ := s.DB.ClientScopeLinks(context.Background(), r.ID, store.RealmDefaults)
		for _, l := range links {
			if l.ScopeID == id {
				t.Error("the deleted scope is still a realm default")
			}
		}
	})
}

func TestClientScopeMappers(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		admin := s.adminToken()
		r := s.newRealm("cm")
		st, hdr, _ := s.do("POST", "/admin/realms/cm/client-scopes", admin, map[string]any{"name": "m", "protocol": "openid-connect"})
		if st != http.StatusCreated {
			t.Fatal(st)
		}
		id := scopeIDFrom(t, s, hdr, "/admin/realms/cm/client-scopes/")
		models := "/admin/realms/cm/client-scopes/" + id + "/protocol-mappers/models"
		mapper := func(name, typ string) map[string]any {
			return map[string]any{"name": name, "protocol": "openid-connect", "protocolMapper": typ,
				"config": map[string]string{"claim.value": name, "claim.name": name, "access.token.claim": "true"}}
		}

		st, hdr, b := s.do("POST", models, admin, mapper("team", "oidc-hardcoded-claim-mapper"))
		rtExpect(t, "create mapper", st, b, http.StatusCreated, "")
		mid := scopeIDFrom(t, s, hdr, models+"/")
		var m map[string]any
		s.get(models+"/"+mid, admin, &m)
		if m["id"] != mid || m["name"] != "team" || m["consentRequired"] != false || m["config"].(map[string]any)["claim.value"] != "team" {
			t.Errorf("GET mapper = %v", m)
		}

		st, _, b = s.do("POST", models, admin, mapper("team", "oidc-hardcoded-claim-mapper"))
		rtExpect(t, "duplicate name", st, b, http.StatusConflict, `{"errorMessage":"Protocol mapper exists with same name"}`)
		st, _, b = s.do("POST", models, admin, mapper("js", "oidc-script-based-protocol-mapper"))
		rtExpect(t, "unsupported type", st, b, http.StatusNotFound, `{"error":"ProtocolMapper provider not found"}`)
		st, _, b = s.do("POST", models, admin, mapper("", "oidc-hardcoded-claim-mapper"))
		rtExpect(t, "no name", st, b, http.StatusBadRequest, `{"errorMessage":"Protocol mapper name is missing"}`)

		// add-models is all or nothing.
		st, _, b = s.do("POST", "/admin/realms/cm/client-scopes/"+id+"/protocol-mappers/add-models", admin,
			[]any{mapper("a", "oidc-hardcoded-claim-mapper"), mapper("b", "oidc-sub-mapper")})
		rtExpect(t, "add-models", st, b, http.StatusNoContent, "")
		st, _, b = s.do("POST", "/admin/realms/cm/client-scopes/"+id+"/protocol-mappers/add-models", admin,
			[]any{mapper("c", "oidc-hardcoded-claim-mapper"), mapper("a", "oidc-hardcoded-claim-mapper")})
		rtExpect(t, "add-models with a taken name", st, b, http.StatusConflict, `{"errorMessage":"Protocol mapper exists with same name"}`)
		var list []map[string]any
		s.get(models, admin, &list)
		var names []string
		for _, x := range list {
			names = append(names, x["name"].(string))
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"a", "b", "team"}) {
			t.Errorf("mappers = %v", names)
		}
		s.get("/admin/realms/cm/client-scopes/"+id+"/protocol-mappers/protocol/saml", admin, &list)
		if len(list) != 0 {
			t.Errorf("saml mappers = %v", list)
		}

		// PUT replaces the configuration, not the name.
		st, _, b = s.do("PUT", models+"/"+mid, admin, map[string]any{"name": "renamed", "protocolMapper": "oidc-hardcoded-claim-mapper",
			"config": map[string]string{"claim.value": "blue", "claim.name": "team"}})
		rtExpect(t, "update mapper", st, b, http.StatusNoContent, "")
		sc, _ := s.DB.GetClientScope(context.Background(), r.ID, id)
		i := slices.IndexFunc(sc.ProtocolMappers, func(m client.ProtocolMapper) bool { return m.ID == mid })
		if i < 0 || sc.ProtocolMappers[i].Name != "team" || sc.ProtocolMappers[i].Config["claim.value"] != "blue" ||
			sc.ProtocolMappers[i].Config["access.token.claim"] != "" {
			t.Errorf("after PUT: %+v", sc.ProtocolMappers)
		}
		st, _, b = s.do("PUT", models+"/"+mid, admin, mapper("team", "oidc-nope-mapper"))
		rtExpect(t, "update to unsupported type", st, b, http.StatusNotFound, `{"error":"ProtocolMapper provider not found"}`)

		st, _, b = s.do("DELETE", models+"/"+mid, admin, nil)
		rtExpect(t, "delete mapper", st, b, http.StatusNoContent, "")
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			st, _, b = s.do(m, models+"/"+mid, admin, mapper("team", "oidc-hardcoded-claim-mapper"))
			rtExpect(t, m+" deleted mapper", st, b, http.StatusNotFound, `{"error":"Model not found"}`)
		}
		st, _, b = s.do("GET", "/admin/realms/cm/client-scopes/"+store.NewID()+"/protocol-mappers/models", admin, nil)
		rtExpect(t, "mappers of an unknown scope", st, b, http.StatusNotFound, `{"error":"Could not find client scope"}`)
	})
}

// view-clients reads scopes, manage-clients writes them, query-clients lists
// none, and other admin roles are refused; a refused call changes nothing.
func TestClientScopePermissions(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		r := s.newRealm("csp")
		profile, _ := s.DB.GetClientScopeByName(ctx, r.ID, "profile")
		one := "/admin/realms/csp/client-scopes/" + profile.ID
		viewer := s.realmAdmin(r, "cview", "view-clients")
		querier := s.realmAdmin(r, "cquery", "query-clients")
		realmViewer := s.realmAdmin(r, "rview", "view-realm")
		forbidden := `{"error":"HTTP 403 Forbidden"}`

		var list []any
		s.get("/admin/realms/csp/client-scopes", viewer, &list)
		if len(list) != 13 {
			t.Errorf("view-clients lists %d scopes", len(list))
		}
		st, _, b := s.do("GET", "/admin/realms/csp/client-scopes", querier, nil)
		rtExpect(t, "query-clients lists", st, b, http.StatusOK, `[]`)
		st, _, b = s.do("GET", "/admin/realms/csp/client-scopes", realmViewer, nil)
		rtExpect(t, "view-realm lists", st, b, http.StatusForbidden, forbidden)
		s.get(one, viewer, new(map[string]any))
		s.get(one+"/protocol-mappers/models", viewer, new([]any))

		for _, c := range []struct{ method, path string }{
			{"POST", "/admin/realms/csp/client-scopes"},
			{"PUT", one},
			{"DELETE", one},
			{"POST", one + "/protocol-mappers/models"},
			{"POST", one + "/protocol-mappers/add-models"},
			{"DELETE", one + "/protocol-mappers/models/" + profile.ProtocolMappers[0].ID},
		} {
			body := any(map[string]any{"name": "hijack", "protocol": "openid-connect", "protocolMapper": "oidc-sub-mapper"})
			if strings.HasSuffix(c.path, "add-models") {
				body = []any{body}
			}
			st, _, b := s.do(c.method, c.path, viewer, body)
			rtExpect(t, "view-clients "+c.method+" "+c.path, st, b, http.StatusForbidden, forbidden)
			st, _, b = s.do(c.method, c.path, querier, body)
			rtExpect(t, "query-clients "+c.method+" "+c.path, st, b, http.StatusForbidden, forbidden)
		}
		// Keycloak looks the scope up before the operation's own permission.
		st, _, b = s.do("DELETE", "/admin/realms/csp/client-scopes/"+store.NewID(), viewer, nil)
		rtExpect(t, "view-clients deletes an unknown scope", st, b, http.StatusNotFound, `{"error":"Could not find client scope"}`)

		after, err := s.DB.GetClientScope(ctx, r.ID, profile.ID)
		b1, _ := json.Marshal(profile)
		b2, _ := json.Marshal(after)
		if err != nil || string(b1) != string(b2) {
			t.Errorf("refused calls changed the scope: %v\n%s\n%s", err, b1, b2)
		}
		if _, err := s.DB.GetClientScopeByName(ctx, r.ID, "hijack"); err == nil {
			t.Error("a refused POST created a scope")
		}
	})
}
