package store_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Every table of the schema is either configuration (its writes raise the
// configuration version, and nodes may cache it) or data (never cached). A
// migration that adds a table fails here until the table is put in one of
// the two lists in configversion.go.
func TestConfigTablesListed(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(t testing.TB) *store.DB) {
		db := open(t)
		tables, err := db.Tables(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range tables {
			if store.ConfigTables[tb] == store.DataTables[tb] {
				t.Errorf("table %s is in neither or both of configTables and dataTables", tb)
			}
		}
		for tb := range store.ConfigTables {
			if !slices.Contains(tables, tb) {
				t.Errorf("configTables lists %s, which the schema does not have", tb)
			}
		}
	})
}

// Every statement the store's source writes with names tables that are
// listed, so the version bump, which the store decides from the statement
// text, knows each of them.
func TestStoreWritesNameListedTables(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			for _, tb := range store.WrittenTables(s) {
				if tb == "" || strings.Contains(tb, "$") {
					continue // the table comes from a variable, checked where it is built
				}
				seen[tb] = true
				if !store.ConfigTables[tb] && !store.DataTables[tb] {
					t.Errorf("%s writes table %q, listed neither as configuration nor as data", f, tb)
				}
			}
			return true
		})
	}
	if !seen["clients"] || !seen["users"] {
		t.Fatalf("the scan found no writes of clients or users: %v", seen)
	}
}

func TestWrittenTables(t *testing.T) {
	for q, want := range map[string][]string{
		`INSERT INTO clients (id) VALUES ($1)`: {"clients"},
		`INSERT INTO client_scope_links (a) VALUES ($1) ON CONFLICT (a) DO UPDATE SET is_default = excluded.is_default`: {"client_scope_links"},
		`UPDATE realms SET name = $2 WHERE id = $1`:                       {"realms"},
		`DELETE FROM roles WHERE realm_id = $1`:                           {"roles"},
		`SELECT name FROM realms WHERE id = $1 FOR UPDATE`:                nil,
		`SELECT id FROM clients`:                                          nil,
		"WITH gone AS (DELETE FROM user_sessions RETURNING id)\nSELECT 1": {"user_sessions"},
		`insert or replace into auth_config(realm_id) values ($1)`:        {"auth_config"},
	} {
		var got []string
		for _, tb := range store.WrittenTables(q) {
			if tb != "" {
				got = append(got, tb)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("WrittenTables(%q) = %v, want %v", q, got, want)
		}
	}
}

// Each configuration write path raises the version; user, session and
// other data writes, and a rolled-back transaction, do not.
func TestConfigWritesBumpVersion(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(t testing.TB) *store.DB) {
		db := open(t)
		ctx := t.Context()
		rl := realm.New(store.NewID(), "bump")
		c := client.New(store.NewID(), rl.ID, "app")
		sc := client.Scope{ID: store.NewID(), RealmID: rl.ID, Name: "profile", Protocol: "openid-connect"}
		r1 := role.Role{ID: store.NewID(), RealmID: rl.ID, Name: "r1"}
		r2 := role.Role{ID: store.NewID(), RealmID: rl.ID, Name: "r2"}
		g1 := role.Group{ID: store.NewID(), RealmID: rl.ID, Name: "g1"}
		g2 := role.Group{ID: store.NewID(), RealmID: rl.ID, Name: "g2"}
		k := keys.Key{ID: store.NewID(), RealmID: rl.ID, Kid: "k1", ProviderID: "hmac-generated", Algorithm: "HS256",
			Use: "sig", Priority: 100, Enabled: true, Active: true, Private: []byte("secret"), CreatedAt: 1}
		u := user.User{ID: store.NewID(), RealmID: rl.ID, Username: "u", Enabled: true}
		clientOwner := store.ScopeOwner{ID: c.ID}
		scopeOwner := store.ScopeOwner{ClientScope: true, ID: sc.ID}

		config := []struct {
			name string
			fn   func() error
		}{
			{"create realm", func() error { return db.CreateRealm(ctx, rl) }},
			{"update realm", func() error {
				return db.UpdateRealm(ctx, rl.ID, func(r *realm.Realm) error { r.AccessTokenLifespan = 600; return nil })
			}},
			{"create client", func() error { return db.CreateClient(ctx, c) }},
			{"update client", func() error {
				return db.UpdateClient(ctx, rl.ID, c.ID, func(x *client.Client) error { x.Secret = "two"; return nil })
			}},
			{"create client scope", func() error { return db.CreateClientScope(ctx, sc) }},
			{"update client scope", func() error {
				return db.UpdateClientScope(ctx, rl.ID, sc.ID, func(x *client.Scope) error { x.Description = "d"; return nil })
			}},
			{"link client scope", func() error { return db.LinkClientScope(ctx, rl.ID, c.ID, sc.ID, true) }},
			{"unlink client scope", func() error { return db.UnlinkClientScope(ctx, rl.ID, c.ID, sc.ID) }},
			{"add client scope link", func() error { return db.AddClientScopeLink(ctx, rl.ID, c.ID, sc.ID, false) }},
			{"create role", func() error { return db.CreateRole(ctx, r1) }},
			{"create second role", func() error { return db.CreateRole(ctx, r2) }},
			{"update role", func() error {
				return db.UpdateRole(ctx, rl.ID, r1.ID, func(x *role.Role) error { x.Description = "d"; return nil })
			}},
			{"add composite", func() error { return db.AddComposites(ctx, r1.ID, r2.ID) }},
			{"remove composite", func() error { return db.RemoveComposites(ctx, r1.ID, r2.ID) }},
			{"client scope mapping", func() error { return db.AddScopeMappings(ctx, clientOwner, r1.ID) }},
			{"client scope unmapping", func() error { return db.RemoveScopeMappings(ctx, clientOwner, r1.ID) }},
			{"scope's scope mapping", func() error { return db.AddScopeMappings(ctx, scopeOwner, r1.ID) }},
			{"scope's scope unmapping", func() error { return db.RemoveScopeMappings(ctx, scopeOwner, r1.ID) }},
			{"create group", func() error { return db.CreateGroup(ctx, g1) }},
			{"create second group", func() error { return db.CreateGroup(ctx, g2) }},
			{"update group", func() error {
				return db.UpdateGroup(ctx, rl.ID, g1.ID, func(x *role.Group) error { x.Description = "d"; return nil })
			}},
			{"move group", func() error { return db.MoveGroup(ctx, rl.ID, g2.ID, g1.ID) }},
			{"group role mapping", func() error { return db.AddGroupRoles(ctx, g1.ID, r1.ID) }},
			{"group role unmapping", func() error { return db.RemoveGroupRoles(ctx, g1.ID, r1.ID) }},
			{"create key", func() error { return db.CreateKey(ctx, k) }},
			{"key state", func() error { return db.SetKeyState(ctx, rl.ID, k.ID, true, false, 50) }},
			{"replace key", func() error { k.Kid = "k2"; return db.ReplaceKey(ctx, k) }},
			{"put authentication model", func() error { return db.PutAuthConfig(ctx, rl.ID, flow.Config{}) }},
			{"update authentication model", func() error {
				return db.UpdateAuthConfig(ctx, rl.ID, func(c *flow.Config) error {
					c.Bindings.Browser = "browser"
					return nil
				})
			}},
			{"delete key", func() error { return db.DeleteKey(ctx, rl.ID, k.ID) }},
			{"delete group", func() error { return db.DeleteGroup(ctx, rl.ID, g1.ID) }},
			{"delete role", func() error { return db.DeleteRole(ctx, rl.ID, r2.ID) }},
			{"delete client scope", func() error { return db.DeleteClientScope(ctx, rl.ID, sc.ID) }},
			{"delete client", func() error { return db.DeleteClient(ctx, rl.ID, c.ID) }},
		}
		data := []struct {
			name string
			fn   func() error
		}{
			{"create user", func() error { return db.CreateUser(ctx, u) }},
			{"user role mapping", func() error { return db.AddUserRoles(ctx, u.ID, r1.ID) }},
			{"rolled-back client write", func() error {
				err := db.InTx(ctx, func(tx *store.DB) error {
					if err := tx.CreateClient(ctx, client.New(store.NewID(), rl.ID, "gone")); err != nil {
						return err
					}
					return errors.New("roll back")
				})
				if err == nil {
					return errors.New("transaction committed")
				}
				return nil
			}},
		}
		version := func() int64 {
			v, err := db.ConfigVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		for i, w := range config {
			before := version()
			if err := w.fn(); err != nil {
				t.Fatalf("%s: %v", w.name, err)
			}
			if after := version(); after <= before {
				t.Errorf("%s left the configuration version at %d", w.name, after)
			}
			if i == len(config)-3 { // before the client and its roles go
				for _, d := range data {
					before := version()
					if err := d.fn(); err != nil {
						t.Fatalf("%s: %v", d.name, err)
					}
					if after := version(); after != before {
						t.Errorf("%s raised the configuration version from %d to %d", d.name, before, after)
					}
				}
			}
		}
		before := version()
		if err := db.DeleteRealm(ctx, rl.ID); err != nil {
			t.Fatal(err)
		}
		if version() <= before {
			t.Error("deleting the realm left the configuration version")
		}
	})
}

// twoNodes opens two stores on one database, as two nodes would.
func twoNodes(t *testing.T, dialect store.Dialect) (a, b *store.DB) {
	t.Helper()
	var dsn string
	if dialect == store.SQLite {
		dsn = filepath.Join(t.TempDir(), "gatehouse.db")
	} else {
		dsn = storetest.PostgresURL(t)
	}
	for _, p := range []**store.DB{&a, &b} {
		db, err := store.Open(context.Background(), dialect, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		*p = db
	}
	return a, b
}

// realmWithClient creates realm name with client "app", edited by edit.
func realmWithClient(t *testing.T, db *store.DB, name string, edit func(*client.Client)) (realm.Realm, client.Client) {
	t.Helper()
	rl := realm.New(store.NewID(), name)
	c := client.New(store.NewID(), rl.ID, "app")
	edit(&c)
	if err := db.CreateRealm(t.Context(), rl); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return rl, c
}

func bothDialects(t *testing.T, fn func(t *testing.T, dialect store.Dialect)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, store.SQLite) })
	t.Run("postgres", func(t *testing.T) { fn(t, store.Postgres) })
}

// A node reads configuration from its cache, yet a request that starts
// after another node committed a change sees the change, with no
// notification at all (neither node listens here): the version read at the
// start of each request is the safety net.
func TestConfigCacheSeesOtherNodesWrites(t *testing.T) {
	bothDialects(t, func(t *testing.T, dialect store.Dialect) {
		a, b := twoNodes(t, dialect)
		ctx := t.Context()
		rl, c := realmWithClient(t, a, "shared", func(c *client.Client) { c.Secret = "one" })
		secret := func(ctx context.Context) string {
			t.Helper()
			got, err := b.GetClientByClientID(ctx, rl.ID, "app")
			if err != nil {
				t.Fatal(err)
			}
			return got.Secret
		}
		first := store.WithConfigView(ctx)
		if got := secret(first); got != "one" {
			t.Fatalf("secret %q", got)
		}
		if b.CachedVersion() == 0 {
			t.Fatal("node b did not cache what it read")
		}
		if got := secret(store.WithConfigView(ctx)); got != "one" {
			t.Fatalf("secret %q", got)
		}
		if err := a.UpdateClient(ctx, rl.ID, c.ID, func(x *client.Client) error { x.Secret = "two"; return nil }); err != nil {
			t.Fatal(err)
		}
		// The request that began before the change keeps its snapshot.
		if got := secret(first); got != "one" {
			t.Fatalf("a request's configuration changed under it: %q", got)
		}
		if got := secret(store.WithConfigView(ctx)); got != "two" {
			t.Fatalf("node b served stale configuration after the change committed: %q", got)
		}
		// Realm settings, by name, likewise.
		if err := a.UpdateRealm(ctx, rl.ID, func(r *realm.Realm) error { r.AccessTokenLifespan = 77; return nil }); err != nil {
			t.Fatal(err)
		}
		got, err := b.GetRealmByName(store.WithConfigView(ctx), "shared")
		if err != nil || got.AccessTokenLifespan != 77 {
			t.Fatalf("realm on node b: %+v %v", got.AccessTokenLifespan, err)
		}
		// A deleted client is gone on the next request.
		if err := a.DeleteClient(ctx, rl.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := b.GetClientByClientID(store.WithConfigView(ctx), rl.ID, "app"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted client on node b: %v", err)
		}
	})
}

// A request that writes configuration reads its own write afterwards, on
// its own node, and transactions always read the database.
func TestConfigCacheReadsOwnWrites(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(t testing.TB) *store.DB) {
		db := open(t)
		ctx := store.WithConfigView(t.Context())
		rl := realm.New(store.NewID(), "own")
		if err := db.CreateRealm(ctx, rl); err != nil {
			t.Fatal(err)
		}
		ks, err := db.ListKeys(ctx, rl.ID)
		if err != nil || len(ks) != 0 {
			t.Fatalf("keys %v %v", ks, err)
		}
		k := keys.Key{ID: store.NewID(), RealmID: rl.ID, Kid: "k1", ProviderID: "hmac-generated", Algorithm: "HS256",
			Use: "sig", Priority: 100, Enabled: true, Active: true, Private: []byte("secret"), CreatedAt: 1}
		if err := db.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		if ks, err := db.ListKeys(ctx, rl.ID); err != nil || len(ks) != 1 {
			t.Fatalf("a request did not see the key it created: %v %v", ks, err)
		}
		err = db.InTx(ctx, func(tx *store.DB) error {
			if err := tx.UpdateRealm(ctx, rl.ID, func(r *realm.Realm) error { r.AccessTokenLifespan = 42; return nil }); err != nil {
				return err
			}
			got, err := tx.GetRealm(ctx, rl.ID)
			if err != nil {
				return err
			}
			if got.AccessTokenLifespan != 42 {
				return fmt.Errorf("transaction read %d, not its own write", got.AccessTokenLifespan)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := db.GetRealmByName(ctx, "own"); got.AccessTokenLifespan != 42 {
			t.Fatalf("after commit the request read %d", got.AccessTokenLifespan)
		}
	})
}

// On PostgreSQL the committing node's notification drops the other node's
// snapshot without any request to it.
func TestConfigNotificationDropsSnapshot(t *testing.T) {
	a, b := twoNodes(t, store.Postgres)
	ctx := t.Context()
	b.ListenConfigChanges(ctx, nil)
	rl := realm.New(store.NewID(), "notified")
	if err := a.CreateRealm(ctx, rl); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetRealmByName(store.WithConfigView(ctx), "notified"); err != nil {
		t.Fatal(err)
	}
	cached := b.CachedVersion()
	if cached == 0 {
		t.Fatal("node b cached nothing")
	}
	if err := a.UpdateRealm(ctx, rl.ID, func(r *realm.Realm) error { r.AccessTokenLifespan = 90; return nil }); err != nil {
		t.Fatal(err)
	}
	// Wait for the notification to arrive: an event, not a duration.
	deadline := time.Now().Add(30 * time.Second)
	for b.ConfigNotifications() == 0 || b.CachedVersion() == cached {
		if time.Now().After(deadline) {
			t.Fatalf("no notification reached node b (snapshot %d, notifications %d)", b.CachedVersion(), b.ConfigNotifications())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v := b.CachedVersion(); v != 0 {
		t.Fatalf("node b still holds snapshot %d", v)
	}
	got, err := b.GetRealmByName(store.WithConfigView(ctx), "notified")
	if err != nil || got.AccessTokenLifespan != 90 {
		t.Fatalf("realm on node b: %d %v", got.AccessTokenLifespan, err)
	}
}

// Requests reading while another node writes never go back in time: each
// new request sees a value at least as new as the previous request of the
// same reader, and once the writer is done every new request sees its last
// write. Run with -race, this is also the check that readers sharing a
// snapshot do not race.
func TestConfigCacheConcurrentReadsDuringWrites(t *testing.T) {
	bothDialects(t, func(t *testing.T, dialect store.Dialect) {
		a, b := twoNodes(t, dialect)
		ctx := t.Context()
		rl, c := realmWithClient(t, a, "busy", func(c *client.Client) { c.Attributes = map[string]string{"n": "0"} })
		const writes = 30
		done := make(chan struct{})
		var (
			wg sync.WaitGroup
			// committed is the last write that had committed, as far as
			// the writer knows.
			committed atomic.Int64
		)
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				last := 0
				for {
					select {
					case <-done:
						return
					default:
					}
					floor := int(committed.Load())
					rctx := store.WithConfigView(ctx)
					if _, err := b.GetRealmByName(rctx, "busy"); err != nil {
						errs <- err
						return
					}
					got, err := b.GetClientByClientID(rctx, rl.ID, "app")
					if err != nil {
						errs <- err
						return
					}
					n, _ := strconv.Atoi(got.Attributes["n"])
					if n < last {
						errs <- fmt.Errorf("a later request read n=%d after n=%d", n, last)
						return
					}
					if n < floor {
						errs <- fmt.Errorf("a request read n=%d, begun after n=%d had committed", n, floor)
						return
					}
					last = n
				}
			})
		}
		for i := 1; i <= writes; i++ {
			err := a.UpdateClient(ctx, rl.ID, c.ID, func(x *client.Client) error {
				x.Attributes = map[string]string{"n": strconv.Itoa(i)}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			committed.Store(int64(i))
		}
		close(done)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		got, err := b.GetClientByClientID(store.WithConfigView(ctx), rl.ID, "app")
		if err != nil || got.Attributes["n"] != strconv.Itoa(writes) {
			t.Fatalf("after the writes node b reads %v %v", got.Attributes, err)
		}
	})
}

// On PostgreSQL the requests that ask for the configuration version while
// a read of it is in flight share the next read, sent once the one in
// flight has answered: two reads for any number of requests, and each
// request still sees every change committed before it asked.
func TestConfigVersionReadsShared(t *testing.T) {
	db := storetest.OpenPostgres(t)
	ctx := t.Context()
	rl, c := realmWithClient(t, db, "shared-reads", func(c *client.Client) { c.Secret = "one" })
	var (
		mu    sync.Mutex
		reads int
	)
	held, release := make(chan struct{}), make(chan struct{})
	db.TraceStatements(func(q string, _ []any) {
		if !strings.Contains(q, "FROM config_version") {
			return
		}
		mu.Lock()
		reads++
		first := reads == 1
		mu.Unlock()
		if first { // hold the first read just before it is sent
			close(held)
			<-release
		}
	})
	t.Cleanup(func() { db.TraceStatements(nil) })
	secret := func() (string, error) {
		got, err := db.GetClientByClientID(store.WithConfigView(ctx), rl.ID, "app")
		return got.Secret, err
	}
	firstErr := make(chan error, 1)
	go func() { _, err := secret(); firstErr <- err }()
	<-held
	// While the first request's read is in flight, a change commits and
	// then more requests ask.
	if err := db.UpdateClient(ctx, rl.ID, c.ID, func(x *client.Client) error { x.Secret = "two"; return nil }); err != nil {
		t.Fatal(err)
	}
	const n = 10
	var wg sync.WaitGroup
	got, errs := make([]string, n), make([]error, n)
	for i := range n {
		wg.Go(func() { got[i], errs[i] = secret() })
	}
	for db.VersionReadJoined() < n {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if err := <-firstErr; err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if errs[i] != nil || got[i] != "two" {
			t.Errorf("request %d, begun after the change committed: secret %q, %v", i, got[i], errs[i])
		}
	}
	if reads != 2 {
		t.Errorf("%d version reads for %d requests, want 2: the first, and one the others shared", reads, n+1)
	}
}

// The configuration cache hands every request the same slice: a caller that
// appends to what it got must never write into another caller's view.
func TestConfigCacheSlicesDoNotAlias(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(t testing.TB) *store.DB) {
		db := open(t)
		ctx := store.WithConfigView(t.Context())
		rl := realm.New(store.NewID(), "alias")
		if err := db.CreateRealm(ctx, rl); err != nil {
			t.Fatal(err)
		}
		c := client.New(store.NewID(), rl.ID, "app")
		if err := db.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			k := keys.Key{ID: store.NewID(), RealmID: rl.ID, Kid: "k" + strconv.Itoa(i), ProviderID: "hmac-generated", Algorithm: "HS256",
				Use: "sig", Priority: 100, Enabled: true, Active: true, Private: []byte("secret"), CreatedAt: int64(i)}
			if err := db.CreateKey(ctx, k); err != nil {
				t.Fatal(err)
			}
			sc := client.Scope{ID: store.NewID(), RealmID: rl.ID, Name: "s" + strconv.Itoa(i), Protocol: "openid-connect"}
			if err := db.CreateClientScope(ctx, sc); err != nil {
				t.Fatal(err)
			}
			if err := db.LinkClientScope(ctx, rl.ID, c.ID, sc.ID, true); err != nil {
				t.Fatal(err)
			}
		}
		// Each request reads under its own view of the same snapshot.
		req := func() context.Context { return store.WithConfigView(t.Context()) }
		aliases := func(name string, get func() (int, func(tag string) func() string)) {
			t.Helper()
			n, first := get()
			_, second := get()
			if n != 3 {
				t.Fatalf("%s: %d entries", name, n)
			}
			readFirst := first("first")
			second("second")
			if got := readFirst(); got != "first" {
				t.Errorf("%s: a second caller's append overwrote the first caller's: %q", name, got)
			}
		}
		aliases("ListKeys", func() (int, func(string) func() string) {
			ks, err := db.ListKeys(req(), rl.ID)
			if err != nil {
				t.Fatal(err)
			}
			return len(ks), func(tag string) func() string {
				ks = append(ks, keys.Key{Kid: tag})
				return func() string { return ks[len(ks)-1].Kid }
			}
		})
		aliases("ListClientScopes", func() (int, func(string) func() string) {
			ss, err := db.ListClientScopes(req(), rl.ID)
			if err != nil {
				t.Fatal(err)
			}
			return len(ss), func(tag string) func() string {
				ss = append(ss, client.Scope{Name: tag})
				return func() string { return ss[len(ss)-1].Name }
			}
		})
		aliases("ClientScopesOf", func() (int, func(string) func() string) {
			ls, err := db.ClientScopesOf(req(), rl.ID, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			return len(ls), func(tag string) func() string {
				var l store.LinkedScope
				l.Scope.Name = tag
				ls = append(ls, l)
				return func() string { return ls[len(ls)-1].Scope.Name }
			}
		})
	})
}
