package store_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/generate"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// On SQLite a statement is prepared once and then reused, outside and
// inside transactions.
func TestSQLiteStatementsPreparedOnce(t *testing.T) {
	db := storetest.Open(t)
	ctx := t.Context()
	if _, err := db.GetRealmByName(ctx, "nowhere"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	n := db.PreparedStatements()
	if n == 0 {
		t.Fatal("no statement was kept prepared")
	}
	for range 3 {
		if _, err := db.GetRealmByName(ctx, "nowhere"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
	}
	err := db.InTx(ctx, func(tx *store.DB) error {
		_, err := tx.GetRealmByName(ctx, "nowhere")
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	if got := db.PreparedStatements(); got != n {
		t.Fatalf("running the same statement again prepared %d more", got-n)
	}
}

// A write waits in line for SQLite's single writer, and a request that
// gives up while waiting writes nothing; once the writer is free the next
// write goes through.
func TestSQLiteWriterQueue(t *testing.T) {
	db := storetest.Open(t)
	release, err := db.HoldWriter(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	ran := false
	go func() {
		done <- db.InTx(ctx, func(tx *store.DB) error { ran = true; return nil })
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("a write given up while waiting: %v, want context.Canceled", err)
	}
	if ran {
		t.Fatal("the transaction ran while another held the writer")
	}
	release()
	if err := db.InTx(t.Context(), func(tx *store.DB) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("write after the writer was freed: ran %v, %v", ran, err)
	}
}

// On PostgreSQL pgx prepares each statement on the connection that runs
// it and keeps it there: a statement run twice on one connection is
// prepared on it once. When the connection is gone (PostgreSQL restarted,
// or the backend terminated as here), its statements go with it, and the
// store carries on over new connections that prepare their own.
func TestPostgresStatementsLiveWithTheirConnection(t *testing.T) {
	db := storetest.OpenPostgres(t)
	ctx := t.Context()
	conn, err := db.TestConn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const q = "SELECT count(*) FROM realms WHERE name = $1"
	var n int
	for range 2 {
		if err := conn.QueryRowContext(ctx, q, "nowhere").Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("statement prepared %d times on its connection, want once", n)
	}
	killBackend(t, db, conn)
	// A request may meet the dead connection once and be told the database
	// is unavailable (the client retries); it is never told a wrong answer.
	for attempt := 0; ; attempt++ {
		_, err := db.GetRealmByName(ctx, "nowhere")
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		var u *store.UnavailableError
		if !errors.As(err, &u) || attempt == 2 {
			t.Fatalf("read after the connection was lost: %v", err)
		}
	}
}

// The reads every bearer check makes (the configuration version, the
// token's state) go through pgx's own interface on PostgreSQL (hotRow):
// on a connection whose backend is gone they too answer "unavailable" at
// worst, never a wrong answer, and the store carries on.
func TestPostgresHotReadsAfterALostConnection(t *testing.T) {
	db := storetest.OpenPostgres(t)
	ctx := t.Context()
	want, err := db.ConfigVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.TestConn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	killBackend(t, db, conn) // the pool hands out its newest idle connection first: this dead one
	for attempt := 0; ; attempt++ {
		v, err := db.ConfigVersion(ctx)
		if err == nil {
			if v != want {
				t.Fatalf("version %d after the connection was lost, want %d", v, want)
			}
			break
		}
		var u *store.UnavailableError
		if !errors.As(err, &u) || attempt == 2 {
			t.Fatalf("read after the connection was lost: %v", err)
		}
	}
	if _, err := db.SessionTokenState(ctx, "no-realm", "", "no-session", "no-client"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("token state of no session: %v, want not found", err)
	}
}

// Planner statistics keep the per-index estimates but no value samples: with
// samples SQLite plans a statement for the values bound to it, and binding
// new ones throws the prepared plan away, so every execution of a prepared
// statement would parse and plan its SQL again.
func TestSQLiteOptimizeKeepsNoValueSamples(t *testing.T) {
	db := storetest.Open(t)
	ctx := t.Context()
	now := time.Now()
	if err := generate.Realm(ctx, db, generate.Options{Realm: "gen", Users: 200, Clients: 5, Groups: 3,
		Sessions: 50, Password: "gen-pw", Start: 1}, now, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := db.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := db.TestConn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var estimates, samples int
	if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'users'`).Scan(&estimates); err != nil {
		t.Fatal(err)
	}
	if estimates == 0 {
		t.Fatal("Optimize gathered no statistics on users")
	}
	err = conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_stat4`).Scan(&samples)
	if err != nil && !strings.Contains(err.Error(), "no such table") {
		t.Fatal(err)
	}
	if samples != 0 {
		t.Fatalf("sqlite_stat4 holds %d samples after Optimize, want none", samples)
	}
}

// killBackend terminates the PostgreSQL backend of conn from another
// connection, then returns conn, dead, to the pool.
func killBackend(t *testing.T, db *store.DB, conn *sql.Conn) {
	t.Helper()
	ctx := t.Context()
	var pid int
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	other, err := db.TestConn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var ok bool
	if err := other.QueryRowContext(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminate the backend: %v %v", ok, err)
	}
	conn.Close()
}
