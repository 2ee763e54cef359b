package admin_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/Nerzal/gocloak/v13"
	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// grantHelpdesk turns the group's permissions on and gives the helpdesk
// policy the scopes named.
func (e *fgapEnv) grantHelpdesk(group string, scopes ...string) {
	e.t.Helper()
	sp := *e.enableGroup(group).ScopePermissions
	pol := e.helpdeskPolicy()
	for _, s := range scopes {
		e.setPolicies(sp[s], pol)
	}
}

// Moving a group needs manage on the group moved, not only on its new
// parent: otherwise its members fall under the parent's manage-members.
func TestFGAPMoveGroupNeedsManageOnChild(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newFGAPEnv(t, s)
		e.grantHelpdesk("staff", "manage", "manage-members")
		contractors := e.groups["contractors"]
		body := map[string]any{"id": contractors, "name": "contractors"}
		if st := e.status("POST", "/groups/"+e.groups["staff"]+"/children", e.hd, body); st != 403 {
			t.Fatalf("moving contractors under staff: %d, want 403", st)
		}
		g, err := e.gc.GetGroup(e.ctx, e.master, corp, contractors)
		if err != nil {
			t.Fatal(err)
		}
		if p := gocloak.PString(g.Path); p != "/contractors" {
			t.Errorf("contractors moved to %s", p)
		}
		if st := e.status("PUT", "/users/"+e.users["cora"], e.hd, map[string]any{"firstName": "x"}); st != 403 {
			t.Errorf("PUT cora: %d, want 403", st)
		}

		e.grantHelpdesk("contractors", "manage")
		if st := e.status("POST", "/groups/"+e.groups["staff"]+"/children", e.hd, body); st != 204 {
			t.Fatalf("moving contractors with manage on both: %d, want 204", st)
		}
		if g, err = e.gc.GetGroup(e.ctx, e.master, corp, contractors); err != nil || gocloak.PString(g.Path) != "/staff/contractors" {
			t.Errorf("contractors after the move: %v %v", gocloak.PString(g.Path), err)
		}
	})
}

// A helpdesk holding manage-members and manage-membership on a group may
// create users in that group, and only there; a refused user is not stored.
func TestFGAPCreateUserInManagedGroup(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newFGAPEnv(t, s)
		e.grantHelpdesk("staff", "view-members", "manage-members", "manage-membership")
		count := func() int {
			n, err := e.gc.GetUserCount(e.ctx, e.master, corp, gocloak.GetUsersParams{})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := count()
		for _, groups := range [][]string{{"/contractors"}, {"/staff", "/contractors"}, {}} {
			body := map[string]any{"username": "nope", "enabled": true, "groups": groups}
			if st := e.status("POST", "/users", e.hd, body); st != 403 {
				t.Errorf("create in %v: %d, want 403", groups, st)
			}
		}
		if n := count(); n != before {
			t.Errorf("%d users after refusals, want %d", n, before)
		}
		if st := e.status("POST", "/users", e.hd, map[string]any{"username": "newbie", "enabled": true, "groups": []string{"/staff"}}); st != 201 {
			t.Fatalf("create in /staff: %d, want 201", st)
		}
		if got := e.usernames("/users?search=newbie", e.hd); len(got) != 1 || got[0] != "newbie" {
			t.Errorf("helpdesk lists %v, want newbie", got)
		}
	})
}

// The routes about one user beyond /users/{id} answer the same rules: a
// staff member's federated identities and brute-force record are the
// helpdesk's to read and change, a contractor's are not; the user
// profile's metadata needs any admin role.
func TestFGAPUserSideRoutes(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newFGAPEnv(t, s)
		e.grantHelpdesk("staff", "view-members", "manage-members")
		sam, cora := e.users["sam"], e.users["cora"]
		for _, c := range []struct {
			method, path string
			sam          int
		}{
			{"GET", "/users/%s/federated-identity", 200},
			{"DELETE", "/users/%s/federated-identity/nope", 404},
			{"POST", "/users/%s/federated-identity/nope", 404},
			{"GET", "/attack-detection/brute-force/users/%s", 200},
			{"DELETE", "/attack-detection/brute-force/users/%s", 204},
		} {
			var body any
			if c.method == "POST" {
				body = map[string]any{"identityProvider": "nope", "userId": "x", "userName": "x"}
			}
			if st := e.status(c.method, fmt.Sprintf(c.path, sam), e.hd, body); st != c.sam {
				t.Errorf("%s %s for sam: %d, want %d", c.method, c.path, st, c.sam)
			}
			if st := e.status(c.method, fmt.Sprintf(c.path, cora), e.hd, body); st != 403 {
				t.Errorf("%s %s for cora: %d, want 403", c.method, c.path, st)
			}
		}
		if st := e.status("GET", "/users/profile/metadata", e.hd, nil); st != 200 {
			t.Errorf("profile metadata for query-users: %d, want 200", st)
		}
		plain := s.realmAdmin(e.rl, "plain")
		if st := e.status("GET", "/users/profile/metadata", plain, nil); st != 403 {
			t.Errorf("profile metadata without admin roles: %d, want 403", st)
		}
	})
}

// A group a partial import overwrites is deleted and created anew: the
// old group's permissions go with it.
func TestFGAPPartialImportOverwriteForgets(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newFGAPEnv(t, s)
		e.enableGroup("staff")
		old := e.groups["staff"]
		body := map[string]any{"ifResourceExists": "OVERWRITE", "groups": []map[string]any{{"name": "staff"}}}
		if st := e.status("POST", "/partialImport", e.master, body); st != 200 {
			t.Fatalf("partial import: %d", st)
		}
		name, err := adminperm.ResourceName(adminperm.Group, old)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := s.DB.ListResources(context.Background(), e.rmID, store.ResourceFilter{Name: name, ExactName: true})
		if err != nil || len(rs) != 0 {
			t.Errorf("the overwritten group's resource: %v %v", rs, err)
		}
	})
}

// A caller who sees only some groups counts only those, so pages add up.
func TestFGAPGroupCountAgreesWithList(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newFGAPEnv(t, s)
		e.grantHelpdesk("staff", "view")
		var list []map[string]any
		e.s.get("/admin/realms/"+corp+"/groups", e.hd, &list)
		if len(list) != 1 {
			t.Fatalf("helpdesk lists %d groups, want 1 (staff)", len(list))
		}
		for _, q := range []string{"", "?top=true", "?search=sta"} {
			var n struct{ Count int }
			e.s.get("/admin/realms/"+corp+"/groups/count"+q, e.hd, &n)
			if n.Count != 1 {
				t.Errorf("groups/count%s for the helpdesk: %d, want 1", q, n.Count)
			}
		}
		var n struct{ Count int }
		e.s.get("/admin/realms/"+corp+"/groups/count", e.master, &n)
		if n.Count != 4 {
			t.Errorf("groups/count for the master admin: %d, want 4", n.Count)
		}
	})
}
