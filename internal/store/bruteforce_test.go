package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

func bfFixture(t *testing.T, db *store.DB, realmName string, usernames ...string) (realm.Realm, []user.User) {
	t.Helper()
	ctx := context.Background()
	r := realm.New(store.NewID(), realmName)
	if err := db.CreateRealm(ctx, r); err != nil {
		t.Fatal(err)
	}
	var us []user.User
	for _, name := range usernames {
		u := user.User{ID: store.NewID(), RealmID: r.ID, Username: name, Enabled: true}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		us = append(us, u)
	}
	return r, us
}

func TestLoginFailures(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		r, us := bfFixture(t, db, "bf", "ann", "bob")
		other, ous := bfFixture(t, db, "bf2", "cat")
		ann, bob, cat := us[0], us[1], ous[0]

		if _, err := db.GetLoginFailure(ctx, r.ID, ann.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no record yet: %v", err)
		}
		want := store.LoginFailure{RealmID: r.ID, UserID: ann.ID, NumFailures: 3, LastFailure: 1700000000123,
			LastIPFailure: "192.0.2.7", NumTemporaryLockouts: 1, LockedUntil: 1700000060123}
		if err := db.UpdateLoginFailure(ctx, r.ID, ann.ID, func(tx *store.DB, f *store.LoginFailure) error {
			if !f.Empty() || f.UserID != ann.ID || f.RealmID != r.ID {
				t.Errorf("first record: %+v", f)
			}
			*f = want
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got, err := db.GetLoginFailure(ctx, r.ID, ann.ID); err != nil || got != want {
			t.Fatalf("stored record: %+v %v", got, err)
		}

		// A failing edit stores nothing.
		boom := errors.New("boom")
		if err := db.UpdateLoginFailure(ctx, r.ID, ann.ID, func(tx *store.DB, f *store.LoginFailure) error {
			f.NumFailures = 99
			return boom
		}); !errors.Is(err, boom) {
			t.Fatalf("edit error: %v", err)
		}
		if got, _ := db.GetLoginFailure(ctx, r.ID, ann.ID); got != want {
			t.Fatalf("a failed edit was stored: %+v", got)
		}

		// A user of another realm is not found under this one.
		if err := db.UpdateLoginFailure(ctx, r.ID, cat.ID, func(*store.DB, *store.LoginFailure) error { return nil }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("user of another realm: %v", err)
		}

		// Emptied by a success: kept with zeros.
		if err := db.UpdateLoginFailure(ctx, r.ID, ann.ID, func(tx *store.DB, f *store.LoginFailure) error {
			*f = store.LoginFailure{}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got, err := db.GetLoginFailure(ctx, r.ID, ann.ID); err != nil || !got.Empty() {
			t.Fatalf("emptied record: %+v %v", got, err)
		}

		// Clearing one user, then a realm.
		for _, u := range []user.User{ann, bob} {
			if err := db.UpdateLoginFailure(ctx, r.ID, u.ID, func(tx *store.DB, f *store.LoginFailure) error { f.NumFailures = 1; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.UpdateLoginFailure(ctx, other.ID, cat.ID, func(tx *store.DB, f *store.LoginFailure) error { f.NumFailures = 1; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteLoginFailure(ctx, r.ID, ann.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteLoginFailure(ctx, r.ID, ann.ID); err != nil {
			t.Fatalf("clearing a user without failures: %v", err)
		}
		if _, err := db.GetLoginFailure(ctx, r.ID, ann.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("cleared user: %v", err)
		}
		if _, err := db.GetLoginFailure(ctx, r.ID, bob.ID); err != nil {
			t.Fatalf("clearing ann cleared bob: %v", err)
		}
		if err := db.DeleteLoginFailures(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.GetLoginFailure(ctx, r.ID, bob.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("realm clearing left bob: %v", err)
		}
		if _, err := db.GetLoginFailure(ctx, other.ID, cat.ID); err != nil {
			t.Fatalf("realm clearing reached another realm: %v", err)
		}

		// Deleting the user deletes its record.
		if err := db.DeleteUser(ctx, other.ID, cat.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.GetLoginFailure(ctx, other.ID, cat.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("record of a deleted user: %v", err)
		}
		if err := db.UpdateLoginFailure(ctx, other.ID, cat.ID, func(*store.DB, *store.LoginFailure) error { return nil }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("record for a deleted user: %v", err)
		}
	})
}

// Fifty failures at once, each read-modify-write of the same record, must
// count fifty: the record is locked from read to write (F10's premise).
func TestLoginFailuresConcurrent(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		r, us := bfFixture(t, db, "race", "ann")
		const n = 50
		var wg sync.WaitGroup
		errs := make(chan error, n)
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				errs <- db.UpdateLoginFailure(ctx, r.ID, us[0].ID, func(tx *store.DB, f *store.LoginFailure) error {
					// Widen the window between read and write.
					seen := f.NumFailures
					time.Sleep(time.Millisecond)
					f.NumFailures = seen + 1
					f.LastFailure = int64(seen + 1)
					return nil
				})
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.GetLoginFailure(ctx, r.ID, us[0].ID)
		if err != nil || got.NumFailures != n || got.LastFailure != n {
			t.Fatalf("after %d concurrent failures: %+v %v", n, got, err)
		}
	})
}

// A clearing that deletes the row while an update waits for its lock: the
// waiting update starts from a fresh record instead of failing.
func TestLoginFailuresClearedWhileWaiting(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		r, us := bfFixture(t, db, "wait", "ann")
		id := us[0].ID
		if err := db.UpdateLoginFailure(ctx, r.ID, id, func(tx *store.DB, f *store.LoginFailure) error { f.NumFailures = 7; return nil }); err != nil {
			t.Fatal(err)
		}
		holding, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 2)
		go func() {
			done <- db.UpdateLoginFailure(ctx, r.ID, id, func(tx *store.DB, f *store.LoginFailure) error {
				close(holding)
				<-release
				// Cleared by an administrator inside the same lock window.
				return tx.DeleteLoginFailure(ctx, r.ID, id)
			})
		}()
		<-holding
		var seen int
		go func() {
			done <- db.UpdateLoginFailure(ctx, r.ID, id, func(tx *store.DB, f *store.LoginFailure) error {
				seen = f.NumFailures
				f.NumFailures++
				return nil
			})
		}()
		time.Sleep(50 * time.Millisecond) // let the second one queue for the lock
		close(release)
		for range 2 {
			if err := <-done; err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
		}
		got, err := db.GetLoginFailure(ctx, r.ID, id)
		if err != nil || got.NumFailures != seen+1 {
			t.Fatalf("after clearing: %+v %v (saw %d)", got, err, seen)
		}
	})
}

func TestReplacePasswordKeepHistory(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		_, us := bfFixture(t, db, "hist", "ann")
		id := us[0].ID
		cheap := user.HashPolicy{Algorithm: user.HashPBKDF2SHA256, Iterations: 1}
		set := func(pw string, at int64, r user.HistoryRetention) {
			t.Helper()
			c, err := user.NewPasswordCredential(store.NewID(), id, pw, at, cheap)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.ReplacePasswordKeepHistory(ctx, c, r); err != nil {
				t.Fatal(err)
			}
		}
		kinds := func() (current string, history []int64) {
			t.Helper()
			cs, err := db.ListCredentials(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				switch c.Type {
				case user.CredentialPassword:
					if current != "" {
						t.Fatal("two passwords")
					}
					current = c.SecretData
				case user.CredentialPasswordHistory:
					history = append(history, c.CreatedDate)
				default:
					t.Fatalf("credential of type %q", c.Type)
				}
			}
			return current, history
		}
		three := user.PolicyHistoryRetention("passwordHistory(3)")
		for i, pw := range []string{"pw-1", "pw-2", "pw-3", "pw-4", "pw-5"} {
			set(pw, int64(1000*(i+1)), three)
		}
		cur, hist := kinds()
		if cur == "" || len(hist) != 2 || !(hist[0] == 4000 && hist[1] == 3000 || hist[0] == 3000 && hist[1] == 4000) {
			t.Fatalf("passwordHistory(3) keeps the two newest old passwords: %v", hist)
		}
		u, _ := db.GetUser(ctx, us[0].RealmID, id)
		creds, _ := db.ListCredentials(ctx, id)
		if e := user.CheckPolicy("passwordHistory(3)", "pw-4", u, creds); e == nil {
			t.Fatal("a kept password is accepted again")
		}
		if e := user.CheckPolicy("passwordHistory(3)", "pw-2", u, creds); e != nil {
			t.Fatalf("a dropped password is refused: %v", e)
		}

		// A policy without history drops what was kept.
		set("pw-6", 6000, user.HistoryRetention{})
		if _, hist := kinds(); len(hist) != 0 {
			t.Fatalf("history kept without a policy: %v", hist)
		}
		// passwordAge keeps what is young enough, whatever the count.
		day := int64(24 * time.Hour / time.Millisecond)
		age := user.PolicyHistoryRetention("passwordAge(2)")
		set("pw-7", 10*day, age)
		set("pw-8", 11*day, age)
		set("pw-9", 12*day, age)
		set("pw-10", 13*day, age) // pw-7 is now older than 2 days, pw-8 just not
		if _, hist := kinds(); len(hist) != 2 {
			t.Fatalf("passwordAge(2) history: %v", hist)
		}
	})
}

// A check that leaves the record as it found it (a right password with no
// failures counted, the common login) writes nothing: no UPDATE, so a
// login on SQLite appends no page to the WAL and on PostgreSQL leaves no
// dead row version behind. A check that changes it still stores it.
func TestLoginFailureUnchangedNotWritten(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		r, us := bfFixture(t, db, "bfw", "ann")
		ann := us[0]
		var updates []string
		var mu sync.Mutex
		db.TraceStatements(func(q string, _ []any) {
			if strings.HasPrefix(strings.TrimSpace(q), "UPDATE login_failures") {
				mu.Lock()
				updates = append(updates, q)
				mu.Unlock()
			}
		})
		t.Cleanup(func() { db.TraceStatements(nil) })
		// written reads updates under the lock the trace writes it under.
		written := func() []string {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(updates)
		}
		unchanged := func(*store.DB, *store.LoginFailure) error { return nil }

		// The first check creates the empty record, and stores nothing more.
		if err := db.UpdateLoginFailure(ctx, r.ID, ann.ID, unchanged); err != nil {
			t.Fatal(err)
		}
		if got, err := db.GetLoginFailure(ctx, r.ID, ann.ID); err != nil || !got.Empty() {
			t.Fatalf("record after an unchanged check: %+v %v", got, err)
		}
		if len(written()) != 0 {
			t.Fatalf("an unchanged record was written: %q", written())
		}
		// A success clears the record whole (authn.Attempt): on an empty
		// one that changes nothing either.
		if err := db.UpdateLoginFailure(ctx, r.ID, ann.ID, func(_ *store.DB, f *store.LoginFailure) error {
			*f = store.LoginFailure{}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(written()) != 0 {
			t.Fatalf("clearing an empty record wrote it: %q", written())
		}

		// A counted failure is stored.
		if err := db.UpdateLoginFailure(ctx, r.ID, ann.ID, func(_ *store.DB, f *store.LoginFailure) error {
			f.NumFailures, f.LastFailure, f.LastIPFailure = 1, 1700000000123, "192.0.2.7"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(written()) != 1 {
			t.Fatalf("a counted failure: %d updates", len(written()))
		}
		// Left as it is: kept, not written.
		if err := db.UpdateLoginFailure(ctx, r.ID, ann.ID, unchanged); err != nil {
			t.Fatal(err)
		}
		if len(written()) != 1 {
			t.Fatalf("an unchanged record with a failure was written: %d updates", len(written()))
		}
		if got, err := db.GetLoginFailure(ctx, r.ID, ann.ID); err != nil || got.NumFailures != 1 || got.LastIPFailure != "192.0.2.7" {
			t.Fatalf("kept record: %+v %v", got, err)
		}
		// Cleared by a success: written.
		if err := db.UpdateLoginFailure(ctx, r.ID, ann.ID, func(_ *store.DB, f *store.LoginFailure) error {
			*f = store.LoginFailure{}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got, err := db.GetLoginFailure(ctx, r.ID, ann.ID); err != nil || !got.Empty() || len(written()) != 2 {
			t.Fatalf("cleared record: %+v %v, %d updates", got, err, len(written()))
		}
	})
}
