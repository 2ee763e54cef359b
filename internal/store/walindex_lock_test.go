//go:build linux

package store_test

import (
	"database/sql"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
)

// shmDMS is SQLite's "dead man switch" byte in the -shm file
// (UNIX_SHM_DMS = (22+SQLITE_SHM_NLOCK)*4 + SQLITE_SHM_NLOCK = 128). Every
// process with the database open holds a shared fcntl lock on it; a process
// that finds it unlocked believes it is the first, truncates the -shm file
// and rebuilds the WAL index (unixLockSharedMemory, walIndexRecover).
const shmDMS = 128

const shmProbeEnv = "GATEHOUSE_TEST_SHM_PROBE_DB"

// TestSHMProbeProcess is not a test: run as a second process, it reports
// whether any process holds a lock on the DMS byte, then opens the database
// like any SQLite client (a CLI import) and reports whether that reset the
// WAL-index header (iChange, word 2, back to 0 by walIndexRecover).
func TestSHMProbeProcess(t *testing.T) {
	path := os.Getenv(shmProbeEnv)
	if path == "" {
		t.Skip("run as a helper process only")
	}
	shm := path + "-shm"
	f, err := os.Open(shm) // this process's own locks only are at stake here
	if err != nil {
		t.Fatal(err)
	}
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: shmDMS, Len: 1}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil {
		t.Fatal(err)
	}
	f.Close()
	hdr := func() uint32 {
		b, err := os.ReadFile(shm)
		if err != nil || len(b) < 12 {
			return ^uint32(0)
		}
		return binary.LittleEndian.Uint32(b[8:12])
	}
	before := hdr()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM realms`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	after := hdr()
	db.Close()
	fmt.Printf("PROBE dms=%d pid=%d ichange_before=%d ichange_after=%d\n", lk.Type, lk.Pid, before, after)
}

// While a node has the database open, SQLite's lock on the shared memory must
// stay in place: openWALIndex opens the -shm file itself, and closing any
// descriptor of a file drops every POSIX (fcntl) lock the process holds on
// it, SQLite's included. Another process opening the database then
// takes itself for the first, truncates the -shm file under the node's
// mappings (SIGBUS) and rebuilds the WAL index under its readers.
func TestSQLiteKeepsSharedMemoryLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	realmWithClient(t, openNode(t, path), "shmlock", func(*client.Client) {})
	out := runHelperProcess(t, "TestSHMProbeProcess", shmProbeEnv+"="+path)
	var dms, pid int
	var before, after uint32
	i := strings.Index(out, "PROBE ")
	if i < 0 {
		t.Fatalf("probe said nothing:\n%s", out)
	}
	if _, err := fmt.Sscanf(out[i:], "PROBE dms=%d pid=%d ichange_before=%d ichange_after=%d", &dms, &pid, &before, &after); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if dms == syscall.F_UNLCK {
		t.Errorf("no process holds SQLite's lock on the -shm DMS byte while the node has the database open")
	}
	if after != before {
		t.Errorf("another process opening the database re-initialised the WAL index under the node: iChange %d -> %d", before, after)
	}
}

const maintEnv = "GATEHOUSE_TEST_MAINT_DB"

// TestMaintProcess is not a test: run as a second process, it truncates the
// WAL, changes client "app" of realm "maint", vacuums and tries to leave WAL
// mode, as an operator's sqlite3 shell might beside a running server.
func TestMaintProcess(t *testing.T) {
	path := os.Getenv(maintEnv)
	if path == "" {
		t.Skip("run as a helper process only")
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(300)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	step := func(q string) {
		rows, err := raw.Query(q)
		var res []string
		if err == nil {
			cols, _ := rows.Columns()
			for rows.Next() {
				v := make([]any, len(cols))
				p := make([]any, len(cols))
				for i := range v {
					p[i] = &v[i]
				}
				rows.Scan(p...)
				res = append(res, fmt.Sprint(v...))
			}
			err = rows.Err()
			rows.Close()
		}
		fmt.Printf("MAINT %s -> %v err=%v\n", q, res, err)
	}
	step(`PRAGMA wal_checkpoint(TRUNCATE)`)
	setSecret(t, path, "maint", os.Getenv(maintEnv+"_SECRET"))
	step(`PRAGMA wal_checkpoint(TRUNCATE)`)
	step(`VACUUM`)
	step(`PRAGMA journal_mode=DELETE`)
	step(`PRAGMA journal_mode`)
}

// Maintenance by another process (WAL truncation, VACUUM, an attempt to
// leave WAL mode) between configuration changes: the node sees each change.
func TestSQLiteSeesChangesAcrossOtherProcessMaintenance(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	a := openNode(t, path)
	rl, _ := realmWithClient(t, a, "maint", func(c *client.Client) { c.Secret = "one" })
	secret := func() string { t.Helper(); return cachedSecret(t, a, rl.ID) }
	for _, want := range []string{"two", "three", "four"} {
		secret()
		secret()
		out := runHelperProcess(t, "TestMaintProcess", maintEnv+"="+path, maintEnv+"_SECRET="+want)
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "MAINT ") {
				t.Log(l)
			}
		}
		if got := secret(); got != want {
			t.Fatalf("stale configuration after another process's change and maintenance: %q, want %q", got, want)
		}
	}
}

const opsEnv = "GATEHOUSE_TEST_OPS_DB"

// TestOpsProcess is not a test: run as a second process, it runs the
// operations in GATEHOUSE_TEST_OPS (";"-separated): "truncate" is
// PRAGMA wal_checkpoint(TRUNCATE), "read" a plain SELECT, "update:S" sets
// the secret of client "app" of realm "aba" to S through the store.
func TestOpsProcess(t *testing.T) {
	path := os.Getenv(opsEnv)
	if path == "" {
		t.Skip("run as a helper process only")
	}
	for _, op := range strings.Split(os.Getenv("GATEHOUSE_TEST_OPS"), ";") {
		switch {
		case op == "truncate" || op == "read":
			raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(1000)")
			if err != nil {
				t.Fatal(err)
			}
			q := `SELECT count(*) FROM realms`
			if op == "truncate" {
				q = `PRAGMA wal_checkpoint(TRUNCATE)`
			}
			var a, b, c any
			dst := []any{&a}
			if op == "truncate" {
				dst = []any{&a, &b, &c}
			}
			if err := raw.QueryRow(q).Scan(dst...); err != nil {
				t.Fatalf("%s: %v", op, err)
			}
			raw.Close()
		case strings.HasPrefix(op, "update:"):
			setSecret(t, path, "aba", op[len("update:"):])
		}
	}
}

// The WAL-index header must never come back to one the node saw while the
// data has changed. A WAL index rebuilt over an empty WAL (walIndexRecover
// after wal_checkpoint(TRUNCATE)) is always the same 48 bytes: iChange 0,
// mxFrame 0, no salts. Here an operator's tools truncate the WAL beside the
// running node; each process that opens the file while the node's SQLite
// lock on the shared memory is missing rebuilds the index.
func TestSQLiteHeaderABAAfterTruncatedWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	a := openNode(t, path)
	rl, _ := realmWithClient(t, a, "aba", func(c *client.Client) { c.Secret = "one" })
	ops := func(o string) {
		t.Helper()
		runHelperProcess(t, "TestOpsProcess", opsEnv+"="+path, "GATEHOUSE_TEST_OPS="+o)
	}
	secret := func() string { t.Helper(); return cachedSecret(t, a, rl.ID) }
	ops("truncate")
	ops("read")
	if s := secret(); s != "one" {
		t.Fatalf("secret %q", s)
	}
	ops("update:two;truncate")
	ops("read")
	if s := secret(); s != "two" {
		t.Fatalf("stale configuration: secret %q after another process committed %q", s, "two")
	}
}

const dbLockEnv = "GATEHOUSE_TEST_DBLOCK_DB"

// sqliteSharedFirst and sqliteSharedSize are the bytes of a database file
// on which SQLite's unix VFS takes its SHARED lock (PENDING_BYTE + 2, 510
// bytes), held by every connection in WAL mode for as long as it is open.
const (
	sqliteSharedFirst = 0x40000000 + 2
	sqliteSharedSize  = 510
)

// TestDBLockProcess is not a test: run as a second process, it reports
// whether any process holds a lock on the SHARED bytes of the database file.
func TestDBLockProcess(t *testing.T) {
	path := os.Getenv(dbLockEnv)
	if path == "" {
		t.Skip("run as a helper process only")
	}
	f, err := os.Open(path) // this process holds no SQLite lock to lose
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: sqliteSharedFirst, Len: sqliteSharedSize}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("DBLOCK unlocked=%v\n", lk.Type == syscall.F_UNLCK)
}

// A second store opened on the same file in one process must not drop the
// first one's SQLite locks on the database file: closing any descriptor of
// a file drops all of the process's fcntl locks on it, and SQLite, which
// counts its locks per process, does not take them again. Without them,
// another process could lock the file exclusively under the running node,
// and on closing its last connection delete the shared memory the node has
// mapped.
func TestSQLiteSecondStoreKeepsLocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	openNode(t, path)
	openNode(t, path)
	out := runHelperProcess(t, "TestDBLockProcess", dbLockEnv+"="+path)
	switch {
	case strings.Contains(out, "DBLOCK unlocked=true"):
		t.Fatal("no process holds SQLite's shared lock on the database file while two stores have it open")
	case !strings.Contains(out, "DBLOCK unlocked=false"):
		t.Fatalf("helper said nothing:\n%s", out)
	}
}
