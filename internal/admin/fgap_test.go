package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"
	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// fgapEnv is a realm "corp" with groups staff (with a subgroup ops),
// contractors and helpdesk; users sam (staff), olga (staff/ops), cora
// (contractors); and hd, in helpdesk, holding only query-users and
// query-groups of realm-management.
type fgapEnv struct {
	t      *testing.T
	s      *testServer
	gc     *gocloak.GoCloak
	ctx    context.Context
	master string // the bootstrap admin's token
	rl     realm.Realm
	rmID   string // realm-management's internal id
	groups map[string]string
	users  map[string]string
	hd     string // hd's token, through admin-cli of corp
}

const corp = "corp"

func newFGAPEnv(t *testing.T, s *testServer) *fgapEnv {
	e := &fgapEnv{t: t, s: s, gc: gocloak.NewClient(s.URL), ctx: t.Context(), master: s.adminToken(),
		groups: map[string]string{}, users: map[string]string{}}
	e.rl = s.newRealm(corp)
	rm, err := s.DB.GetClientByClientID(context.Background(), e.rl.ID, provision.RealmManagement)
	if err != nil {
		t.Fatal(err)
	}
	e.rmID = rm.ID
	for _, name := range []string{"staff", "contractors", "helpdesk"} {
		id, err := e.gc.CreateGroup(e.ctx, e.master, corp, gocloak.Group{Name: gocloak.StringP(name)})
		if err != nil {
			t.Fatalf("CreateGroup %s: %v", name, err)
		}
		e.groups[name] = id
	}
	ops, err := e.gc.CreateChildGroup(e.ctx, e.master, corp, e.groups["staff"], gocloak.Group{Name: gocloak.StringP("ops")})
	if err != nil {
		t.Fatal(err)
	}
	e.groups["ops"] = ops
	for _, u := range []struct{ name, group string }{{"sam", "staff"}, {"olga", "ops"}, {"cora", "contractors"}} {
		id, err := e.gc.CreateUser(e.ctx, e.master, corp, gocloak.User{Username: gocloak.StringP(u.name), Enabled: gocloak.BoolP(true)})
		if err != nil {
			t.Fatalf("CreateUser %s: %v", u.name, err)
		}
		if err := e.gc.AddUserToGroup(e.ctx, e.master, corp, id, e.groups[u.group]); err != nil {
			t.Fatal(err)
		}
		e.users[u.name] = id
	}
	e.hd = s.realmAdmin(e.rl, "hd", "query-users", "query-groups")
	hd, err := s.DB.GetUserByUsername(context.Background(), e.rl.ID, "hd")
	if err != nil {
		t.Fatal(err)
	}
	e.users["hd"] = hd.ID
	if err := e.gc.AddUserToGroup(e.ctx, e.master, corp, hd.ID, e.groups["helpdesk"]); err != nil {
		t.Fatal(err)
	}
	return e
}

// status is the status of an admin call with a token.
func (e *fgapEnv) status(method, path, tok string, body any) int {
	e.t.Helper()
	st, _, _ := e.s.do(method, "/admin/realms/"+corp+path, tok, body)
	return st
}

// usernames lists GET path (a user listing) as tok sees it.
func (e *fgapEnv) usernames(path, tok string) []string {
	e.t.Helper()
	var us []struct {
		Username string `json:"username"`
	}
	e.s.get("/admin/realms/"+corp+path, tok, &us)
	out := []string{}
	for _, u := range us {
		out = append(out, u.Username)
	}
	sort.Strings(out)
	return out
}

// enableGroup turns the group's permissions on, as an administrator.
func (e *fgapEnv) enableGroup(name string) *gocloak.ManagementPermissionRepresentation {
	e.t.Helper()
	ref, err := e.gc.UpdateGroupManagementPermissions(e.ctx, e.master, corp, e.groups[name],
		gocloak.ManagementPermissionRepresentation{Enabled: gocloak.BoolP(true)})
	if err != nil {
		e.t.Fatalf("UpdateGroupManagementPermissions %s: %v", name, err)
	}
	return ref
}

// helpdeskPolicy returns the id of a group policy for the helpdesk group
// on realm-management, created through the authorization admin API.
func (e *fgapEnv) helpdeskPolicy() string {
	e.t.Helper()
	pols, err := e.gc.GetPolicies(e.ctx, e.master, corp, e.rmID, gocloak.GetPolicyParams{Name: gocloak.StringP("helpdesk members")})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, p := range pols {
		if gocloak.PString(p.Name) == "helpdesk members" {
			return gocloak.PString(p.ID)
		}
	}
	p, err := e.gc.CreatePolicy(e.ctx, e.master, corp, e.rmID, gocloak.PolicyRepresentation{
		Name: gocloak.StringP("helpdesk members"), Type: gocloak.StringP("group"), Logic: gocloak.POSITIVE,
		GroupPolicyRepresentation: gocloak.GroupPolicyRepresentation{Groups: &[]gocloak.GroupDefinition{{ID: gocloak.StringP(e.groups["helpdesk"])}}},
	})
	if err != nil {
		e.t.Fatalf("CreatePolicy: %v", err)
	}
	return gocloak.PString(p.ID)
}

// setPolicies gives the scope permission permID the policies, through the
// authorization admin API, keeping its resource and scope.
func (e *fgapEnv) setPolicies(permID string, policies ...string) {
	e.t.Helper()
	p, err := e.gc.GetPermissionScope(e.ctx, e.master, corp, e.rmID, permID)
	if err != nil {
		e.t.Fatalf("GetPermissionScope: %v", err)
	}
	res, err := e.gc.GetPermissionResources(e.ctx, e.master, corp, e.rmID, permID)
	if err != nil {
		e.t.Fatal(err)
	}
	scs, err := e.gc.GetPermissionScopes(e.ctx, e.master, corp, e.rmID, permID)
	if err != nil {
		e.t.Fatal(err)
	}
	var resIDs, scopeIDs []string
	for _, r := range res {
		resIDs = append(resIDs, gocloak.PString(r.ResourceID))
	}
	for _, s := range scs {
		scopeIDs = append(scopeIDs, gocloak.PString(s.ScopeID))
	}
	p.Resources, p.Scopes, p.Policies = &resIDs, &scopeIDs, &policies
	if err := e.gc.UpdatePermissionScope(e.ctx, e.master, corp, e.rmID, permID, *p); err != nil {
		e.t.Fatalf("UpdatePermissionScope: %v", err)
	}
}

// The story of fine-grained admin permissions: a helpdesk that may manage
// only the users of the staff group, set up with the admin API as an
// administrator would with gocloak, then exercised over HTTP with the
// helpdesk member's own token.
func TestFGAPHelpdeskManagesStaff(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newFGAPEnv(t, s)
		sam, cora := e.users["sam"], e.users["cora"]

		// Before anything is turned on, query-users shows no one and no
		// user may be read.
		if got := e.usernames("/users", e.hd); len(got) != 0 {
			t.Fatalf("helpdesk lists %v with permissions off", got)
		}
		if st := e.status("GET", "/users/"+sam, e.hd, nil); st != 403 {
			t.Fatalf("GET sam with permissions off: %d", st)
		}

		ref := e.enableGroup("staff")
		perms := gocloak.PString(ref.Resource)
		if !gocloak.PBool(ref.Enabled) || perms == "" || ref.ScopePermissions == nil {
			t.Fatalf("group permissions: %+v", ref)
		}
		sp := *ref.ScopePermissions
		for _, k := range []string{"view", "manage", "view-members", "manage-members", "manage-membership"} {
			if sp[k] == "" {
				t.Errorf("no %s permission in %v", k, sp)
			}
		}
		got, err := e.gc.GetGroupManagementPermissions(e.ctx, e.master, corp, e.groups["staff"])
		if err != nil || gocloak.PString(got.Resource) != perms || (*got.ScopePermissions)["manage-members"] != sp["manage-members"] {
			t.Errorf("GetGroupManagementPermissions: %+v %v", got, err)
		}
		// Turned on, but no policy yet: nothing is granted.
		if st := e.status("GET", "/users/"+sam, e.hd, nil); st != 403 {
			t.Fatalf("GET sam before any policy: %d", st)
		}

		pol := e.helpdeskPolicy()
		e.setPolicies(sp["manage-members"], pol)
		e.setPolicies(sp["view-members"], pol)

		// The listing holds staff's members (ops is under staff) and no one
		// else, and its count agrees; a page is a page of them.
		if got := e.usernames("/users", e.hd); !slices.Equal(got, []string{"olga", "sam"}) {
			t.Errorf("helpdesk lists %v, want olga and sam", got)
		}
		if got := e.usernames("/users?first=1&max=1", e.hd); !slices.Equal(got, []string{"sam"}) {
			t.Errorf("second page %v, want sam", got)
		}
		if n, err := e.gc.GetUserCount(e.ctx, e.hd, corp, gocloak.GetUsersParams{}); err != nil || n != 2 {
			t.Errorf("count %d %v, want 2", n, err)
		}
		if got := e.usernames("/users?search=cora", e.hd); len(got) != 0 {
			t.Errorf("a search finds %v outside staff", got)
		}

		// A staff user can be read, updated and given a new password.
		u, err := e.gc.GetUserByID(e.ctx, e.hd, corp, sam)
		if err != nil {
			t.Fatalf("GetUserByID sam: %v", err)
		}
		if u.Access == nil || !(*u.Access)["manage"] || !(*u.Access)["view"] {
			t.Errorf("sam's access for the helpdesk: %v", u.Access)
		}
		u.FirstName = gocloak.StringP("Samuel")
		if err := e.gc.UpdateUser(e.ctx, e.hd, corp, *u); err != nil {
			t.Errorf("UpdateUser sam: %v", err)
		}
		if err := e.gc.SetPassword(e.ctx, e.hd, sam, corp, "Fresh-pw-1", false); err != nil {
			t.Errorf("SetPassword sam: %v", err)
		}
		s.token(corp, "admin-cli", "sam", "Fresh-pw-1")
		if _, err := e.gc.GetUserByID(e.ctx, e.hd, corp, e.users["olga"]); err != nil {
			t.Errorf("olga in staff/ops: %v", err)
		}

		// A contractor is out of reach, and so is any change that would
		// make sam a realm administrator.
		if st := e.status("GET", "/users/"+cora, e.hd, nil); st != 403 {
			t.Errorf("GET cora: %d, want 403", st)
		}
		if st := e.status("PUT", "/users/"+cora, e.hd, map[string]any{"firstName": "x"}); st != 403 {
			t.Errorf("PUT cora: %d, want 403", st)
		}
		if st := e.status("PUT", "/users/"+cora+"/reset-password", e.hd, map[string]any{"value": "x-Pw-12345"}); st != 403 {
			t.Errorf("reset cora's password: %d, want 403", st)
		}
		realmAdmin, err := s.DB.GetClientRole(context.Background(), e.rl.ID, e.rmID, "realm-admin")
		if err != nil {
			t.Fatal(err)
		}
		st := e.status("POST", "/users/"+sam+"/role-mappings/clients/"+e.rmID, e.hd,
			[]map[string]any{{"id": realmAdmin.ID, "name": "realm-admin"}})
		if st != 403 {
			t.Errorf("mapping realm-admin to sam: %d, want 403", st)
		}
		if roles, _ := s.DB.ListUserRoles(context.Background(), sam); slices.ContainsFunc(roles, func(r role.Role) bool { return r.ID == realmAdmin.ID }) {
			t.Error("sam became a realm administrator")
		}

		// Turning the permissions off takes effect on the next call.
		if _, err := e.gc.UpdateGroupManagementPermissions(e.ctx, e.master, corp, e.groups["staff"],
			gocloak.ManagementPermissionRepresentation{Enabled: gocloak.BoolP(false)}); err != nil {
			t.Fatal(err)
		}
		if st := e.status("GET", "/users/"+sam, e.hd, nil); st != 403 {
			t.Errorf("GET sam after turning off: %d, want 403", st)
		}
		if got := e.usernames("/users", e.hd); len(got) != 0 {
			t.Errorf("helpdesk lists %v after turning off", got)
		}
		off, err := e.gc.GetGroupManagementPermissions(e.ctx, e.master, corp, e.groups["staff"])
		if err != nil || gocloak.PBool(off.Enabled) || off.Resource != nil {
			t.Errorf("after turning off: %+v %v", off, err)
		}
		if _, err := s.DB.GetResource(context.Background(), e.rmID, perms); err == nil {
			t.Error("the group's resource survived turning off")
		}
	})
}

// The Users resource: its view permission lets the helpdesk see every
// user, but not change one; users-management-permissions needs
// view-realm to read and manage-realm to turn.
func TestFGAPUsersView(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newFGAPEnv(t, s)
		if st := e.status("PUT", "/users-management-permissions", e.hd, map[string]any{"enabled": true}); st != 403 {
			t.Fatalf("helpdesk turned users permissions on: %d", st)
		}
		if st := e.status("GET", "/users-management-permissions", e.hd, nil); st != 403 {
			t.Fatalf("helpdesk read users permissions: %d", st)
		}
		ref, err := e.gc.UpdateUsersManagementPermissions(e.ctx, e.master, corp, gocloak.ManagementPermissionRepresentation{Enabled: gocloak.BoolP(true)})
		if err != nil {
			t.Fatalf("UpdateUsersManagementPermissions: %v", err)
		}
		sp := *ref.ScopePermissions
		if got, err := e.gc.GetUsersManagementPermissions(e.ctx, e.master, corp); err != nil || !gocloak.PBool(got.Enabled) ||
			gocloak.PString(got.Resource) != gocloak.PString(ref.Resource) || len(*got.ScopePermissions) != 6 {
			t.Fatalf("GetUsersManagementPermissions: %+v %v", got, err)
		}
		e.setPolicies(sp["view"], e.helpdeskPolicy())

		if got := e.usernames("/users", e.hd); !slices.Equal(got, []string{"cora", "hd", "olga", "sam"}) {
			t.Errorf("helpdesk with Users view lists %v", got)
		}
		if st := e.status("GET", "/users/"+e.users["cora"], e.hd, nil); st != 200 {
			t.Errorf("GET cora: %d", st)
		}
		if st := e.status("GET", "/users/"+e.users["cora"]+"/groups", e.hd, nil); st != 200 {
			t.Errorf("GET cora's groups: %d", st)
		}
		if st := e.status("PUT", "/users/"+e.users["cora"], e.hd, map[string]any{"firstName": "x"}); st != 403 {
			t.Errorf("PUT cora with view only: %d", st)
		}
		if st := e.status("GET", "/users/"+store.NewID(), e.hd, nil); st != 404 {
			t.Errorf("GET an unknown user with query-users: %d, want 404", st)
		}
		// A caller of the realm without any admin role learns nothing of ids.
		plain := s.realmAdmin(e.rl, "plain")
		if st := e.status("GET", "/users/"+store.NewID(), plain, nil); st != 403 {
			t.Errorf("GET an unknown user without roles: %d, want 403", st)
		}
		if st := e.status("POST", "/users", e.hd, map[string]any{"username": "newbie"}); st != 403 {
			t.Errorf("creating a user with view only: %d", st)
		}
		// Users manage: create and change anyone, but roles stay with the
		// calls that check them, and a group needs what joining it needs.
		e.setPolicies(sp["manage"], e.helpdeskPolicy())
		if st := e.status("POST", "/users", e.hd, map[string]any{"username": "newbie"}); st != 201 {
			t.Errorf("creating a user with Users manage: %d", st)
		}
		if st := e.status("POST", "/users", e.hd, map[string]any{"username": "newbie2", "groups": []string{"/helpdesk"}}); st != 403 {
			t.Errorf("creating a user in a group with Users manage: %d", st)
		}
		if st := e.status("PUT", "/users/"+e.users["cora"], e.hd, map[string]any{"firstName": "Cora"}); st != 204 {
			t.Errorf("PUT cora with Users manage: %d", st)
		}
		if _, err := e.gc.UpdateUsersManagementPermissions(e.ctx, e.master, corp, gocloak.ManagementPermissionRepresentation{Enabled: gocloak.BoolP(false)}); err != nil {
			t.Fatal(err)
		}
		if st := e.status("GET", "/users/"+e.users["cora"], e.hd, nil); st != 403 {
			t.Errorf("GET cora after turning off: %d", st)
		}
	})
}

// The policies of realm-management are the realm's admin permissions: a
// manage-clients or manage-authorization administrator may read them but
// not write them, or it could make itself a user administrator.
func TestFGAPPoliciesNeedWholeRealmAdmin(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newFGAPEnv(t, s)
		ref, err := e.gc.UpdateUsersManagementPermissions(e.ctx, e.master, corp, gocloak.ManagementPermissionRepresentation{Enabled: gocloak.BoolP(true)})
		if err != nil {
			t.Fatal(err)
		}
		pol := e.helpdeskPolicy()
		ops := s.realmAdmin(e.rl, "ops", "manage-clients", "manage-authorization", "view-authorization", "view-clients")
		base := "/clients/" + e.rmID + "/authz/resource-server"
		if st := e.status("GET", base+"/permission", ops, nil); st != 200 {
			t.Errorf("reading realm-management's permissions: %d", st)
		}
		manage := (*ref.ScopePermissions)["manage"]
		var perm map[string]any
		s.get("/admin/realms/"+corp+base+"/permission/scope/"+manage, e.master, &perm)
		perm["policies"] = []string{pol}
		if st := e.status("PUT", base+"/permission/scope/"+manage, ops, perm); st != 403 {
			t.Errorf("manage-clients attaching a policy to manage.permission.users: %d, want 403", st)
		}
		if st := e.status("POST", base+"/policy/user", ops, map[string]any{"name": "me", "users": []string{"ops"}}); st != 403 {
			t.Errorf("manage-clients creating a policy on realm-management: %d, want 403", st)
		}
		p, err := s.DB.GetPolicy(context.Background(), e.rmID, manage)
		if err != nil || len(p.PolicyIDs) != 0 {
			t.Errorf("manage.permission.users changed: %+v %v", p, err)
		}
	})
}

// Group membership: joining a user to a group needs the user's membership
// (manage-members on one of its groups) and the group's
// (manage-membership on it); deleting a group forgets its permissions.
func TestFGAPGroupMembership(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newFGAPEnv(t, s)
		staff := e.enableGroup("staff")
		pol := e.helpdeskPolicy()
		e.setPolicies((*staff.ScopePermissions)["manage-members"], pol)
		olga := e.users["olga"]
		join := func(group string) int {
			return e.status("PUT", "/users/"+olga+"/groups/"+e.groups[group], e.hd, nil)
		}
		if st := join("contractors"); st != 403 {
			t.Fatalf("joining contractors without its manage-membership: %d", st)
		}
		contractors := e.enableGroup("contractors")
		e.setPolicies((*contractors.ScopePermissions)["manage-membership"], pol)
		if st := join("contractors"); st != 204 {
			t.Fatalf("joining contractors with both permissions: %d", st)
		}
		if st := e.status("DELETE", "/users/"+olga+"/groups/"+e.groups["contractors"], e.hd, nil); st != 204 {
			t.Fatalf("leaving contractors: %d", st)
		}
		// cora is no member of a group the helpdesk manages.
		if st := e.status("PUT", "/users/"+e.users["cora"]+"/groups/"+e.groups["contractors"], e.hd, nil); st != 403 {
			t.Errorf("cora's membership: %d, want 403", st)
		}
		// The group's members, which manage-members lets the helpdesk list,
		// and the group itself, which it may not read.
		if got := e.usernames("/groups/"+e.groups["staff"]+"/members", e.hd); !slices.Equal(got, []string{"sam"}) {
			t.Errorf("staff's members %v", got)
		}
		if st := e.status("GET", "/groups/"+e.groups["staff"], e.hd, nil); st != 403 {
			t.Errorf("GET staff without view: %d", st)
		}
		var listed []map[string]any
		s.get("/admin/realms/"+corp+"/groups", e.hd, &listed)
		if len(listed) != 0 {
			t.Errorf("query-groups lists %v, none viewable", listed)
		}
		e.setPolicies((*staff.ScopePermissions)["view"], pol)
		s.get("/admin/realms/"+corp+"/groups", e.hd, &listed)
		if len(listed) != 1 || listed[0]["name"] != "staff" {
			t.Errorf("query-groups lists %v, want staff", listed)
		}
		for path, want := range map[string]int{"staff": 200, "contractors": 403, "nope": 404} {
			if st := e.status("GET", "/group-by-path/"+path, e.hd, nil); st != want {
				t.Errorf("group-by-path/%s: %d, want %d", path, st, want)
			}
		}

		// Deleting the group takes its permissions away.
		if err := e.gc.DeleteGroup(e.ctx, e.master, corp, e.groups["staff"]); err != nil {
			t.Fatal(err)
		}
		for _, id := range *staff.ScopePermissions {
			if _, err := s.DB.GetPolicy(context.Background(), e.rmID, id); err == nil {
				t.Errorf("permission %s survived its group", id)
			}
		}
		if _, err := s.DB.GetResource(context.Background(), e.rmID, gocloak.PString(staff.Resource)); err == nil {
			t.Error("the group's resource survived its group")
		}
	})
}

// Turning permissions on needs the group in the path to exist and the
// caller to manage it; a body that is not JSON is refused.
func TestFGAPGroupPermissionsEndpoint(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newFGAPEnv(t, s)
		path := "/admin/realms/" + corp + "/groups/" + e.groups["staff"] + "/management/permissions"
		st, _, b := s.do("GET", path, e.master, nil)
		if st != 200 || string(b) != `{"enabled":false}` {
			t.Errorf("GET off: %d %s", st, b)
		}
		if st, _, _ := s.do("PUT", path, e.hd, map[string]any{"enabled": true}); st != 403 {
			t.Errorf("PUT by the helpdesk: %d", st)
		}
		if st, _, _ := s.do("PUT", path, e.master, "{"); st != http.StatusBadRequest {
			t.Errorf("PUT bad JSON: %d", st)
		}
		if st, _, _ := s.do("PUT", "/admin/realms/"+corp+"/groups/"+store.NewID()+"/management/permissions", e.master, map[string]any{"enabled": true}); st != 404 {
			t.Errorf("PUT unknown group: %d", st)
		}
		st, _, b = s.do("PUT", path, e.master, map[string]any{"enabled": true})
		var ref struct {
			Enabled          bool              `json:"enabled"`
			Resource         string            `json:"resource"`
			ScopePermissions map[string]string `json:"scopePermissions"`
		}
		if st != 200 || json.Unmarshal(b, &ref) != nil || !ref.Enabled || len(ref.ScopePermissions) != 5 {
			t.Errorf("PUT on: %d %s", st, b)
		}
	})
}

// The realm's admin permissions live in realm-management's resource
// server, so they travel with the realm: a full export (gatehouse export)
// imported into another server, and a partial export created as a new
// realm there, both give the helpdesk its staff back.
func TestFGAPSurvivesExportAndImport(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		s := newServer(t, open)
		e := newFGAPEnv(t, s)
		ref := e.enableGroup("staff")
		e.setPolicies((*ref.ScopePermissions)["manage-members"], e.helpdeskPolicy())
		if _, err := e.gc.UpdateUsersManagementPermissions(e.ctx, e.master, corp, gocloak.ManagementPermissionRepresentation{Enabled: gocloak.BoolP(true)}); err != nil {
			t.Fatal(err)
		}

		// The admin console's round trip of realm-management keeps them.
		var rm map[string]any
		s.get("/admin/realms/"+corp+"/clients/"+e.rmID, e.master, &rm)
		if st, _, b := s.do("PUT", "/admin/realms/"+corp+"/clients/"+e.rmID, e.master, rm); st != 204 {
			t.Fatalf("PUT realm-management as read: %d %s", st, b)
		}
		if st := e.status("GET", "/users/"+e.users["sam"], e.hd, nil); st != 200 {
			t.Fatalf("GET sam after realm-management was saved: %d", st)
		}

		// The partial export carries the resource server.
		st, _, partial := s.do("POST", "/admin/realms/"+corp+"/partial-export?exportClients=true&exportGroupsAndRoles=true", e.master, nil)
		if st != 200 {
			t.Fatalf("partial export: %d %s", st, partial)
		}
		var x struct {
			Clients []struct {
				ClientID              string `json:"clientId"`
				AuthorizationSettings *struct {
					Resources []struct {
						Name string `json:"name"`
					} `json:"resources"`
					Policies []struct {
						Name   string            `json:"name"`
						Config map[string]string `json:"config"`
					} `json:"policies"`
				} `json:"authorizationSettings"`
			} `json:"clients"`
		}
		if err := json.Unmarshal(partial, &x); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, c := range x.Clients {
			if c.ClientID != provision.RealmManagement || c.AuthorizationSettings == nil {
				continue
			}
			for _, p := range c.AuthorizationSettings.Policies {
				if p.Name == "manage.members.permission.group."+e.groups["staff"] && p.Config["applyPolicies"] == `["helpdesk members"]` {
					found = true
				}
			}
		}
		if !found {
			t.Fatalf("the partial export lacks staff's manage-members permission with its policy: %s", partial)
		}

		// gatehouse export, then import into another server.
		full, err := rep.Export(context.Background(), s.DB, corp)
		if err != nil {
			t.Fatal(err)
		}
		s2 := newServer(t, open)
		if _, _, err := rep.ImportFile(context.Background(), s2.DB, full, rep.ImportOptions{Now: time.Now()}); err != nil {
			t.Fatalf("import: %v", err)
		}
		hd := s2.token(corp, "admin-cli", "hd", "pw-hd")
		if st, _, b := s2.do("GET", "/admin/realms/"+corp+"/users/"+e.users["sam"], hd, nil); st != 200 {
			t.Errorf("after import, GET sam: %d %s", st, b)
		}
		if st, _, _ := s2.do("GET", "/admin/realms/"+corp+"/users/"+e.users["cora"], hd, nil); st != 403 {
			t.Errorf("after import, GET cora: %d", st)
		}
		rm2, err := s2.DB.GetClientByClientID(context.Background(), mustRealm(t, s2, corp).ID, provision.RealmManagement)
		if err != nil {
			t.Fatal(err)
		}
		if rm2.ServiceAccountsEnabled || !rm2.BearerOnly {
			t.Errorf("imported realm-management: service accounts %v, bearer-only %v", rm2.ServiceAccountsEnabled, rm2.BearerOnly)
		}
		var users map[string]any
		s2.get("/admin/realms/"+corp+"/users-management-permissions", s2.adminToken(), &users)
		if users["enabled"] != true {
			t.Errorf("users permissions after import: %v", users)
		}

		// The partial export, as a new realm over HTTP on a third server.
		s3 := newServer(t, open)
		if st, _, b := s3.do("POST", "/admin/realms", s3.adminToken(), string(partial)); st != 201 {
			t.Fatalf("create realm from the partial export: %d %s", st, b)
		}
		var g map[string]any
		s3.get("/admin/realms/"+corp+"/groups/"+e.groups["staff"]+"/management/permissions", s3.adminToken(), &g)
		if g["enabled"] != true {
			t.Errorf("staff's permissions in the realm made from the partial export: %v", g)
		}
	})
}

func mustRealm(t *testing.T, s *testServer, name string) realm.Realm {
	t.Helper()
	r, err := s.DB.GetRealmByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Mapping roles through permissions: manage-members on the user's group
// lets the call through, each role then needs its map-role permission, and
// the escalation rule still keeps realm-admin out of reach. Impersonation:
// the Users resource's impersonate permission, limited by
// user-impersonated.
func TestFGAPRoleMappingAndImpersonation(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newFGAPEnv(t, s)
		ctx := context.Background()
		staff := e.enableGroup("staff")
		pol := e.helpdeskPolicy()
		e.setPolicies((*staff.ScopePermissions)["manage-members"], pol)
		if _, err := e.gc.CreateRealmRole(e.ctx, e.master, corp, gocloak.Role{Name: gocloak.StringP("clerk")}); err != nil && !isConflict(err) {
			t.Fatal(err)
		}
		clerk, err := s.DB.GetRealmRole(ctx, e.rl.ID, "clerk")
		if err != nil {
			t.Fatal(err)
		}
		realmAdmin, err := s.DB.GetClientRole(ctx, e.rl.ID, e.rmID, "realm-admin")
		if err != nil {
			t.Fatal(err)
		}
		sam := e.users["sam"]
		mapRealm := func() int {
			return e.status("POST", "/users/"+sam+"/role-mappings/realm", e.hd, []map[string]any{{"id": clerk.ID, "name": "clerk"}})
		}
		if st := mapRealm(); st != 403 {
			t.Fatalf("mapping clerk without its map-role permission: %d", st)
		}
		var avail []map[string]any
		s.get("/admin/realms/"+corp+"/users/"+sam+"/role-mappings/realm/available", e.hd, &avail)
		if len(avail) != 0 {
			t.Errorf("available roles without map-role: %v", avail)
		}
		for _, r := range []string{clerk.ID, realmAdmin.ID} {
			ref, err := adminperm.Set(ctx, s.DB, e.rl.ID, adminperm.Role, r, true)
			if err != nil {
				t.Fatal(err)
			}
			e.setPolicies(ref.ScopePermissions["map-role"], pol)
		}
		if st := mapRealm(); st != 204 {
			t.Fatalf("mapping clerk with its map-role permission: %d", st)
		}
		s.get("/admin/realms/"+corp+"/users/"+sam+"/role-mappings/realm/available", e.hd, &avail)
		if len(avail) != 0 {
			t.Errorf("available roles once clerk is mapped: %v", avail)
		}
		if st := e.status("POST", "/users/"+sam+"/role-mappings/clients/"+e.rmID, e.hd,
			[]map[string]any{{"id": realmAdmin.ID, "name": "realm-admin"}}); st != 403 {
			t.Errorf("mapping realm-admin with its map-role permission: %d, want 403 (escalation)", st)
		}
		if st := e.status("POST", "/users/"+e.users["cora"]+"/role-mappings/realm", e.hd, []map[string]any{{"id": clerk.ID, "name": "clerk"}}); st != 403 {
			t.Errorf("mapping clerk to a contractor: %d", st)
		}
		if st := e.status("DELETE", "/users/"+sam+"/role-mappings/realm", e.hd, []map[string]any{{"id": clerk.ID, "name": "clerk"}}); st != 204 {
			t.Errorf("unmapping clerk: %d", st)
		}

		// Impersonation.
		impersonate := func(user string) int {
			return e.status("POST", "/users/"+e.users[user]+"/impersonation", e.hd, nil)
		}
		if st := impersonate("sam"); st != 403 {
			t.Fatalf("impersonating without permission: %d", st)
		}
		users, err := e.gc.UpdateUsersManagementPermissions(e.ctx, e.master, corp, gocloak.ManagementPermissionRepresentation{Enabled: gocloak.BoolP(true)})
		if err != nil {
			t.Fatal(err)
		}
		e.setPolicies((*users.ScopePermissions)["impersonate"], pol)
		if st := impersonate("sam"); st != 200 {
			t.Errorf("impersonating sam with the impersonate permission: %d", st)
		}
		// Impersonating ended the helpdesk's own session (one browser, one
		// session per realm): it signs in again.
		e.hd = s.token(corp, "admin-cli", "hd", "pw-hd")
		// Only helpdesk members may be impersonated from now on.
		e.setPolicies((*users.ScopePermissions)["user-impersonated"], pol)
		if st := impersonate("sam"); st != 403 {
			t.Errorf("impersonating sam, whom user-impersonated leaves out: %d", st)
		}
		if st, _, b := s.do("POST", "/admin/realms/"+corp+"/users/"+sam+"/impersonation", e.master, nil); st != 403 {
			t.Errorf("master admin impersonating sam, whom user-impersonated leaves out: %d %s", st, b)
		}
	})
}

func isConflict(err error) bool {
	var ae *gocloak.APIError
	return errors.As(err, &ae) && ae.Code == http.StatusConflict
}
