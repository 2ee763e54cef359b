// Package authn checks what a user presents to log in: it finds the user by
// username or email, applies brute-force detection, and verifies the
// password, re-hashing it when the realm's hashing policy has moved on.
// Every login path (the login form, the password grant, the account
// console) goes through Login, so its controls apply to all of them.
package authn

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Checker verifies credentials against the store.
type Checker struct {
	Store *store.DB
	Log   *slog.Logger
	// Hashes bounds the checks that hash at once; nil means the node's
	// default gate. Every check holds a slot from before it reads the user
	// until its hashing is done, so no slot holder ever waits for a
	// transaction that waits for a slot.
	Hashes *HashGate
}

// enter takes a hash slot for one check; see HashGate.
func (c Checker) enter(ctx context.Context) (release func(), err error) {
	g := c.Hashes
	if g == nil {
		g = defaultHashGate()
	}
	return g.Acquire(ctx)
}

// Outcome is what a login attempt came to.
type Outcome int

const (
	// Invalid: unknown user, service account, wrong password, or a user
	// locked by brute-force detection. Callers answer all of them alike
	// ("Invalid user credentials", "Invalid username or password."), so
	// nobody learns which it was.
	Invalid Outcome = iota
	// OK: the password is right and the user may log in. Pending required
	// actions are the caller's to enforce.
	OK
	// Disabled: the password is right but an administrator disabled the
	// user. Only someone who knows the password learns this, as with
	// Keycloak's "Account disabled" on the password grant.
	Disabled
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Disabled:
		return "disabled"
	}
	return "invalid"
}

// PasswordVerifications counts the real password hash verifications made
// (never the dummy ones that hide an unknown or locked user), so that tests
// can show how many guesses brute-force detection let through.
var PasswordVerifications atomic.Int64

const actionUpdatePassword = "UPDATE_PASSWORD"

// Login is the one check of a username and password: it finds the user,
// consults and updates brute-force detection when the realm has it on, and
// verifies the password. ip is the client's address, recorded with a
// failure. Every outcome but a success costs one password verification, a
// dummy one where there is nothing to verify, so that response times do not
// tell unknown, locked and known users apart.
//
// With brute-force detection on, the user's failure record is locked
// before the lock status is read and stays locked until the verification
// and its counting are stored: parallel attempts on one user, on any
// number of nodes, are decided one after another, so a locked user's
// password is never verified and at most failureFactor guesses are.
//
// A right password whose hash is older than the realm's hashing policy is
// re-hashed; one older than forceExpiredPasswordChange adds the
// UPDATE_PASSWORD required action.
//
// When the node's hash gate stays full, Login returns ErrBusy having
// decided and counted nothing.
func (c Checker) Login(ctx context.Context, rl realm.Realm, username, password, ip string, now time.Time) (user.User, Outcome, error) {
	release, err := c.enter(ctx)
	if err != nil {
		return user.User{}, Invalid, err
	}
	defer release()
	u, err := c.FindUser(ctx, rl, username)
	if errors.Is(err, store.ErrNotFound) || err == nil && u.ServiceAccountClientID != "" {
		SpendVerification(password)
		return user.User{}, Invalid, nil
	}
	if err != nil {
		return user.User{}, Invalid, err
	}
	return c.checkUser(ctx, rl, u, password, ip, now)
}

// CheckUser is Login for a user already known, such as the account
// console's check of the current password before a change: the same
// brute-force detection, verification and outcomes.
func (c Checker) CheckUser(ctx context.Context, rl realm.Realm, u user.User, password, ip string, now time.Time) (user.User, Outcome, error) {
	release, err := c.enter(ctx)
	if err != nil {
		return user.User{}, Invalid, err
	}
	defer release()
	return c.checkUser(ctx, rl, u, password, ip, now)
}

func (c Checker) checkUser(ctx context.Context, rl realm.Realm, u user.User, password, ip string, now time.Time) (user.User, Outcome, error) {
	if u.ServiceAccountClientID != "" {
		SpendVerification(password)
		return user.User{}, Invalid, nil
	}
	var (
		err  error
		ok   bool
		cred user.Credential
	)
	if !rl.BruteForceProtected {
		if ok, cred, err = c.verify(ctx, c.Store, u, password); err != nil || !ok {
			return user.User{}, Invalid, err
		}
	} else {
		var outcome Outcome
		if u, outcome, cred, err = c.checkGuarded(ctx, rl, u, password, ip, now); err != nil || outcome != OK {
			return user.User{}, Invalid, err
		}
	}
	if !u.Enabled {
		return user.User{}, Disabled, nil
	}
	c.rehash(ctx, rl, u, cred, password)
	if user.PasswordExpired(rl.PasswordPolicy, cred, now) && !slices.Contains(u.RequiredActions, actionUpdatePassword) {
		err := c.Store.UpdateUser(ctx, rl.ID, u.ID, func(x *user.User) error {
			if !slices.Contains(x.RequiredActions, actionUpdatePassword) {
				x.RequiredActions = append(x.RequiredActions, actionUpdatePassword)
			}
			return nil
		})
		if err != nil {
			return user.User{}, Invalid, err
		}
		u.RequiredActions = append(u.RequiredActions, actionUpdatePassword)
	}
	return u, OK, nil
}

// FindUser looks a login name up as a username, then (where the realm
// allows it) as an email. Ambiguous emails count as unknown.
func (c Checker) FindUser(ctx context.Context, rl realm.Realm, name string) (user.User, error) {
	u, err := c.Store.GetUserByUsername(ctx, rl.ID, name)
	if errors.Is(err, store.ErrNotFound) && rl.LoginWithEmailAllowed && strings.Contains(name, "@") {
		u, err = c.Store.GetUserByEmail(ctx, rl.ID, name)
		if errors.Is(err, store.ErrConflict) {
			err = store.ErrNotFound
		}
	}
	return u, err
}

// CheckPassword verifies a user's password and, when the stored hash is
// older than the realm's policy, re-hashes it (only if nobody changed it
// meanwhile). A user without a password costs one verification anyway.
// It neither consults nor feeds brute-force detection: logins go through
// Login.
func (c Checker) CheckPassword(ctx context.Context, rl realm.Realm, u user.User, password string) (bool, error) {
	release, err := c.enter(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	ok, cred, err := c.verify(ctx, c.Store, u, password)
	if err != nil || !ok {
		return false, err
	}
	c.rehash(ctx, rl, u, cred, password)
	return true, nil
}

// verify checks password against the user's password credential, read
// through db (the caller's transaction, if any).
func (c Checker) verify(ctx context.Context, db *store.DB, u user.User, password string) (bool, user.Credential, error) {
	creds, err := db.ListCredentials(ctx, u.ID)
	if err != nil {
		return false, user.Credential{}, err
	}
	for _, cred := range creds {
		if cred.Type != user.CredentialPassword {
			continue
		}
		PasswordVerifications.Add(1)
		ok, err := user.VerifyPassword(password, cred)
		if err != nil && !errors.Is(err, user.ErrPasswordTooLong) && c.Log != nil {
			// A hash stored before its parameters were bounded, or
			// written to the database by hand: it is never computed, and
			// the user cannot log in until an administrator sets a new
			// password. The error names parameters, never the hash.
			c.Log.WarnContext(ctx, "stored password hash refused", "user", u.ID, "credential", cred.ID, "err", err)
		}
		if err != nil || !ok {
			return false, user.Credential{}, nil
		}
		return true, cred, nil
	}
	SpendVerification(password)
	return false, user.Credential{}, nil
}

// checkGuarded is the password check of a realm with brute-force
// detection: OK with the user as read under the lock and the credential
// that matched, or Invalid.
//
// Attempts on one user are decided one at a time: on this node by a lock
// held in memory (userGuard), across nodes by the lock on the failure
// record. The hash is computed between the two, so the database lock
// (SQLite's single writer, the failure row on PostgreSQL) is held only to
// read and record the outcome, never for a hash. A user found locked before
// hashing is not hashed at all; one that another node locked while this
// node hashed has the verdict ignored. So at most failureFactor guesses,
// plus one per other node, are ever verified.
func (c Checker) checkGuarded(ctx context.Context, rl realm.Realm, u user.User, password, ip string, now time.Time) (user.User, Outcome, user.Credential, error) {
	defer userGuard.lock(rl.ID + "/" + u.ID)()
	for attempt := 0; ; attempt++ {
		lockedBefore, err := c.lockedNow(ctx, rl, u.ID, now)
		if errors.Is(err, store.ErrNotFound) {
			SpendVerification(password) // deleted while we looked
			return u, Invalid, user.Credential{}, nil
		}
		if err != nil {
			return u, Invalid, user.Credential{}, err
		}
		var (
			verified bool
			vcred    user.Credential
		)
		if !lockedBefore {
			if verified, vcred, err = c.verify(ctx, c.Store, u, password); err != nil {
				return u, Invalid, user.Credential{}, err
			}
		}
		var (
			locked, disabled, unlocked, ok bool
			cur                            user.User
		)
		err = c.Store.UpdateLoginFailure(ctx, rl.ID, u.ID, func(tx *store.DB, f *store.LoginFailure) error {
			locked, disabled, unlocked, ok = false, false, false, false
			// Read the user again under the lock: an attempt that was
			// decided meanwhile may have disabled it.
			var err error
			if cur, err = tx.GetUser(ctx, rl.ID, u.ID); err != nil {
				return err
			}
			if err := forgetReenabled(ctx, tx, rl, &cur, f); err != nil {
				return err
			}
			if lockedOut(rl, cur, *f, now) {
				// Not counted: Keycloak ignores failures during a lock.
				locked = true
				return nil
			}
			if lockedBefore {
				// Unlocked since it was read: this attempt was not
				// verified, so it is decided again from the start.
				unlocked = true
				return nil
			}
			if verified {
				// The password matched the credential read before the
				// lock; it counts only if that is still the user's.
				if ok, err = passwordUnchanged(ctx, tx, cur, vcred); err != nil {
					return err
				}
			}
			switch {
			case !ok:
				if fail(rl, f, now, ip) && cur.Enabled {
					disabled = true
					return disablePermanently(ctx, tx, rl.ID, &cur)
				}
			case cur.Enabled:
				*f = store.LoginFailure{}
			}
			return nil
		})
		if errors.Is(err, store.ErrNotFound) {
			// Deleted while we looked.
			if lockedBefore {
				SpendVerification(password)
			}
			return u, Invalid, user.Credential{}, nil
		}
		if err != nil {
			return u, Invalid, user.Credential{}, err
		}
		if unlocked && attempt == 0 {
			continue
		}
		if disabled && c.Log != nil {
			c.Log.WarnContext(ctx, "user disabled by brute-force detection", "realm", rl.Name, "user", u.ID, "ip", ip)
		}
		if locked || unlocked {
			if c.Log != nil {
				c.Log.InfoContext(ctx, "login refused: user locked by brute-force detection", "realm", rl.Name, "user", u.ID, "ip", ip)
			}
			if lockedBefore {
				SpendVerification(password) // as long as a verification
			}
			return u, Invalid, user.Credential{}, nil
		}
		if !ok {
			return u, Invalid, user.Credential{}, nil
		}
		return cur, OK, vcred, nil
	}
}

// lockedNow reports whether brute-force detection would refuse the user
// now, as UpdateLoginFailure's check would decide it, without taking a
// lock or writing anything.
func (c Checker) lockedNow(ctx context.Context, rl realm.Realm, userID string, now time.Time) (bool, error) {
	u, err := c.Store.GetUser(ctx, rl.ID, userID)
	if err != nil {
		return false, err
	}
	f, err := c.Store.GetLoginFailure(ctx, rl.ID, userID)
	if errors.Is(err, store.ErrNotFound) {
		f, err = store.LoginFailure{}, nil
	}
	if err != nil {
		return false, err
	}
	if u.Enabled {
		if recordLocksPermanently(rl, f) {
			f = store.LoginFailure{} // forgetReenabled clears it
		}
	}
	return lockedOut(rl, u, f, now), nil
}

// passwordUnchanged reports whether cred, read and verified before tx
// began, is still u's password credential, hash unchanged: a password set
// meanwhile makes the verification moot.
func passwordUnchanged(ctx context.Context, tx *store.DB, u user.User, cred user.Credential) (bool, error) {
	creds, err := tx.ListCredentials(ctx, u.ID)
	if err != nil {
		return false, err
	}
	for _, c := range creds {
		if c.Type == user.CredentialPassword {
			return c.ID == cred.ID && c.SecretData == cred.SecretData, nil
		}
	}
	return false, nil
}

// rehash stores a just-verified password hashed by the realm's current
// policy when its stored hash is older; a concurrent password change wins.
func (c Checker) rehash(ctx context.Context, rl realm.Realm, u user.User, cred user.Credential, password string) {
	policy := user.ParseHashPolicy(rl.PasswordPolicy)
	if !user.NeedsRehash(cred, policy) {
		return
	}
	sd, cd, err := user.HashPassword(password, policy)
	if err != nil {
		return
	}
	if err := c.Store.UpdateCredentialSecret(ctx, cred.ID, cred.SecretData, sd, cd); err != nil && !errors.Is(err, store.ErrNotFound) && c.Log != nil {
		c.Log.WarnContext(ctx, "re-hash password", "user", u.ID, "err", err)
	}
}

var (
	dummyOnce sync.Once
	dummy     user.Credential
)

// SpendVerification costs what verifying a real password costs, so that an
// unknown user or a user without a password cannot be told apart from a
// wrong password by response time.
func SpendVerification(password string) {
	dummyOnce.Do(func() {
		var err error
		dummy, err = user.NewPasswordCredential("dummy", "dummy", "gatehouse-dummy-password", 0, user.HashPolicy{})
		if err != nil {
			panic(err)
		}
	})
	user.VerifyPassword(password, dummy)
}
