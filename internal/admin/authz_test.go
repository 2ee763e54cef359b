package admin_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// authzEnv is a realm "rs" with a confidential client "api" that is a
// resource server, a realm role "reader", a user "bob" and a group "/team".
type authzEnv struct {
	s        *testServer
	tok      string
	clientID string
	base     string // the resource server's admin path
}

func newAuthzEnv(t *testing.T, s *testServer) *authzEnv {
	t.Helper()
	tok := s.adminToken()
	s.newRealm("rs")
	e := &authzEnv{s: s, tok: tok}
	st, h, b := s.do("POST", "/admin/realms/rs/clients", tok, map[string]any{"clientId": "api", "publicClient": false, "secret": "x",
		"authorizationServicesEnabled": true})
	if st != 201 {
		t.Fatalf("create client: %d %s", st, b)
	}
	loc := h.Get("Location")
	e.clientID = loc[strings.LastIndex(loc, "/")+1:]
	e.base = "/admin/realms/rs/clients/" + e.clientID + "/authz/resource-server"
	for _, c := range []struct {
		path string
		body any
	}{
		{"/admin/realms/rs/roles", map[string]any{"name": "reader"}},
		{"/admin/realms/rs/users", map[string]any{"username": "bob", "enabled": true}},
		{"/admin/realms/rs/groups", map[string]any{"name": "team"}},
	} {
		if st, _, b := s.do("POST", c.path, tok, c.body); st != 201 {
			t.Fatalf("POST %s: %d %s", c.path, st, b)
		}
	}
	return e
}

// call sends a request under the resource server and checks its status.
func (e *authzEnv) call(t *testing.T, method, path string, body any, want int) []byte {
	t.Helper()
	st, _, b := e.s.do(method, e.base+path, e.tok, body)
	if st != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, st, b, want)
	}
	return b
}

func (e *authzEnv) create(t *testing.T, path string, body any) string {
	t.Helper()
	var out map[string]any
	json.Unmarshal(e.call(t, "POST", path, body, 201), &out)
	if id, ok := out["id"].(string); ok {
		return id
	}
	return out["_id"].(string)
}

// TestAuthzErrors checks the refusals of the authorization services API:
// each answers Keycloak's status and body, and stores nothing.
func TestAuthzErrors(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newAuthzEnv(t, s)
		scope := e.create(t, "/scope", map[string]any{"name": "read"})
		e.create(t, "/resource", map[string]any{"name": "doc", "scopes": []map[string]any{{"name": "read"}}})
		e.create(t, "/policy/role", map[string]any{"name": "readers", "roles": []map[string]any{{"id": "reader"}}})
		before := e.call(t, "GET", "/settings", nil, 200)

		for _, c := range []struct {
			name, method, path string
			body               any
			status             int
			resp               string
		}{
			{"a JavaScript policy", "POST", "/policy/js", map[string]any{"name": "js", "code": "$evaluation.grant();"}, 400, `{"errorMessage":"Script upload is disabled"}`},
			{"a JavaScript policy, generic", "POST", "/policy", map[string]any{"name": "js", "type": "js", "config": map[string]string{"code": "x"}}, 400, `{"errorMessage":"Script upload is disabled"}`},
			{"a policy name taken", "POST", "/policy/user", map[string]any{"name": "readers", "users": []string{"bob"}}, 409,
				`{"error":"Policy with name [readers] already exists","error_description":"Conflicting policy"}`},
			{"a resource name taken", "POST", "/resource", map[string]any{"name": "doc"}, 409,
				`{"error":"invalid_request","error_description":"Resource with name [doc] already exists."}`},
			{"a scope name taken", "POST", "/scope", map[string]any{"name": "read"}, 409, `{"errorMessage":"Scope with name [read] already exists"}`},
			{"a scope a resource holds", "DELETE", "/scope/" + scope, nil, 400, `{"errorMessage":"Scopes can not be removed while associated with resources."}`},
			{"a missing role", "POST", "/policy/role", map[string]any{"name": "ghost", "roles": []map[string]any{{"id": "no-such-role"}}}, 400,
				`{"errorMessage":"Error while updating policy [ghost]. Role [no-such-role] could not be found."}`},
			{"a missing resource in a permission", "POST", "/permission/resource", map[string]any{"name": "p", "resources": []string{"nope"}}, 400,
				`{"errorMessage":"Resource with id or name [nope] not found"}`},
			{"an owner who is no user", "POST", "/resource", map[string]any{"name": "x", "owner": "carol"}, 400,
				`{"errorMessage":"Owner must be a valid username or user identifier. If the resource server, the client id or null."}`},
			{"a bad time", "POST", "/policy/time", map[string]any{"name": "t", "notBefore": "tomorrow"}, 400, `{"errorMessage":"Could not parse a date using format [tomorrow]"}`},
			{"a bad pattern", "POST", "/policy/regex", map[string]any{"name": "r", "targetClaim": "email", "pattern": "(["}, 400, `{"errorMessage":"Invalid pattern [([]"}`},
			{"a bad enforcement mode", "PUT", "", map[string]any{"policyEnforcementMode": "SOMETIMES"}, 400, ``},
			{"a bad decision strategy", "PUT", "", map[string]any{"decisionStrategy": "MAJORITY"}, 400, ``},
			{"a missing policy", "GET", "/policy/6f0c7e0e-0000-0000-0000-000000000000", nil, 404, ``},
			{"a missing resource", "DELETE", "/resource/nope", nil, 404, ``},
			{"a missing scope", "PUT", "/scope/nope", map[string]any{"name": "x"}, 404, ``},
			{"POST on a policy id", "POST", "/policy/nope", map[string]any{}, 405, `{"error":"HTTP 405 Method Not Allowed"}`},
			{"search without a name", "GET", "/policy/search", nil, 400, ``},
			{"search finding nothing", "GET", "/scope/search?name=nothing", nil, 204, ``},
			{"an import naming a missing policy", "POST", "/import", map[string]any{"policies": []map[string]any{{"name": "p", "type": "scope",
				"config": map[string]string{"applyPolicies": `["nobody"]`}}}}, 400, `{"errorMessage":"Policy with id or name [nobody] not found"}`},
			{"an import with a script", "POST", "/import", map[string]any{"scopes": []map[string]any{{"name": "new-scope"}},
				"policies": []map[string]any{{"name": "s", "type": "js", "config": map[string]string{"code": "x"}}}}, 400, `{"errorMessage":"Script upload is disabled"}`},
		} {
			st, _, b := s.do(c.method, e.base+c.path, e.tok, c.body)
			if st != c.status || c.resp != "" && string(b) != c.resp {
				t.Errorf("%s: %d %s, want %d %s", c.name, st, b, c.status, c.resp)
			}
		}
		if after := e.call(t, "GET", "/settings", nil, 200); !bytes.Equal(after, before) {
			t.Errorf("refused requests changed the resource server:\nbefore %s\nafter  %s", before, after)
		}

		// A public client cannot be a resource server.
		st, _, b := s.do("POST", "/admin/realms/rs/clients", e.tok, map[string]any{"clientId": "spa", "publicClient": true, "authorizationServicesEnabled": true})
		if st != 400 || string(b) != `{"errorMessage":"Only confidential clients are allowed to set authorization settings"}` {
			t.Errorf("public resource server: %d %s", st, b)
		}
		if st, _, _ := s.do("GET", "/admin/realms/rs/clients?clientId=spa", e.tok, nil); st != 200 {
			t.Fatal(st)
		}
		var cs []map[string]any
		s.get("/admin/realms/rs/clients?clientId=spa", e.tok, &cs)
		if len(cs) != 0 {
			t.Error("the refused public client was stored")
		}
		// A client without authorization services has no resource server.
		var others []map[string]any
		s.get("/admin/realms/rs/clients?clientId=account", e.tok, &others)
		st, _, b = s.do("GET", "/admin/realms/rs/clients/"+others[0]["id"].(string)+"/authz/resource-server", e.tok, nil)
		if st != 404 || string(b) != `{"error":"HTTP 404 Not Found"}` {
			t.Errorf("resource server of a plain client: %d %s", st, b)
		}
	})
}

// TestAuthzPermissionsToAdminister: reading needs view-authorization or
// view-clients, changing manage-authorization or manage-clients.
func TestAuthzPermissionsToAdminister(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newAuthzEnv(t, s)
		rl, _ := s.DB.GetRealmByName(t.Context(), "rs")
		for _, c := range []struct {
			roles        []string
			view, manage int
		}{
			{[]string{"view-users"}, 403, 403},
			{[]string{"view-clients"}, 200, 403},
			{[]string{"view-authorization"}, 200, 403},
			{[]string{"manage-authorization"}, 200, 201},
			{[]string{"manage-clients"}, 200, 201},
		} {
			tok := s.realmAdmin(rl, "adm-"+strings.Join(c.roles, "-"), c.roles...)
			if st, _, b := s.do("GET", e.base+"/resource", tok, nil); st != c.view {
				t.Errorf("%v: GET resources %d %s, want %d", c.roles, st, b, c.view)
			}
			if st, _, b := s.do("POST", e.base+"/scope", tok, map[string]any{"name": "by-" + c.roles[0]}); st != c.manage {
				t.Errorf("%v: POST scope %d %s, want %d", c.roles, st, b, c.manage)
			}
		}
	})
}

// TestAuthzEndpoints walks the calls gocloak does not make: settings,
// searches, the lists of what applies to a resource or scope, typed and
// generic policy forms, providers, import and export.
func TestAuthzEndpoints(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newAuthzEnv(t, s)
		e.call(t, "PUT", "", map[string]any{"policyEnforcementMode": "PERMISSIVE", "decisionStrategy": "AFFIRMATIVE", "allowRemoteResourceManagement": false}, 204)
		var srv map[string]any
		json.Unmarshal(e.call(t, "GET", "", nil, 200), &srv)
		if srv["policyEnforcementMode"] != "PERMISSIVE" || srv["decisionStrategy"] != "AFFIRMATIVE" || srv["allowRemoteResourceManagement"] != false ||
			srv["clientId"] != e.clientID || srv["name"] != "api" {
			t.Errorf("settings: %v", srv)
		}

		read := e.create(t, "/scope", map[string]any{"name": "read", "iconUri": "https://i/r.png"})
		write := e.create(t, "/scope", map[string]any{"name": "write"})
		typed := e.create(t, "/resource", map[string]any{"name": "Doc type", "type": "urn:api:doc", "scopes": []map[string]any{{"id": write}}})
		mine := e.create(t, "/resource", map[string]any{"name": "Bob's doc", "type": "urn:api:doc", "owner": map[string]any{"name": "bob"},
			"scopes": []map[string]any{{"name": "read"}}, "attributes": map[string]any{"color": []string{"blue"}}})
		var scopes []map[string]any
		json.Unmarshal(e.call(t, "GET", "/resource/"+mine+"/scopes", nil, 200), &scopes)
		var names []string
		for _, sc := range scopes {
			names = append(names, sc["name"].(string))
		}
		if !slices.Equal(names, []string{"read", "write"}) {
			t.Errorf("a user's typed resource inherits the type's scopes: %v", names)
		}
		if b := e.call(t, "GET", "/resource/"+mine+"/attributes", nil, 200); string(b) != `{"color":["blue"]}` {
			t.Errorf("attributes: %s", b)
		}
		var found map[string]any
		json.Unmarshal(e.call(t, "GET", "/resource/search?name=Doc%20type", nil, 200), &found)
		if found["_id"] != typed {
			t.Errorf("resource search: %v", found)
		}
		var list []map[string]any
		json.Unmarshal(e.call(t, "GET", "/resource?deep=false&owner=bob", nil, 200), &list)
		if len(list) != 1 || list[0]["_id"] != mine || list[0]["scopes"] != nil || list[0]["owner"].(map[string]any)["name"] != "bob" {
			t.Errorf("resources of bob, not deep: %v", list)
		}

		role := e.create(t, "/policy/role", map[string]any{"name": "readers", "roles": []map[string]any{{"id": "reader", "required": true}}, "fetchRoles": true})
		cs := e.create(t, "/policy", map[string]any{"name": "profile scope", "type": "client-scope",
			"config": map[string]string{"clientScopes": `[{"id":"profile","required":false}]`}})
		e.create(t, "/policy/regex", map[string]any{"name": "example.com", "targetClaim": "email", "pattern": ".*@example\\.com$"})
		e.create(t, "/policy/group", map[string]any{"name": "team", "groups": []map[string]any{{"path": "/team"}}, "groupsClaim": "groups"})
		typePerm := e.create(t, "/permission/resource", map[string]any{"name": "docs", "resourceType": "urn:api:doc", "policies": []string{role}})
		scopePerm := e.create(t, "/permission/scope", map[string]any{"name": "read docs", "scopes": []string{"read"}, "policies": []string{"readers"}})

		var typedRole map[string]any
		json.Unmarshal(e.call(t, "GET", "/policy/role/"+role, nil, 200), &typedRole)
		roles, _ := typedRole["roles"].([]any)
		if len(roles) != 1 || roles[0].(map[string]any)["required"] != true || typedRole["fetchRoles"] != true || typedRole["type"] != "role" {
			t.Errorf("typed role policy: %v", typedRole)
		}
		var generic map[string]any
		json.Unmarshal(e.call(t, "GET", "/policy/"+cs, nil, 200), &generic)
		cfg, _ := generic["config"].(map[string]any)
		if !strings.HasPrefix(cfg["clientScopes"].(string), `[{"id":"`) || strings.Contains(cfg["clientScopes"].(string), "profile") {
			t.Errorf("client scope policy stores ids: %v", generic)
		}
		// A typed update keeps what it does not name; Keycloak answers 201.
		e.call(t, "PUT", "/policy/role/"+role, map[string]any{"name": "readers", "description": "who reads", "roles": []map[string]any{{"id": "reader"}}}, 201)
		json.Unmarshal(e.call(t, "GET", "/policy/role/"+role, nil, 200), &typedRole)
		if typedRole["description"] != "who reads" || typedRole["fetchRoles"] != true {
			t.Errorf("role policy after a typed update: %v", typedRole)
		}
		var perms []map[string]any
		json.Unmarshal(e.call(t, "GET", "/resource/"+mine+"/permissions", nil, 200), &perms)
		var permIDs []string
		for _, p := range perms {
			permIDs = append(permIDs, p["id"].(string))
		}
		slices.Sort(permIDs)
		want := []string{typePerm, scopePerm}
		slices.Sort(want)
		if !slices.Equal(permIDs, want) {
			t.Errorf("permissions of bob's doc: %v, want %v", permIDs, want)
		}
		json.Unmarshal(e.call(t, "GET", "/scope/"+read+"/resources", nil, 200), &list)
		if len(list) != 1 || list[0]["_id"] != mine {
			t.Errorf("resources of scope read: %v", list)
		}
		json.Unmarshal(e.call(t, "GET", "/scope/"+read+"/permissions", nil, 200), &perms)
		if len(perms) != 1 || perms[0]["id"] != scopePerm {
			t.Errorf("permissions of scope read: %v", perms)
		}
		json.Unmarshal(e.call(t, "GET", "/policy?permission=false&max=2", nil, 200), &list)
		if len(list) != 2 {
			t.Errorf("policies, max 2: %d", len(list))
		}
		json.Unmarshal(e.call(t, "GET", "/permission?resource=Bob's%20doc", nil, 200), &list)
		if len(list) != 0 {
			t.Errorf("permissions naming bob's doc itself: %v", list)
		}
		json.Unmarshal(e.call(t, "GET", "/policy/search?name=readers", nil, 200), &found)
		if found["id"] != role {
			t.Errorf("policy search: %v", found)
		}
		for _, p := range []string{"/policy/providers", "/permission/providers"} {
			var provs []map[string]any
			json.Unmarshal(e.call(t, "GET", p, nil, 200), &provs)
			var types []string
			for _, pr := range provs {
				types = append(types, pr["type"].(string))
			}
			if !slices.Contains(types, "role") || !slices.Contains(types, "resource") || slices.Contains(types, "js") {
				t.Errorf("%s: %v", p, types)
			}
		}

		// Export, import into a second client, export again: the same
		// document, byte for byte.
		exported := e.call(t, "GET", "/settings", nil, 200)
		var x map[string]any
		json.Unmarshal(exported, &x)
		for _, p := range x["policies"].([]any) {
			pm := p.(map[string]any)
			if pm["name"] == "readers" && pm["config"].(map[string]any)["roles"] != `[{"id":"reader","required":false}]` {
				t.Errorf("exported role policy names the role: %v", pm)
			}
			if pm["name"] == "read docs" && pm["config"].(map[string]any)["applyPolicies"] != `["readers"]` {
				t.Errorf("exported permission names its policies: %v", pm)
			}
		}
		st, h, b := s.do("POST", "/admin/realms/rs/clients", e.tok, map[string]any{"clientId": "api2", "publicClient": false, "secret": "y",
			"authorizationServicesEnabled": true})
		if st != 201 {
			t.Fatalf("second client: %d %s", st, b)
		}
		loc := h.Get("Location")
		base2 := "/admin/realms/rs/clients/" + loc[strings.LastIndex(loc, "/")+1:] + "/authz/resource-server"
		// Ids are kept on import only where free: the copy goes without them.
		var copyBody map[string]any
		json.Unmarshal(exported, &copyBody)
		for _, k := range []string{"resources", "policies", "scopes"} {
			for _, o := range copyBody[k].([]any) {
				delete(o.(map[string]any), "id")
				delete(o.(map[string]any), "_id")
			}
		}
		if st, _, b := s.do("POST", base2+"/import", e.tok, copyBody); st != 204 {
			t.Fatalf("import: %d %s", st, b)
		}
		_, _, copied := s.do("GET", base2+"/settings", e.tok, nil)
		norm := func(b []byte) string {
			var v map[string]any
			json.Unmarshal(b, &v)
			for _, k := range []string{"resources", "policies", "scopes"} {
				for _, o := range v[k].([]any) {
					delete(o.(map[string]any), "id")
					delete(o.(map[string]any), "_id")
				}
			}
			out, _ := json.Marshal(v)
			return string(out)
		}
		if norm(copied) != norm(exported) {
			t.Errorf("settings through export and import:\n got %s\nwant %s", norm(copied), norm(exported))
		}
		// Importing the same settings again changes nothing.
		if st, _, b := s.do("POST", base2+"/import", e.tok, copyBody); st != 204 {
			t.Fatalf("import again: %d %s", st, b)
		}
		if _, _, again := s.do("GET", base2+"/settings", e.tok, nil); !bytes.Equal(again, copied) {
			t.Errorf("a second import changed the settings:\n%s\n%s", copied, again)
		}

		// Deleting the role leaves the role policy without roles: it goes,
		// and the permissions applying it lose it.
		var r map[string]any
		s.get("/admin/realms/rs/roles/reader", e.tok, &r)
		if st, _, b := s.do("DELETE", "/admin/realms/rs/roles-by-id/"+r["id"].(string), e.tok, nil); st != 204 {
			t.Fatalf("delete role: %d %s", st, b)
		}
		e.call(t, "GET", "/policy/"+role, nil, 404)
		var assoc []map[string]any
		json.Unmarshal(e.call(t, "GET", "/permission/"+scopePerm+"/associatedPolicies", nil, 200), &assoc)
		if len(assoc) != 0 {
			t.Errorf("a permission still applies the deleted policy: %v", assoc)
		}
	})
}
