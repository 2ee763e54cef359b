package admin_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

func (e *crgEnv) role(clientID, name string) role.Role {
	e.t.Helper()
	var (
		r   role.Role
		err error
	)
	if clientID == "" {
		r, err = e.s.DB.GetRealmRole(e.ctx(), e.realm.ID, name)
	} else {
		r, err = e.s.DB.GetClientRole(e.ctx(), e.realm.ID, clientID, name)
	}
	if err != nil {
		e.t.Fatalf("role %s: %v", name, err)
	}
	return r
}

func (e *crgEnv) childNames(parentID string) []string {
	e.t.Helper()
	kids, err := e.s.DB.ListComposites(e.ctx(), parentID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, k := range kids {
		out = append(out, k.Name)
	}
	return out
}

func TestRealmRolesCreateReadUpdateDelete(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		id := e.create("/roles", map[string]any{"name": "editor", "description": "Edits", "attributes": map[string][]string{"team": {"docs"}}})
		editor := e.role("", "editor")
		if id != "editor" {
			t.Fatalf("Location names the role %q, want its name", id)
		}
		e.want("GET", "/roles/editor", e.tok, nil, 200, fmt.Sprintf(
			`{"id":"%s","name":"editor","description":"Edits","composite":false,"clientRole":false,"containerId":"%s","attributes":{"team":["docs"]}}`,
			editor.ID, e.realm.ID))
		e.want("POST", "/roles", e.tok, map[string]any{"name": "editor"}, 409, `{"errorMessage":"Role with name editor already exists"}`)
		e.want("POST", "/roles", e.tok, map[string]any{"description": "no name"}, 400, `{"error":"role has no name"}`)
		e.create("/roles", map[string]any{"name": "viewer", "description": "Reads what the EDITOR wrote"})
		e.create("/roles", map[string]any{"name": "a b/c"}) // any text is a role name
		e.want("GET", "/roles/a%20b%2Fc", e.tok, nil, 200, "")

		// Listing: brief by default, search on name and description.
		all := e.list("/roles", e.tok)
		if names := crgField(all, "name"); !slices.Contains(names, "offline_access") || !slices.Contains(names, "editor") {
			t.Fatalf("list: %v", names)
		}
		for _, r := range all {
			if _, ok := r["attributes"]; ok {
				t.Fatalf("brief representation has attributes: %v", r)
			}
		}
		if got := crgField(e.list("/roles?search=edit", e.tok), "name"); !slices.Equal(got, []string{"editor", "viewer"}) {
			t.Fatalf("search: %v", got)
		}
		full := e.list("/roles?search=editor&briefRepresentation=false", e.tok)
		if fmt.Sprint(full[0]["attributes"]) != "map[team:[docs]]" {
			t.Fatalf("full representation: %v", full)
		}
		if got := e.list("/roles?first=1&max=2", e.tok); len(got) != 2 || got[0]["name"] != all[1]["name"] {
			t.Fatalf("page: %v of %v", crgField(got, "name"), crgField(all, "name"))
		}

		// Rename, then the old name is gone.
		e.want("PUT", "/roles/editor", e.tok, map[string]any{"name": "author", "description": "Writes"}, 204, "")
		e.want("GET", "/roles/editor", e.tok, nil, 404, `{"error":"Could not find role"}`)
		e.want("PUT", "/roles/author", e.tok, map[string]any{"name": "viewer"}, 409, `{"errorMessage":"Role with name viewer already exists"}`)
		got := e.obj("/roles/author")
		if got["id"] != editor.ID || got["description"] != "Writes" || fmt.Sprint(got["attributes"]) != "map[team:[docs]]" {
			t.Fatalf("after rename: %v", got)
		}

		// By id.
		e.want("GET", "/roles-by-id/"+editor.ID, e.tok, nil, 200, "")
		e.want("PUT", "/roles-by-id/"+editor.ID, e.tok, map[string]any{"name": "author", "attributes": map[string][]string{}}, 204, "")
		if got := e.obj("/roles-by-id/" + editor.ID); fmt.Sprint(got["attributes"]) != "map[]" {
			t.Fatalf("attributes after replacing them with none: %v", got)
		}
		e.want("GET", "/roles-by-id/"+store.NewID(), e.tok, nil, 404, `{"error":"Could not find role with id"}`)

		// The default role stays.
		def := "default-roles-acme"
		e.want("DELETE", "/roles/"+def, e.tok, nil, 400, `{"errorMessage":"default-roles-acme is default role of the realm and cannot be removed."}`)
		e.want("DELETE", "/roles-by-id/"+e.realm.DefaultRoleID, e.tok, nil, 400, `{"errorMessage":"default-roles-acme is default role of the realm and cannot be removed."}`)

		e.want("DELETE", "/roles/author", e.tok, nil, 204, "")
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			e.want(m, "/roles/author", e.tok, map[string]any{"name": "x"}, 404, `{"error":"Could not find role"}`)
			e.want(m, "/roles-by-id/"+editor.ID, e.tok, map[string]any{"name": "x"}, 404, `{"error":"Could not find role with id"}`)
		}
		for _, p := range []string{"/composites", "/composites/realm", "/users", "/groups"} {
			e.want("GET", "/roles/author"+p, e.tok, nil, 404, `{"error":"Could not find role"}`)
		}
	})
}

func TestRealmRolesCompositesUsersAndGroups(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		e.create("/roles", map[string]any{"name": "reader"})
		e.create("/roles", map[string]any{"name": "writer"})
		app := e.create("/clients", map[string]any{"clientId": "app"})
		e.create("/clients/"+app+"/roles", map[string]any{"name": "app-user"})
		reader, appUser := e.role("", "reader"), e.role(app, "app-user")

		// By id, by realm role name, by client role name and container.
		e.want("POST", "/roles/writer/composites", e.tok, []map[string]any{{"id": reader.ID}}, 204, "")
		e.want("POST", "/roles/writer/composites", e.tok, []map[string]any{{"name": "app-user", "clientRole": true, "containerId": app}}, 204, "")
		e.want("POST", "/roles/writer/composites", e.tok, []map[string]any{{"name": "offline_access"}}, 204, "")
		e.want("POST", "/roles/writer/composites", e.tok, []map[string]any{{"id": store.NewID()}}, 404, `{"error":"Could not find composite role"}`)
		if got := e.obj("/roles/writer"); got["composite"] != true {
			t.Fatalf("writer is not composite: %v", got)
		}
		if got := crgField(e.list("/roles/writer/composites", e.tok), "name"); len(got) != 3 {
			t.Fatalf("composites: %v", got)
		}
		if got := crgField(e.list("/roles/writer/composites/realm", e.tok), "name"); !slices.Equal(got, []string{"offline_access", "reader"}) {
			t.Fatalf("realm composites: %v", got)
		}
		e.want("GET", "/roles/writer/composites/clients/"+app, e.tok, nil, 200, fmt.Sprintf(
			`[{"id":"%s","name":"app-user","composite":false,"clientRole":true,"containerId":"%s"}]`, appUser.ID, app))
		e.want("GET", "/roles/writer/composites/clients/nope", e.tok, nil, 404, `{"error":"Could not find client"}`)
		if got := crgField(e.list("/roles-by-id/"+e.role("", "writer").ID+"/composites?search=READ", e.tok), "name"); !slices.Equal(got, []string{"reader"}) {
			t.Fatalf("by-id composites search: %v", got)
		}
		e.want("DELETE", "/roles/writer/composites", e.tok, []map[string]any{{"id": reader.ID}}, 204, "")
		if got := e.childNames(e.role("", "writer").ID); slices.Contains(got, "reader") {
			t.Fatalf("composite not removed: %v", got)
		}

		// Created with composites named in the body.
		e.create("/roles", map[string]any{"name": "bundle", "composite": true,
			"composites": map[string]any{"realm": []string{"reader"}, "client": map[string][]string{"app": {"app-user"}}}})
		if got := e.childNames(e.role("", "bundle").ID); !slices.Equal(got, []string{"reader", "app-user"}) && !slices.Equal(got, []string{"app-user", "reader"}) {
			t.Fatalf("bundle's composites: %v", got)
		}
		e.want("POST", "/roles", e.tok, map[string]any{"name": "broken", "composite": true, "composites": map[string]any{"realm": []string{"nope"}}},
			404, `{"errorMessage":"Realm Role with name nope does not exist"}`)
		if _, err := s.DB.GetRealmRole(e.ctx(), e.realm.ID, "broken"); err == nil {
			t.Fatal("a refused create stored the role")
		}

		// Users and groups holding the role directly.
		for _, n := range []string{"carol", "alice", "bob"} {
			u := e.mkUser(n)
			s.DB.AddUserRoles(e.ctx(), u.ID, reader.ID)
		}
		if got := crgField(e.list("/roles/reader/users", e.tok), "username"); !slices.Equal(got, []string{"alice", "bob", "carol"}) {
			t.Fatalf("users: %v", got)
		}
		if got := crgField(e.list("/roles/reader/users?first=1&max=1", e.tok), "username"); !slices.Equal(got, []string{"bob"}) {
			t.Fatalf("users page: %v", got)
		}
		g := role.Group{ID: store.NewID(), RealmID: e.realm.ID, Name: "readers"}
		s.DB.CreateGroup(e.ctx(), g)
		s.DB.AddGroupRoles(e.ctx(), g.ID, reader.ID)
		groups := e.list("/roles/reader/groups", e.tok)
		if len(groups) != 1 || groups[0]["id"] != g.ID || groups[0]["path"] != "/readers" {
			t.Fatalf("groups: %v", groups)
		}
		// Reading role members needs query-users too.
		realmViewer := s.realmAdmin(e.realm, "realm-viewer", "view-realm")
		e.want("GET", "/roles/reader/users", realmViewer, nil, 403, `{"error":"HTTP 403 Forbidden"}`)
		e.want("GET", "/roles/reader", realmViewer, nil, 200, "")
	})
}

func TestClientRolesCreateReadUpdateDelete(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		app := e.create("/clients", map[string]any{"clientId": "app"})
		base := "/clients/" + app + "/roles"
		if name := e.create(base, map[string]any{"name": "admin", "description": "App admin"}); name != "admin" {
			t.Fatalf("Location: %q", name)
		}
		r := e.role(app, "admin")
		e.want("GET", base+"/admin", e.tok, nil, 200, fmt.Sprintf(
			`{"id":"%s","name":"admin","description":"App admin","composite":false,"clientRole":true,"containerId":"%s","attributes":{}}`, r.ID, app))
		e.want("POST", base, e.tok, map[string]any{"name": "admin"}, 409, `{"errorMessage":"Role with name admin already exists"}`)
		// The same name as a realm role or another client's role is fine.
		e.create("/roles", map[string]any{"name": "admin"})
		other := e.create("/clients", map[string]any{"clientId": "other"})
		e.create("/clients/"+other+"/roles", map[string]any{"name": "admin"})

		e.create(base, map[string]any{"name": "user"})
		if got := crgField(e.list(base, e.tok), "name"); !slices.Equal(got, []string{"admin", "user"}) {
			t.Fatalf("list: %v", got)
		}
		e.want("POST", base+"/admin/composites", e.tok, []map[string]any{{"name": "user", "clientRole": true, "containerId": app}}, 204, "")
		if got := crgField(e.list(base+"/admin/composites", e.tok), "name"); !slices.Equal(got, []string{"user"}) {
			t.Fatalf("composites: %v", got)
		}
		e.want("PUT", base+"/admin", e.tok, map[string]any{"name": "owner"}, 204, "")
		e.want("GET", base+"/owner", e.tok, nil, 200, "")
		e.want("DELETE", base+"/owner", e.tok, nil, 204, "")
		e.want("GET", base+"/owner", e.tok, nil, 404, `{"error":"Could not find role"}`)
		e.want("GET", "/clients/nope/roles", e.tok, nil, 404, `{"error":"Could not find client"}`)
		e.want("POST", "/clients/nope/roles", e.tok, map[string]any{"name": "x"}, 404, `{"error":"Could not find client"}`)
		e.want("GET", "/clients/nope/roles/user", e.tok, nil, 404, `{"error":"Could not find client"}`)
	})
}

// SECURITY.md M3/M4 (CVE-2026-9796): a manage-clients admin holding a client
// role cannot make realm-admin, or a role that carries it, a composite of
// that role; nor rename or recompose realm-management's roles. A realm-admin can.
func TestRolesCompositesCannotGrantAdmin(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		app := e.create("/clients", map[string]any{"clientId": "app"})
		tools := e.create("/clients", map[string]any{"clientId": "tools"})
		e.create("/clients/"+app+"/roles", map[string]any{"name": "ops"})
		e.create("/clients/"+tools+"/roles", map[string]any{"name": "bundle"})
		ops, bundle := e.role(app, "ops"), e.role(tools, "bundle")
		realmAdmin := e.adminRole("realm-admin")
		// bundle carries realm-admin, put there by a realm admin.
		s.DB.AddComposites(e.ctx(), bundle.ID, realmAdmin.ID)

		manager := s.realmAdmin(e.realm, "manager", "manage-clients", "manage-realm")
		mgr, _ := s.DB.GetUserByUsername(e.ctx(), e.realm.ID, "manager")
		s.DB.AddUserRoles(e.ctx(), mgr.ID, ops.ID)
		rm := e.realmManagement()

		e.forbiddenWrites(manager, []crgCall{
			{"POST", "/clients/" + app + "/roles/ops/composites", []map[string]any{{"id": realmAdmin.ID}}},
			{"POST", "/roles-by-id/" + ops.ID + "/composites", []map[string]any{{"id": realmAdmin.ID}}},
			{"POST", "/clients/" + app + "/roles/ops/composites", []map[string]any{{"id": bundle.ID}}},
			{"POST", "/roles/default-roles-acme/composites", []map[string]any{{"name": "manage-users", "clientRole": true, "containerId": rm}}},
			{"POST", "/clients/" + app + "/roles", map[string]any{"name": "sneaky", "composite": true,
				"composites": map[string]any{"client": map[string][]string{"realm-management": {"realm-admin"}}}}},
			{"PUT", "/clients/" + rm + "/roles/manage-clients", map[string]any{"name": "renamed"}},
			{"PUT", "/clients/" + rm + "/roles/realm-admin", map[string]any{"name": "renamed"}},
			{"DELETE", "/clients/" + rm + "/roles/realm-admin", nil},
			{"POST", "/clients/" + rm + "/roles", map[string]any{"name": "extra"}},
			{"POST", "/clients/" + rm + "/roles/manage-clients/composites", []map[string]any{{"id": ops.ID}}},
			{"DELETE", "/clients/" + rm + "/roles/realm-admin/composites", []map[string]any{{"name": "manage-users", "clientRole": true, "containerId": rm}}},
		})
		ids, _ := s.DB.EffectiveRoleIDs(e.ctx(), e.realm.ID, mgr.ID)
		if slices.Contains(ids, realmAdmin.ID) {
			t.Fatal("the manage-clients admin holds realm-admin")
		}
		// Keycloak's requireMapComposite: adding a realm role as a child
		// needs manage-realm, whoever holds the parent.
		clientsOnly := s.realmAdmin(e.realm, "clients-only", "manage-clients")
		e.forbiddenWrites(clientsOnly, []crgCall{
			{"POST", "/clients/" + app + "/roles/ops/composites", []map[string]any{{"name": "offline_access"}}},
		})
		// The same admin may still compose ordinary roles.
		e.want("POST", "/clients/"+app+"/roles/ops/composites", manager, []map[string]any{{"name": "offline_access"}}, 204, "")

		// A realm-admin may do what the manager may not.
		e.want("POST", "/clients/"+app+"/roles/ops/composites", e.tok, []map[string]any{{"id": realmAdmin.ID}}, 204, "")
		if got := e.childNames(ops.ID); !slices.Contains(got, "realm-admin") {
			t.Fatalf("realm-admin could not compose: %v", got)
		}
	})
}

// SECURITY.md M2 for roles: view-realm and view-clients admins are refused
// every write to roles.
func TestRolesViewerCannotWrite(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		e.create("/roles", map[string]any{"name": "reader"})
		app := e.create("/clients", map[string]any{"clientId": "app"})
		e.create("/clients/"+app+"/roles", map[string]any{"name": "user"})
		reader := e.role("", "reader")
		viewer := s.realmAdmin(e.realm, "viewer", "view-realm", "view-clients", "view-users")
		e.forbiddenWrites(viewer, []crgCall{
			{"POST", "/roles", map[string]any{"name": "new"}},
			{"PUT", "/roles/reader", map[string]any{"name": "r2"}},
			{"DELETE", "/roles/reader", nil},
			{"POST", "/roles/reader/composites", []map[string]any{{"name": "offline_access"}}},
			{"DELETE", "/roles/default-roles-acme/composites", []map[string]any{{"name": "offline_access"}}},
			{"PUT", "/roles-by-id/" + reader.ID, map[string]any{"name": "r3"}},
			{"DELETE", "/roles-by-id/" + reader.ID, nil},
			{"POST", "/roles-by-id/" + reader.ID + "/composites", []map[string]any{{"name": "offline_access"}}},
			{"DELETE", "/roles-by-id/" + reader.ID + "/composites", []map[string]any{{"name": "offline_access"}}},
			{"POST", "/clients/" + app + "/roles", map[string]any{"name": "new"}},
			{"DELETE", "/clients/" + app + "/roles/user", nil},
		})
		// Any admin lists roles; reading one needs the view permission.
		usersOnly := s.realmAdmin(e.realm, "support", "view-users")
		if got := e.list("/roles", usersOnly); len(got) == 0 {
			t.Fatal("a view-users admin cannot list roles")
		}
		e.want("GET", "/roles/reader", usersOnly, nil, 403, `{"error":"HTTP 403 Forbidden"}`)
		e.want("GET", "/roles-by-id/"+reader.ID, usersOnly, nil, 403, `{"error":"HTTP 403 Forbidden"}`)
		var r map[string]any
		_, b := e.want("GET", "/roles/reader", viewer, nil, 200, "")
		json.Unmarshal([]byte(b), &r)
		if r["name"] != "reader" {
			t.Fatalf("viewer reads: %v", r)
		}
	})
}

// SECURITY.md M4 (CVE-2026-9796): renaming admin roles and composing them,
// raced from 50 goroutines by a manage-clients admin, creates no composite
// that grants admin and renames nothing; admin rights follow role ids, and
// the names they are looked up by cannot be moved by such an admin.
func TestRolesRenameAndComposeRace(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		app := e.create("/clients", map[string]any{"clientId": "app"})
		e.create("/clients/"+app+"/roles", map[string]any{"name": "ops"})
		ops := e.role(app, "ops")
		manager := s.realmAdmin(e.realm, "manager", "manage-clients")
		mgr, _ := s.DB.GetUserByUsername(e.ctx(), e.realm.ID, "manager")
		s.DB.AddUserRoles(e.ctx(), mgr.ID, ops.ID)
		rm := e.realmManagement()
		realmAdmin, manageClients := e.adminRole("realm-admin"), e.adminRole("manage-clients")
		before := e.snapshot()

		statuses := make(chan int, 50)
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var st int
				switch i % 3 {
				case 0:
					st, _, _ = s.do("PUT", e.path("/clients/"+rm+"/roles/realm-admin"), manager, map[string]any{"name": "old-admin"})
				case 1:
					st, _, _ = s.do("PUT", e.path("/roles-by-id/"+manageClients.ID), manager, map[string]any{"name": "realm-admin"})
				default:
					st, _, _ = s.do("POST", e.path("/roles-by-id/"+ops.ID+"/composites"), manager, []map[string]any{{"id": realmAdmin.ID}})
				}
				statuses <- st
			}()
		}
		wg.Wait()
		close(statuses)
		for st := range statuses {
			if st != 403 {
				t.Fatalf("a raced call was not refused: %d", st)
			}
		}
		if after := e.snapshot(); after != before {
			t.Fatal("the race changed the realm")
		}
		ids, _ := s.DB.EffectiveRoleIDs(e.ctx(), e.realm.ID, mgr.ID)
		if slices.Contains(ids, realmAdmin.ID) {
			t.Fatal("the manage-clients admin holds realm-admin")
		}
	})
}
