package authn

import (
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func bfRealm(edit func(*realm.Realm)) realm.Realm {
	r := realm.New("r", "r")
	r.BruteForceProtected = true
	edit(&r)
	return r
}

// lockAt is the lockout a failure imposed: seconds from the failure to
// LockedUntil, or 0 when that failure set none.
type step struct {
	wait    int // seconds of lock set by this failure, 0 for none
	disable bool
}

// failures records n failures, gap apart, and returns what each imposed.
func failures(rl realm.Realm, f *store.LoginFailure, from time.Time, gap time.Duration, n int) []step {
	var out []step
	for i := range n {
		now := from.Add(time.Duration(i) * gap)
		before := f.LockedUntil
		disable := fail(rl, f, now, "192.0.2.1")
		s := step{disable: disable}
		if f.LockedUntil != before {
			s.wait = int((f.LockedUntil - now.UnixMilli()) / 1000)
		}
		out = append(out, s)
	}
	return out
}

func waits(steps []step) []int {
	var out []int
	for _, s := range steps {
		out = append(out, s.wait)
	}
	return out
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTemporaryLockoutMath(t *testing.T) {
	docs := func(strategy string) realm.Realm {
		return bfRealm(func(r *realm.Realm) {
			r.FailureFactor, r.WaitIncrementSeconds, r.BruteForceStrategy = 5, 30, strategy
		})
	}
	for _, tc := range []struct {
		name  string
		rl    realm.Realm
		n     int
		waits []int
	}{
		// The examples of Keycloak's brute-force documentation.
		{"MULTIPLE: 30 s at failures 5 to 9, 60 s at 10", docs("MULTIPLE"), 10, []int{0, 0, 0, 0, 30, 30, 30, 30, 30, 60}},
		{"LINEAR: 30, 60, 90, 120, 150, 180 s at failures 5 to 10", docs("LINEAR"), 10, []int{0, 0, 0, 0, 30, 60, 90, 120, 150, 180}},
		{"LINEAR is capped by max wait", bfRealm(func(r *realm.Realm) {
			r.FailureFactor, r.WaitIncrementSeconds, r.BruteForceStrategy, r.MaxFailureWaitSeconds = 5, 30, "LINEAR", 100
		}), 8, []int{0, 0, 0, 0, 30, 60, 90, 100}},
		// SECURITY.md F11: failureFactor 3, 60 s, max 900, MULTIPLE.
		{"F11: 60, 120, 180 s after failures 3, 6, 9", bfRealm(func(r *realm.Realm) {
			r.FailureFactor, r.WaitIncrementSeconds, r.MaxFailureWaitSeconds = 3, 60, 900
		}), 9, []int{0, 0, 60, 60, 60, 120, 120, 120, 180}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f store.LoginFailure
			// Two seconds apart: never a quick login.
			got := failures(tc.rl, &f, t0, 2*time.Second, tc.n)
			if !equal(waits(got), tc.waits) {
				t.Fatalf("waits %v, want %v", waits(got), tc.waits)
			}
			for i, s := range got {
				if s.disable {
					t.Fatalf("failure %d disabled the user in temporary mode", i+1)
				}
			}
			if f.NumFailures != tc.n || f.LastIPFailure != "192.0.2.1" || f.LastFailure != t0.Add(time.Duration(tc.n-1)*2*time.Second).UnixMilli() {
				t.Fatalf("record %+v", f)
			}
		})
	}

	t.Run("F11: the cap is 900 s", func(t *testing.T) {
		rl := bfRealm(func(r *realm.Realm) { r.FailureFactor, r.WaitIncrementSeconds, r.MaxFailureWaitSeconds = 3, 60, 900 })
		f := store.LoginFailure{NumFailures: 47, LastFailure: t0.Add(-time.Hour).UnixMilli()}
		fail(rl, &f, t0, "")
		if got := (f.LockedUntil - t0.UnixMilli()) / 1000; got != 900 {
			t.Fatalf("48th failure locks for %d s", got)
		}
	})
}

func TestQuickLoginCheck(t *testing.T) {
	rl := bfRealm(func(r *realm.Realm) { r.FailureFactor = 30 }) // defaults: 1000 ms, 60 s
	var f store.LoginFailure
	if s := failures(rl, &f, t0, 0, 1); s[0].wait != 0 {
		t.Fatalf("a first failure is never quick: %v", s)
	}
	fail(rl, &f, t0.Add(999*time.Millisecond), "")
	if got := f.LockedUntil - t0.Add(999*time.Millisecond).UnixMilli(); got != 60_000 {
		t.Fatalf("quick failure locks for %d ms", got)
	}
	if f.NumTemporaryLockouts != 0 {
		t.Fatalf("a quick lock counted as a temporary lockout: %+v", f)
	}
	before := f.LockedUntil
	fail(rl, &f, t0.Add(2999*time.Millisecond), "")
	if f.LockedUntil != before {
		t.Fatal("a failure 2 s later was taken as quick")
	}
}

func TestMaxDeltaReset(t *testing.T) {
	rl := bfRealm(func(r *realm.Realm) { r.FailureFactor, r.MaxDeltaTimeSeconds = 5, 3600 })
	var f store.LoginFailure
	failures(rl, &f, t0, 2*time.Second, 4)
	last := t0.Add(6 * time.Second)
	fail(rl, &f, last.Add(time.Hour), "") // exactly max delta: kept
	if f.NumFailures != 5 || f.LockedUntil == 0 {
		t.Fatalf("a failure max delta after the last one reset the count: %+v", f)
	}
	fail(rl, &f, last.Add(2*time.Hour+time.Millisecond), "192.0.2.9")
	if f.NumFailures != 1 || f.NumTemporaryLockouts != 0 || f.LockedUntil != 0 || f.LastIPFailure != "192.0.2.9" {
		t.Fatalf("a failure beyond max delta did not start over: %+v", f)
	}
}

func TestPermanentLockout(t *testing.T) {
	rl := bfRealm(func(r *realm.Realm) { r.PermanentLockout, r.FailureFactor, r.MaxDeltaTimeSeconds = true, 3, 60 })
	var f store.LoginFailure
	got := failures(rl, &f, t0, 2*time.Second, 2)
	if got[0].disable || got[1].disable || f.LockedUntil != 0 {
		t.Fatalf("below the threshold: %v %+v", got, f)
	}
	// Failure records never expire in permanent mode.
	if !fail(rl, &f, t0.Add(24*time.Hour), "") || f.NumFailures != 3 {
		t.Fatalf("third failure a day later: %+v", f)
	}

	// A quick failure still imposes the quick wait, uncapped.
	rl.MaxFailureWaitSeconds, rl.MinimumQuickLoginWaitSeconds = 10, 120
	f = store.LoginFailure{}
	fail(rl, &f, t0, "")
	if fail(rl, &f, t0.Add(10*time.Millisecond), "") {
		t.Fatal("second failure disabled with factor 3")
	}
	if got := f.LockedUntil - t0.Add(10*time.Millisecond).UnixMilli(); got != 120_000 || f.NumTemporaryLockouts != 0 {
		t.Fatalf("quick failure in permanent mode: %d ms, %+v", got, f)
	}
}

func TestMixedLockout(t *testing.T) {
	// Lockout permanently after one temporary lockout.
	rl := bfRealm(func(r *realm.Realm) {
		r.PermanentLockout, r.MaxTemporaryLockouts, r.FailureFactor, r.WaitIncrementSeconds = true, 1, 3, 60
	})
	var f store.LoginFailure
	got := failures(rl, &f, t0, 2*time.Second, 3)
	if got[2].wait != 60 || got[2].disable || f.NumTemporaryLockouts != 1 {
		t.Fatalf("third failure: %v %+v", got, f)
	}
	// After the lock: the next failure is a second lockout, beyond the one allowed.
	before := f.LockedUntil
	if !fail(rl, &f, t0.Add(2*time.Minute), "") {
		t.Fatalf("second lockout did not disable: %+v", f)
	}
	if f.LockedUntil != before || f.NumTemporaryLockouts != 2 {
		t.Fatalf("a permanent lockout also set a temporary one: %+v", f)
	}
	if !permanentlyLocked(rl, user.User{Enabled: true}, f) {
		t.Fatal("the record alone is a permanent lockout")
	}
}

func TestLockedOut(t *testing.T) {
	rl := bfRealm(func(r *realm.Realm) {})
	enabled := user.User{Enabled: true}
	marked := user.User{Attributes: map[string][]string{AttrDisabledReason: {DisabledByPermanentLockout}}}
	adminDisabled := user.User{}
	lock := store.LoginFailure{NumFailures: 1, LockedUntil: t0.UnixMilli() + 1000}
	for _, tc := range []struct {
		name string
		u    user.User
		f    store.LoginFailure
		now  time.Time
		want bool
	}{
		{"no record", enabled, store.LoginFailure{}, t0, false},
		{"inside a temporary lock", enabled, lock, t0, true},
		{"at its end", enabled, lock, t0.Add(time.Second), false},
		{"disabled by brute force", marked, store.LoginFailure{}, t0, true},
		{"disabled by an administrator is not a lockout", adminDisabled, store.LoginFailure{}, t0, false},
	} {
		if got := lockedOut(rl, tc.u, tc.f, tc.now); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}
