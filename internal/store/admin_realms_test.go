package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

type adminFixture struct {
	r, other realm.Realm
	c        client.Client
	u, v     user.User
}

func mkAdminFixture(t *testing.T, db *store.DB) adminFixture {
	t.Helper()
	ctx := context.Background()
	var f adminFixture
	for _, p := range []*realm.Realm{&f.r, &f.other} {
		*p = realm.New(store.NewID(), "r"+store.NewID()[:8])
		if err := db.CreateRealm(ctx, *p); err != nil {
			t.Fatal(err)
		}
	}
	f.c = client.New(store.NewID(), f.r.ID, "app")
	if err := db.CreateClient(ctx, f.c); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		u     *user.User
		realm string
	}{{&f.u, f.r.ID}, {&f.v, f.other.ID}} {
		*p.u = user.User{ID: store.NewID(), RealmID: p.realm, Username: "u" + store.NewID()[:8], Enabled: true}
		if err := db.CreateUser(ctx, *p.u); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func mkAdminSession(t *testing.T, db *store.DB, realmID, userID string, offline bool, clientID string) session.UserSession {
	t.Helper()
	ctx := context.Background()
	us := session.UserSession{ID: store.NewID(), RealmID: realmID, UserID: userID, Offline: offline, Started: 100, LastRefresh: 100}
	if err := db.CreateUserSession(ctx, us); err != nil {
		t.Fatal(err)
	}
	if clientID != "" {
		cs := session.ClientSession{ID: store.NewID(), UserSessionID: us.ID, ClientID: clientID, Offline: offline, Started: 100, Timestamp: 100}
		if err := db.CreateClientSession(ctx, cs); err != nil {
			t.Fatal(err)
		}
	}
	return us
}

func TestDeleteRealmSessions(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db, ctx := open(t), context.Background()
		f := mkAdminFixture(t, db)
		on1 := mkAdminSession(t, db, f.r.ID, f.u.ID, false, f.c.ID)
		on2 := mkAdminSession(t, db, f.r.ID, f.u.ID, false, "")
		off := mkAdminSession(t, db, f.r.ID, f.u.ID, true, f.c.ID)
		elsewhere := mkAdminSession(t, db, f.other.ID, f.v.ID, false, "")

		n, err := db.DeleteRealmSessions(ctx, f.r.ID, false)
		if err != nil || n != 2 {
			t.Fatalf("DeleteRealmSessions = %d, %v; want 2", n, err)
		}
		for _, id := range []string{on1.ID, on2.ID} {
			if _, err := db.GetUserSession(ctx, f.r.ID, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("online session %s survived: %v", id, err)
			}
		}
		if _, err := db.GetClientSession(ctx, on1.ID, f.c.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("client session of an ended session survived: %v", err)
		}
		if _, err := db.GetUserSession(ctx, f.r.ID, off.ID); err != nil {
			t.Errorf("offline session ended with the online ones: %v", err)
		}
		if _, err := db.GetUserSession(ctx, f.other.ID, elsewhere.ID); err != nil {
			t.Errorf("another realm's session ended: %v", err)
		}
	})
}

func TestDeleteUserSessionOfKind(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db, ctx := open(t), context.Background()
		f := mkAdminFixture(t, db)
		on := mkAdminSession(t, db, f.r.ID, f.u.ID, false, f.c.ID)
		off := mkAdminSession(t, db, f.r.ID, f.u.ID, true, "")

		if err := db.DeleteUserSessionOfKind(ctx, f.r.ID, on.ID, true); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("online session deleted as offline: %v", err)
		}
		if err := db.DeleteUserSessionOfKind(ctx, f.other.ID, on.ID, false); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session deleted through another realm: %v", err)
		}
		if err := db.DeleteUserSessionOfKind(ctx, f.r.ID, on.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := db.GetUserSession(ctx, f.r.ID, on.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session survived: %v", err)
		}
		if err := db.DeleteUserSessionOfKind(ctx, f.r.ID, on.ID, false); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second delete: %v, want ErrNotFound", err)
		}
		if err := db.DeleteUserSessionOfKind(ctx, f.r.ID, off.ID, true); err != nil {
			t.Errorf("offline delete: %v", err)
		}
	})
}

func TestAddClientScopeLink(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db, ctx := open(t), context.Background()
		f := mkAdminFixture(t, db)
		s := client.Scope{ID: store.NewID(), RealmID: f.r.ID, Name: "extra", Protocol: "openid-connect"}
		if err := db.CreateClientScope(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := db.AddClientScopeLink(ctx, f.r.ID, store.RealmDefaults, s.ID, false); err != nil {
			t.Fatal(err)
		}
		// Already optional: neither list takes it again, and it stays optional.
		for _, dflt := range []bool{true, false} {
			if err := db.AddClientScopeLink(ctx, f.r.ID, store.RealmDefaults, s.ID, dflt); !errors.Is(err, store.ErrConflict) {
				t.Errorf("second link (default=%v): %v, want ErrConflict", dflt, err)
			}
		}
		links, err := db.ClientScopeLinks(ctx, f.r.ID, store.RealmDefaults)
		if err != nil || len(links) != 1 || links[0].ScopeID != s.ID || links[0].Default {
			t.Fatalf("links = %+v, %v; want one optional link", links, err)
		}
		// The same scope links to a client independently of the realm defaults,
		// and inside a transaction a refused link does not abort it.
		err = db.InTx(ctx, func(tx *store.DB) error {
			if err := tx.AddClientScopeLink(ctx, f.r.ID, f.c.ID, s.ID, true); err != nil {
				return err
			}
			if err := tx.AddClientScopeLink(ctx, f.r.ID, f.c.ID, s.ID, true); !errors.Is(err, store.ErrConflict) {
				t.Errorf("duplicate client link: %v", err)
			}
			_, err := tx.ClientScopeLinks(ctx, f.r.ID, f.c.ID)
			return err
		})
		if err != nil {
			t.Fatalf("transaction after a refused link: %v", err)
		}
		links, _ = db.ClientScopeLinks(ctx, f.r.ID, f.c.ID)
		if len(links) != 1 || !links[0].Default {
			t.Errorf("client links = %+v", links)
		}
	})
}
