package storetest

import (
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// testScopeMappings covers role scope mappings of clients and client
// scopes: add, list, remove, what they reach through composites, and that
// each goes with its client, scope or role.
func testScopeMappings(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "r")
	app := client.New(store.NewID(), r.ID, "app")
	api := client.New(store.NewID(), r.ID, "api")
	for _, c := range []client.Client{app, api} {
		if err := db.CreateClient(ctx(), c); err != nil {
			t.Fatal(err)
		}
	}
	sc := client.Scope{ID: store.NewID(), RealmID: r.ID, Name: "extra", Protocol: "openid-connect"}
	if err := db.CreateClientScope(ctx(), sc); err != nil {
		t.Fatal(err)
	}
	if err := db.LinkClientScope(ctx(), r.ID, app.ID, sc.ID, false); err != nil {
		t.Fatal(err)
	}
	mk := func(clientID, name string) role.Role {
		ro := role.Role{ID: store.NewID(), RealmID: r.ID, ClientID: clientID, Name: name, Attributes: map[string][]string{}}
		if err := db.CreateRole(ctx(), ro); err != nil {
			t.Fatal(err)
		}
		return ro
	}
	boss, worker, own, read, write := mk("", "boss"), mk("", "worker"), mk(app.ID, "own"), mk(api.ID, "read"), mk(api.ID, "write")
	if err := db.AddComposites(ctx(), boss.ID, worker.ID); err != nil {
		t.Fatal(err)
	}
	appOwner := store.ScopeOwner{ID: app.ID}
	scOwner := store.ScopeOwner{ClientScope: true, ID: sc.ID}
	if err := db.AddScopeMappings(ctx(), appOwner, boss.ID, read.ID, boss.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.AddScopeMappings(ctx(), scOwner, write.ID); err != nil {
		t.Fatal(err)
	}
	names := func(o store.ScopeOwner) []string {
		t.Helper()
		rs, err := db.ScopeMappings(ctx(), r.ID, o)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ro := range rs {
			out = append(out, ro.Name)
		}
		return out
	}
	// Realm roles (client_id '') sort before client roles.
	if got := names(appOwner); !slices.Equal(got, []string{"boss", "read"}) {
		t.Fatalf("client scope mappings: %v", got)
	}
	if got := names(scOwner); !slices.Equal(got, []string{"write"}) {
		t.Fatalf("client scope's scope mappings: %v", got)
	}

	reach, err := db.ScopeReach(ctx(), r.ID, app.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	wantClient := []string{boss.ID, worker.ID, own.ID, read.ID}
	slices.Sort(wantClient)
	if !slices.Equal(reach[""], wantClient) {
		t.Fatalf("client reach: got %v want %v (boss, worker through boss, own role, read)", reach[""], wantClient)
	}
	if !slices.Equal(reach[sc.ID], []string{write.ID}) {
		t.Fatalf("scope reach: %v", reach[sc.ID])
	}
	reach, _ = db.ScopeReach(ctx(), r.ID, app.ID, false)
	if slices.Contains(reach[""], own.ID) {
		t.Fatalf("without own roles the client's own role must not be reached: %v", reach[""])
	}
	linked, err := db.ClientScopesOf(ctx(), r.ID, app.ID)
	if err != nil || len(linked) != 1 || !linked[0].RoleScoped {
		t.Fatalf("a linked scope with mappings must say so: %v %v", linked, err)
	}

	clients, scopes, err := db.RealmScopeMappings(ctx(), r.ID)
	if err != nil || len(clients[app.ID]) != 2 || len(scopes[sc.ID]) != 1 {
		t.Fatalf("realm scope mappings: %v %v %v", clients, scopes, err)
	}

	if err := db.RemoveScopeMappings(ctx(), appOwner, boss.ID, worker.ID); err != nil {
		t.Fatal(err)
	}
	if got := names(appOwner); !slices.Equal(got, []string{"read"}) {
		t.Fatalf("after removing boss: %v", got)
	}
	// Deleting the role, the scope or the client takes its mappings along.
	if err := db.DeleteRole(ctx(), r.ID, read.ID); err != nil {
		t.Fatal(err)
	}
	if got := names(appOwner); len(got) != 0 {
		t.Fatalf("a deleted role's mapping remains: %v", got)
	}
	if err := db.DeleteClientScope(ctx(), r.ID, sc.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.AddScopeMappings(ctx(), appOwner, boss.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteClient(ctx(), r.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	clients, scopes, err = db.RealmScopeMappings(ctx(), r.ID)
	if err != nil || len(clients) != 0 || len(scopes) != 0 {
		t.Fatalf("mappings outlive their client or scope: %v %v %v", clients, scopes, err)
	}
}
