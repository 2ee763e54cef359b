package storetest

import (
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

func sessionTests() []struct {
	name string
	fn   func(t *testing.T, db *store.DB)
} {
	return []struct {
		name string
		fn   func(t *testing.T, db *store.DB)
	}{
		{"sessions: create, list, touch only moves forward, delete cascades", testSessionBasics},
		{"refresh rotation: max reuse N allows N+1 uses, stale tokens refused", testRefreshRotation},
		{"refresh rotation: 50 concurrent uses with max reuse 0 give exactly one success", testRefreshRace},
		{"client session read-modify-write: stored whole, identity kept, refused or missing changes nothing", testUpdateClientSession},
		{"offline revocation for one client leaves other clients and online sessions", testOfflineRevocation},
		{"expired sessions are removed by their own timeouts", testExpiry},
		{"revoked tokens are remembered until they expire", testRevokedTokens},
		{"token state: revocation, sessions and user read together; any of them missing is not found", testTokenState},
		{"token state reads every field as the sessions' and the user's own reads do, in a transaction or not", testTokenStateFields},
		{"single-use values: 20 concurrent spends give exactly one success, cleanup frees them after expiry", testConsumeOnce},
		{"consents grow, and revoking the grant removes consent and offline sessions", testConsents},
		{"logins in progress expire; 30 concurrent code redemptions: exactly one is fresh", testAuthSessionsAndCodes},
		{"device codes: polling interval, one decision, one redemption, cleanup", testDeviceCodes},
		{"explicit session ends reach the hook after commit, with their clients; expiry does not", testSessionEndHook},
	}
}

type sessFixture struct {
	r  realm.Realm
	c  client.Client
	c2 client.Client
	u  string
}

func mkSessionFixture(t *testing.T, db *store.DB) sessFixture {
	t.Helper()
	r := mkRealm(t, db, "s")
	c := client.New(store.NewID(), r.ID, "app")
	c2 := client.New(store.NewID(), r.ID, "other")
	for _, x := range []client.Client{c, c2} {
		if err := db.CreateClient(ctx(), x); err != nil {
			t.Fatal(err)
		}
	}
	u := mkUser(t, db, r.ID, "sam")
	return sessFixture{r: r, c: c, c2: c2, u: u.ID}
}

func mkSessions(t *testing.T, db *store.DB, f sessFixture, offline bool, at int64, clients ...client.Client) (session.UserSession, []session.ClientSession) {
	t.Helper()
	us := session.UserSession{ID: store.NewID(), RealmID: f.r.ID, UserID: f.u, Offline: offline, Started: at, LastRefresh: at, AuthTime: at,
		AuthMethod: "openid-connect", IPAddress: "127.0.0.1", Notes: map[string]string{"k": "v"}}
	if err := db.CreateUserSession(ctx(), us); err != nil {
		t.Fatal(err)
	}
	var css []session.ClientSession
	for _, c := range clients {
		cs := session.ClientSession{ID: store.NewID(), UserSessionID: us.ID, ClientID: c.ID, Offline: offline, Started: at, Timestamp: at, Scope: "openid"}
		if err := db.CreateClientSession(ctx(), cs); err != nil {
			t.Fatal(err)
		}
		css = append(css, cs)
	}
	return us, css
}

func testSessionBasics(t *testing.T, db *store.DB) {
	f := mkSessionFixture(t, db)
	us, css := mkSessions(t, db, f, false, 1000, f.c, f.c2)
	got, err := db.GetUserSession(ctx(), f.r.ID, us.ID)
	if err != nil || got.Notes["k"] != "v" || got.Started != 1000 || got.Offline {
		t.Fatalf("get: %+v %v", got, err)
	}
	dup := css[0]
	dup.ID = store.NewID()
	if err := db.CreateClientSession(ctx(), dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second client session for the same client: %v", err)
	}
	if err := db.TouchUserSession(ctx(), us.ID, 1500); err != nil {
		t.Fatal(err)
	}
	if err := db.TouchUserSession(ctx(), us.ID, 1200); err != nil {
		t.Fatal(err)
	}
	got, _ = db.GetUserSession(ctx(), f.r.ID, us.ID)
	if got.LastRefresh != 1500 {
		t.Fatalf("last refresh moved back: %d", got.LastRefresh)
	}
	list, _ := db.ListUserSessions(ctx(), f.r.ID, f.u, false)
	if len(list) != 1 {
		t.Fatalf("list: %v", list)
	}
	if n, _ := db.CountClientSessions(ctx(), f.c.ID, false); n != 1 {
		t.Fatalf("count: %d", n)
	}
	if err := db.DeleteUserSession(ctx(), f.r.ID, us.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetClientSession(ctx(), us.ID, f.c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("client session outlived its user session: %v", err)
	}
}

// errRefused is what useRefresh returns for a refusal, with its reason.
type errRefused struct{ reason string }

func (e errRefused) Error() string { return e.reason }

// useRefresh records one use of a refresh token the way the token endpoint
// does: session.DecideRefresh on the row UpdateClientSession holds.
func useRefresh(db *store.DB, csID, jti string, iat, now int64, rotation bool, maxReuse int) error {
	rl := realm.Realm{RevokeRefreshToken: rotation, RefreshTokenMaxReuse: maxReuse}
	_, err := db.UpdateClientSession(ctx(), csID, func(old session.ClientSession) (session.ClientSession, error) {
		d := session.DecideRefresh(rl, old, session.RefreshUse{Jti: jti, Iat: iat}, now)
		if d.Verdict != session.RefreshAccept {
			return old, errRefused{d.Reason}
		}
		return d.Session, nil
	})
	return err
}

func refusedFor(err error, reason string) bool {
	var r errRefused
	return errors.As(err, &r) && r.reason == reason
}

func testRefreshRotation(t *testing.T, db *store.DB) {
	f := mkSessionFixture(t, db)
	_, css := mkSessions(t, db, f, false, 1000, f.c)
	cs := css[0].ID
	use := func(jti string, iat, now int64) error { return useRefresh(db, cs, jti, iat, now, true, 1) }
	// t1 issued at login (iat 1000), max reuse 1: two uses succeed, the third fails.
	if err := use("t1", 1000, 1010); err != nil {
		t.Fatal(err)
	}
	if err := use("t1", 1000, 1020); err != nil {
		t.Fatalf("second use within max reuse 1: %v", err)
	}
	if err := use("t1", 1000, 1030); !refusedFor(err, session.ReasonReuseExceeded) {
		t.Fatalf("third use: want reuse exceeded, got %v", err)
	}
	// t2 was issued by the first refresh (iat 1010), before the session's last
	// token (1020): stale.
	if err := use("t2", 1010, 1040); !refusedFor(err, session.ReasonStale) {
		t.Fatalf("older sibling: want stale, got %v", err)
	}
	// t3, issued by the latest refresh, becomes current with a fresh count.
	if err := use("t3", 1020, 1050); err != nil {
		t.Fatalf("latest token: %v", err)
	}
	// Without rotation, reuse is unlimited.
	for i := range 5 {
		if err := useRefresh(db, cs, "t3", 1020, int64(1060+i), false, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := useRefresh(db, "missing", "t", 0, 0, true, 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing client session: %v", err)
	}
}

func testUpdateClientSession(t *testing.T, db *store.DB) {
	f := mkSessionFixture(t, db)
	us, css := mkSessions(t, db, f, false, 1000, f.c)
	before := css[0]
	got, err := db.UpdateClientSession(ctx(), before.ID, func(c session.ClientSession) (session.ClientSession, error) {
		c.Timestamp, c.CurrentRefreshToken, c.RefreshUseCount = 1100, "t1", 1
		c.Scope, c.Nonce, c.Notes = "openid email", "n2", map[string]string{"a": "b"}
		c.ClientID, c.Started = "someone-else", 1 // identity is not the caller's to change
		return c, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := db.GetClientSession(ctx(), us.ID, f.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Timestamp != 1100 || stored.CurrentRefreshToken != "t1" || stored.RefreshUseCount != 1 ||
		stored.Scope != "openid email" || stored.Nonce != "n2" || stored.Notes["a"] != "b" {
		t.Fatalf("update not stored: %+v", stored)
	}
	if stored.ClientID != f.c.ID || stored.Started != before.Started || got.ClientID != f.c.ID || got.Started != before.Started {
		t.Fatalf("identity changed: stored %+v, returned %+v", stored, got)
	}
	boom := errors.New("refused")
	if _, err := db.UpdateClientSession(ctx(), before.ID, func(c session.ClientSession) (session.ClientSession, error) {
		c.RefreshUseCount = 99
		return c, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("fn's error: %v", err)
	}
	if again, _ := db.GetClientSession(ctx(), us.ID, f.c.ID); again.RefreshUseCount != 1 {
		t.Fatalf("a refused update was written: %+v", again)
	}
	if _, err := db.UpdateClientSession(ctx(), "missing", func(c session.ClientSession) (session.ClientSession, error) { return c, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing client session: %v", err)
	}
}

func testRefreshRace(t *testing.T, db *store.DB) {
	f := mkSessionFixture(t, db)
	_, css := mkSessions(t, db, f, false, 1000, f.c)
	const n = 50
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		ok, reuse int
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := useRefresh(db, css[0].ID, "t1", 1000, 1001, true, 0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case refusedFor(err, session.ReasonReuseExceeded):
				reuse++
			default:
				t.Errorf("unexpected: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 || reuse != n-1 {
		t.Fatalf("want 1 success and %d refusals, got %d and %d", n-1, ok, reuse)
	}
}

func testOfflineRevocation(t *testing.T, db *store.DB) {
	f := mkSessionFixture(t, db)
	online, _ := mkSessions(t, db, f, false, 1000, f.c)
	off1, _ := mkSessions(t, db, f, true, 1000, f.c)
	off2, _ := mkSessions(t, db, f, true, 1000, f.c, f.c2)
	n, err := db.DeleteOfflineSessionsOfClient(ctx(), f.r.ID, f.u, f.c.ID)
	if err != nil || n != 2 {
		t.Fatalf("revoked %d, %v", n, err)
	}
	if _, err := db.GetUserSession(ctx(), f.r.ID, off1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("offline session with no client left survives: %v", err)
	}
	if _, err := db.GetClientSession(ctx(), off2.ID, f.c2.ID); err != nil {
		t.Fatalf("other client's offline access was revoked: %v", err)
	}
	if _, err := db.GetClientSession(ctx(), online.ID, f.c.ID); err != nil {
		t.Fatalf("online session was touched: %v", err)
	}
}

func testExpiry(t *testing.T, db *store.DB) {
	f := mkSessionFixture(t, db)
	r := f.r
	r.SSOSessionIdleTimeout, r.SSOSessionMaxLifespan, r.OfflineSessionIdleTimeout = 60, 3600, 600
	idle, _ := mkSessions(t, db, f, false, 1000, f.c)   // idle since 1000
	active, _ := mkSessions(t, db, f, false, 1000, f.c) // refreshed at 1100
	tooOld, _ := mkSessions(t, db, f, false, 1000, f.c) // refreshed, but past max at 4601
	offline, _ := mkSessions(t, db, f, true, 1000, f.c) // offline idle 600
	db.TouchUserSession(ctx(), active.ID, 1100)
	db.TouchUserSession(ctx(), tooOld.ID, 4590)
	db.TouchUserSession(ctx(), offline.ID, 4400)
	n, err := db.DeleteExpiredSessions(ctx(), r, 1120)
	if err != nil || n != 1 {
		t.Fatalf("at 1120: removed %d (%v), want the idle one", n, err)
	}
	if _, err := db.GetUserSession(ctx(), r.ID, idle.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("idle session kept")
	}
	n, _ = db.DeleteExpiredSessions(ctx(), r, 4601)
	if n != 2 { // active (idle since 1100) and tooOld (past max); offline lives on
		t.Fatalf("at 4601: removed %d, want 2", n)
	}
	if _, err := db.GetUserSession(ctx(), r.ID, offline.ID); err != nil {
		t.Fatal("offline session removed by the SSO timeouts")
	}
	n, _ = db.DeleteExpiredSessions(ctx(), r, 5001)
	if n != 1 {
		t.Fatalf("offline idle expiry: removed %d", n)
	}
}

func testRevokedTokens(t *testing.T, db *store.DB) {
	f := mkSessionFixture(t, db)
	if err := db.RevokeToken(ctx(), f.r.ID, "jti-1", 2000); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeToken(ctx(), f.r.ID, "jti-1", 2000); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	if ok, err := db.IsTokenRevoked(ctx(), "jti-1"); !ok || err != nil {
		t.Fatalf("revoked: %v %v", ok, err)
	}
	if ok, err := db.IsTokenRevoked(ctx(), "jti-2"); ok || err != nil {
		t.Fatalf("never revoked: %v %v", ok, err)
	}
	db.DeleteExpiredSessions(ctx(), f.r, 2001)
	if ok, _ := db.IsTokenRevoked(ctx(), "jti-1"); ok {
		t.Fatal("expired revocation record kept")
	}
}

func testTokenState(t *testing.T, db *store.DB) {
	f := mkSessionFixture(t, db)
	us, css := mkSessions(t, db, f, false, 1000, f.c)
	st, err := db.SessionTokenState(ctx(), f.r.ID, "jti-a", us.ID, f.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Revoked || st.UserSession.ID != us.ID || st.UserSession.Notes["k"] != "v" || st.UserSession.IPAddress != "127.0.0.1" ||
		st.ClientSession.ID != css[0].ID || st.ClientSession.Scope != "openid" || st.User.ID != f.u || st.User.Username != "sam" {
		t.Fatalf("session token state: %+v", st)
	}
	if err := db.RevokeToken(ctx(), f.r.ID, "jti-a", 5000); err != nil {
		t.Fatal(err)
	}
	if st, err := db.SessionTokenState(ctx(), f.r.ID, "jti-a", us.ID, f.c.ID); err != nil || !st.Revoked {
		t.Fatalf("revoked jti: %v %v", st.Revoked, err)
	}
	if st, err := db.SessionTokenState(ctx(), f.r.ID, "", us.ID, f.c.ID); err != nil || st.Revoked {
		t.Fatalf("no jti to check: %v %v", st.Revoked, err)
	}
	if _, err := db.SessionTokenState(ctx(), f.r.ID, "", us.ID, f.c2.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no client session for the client: %v", err)
	}
	if _, err := db.SessionTokenState(ctx(), f.r.ID, "", "no-such-session", f.c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no user session: %v", err)
	}
	other := mkRealm(t, db, "s-other")
	if _, err := db.SessionTokenState(ctx(), other.ID, "", us.ID, f.c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session of another realm: %v", err)
	}

	st, err = db.UserTokenState(ctx(), f.r.ID, "jti-a", f.u)
	if err != nil || !st.Revoked || st.User.Username != "sam" {
		t.Fatalf("user token state: %+v %v", st, err)
	}
	if st, err := db.UserTokenState(ctx(), f.r.ID, "jti-b", f.u); err != nil || st.Revoked {
		t.Fatalf("jti never revoked: %v %v", st.Revoked, err)
	}
	if _, err := db.UserTokenState(ctx(), other.ID, "", f.u); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("user of another realm: %v", err)
	}
}

// testTokenStateFields reads a token's state with every column set, outside
// a transaction and inside one: on PostgreSQL the first goes through pgx's
// own scanning and the second through database/sql's (store.hotRow), and
// both must give what GetUser, GetUserSession and GetClientSession give.
func testTokenStateFields(t *testing.T, db *store.DB) {
	f := mkSessionFixture(t, db)
	u := user.User{ID: store.NewID(), RealmID: f.r.ID, Username: "kim", Email: "kim@example.com", FirstName: "Kim",
		LastName: "Lee", Enabled: true, EmailVerified: true, CreatedTimestamp: 1700000000456,
		Attributes: map[string][]string{"dept": {"a", "b"}}, RequiredActions: []string{"UPDATE_PASSWORD"},
		ServiceAccountClientID: f.c2.ID, FederationLink: "ldap-1", NotBefore: 1234}
	if err := db.CreateUser(ctx(), u); err != nil {
		t.Fatal(err)
	}
	us := session.UserSession{ID: store.NewID(), RealmID: f.r.ID, UserID: u.ID, Offline: true, Started: 1000, LastRefresh: 1100,
		RememberMe: true, IPAddress: "10.0.0.1", AuthMethod: "openid-connect", AuthTime: 990, Notes: map[string]string{"a": "1", "b": "2"}}
	cs := session.ClientSession{ID: store.NewID(), UserSessionID: us.ID, ClientID: f.c.ID, Offline: true, Started: 1001, Timestamp: 1101,
		CurrentRefreshToken: "rt-1", RefreshUseCount: 3, Scope: "openid email", Nonce: "n-1", Notes: map[string]string{"c": "3"}}
	if err := db.CreateUserSession(ctx(), us); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateClientSession(ctx(), cs); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeToken(ctx(), f.r.ID, "jti-r", 5000); err != nil {
		t.Fatal(err)
	}
	wantUser, err := db.GetUser(ctx(), f.r.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantUS, err := db.GetUserSession(ctx(), f.r.ID, us.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantCS, err := db.GetClientSession(ctx(), us.ID, f.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := store.TokenState{Revoked: true, UserSession: wantUS, ClientSession: wantCS, User: wantUser}
	wantNoSession := store.TokenState{Revoked: true, User: wantUser}
	for _, inTx := range []bool{false, true} {
		read := func(fn func(db *store.DB) (store.TokenState, error)) store.TokenState {
			t.Helper()
			var st store.TokenState
			var err error
			if inTx {
				err = db.InTx(ctx(), func(tx *store.DB) error { st, err = fn(tx); return err })
			} else {
				st, err = fn(db)
			}
			if err != nil {
				t.Fatalf("in a transaction %v: %v", inTx, err)
			}
			return st
		}
		got := read(func(db *store.DB) (store.TokenState, error) {
			return db.SessionTokenState(ctx(), f.r.ID, "jti-r", us.ID, f.c.ID)
		})
		if !reflect.DeepEqual(got, want) {
			t.Errorf("session token state, in a transaction %v:\n got %+v\nwant %+v", inTx, got, want)
		}
		got = read(func(db *store.DB) (store.TokenState, error) { return db.UserTokenState(ctx(), f.r.ID, "jti-r", u.ID) })
		if !reflect.DeepEqual(got, wantNoSession) {
			t.Errorf("user token state, in a transaction %v:\n got %+v\nwant %+v", inTx, got, wantNoSession)
		}
	}
}

// testConsumeOnce is the store's half of replay protection (client
// assertion jtis, DPoP proof jtis): whichever node spends a value first wins.
func testConsumeOnce(t *testing.T, db *store.DB) {
	f := mkSessionFixture(t, db)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range 20 {
		wg.Go(func() {
			ok, err := db.ConsumeOnce(ctx(), f.r.ID, "dpop:abc", 2000)
			if err != nil {
				t.Error(err)
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
		t.Fatalf("%d of 20 concurrent spends succeeded, want 1", wins)
	}
	if ok, err := db.ConsumeOnce(ctx(), f.r.ID, "dpop:other", 2000); !ok || err != nil {
		t.Fatalf("another value: %v %v", ok, err)
	}
	if _, err := db.DeleteExpiredSessions(ctx(), f.r, 2000); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.ConsumeOnce(ctx(), f.r.ID, "dpop:abc", 3000); ok {
		t.Fatal("a value was freed before its expiry")
	}
	if _, err := db.DeleteExpiredSessions(ctx(), f.r, 3001); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.ConsumeOnce(ctx(), f.r.ID, "dpop:abc", 4000); !ok || err != nil {
		t.Fatalf("an expired value is not freed by cleanup: %v %v", ok, err)
	}
}

func testConsents(t *testing.T, db *store.DB) {
	f := mkSessionFixture(t, db)
	if err := db.GrantConsent(ctx(), f.u, f.c.ID, []string{"b", "a"}, 1000); err != nil {
		t.Fatal(err)
	}
	if err := db.GrantConsent(ctx(), f.u, f.c.ID, []string{"c", "a"}, 2000); err != nil {
		t.Fatal(err)
	}
	c, err := db.GetConsent(ctx(), f.u, f.c.ID)
	if err != nil || len(c.ScopeIDs) != 3 || c.ScopeIDs[0] != "a" || c.CreatedAt != 1000 || c.UpdatedAt != 2000 {
		t.Fatalf("consent: %+v %v", c, err)
	}
	off, _ := mkSessions(t, db, f, true, 1000, f.c)
	found, err := db.RevokeGrant(ctx(), f.r.ID, f.u, f.c.ID)
	if err != nil || !found {
		t.Fatalf("revoke: %v %v", found, err)
	}
	if _, err := db.GetConsent(ctx(), f.u, f.c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("consent kept")
	}
	if _, err := db.GetUserSession(ctx(), f.r.ID, off.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("offline session kept")
	}
	if found, _ := db.RevokeGrant(ctx(), f.r.ID, f.u, f.c.ID); found {
		t.Fatal("second revocation found something")
	}
	if cs, _ := db.ListConsents(ctx(), f.u); len(cs) != 0 {
		t.Fatalf("consents: %v", cs)
	}
}

func testAuthSessionsAndCodes(t *testing.T, db *store.DB) {
	f := mkSessionFixture(t, db)
	a := store.AuthSession{ID: "as-1", RealmID: f.r.ID, Data: `{"x":1}`, ExpiresAt: 2000}
	if err := db.SaveAuthSession(ctx(), a); err != nil {
		t.Fatal(err)
	}
	a.Data = `{"x":2}`
	if err := db.SaveAuthSession(ctx(), a); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetAuthSession(ctx(), f.r.ID, "as-1", 1999)
	if err != nil || got.Data != `{"x":2}` {
		t.Fatalf("auth session: %+v %v", got, err)
	}
	if _, err := db.GetAuthSession(ctx(), f.r.ID, "as-1", 2000); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired auth session returned: %v", err)
	}
	us, _ := mkSessions(t, db, f, false, 1000, f.c)
	code := store.AuthCode{RealmID: f.r.ID, ClientID: f.c.ID, UserSessionID: us.ID, Data: `{"redirect_uri":"x"}`, ExpiresAt: 1060}
	if err := db.CreateAuthCode(ctx(), "the-code", code); err != nil {
		t.Fatal(err)
	}
	const n = 30
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fresh int
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, ok, err := db.RedeemAuthCode(ctx(), f.r.ID, "the-code", 1001)
			if err != nil || c.UserSessionID != us.ID {
				t.Errorf("redeem: %+v %v", c, err)
				return
			}
			if ok {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if fresh != 1 {
		t.Fatalf("want exactly one fresh redemption of %d, got %d", n, fresh)
	}
	if _, _, err := db.RedeemAuthCode(ctx(), f.r.ID, "other-code", 1001); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown code: %v", err)
	}
	other := mkRealm(t, db, "other")
	if _, _, err := db.RedeemAuthCode(ctx(), other.ID, "the-code", 1001); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("code of another realm: %v", err)
	}
}
