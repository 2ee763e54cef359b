package adminperm_test

import (
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

var now = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    *store.DB
	rl    realm.Realm
	rm    client.Client // realm-management
	cli   client.Client // admin-cli
	users map[string]user.User
	group map[string]role.Group
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newFixture is a realm with groups staff (and staff/ops), contractors
// and helpdesk, and users ann (ops), carl (contractors) and hank (helpdesk).
func newFixture(t *testing.T, db *store.DB) *fixture {
	ctx := context.Background()
	f := &fixture{t: t, ctx: ctx, db: db, users: map[string]user.User{}, group: map[string]role.Group{}}
	rl := realm.New(store.NewID(), "acme")
	must(t, provision.NewRealm(ctx, db, rl, now))
	rl, err := db.GetRealm(ctx, rl.ID)
	must(t, err)
	f.rl = rl
	f.rm, err = db.GetClientByClientID(ctx, rl.ID, provision.RealmManagement)
	must(t, err)
	f.cli, err = db.GetClientByClientID(ctx, rl.ID, "admin-cli")
	must(t, err)
	for _, g := range []struct{ name, parent string }{{"staff", ""}, {"ops", "staff"}, {"contractors", ""}, {"helpdesk", ""}} {
		x := role.Group{ID: store.NewID(), RealmID: rl.ID, Name: g.name, ParentID: f.group[g.parent].ID}
		must(t, db.CreateGroup(ctx, x))
		f.group[g.name] = x
	}
	for _, u := range []struct{ name, group string }{{"ann", "ops"}, {"carl", "contractors"}, {"hank", "helpdesk"}} {
		x := user.User{ID: store.NewID(), RealmID: rl.ID, Username: u.name, Enabled: true, CreatedTimestamp: now.UnixMilli()}
		must(t, db.CreateUser(ctx, x))
		must(t, db.AddGroupMember(ctx, f.group[u.group].ID, x.ID))
		f.users[u.name] = x
	}
	return f
}

// attach gives the permission with id a group policy for the helpdesk group.
func (f *fixture) attach(permID string) {
	f.t.Helper()
	pols, err := f.db.ListPolicies(f.ctx, f.rm.ID, store.PolicyFilter{Name: "helpdesk", ExactName: true})
	must(f.t, err)
	var p authz.Policy
	if len(pols) == 0 {
		p, err = f.db.CreatePolicy(f.ctx, authz.Policy{ServerID: f.rm.ID, Name: "helpdesk", Type: "group", Logic: authz.Positive,
			DecisionStrategy: authz.Unanimous, Config: map[string]string{"groups": `[{"id":"` + f.group["helpdesk"].ID + `","extendChildren":false}]`}})
		must(f.t, err)
	} else {
		p = pols[0]
	}
	_, err = f.db.UpdatePolicy(f.ctx, f.rm.ID, permID, func(x *authz.Policy) error {
		x.PolicyIDs = append(x.PolicyIDs, p.ID)
		return nil
	})
	must(f.t, err)
}

func (f *fixture) checker(name string) *adminperm.Checker {
	f.t.Helper()
	c, err := adminperm.Load(f.ctx, f.db, f.rl, f.users[name], f.cli, now)
	must(f.t, err)
	return c
}

func keys(m map[string]string) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestSetAndGet(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		f := newFixture(t, open(t))
		ctx, db := f.ctx, f.db
		ref, err := adminperm.Get(ctx, db, f.rl.ID, adminperm.Users, "")
		must(t, err)
		if ref.Enabled || ref.Resource != "" || ref.ScopePermissions != nil {
			t.Fatalf("before any switch: %+v", ref)
		}
		if _, err := db.GetResourceServer(ctx, f.rl.ID, f.rm.ID); err == nil {
			t.Fatal("realm-management is a resource server before anything was turned on")
		}

		on, err := adminperm.Set(ctx, db, f.rl.ID, adminperm.Users, "", true)
		must(t, err)
		if !on.Enabled || on.Resource == "" {
			t.Fatalf("users on: %+v", on)
		}
		if got, want := keys(on.ScopePermissions), []string{"impersonate", "manage", "manage-group-membership", "map-roles", "user-impersonated", "view"}; !slices.Equal(got, want) {
			t.Errorf("users scope permissions %v, want %v", got, want)
		}
		s, err := db.GetResourceServer(ctx, f.rl.ID, f.rm.ID)
		must(t, err)
		if s.PolicyEnforcementMode != authz.Enforcing || s.DecisionStrategy != authz.Unanimous {
			t.Errorf("resource server %+v", s)
		}
		rm, err := db.GetClient(ctx, f.rl.ID, f.rm.ID)
		must(t, err)
		if rm.ServiceAccountsEnabled {
			t.Error("realm-management got a service account")
		}
		res, err := db.GetResource(ctx, f.rm.ID, on.Resource)
		must(t, err)
		if res.Name != "Users" || len(res.ScopeIDs) != 6 || res.Owner != f.rm.ID {
			t.Errorf("Users resource %+v", res)
		}
		names := map[string]string{}
		for scope, id := range on.ScopePermissions {
			p, err := db.GetPolicy(ctx, f.rm.ID, id)
			must(t, err)
			names[scope] = p.Name
			if p.Type != "scope" || len(p.PolicyIDs) != 0 || !slices.Equal(p.ResourceIDs, []string{res.ID}) || len(p.ScopeIDs) != 1 ||
				p.DecisionStrategy != authz.Unanimous {
				t.Errorf("permission %+v", p)
			}
		}
		if names["impersonate"] != "admin-impersonating.permission.users" || names["view"] != "view.permission.users" ||
			names["user-impersonated"] != "user-impersonated.permission.users" {
			t.Errorf("permission names %v", names)
		}

		again, err := adminperm.Set(ctx, db, f.rl.ID, adminperm.Users, "", true)
		must(t, err)
		if again.Resource != on.Resource || again.ScopePermissions["view"] != on.ScopePermissions["view"] {
			t.Errorf("turning on twice made new objects: %+v then %+v", on, again)
		}
		got, err := adminperm.Get(ctx, db, f.rl.ID, adminperm.Users, "")
		must(t, err)
		if got.Resource != on.Resource || len(got.ScopePermissions) != 6 {
			t.Errorf("get %+v", got)
		}

		g := f.group["staff"]
		gref, err := adminperm.Set(ctx, db, f.rl.ID, adminperm.Group, g.ID, true)
		must(t, err)
		p, err := db.GetPolicy(ctx, f.rm.ID, gref.ScopePermissions["view-members"])
		must(t, err)
		if p.Name != "view.members.permission.group."+g.ID {
			t.Errorf("view-members permission named %q", p.Name)
		}
		gres, err := db.GetResource(ctx, f.rm.ID, gref.Resource)
		must(t, err)
		if gres.Name != "group.resource."+g.ID || gres.Type != "Group" {
			t.Errorf("group resource %+v", gres)
		}
		if got := keys(gref.ScopePermissions); !slices.Equal(got, []string{"manage", "manage-members", "manage-membership", "view", "view-members"}) {
			t.Errorf("group scope permissions %v", got)
		}

		off, err := adminperm.Set(ctx, db, f.rl.ID, adminperm.Users, "", false)
		must(t, err)
		if off.Enabled {
			t.Fatalf("users off: %+v", off)
		}
		if _, err := db.GetResource(ctx, f.rm.ID, on.Resource); err == nil {
			t.Error("Users resource survived turning off")
		}
		for _, id := range on.ScopePermissions {
			if _, err := db.GetPolicy(ctx, f.rm.ID, id); err == nil {
				t.Errorf("permission %s survived turning off", id)
			}
		}
		if still, _ := adminperm.Get(ctx, db, f.rl.ID, adminperm.Group, g.ID); !still.Enabled {
			t.Error("turning users off turned the group off")
		}
		must(t, adminperm.Forget(ctx, db, f.rl.ID, adminperm.Group, g.ID))
		if gone, _ := adminperm.Get(ctx, db, f.rl.ID, adminperm.Group, g.ID); gone.Enabled {
			t.Error("group permissions survived Forget")
		}
		if _, err := db.GetPolicy(ctx, f.rm.ID, gref.ScopePermissions["manage"]); err == nil {
			t.Error("group permission survived Forget")
		}

		for _, k := range []struct{ kind, id, perm string }{
			{adminperm.Role, "r1", "map-role.permission.r1"},
			{adminperm.Client, "c1", "token-exchange.permission.client.c1"},
			{adminperm.IdentityProvider, "p1", "token-exchange.permission.idp.p1"},
		} {
			ref, err := adminperm.Set(ctx, db, f.rl.ID, k.kind, k.id, true)
			must(t, err)
			found := false
			for _, id := range ref.ScopePermissions {
				p, err := db.GetPolicy(ctx, f.rm.ID, id)
				must(t, err)
				found = found || p.Name == k.perm
			}
			if !found {
				t.Errorf("%s: no permission %s in %v", k.kind, k.perm, ref.ScopePermissions)
			}
		}
		if _, err := adminperm.Set(ctx, db, f.rl.ID, "realm", "", true); err == nil {
			t.Error("an unknown kind was accepted")
		}
	})
}

func TestChecker(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		f := newFixture(t, open(t))
		ctx, db := f.ctx, f.db
		staff, ops := f.group["staff"], f.group["ops"]

		if c := f.checker("hank"); c.On() || c.Users("view") || c.Member([]string{ops.ID}, "manage-members") {
			t.Fatal("permissions answer while off")
		}
		ref, err := adminperm.Set(ctx, db, f.rl.ID, adminperm.Group, staff.ID, true)
		must(t, err)
		if c := f.checker("hank"); c.Group(staff.ID, "manage-members") {
			t.Fatal("a permission without policy granted")
		}
		f.attach(ref.ScopePermissions["manage-members"])

		c := f.checker("hank")
		if !c.Group(staff.ID, "manage-members") || c.Group(staff.ID, "view-members") || c.Group(staff.ID, "manage") {
			t.Error("hank's grants on staff are wrong")
		}
		if c.Group(ops.ID, "manage-members") {
			t.Error("Group answered for a subgroup")
		}
		if !c.Member([]string{ops.ID}, "manage-members") {
			t.Error("a member of staff/ops is not managed through staff")
		}
		if c.Member([]string{f.group["contractors"].ID}, "manage-members") {
			t.Error("a contractor is managed")
		}
		got := c.MemberGroups("manage-members")
		sort.Strings(got)
		want := []string{staff.ID, ops.ID}
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("MemberGroups %v, want staff and ops %v", got, want)
		}
		if len(c.MemberGroups("view-members")) != 0 {
			t.Error("view-members granted")
		}
		if c.Users("view") {
			t.Error("Users view granted")
		}

		if other := f.checker("carl"); other.Group(staff.ID, "manage-members") {
			t.Error("carl is not in helpdesk")
		}

		// An administrator of another realm gets nothing here.
		stranger := f.users["hank"]
		stranger.RealmID = store.NewID()
		if c, err := adminperm.Load(ctx, db, f.rl, stranger, f.cli, now); err != nil || c.On() || c.Group(staff.ID, "manage-members") {
			t.Errorf("a caller of another realm: %v", err)
		}

		// A server that does not enforce grants nothing rather than everything.
		s, err := db.GetResourceServer(ctx, f.rl.ID, f.rm.ID)
		must(t, err)
		s.PolicyEnforcementMode = authz.Disabled
		must(t, db.PutResourceServer(ctx, s))
		if c := f.checker("hank"); c.On() || c.Group(staff.ID, "manage-members") {
			t.Error("a disabled server granted")
		}
	})
}

func TestImpersonatable(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		f := newFixture(t, open(t))
		ctx, db := f.ctx, f.db
		ok, err := adminperm.Impersonatable(ctx, db, f.rl, f.users["ann"], now)
		if err != nil || !ok {
			t.Fatalf("without permissions: %v %v", ok, err)
		}
		ref, err := adminperm.Set(ctx, db, f.rl.ID, adminperm.Users, "", true)
		must(t, err)
		if ok, _ := adminperm.Impersonatable(ctx, db, f.rl, f.users["ann"], now); !ok {
			t.Error("a permission without policies restricted impersonation")
		}
		// Only helpdesk members may be impersonated.
		f.attach(ref.ScopePermissions["user-impersonated"])
		if ok, _ := adminperm.Impersonatable(ctx, db, f.rl, f.users["ann"], now); ok {
			t.Error("ann is not in helpdesk, yet impersonatable")
		}
		if ok, _ := adminperm.Impersonatable(ctx, db, f.rl, f.users["hank"], now); !ok {
			t.Error("hank is in helpdesk, yet not impersonatable")
		}
	})
}
