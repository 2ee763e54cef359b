package provision_test

import (
	"fmt"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// BenchmarkNewRealm is the cost of creating a realm (SQLite), most of it
// generating its RSA keys.
func BenchmarkNewRealm(b *testing.B) {
	db := storetest.Open(b)
	ctx := b.Context()
	if _, err := provision.Master(ctx, db, "admin", "pw-admin", now); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		if err := provision.NewRealm(ctx, db, realm.New(store.NewID(), fmt.Sprintf("r%d", i)), now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDefaultKeys is the cost of a new realm's keys alone.
func BenchmarkDefaultKeys(b *testing.B) {
	for range b.N {
		if _, err := keys.Defaults("r", now); err != nil {
			b.Fatal(err)
		}
	}
}
