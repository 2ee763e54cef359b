package admin_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// roleNames reads a RoleRepresentation list and returns the names, sorted.
func (e *usersEnv) roleNames(p, tok string) []string {
	e.t.Helper()
	var rs []map[string]any
	e.get(e.path(p), tok, &rs)
	out := []string{}
	for _, r := range rs {
		out = append(out, r["name"].(string))
	}
	slices.Sort(out)
	return out
}

func TestRealmRoleMappings(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "acme")
		editor := e.mustRole("editor")
		publisher := e.mustRole("publisher")
		if err := s.DB.AddComposites(e.ctx(), publisher.ID, editor.ID); err != nil {
			t.Fatal(err)
		}
		id := e.create(map[string]any{"username": "alice", "enabled": true})
		base := "/users/" + id + "/role-mappings"
		def := realm.DefaultRoleName("acme")

		if got := e.roleNames(base+"/realm", e.tok); !slices.Equal(got, []string{def}) {
			t.Fatalf("direct: %v", got)
		}
		avail := e.roleNames(base+"/realm/available", e.tok)
		if !slices.Contains(avail, "editor") || !slices.Contains(avail, "publisher") || slices.Contains(avail, def) {
			t.Fatalf("available: %v", avail)
		}

		e.want("POST", base+"/realm", e.tok, []map[string]any{{"id": publisher.ID, "name": "publisher"}}, 204, "")
		if got := e.roleNames(base+"/realm", e.tok); !slices.Equal(got, []string{def, "publisher"}) {
			t.Fatalf("after add: %v", got)
		}
		eff := e.roleNames(base+"/realm/composite", e.tok)
		for _, want := range []string{def, "publisher", "editor", provision.OfflineAccessRole, provision.UMAAuthorizationRole} {
			if !slices.Contains(eff, want) {
				t.Fatalf("effective roles %v lack %s", eff, want)
			}
		}
		if slices.Contains(e.roleNames(base+"/realm/available", e.tok), "publisher") {
			t.Fatal("a mapped role is still available")
		}
		var brief []map[string]any
		e.get(e.path(base+"/realm"), e.tok, &brief)
		for _, r := range brief {
			if r["name"] == "publisher" && (r["composite"] != true || r["clientRole"] != false || r["containerId"] != e.realm.ID || r["attributes"] != nil) {
				t.Fatalf("brief role: %v", r)
			}
		}
		var full []map[string]any
		e.get(e.path(base+"/realm/composite?briefRepresentation=false"), e.tok, &full)
		if len(full) == 0 || full[0]["attributes"] == nil {
			t.Fatalf("full roles carry attributes: %v", full)
		}

		var all map[string]any
		e.get(e.path(base), e.tok, &all)
		if _, ok := all["clientMappings"]; ok || len(all["realmMappings"].([]any)) != 2 {
			t.Fatalf("role-mappings: %v", all)
		}

		// Unknown roles are 404 and nothing of the request is applied.
		e.want("POST", base+"/realm", e.tok, []map[string]any{{"name": "editor"}, {"name": "ghost"}}, 404, `{"error":"Role not found"}`)
		e.want("POST", base+"/realm", e.tok, []map[string]any{{"name": "editor", "id": publisher.ID}}, 404, `{"error":"Role not found"}`)
		if got := e.roleNames(base+"/realm", e.tok); !slices.Equal(got, []string{def, "publisher"}) {
			t.Fatalf("refused add changed mappings: %v", got)
		}

		e.want("DELETE", base+"/realm", e.tok, []map[string]any{{"name": "publisher"}}, 204, "")
		if got := e.roleNames(base+"/realm", e.tok); !slices.Equal(got, []string{def}) {
			t.Fatalf("after delete: %v", got)
		}
		if slices.Contains(e.roleNames(base+"/realm/composite", e.tok), "editor") {
			t.Fatal("composite child still effective after removal")
		}
		// Without a body every realm mapping goes, as in Keycloak.
		e.want("DELETE", base+"/realm", e.tok, nil, 204, "")
		e.want("GET", base+"/realm", e.tok, nil, 200, "[]")
		e.want("GET", base, e.tok, nil, 200, "{}")
	})
}

func TestClientRoleMappings(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "acme")
		app := client.New(store.NewID(), e.realm.ID, "app")
		if err := s.DB.CreateClient(e.ctx(), app); err != nil {
			t.Fatal(err)
		}
		reader := role.Role{ID: store.NewID(), RealmID: e.realm.ID, ClientID: app.ID, Name: "reader"}
		writer := role.Role{ID: store.NewID(), RealmID: e.realm.ID, ClientID: app.ID, Name: "writer"}
		for _, r := range []role.Role{reader, writer} {
			if err := s.DB.CreateRole(e.ctx(), r); err != nil {
				t.Fatal(err)
			}
		}
		s.DB.AddComposites(e.ctx(), writer.ID, reader.ID)
		id := e.create(map[string]any{"username": "alice", "enabled": true})
		base := "/users/" + id + "/role-mappings/clients/" + app.ID

		if got := e.roleNames(base+"/available", e.tok); !slices.Equal(got, []string{"reader", "writer"}) {
			t.Fatalf("available: %v", got)
		}
		e.want("POST", base, e.tok, []map[string]any{{"name": "writer"}}, 204, "")
		if got := e.roleNames(base, e.tok); !slices.Equal(got, []string{"writer"}) {
			t.Fatalf("direct: %v", got)
		}
		if got := e.roleNames(base+"/composite", e.tok); !slices.Equal(got, []string{"reader", "writer"}) {
			t.Fatalf("composite: %v", got)
		}
		var all struct {
			ClientMappings map[string]struct {
				ID       string           `json:"id"`
				Client   string           `json:"client"`
				Mappings []map[string]any `json:"mappings"`
			} `json:"clientMappings"`
		}
		e.get(e.path("/users/"+id+"/role-mappings"), e.tok, &all)
		if m := all.ClientMappings["app"]; m.ID != app.ID || m.Client != "app" || len(m.Mappings) != 1 || m.Mappings[0]["clientRole"] != true {
			t.Fatalf("clientMappings: %+v", all)
		}
		// A realm role is not a role of the client.
		e.want("POST", base, e.tok, []map[string]any{{"name": provision.OfflineAccessRole}}, 404, `{"error":"Role not found"}`)
		e.want("GET", "/users/"+id+"/role-mappings/clients/nope", e.tok, nil, 404, `{"error":"Client not found"}`)
		e.want("DELETE", base, e.tok, "", 204, "")
		e.want("GET", base, e.tok, nil, 200, "[]")
	})
}

func TestGroupRoleMappings(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "acme")
		editor := e.mustRole("editor")
		auditor := e.mustRole("auditor")
		parent := e.mustGroup("org", "", auditor)
		child := e.mustGroup("team", parent.ID)
		base := "/groups/" + child.ID + "/role-mappings"

		e.want("GET", base, e.tok, nil, 200, "{}")
		e.want("POST", base+"/realm", e.tok, []map[string]any{{"id": editor.ID}}, 204, "")
		if got := e.roleNames(base+"/realm", e.tok); !slices.Equal(got, []string{"editor"}) {
			t.Fatalf("group direct: %v", got)
		}
		// A group has its ancestors' roles.
		if got := e.roleNames(base+"/realm/composite", e.tok); !slices.Equal(got, []string{"auditor", "editor"}) {
			t.Fatalf("group effective: %v", got)
		}
		if slices.Contains(e.roleNames(base+"/realm/available", e.tok), "editor") {
			t.Fatal("mapped role available")
		}
		// Members receive the group's roles.
		id := e.create(map[string]any{"username": "alice", "enabled": true, "groups": []string{"/org/team"}})
		eff := e.roleNames("/users/"+id+"/role-mappings/realm/composite", e.tok)
		if !slices.Contains(eff, "editor") || !slices.Contains(eff, "auditor") {
			t.Fatalf("member's effective roles: %v", eff)
		}
		e.want("DELETE", base+"/realm", e.tok, []map[string]any{{"name": "editor"}}, 204, "")
		e.want("GET", base+"/realm", e.tok, nil, 200, "[]")
		e.want("GET", "/groups/nope/role-mappings", e.tok, nil, 404, `{"error":"Could not find group by id"}`)
		e.want("POST", "/groups/nope/role-mappings/realm", e.tok, []map[string]any{{"name": "editor"}}, 404, `{"error":"Could not find group by id"}`)
	})
}

// SECURITY.md M3: a manage-users admin cannot give itself or anyone an
// admin role it does not hold, on any path: role mapping (also hidden in a
// composite), group membership, user creation.
func TestManageUsersCannotGrantAdminRoles(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "acme")
		mu := s.realmAdmin(e.realm, "helpdesk", "manage-users")
		self, err := s.DB.GetUserByUsername(e.ctx(), e.realm.ID, "helpdesk")
		if err != nil {
			t.Fatal(err)
		}
		realmAdmin := e.adminRole(provision.RealmAdmin)
		rmID := realmAdmin.ClientID
		sneaky := e.mustRole("sneaky")
		s.DB.AddComposites(e.ctx(), sneaky.ID, realmAdmin.ID)
		editor := e.mustRole("editor")
		admins := e.mustGroup("admins", "", realmAdmin)
		sub := e.mustGroup("sub", admins.ID)
		before := e.directRoleNames(self.ID)

		e.want("POST", "/users/"+self.ID+"/role-mappings/clients/"+rmID, mu,
			[]map[string]any{{"id": realmAdmin.ID, "name": provision.RealmAdmin}}, 403, `{"error":"HTTP 403 Forbidden"}`)
		e.want("POST", "/users/"+self.ID+"/role-mappings/realm", mu, []map[string]any{{"name": "sneaky"}}, 403, `{"error":"HTTP 403 Forbidden"}`)
		e.want("POST", "/users/"+self.ID+"/role-mappings/realm", mu, []map[string]any{{"name": "editor"}, {"name": "sneaky"}}, 403, "")
		e.want("PUT", "/users/"+self.ID+"/groups/"+sub.ID, mu, nil, 403, `{"error":"HTTP 403 Forbidden"}`)
		e.want("POST", "/groups/"+admins.ID+"/role-mappings/realm", mu, []map[string]any{{"name": "editor"}}, 204, "")
		if got := e.directRoleNames(self.ID); !slices.Equal(got, before) {
			t.Fatalf("refused calls changed the caller's roles: %v -> %v", before, got)
		}
		if gs, _ := s.DB.ListUserGroups(e.ctx(), self.ID); len(gs) != 0 {
			t.Fatalf("refused join stored: %v", gs)
		}
		e.want("POST", "/users", mu, map[string]any{"username": "minion", "groups": []string{"/admins"}}, 403, "")
		e.want("POST", "/users", mu, map[string]any{"username": "minion",
			"clientRoles": map[string][]string{provision.RealmManagement: {provision.RealmAdmin}}}, 403, "")
		if _, err := s.DB.GetUserByUsername(e.ctx(), e.realm.ID, "minion"); err == nil {
			t.Fatal("refused create stored the user")
		}

		// What the caller may map is what "available" offers it.
		avail := e.roleNames("/users/"+self.ID+"/role-mappings/realm/available", mu)
		if !slices.Contains(avail, editor.Name) || slices.Contains(avail, "sneaky") {
			t.Fatalf("available realm roles for manage-users: %v", avail)
		}
		availAdmin := e.roleNames("/users/"+self.ID+"/role-mappings/clients/"+rmID+"/available", mu)
		if slices.Contains(availAdmin, provision.RealmAdmin) || len(availAdmin) != 0 {
			t.Fatalf("available admin roles for manage-users: %v", availAdmin)
		}
		// Ordinary roles are fine.
		e.want("POST", "/users/"+self.ID+"/role-mappings/realm", mu, []map[string]any{{"name": "editor"}}, 204, "")

		// A realm admin may hand out the admin roles it holds.
		boss := s.realmAdmin(e.realm, "boss", provision.RealmAdmin)
		other := e.create(map[string]any{"username": "other", "enabled": true})
		e.want("POST", "/users/"+other+"/role-mappings/clients/"+rmID, boss,
			[]map[string]any{{"name": "view-clients"}}, 204, "")
		if got := e.directRoleNames(other); !slices.Contains(got, "view-clients") {
			t.Fatalf("realm-admin could not grant view-clients: %v", got)
		}
		// manage-users cannot take an admin role it lacks away either.
		e.want("DELETE", "/users/"+other+"/role-mappings/clients/"+rmID, mu,
			[]map[string]any{{"name": "view-clients"}}, 403, "")
		e.want("DELETE", "/users/"+other+"/role-mappings/clients/"+rmID, mu, nil, 403, "")
		if got := e.directRoleNames(other); !slices.Contains(got, "view-clients") {
			t.Fatalf("refused removal took the role away: %v", got)
		}
		// A view-users admin reads role mappings but changes none.
		viewer := s.realmAdmin(e.realm, "viewer", "view-users")
		e.want("GET", "/users/"+self.ID+"/role-mappings", viewer, nil, 200, "")
		e.want("POST", "/users/"+self.ID+"/role-mappings/realm", viewer, []map[string]any{{"name": "editor"}}, 403, "")
		e.want("DELETE", "/users/"+self.ID+"/role-mappings/realm", viewer, nil, 403, "")
	})
}

func TestRoleMappingBodies(t *testing.T) {
	s := newServer(t, storetest.Open)
	e := newUsersEnv(t, s, "acme")
	id := e.create(map[string]any{"username": "alice", "enabled": true})
	base := "/users/" + id + "/role-mappings/realm"
	e.want("POST", base, e.tok, `{"name":"x"}`, 400, `{"error":"invalid_request","error_description":"Cannot parse the JSON"}`)
	e.want("POST", base, e.tok, `[]`, 204, "")
	var before []json.RawMessage
	e.get(e.path(base), e.tok, &before)
	if len(before) != 1 {
		t.Fatalf("empty add changed mappings: %d", len(before))
	}
}

// Regression: the master realm's admin holds no realm-admin over other
// realms (its rights come through "<realm>-realm"), yet may grant any role.
func TestMasterAdminGrantsRealmManagementRoles(t *testing.T) {
	s := newServer(t, storetest.Open)
	r := s.newRealm("acme")
	tok := s.adminToken()
	ctx := context.Background()
	u := user.User{ID: store.NewID(), RealmID: r.ID, Username: "ops", Enabled: true}
	if err := s.DB.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	rm, _ := s.DB.GetClientByClientID(ctx, r.ID, "realm-management")
	ra, _ := s.DB.GetClientRole(ctx, r.ID, rm.ID, "realm-admin")
	st, _, body := s.do("POST", "/admin/realms/acme/users/"+u.ID+"/role-mappings/clients/"+rm.ID, tok,
		[]map[string]any{{"id": ra.ID, "name": "realm-admin"}})
	if st != 204 {
		t.Fatalf("master admin mapping realm-admin in acme: %d %s", st, body)
	}
	eff, _ := s.DB.EffectiveRoleIDs(ctx, r.ID, u.ID)
	if !slices.Contains(eff, ra.ID) {
		t.Fatal("realm-admin not mapped")
	}
}
