package storetest

import (
	"sync/atomic"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

func statsTests() []struct {
	name string
	fn   func(t *testing.T, db *store.DB)
} {
	return []struct {
		name string
		fn   func(t *testing.T, db *store.DB)
	}{
		{"sessions are counted per realm, online and offline, realms without any included", testCountSessions},
		{"every statement is timed, inside transactions too", testTimeQueries},
	}
}

func testCountSessions(t *testing.T, db *store.DB) {
	busy, idle := mkRealm(t, db, "busy"), mkRealm(t, db, "idle")
	u := mkUser(t, db, busy.ID, "ann")
	for i, offline := range []bool{false, true, false, false, true} {
		s := session.UserSession{ID: store.NewID(), RealmID: busy.ID, UserID: u.ID, Offline: offline,
			Started: int64(i), LastRefresh: int64(i), Notes: map[string]string{}}
		if err := db.CreateUserSession(ctx(), s); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.CountSessions(ctx())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]store.SessionCount{
		busy.Name: {Realm: busy.Name, Online: 3, Offline: 2},
		idle.Name: {Realm: idle.Name},
	}
	if len(got) != len(want) {
		t.Fatalf("CountSessions = %+v, want %+v", got, want)
	}
	for _, c := range got {
		if want[c.Realm] != c {
			t.Errorf("CountSessions for %s = %+v, want %+v", c.Realm, c, want[c.Realm])
		}
	}
	if s := db.PoolStats(); s.MaxOpenConnections <= 0 || s.OpenConnections <= 0 {
		t.Errorf("PoolStats = %+v, want a bounded pool with a connection open", s)
	}
}

func testTimeQueries(t *testing.T, db *store.DB) {
	var started, done atomic.Int64
	db.TimeQueries(func() func() {
		started.Add(1)
		return func() { done.Add(1) }
	})
	defer db.TimeQueries(nil)
	mkRealm(t, db, "timed")
	if err := db.InTx(ctx(), func(tx *store.DB) error {
		_, err := tx.ListRealms(ctx())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if started.Load() < 2 || started.Load() != done.Load() {
		t.Errorf("timed %d statements, finished %d; want at least 2, all finished", started.Load(), done.Load())
	}
	db.TimeQueries(nil)
	before := started.Load()
	if _, err := db.ListRealms(ctx()); err != nil {
		t.Fatal(err)
	}
	if started.Load() != before {
		t.Error("statements timed after TimeQueries(nil)")
	}
}
