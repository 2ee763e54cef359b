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

	"github.com/gatehouse-iam/gatehouse/internal/federation"
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
	// Now stamps users imported from a user storage provider during a
	// lookup; nil means the wall clock.
	Now func() time.Time
}

func (c Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
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
	// The lookup comes before a hash slot is taken: for a name a user
	// storage provider answers it is network work bounded by the
	// provider's timeouts, and a slow directory must never hold the slots
	// that local users' logins need.
	u, err := c.FindUser(ctx, rl, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return user.User{}, Invalid, err
	}
	unknown := err != nil || u.ServiceAccountClientID != ""
	if !unknown {
		bind, err := c.directoryChecked(ctx, u)
		if err != nil {
			return user.User{}, Invalid, err
		}
		if bind {
			return c.checkUser(ctx, rl, u, password, ip, now)
		}
	}
	release, err := c.enter(ctx)
	if err != nil {
		return user.User{}, Invalid, err
	}
	defer release()
	if unknown {
		SpendVerification(password)
		return user.User{}, Invalid, nil
	}
	return c.checkUser(ctx, rl, u, password, ip, now)
}

// directoryChecked reports whether u's password is checked by a bind to
// its user storage provider, which hashes nothing here and so takes no
// hash slot.
func (c Checker) directoryChecked(ctx context.Context, u user.User) (bool, error) {
	if u.FederationLink == "" {
		return false, nil
	}
	creds, err := c.Store.ListCredentials(ctx, u.ID)
	if err != nil {
		return false, err
	}
	return !slices.ContainsFunc(creds, func(c user.Credential) bool { return c.Type == user.CredentialPassword }), nil
}

// CheckUser is Login for a user already known, such as the account
// console's check of the current password before a change: the same
// brute-force detection, verification and outcomes.
func (c Checker) CheckUser(ctx context.Context, rl realm.Realm, u user.User, password, ip string, now time.Time) (user.User, Outcome, error) {
	if bind, err := c.directoryChecked(ctx, u); err != nil || bind {
		if err != nil {
			return user.User{}, Invalid, err
		}
		return c.checkUser(ctx, rl, u, password, ip, now)
	}
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
		ok   bool
		cred user.Credential
	)
	verify := func(tx *store.DB, cur user.User) (bool, error) {
		var err error
		ok, cred, err = c.verify(ctx, tx, cur, password)
		return ok, err
	}
	if rl.BruteForceProtected {
		// The hash runs before Attempt takes the failure record's lock,
		// so that lock (SQLite's single writer, the row on PostgreSQL)
		// is held to read and record the outcome, not for a hash. This
		// node's checks of one user wait for one another instead, so a
		// user found locked beforehand is never hashed; a verdict reached
		// while another node locked the user is ignored by Attempt.
		defer userGuard.lock(rl.ID + "/" + u.ID)()
		locked, err := c.lockedNow(ctx, rl, u.ID, now)
		if errors.Is(err, store.ErrNotFound) {
			SpendVerification(password)
			return user.User{}, Invalid, nil
		}
		if err != nil {
			return user.User{}, Invalid, err
		}
		if !locked {
			pre, precred, err := c.verify(ctx, c.Store, u, password)
			if err != nil {
				return user.User{}, Invalid, err
			}
			verify = func(tx *store.DB, cur user.User) (bool, error) {
				if !pre {
					return false, nil
				}
				// The match counts only if the credential is still the
				// user's: a password set meanwhile makes it moot.
				var err error
				ok, err = passwordUnchanged(ctx, tx, cur, precred)
				cred = precred
				return ok, err
			}
		}
		// Found locked: Attempt refuses without verifying, unless the user
		// was unlocked meanwhile, when the check runs under the lock.
	}
	u, verdict, err := Attempt(ctx, c.Store, c.Log, rl, u, ip, now, verify)
	if err != nil {
		return user.User{}, Invalid, err
	}
	switch verdict {
	case Locked, Gone:
		if u.FederationLink == "" { // a bind-checked user holds no hash slot
			SpendVerification(password)
		}
		return user.User{}, Invalid, nil
	case Refused:
		return user.User{}, Invalid, nil
	}
	if !u.Enabled {
		return user.User{}, Disabled, nil
	}
	if cred.ID == "" {
		// Checked by the user's storage provider, which owns its expiry.
		return u, OK, nil
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
//
// Local users are found first, so that no directory outage ever stands
// between them and a login. A user linked to a user storage provider is
// re-read from it (federation.Refresh: gone there means unknown here); a
// name nobody here has is looked up in the realm's providers by priority
// and imported (federation.Lookup). A provider that cannot be reached is
// a *federation.UnavailableError: nothing decided, nobody locked out.
func (c Checker) FindUser(ctx context.Context, rl realm.Realm, name string) (user.User, error) {
	u, err := c.Store.GetUserByUsername(ctx, rl.ID, name)
	if errors.Is(err, store.ErrNotFound) && rl.LoginWithEmailAllowed && strings.Contains(name, "@") {
		u, err = c.Store.GetUserByEmail(ctx, rl.ID, name)
		if errors.Is(err, store.ErrConflict) {
			err = store.ErrNotFound
		}
	}
	switch {
	case err == nil && u.FederationLink == "":
		return u, nil
	case err == nil:
		u, err = federation.Refresh(ctx, c.Store, rl, u, c.now())
	case errors.Is(err, store.ErrNotFound):
		u, err = federation.Lookup(ctx, c.Store, rl, name, c.now())
	}
	if errors.Is(err, store.ErrConflict) {
		// A directory entry whose username or email another user holds
		// here: ambiguous, so unknown, as for duplicate emails.
		err = store.ErrNotFound
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
	if cred.ID != "" {
		c.rehash(ctx, rl, u, cred, password)
	}
	return true, nil
}

// verify checks password against the user's password credential, read
// through db (the caller's transaction, if any). A federated user's
// password is checked by its provider (a bind; the zero Credential on
// success), unless the provider keeps passwords set here (UNSYNCED). A
// provider that cannot be reached is an error, never a wrong password.
func (c Checker) verify(ctx context.Context, db *store.DB, u user.User, password string) (bool, user.Credential, error) {
	creds, err := db.ListCredentials(ctx, u.ID)
	if err != nil {
		return false, user.Credential{}, err
	}
	if u.FederationLink != "" {
		p, err := federation.ProviderOf(ctx, db, u)
		if errors.Is(err, store.ErrNotFound) {
			SpendVerification(password)
			return false, user.Credential{}, nil
		}
		if err != nil {
			return false, user.Credential{}, err
		}
		hasLocal := slices.ContainsFunc(creds, func(c user.Credential) bool { return c.Type == user.CredentialPassword })
		if federation.Source(p, hasLocal) == federation.Directory {
			ok, err := federation.CheckPassword(ctx, p, u, password)
			return ok, user.Credential{}, err
		}
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

// lockedNow reports whether Attempt would find the user locked out now,
// without taking a lock or writing anything.
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
	if u.Enabled && recordLocksPermanently(rl, f) {
		f = store.LoginFailure{} // what forgetReenabled does under the lock
	}
	return lockedOut(rl, u, f, now), nil
}

// passwordUnchanged reports whether cred, read and verified before tx
// began, is still u's password credential, hash unchanged.
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
	// A password checked by a user storage provider (no credential) still
	// counts when none was set here meanwhile.
	return cred.ID == "", nil
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
