package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

func initialAccessTests() []struct {
	name string
	fn   func(t *testing.T, db *store.DB)
} {
	return []struct {
		name string
		fn   func(t *testing.T, db *store.DB)
	}{
		{"initial access: each use takes one registration, racing uses never overdraw", testInitialAccess},
	}
}

func testInitialAccess(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "ia")
	a := store.InitialAccess{ID: store.NewID(), RealmID: r.ID, Timestamp: 1000, Expiration: 60, Count: 3, RemainingCount: 3}
	if err := db.CreateInitialAccess(ctx(), a); err != nil {
		t.Fatal(err)
	}
	if !a.Expired(1060) || a.Expired(1059) {
		t.Errorf("expiry at 1060: %v %v", a.Expired(1060), a.Expired(1059))
	}
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			err := db.UseInitialAccess(ctx(), r.ID, a.ID)
			switch {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("use: %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 3 {
		t.Errorf("%d uses succeeded, want 3", ok.Load())
	}
	got, err := db.GetInitialAccess(ctx(), r.ID, a.ID)
	if err != nil || got.RemainingCount != 0 || got.Count != 3 || got.Expiration != 60 || got.Timestamp != 1000 {
		t.Errorf("after use: %+v %v", got, err)
	}
	other := mkRealm(t, db, "ia-other")
	if _, err := db.GetInitialAccess(ctx(), other.ID, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another realm reads it: %v", err)
	}
	if err := db.DeleteInitialAccess(ctx(), r.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	list, err := db.ListInitialAccess(ctx(), r.ID)
	if err != nil || len(list) != 0 {
		t.Errorf("after delete: %v %v", list, err)
	}
}
