package authn

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"math"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Brute-force detection with Keycloak's semantics (DefaultBruteForceProtector,
// Keycloak 24+; SECURITY.md §5.2). Three modes:
//
//   - temporary (permanentLockout off): each failure may lock the user for a
//     while, longer as failures add up;
//   - permanent (permanentLockout on, maxTemporaryLockouts 0): the
//     failureFactor-th failure disables the user;
//   - mixed (permanentLockout on, maxTemporaryLockouts > 0): temporary
//     lockouts, and the one beyond maxTemporaryLockouts disables the user.
//
// A failure made while the user is locked is not counted; a success clears
// the record. Disabling sets the user's enabled flag off and the attribute
// disabledReason=permanentLockout, exactly as Keycloak does, so that an
// administrator sees and lifts it the same way.

// Keycloak's user attribute for why a user is disabled, and its value for a
// brute-force lockout (UserModel.DISABLED_REASON,
// BruteForceProtector.DISABLED_BY_PERMANENT_LOCKOUT).
const (
	AttrDisabledReason         = "disabledReason"
	DisabledByPermanentLockout = "permanentLockout"
)

// failureFactor guards the division: Keycloak's console requires at least 1.
func failureFactor(rl realm.Realm) int { return max(rl.FailureFactor, 1) }

// permanentOnly is the permanent mode: no temporary lockouts at all.
func permanentOnly(rl realm.Realm) bool { return rl.PermanentLockout && rl.MaxTemporaryLockouts == 0 }

// fail counts one failed login at now from ip into f and reports whether the
// user must now be disabled permanently.
func fail(rl realm.Realm, f *store.LoginFailure, now time.Time, ip string) (disable bool) {
	last := f.LastFailure
	// An attempt that waited for the record's lock may be counted after
	// one that started later: take it as simultaneous, so time never runs
	// backwards in the record.
	nowMs := max(now.UnixMilli(), last)
	var delta int64
	if last > 0 {
		delta = nowMs - last
	}
	// Failures older than maxDeltaTimeSeconds, measured from the last one,
	// are forgotten; in permanent mode they never are. (Keycloak's
	// clearFailures also forgets the time and address of the failure being
	// counted; they are kept here, which only matters to the next quick
	// login check and the admin status.)
	if !permanentOnly(rl) && delta > int64(rl.MaxDeltaTimeSeconds)*1000 {
		*f = store.LoginFailure{}
	}
	f.LastFailure, f.LastIPFailure = nowMs, ip
	f.NumFailures++

	wait := 0 // seconds
	if !permanentOnly(rl) {
		if rl.BruteForceStrategy == "LINEAR" {
			wait = rl.WaitIncrementSeconds * (1 + f.NumFailures - failureFactor(rl))
		} else {
			wait = rl.WaitIncrementSeconds * (f.NumFailures / failureFactor(rl))
		}
	}
	// Two failures closer than a person types are a machine's: lock
	// briefly even below the threshold.
	quick := false
	if wait <= 0 && last > 0 && delta < rl.QuickLoginCheckMilliSeconds {
		wait, quick = rl.MinimumQuickLoginWaitSeconds, true
	}
	if wait > 0 {
		if !permanentOnly(rl) {
			wait = min(wait, rl.MaxFailureWaitSeconds)
		}
		if !quick {
			f.NumTemporaryLockouts++
		}
		if quick || !rl.PermanentLockout || f.NumTemporaryLockouts <= rl.MaxTemporaryLockouts {
			f.LockedUntil = nowMs + int64(wait)*1000
		}
	}
	return recordLocksPermanently(rl, *f)
}

// disabledByLockout reports whether u carries the permanent-lockout mark.
func disabledByLockout(u user.User) bool {
	v := u.Attributes[AttrDisabledReason]
	return len(v) > 0 && v[0] == DisabledByPermanentLockout
}

// recordLocksPermanently reports whether f alone amounts to a permanent
// lockout (Keycloak's re-check in isPermanentlyLockedOut, plus the
// permanent mode's threshold).
func recordLocksPermanently(rl realm.Realm, f store.LoginFailure) bool {
	return rl.PermanentLockout && (f.NumTemporaryLockouts > rl.MaxTemporaryLockouts ||
		rl.MaxTemporaryLockouts == 0 && f.NumFailures >= failureFactor(rl))
}

// permanentlyLocked is Keycloak's isPermanentlyLockedOut.
func permanentlyLocked(rl realm.Realm, u user.User, f store.LoginFailure) bool {
	return !u.Enabled && disabledByLockout(u) || recordLocksPermanently(rl, f)
}

// temporarilyLocked is Keycloak's isTemporarilyDisabled.
func temporarilyLocked(f store.LoginFailure, now time.Time) bool {
	return now.UnixMilli() < f.LockedUntil
}

// lockedOut reports whether brute-force detection refuses u without looking
// at the password.
func lockedOut(rl realm.Realm, u user.User, f store.LoginFailure, now time.Time) bool {
	return permanentlyLocked(rl, u, f) || temporarilyLocked(f, now)
}

// forgetReenabled clears what a permanent lockout left on a user that is
// enabled again: the failure record that caused it and the lockout mark.
// Keycloak clears both when an administrator enables the user; doing it
// here too covers every way a user gets enabled (admin API, realm import),
// so that a re-enabled user is not locked again by a stale record at the
// first typo.
func forgetReenabled(ctx context.Context, tx *store.DB, rl realm.Realm, u *user.User, f *store.LoginFailure) error {
	if !u.Enabled {
		return nil
	}
	if recordLocksPermanently(rl, *f) {
		*f = store.LoginFailure{}
	}
	if !disabledByLockout(*u) {
		return nil
	}
	u.Attributes = maps.Clone(u.Attributes)
	delete(u.Attributes, AttrDisabledReason)
	return tx.UpdateUser(ctx, rl.ID, u.ID, func(x *user.User) error {
		if disabledByLockout(*x) {
			delete(x.Attributes, AttrDisabledReason)
		}
		return nil
	})
}

// disablePermanently disables u with Keycloak's lockout mark.
func disablePermanently(ctx context.Context, tx *store.DB, realmID string, u *user.User) error {
	set := func(x *user.User) error {
		x.Enabled = false
		x.Attributes = maps.Clone(x.Attributes)
		if x.Attributes == nil {
			x.Attributes = map[string][]string{}
		}
		x.Attributes[AttrDisabledReason] = []string{DisabledByPermanentLockout}
		return nil
	}
	set(u)
	return tx.UpdateUser(ctx, realmID, u.ID, set)
}

// Verdict is what brute-force detection made of one attempt (Attempt).
type Verdict int

const (
	// Accepted: the secret was right.
	Accepted Verdict = iota
	// Refused: the secret was wrong; with detection on, the failure is
	// counted.
	Refused
	// Locked: the user is locked out, so the secret was not looked at and
	// nothing was counted.
	Locked
	// Gone: the user was deleted meanwhile.
	Gone
)

// Attempt is the one place where a secret a user presents to log in (a
// password, an OTP code) meets brute-force detection, so that every kind
// of guess counts toward the same lockout. verify checks the secret for
// the user as stored (cur) and must read and write through tx.
//
// With the realm's detection off, verify runs with db and nothing is
// counted. With it on, the user's failure record is locked first and stays
// locked until the outcome is stored: the user is read again under the
// lock, a locked-out user is Locked without calling verify, a wrong secret
// is counted (and may disable the user permanently), and a right one
// clears the record. Parallel attempts on one user, on any number of
// nodes, are thus decided one after another. ip is the client's address,
// kept with a failure; log (may be nil) gets the lockout events, never the
// secret.
func Attempt(ctx context.Context, db *store.DB, log *slog.Logger, rl realm.Realm, u user.User, ip string, now time.Time,
	verify func(tx *store.DB, cur user.User) (bool, error)) (user.User, Verdict, error) {
	if !rl.BruteForceProtected {
		ok, err := verify(db, u)
		if err != nil || !ok {
			return u, Refused, err
		}
		return u, Accepted, nil
	}
	var ok, locked, disabled bool
	err := db.UpdateLoginFailure(ctx, rl.ID, u.ID, func(tx *store.DB, f *store.LoginFailure) error {
		ok, locked, disabled = false, false, false
		// Read the user again under the lock: an attempt that was
		// decided while this one waited may have disabled it.
		cur, err := tx.GetUser(ctx, rl.ID, u.ID)
		if err != nil {
			return err
		}
		u = cur
		if err := forgetReenabled(ctx, tx, rl, &u, f); err != nil {
			return err
		}
		if lockedOut(rl, u, *f, now) {
			// Not counted: Keycloak ignores failures during a lock.
			locked = true
			return nil
		}
		if ok, err = verify(tx, u); err != nil {
			return err
		}
		switch {
		case !ok:
			if fail(rl, f, now, ip) && u.Enabled {
				disabled = true
				return disablePermanently(ctx, tx, rl.ID, &u)
			}
		case u.Enabled:
			*f = store.LoginFailure{}
		}
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return u, Gone, nil
	case err != nil:
		return u, Refused, err
	}
	if disabled && log != nil {
		log.WarnContext(ctx, "user disabled by brute-force detection", "realm", rl.Name, "user", u.ID, "ip", ip)
	}
	switch {
	case locked:
		if log != nil {
			log.InfoContext(ctx, "login refused: user locked by brute-force detection", "realm", rl.Name, "user", u.ID, "ip", ip)
		}
		return u, Locked, nil
	case !ok:
		return u, Refused, nil
	}
	return u, Accepted, nil
}

// Unlock is what Keycloak does when an administrator sets enabled=true on
// a user (UserResource.updateUser): if the user was disabled or is
// temporarily locked, its failures are forgotten, and the permanent-lockout
// mark is removed. Call it with the user as it was before the change,
// inside the transaction that enables it.
func Unlock(ctx context.Context, tx *store.DB, rl realm.Realm, before user.User, now time.Time) error {
	f, err := tx.GetLoginFailure(ctx, rl.ID, before.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err == nil && (!before.Enabled || temporarilyLocked(f, now)) {
		if err := tx.DeleteLoginFailure(ctx, rl.ID, before.ID); err != nil {
			return err
		}
	}
	if !disabledByLockout(before) {
		return nil
	}
	return tx.UpdateUser(ctx, rl.ID, before.ID, func(x *user.User) error {
		delete(x.Attributes, AttrDisabledReason)
		return nil
	})
}

// Status is a user's brute-force status as Keycloak's admin API reports it
// (AttackDetectionResource.bruteForceUserStatus).
type Status struct {
	// Disabled: locked now, temporarily or permanently.
	Disabled             bool
	NumFailures          int
	NumTemporaryLockouts int
	LastFailure          int64  // epoch ms, 0 when none
	LastIPFailure        string // "n/a" when none
	// FailedLoginNotBefore is when a temporary lockout ends (epoch
	// seconds), math.MaxInt64 for a permanent one, 0 when not locked.
	FailedLoginNotBefore int64
}

// Status reads a user's brute-force status. A realm without brute-force
// detection, and a user without failures, report Keycloak's defaults.
func (c Checker) Status(ctx context.Context, rl realm.Realm, userID string, now time.Time) (Status, error) {
	s := Status{LastIPFailure: "n/a"}
	if !rl.BruteForceProtected {
		return s, nil
	}
	f, err := c.Store.GetLoginFailure(ctx, rl.ID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	u, err := c.Store.GetUser(ctx, rl.ID, userID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.Disabled = temporarilyLocked(f, now)
	case err != nil:
		return s, err
	default:
		if u.Enabled && recordLocksPermanently(rl, f) {
			// Enabled again since: the next login forgets the record.
			return s, nil
		}
		s.Disabled = lockedOut(rl, u, f, now)
	}
	if f.Empty() {
		return s, nil
	}
	if s.Disabled {
		s.FailedLoginNotBefore = math.MaxInt64
		if temporarilyLocked(f, now) {
			s.FailedLoginNotBefore = f.LockedUntil / 1000
		}
	}
	s.NumFailures, s.NumTemporaryLockouts = f.NumFailures, f.NumTemporaryLockouts
	s.LastFailure, s.LastIPFailure = f.LastFailure, f.LastIPFailure
	return s, nil
}

type clientIPKey struct{}

// WithClientIP returns ctx carrying the client's address, which Attempt
// callers that know no request (the OTP check) read with ClientIP to keep
// it with a failure.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIP is the address WithClientIP put in ctx, "" when none.
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

// keyedLocks orders work per key within this process; an entry lives only
// while someone holds or waits for it.
type keyedLocks struct {
	mu sync.Mutex
	m  map[string]*keyedLock
}

type keyedLock struct {
	mu   sync.Mutex
	refs int
}

// lock waits for key's lock and returns its release.
func (k *keyedLocks) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyedLock{}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

// userGuard orders this node's password checks of one user (the key is
// realm and user id) in a realm with brute-force detection.
var userGuard keyedLocks
