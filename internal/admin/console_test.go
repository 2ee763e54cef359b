package admin_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// consoleToken signs a user in through a realm's security-admin-console,
// as the admin console does (with direct grants turned on for the test).
func consoleToken(t *testing.T, s *testServer, r realm.Realm, username, password string) string {
	t.Helper()
	ctx := context.Background()
	c, err := s.DB.GetClientByClientID(ctx, r.ID, provision.SecurityAdminConsole)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DB.UpdateClient(ctx, r.ID, c.ID, func(c *client.Client) error { c.DirectAccessGrantsEnabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	return s.token(r.Name, provision.SecurityAdminConsole, username, password)
}

func TestWhoAmI(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		master, _ := s.DB.GetRealmByName(context.Background(), "master")
		acme := s.newRealm("acme")
		tok := consoleToken(t, s, master, "admin", "admin-pw")

		var who struct {
			UserID, Realm, DisplayName, Locale string
			CreateRealm                        bool
			RealmAccess                        map[string][]string `json:"realm_access"`
			Temporary                          bool
		}
		s.get("/admin/master/console/whoami?currentRealm=acme", tok, &who)
		if who.Realm != "master" || who.DisplayName != "admin" || who.Locale != "en" || !who.CreateRealm || who.UserID == "" {
			t.Fatalf("whoami: %+v", who)
		}
		if len(who.RealmAccess) != 1 || !slices.Contains(who.RealmAccess["acme"], "manage-users") {
			t.Fatalf("realm_access: %v", who.RealmAccess)
		}
		st, _, b := s.do("GET", "/admin/master/console/whoami?currentRealm=nowhere", tok, nil)
		if st != 404 || string(b) != `{"error":"Realm not found."}` {
			t.Fatalf("unknown current realm: %d %s", st, b)
		}
		// A token of another realm, or one not issued to an admin console.
		st, _, _ = s.do("GET", "/admin/acme/console/whoami", tok, nil)
		if st != 401 {
			t.Fatalf("token of another realm: %d", st)
		}
		st, _, _ = s.do("GET", "/admin/master/console/whoami", s.adminToken(), nil)
		if st != 403 {
			t.Fatalf("admin-cli token: %d", st)
		}
		st, _, _ = s.do("GET", "/admin/master/console/whoami", "", nil)
		if st != 401 {
			t.Fatalf("no token: %d", st)
		}

		// A realm's own administrator sees their realm's access only.
		s.realmAdmin(acme, "viewer", "view-users")
		vt := consoleToken(t, s, acme, "viewer", "pw-viewer")
		s.get("/admin/acme/console/whoami?currentRealm=master", vt, &who)
		if who.Realm != "acme" || who.CreateRealm || !slices.Equal(who.RealmAccess["acme"], []string{"query-groups", "query-users", "view-users"}) || len(who.RealmAccess) != 1 {
			t.Fatalf("realm admin whoami: %+v", who)
		}
		// A user holding no admin role is refused.
		s.realmAdmin(acme, "plain")
		st, _, _ = s.do("GET", "/admin/acme/console/whoami", consoleToken(t, s, acme, "plain", "pw-plain"), nil)
		if st != 403 {
			t.Fatalf("plain user: %d", st)
		}
	})
}

func TestMessageBundle(t *testing.T) {
	s := newServer(t, storetest.Open)
	var msgs []struct{ Key, Value string }
	s.get("/resources/master/login/de", "", &msgs)
	if len(msgs) < 10 || !slices.IsSortedFunc(msgs, func(a, b struct{ Key, Value string }) int {
		if a.Key < b.Key {
			return -1
		}
		return 1
	}) {
		t.Fatalf("%d messages, sorted %v", len(msgs), msgs[:2])
	}
	var en []struct{ Key, Value string }
	s.get("/resources/master/account/en", "", &en)
	if len(en) != len(msgs) || slices.Equal(en, msgs) {
		t.Fatalf("en (%d) vs de (%d)", len(en), len(msgs))
	}
	if st, _, b := s.do("GET", "/resources/nowhere/login/en", "", nil); st != 404 || string(b) != `{"error":"Realm not found."}` {
		t.Fatalf("unknown realm: %d %s", st, b)
	}
	if st, _, _ := s.do("GET", "/resources/master/nope/en", "", nil); st != 404 {
		t.Fatalf("unknown theme type: %d", st)
	}
	var none []any
	s.get("/resources/master/login/xx", "", &none)
	if len(none) != 0 {
		t.Fatalf("unknown locale: %v", none)
	}
}

func TestClearCaches(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		r := s.newRealm("cc")
		viewer := s.realmAdmin(r, "v", "view-realm")
		for _, c := range []string{"clear-realm-cache", "clear-user-cache", "clear-keys-cache", "clear-crl-cache"} {
			if st, _, b := s.do("POST", "/admin/realms/cc/"+c, s.adminToken(), nil); st != 204 {
				t.Errorf("%s: %d %s", c, st, b)
			}
			if st, _, _ := s.do("POST", "/admin/realms/cc/"+c, viewer, nil); st != 403 {
				t.Errorf("%s as viewer: %d", c, st)
			}
			if st, _, _ := s.do("POST", "/admin/realms/nowhere/"+c, s.adminToken(), nil); st != 404 {
				t.Errorf("%s of an unknown realm: %d", c, st)
			}
		}
	})
}

func TestRoleManagementPermissions(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "perm")
		cid := e.create("/clients", map[string]any{"clientId": "app"})
		e.create("/clients/"+cid+"/roles", map[string]any{"name": "r"})
		e.create("/roles", map[string]any{"name": "clerk"})
		clerk := e.obj("/roles/clerk")
		users := s.realmAdmin(e.realm, "u", "view-users")
		for _, c := range []struct{ path, missing string }{
			{"/roles-by-id/" + clerk["id"].(string), "/roles-by-id/nope"},
			{"/roles/clerk", "/roles/nope"},
			{"/clients/" + cid + "/roles/r", "/clients/" + cid + "/roles/nope"},
		} {
			p := c.path + "/management/permissions"
			e.want("GET", p, e.tok, nil, 200, `{"enabled":false}`)
			e.want("PUT", p, e.tok, map[string]bool{"enabled": false}, 200, `{"enabled":false}`)
			e.want("PUT", p, e.tok, map[string]bool{"enabled": true}, 200, "")
			e.want("PUT", p, e.tok, map[string]bool{"enabled": false}, 200, `{"enabled":false}`)
			e.want("PUT", p, e.tok, "{", 400, "")
			e.want("GET", c.missing+"/management/permissions", e.tok, nil, 404, "")
			e.want("PUT", p, users, map[string]bool{"enabled": false}, 403, "")
		}
	})
}

func TestSubComponentTypes(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "subc")
		comps := e.list("/components?type=org.keycloak.keys.KeyProvider", e.tok)
		if len(comps) == 0 {
			t.Fatal("no key components")
		}
		id := comps[0]["id"].(string)
		e.want("GET", "/components/"+id+"/sub-component-types?type=org.keycloak.storage.ldap.mappers.LDAPStorageMapper", e.tok, nil, 200, `[]`)
		e.want("GET", "/components/"+id+"/sub-component-types", e.tok, nil, 400, `{"errorMessage":"must specify a subtype"}`)
		e.want("GET", "/components/nope/sub-component-types?type=x", e.tok, nil, 404, `{"error":"Could not find parent component"}`)
		e.want("GET", "/components/"+id+"/sub-component-types?type=x", s.realmAdmin(e.realm, "u", "view-users"), nil, 403, "")
	})
}
