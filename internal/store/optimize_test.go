package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Optimize gathers SQLite's planner statistics whether it runs on its own
// (on a connection it holds, which then drops the pages it read) or inside
// a transaction; on PostgreSQL it does nothing and fails nothing.
func TestOptimize(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		r, _ := bfFixture(t, db, "opt")
		for i := range 300 {
			if err := db.CreateUser(ctx, user.User{ID: store.NewID(), RealmID: r.ID, Username: fmt.Sprintf("u%03d", i), Enabled: true}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.InTx(ctx, func(tx *store.DB) error { return tx.Optimize(ctx) }); err != nil {
			t.Fatalf("in a transaction: %v", err)
		}
		if err := db.Optimize(ctx); err != nil {
			t.Fatalf("on its own: %v", err)
		}
		if db.Dialect() != store.SQLite {
			return
		}
		if n, err := db.PlannerStatRows(ctx); err != nil || n == 0 {
			t.Fatalf("planner statistics: %d rows, %v", n, err)
		}
		// The pool still serves reads and writes after the connection
		// that gathered went back to it.
		if _, err := db.GetUserByUsername(ctx, r.ID, "u007"); err != nil {
			t.Fatalf("read after Optimize: %v", err)
		}
	})
}
