package admin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// Fine-grained admin permissions of clients, roles and identity providers,
// over real HTTP: the management/permissions switches, what they let a
// lesser administrator do, and what they never let it do.

// objEnv is a realm "fg" administered by master's admin, with its
// realm-management client's authorization API at hand.
type objEnv struct {
	s     *testServer
	tok   string // master's admin
	realm realm.Realm
	base  string // /admin/realms/fg
	rm    string // realm-management's id
}

func newObjEnv(t *testing.T, s *testServer) *objEnv {
	t.Helper()
	e := &objEnv{s: s, tok: s.adminToken(), realm: s.newRealm("fg"), base: "/admin/realms/fg"}
	var cs []map[string]any
	s.get(e.base+"/clients?clientId=realm-management", e.tok, &cs)
	if len(cs) != 1 {
		t.Fatalf("realm-management: %v", cs)
	}
	e.rm = cs[0]["id"].(string)
	return e
}

// call sends a request to the realm's admin API and checks the status.
func (e *objEnv) call(t *testing.T, method, path, tok string, body any, want int) []byte {
	t.Helper()
	st, _, b := e.s.do(method, e.base+path, tok, body)
	if st != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, st, b, want)
	}
	return b
}

// create POSTs as master's admin and returns the new id from Location.
func (e *objEnv) create(t *testing.T, path string, body any) string {
	t.Helper()
	st, h, b := e.s.do("POST", e.base+path, e.tok, body)
	if st != http.StatusCreated {
		t.Fatalf("POST %s: %d %s", path, st, b)
	}
	loc := h.Get("Location")
	return loc[strings.LastIndex(loc, "/")+1:]
}

func (e *objEnv) userID(t *testing.T, username string) string {
	t.Helper()
	var us []map[string]any
	e.s.get(e.base+"/users?exact=true&username="+username, e.tok, &us)
	if len(us) != 1 {
		t.Fatalf("user %s: %v", username, us)
	}
	return us[0]["id"].(string)
}

func (e *objEnv) roleID(t *testing.T, path string) string {
	t.Helper()
	var r map[string]any
	e.s.get(e.base+path, e.tok, &r)
	return r["id"].(string)
}

// mgmtRef is Keycloak's ManagementPermissionReference.
type mgmtRef struct {
	Enabled          bool              `json:"enabled"`
	Resource         string            `json:"resource"`
	ScopePermissions map[string]string `json:"scopePermissions"`
}

// switchPerms turns an object's permissions on or off (as master's admin)
// and returns the answer. path is the object's, or the users' switch.
func (e *objEnv) switchPerms(t *testing.T, path string, on bool) mgmtRef {
	t.Helper()
	if !strings.HasSuffix(path, "-management-permissions") {
		path += "/management/permissions"
	}
	var ref mgmtRef
	if err := json.Unmarshal(e.call(t, "PUT", path, e.tok, map[string]bool{"enabled": on}, 200), &ref); err != nil {
		t.Fatal(err)
	}
	if ref.Enabled != on {
		t.Fatalf("PUT %s: enabled %v, want %v", path, ref.Enabled, on)
	}
	return ref
}

// authz is the realm-management client's authorization API.
func (e *objEnv) authz() string { return "/clients/" + e.rm + "/authz/resource-server" }

// allow attaches to the permission permID a user policy naming the users
// (by id), as an administrator does on realm-management's Authorization tab.
func (e *objEnv) allow(t *testing.T, permID string, userIDs ...string) {
	t.Helper()
	var pol map[string]any
	name := "allow " + permID
	json.Unmarshal(e.call(t, "POST", e.authz()+"/policy/user", e.tok, map[string]any{"name": name, "users": userIDs}, 201), &pol)
	var perm map[string]any
	json.Unmarshal(e.call(t, "GET", e.authz()+"/permission/scope/"+permID, e.tok, nil, 200), &perm)
	e.call(t, "PUT", e.authz()+"/permission/scope/"+permID, e.tok, map[string]any{
		"id": permID, "name": perm["name"], "type": "scope", "decisionStrategy": "UNANIMOUS",
		"policies": []string{pol["id"].(string)}}, 201)
}

// keys returns a map's keys, sorted.
func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestFGAPClientReference: a client's switch answers Keycloak's
// reference (its resource in realm-management's resource server and one
// empty permission per scope), survives a second enable unchanged, and
// disabling or deleting the client removes the resource and permissions.
func TestFGAPClientReference(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newObjEnv(t, s)
		app := e.create(t, "/clients", map[string]any{"clientId": "app", "publicClient": false, "secret": "s"})
		path := "/clients/" + app

		e.call(t, "GET", path+"/management/permissions", e.tok, nil, 200)
		if b := e.call(t, "GET", path+"/management/permissions", e.tok, nil, 200); string(b) != `{"enabled":false}` {
			t.Errorf("off: %s", b)
		}
		ref := e.switchPerms(t, path, true)
		want := []string{"configure", "manage", "map-roles", "map-roles-client-scope", "map-roles-composite", "token-exchange", "view"}
		if got := sortedKeys(ref.ScopePermissions); !slices.Equal(got, want) || ref.Resource == "" {
			t.Fatalf("reference: %+v", ref)
		}
		var again mgmtRef
		json.Unmarshal(e.call(t, "GET", path+"/management/permissions", e.tok, nil, 200), &again)
		if fmt.Sprint(again) != fmt.Sprint(ref) {
			t.Errorf("GET after enable: %+v, want %+v", again, ref)
		}
		if second := e.switchPerms(t, path, true); fmt.Sprint(second) != fmt.Sprint(ref) {
			t.Errorf("a second enable: %+v, want %+v", second, ref)
		}

		var res map[string]any
		json.Unmarshal(e.call(t, "GET", e.authz()+"/resource/"+ref.Resource, e.tok, nil, 200), &res)
		if res["name"] != "client.resource."+app || res["type"] != "Client" {
			t.Errorf("resource: %v", res)
		}
		var perm map[string]any
		json.Unmarshal(e.call(t, "GET", e.authz()+"/permission/scope/"+ref.ScopePermissions["manage"], e.tok, nil, 200), &perm)
		if perm["name"] != "manage.permission.client."+app {
			t.Errorf("manage permission: %v", perm)
		}

		// Only manage-clients switches; view-clients reads.
		viewer := s.realmAdmin(e.realm, "viewer", "view-clients")
		e.call(t, "GET", path+"/management/permissions", viewer, nil, 200)
		e.call(t, "PUT", path+"/management/permissions", viewer, map[string]bool{"enabled": false}, 403)
		e.call(t, "GET", "/clients/no-such/management/permissions", e.tok, nil, 404)

		if b, _ := json.Marshal(e.switchPerms(t, path, false)); string(b) != `{"enabled":false,"resource":"","scopePermissions":null}` {
			t.Errorf("disable: %s", b)
		}
		e.call(t, "GET", e.authz()+"/resource/"+ref.Resource, e.tok, nil, 404)
		e.call(t, "GET", e.authz()+"/permission/scope/"+ref.ScopePermissions["manage"], e.tok, nil, 404)

		// Deleting the client takes its resource and permissions along, and
		// those of its roles.
		ref = e.switchPerms(t, path, true)
		e.create(t, path+"/roles", map[string]any{"name": "app-user"})
		roleRef := e.switchPerms(t, path+"/roles/app-user", true)
		e.call(t, "DELETE", path, e.tok, nil, 204)
		e.call(t, "GET", e.authz()+"/resource/"+ref.Resource, e.tok, nil, 404)
		e.call(t, "GET", e.authz()+"/permission/scope/"+ref.ScopePermissions["view"], e.tok, nil, 404)
		e.call(t, "GET", e.authz()+"/resource/"+roleRef.Resource, e.tok, nil, 404)
		e.call(t, "GET", e.authz()+"/permission/scope/"+roleRef.ScopePermissions["map-role"], e.tok, nil, 404)
	})
}

// TestFGAPClientManageOne: an administrator holding only query-clients
// manages exactly the client whose manage permission names it, lists only
// that one, and loses it again when the client's permissions are switched
// off, on the running server.
func TestFGAPClientManageOne(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newObjEnv(t, s)
		one := e.create(t, "/clients", map[string]any{"clientId": "one", "publicClient": false, "secret": "one-secret"})
		two := e.create(t, "/clients", map[string]any{"clientId": "two", "publicClient": false, "secret": "two-secret"})
		helper := s.realmAdmin(e.realm, "helper", "query-clients")
		helperID := e.userID(t, "helper")

		// Before any permission: the list is empty and the clients are 403.
		if b := e.call(t, "GET", "/clients", helper, nil, 200); string(b) != `[]` {
			t.Errorf("query-clients list without permissions: %s", b)
		}
		e.call(t, "GET", "/clients/"+one, helper, nil, 403)

		ref := e.switchPerms(t, "/clients/"+one, true)
		e.switchPerms(t, "/clients/"+two, true)
		// An enabled permission without a policy grants nothing.
		e.call(t, "GET", "/clients/"+one, helper, nil, 403)
		e.allow(t, ref.ScopePermissions["manage"], helperID)

		var got map[string]any
		json.Unmarshal(e.call(t, "GET", "/clients/"+one, helper, nil, 200), &got)
		if got["secret"] != "one-secret" || fmt.Sprint(got["access"]) != "map[configure:true manage:true view:true]" {
			t.Errorf("managed client as the helper sees it: secret %v, access %v", got["secret"], got["access"])
		}
		e.call(t, "PUT", "/clients/"+one, helper, map[string]any{"description": "managed by helper"}, 204)
		e.call(t, "GET", "/clients/"+one+"/client-secret", helper, nil, 200)
		e.call(t, "POST", "/clients/"+one+"/protocol-mappers/models", helper, map[string]any{"name": "dept", "protocol": "openid-connect",
			"protocolMapper": "oidc-usermodel-attribute-mapper", "config": map[string]string{"user.attribute": "dept", "claim.name": "dept"}}, 201)
		e.call(t, "GET", "/clients/"+one+"/roles", helper, nil, 200)
		e.call(t, "POST", "/clients/"+one+"/roles", helper, map[string]any{"name": "one-user"}, 201)

		// The other client stays out of reach, whatever the call.
		for _, c := range []struct{ method, path string }{
			{"GET", "/clients/" + two}, {"PUT", "/clients/" + two}, {"DELETE", "/clients/" + two},
			{"GET", "/clients/" + two + "/client-secret"}, {"POST", "/clients/" + two + "/roles"},
			{"GET", "/clients/" + two + "/protocol-mappers/models"}, {"PUT", "/clients/" + two + "/management/permissions"},
		} {
			var body any
			if c.method == "PUT" || c.method == "POST" {
				body = map[string]any{"description": "x", "name": "x"}
			}
			e.call(t, c.method, c.path, helper, body, 403)
		}
		// Nor does it create clients or switch permissions of the one it manages
		// into someone else's hands: creating needs the role.
		e.call(t, "POST", "/clients", helper, map[string]any{"clientId": "three"}, 403)

		var list []map[string]any
		json.Unmarshal(e.call(t, "GET", "/clients", helper, nil, 200), &list)
		if len(list) != 1 || list[0]["clientId"] != "one" || list[0]["description"] != "managed by helper" {
			t.Errorf("the helper's list: %v", list)
		}
		json.Unmarshal(e.call(t, "GET", "/clients?viewableOnly=true", helper, nil, 200), &list)
		if len(list) != 1 || list[0]["clientId"] != "one" {
			t.Errorf("the helper's viewable list: %v", list)
		}

		// Switching the permissions off takes effect at once.
		e.switchPerms(t, "/clients/"+one, false)
		e.call(t, "GET", "/clients/"+one, helper, nil, 403)
		e.call(t, "PUT", "/clients/"+one, helper, map[string]any{"description": "again"}, 403)
		if b := e.call(t, "GET", "/clients", helper, nil, 200); string(b) != `[]` {
			t.Errorf("list after disable: %s", b)
		}
	})
}

// TestFGAPClientConfigure: configure lets an administrator change a
// client's settings but not how it authenticates or what its tokens may
// carry, and shows no secret.
func TestFGAPClientConfigure(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newObjEnv(t, s)
		app := e.create(t, "/clients", map[string]any{"clientId": "app", "publicClient": false, "secret": "app-secret",
			"redirectUris": []string{"https://app.example/*"}})
		conf := s.realmAdmin(e.realm, "conf", "query-clients")
		ref := e.switchPerms(t, "/clients/"+app, true)
		e.allow(t, ref.ScopePermissions["configure"], e.userID(t, "conf"))

		var got map[string]any
		json.Unmarshal(e.call(t, "GET", "/clients/"+app, conf, nil, 200), &got)
		if _, ok := got["secret"]; ok || fmt.Sprint(got["access"]) != "map[configure:true manage:false view:true]" {
			t.Errorf("configure sees: secret %v, access %v", got["secret"], got["access"])
		}
		// The whole representation sent back, with new settings, is accepted.
		got["description"] = "configured"
		got["redirectUris"] = []string{"https://app.example/cb"}
		e.call(t, "PUT", "/clients/"+app, conf, got, 204)
		var after map[string]any
		e.s.get(e.base+"/clients/"+app, e.tok, &after)
		if after["description"] != "configured" || after["secret"] != "app-secret" {
			t.Errorf("after configure: description %v, secret %v", after["description"], after["secret"])
		}

		for name, change := range map[string]map[string]any{
			"full scope (Keycloak: manage)": {"fullScopeAllowed": false},
			"the secret":                    {"secret": "mine-now"},
			"public":                        {"publicClient": true},
			"the authenticator":             {"clientAuthenticatorType": "client-jwt"},
			"a service account":             {"serviceAccountsEnabled": true},
			"authorization services":        {"authorizationServicesEnabled": true},
			"protocol mappers in the body":  {"protocolMappers": []map[string]any{{"name": "x", "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-claim-mapper"}}},
			"a flow override":               {"authenticationFlowBindingOverrides": map[string]string{"browser": "x"}},
		} {
			st, _, b := s.do("PUT", e.base+"/clients/"+app, conf, change)
			if st != 403 {
				t.Errorf("configure changing %s: %d %s, want 403", name, st, b)
			}
		}
		e.s.get(e.base+"/clients/"+app, e.tok, &after)
		if after["secret"] != "app-secret" || after["publicClient"] != false || after["fullScopeAllowed"] != true {
			t.Errorf("a refused change was stored: %v", after)
		}
		// Routes that are manage-only stay closed to configure.
		e.call(t, "GET", "/clients/"+app+"/client-secret", conf, nil, 403)
		e.call(t, "POST", "/clients/"+app+"/client-secret", conf, nil, 403)
		e.call(t, "POST", "/clients/"+app+"/protocol-mappers/models", conf, map[string]any{"name": "x", "protocol": "openid-connect",
			"protocolMapper": "oidc-hardcoded-claim-mapper"}, 403)
		e.call(t, "DELETE", "/clients/"+app, conf, nil, 403)
		e.call(t, "GET", "/clients/"+app+"/protocol-mappers/models", conf, nil, 200)
	})
}

// TestFGAPMapRole: a helpdesk without manage-users, allowed to map roles
// to users and to map the one realm role "printer", assigns exactly that
// role; any other role, and an admin role even with its own map-role
// permission, is refused with nothing changed.
func TestFGAPMapRole(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newObjEnv(t, s)
		e.create(t, "/roles", map[string]any{"name": "printer"})
		e.create(t, "/roles", map[string]any{"name": "boss"})
		printer, boss := e.roleID(t, "/roles/printer"), e.roleID(t, "/roles/boss")
		bob := e.create(t, "/users", map[string]any{"username": "bob", "enabled": true})
		help := s.realmAdmin(e.realm, "help", "view-users")
		helpID := e.userID(t, "help")
		mapping := "/users/" + bob + "/role-mappings/realm"

		// Without permissions the role-based rule stands: 403.
		e.call(t, "POST", mapping, help, []map[string]any{{"id": printer, "name": "printer"}}, 403)

		users := e.switchPerms(t, "/users-management-permissions", true)
		e.allow(t, users.ScopePermissions["map-roles"], helpID)
		roleRef := e.switchPerms(t, "/roles/printer", true)
		var byID mgmtRef
		json.Unmarshal(e.call(t, "GET", "/roles-by-id/"+printer+"/management/permissions", e.tok, nil, 200), &byID)
		if fmt.Sprint(byID) != fmt.Sprint(roleRef) {
			t.Errorf("by id: %+v, by name: %+v", byID, roleRef)
		}
		if got := sortedKeys(roleRef.ScopePermissions); !slices.Equal(got, []string{"map-role", "map-role-client-scope", "map-role-composite"}) {
			t.Errorf("role reference: %+v", roleRef)
		}
		var perm map[string]any
		json.Unmarshal(e.call(t, "GET", e.authz()+"/permission/scope/"+roleRef.ScopePermissions["map-role"], e.tok, nil, 200), &perm)
		if perm["name"] != "map-role.permission."+printer {
			t.Errorf("map-role permission: %v", perm)
		}
		// Enabled but without a policy: still nothing.
		e.call(t, "POST", mapping, help, []map[string]any{{"id": printer, "name": "printer"}}, 403)
		e.allow(t, roleRef.ScopePermissions["map-role"], helpID)

		e.call(t, "POST", mapping, help, []map[string]any{{"id": printer, "name": "printer"}}, 204)
		e.call(t, "POST", mapping, help, []map[string]any{{"id": boss, "name": "boss"}}, 403)
		e.call(t, "DELETE", mapping, help, []map[string]any{{"id": printer, "name": "printer"}}, 204)
		e.call(t, "POST", mapping, help, []map[string]any{{"id": printer, "name": "printer"}, {"id": boss, "name": "boss"}}, 403)
		var held []map[string]any
		e.s.get(e.base+mapping, e.tok, &held)
		for _, r := range held {
			if r["name"] == "printer" || r["name"] == "boss" {
				t.Errorf("a refused mapping was stored: %v", held)
			}
		}

		// An admin role never passes, whatever its permission says: the
		// escalation rule still applies (the helpdesk does not hold it).
		rmRoles := "/clients/" + e.rm + "/roles/manage-users"
		mu := e.switchPerms(t, rmRoles, true)
		e.allow(t, mu.ScopePermissions["map-role"], helpID)
		manageUsers := e.roleID(t, rmRoles)
		e.call(t, "POST", "/users/"+bob+"/role-mappings/clients/"+e.rm, help, []map[string]any{{"id": manageUsers, "name": "manage-users"}}, 403)

		// Switching the role's permissions off takes effect at once.
		e.switchPerms(t, "/roles/printer", false)
		e.call(t, "POST", mapping, help, []map[string]any{{"id": printer, "name": "printer"}}, 403)

		// Deleting the role takes its resource and permissions along.
		ref := e.switchPerms(t, "/roles/printer", true)
		e.call(t, "DELETE", "/roles/printer", e.tok, nil, 204)
		e.call(t, "GET", e.authz()+"/resource/"+ref.Resource, e.tok, nil, 404)
		e.call(t, "GET", e.authz()+"/permission/scope/"+ref.ScopePermissions["map-role"], e.tok, nil, 404)
	})
}

// TestFGAPClientRoles: a client's map-roles permission lets the helpdesk
// assign that client's roles (and no other client's); the client role
// switch answers under /clients/{id}/roles/{name}.
func TestFGAPClientRoles(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newObjEnv(t, s)
		app := e.create(t, "/clients", map[string]any{"clientId": "app", "publicClient": true})
		other := e.create(t, "/clients", map[string]any{"clientId": "other", "publicClient": true})
		e.create(t, "/clients/"+app+"/roles", map[string]any{"name": "app-user"})
		e.create(t, "/clients/"+other+"/roles", map[string]any{"name": "other-user"})
		appUser, otherUser := e.roleID(t, "/clients/"+app+"/roles/app-user"), e.roleID(t, "/clients/"+other+"/roles/other-user")
		bob := e.create(t, "/users", map[string]any{"username": "bob", "enabled": true})
		help := s.realmAdmin(e.realm, "help", "view-users")
		helpID := e.userID(t, "help")

		users := e.switchPerms(t, "/users-management-permissions", true)
		e.allow(t, users.ScopePermissions["map-roles"], helpID)
		ref := e.switchPerms(t, "/clients/"+app, true)
		e.allow(t, ref.ScopePermissions["map-roles"], helpID)
		e.switchPerms(t, "/clients/"+other, true)

		e.call(t, "POST", "/users/"+bob+"/role-mappings/clients/"+app, help, []map[string]any{{"id": appUser, "name": "app-user"}}, 204)
		e.call(t, "POST", "/users/"+bob+"/role-mappings/clients/"+other, help, []map[string]any{{"id": otherUser, "name": "other-user"}}, 403)

		// A client role's own switch, by name under its client and by id.
		roleRef := e.switchPerms(t, "/clients/"+app+"/roles/app-user", true)
		var byID mgmtRef
		json.Unmarshal(e.call(t, "GET", "/roles-by-id/"+appUser+"/management/permissions", e.tok, nil, 200), &byID)
		if !byID.Enabled || byID.Resource != roleRef.Resource {
			t.Errorf("client role by id: %+v, by name %+v", byID, roleRef)
		}
		e.call(t, "GET", "/clients/"+app+"/roles/nope/management/permissions", e.tok, nil, 404)

		// Whoever manages the client switches its roles' permissions, by
		// name and by id; another client's stay closed.
		dev := s.realmAdmin(e.realm, "dev", "query-clients")
		e.allow(t, ref.ScopePermissions["manage"], e.userID(t, "dev"))
		e.call(t, "GET", "/clients/"+app+"/roles/app-user/management/permissions", dev, nil, 200)
		e.call(t, "PUT", "/roles-by-id/"+appUser+"/management/permissions", dev, map[string]bool{"enabled": false}, 200)
		e.call(t, "PUT", "/clients/"+app+"/roles/app-user/management/permissions", dev, map[string]bool{"enabled": true}, 200)
		e.call(t, "GET", "/roles-by-id/"+otherUser+"/management/permissions", dev, nil, 403)
		e.call(t, "PUT", "/clients/"+other+"/roles/other-user/management/permissions", dev, map[string]bool{"enabled": true}, 403)

		// Configure (not manage) on the client is the right to manage its
		// roles, by name and by id alike.
		conf := s.realmAdmin(e.realm, "conf", "query-clients")
		e.allow(t, ref.ScopePermissions["configure"], e.userID(t, "conf"))
		e.call(t, "PUT", "/clients/"+app+"/roles/app-user/management/permissions", conf, map[string]bool{"enabled": true}, 200)
		e.call(t, "PUT", "/roles-by-id/"+appUser+"/management/permissions", conf, map[string]bool{"enabled": true}, 200)
		e.call(t, "PUT", "/roles-by-id/"+appUser, conf, map[string]any{"name": "app-user", "description": "d"}, 204)
		e.call(t, "PUT", "/roles-by-id/"+otherUser+"/management/permissions", conf, map[string]bool{"enabled": true}, 403)
	})
}

// TestFGAPCompositesAndScope: the composite and client-scope permissions of
// a role let a client's manager add exactly that role as a composite of the
// client's role and to the client's scope.
func TestFGAPCompositesAndScope(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newObjEnv(t, s)
		app := e.create(t, "/clients", map[string]any{"clientId": "app", "publicClient": true, "fullScopeAllowed": false})
		e.create(t, "/clients/"+app+"/roles", map[string]any{"name": "app-user"})
		e.create(t, "/roles", map[string]any{"name": "printer"})
		e.create(t, "/roles", map[string]any{"name": "boss"})
		printer, boss := e.roleID(t, "/roles/printer"), e.roleID(t, "/roles/boss")
		dev := s.realmAdmin(e.realm, "dev", "query-clients")
		devID := e.userID(t, "dev")

		appRef := e.switchPerms(t, "/clients/"+app, true)
		e.allow(t, appRef.ScopePermissions["manage"], devID)
		roleRef := e.switchPerms(t, "/roles/printer", true)
		e.allow(t, roleRef.ScopePermissions["map-role-composite"], devID)
		e.allow(t, roleRef.ScopePermissions["map-role-client-scope"], devID)
		e.switchPerms(t, "/roles/boss", true)

		comp := "/clients/" + app + "/roles/app-user/composites"
		e.call(t, "POST", comp, dev, []map[string]any{{"id": boss}}, 403)
		e.call(t, "POST", comp, dev, []map[string]any{{"id": printer}}, 204)
		e.call(t, "DELETE", comp, dev, []map[string]any{{"id": printer}}, 204)

		scope := "/clients/" + app + "/scope-mappings/realm"
		e.call(t, "POST", scope, dev, []map[string]any{{"id": boss, "name": "boss"}}, 403)
		e.call(t, "POST", scope, dev, []map[string]any{{"id": printer, "name": "printer"}}, 204)
		e.call(t, "GET", scope, dev, nil, 200)
		e.call(t, "DELETE", scope, dev, []map[string]any{{"id": printer, "name": "printer"}}, 204)

		// Realm roles themselves stay the realm managers': no manage-realm, no edit.
		e.call(t, "PUT", "/roles/printer", dev, map[string]any{"name": "printer", "description": "x"}, 403)
		e.call(t, "PUT", "/roles/printer/management/permissions", dev, map[string]bool{"enabled": false}, 403)
	})
}

// TestFGAPIdentityProviderReference: an identity provider's switch creates
// its token-exchange permission, answers the same reference on every read,
// and removes it when switched off or when the provider is deleted.
func TestFGAPIdentityProviderReference(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newObjEnv(t, s)
		e.create(t, "/identity-provider/instances", map[string]any{"alias": "corp", "providerId": "oidc",
			"config": map[string]string{"clientId": "c", "clientSecret": "s", "authorizationUrl": "https://up.example/auth",
				"tokenUrl": "https://up.example/token"}})
		var p map[string]any
		e.s.get(e.base+"/identity-provider/instances/corp", e.tok, &p)
		internal := p["internalId"].(string)
		path := "/identity-provider/instances/corp"

		if b := e.call(t, "GET", path+"/management/permissions", e.tok, nil, 200); string(b) != `{"enabled":false}` {
			t.Errorf("off: %s", b)
		}
		ref := e.switchPerms(t, path, true)
		if got := sortedKeys(ref.ScopePermissions); !slices.Equal(got, []string{"token-exchange"}) || ref.Resource == "" {
			t.Fatalf("reference: %+v", ref)
		}
		var again mgmtRef
		json.Unmarshal(e.call(t, "GET", path+"/management/permissions", e.tok, nil, 200), &again)
		if fmt.Sprint(again) != fmt.Sprint(ref) {
			t.Errorf("read back: %+v, want %+v", again, ref)
		}
		var res, perm map[string]any
		json.Unmarshal(e.call(t, "GET", e.authz()+"/resource/"+ref.Resource, e.tok, nil, 200), &res)
		json.Unmarshal(e.call(t, "GET", e.authz()+"/permission/scope/"+ref.ScopePermissions["token-exchange"], e.tok, nil, 200), &perm)
		if res["name"] != "idp.resource."+internal || res["type"] != "IdentityProvider" || perm["name"] != "token-exchange.permission.idp."+internal {
			t.Errorf("resource %v, permission %v", res, perm)
		}

		// Reading takes view-identity-providers, switching manage.
		viewer := s.realmAdmin(e.realm, "idpviewer", "view-identity-providers")
		e.call(t, "GET", path+"/management/permissions", viewer, nil, 200)
		e.call(t, "PUT", path+"/management/permissions", viewer, map[string]bool{"enabled": false}, 403)
		e.call(t, "GET", "/identity-provider/instances/nope/management/permissions", e.tok, nil, 404)

		e.switchPerms(t, path, false)
		e.call(t, "GET", e.authz()+"/resource/"+ref.Resource, e.tok, nil, 404)
		if b := e.call(t, "GET", path+"/management/permissions", e.tok, nil, 200); string(b) != `{"enabled":false}` {
			t.Errorf("after disable: %s", b)
		}

		ref = e.switchPerms(t, path, true)
		e.call(t, "DELETE", path, e.tok, nil, 204)
		e.call(t, "GET", e.authz()+"/resource/"+ref.Resource, e.tok, nil, 404)
		e.call(t, "GET", e.authz()+"/permission/scope/"+ref.ScopePermissions["token-exchange"], e.tok, nil, 404)
	})
}
