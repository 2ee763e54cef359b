package store_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// countStatements counts the statements db sends from now on.
func countStatements(db *store.DB) *atomic.Int64 {
	var n atomic.Int64
	db.TimeQueries(func() func() { n.Add(1); return func() {} })
	return &n
}

// On SQLite a request reads the configuration version with a statement only
// when something has been committed since the last read; otherwise its
// cached reads cost no statement at all. A commit of any kind (here a user,
// which is data) makes the next request read the version again, and a
// configuration write by another node on the file is seen.
func TestSQLiteVersionReadOnlyAfterCommits(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the WAL index is mapped on unix only")
	}
	a, b := twoNodes(t, store.SQLite)
	versionReadOnlyAfterCommits(t, a, b)
}

// The same through a symbolic link to the file: SQLite follows the link,
// and so must the node looking for its shared memory.
func TestSQLiteVersionReadThroughLink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the WAL index is mapped on unix only")
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "real"), 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "real", "gatehouse.db")
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	versionReadOnlyAfterCommits(t, openNode(t, link), openNode(t, file))
}

// versionReadOnlyAfterCommits checks, for node a, that requests send no
// version read while nothing is committed, and see the commits of node b.
func versionReadOnlyAfterCommits(t *testing.T, a, b *store.DB) {
	t.Helper()
	ctx := t.Context()
	rl, c := realmWithClient(t, a, "walidx", func(c *client.Client) { c.Secret = "one" })
	n := countStatements(a)
	request := func() (string, int64) {
		t.Helper()
		before := n.Load()
		got, err := a.GetClientByClientID(store.WithConfigView(ctx), rl.ID, "app")
		if err != nil {
			t.Fatal(err)
		}
		return got.Secret, n.Load() - before
	}
	if s, _ := request(); s != "one" {
		t.Fatalf("secret %q", s)
	}
	if s, stmts := request(); s != "one" || stmts != 0 {
		t.Fatalf("second request with nothing committed: secret %q, %d statements, want none", s, stmts)
	}
	if err := b.CreateUser(ctx, user.User{ID: store.NewID(), RealmID: rl.ID, Username: "someone", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if s, stmts := request(); s != "one" || stmts != 1 {
		t.Fatalf("after a commit: secret %q, %d statements, want the version read alone", s, stmts)
	}
	if _, stmts := request(); stmts != 0 {
		t.Fatalf("nothing committed since: %d statements", stmts)
	}
	if err := b.UpdateClient(ctx, rl.ID, c.ID, func(x *client.Client) error { x.Secret = "two"; return nil }); err != nil {
		t.Fatal(err)
	}
	if s, _ := request(); s != "two" {
		t.Fatalf("stale configuration after another node's commit: %q", s)
	}
	// A context that has ended is refused on the path without a statement
	// too, as the statement would refuse it.
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := a.GetClientByClientID(store.WithConfigView(ended), rl.ID, "app"); err == nil {
		t.Fatal("a request whose context had ended was served")
	}
}

// helperDBEnv names the database file the helper process writes to.
const helperDBEnv = "GATEHOUSE_TEST_WAL_HELPER_DB"

// TestWALHelperProcess is not a test: run by
// TestConfigCacheSeesOtherProcessWrites as a second process, it changes the
// secret of client "app" of realm "walproc".
func TestWALHelperProcess(t *testing.T) {
	path := os.Getenv(helperDBEnv)
	if path == "" {
		t.Skip("run as a helper process only")
	}
	setSecret(t, path, "walproc", "two")
}

// A configuration change committed by another process on the same SQLite
// file (an import beside a running server) is seen by the node's next
// request, though the node had been answering from its cache without a
// statement.
func TestConfigCacheSeesOtherProcessWrites(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the WAL index is mapped on unix only")
	}
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	a := openNode(t, path)
	rl, _ := realmWithClient(t, a, "walproc", func(c *client.Client) { c.Secret = "one" })
	n := countStatements(a)
	secret := func() string { t.Helper(); return cachedSecret(t, a, rl.ID) }
	secret()
	before := n.Load()
	if s := secret(); s != "one" || n.Load() != before {
		t.Fatalf("secret %q with %d statements; want the cached one with none", s, n.Load()-before)
	}
	runHelperProcess(t, "TestWALHelperProcess", helperDBEnv+"="+path)
	if s := secret(); s != "two" {
		t.Fatalf("stale configuration after another process committed: %q", s)
	}
}

// openNode opens a store on the SQLite file at path, closed when the test ends.
func openNode(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), store.SQLite, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// cachedSecret reads the secret of client "app" of realm realmID through
// node db's configuration cache, as a request does.
func cachedSecret(t *testing.T, db *store.DB, realmID string) string {
	t.Helper()
	got, err := db.GetClientByClientID(store.WithConfigView(t.Context()), realmID, "app")
	if err != nil {
		t.Fatal(err)
	}
	return got.Secret
}

// runHelperProcess runs the test named name in a second process of this
// test binary, with env added, and returns what it printed.
func runHelperProcess(t *testing.T, name string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return string(out)
}

// setSecret opens its own store on the file at path and sets the secret of
// client "app" of realm realmName, as another process's import would.
func setSecret(t *testing.T, path, realmName, secret string) {
	t.Helper()
	db, err := store.Open(t.Context(), store.SQLite, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rl, err := db.GetRealmByName(t.Context(), realmName)
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.GetClientByClientID(t.Context(), rl.ID, "app")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateClient(t.Context(), rl.ID, c.ID, func(x *client.Client) error { x.Secret = secret; return nil }); err != nil {
		t.Fatal(err)
	}
}
