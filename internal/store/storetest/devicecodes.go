package storetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

func testDeviceCodes(t *testing.T, db *store.DB) {
	f := mkSessionFixture(t, db)
	d := store.DeviceCode{RealmID: f.r.ID, ClientID: f.c.ID, UserCode: "ABCDEFGH", Scope: "openid", Nonce: "n", ExpiresAt: 1600, Interval: 5}
	if err := db.CreateDeviceCode(ctx(), "dev-code", d); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateDeviceCode(ctx(), "dev-code-2", d); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a user code taken twice: %v", err)
	}
	got, err := db.GetDeviceCodeByUserCode(ctx(), f.r.ID, "ABCDEFGH")
	if err != nil || got.Status != store.DevicePending || got.Scope != "openid" || got.Nonce != "n" || got.Interval != 5 || got.ClientID != f.c.ID {
		t.Fatalf("by user code: %+v %v", got, err)
	}

	// Polls: the first is allowed, one within the interval is not and is
	// not recorded, one after it is.
	polls := []struct {
		at      int64
		allowed bool
	}{{1_000_000, true}, {1_004_999, false}, {1_005_000, true}, {1_009_000, false}}
	for _, p := range polls {
		_, ok, err := db.PollDeviceCode(ctx(), f.r.ID, "dev-code", p.at)
		if err != nil || ok != p.allowed {
			t.Fatalf("poll at %d: allowed %v, want %v (%v)", p.at, ok, p.allowed, err)
		}
	}
	if _, _, err := db.PollDeviceCode(ctx(), f.r.ID, "unknown", 2_000_000); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown device code: %v", err)
	}
	other := mkRealm(t, db, "other")
	if _, _, err := db.PollDeviceCode(ctx(), other.ID, "dev-code", 2_000_000); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("device code of another realm: %v", err)
	}
	if ok, err := db.ConsumeDeviceCode(ctx(), f.r.ID, "dev-code"); ok || err != nil {
		t.Fatalf("a pending code was consumed: %v %v", ok, err)
	}

	// Expired codes cannot be decided; a pending one is decided once.
	if err := db.DecideDeviceCode(ctx(), f.r.ID, "ABCDEFGH", true, "us-1", 1600); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("approval after expiry: %v", err)
	}
	if err := db.DecideDeviceCode(ctx(), f.r.ID, "ABCDEFGH", true, "us-1", 1599); err != nil {
		t.Fatal(err)
	}
	if err := db.DecideDeviceCode(ctx(), f.r.ID, "ABCDEFGH", false, "", 1599); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second decision: %v", err)
	}
	got, _, err = db.PollDeviceCode(ctx(), f.r.ID, "dev-code", 3_000_000)
	if err != nil || got.Status != store.DeviceApproved || got.UserSessionID != "us-1" {
		t.Fatalf("after approval: %+v %v", got, err)
	}

	// Of concurrent redemptions exactly one wins.
	const n = 20
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range n {
		wg.Go(func() {
			ok, err := db.ConsumeDeviceCode(ctx(), f.r.ID, "dev-code")
			if err != nil {
				t.Errorf("consume: %v", err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d of %d redemptions won, want 1", wins, n)
	}

	// A denial is kept for the device to hear; cleanup drops codes an
	// hour past expiry.
	d.UserCode = "HGFEDCBA"
	if err := db.CreateDeviceCode(ctx(), "dev-code-3", d); err != nil {
		t.Fatal(err)
	}
	if err := db.DecideDeviceCode(ctx(), f.r.ID, "HGFEDCBA", false, "", 1000); err != nil {
		t.Fatal(err)
	}
	if got, err := db.GetDeviceCodeByUserCode(ctx(), f.r.ID, "HGFEDCBA"); err != nil || got.Status != store.DeviceDenied {
		t.Fatalf("after denial: %+v %v", got, err)
	}
	if err := db.DeleteExpiredLogins(ctx(), 1600+3599); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetDeviceCodeByUserCode(ctx(), f.r.ID, "HGFEDCBA"); err != nil {
		t.Fatalf("removed before an hour past expiry: %v", err)
	}
	if err := db.DeleteExpiredLogins(ctx(), 1600+3600); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetDeviceCodeByUserCode(ctx(), f.r.ID, "HGFEDCBA"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("kept an hour past expiry: %v", err)
	}
}
