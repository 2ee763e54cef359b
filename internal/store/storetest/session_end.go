package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// testSessionEndHook: every explicit way a session ends reaches the hook
// once, with its clients, after commit; a rolled-back end and expiry do not.
func testSessionEndHook(t *testing.T, db *store.DB) {
	var (
		mu  sync.Mutex
		got []store.EndedSession
	)
	db.OnSessionsEnded(func(_ context.Context, ended []store.EndedSession) {
		mu.Lock()
		got = append(got, ended...)
		mu.Unlock()
	})
	take := func() []store.EndedSession {
		mu.Lock()
		defer mu.Unlock()
		out := got
		got = nil
		return out
	}
	f := mkSessionFixture(t, db)

	us, _ := mkSessions(t, db, f, false, 1000, f.c, f.c2)
	if err := db.DeleteUserSession(ctx(), f.r.ID, us.ID); err != nil {
		t.Fatal(err)
	}
	e := take()
	if len(e) == 1 {
		slices.Sort(e[0].ClientIDs)
	}
	wantClients := []string{f.c.ID, f.c2.ID}
	slices.Sort(wantClients)
	if len(e) != 1 || e[0].ID != us.ID || e[0].UserID != f.u || e[0].RealmID != f.r.ID || e[0].Offline ||
		!slices.Equal(e[0].ClientIDs, wantClients) {
		t.Fatalf("DeleteUserSession reported %+v", e)
	}
	if err := db.DeleteUserSession(ctx(), f.r.ID, us.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}

	// The client sessions' notes come along: a SAML logout names the
	// NameID its login gave.
	noted, css := mkSessions(t, db, f, false, 1000, f.c, f.c2)
	if _, err := db.UpdateClientSession(ctx(), css[0].ID, func(cs session.ClientSession) (session.ClientSession, error) {
		cs.Notes = map[string]string{"SAML_NAME_ID": "alice"}
		return cs, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUserSession(ctx(), f.r.ID, noted.ID); err != nil {
		t.Fatal(err)
	}
	if e := take(); len(e) != 1 || e[0].ClientNotes[f.c.ID]["SAML_NAME_ID"] != "alice" || len(e[0].ClientNotes[f.c2.ID]) != 0 {
		t.Fatalf("notes reported %+v", e)
	}
	if e := take(); len(e) != 0 {
		t.Fatalf("a missing session was reported: %+v", e)
	}

	a, _ := mkSessions(t, db, f, false, 1000, f.c)
	b, _ := mkSessions(t, db, f, false, 1000)
	off, _ := mkSessions(t, db, f, true, 1000, f.c)
	if n, err := db.DeleteUserSessions(ctx(), f.r.ID, f.u, false); err != nil || n != 2 {
		t.Fatalf("DeleteUserSessions = %d, %v", n, err)
	}
	e = take()
	ids := []string{e[0].ID}
	if len(e) == 2 {
		ids = append(ids, e[1].ID)
	}
	slices.Sort(ids)
	want := []string{a.ID, b.ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("DeleteUserSessions reported %+v", e)
	}

	// Inside a transaction that rolls back, nothing is reported; inside
	// one that commits, the end is reported once, after the commit.
	boom := errors.New("boom")
	err := db.InTx(ctx(), func(tx *store.DB) error {
		if err := tx.DeleteUserSessionOfKind(ctx(), f.r.ID, off.ID, true); err != nil {
			return err
		}
		if e := take(); len(e) != 0 {
			t.Errorf("reported before commit: %+v", e)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if e := take(); len(e) != 0 {
		t.Fatalf("rolled-back end reported: %+v", e)
	}
	if err := db.InTx(ctx(), func(tx *store.DB) error {
		return tx.DeleteUserSessionOfKind(ctx(), f.r.ID, off.ID, true)
	}); err != nil {
		t.Fatal(err)
	}
	if e := take(); len(e) != 1 || e[0].ID != off.ID || !e[0].Offline || !slices.Equal(e[0].ClientIDs, []string{f.c.ID}) {
		t.Fatalf("offline end reported %+v", e)
	}

	c, _ := mkSessions(t, db, f, false, 1000, f.c2)
	if n, err := db.DeleteRealmSessions(ctx(), f.r.ID, false); err != nil || n != 1 {
		t.Fatalf("DeleteRealmSessions = %d, %v", n, err)
	}
	if e := take(); len(e) != 1 || e[0].ID != c.ID {
		t.Fatalf("DeleteRealmSessions reported %+v", e)
	}

	// Expiry is not a logout.
	mkSessions(t, db, f, false, 1, f.c)
	if n, err := db.DeleteExpiredSessions(ctx(), f.r, 1_000_000_000); err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSessions = %d, %v", n, err)
	}
	if e := take(); len(e) != 0 {
		t.Fatalf("expiry reported %+v", e)
	}
}
