package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// The admin listing queries, on both databases.
func TestAdminListings(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		for _, tc := range []struct {
			name string
			fn   func(t *testing.T, db *store.DB)
		}{
			{"clients page and search by clientId substring, % and _ taken literally", testAdminClientSearch},
			{"scope links of every client in one query", testAdminRealmScopeLinks},
			{"a client's user sessions list every client of the session", testAdminClientSessions},
			{"role search, role members and groups, paged", testAdminRoleListings},
			{"group children, search, counts and members", testAdminGroupListings},
			{"moving a group keeps its subtree and refuses cycles and sibling clashes", testAdminMoveGroup},
		} {
			t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
		}
	})
}

func adminRealm(t *testing.T, db *store.DB, name string) realm.Realm {
	t.Helper()
	r := realm.New(store.NewID(), name)
	if err := db.CreateRealm(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

func adminUser(t *testing.T, db *store.DB, realmID, name string) user.User {
	t.Helper()
	u := user.User{ID: store.NewID(), RealmID: realmID, Username: name, Enabled: true}
	if err := db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func clientIDs(cs []client.Client) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ClientID)
	}
	return out
}

func testAdminClientSearch(t *testing.T, db *store.DB) {
	ctx := context.Background()
	r := adminRealm(t, db, "r")
	other := adminRealm(t, db, "other")
	for _, id := range []string{"web-app", "Web_Portal", "api", "a%b", "mobile-app"} {
		if err := db.CreateClient(ctx, client.New(store.NewID(), r.ID, id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateClient(ctx, client.New(store.NewID(), other.ID, "web-other")); err != nil {
		t.Fatal(err)
	}
	page, err := db.ListClientsPage(ctx, r.ID, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Ordered by clientId as the database compares text; both engines here
	// compare bytes for these ASCII names.
	all, _ := db.ListClients(ctx, r.ID)
	if want := clientIDs(all)[1:3]; !slices.Equal(clientIDs(page), want) {
		t.Fatalf("page: got %v, want %v", clientIDs(page), want)
	}
	if got, _ := db.ListClientsPage(ctx, r.ID, 0, -1); len(got) != 5 {
		t.Fatalf("max -1 is no limit: got %d", len(got))
	}
	got, err := db.SearchClients(ctx, r.ID, "WEB", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if ids := clientIDs(got); len(ids) != 2 || !slices.Contains(ids, "web-app") || !slices.Contains(ids, "Web_Portal") {
		t.Fatalf("search WEB: %v", ids)
	}
	if got, _ := db.SearchClients(ctx, r.ID, "%", 0, 10); !slices.Equal(clientIDs(got), []string{"a%b"}) {
		t.Fatalf("%% must match itself only: %v", clientIDs(got))
	}
	if got, _ := db.SearchClients(ctx, r.ID, "_", 0, 10); !slices.Equal(clientIDs(got), []string{"Web_Portal"}) {
		t.Fatalf("_ must match itself only: %v", clientIDs(got))
	}
	if got, _ := db.SearchClients(ctx, r.ID, "app", 1, 10); len(got) != 1 {
		t.Fatalf("search page: %v", clientIDs(got))
	}
}

func testAdminRealmScopeLinks(t *testing.T, db *store.DB) {
	ctx := context.Background()
	r := adminRealm(t, db, "r")
	c := client.New(store.NewID(), r.ID, "app")
	if err := db.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, name := range []string{"b-scope", "a-scope"} {
		s := client.Scope{ID: store.NewID(), RealmID: r.ID, Name: name, Protocol: "openid-connect"}
		if err := db.CreateClientScope(ctx, s); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	db.LinkClientScope(ctx, r.ID, c.ID, ids[0], true)
	db.LinkClientScope(ctx, r.ID, c.ID, ids[1], false)
	db.LinkClientScope(ctx, r.ID, store.RealmDefaults, ids[0], true)
	links, err := db.RealmScopeLinks(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []client.ScopeLink{{ScopeID: ids[1], Default: false}, {ScopeID: ids[0], Default: true}}
	if !slices.Equal(links[c.ID], want) {
		t.Fatalf("client links: %v, want %v (scope-name order)", links[c.ID], want)
	}
	if len(links[store.RealmDefaults]) != 1 {
		t.Fatalf("realm defaults: %v", links[store.RealmDefaults])
	}
}

func testAdminClientSessions(t *testing.T, db *store.DB) {
	ctx := context.Background()
	r := adminRealm(t, db, "r")
	app, other := client.New(store.NewID(), r.ID, "app"), client.New(store.NewID(), r.ID, "other")
	for _, c := range []client.Client{app, other} {
		if err := db.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	alice, bob := adminUser(t, db, r.ID, "alice"), adminUser(t, db, r.ID, "bob")
	mk := func(u user.User, offline bool, at int64, cs ...client.Client) string {
		us := session.UserSession{ID: store.NewID(), RealmID: r.ID, UserID: u.ID, Offline: offline, Started: at, LastRefresh: at + 5,
			IPAddress: "10.0.0.1", AuthMethod: "openid-connect", AuthTime: at}
		if err := db.CreateUserSession(ctx, us); err != nil {
			t.Fatal(err)
		}
		for i, c := range cs {
			if err := db.CreateClientSession(ctx, session.ClientSession{ID: store.NewID(), UserSessionID: us.ID, ClientID: c.ID,
				Offline: offline, Started: at, Timestamp: at + int64(10*(i+1))}); err != nil {
				t.Fatal(err)
			}
		}
		return us.ID
	}
	s1 := mk(alice, false, 100, app, other)
	s2 := mk(bob, false, 200, app)
	mk(bob, false, 300, other)       // not app's
	off := mk(alice, true, 400, app) // offline

	got, err := db.ListClientUserSessions(ctx, r.ID, app.ID, false, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Session.ID != s1 || got[1].Session.ID != s2 {
		t.Fatalf("online sessions of app: %+v", got)
	}
	if got[0].Username != "alice" || got[0].ClientTimestamp != 110 || got[0].Session.IPAddress != "10.0.0.1" {
		t.Fatalf("first session: %+v", got[0])
	}
	if want := map[string]string{app.ID: "app", other.ID: "other"}; len(got[0].Clients) != 2 ||
		got[0].Clients[app.ID] != want[app.ID] || got[0].Clients[other.ID] != want[other.ID] {
		t.Fatalf("clients of the first session: %v", got[0].Clients)
	}
	if page, _ := db.ListClientUserSessions(ctx, r.ID, app.ID, false, 1, 1); len(page) != 1 || page[0].Session.ID != s2 {
		t.Fatalf("page 2: %+v", page)
	}
	offline, err := db.ListClientUserSessions(ctx, r.ID, app.ID, true, 0, -1)
	if err != nil || len(offline) != 1 || offline[0].Session.ID != off || !offline[0].Session.Offline {
		t.Fatalf("offline: %+v %v", offline, err)
	}
	if none, err := db.ListClientUserSessions(ctx, r.ID, store.NewID(), false, 0, 10); err != nil || len(none) != 0 {
		t.Fatalf("unknown client: %v %v", none, err)
	}
}

func roleNames(rs []role.Role) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func testAdminRoleListings(t *testing.T, db *store.DB) {
	ctx := context.Background()
	r := adminRealm(t, db, "r")
	c := client.New(store.NewID(), r.ID, "app")
	if err := db.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	mk := func(clientID, name, desc string) role.Role {
		ro := role.Role{ID: store.NewID(), RealmID: r.ID, ClientID: clientID, Name: name, Description: desc}
		if err := db.CreateRole(ctx, ro); err != nil {
			t.Fatal(err)
		}
		return ro
	}
	editor := mk("", "editor", "")
	mk("", "viewer", "Reads the EDITOR's work")
	mk("", "admin", "")
	mk(c.ID, "editor-of-app", "")

	got, err := db.SearchRoles(ctx, r.ID, "", "edit", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(roleNames(got), []string{"editor", "viewer"}) {
		t.Fatalf("realm search edit (name or description): %v", roleNames(got))
	}
	if got, _ := db.SearchRoles(ctx, r.ID, c.ID, "EDIT", 0, 10); !slices.Equal(roleNames(got), []string{"editor-of-app"}) {
		t.Fatalf("client search: %v", roleNames(got))
	}
	if got, _ := db.SearchRoles(ctx, r.ID, "", "", 1, 1); !slices.Equal(roleNames(got), []string{"editor"}) {
		t.Fatalf("empty search pages every role by name: %v", roleNames(got))
	}

	var users []user.User
	for _, n := range []string{"carol", "alice", "bob"} {
		u := adminUser(t, db, r.ID, n)
		users = append(users, u)
		db.AddUserRoles(ctx, u.ID, editor.ID)
	}
	adminUser(t, db, r.ID, "dave") // no role
	members, err := db.ListRoleMembers(ctx, r.ID, editor.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range members {
		names = append(names, u.Username)
	}
	if !slices.Equal(names, []string{"alice", "bob", "carol"}) {
		t.Fatalf("members: %v", names)
	}
	if page, _ := db.ListRoleMembers(ctx, r.ID, editor.ID, 2, 5); len(page) != 1 || page[0].Username != "carol" {
		t.Fatalf("members page: %v", page)
	}

	g := role.Group{ID: store.NewID(), RealmID: r.ID, Name: "staff"}
	if err := db.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	db.AddGroupRoles(ctx, g.ID, editor.ID)
	groups, err := db.ListRoleGroups(ctx, r.ID, editor.ID, 0, 10)
	if err != nil || len(groups) != 1 || groups[0].ID != g.ID {
		t.Fatalf("groups of role: %v %v", groups, err)
	}
}

func groupNames(gs []role.Group) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Name)
	}
	return out
}

func testAdminGroupListings(t *testing.T, db *store.DB) {
	ctx := context.Background()
	r := adminRealm(t, db, "r")
	mk := func(parent, name string) role.Group {
		g := role.Group{ID: store.NewID(), RealmID: r.ID, ParentID: parent, Name: name}
		if err := db.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		return g
	}
	eng := mk("", "engineering")
	mk("", "sales")
	mk(eng.ID, "backend")
	mk(eng.ID, "frontend")
	mk(eng.ID, "sales-engineering")

	top, err := db.ListSubGroups(ctx, r.ID, store.RootGroup, 0, -1)
	if err != nil || !slices.Equal(groupNames(top), []string{"engineering", "sales"}) {
		t.Fatalf("top level: %v %v", groupNames(top), err)
	}
	if kids, _ := db.ListSubGroups(ctx, r.ID, eng.ID, 1, 1); !slices.Equal(groupNames(kids), []string{"frontend"}) {
		t.Fatalf("children page: %v", groupNames(kids))
	}
	if found, _ := db.SearchGroups(ctx, r.ID, "SALES", false, 0, 10); !slices.Equal(groupNames(found), []string{"sales", "sales-engineering"}) {
		t.Fatalf("search: %v", groupNames(found))
	}
	if found, _ := db.SearchGroups(ctx, r.ID, "sales", true, 0, 10); !slices.Equal(groupNames(found), []string{"sales"}) {
		t.Fatalf("exact search: %v", groupNames(found))
	}
	for _, tc := range []struct {
		search string
		top    bool
		want   int64
	}{{"", false, 5}, {"", true, 2}, {"end", false, 2}} {
		if n, err := db.CountGroups(ctx, r.ID, tc.search, tc.top); err != nil || n != tc.want {
			t.Fatalf("count %q top=%v: %d %v, want %d", tc.search, tc.top, n, err, tc.want)
		}
	}
	counts, err := db.SubGroupCounts(ctx, r.ID)
	if err != nil || counts[eng.ID] != 3 || len(counts) != 1 {
		t.Fatalf("subgroup counts: %v %v", counts, err)
	}

	for _, n := range []string{"zed", "amy"} {
		u := adminUser(t, db, r.ID, n)
		db.AddGroupMember(ctx, eng.ID, u.ID)
	}
	members, err := db.ListGroupMembers(ctx, r.ID, eng.ID, 0, 10)
	if err != nil || len(members) != 2 || members[0].Username != "amy" {
		t.Fatalf("members: %v %v", members, err)
	}
}

func testAdminMoveGroup(t *testing.T, db *store.DB) {
	ctx := context.Background()
	r := adminRealm(t, db, "r")
	mk := func(parent, name string) role.Group {
		g := role.Group{ID: store.NewID(), RealmID: r.ID, ParentID: parent, Name: name}
		if err := db.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		return g
	}
	a, b := mk("", "a"), mk("", "b")
	a1 := mk(a.ID, "child")
	a11 := mk(a1.ID, "grandchild")
	mk(b.ID, "child")

	if err := db.MoveGroup(ctx, r.ID, a.ID, a11.ID); !errors.Is(err, store.ErrGroupCycle) {
		t.Fatalf("under its own grandchild: %v", err)
	}
	if err := db.MoveGroup(ctx, r.ID, a.ID, a.ID); !errors.Is(err, store.ErrGroupCycle) {
		t.Fatalf("under itself: %v", err)
	}
	if err := db.MoveGroup(ctx, r.ID, a1.ID, b.ID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("onto a sibling's name: %v", err)
	}
	if err := db.MoveGroup(ctx, r.ID, a1.ID, store.NewID()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing parent: %v", err)
	}
	if err := db.MoveGroup(ctx, r.ID, a1.ID, store.RootGroup); err != nil {
		t.Fatal(err)
	}
	got, _ := db.GetGroup(ctx, r.ID, a1.ID)
	if got.ParentID != "" {
		t.Fatalf("moved group's parent: %q", got.ParentID)
	}
	if kids, _ := db.ListSubGroups(ctx, r.ID, a1.ID, 0, -1); len(kids) != 1 || kids[0].ID != a11.ID {
		t.Fatalf("subtree lost: %v", kids)
	}
	if err := db.MoveGroup(ctx, r.ID, a1.ID, a.ID); err != nil {
		t.Fatalf("move back: %v", err)
	}
}
