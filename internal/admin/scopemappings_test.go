package admin_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// createdID posts x to p and returns the id at the end of Location.
func (e *usersEnv) createdID(p string, x any) string {
	e.t.Helper()
	st, h, b := e.do("POST", e.path(p), e.tok, x)
	if st != 201 {
		e.t.Fatalf("POST %s: %d %s", p, st, b)
	}
	loc := h.Get("Location")
	return loc[strings.LastIndex(loc, "/")+1:]
}

// TestScopeMappingEndpoints drives the 22 scope-mapping endpoints, on a
// client and on a client scope, with good and bad input.
func TestScopeMappingEndpoints(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "acme")
		editor, publisher := e.mustRole("editor"), e.mustRole("publisher")
		if err := s.DB.AddComposites(e.ctx(), publisher.ID, editor.ID); err != nil {
			t.Fatal(err)
		}
		apiID := e.createdID("/clients", map[string]any{"clientId": "api"})
		for _, name := range []string{"read", "write"} {
			e.want("POST", "/clients/"+apiID+"/roles", e.tok, map[string]any{"name": name}, 201, "")
		}
		appID := e.createdID("/clients", map[string]any{"clientId": "app", "fullScopeAllowed": false})
		scopeID := e.createdID("/client-scopes", map[string]any{"name": "extra", "protocol": "openid-connect"})

		for _, base := range []string{"/clients/" + appID + "/scope-mappings", "/client-scopes/" + scopeID + "/scope-mappings"} {
			t.Run(base[1:strings.Index(base[1:], "/")+1], func(t *testing.T) {
				e.t = t
				if got := e.roleNames(base+"/realm", e.tok); len(got) != 0 {
					t.Fatalf("a new container has realm scope mappings: %v", got)
				}
				avail := e.roleNames(base+"/realm/available", e.tok)
				if !slices.Contains(avail, "editor") || !slices.Contains(avail, "publisher") {
					t.Fatalf("available: %v", avail)
				}
				// Realm roles are named by id, as Keycloak reads them.
				e.want("POST", base+"/realm", e.tok, []map[string]any{{"id": publisher.ID, "name": "publisher"}}, 204, "")
				e.want("POST", base+"/realm", e.tok, []map[string]any{{"id": publisher.ID}}, 204, "") // again: no error
				if got := e.roleNames(base+"/realm", e.tok); !slices.Equal(got, []string{"publisher"}) {
					t.Fatalf("after add: %v", got)
				}
				if got := e.roleNames(base+"/realm/composite", e.tok); !slices.Equal(got, []string{"editor", "publisher"}) {
					t.Fatalf("composite must expand publisher into editor: %v", got)
				}
				if slices.Contains(e.roleNames(base+"/realm/available", e.tok), "publisher") {
					t.Fatal("a mapped role is still available")
				}
				notFound := `{"error":"Role not found"}`
				e.want("POST", base+"/realm", e.tok, []map[string]any{{"id": editor.ID}, {"id": "no-such-id"}}, 404, notFound)
				e.want("POST", base+"/realm", e.tok, []map[string]any{{"name": "editor"}}, 404, notFound)
				e.want("POST", base+"/realm", e.tok, "{not json", 400, "")
				if got := e.roleNames(base+"/realm", e.tok); !slices.Equal(got, []string{"publisher"}) {
					t.Fatalf("a refused call changed the mappings: %v", got)
				}

				// Client roles are named by name under the client's id.
				cb := base + "/clients/" + apiID
				e.want("POST", cb, e.tok, []map[string]any{{"name": "read"}}, 204, "")
				e.want("POST", cb, e.tok, []map[string]any{{"name": "nope"}}, 404, notFound)
				e.want("GET", base+"/clients/no-such-client", e.tok, nil, 404, `{"error":"Could not find client"}`)
				if got := e.roleNames(cb, e.tok); !slices.Equal(got, []string{"read"}) {
					t.Fatalf("client scope mappings: %v", got)
				}
				if got := e.roleNames(cb+"/available", e.tok); !slices.Equal(got, []string{"write"}) {
					t.Fatalf("client available: %v", got)
				}
				if got := e.roleNames(cb+"/composite", e.tok); !slices.Equal(got, []string{"read"}) {
					t.Fatalf("client composite: %v", got)
				}
				var all struct {
					RealmMappings  []map[string]any `json:"realmMappings"`
					ClientMappings map[string]struct {
						ID       string           `json:"id"`
						Client   string           `json:"client"`
						Mappings []map[string]any `json:"mappings"`
					} `json:"clientMappings"`
				}
				e.get(e.path(base), e.tok, &all)
				api := all.ClientMappings["api"]
				if len(all.RealmMappings) != 1 || all.RealmMappings[0]["name"] != "publisher" || api.ID != apiID || api.Client != "api" ||
					len(api.Mappings) != 1 || api.Mappings[0]["name"] != "read" {
					t.Fatalf("all scope mappings: %+v", all)
				}

				// Removing: named roles, or without a body every one of the part.
				e.want("DELETE", base+"/realm", e.tok, []map[string]any{{"id": "no-such-id"}}, 404, notFound)
				e.want("DELETE", base+"/realm", e.tok, []map[string]any{{"id": publisher.ID}}, 204, "")
				if got := e.roleNames(base+"/realm", e.tok); len(got) != 0 {
					t.Fatalf("after delete: %v", got)
				}
				e.want("POST", cb, e.tok, []map[string]any{{"name": "write"}}, 204, "")
				e.want("DELETE", cb, e.tok, nil, 204, "")
				if got := e.roleNames(cb, e.tok); len(got) != 0 {
					t.Fatalf("delete without a body leaves %v", got)
				}
			})
		}
		e.t = t

		// Unknown containers, with Keycloak's messages.
		e.want("GET", "/clients/nope/scope-mappings/realm", e.tok, nil, 404, `{"error":"Could not find client"}`)
		e.want("GET", "/client-scopes/nope/scope-mappings/realm", e.tok, nil, 404, `{"error":"Could not find client scope"}`)

		// A client with full scope reaches every role.
		full := e.createdID("/clients", map[string]any{"clientId": "full"})
		if got := e.roleNames("/clients/"+full+"/scope-mappings/realm/composite", e.tok); !slices.Contains(got, "editor") ||
			!slices.Contains(got, realm.DefaultRoleName("acme")) {
			t.Fatalf("full scope composite: %v", got)
		}
		// Without full scope a client reaches its own roles and what they compose.
		e.want("POST", "/clients/"+appID+"/roles", e.tok, map[string]any{"name": "own"}, 201, "")
		own, err := s.DB.GetClientRole(e.ctx(), e.realm.ID, appID, "own")
		if err != nil {
			t.Fatal(err)
		}
		s.DB.AddComposites(e.ctx(), own.ID, editor.ID)
		if got := e.roleNames("/clients/"+appID+"/scope-mappings/realm/composite", e.tok); !slices.Equal(got, []string{"editor"}) {
			t.Fatalf("own role's composite: %v", got)
		}

		// Reading needs view-clients, changing manage-clients.
		viewer := s.realmAdmin(e.realm, "viewer", "view-clients")
		other := s.realmAdmin(e.realm, "other", "view-users")
		for _, base := range []string{"/clients/" + appID + "/scope-mappings", "/client-scopes/" + scopeID + "/scope-mappings"} {
			e.want("GET", base+"/realm", viewer, nil, 200, "[]")
			e.want("GET", base+"/realm/available", viewer, nil, 200, "[]") // may not map: nothing offered
			e.want("POST", base+"/realm", viewer, []map[string]any{{"id": editor.ID}}, 403, "")
			e.want("DELETE", base+"/clients/"+apiID, viewer, nil, 403, "")
			e.want("GET", base, other, nil, 403, "")
		}
		if got, _ := s.DB.ScopeMappings(e.ctx(), e.realm.ID, store.ScopeOwner{ID: appID}); len(got) != 0 {
			t.Fatalf("a refused call stored %v", got)
		}
	})
}

// Changing scope mappings is recorded as Keycloak's REALM_SCOPE_MAPPING
// and CLIENT_SCOPE_MAPPING admin events.
func TestScopeMappingAdminEvents(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "smev")
		e.want("PUT", "/events/config", e.tok, map[string]any{"adminEventsEnabled": true}, 204, "")
		app := e.create("/clients", map[string]any{"clientId": "app"})
		scope := e.create("/client-scopes", map[string]any{"name": "extra", "protocol": "openid-connect"})
		e.want("POST", "/clients/"+app+"/roles", e.tok, map[string]any{"name": "own"}, 201, "")
		var offline map[string]any
		e.s.get(e.path("/roles/offline_access"), e.tok, &offline)
		e.want("POST", "/client-scopes/"+scope+"/scope-mappings/realm", e.tok, []map[string]any{{"id": offline["id"]}}, 204, "")
		e.want("POST", "/clients/"+app+"/scope-mappings/clients/"+app, e.tok, []map[string]any{{"name": "own"}}, 204, "")
		e.want("DELETE", "/clients/"+app+"/scope-mappings/clients/"+app, e.tok, nil, 204, "")
		var got []string
		for _, ev := range adminEvents(e, "?resourceTypes=REALM_SCOPE_MAPPING&resourceTypes=CLIENT_SCOPE_MAPPING") {
			got = append(got, ev.OperationType+" "+ev.ResourceType+" "+ev.ResourcePath)
		}
		want := []string{
			"CREATE REALM_SCOPE_MAPPING client-scopes/" + scope + "/scope-mappings/realm",
			"CREATE CLIENT_SCOPE_MAPPING clients/" + app + "/scope-mappings/clients/" + app,
			"DELETE CLIENT_SCOPE_MAPPING clients/" + app + "/scope-mappings/clients/" + app,
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("admin events:\n got  %v\n want %v", got, want)
		}
	})
}
