package store_test

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// Migration 00007 gives realms made before scope mappings were stored the
// two mappings a new realm has. The test makes a realm, goes back to
// version 6 (dropping the tables) and up again.
func TestMigrationMapsBuiltinScopes(t *testing.T) {
	for _, tc := range []struct {
		dialect store.Dialect
		driver  string
		goose   goose.Dialect
		dsn     func(t *testing.T) (string, string) // store dsn, sql dsn
	}{
		{store.SQLite, "sqlite", goose.DialectSQLite3, func(t *testing.T) (string, string) {
			p := filepath.Join(t.TempDir(), "g.db")
			return p, "file:" + p + "?_pragma=foreign_keys(1)"
		}},
		{store.Postgres, "pgx", goose.DialectPostgres, func(t *testing.T) (string, string) {
			u := storetest.PostgresURL(t)
			return u, u
		}},
	} {
		t.Run(string(tc.dialect), func(t *testing.T) {
			ctx := context.Background()
			dsn, raw := tc.dsn(t)
			db, err := store.Open(ctx, tc.dialect, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rl := realm.New(store.NewID(), "old")
			if err := provision.NewRealm(ctx, db, rl, time.Now()); err != nil {
				t.Fatal(err)
			}
			conn, err := sql.Open(tc.driver, raw)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			dir, _ := fs.Sub(store.Migrations(), "migrations/"+string(tc.dialect))
			p, err := goose.NewProvider(tc.goose, conn, dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.DownTo(ctx, 6); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatal(err)
			}
			scope, err := db.GetClientScopeByName(ctx, rl.ID, "offline_access")
			if err != nil {
				t.Fatal(err)
			}
			rs, err := db.ScopeMappings(ctx, rl.ID, store.ScopeOwner{ClientScope: true, ID: scope.ID})
			if err != nil || len(rs) != 1 || rs[0].Name != "offline_access" {
				t.Fatalf("offline_access scope after the migration: %v %v", rs, err)
			}
			ac, err := db.GetClientByClientID(ctx, rl.ID, "account-console")
			if err != nil {
				t.Fatal(err)
			}
			rs, err = db.ScopeMappings(ctx, rl.ID, store.ScopeOwner{ID: ac.ID})
			if err != nil || len(rs) != 2 || rs[0].Name != "manage-account" || rs[1].Name != "view-groups" {
				t.Fatalf("account-console after the migration: %v %v", rs, err)
			}
		})
	}
}
