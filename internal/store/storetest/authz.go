package storetest

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

func authzTests() []struct {
	name string
	fn   func(t *testing.T, db *store.DB)
} {
	return []struct {
		name string
		fn   func(t *testing.T, db *store.DB)
	}{
		{"authz: resource server settings, cascade with its client", testAuthzServer},
		{"authz: resources keep fields and scope order, search and paging", testAuthzResources},
		{"authz: scopes, deleting one held by a resource is refused", testAuthzScopes},
		{"authz: policies with associations, dependents, model load", testAuthzPolicies},
		{"authz: a failed write stores nothing", testAuthzAtomic},
		{"authz: deleting users, roles, groups, clients and client scopes cleans policies", testAuthzReferences},
		{"authz: the model is cached per configuration version", testAuthzCached},
	}
}

type authzFixture struct {
	realmID, serverID string
}

func mkAuthz(t *testing.T, db *store.DB, name string) authzFixture {
	t.Helper()
	r := mkRealm(t, db, name)
	c := client.New(store.NewID(), r.ID, "rs")
	if err := db.CreateClient(ctx(), c); err != nil {
		t.Fatal(err)
	}
	if err := db.PutResourceServer(ctx(), authz.ResourceServer{ID: c.ID, RealmID: r.ID, PolicyEnforcementMode: authz.Enforcing, DecisionStrategy: authz.Unanimous}); err != nil {
		t.Fatal(err)
	}
	return authzFixture{r.ID, c.ID}
}

func mkScope(t *testing.T, db *store.DB, serverID, name string) authz.Scope {
	t.Helper()
	sc, err := db.CreateScope(ctx(), authz.Scope{ServerID: serverID, Name: name})
	if err != nil {
		t.Fatalf("create scope %s: %v", name, err)
	}
	return sc
}

func mkPolicy(t *testing.T, db *store.DB, p authz.Policy) authz.Policy {
	t.Helper()
	if p.Logic == "" {
		p.Logic = authz.Positive
	}
	if p.DecisionStrategy == "" {
		p.DecisionStrategy = authz.Unanimous
	}
	got, err := db.CreatePolicy(ctx(), p)
	if err != nil {
		t.Fatalf("create policy %s: %v", p.Name, err)
	}
	return got
}

func testAuthzServer(t *testing.T, db *store.DB) {
	f := mkAuthz(t, db, "authz-rs")
	schema := json.RawMessage(`{"resourceTypes": {}}`)
	if err := db.PutResourceServer(ctx(), authz.ResourceServer{ID: f.serverID, RealmID: f.realmID, PolicyEnforcementMode: authz.Permissive,
		DecisionStrategy: authz.Affirmative, AllowRemoteResourceManagement: true, AuthorizationSchema: schema}); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetResourceServer(ctx(), f.realmID, f.serverID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PolicyEnforcementMode != authz.Permissive || got.DecisionStrategy != authz.Affirmative || !got.AllowRemoteResourceManagement ||
		string(got.AuthorizationSchema) != string(schema) {
		t.Errorf("settings after update: %+v", got)
	}
	if _, err := db.GetResourceServer(ctx(), "other", f.serverID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("server read through another realm: %v", err)
	}
	if err := db.PutResourceServer(ctx(), authz.ResourceServer{ID: "no-such-client", RealmID: f.realmID}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("server of a missing client: %v", err)
	}
	sc := mkScope(t, db, f.serverID, "view")
	if _, err := db.CreateResource(ctx(), authz.Resource{ServerID: f.serverID, Name: "r", Owner: f.serverID, ScopeIDs: []string{sc.ID}}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteClient(ctx(), f.realmID, f.serverID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetResourceServer(ctx(), f.realmID, f.serverID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("server outlived its client: %v", err)
	}
	if l, _ := db.ListScopes(ctx(), f.serverID, store.ScopeFilter{}); len(l) != 0 {
		t.Errorf("scopes outlived their server: %v", l)
	}
}

func testAuthzResources(t *testing.T, db *store.DB) {
	f := mkAuthz(t, db, "authz-res")
	view, del, edit := mkScope(t, db, f.serverID, "view"), mkScope(t, db, f.serverID, "delete"), mkScope(t, db, f.serverID, "edit")
	u := mkUser(t, db, f.realmID, "alice")
	in := authz.Resource{ServerID: f.serverID, Name: "Photo Album", DisplayName: "Album", Type: "urn:photo", IconURI: "https://i/x.png",
		URIs: []string{"/album/*", "/a"}, ScopeIDs: []string{edit.ID, view.ID, del.ID}, Owner: u.ID, OwnerManagedAccess: true,
		Attributes: map[string][]string{"k": {"v1", "v2"}}}
	r, err := db.CreateResource(ctx(), in)
	if err != nil {
		t.Fatal(err)
	}
	in.ID = r.ID
	got, err := db.GetResource(ctx(), f.serverID, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != in.Name || got.DisplayName != in.DisplayName || got.Type != in.Type || got.IconURI != in.IconURI ||
		!slices.Equal(got.URIs, in.URIs) || !slices.Equal(got.ScopeIDs, in.ScopeIDs) || got.Owner != u.ID || !got.OwnerManagedAccess ||
		!slices.Equal(got.Attributes["k"], []string{"v1", "v2"}) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, in)
	}
	// The name is unique per owner, not per server.
	if _, err := db.CreateResource(ctx(), authz.Resource{ServerID: f.serverID, Name: "Photo Album", Owner: u.ID}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("same name and owner: %v", err)
	}
	if _, err := db.CreateResource(ctx(), authz.Resource{ServerID: f.serverID, Name: "Photo Album", Owner: f.serverID, Type: "urn:photo", ScopeIDs: []string{view.ID}}); err != nil {
		t.Errorf("same name, other owner: %v", err)
	}
	if _, err := db.CreateResource(ctx(), authz.Resource{ServerID: f.serverID, Name: "Doc", Owner: f.serverID, URIs: []string{"/doc"}}); err != nil {
		t.Fatal(err)
	}
	names := func(rs []authz.Resource) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name+"@"+map[bool]string{true: "rs", false: "user"}[r.Owner == f.serverID])
		}
		// Resources of one name are ordered by their random ids.
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		name string
		f    store.ResourceFilter
		want []string
	}{
		{"all, by name", store.ResourceFilter{}, []string{"Doc@rs", "Photo Album@rs", "Photo Album@user"}},
		{"name part, any case", store.ResourceFilter{Name: "alb"}, []string{"Photo Album@rs", "Photo Album@user"}},
		{"exact name", store.ResourceFilter{Name: "Doc", ExactName: true}, []string{"Doc@rs"}},
		{"uri", store.ResourceFilter{URI: "/a"}, []string{"Photo Album@user"}},
		{"owner", store.ResourceFilter{Owner: u.ID}, []string{"Photo Album@user"}},
		{"type", store.ResourceFilter{Type: "urn:photo"}, []string{"Photo Album@rs", "Photo Album@user"}},
		{"scope", store.ResourceFilter{ScopeIDs: []string{del.ID}}, []string{"Photo Album@user"}},
		{"max", store.ResourceFilter{Max: 1}, []string{"Doc@rs"}},
		{"first", store.ResourceFilter{First: 1, Owner: f.serverID}, []string{"Photo Album@rs"}},
		{"first past the end", store.ResourceFilter{First: 5}, nil},
	} {
		got, err := db.ListResources(ctx(), f.serverID, c.f)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names(got), c.want) {
			t.Errorf("%s: %v, want %v", c.name, names(got), c.want)
		}
	}
	up, err := db.UpdateResource(ctx(), f.serverID, r.ID, func(r *authz.Resource) error {
		r.Name, r.ScopeIDs, r.URIs = "Renamed", []string{del.ID}, nil
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if up.Name != "Renamed" || !slices.Equal(up.ScopeIDs, []string{del.ID}) || len(up.URIs) != 0 {
		t.Errorf("after update: %+v", up)
	}
	if err := db.DeleteResource(ctx(), f.serverID, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetResource(ctx(), f.serverID, r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted resource: %v", err)
	}
	if err := db.DeleteResource(ctx(), f.serverID, r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
}

func testAuthzScopes(t *testing.T, db *store.DB) {
	f := mkAuthz(t, db, "authz-scopes")
	a, b := mkScope(t, db, f.serverID, "read"), mkScope(t, db, f.serverID, "write")
	if _, err := db.CreateScope(ctx(), authz.Scope{ServerID: f.serverID, Name: "read"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate scope name: %v", err)
	}
	up, err := db.UpdateScope(ctx(), f.serverID, a.ID, func(s *authz.Scope) error {
		s.DisplayName, s.IconURI = "Read it", "https://i/r.png"
		return nil
	})
	if err != nil || up.DisplayName != "Read it" {
		t.Fatalf("update scope: %+v %v", up, err)
	}
	if got, _ := db.GetScope(ctx(), f.serverID, a.ID); got.DisplayName != "Read it" || got.IconURI != "https://i/r.png" {
		t.Errorf("scope after update: %+v", got)
	}
	if l, _ := db.ListScopes(ctx(), f.serverID, store.ScopeFilter{Name: "RIT"}); len(l) != 1 || l[0].ID != b.ID {
		t.Errorf("scope search: %+v", l)
	}
	res, err := db.CreateResource(ctx(), authz.Resource{ServerID: f.serverID, Name: "r", Owner: f.serverID, ScopeIDs: []string{a.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteScope(ctx(), f.serverID, a.ID); !errors.Is(err, store.ErrScopeInUse) {
		t.Errorf("deleting a scope a resource holds: %v", err)
	}
	only := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "only write", Type: "scope", ScopeIDs: []string{b.ID}})
	both := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "both", Type: "scope", ScopeIDs: []string{b.ID, a.ID}})
	if err := db.DeleteScope(ctx(), f.serverID, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetPolicy(ctx(), f.serverID, only.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a permission whose only scope was deleted stays: %v", err)
	}
	if got, err := db.GetPolicy(ctx(), f.serverID, both.ID); err != nil || !slices.Equal(got.ScopeIDs, []string{a.ID}) {
		t.Errorf("a permission with another scope: %+v %v", got.ScopeIDs, err)
	}
	if err := db.DeleteResource(ctx(), f.serverID, res.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteScope(ctx(), f.serverID, a.ID); err != nil {
		t.Errorf("deleting a free scope: %v", err)
	}
	if err := db.DeleteScope(ctx(), f.serverID, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
}

func testAuthzPolicies(t *testing.T, db *store.DB) {
	f := mkAuthz(t, db, "authz-pol")
	sc := mkScope(t, db, f.serverID, "view")
	r1, _ := db.CreateResource(ctx(), authz.Resource{ServerID: f.serverID, Name: "r1", Owner: f.serverID, ScopeIDs: []string{sc.ID}})
	r2, _ := db.CreateResource(ctx(), authz.Resource{ServerID: f.serverID, Name: "r2", Owner: f.serverID})
	userPol := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "alice", Type: "user", Description: "only alice",
		Config: map[string]string{"users": `["u1"]`}})
	timePol := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "office hours", Type: "time", Logic: authz.Negative,
		Config: map[string]string{"hour": "9", "hourEnd": "17"}})
	agg := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "agg", Type: "aggregate", DecisionStrategy: authz.Consensus,
		PolicyIDs: []string{timePol.ID, userPol.ID}})
	perm := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "perm", Type: "resource", DecisionStrategy: authz.Affirmative,
		ResourceIDs: []string{r2.ID, r1.ID}, PolicyIDs: []string{agg.ID}})
	mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "typed", Type: "resource", Config: map[string]string{"defaultResourceType": "urn:x"},
		PolicyIDs: []string{userPol.ID}})
	if got, _ := db.GetPolicy(ctx(), f.serverID, agg.ID); !slices.Equal(got.PolicyIDs, []string{timePol.ID, userPol.ID}) || got.DecisionStrategy != authz.Consensus {
		t.Errorf("aggregate: %+v", got)
	}
	if got, _ := db.GetPolicy(ctx(), f.serverID, timePol.ID); got.Logic != authz.Negative || got.Config["hourEnd"] != "17" {
		t.Errorf("time policy: %+v", got)
	}
	if _, err := db.CreatePolicy(ctx(), authz.Policy{ServerID: f.serverID, Name: "alice", Type: "user"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate policy name: %v", err)
	}
	yes, no := true, false
	ids := func(ps []authz.Policy) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out
	}
	for _, c := range []struct {
		name string
		f    store.PolicyFilter
		want []string
	}{
		{"permissions", store.PolicyFilter{Permission: &yes}, []string{"perm", "typed"}},
		{"policies", store.PolicyFilter{Permission: &no}, []string{"agg", "alice", "office hours"}},
		{"type", store.PolicyFilter{Type: "time"}, []string{"office hours"}},
		{"name", store.PolicyFilter{Name: "AL"}, []string{"alice"}},
		{"resource", store.PolicyFilter{ResourceID: r1.ID}, []string{"perm"}},
		{"resource type", store.PolicyFilter{ResourceType: "urn:x"}, []string{"typed"}},
		{"paging", store.PolicyFilter{First: 1, Max: 2}, []string{"alice", "office hours"}},
	} {
		got, err := db.ListPolicies(ctx(), f.serverID, c.f)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), c.want) {
			t.Errorf("%s: %v, want %v", c.name, ids(got), c.want)
		}
	}
	dep, _ := db.DependentPolicies(ctx(), f.serverID, userPol.ID)
	if !slices.Equal(ids(dep), []string{"agg", "typed"}) {
		t.Errorf("dependent policies: %v", ids(dep))
	}
	if _, err := db.UpdatePolicy(ctx(), f.serverID, agg.ID, func(p *authz.Policy) error {
		p.PolicyIDs = append(p.PolicyIDs, p.ID)
		return nil
	}); err == nil {
		t.Error("a policy may aggregate itself")
	}
	up, err := db.UpdatePolicy(ctx(), f.serverID, perm.ID, func(p *authz.Policy) error {
		p.Type, p.Name, p.ResourceIDs, p.ScopeIDs = "user", "perm2", []string{r1.ID}, []string{sc.ID}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if up.Type != "resource" || up.Name != "perm2" || !slices.Equal(up.ResourceIDs, []string{r1.ID}) || !slices.Equal(up.ScopeIDs, []string{sc.ID}) {
		t.Errorf("after update (type must not change): %+v", up)
	}
	if err := db.DeletePolicy(ctx(), f.serverID, userPol.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetPolicy(ctx(), f.serverID, agg.ID); !slices.Equal(got.PolicyIDs, []string{timePol.ID}) {
		t.Errorf("aggregate after deleting a member: %v", got.PolicyIDs)
	}
	m, err := db.LoadAuthzModel(ctx(), f.realmID, f.serverID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Server.ID != f.serverID || len(m.Resources) != 2 || len(m.Scopes) != 1 || len(m.Policies) != 4 {
		t.Errorf("model: server %q, %d resources, %d scopes, %d policies", m.Server.ID, len(m.Resources), len(m.Scopes), len(m.Policies))
	}
	if !slices.Equal(m.Resources[0].ScopeIDs, []string{sc.ID}) {
		t.Errorf("model resource scopes: %v", m.Resources[0].ScopeIDs)
	}
	if _, err := db.LoadAuthzModel(ctx(), f.realmID, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("model of a missing server: %v", err)
	}
}

func testAuthzAtomic(t *testing.T, db *store.DB) {
	f := mkAuthz(t, db, "authz-atomic")
	other := mkAuthz(t, db, "authz-atomic-2")
	foreign := mkScope(t, db, other.serverID, "view")
	if _, err := db.CreateResource(ctx(), authz.Resource{ServerID: f.serverID, Name: "r", Owner: f.serverID, ScopeIDs: []string{foreign.ID}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a scope of another server: %v", err)
	}
	if _, err := db.CreatePolicy(ctx(), authz.Policy{ServerID: f.serverID, Name: "p", Type: "resource", ResourceIDs: []string{"missing"}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a missing resource: %v", err)
	}
	if l, _ := db.ListResources(ctx(), f.serverID, store.ResourceFilter{}); len(l) != 0 {
		t.Errorf("a refused resource was stored: %v", l)
	}
	if l, _ := db.ListPolicies(ctx(), f.serverID, store.PolicyFilter{}); len(l) != 0 {
		t.Errorf("a refused policy was stored: %v", l)
	}
	p := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "keep", Type: "user", Config: map[string]string{"users": `["x"]`}})
	if _, err := db.UpdatePolicy(ctx(), f.serverID, p.ID, func(p *authz.Policy) error {
		p.Name, p.PolicyIDs = "changed", []string{"missing"}
		return nil
	}); err == nil {
		t.Fatal("update with a missing associated policy succeeded")
	}
	if got, _ := db.GetPolicy(ctx(), f.serverID, p.ID); got.Name != "keep" {
		t.Errorf("a failed update was half stored: %q", got.Name)
	}
	if _, err := db.CreateResource(ctx(), authz.Resource{ServerID: "no-server", Name: "r", Owner: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a resource of a missing server: %v", err)
	}
}

func testAuthzReferences(t *testing.T, db *store.DB) {
	f := mkAuthz(t, db, "authz-refs")
	alice, bob := mkUser(t, db, f.realmID, "alice"), mkUser(t, db, f.realmID, "bob")
	r1 := role.Role{ID: store.NewID(), RealmID: f.realmID, Name: "r1"}
	r2 := role.Role{ID: store.NewID(), RealmID: f.realmID, Name: "r2"}
	g := role.Group{ID: store.NewID(), RealmID: f.realmID, Name: "g"}
	sub := role.Group{ID: store.NewID(), RealmID: f.realmID, ParentID: g.ID, Name: "sub"}
	for _, ro := range []role.Role{r1, r2} {
		if err := db.CreateRole(ctx(), ro); err != nil {
			t.Fatal(err)
		}
	}
	for _, gr := range []role.Group{g, sub} {
		if err := db.CreateGroup(ctx(), gr); err != nil {
			t.Fatal(err)
		}
	}
	other := client.New(store.NewID(), f.realmID, "other")
	if err := db.CreateClient(ctx(), other); err != nil {
		t.Fatal(err)
	}
	cs := client.Scope{ID: store.NewID(), RealmID: f.realmID, Name: "cs", Protocol: "openid-connect"}
	if err := db.CreateClientScope(ctx(), cs); err != nil {
		t.Fatal(err)
	}
	users := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "users", Type: "user", Config: map[string]string{"users": `["` + alice.ID + `","` + bob.ID + `"]`}})
	onlyBob := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "bob", Type: "user", Config: map[string]string{"users": `["` + bob.ID + `"]`}})
	roles := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "roles", Type: "role",
		Config: map[string]string{"roles": `[{"id":"` + r1.ID + `","required":true},{"id":"` + r2.ID + `","required":false}]`, "fetchRoles": "false"}})
	groups := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "groups", Type: "group",
		Config: map[string]string{"groups": `[{"id":"` + sub.ID + `","extendChildren":false}]`}})
	clients := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "clients", Type: "client", Config: map[string]string{"clients": `["` + other.ID + `"]`}})
	scopes := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "scopes", Type: "client-scope",
		Config: map[string]string{"clientScopes": `[{"id":"` + cs.ID + `","required":false}]`}})
	agg := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "agg", Type: "aggregate", PolicyIDs: []string{onlyBob.ID, users.ID}})
	// Bob's own resources go with him; a permission naming only his goes too.
	own, _ := db.CreateResource(ctx(), authz.Resource{ServerID: f.serverID, Name: "bob's", Owner: bob.ID})
	kept, _ := db.CreateResource(ctx(), authz.Resource{ServerID: f.serverID, Name: "server's", Owner: f.serverID})
	onlyOwn := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "p-own", Type: "resource", ResourceIDs: []string{own.ID}})
	mixed := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "p-mixed", Type: "resource", ResourceIDs: []string{own.ID, kept.ID}})

	gone := func(id string) bool {
		_, err := db.GetPolicy(ctx(), f.serverID, id)
		return errors.Is(err, store.ErrNotFound)
	}
	cfg := func(id, key string) string {
		p, _ := db.GetPolicy(ctx(), f.serverID, id)
		return p.Config[key]
	}

	if err := db.DeleteUser(ctx(), f.realmID, bob.ID); err != nil {
		t.Fatal(err)
	}
	if got := cfg(users.ID, "users"); got != `["`+alice.ID+`"]` {
		t.Errorf("user policy after deleting bob: %s", got)
	}
	if !gone(onlyBob.ID) {
		t.Error("a user policy left without users stays")
	}
	if p, _ := db.GetPolicy(ctx(), f.serverID, agg.ID); !slices.Equal(p.PolicyIDs, []string{users.ID}) {
		t.Errorf("aggregate after its member was deleted: %v", p.PolicyIDs)
	}
	if _, err := db.GetResource(ctx(), f.serverID, own.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob's resource outlived him: %v", err)
	}
	if !gone(onlyOwn.ID) {
		t.Error("a permission whose only resource went with its owner stays")
	}
	if p, _ := db.GetPolicy(ctx(), f.serverID, mixed.ID); !slices.Equal(p.ResourceIDs, []string{kept.ID}) {
		t.Errorf("permission with another resource: %v", p.ResourceIDs)
	}

	if err := db.DeleteRole(ctx(), f.realmID, r1.ID); err != nil {
		t.Fatal(err)
	}
	if got := cfg(roles.ID, "roles"); got != `[{"id":"`+r2.ID+`","required":false}]` {
		t.Errorf("role policy after deleting r1: %s", got)
	}
	if got := cfg(roles.ID, "fetchRoles"); got != "false" {
		t.Errorf("other config keys changed: %q", got)
	}
	if err := db.DeleteRole(ctx(), f.realmID, r2.ID); err != nil {
		t.Fatal(err)
	}
	if !gone(roles.ID) {
		t.Error("a role policy left without roles stays")
	}
	// Deleting a parent group deletes its subgroups, and they leave policies too.
	if err := db.DeleteGroup(ctx(), f.realmID, g.ID); err != nil {
		t.Fatal(err)
	}
	if !gone(groups.ID) {
		t.Error("a group policy naming a deleted subgroup stays")
	}
	if err := db.DeleteClient(ctx(), f.realmID, other.ID); err != nil {
		t.Fatal(err)
	}
	if !gone(clients.ID) {
		t.Error("a client policy left without clients stays")
	}
	if err := db.DeleteClientScope(ctx(), f.realmID, cs.ID); err != nil {
		t.Fatal(err)
	}
	if !gone(scopes.ID) {
		t.Error("a client scope policy left without scopes stays")
	}
	if gone(users.ID) {
		t.Error("an unrelated deletion removed the user policy")
	}
}

func testAuthzCached(t *testing.T, db *store.DB) {
	f := mkAuthz(t, db, "authz-cache")
	v0, _ := db.ConfigVersion(ctx())
	if m, _ := db.LoadAuthzModel(store.WithConfigView(ctx()), f.realmID, f.serverID); len(m.Scopes) != 0 {
		t.Fatal("fresh server has scopes")
	}
	mkScope(t, db, f.serverID, "view")
	if v1, _ := db.ConfigVersion(ctx()); v1 <= v0 {
		t.Errorf("creating a scope did not raise the config version: %d → %d", v0, v1)
	}
	if m, _ := db.LoadAuthzModel(store.WithConfigView(ctx()), f.realmID, f.serverID); len(m.Scopes) != 1 {
		t.Errorf("a new request's view misses the new scope: %d", len(m.Scopes))
	}
}
