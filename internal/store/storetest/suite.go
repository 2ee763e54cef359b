package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Run is the conformance suite: every behaviour of store.DB that callers rely
// on, run against whichever database open returns.
func Run(t *testing.T, open func(t testing.TB) *store.DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db *store.DB)
	}{
		{"realm create, read, update, delete", testRealmCRUD},
		{"realm name is unique", testRealmUnique},
		{"invalid realm is refused and not stored", testRealmInvalid},
		{"deleting a realm removes everything in it", testRealmCascade},
		{"client clientId is unique per realm", testClientUnique},
		{"client round trip keeps every field", testClientRoundTrip},
		{"client scopes and their links", testScopes},
		{"roles, composites and effective roles through groups", testRoles},
		{"group tree lists parents first and deletes subtrees", testGroups},
		{"usernames and emails are case-insensitive", testUserCase},
		{"user update and paging", testUserUpdate},
		{"credentials: replace password, compare-and-set re-hash", testCredentials},
		{"concurrent re-hash with the same old secret: exactly one wins", testCredentialRace},
		{"transaction rolls back every write on error", testTxRollback},
		{"missing rows are ErrNotFound", testNotFound},
		{"realm keys keep their bytes and state", testKeys},
		{"role scope mappings of clients and client scopes", testScopeMappings},
	}
	tests = append(tests, sessionTests()...)
	tests = append(tests, statsTests()...)
	tests = append(tests, credentialTests()...)
	tests = append(tests, initialAccessTests()...)
	tests = append(tests, authConfigTests()...)
	tests = append(tests, componentTests()...)
	tests = append(tests, identityProviderTests()...)
	tests = append(tests, authzTests()...)
	tests = append(tests, ticketTests()...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func ctx() context.Context { return context.Background() }

func mkRealm(t *testing.T, db *store.DB, name string) realm.Realm {
	t.Helper()
	r := realm.New(store.NewID(), name)
	if err := db.CreateRealm(ctx(), r); err != nil {
		t.Fatalf("create realm: %v", err)
	}
	return r
}

func mkUser(t *testing.T, db *store.DB, realmID, username string) user.User {
	t.Helper()
	u := user.User{ID: store.NewID(), RealmID: realmID, Username: username, Enabled: true, CreatedTimestamp: 1700000000123}
	if err := db.CreateUser(ctx(), u); err != nil {
		t.Fatalf("create user: %v", err)
	}
	u.Normalize()
	return u
}

func testRealmCRUD(t *testing.T, db *store.DB) {
	r := realm.New(store.NewID(), "demo")
	r.AccessTokenLifespan = 60
	r.SupportedLocales = []string{"en", "de"}
	r.Attributes = map[string]string{"frontendUrl": "https://id.example"}
	if err := db.CreateRealm(ctx(), r); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetRealmByName(ctx(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != r.ID || got.AccessTokenLifespan != 60 || got.SSOSessionIdleTimeout != 1800 ||
		!slices.Equal(got.SupportedLocales, r.SupportedLocales) || got.Attributes["frontendUrl"] != "https://id.example" {
		t.Fatalf("round trip: got %+v", got)
	}
	if err := db.UpdateRealm(ctx(), r.ID, func(x *realm.Realm) error {
		x.RevokeRefreshToken, x.RefreshTokenMaxReuse = true, 2
		x.Name = "demo2"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err = db.GetRealm(ctx(), r.ID)
	if err != nil || got.Name != "demo2" || !got.RevokeRefreshToken || got.RefreshTokenMaxReuse != 2 {
		t.Fatalf("after update: %+v, %v", got, err)
	}
	if _, err := db.GetRealmByName(ctx(), "demo"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old name still found: %v", err)
	}
	list, err := db.ListRealms(ctx())
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	if err := db.DeleteRealm(ctx(), r.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteRealm(ctx(), r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
}

func testRealmUnique(t *testing.T, db *store.DB) {
	mkRealm(t, db, "dup")
	err := db.CreateRealm(ctx(), realm.New(store.NewID(), "dup"))
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("want ErrConflict, got %v", err)
	}
	other := mkRealm(t, db, "other")
	err = db.UpdateRealm(ctx(), other.ID, func(r *realm.Realm) error { r.Name = "dup"; return nil })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("rename onto existing: want ErrConflict, got %v", err)
	}
}

func testRealmInvalid(t *testing.T, db *store.DB) {
	r := realm.New(store.NewID(), "bad name/with slash")
	if err := db.CreateRealm(ctx(), r); err == nil {
		t.Fatal("invalid name accepted")
	}
	good := mkRealm(t, db, "good")
	err := db.UpdateRealm(ctx(), good.ID, func(r *realm.Realm) error { r.AccessTokenLifespan = -5; return nil })
	if err == nil {
		t.Fatal("negative lifespan accepted")
	}
	got, _ := db.GetRealm(ctx(), good.ID)
	if got.AccessTokenLifespan != 300 {
		t.Fatalf("refused update was half-stored: %d", got.AccessTokenLifespan)
	}
	list, _ := db.ListRealms(ctx())
	if len(list) != 1 {
		t.Fatalf("want 1 realm, got %d", len(list))
	}
}

func testRealmCascade(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "gone")
	keep := mkRealm(t, db, "kept")
	for _, rid := range []string{r.ID, keep.ID} {
		c := client.New(store.NewID(), rid, "app")
		if err := db.CreateClient(ctx(), c); err != nil {
			t.Fatal(err)
		}
		u := mkUser(t, db, rid, "alice")
		ro := role.Role{ID: store.NewID(), RealmID: rid, Name: "r1"}
		if err := db.CreateRole(ctx(), ro); err != nil {
			t.Fatal(err)
		}
		if err := db.AddUserRoles(ctx(), u.ID, ro.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DeleteRealm(ctx(), r.ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.CountUsers(ctx(), r.ID); n != 0 {
		t.Fatalf("users left behind: %d", n)
	}
	if cs, _ := db.ListClients(ctx(), r.ID); len(cs) != 0 {
		t.Fatalf("clients left behind: %d", len(cs))
	}
	if n, _ := db.CountUsers(ctx(), keep.ID); n != 1 {
		t.Fatalf("other realm's users touched: %d", n)
	}
}

func testClientUnique(t *testing.T, db *store.DB) {
	r1, r2 := mkRealm(t, db, "a"), mkRealm(t, db, "b")
	if err := db.CreateClient(ctx(), client.New(store.NewID(), r1.ID, "app")); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateClient(ctx(), client.New(store.NewID(), r1.ID, "app")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("want ErrConflict, got %v", err)
	}
	if err := db.CreateClient(ctx(), client.New(store.NewID(), r2.ID, "app")); err != nil {
		t.Fatalf("same clientId in another realm: %v", err)
	}
}

func testClientRoundTrip(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "r")
	c := client.New(store.NewID(), r.ID, "web")
	c.Secret = "s3cret"
	c.RedirectURIs = []string{"https://app.example/cb", "https://app.example/*"}
	c.WebOrigins = []string{"+"}
	c.DirectAccessGrantsEnabled = true
	c.Attributes = map[string]string{"pkce.code.challenge.method": "S256"}
	c.ProtocolMappers = []client.ProtocolMapper{{ID: store.NewID(), Name: "aud", Protocol: "openid-connect",
		ProtocolMapper: "oidc-audience-mapper", Config: map[string]string{"included.client.audience": "api"}}}
	if err := db.CreateClient(ctx(), c); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetClientByClientID(ctx(), r.ID, "web")
	if err != nil {
		t.Fatal(err)
	}
	if got.Secret != "s3cret" || !slices.Equal(got.RedirectURIs, c.RedirectURIs) || !got.DirectAccessGrantsEnabled ||
		got.Attributes["pkce.code.challenge.method"] != "S256" || len(got.ProtocolMappers) != 1 ||
		got.ProtocolMappers[0].Config["included.client.audience"] != "api" || !got.FullScopeAllowed {
		t.Fatalf("round trip lost data: %+v", got)
	}
	if err := db.UpdateClient(ctx(), r.ID, c.ID, func(x *client.Client) error { x.PublicClient = true; x.Secret = ""; return nil }); err != nil {
		t.Fatal(err)
	}
	got, _ = db.GetClient(ctx(), r.ID, c.ID)
	if !got.PublicClient || got.Secret != "" {
		t.Fatalf("update lost: %+v", got)
	}
	if err := db.UpdateClient(ctx(), r.ID, c.ID, func(x *client.Client) error { x.ClientID = ""; return nil }); err == nil {
		t.Fatal("empty clientId accepted")
	}
}

func testScopes(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "r")
	profile := client.Scope{ID: store.NewID(), RealmID: r.ID, Name: "profile", Protocol: "openid-connect"}
	email := client.Scope{ID: store.NewID(), RealmID: r.ID, Name: "email", Protocol: "openid-connect"}
	for _, s := range []client.Scope{profile, email} {
		if err := db.CreateClientScope(ctx(), s); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateClientScope(ctx(), client.Scope{ID: store.NewID(), RealmID: r.ID, Name: "email"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate scope name: %v", err)
	}
	c := client.New(store.NewID(), r.ID, "app")
	if err := db.CreateClient(ctx(), c); err != nil {
		t.Fatal(err)
	}
	if err := db.LinkClientScope(ctx(), r.ID, c.ID, profile.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := db.LinkClientScope(ctx(), r.ID, c.ID, email.ID, false); err != nil {
		t.Fatal(err)
	}
	// Relinking changes default ↔ optional rather than failing.
	if err := db.LinkClientScope(ctx(), r.ID, c.ID, email.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := db.LinkClientScope(ctx(), r.ID, store.RealmDefaults, profile.ID, true); err != nil {
		t.Fatal(err)
	}
	links, err := db.ClientScopeLinks(ctx(), r.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []client.ScopeLink{{ScopeID: email.ID, Default: true}, {ScopeID: profile.ID, Default: true}}
	if !slices.Equal(links, want) {
		t.Fatalf("links: got %v want %v", links, want)
	}
	if err := db.DeleteClientScope(ctx(), r.ID, email.ID); err != nil {
		t.Fatal(err)
	}
	links, _ = db.ClientScopeLinks(ctx(), r.ID, c.ID)
	if len(links) != 1 {
		t.Fatalf("deleting a scope must drop its links: %v", links)
	}
	if err := db.UnlinkClientScope(ctx(), r.ID, c.ID, email.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unlink missing: %v", err)
	}
	rd, _ := db.ClientScopeLinks(ctx(), r.ID, store.RealmDefaults)
	if len(rd) != 1 || rd[0].ScopeID != profile.ID {
		t.Fatalf("realm defaults: %v", rd)
	}
}

func testRoles(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "r")
	c := client.New(store.NewID(), r.ID, "app")
	if err := db.CreateClient(ctx(), c); err != nil {
		t.Fatal(err)
	}
	mk := func(clientID, name string) role.Role {
		ro := role.Role{ID: store.NewID(), RealmID: r.ID, ClientID: clientID, Name: name, Attributes: map[string][]string{"k": {"v"}}}
		if err := db.CreateRole(ctx(), ro); err != nil {
			t.Fatalf("create role %s: %v", name, err)
		}
		return ro
	}
	def, off, uma, viewer := mk("", "default-roles-r"), mk("", "offline_access"), mk("", "uma_authorization"), mk(c.ID, "viewer")
	grp := mk("", "from-group")
	// A client role may share a realm role's name; a realm role may not repeat.
	mk(c.ID, "offline_access")
	if err := db.CreateRole(ctx(), role.Role{ID: store.NewID(), RealmID: r.ID, Name: "offline_access"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate realm role: %v", err)
	}
	if err := db.AddComposites(ctx(), def.ID, off.ID, uma.ID, off.ID); err != nil {
		t.Fatal(err)
	}
	// A cycle is allowed and must not hang expansion.
	if err := db.AddComposites(ctx(), uma.ID, def.ID); err != nil {
		t.Fatal(err)
	}
	kids, err := db.ListComposites(ctx(), def.ID)
	if err != nil || len(kids) != 2 {
		t.Fatalf("composites: %v %v", kids, err)
	}
	u := mkUser(t, db, r.ID, "bob")
	if err := db.AddUserRoles(ctx(), u.ID, def.ID, viewer.ID); err != nil {
		t.Fatal(err)
	}
	parent := role.Group{ID: store.NewID(), RealmID: r.ID, Name: "parent"}
	child := role.Group{ID: store.NewID(), RealmID: r.ID, ParentID: parent.ID, Name: "child"}
	for _, g := range []role.Group{parent, child} {
		if err := db.CreateGroup(ctx(), g); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.AddGroupRoles(ctx(), parent.ID, grp.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.AddGroupMember(ctx(), child.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	eff, err := db.EffectiveRoleIDs(ctx(), r.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []role.Role{def, off, uma, viewer, grp} {
		if !slices.Contains(eff, want.ID) {
			t.Errorf("effective roles miss %s", want.Name)
		}
	}
	if len(eff) != 5 {
		t.Errorf("effective roles: want 5, got %d", len(eff))
	}
	got, err := db.GetClientRole(ctx(), r.ID, c.ID, "viewer")
	if err != nil || got.ID != viewer.ID || got.Attributes["k"][0] != "v" {
		t.Fatalf("client role lookup: %+v %v", got, err)
	}
	if err := db.DeleteRole(ctx(), r.ID, off.ID); err != nil {
		t.Fatal(err)
	}
	kids, _ = db.ListComposites(ctx(), def.ID)
	if len(kids) != 1 {
		t.Fatalf("deleted role still a composite child: %v", kids)
	}
	if err := db.DeleteClient(ctx(), r.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if rs, _ := db.ListClientRoles(ctx(), r.ID, c.ID); len(rs) != 0 {
		t.Fatalf("client roles survive their client: %v", rs)
	}
}

func testGroups(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "r")
	top := role.Group{ID: store.NewID(), RealmID: r.ID, Name: "z-top", Description: "the top"}
	mid := role.Group{ID: store.NewID(), RealmID: r.ID, ParentID: top.ID, Name: "a-mid"}
	leaf := role.Group{ID: store.NewID(), RealmID: r.ID, ParentID: mid.ID, Name: "leaf"}
	for _, g := range []role.Group{top, mid, leaf} {
		if err := db.CreateGroup(ctx(), g); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateGroup(ctx(), role.Group{ID: store.NewID(), RealmID: r.ID, ParentID: top.ID, Name: "a-mid"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate sibling: %v", err)
	}
	if err := db.CreateGroup(ctx(), role.Group{ID: store.NewID(), RealmID: r.ID, ParentID: "nope", Name: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing parent: %v", err)
	}
	list, err := db.ListGroups(ctx(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range list {
		names = append(names, g.Name)
	}
	if !slices.Equal(names, []string{"z-top", "a-mid", "leaf"}) {
		t.Fatalf("order: %v", names)
	}
	if list[0].Description != "the top" || list[1].Description != "" {
		t.Fatalf("descriptions: %q %q", list[0].Description, list[1].Description)
	}
	if err := db.UpdateGroup(ctx(), r.ID, mid.ID, func(g *role.Group) error { g.Description = "middle"; return nil }); err != nil {
		t.Fatal(err)
	}
	if g, _ := db.GetGroup(ctx(), r.ID, mid.ID); g.Description != "middle" {
		t.Fatalf("updated description: %q", g.Description)
	}
	u := mkUser(t, db, r.ID, "m")
	if err := db.AddGroupMember(ctx(), mid.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if gs, _ := db.ListUserGroups(ctx(), u.ID); len(gs) != 1 || gs[0].Description != "middle" {
		t.Fatalf("user's groups: %+v", gs)
	}
	if err := db.AddGroupMember(ctx(), leaf.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteGroup(ctx(), r.ID, top.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := db.ListGroups(ctx(), r.ID); len(list) != 0 {
		t.Fatalf("subtree left: %v", list)
	}
	if gs, _ := db.ListUserGroups(ctx(), u.ID); len(gs) != 0 {
		t.Fatalf("membership left: %v", gs)
	}
}

func testUserCase(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "r")
	u := user.User{ID: store.NewID(), RealmID: r.ID, Username: "  Alice ", Email: "Alice@Example.COM", Enabled: true}
	if err := db.CreateUser(ctx(), u); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetUserByUsername(ctx(), r.ID, "ALICE")
	if err != nil || got.Username != "alice" || got.Email != "alice@example.com" {
		t.Fatalf("by username: %+v %v", got, err)
	}
	got, err = db.GetUserByEmail(ctx(), r.ID, "alice@EXAMPLE.com")
	if err != nil || got.ID != u.ID {
		t.Fatalf("by email: %+v %v", got, err)
	}
	err = db.CreateUser(ctx(), user.User{ID: store.NewID(), RealmID: r.ID, Username: "ALICE"})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("username differing in case: want ErrConflict, got %v", err)
	}
	if err := db.CreateUser(ctx(), user.User{ID: store.NewID(), RealmID: r.ID, Username: ""}); err == nil {
		t.Fatal("empty username accepted")
	}
	if _, err := db.GetUserByEmail(ctx(), r.ID, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("empty email lookup: %v", err)
	}
}

func testUserUpdate(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "r")
	u := mkUser(t, db, r.ID, "carol")
	err := db.UpdateUser(ctx(), r.ID, u.ID, func(x *user.User) error {
		x.FirstName, x.LastName = "Carol", "Ng"
		x.Attributes = map[string][]string{"dept": {"a", "b"}}
		x.RequiredActions = []string{"UPDATE_PASSWORD"}
		x.EmailVerified = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := db.GetUser(ctx(), r.ID, u.ID)
	if got.FirstName != "Carol" || !slices.Equal(got.Attributes["dept"], []string{"a", "b"}) ||
		!slices.Equal(got.RequiredActions, []string{"UPDATE_PASSWORD"}) || !got.EmailVerified ||
		got.CreatedTimestamp != 1700000000123 {
		t.Fatalf("update: %+v", got)
	}
	for _, n := range []string{"dave", "erin", "frank"} {
		mkUser(t, db, r.ID, n)
	}
	page, err := db.ListUsers(ctx(), r.ID, 1, 2)
	if err != nil || len(page) != 2 || page[0].Username != "dave" || page[1].Username != "erin" {
		t.Fatalf("paging: %v %v", page, err)
	}
	all, _ := db.ListUsers(ctx(), r.ID, 0, -1)
	if n, _ := db.CountUsers(ctx(), r.ID); n != 4 || len(all) != 4 {
		t.Fatalf("count %d, all %d", n, len(all))
	}
}

func testCredentials(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "r")
	u := mkUser(t, db, r.ID, "pat")
	c1 := user.Credential{ID: store.NewID(), UserID: u.ID, Type: "password", CreatedDate: 1, SecretData: `{"value":"a"}`, CredentialData: `{}`}
	if err := db.ReplacePassword(ctx(), c1); err != nil {
		t.Fatal(err)
	}
	c2 := c1
	c2.ID, c2.SecretData = store.NewID(), `{"value":"b"}`
	if err := db.ReplacePassword(ctx(), c2); err != nil {
		t.Fatal(err)
	}
	cs, _ := db.ListCredentials(ctx(), u.ID)
	if len(cs) != 1 || cs[0].ID != c2.ID {
		t.Fatalf("want only the new password, got %v", cs)
	}
	if err := db.UpdateCredentialSecret(ctx(), c2.ID, `{"value":"stale"}`, `{"value":"c"}`, `{}`); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("re-hash over a changed secret must not apply: %v", err)
	}
	if err := db.UpdateCredentialSecret(ctx(), c2.ID, c2.SecretData, `{"value":"c"}`, `{"algorithm":"argon2"}`); err != nil {
		t.Fatal(err)
	}
	cs, _ = db.ListCredentials(ctx(), u.ID)
	if cs[0].SecretData != `{"value":"c"}` || cs[0].CredentialData != `{"algorithm":"argon2"}` {
		t.Fatalf("re-hash not stored: %+v", cs[0])
	}
	if err := db.DeleteUser(ctx(), r.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if cs, _ := db.ListCredentials(ctx(), u.ID); len(cs) != 0 {
		t.Fatalf("credentials survive their user: %v", cs)
	}
}

func testCredentialRace(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "r")
	u := mkUser(t, db, r.ID, "race")
	c := user.Credential{ID: store.NewID(), UserID: u.ID, Type: "password", SecretData: "old", CredentialData: "{}"}
	if err := db.CreateCredential(ctx(), c); err != nil {
		t.Fatal(err)
	}
	const n = 20
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.UpdateCredentialSecret(ctx(), c.ID, "old", "new-"+string(rune('a'+i)), "{}")
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("want exactly one winner, got %d", wins)
	}
}

func testTxRollback(t *testing.T, db *store.DB) {
	boom := errors.New("boom")
	var realmID string
	err := db.InTx(ctx(), func(tx *store.DB) error {
		r := realm.New(store.NewID(), "half")
		realmID = r.ID
		if err := tx.CreateRealm(ctx(), r); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx(), user.User{ID: store.NewID(), RealmID: r.ID, Username: "x"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("want boom, got %v", err)
	}
	if _, err := db.GetRealm(ctx(), realmID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("realm half-stored: %v", err)
	}
	if n, _ := db.CountUsers(ctx(), realmID); n != 0 {
		t.Fatalf("user half-stored")
	}
}

func testNotFound(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "r")
	checks := map[string]error{}
	_, checks["GetRealm"] = db.GetRealm(ctx(), "nope")
	_, checks["GetRealmByName"] = db.GetRealmByName(ctx(), "nope")
	_, checks["GetClient"] = db.GetClient(ctx(), r.ID, "nope")
	_, checks["GetClientByClientID"] = db.GetClientByClientID(ctx(), r.ID, "nope")
	_, checks["GetClientScope"] = db.GetClientScope(ctx(), r.ID, "nope")
	_, checks["GetRole"] = db.GetRole(ctx(), r.ID, "nope")
	_, checks["GetRealmRole"] = db.GetRealmRole(ctx(), r.ID, "nope")
	_, checks["GetGroup"] = db.GetGroup(ctx(), r.ID, "nope")
	_, checks["GetUser"] = db.GetUser(ctx(), r.ID, "nope")
	_, checks["GetUserByUsername"] = db.GetUserByUsername(ctx(), r.ID, "nope")
	checks["UpdateUser"] = db.UpdateUser(ctx(), r.ID, "nope", func(*user.User) error { return nil })
	checks["UpdateClient"] = db.UpdateClient(ctx(), r.ID, "nope", func(*client.Client) error { return nil })
	checks["UpdateRealm"] = db.UpdateRealm(ctx(), "nope", func(*realm.Realm) error { return nil })
	checks["DeleteUser"] = db.DeleteUser(ctx(), r.ID, "nope")
	checks["DeleteClient"] = db.DeleteClient(ctx(), r.ID, "nope")
	checks["DeleteRole"] = db.DeleteRole(ctx(), r.ID, "nope")
	checks["DeleteGroup"] = db.DeleteGroup(ctx(), r.ID, "nope")
	checks["DeleteKey"] = db.DeleteKey(ctx(), r.ID, "nope")
	checks["AddUserRoles to a missing role"] = db.AddUserRoles(ctx(), mkUser(t, db, r.ID, "u").ID, "nope")
	for name, err := range checks {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: want ErrNotFound, got %v", name, err)
		}
	}
}

func testKeys(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "r")
	priv := []byte{0, 1, 2, 250, 255}
	k1 := keys.Key{ID: store.NewID(), RealmID: r.ID, Kid: "kid-1", ProviderID: "rsa-generated", Algorithm: "RS256", Use: "sig",
		Priority: 100, Enabled: true, Active: true, Private: priv, Certificate: []byte{9, 9}, CreatedAt: 1700000000000}
	k2 := keys.Key{ID: store.NewID(), RealmID: r.ID, Kid: "kid-2", ProviderID: "hmac-generated", Algorithm: "HS512", Use: "sig",
		Priority: 200, Enabled: true, Active: true, Private: []byte("secret"), CreatedAt: 1700000000001,
		Name: "hmac-generated-hs512", Config: map[string]string{"secretSize": "6"}}
	for _, k := range []keys.Key{k1, k2} {
		if err := db.CreateKey(ctx(), k); err != nil {
			t.Fatal(err)
		}
	}
	dup := k1
	dup.ID = store.NewID()
	if err := db.CreateKey(ctx(), dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate kid: %v", err)
	}
	if err := db.SetKeyState(ctx(), r.ID, k1.ID, true, false, 50); err != nil {
		t.Fatal(err)
	}
	list, err := db.ListKeys(ctx(), r.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %v %v", list, err)
	}
	if list[0].Kid != "kid-2" || list[1].Active || list[1].Priority != 50 || !slices.Equal(list[1].Private, priv) ||
		len(list[0].Certificate) != 0 {
		t.Fatalf("keys: %+v", list)
	}
	if list[0].Name != "hmac-generated-hs512" || list[0].Config["secretSize"] != "6" || list[1].Name != "" {
		t.Fatalf("name and config not kept: %+v", list)
	}
	// ReplaceKey swaps the material of a component and keeps its id.
	k3 := k1
	k3.Kid, k3.Algorithm, k3.Private, k3.Name, k3.Config = "kid-3", "ES256", []byte{7}, "ecdsa", map[string]string{"ecdsaEllipticCurveKey": "P-256"}
	if err := db.ReplaceKey(ctx(), k3); err != nil {
		t.Fatal(err)
	}
	list, err = db.ListKeys(ctx(), r.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %v %v", list, err)
	}
	if got := list[1]; got.ID != k1.ID || got.Kid != "kid-3" || got.Algorithm != "ES256" || got.Name != "ecdsa" ||
		got.Config["ecdsaEllipticCurveKey"] != "P-256" || !slices.Equal(got.Private, []byte{7}) {
		t.Fatalf("replaced key: %+v", got)
	}
	missing := k3
	missing.ID = store.NewID()
	if err := db.ReplaceKey(ctx(), missing); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("replace missing key: %v", err)
	}
}
