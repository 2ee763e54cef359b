// Package storetest holds the store conformance suite, run against SQLite on
// every test run and against PostgreSQL when TEST_POSTGRES_URL is set, and
// Open, which gives other packages' tests a migrated store.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// RequireEnv names the variable CI sets so that a missing PostgreSQL (or any
// other optional test dependency) fails the run instead of skipping.
const RequireEnv = "GATEHOUSE_TEST_REQUIRE_ALL"

// Every test binary that opens a store creates many realms: they share one
// RSA-OAEP key (see keys.ShareEncKeyInTests), which nothing signs with.
func init() { keys.ShareEncKeyInTests() }

// Open returns a migrated SQLite store in a temporary directory, closed when
// the test ends.
func Open(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.SQLite, filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresURL returns a URL to a fresh, empty schema in the database named by
// TEST_POSTGRES_URL; the schema is dropped when the test ends. Without the
// variable the test is skipped, or failed when RequireEnv is set.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TEST_POSTGRES_URL")
	if base == "" {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("TEST_POSTGRES_URL is not set and %s requires the PostgreSQL tests", RequireEnv)
		}
		t.Skip("TEST_POSTGRES_URL is not set; skipping the PostgreSQL run")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	schema := "t_" + strings.ToLower(rand.Text())
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("postgres at TEST_POSTGRES_URL is not reachable: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// OpenPostgres returns a migrated store in a fresh PostgreSQL schema.
func OpenPostgres(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Postgres, PostgresURL(t))
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Both runs fn once per database: SQLite always, PostgreSQL when configured.
func Both(t *testing.T, fn func(t *testing.T, open func(t testing.TB) *store.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, Open) })
	t.Run("postgres", func(t *testing.T) { fn(t, OpenPostgres) })
}
