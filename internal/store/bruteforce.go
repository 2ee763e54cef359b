package store

import (
	"context"
	"errors"
	"fmt"
)

// LoginFailure is a user's brute-force record, Keycloak's
// UserLoginFailureModel: what authn needs to decide whether the user is
// locked and for how long. The rules live in authn; the store keeps the
// record and the lock around a decision.
type LoginFailure struct {
	RealmID string
	UserID  string
	// NumFailures counts failed logins since the last success, reset or
	// clearing.
	NumFailures int
	// LastFailure is when the last counted failure happened, epoch ms.
	LastFailure   int64
	LastIPFailure string
	// NumTemporaryLockouts counts the temporary lockouts imposed, for
	// "lockout permanently after temporary lockout".
	NumTemporaryLockouts int
	// LockedUntil (epoch ms) ends the current temporary lockout; the user
	// is locked while now < LockedUntil.
	LockedUntil int64
}

// Empty reports whether the record holds nothing worth keeping: such a
// record is deleted rather than stored.
func (f LoginFailure) Empty() bool {
	return f.NumFailures == 0 && f.LastFailure == 0 && f.NumTemporaryLockouts == 0 && f.LockedUntil == 0
}

const loginFailureCols = `realm_id, user_id, num_failures, last_failure, last_ip, num_temporary_lockouts, locked_until`

func scanLoginFailure(sc interface{ Scan(...any) error }) (LoginFailure, error) {
	var f LoginFailure
	if err := sc.Scan(&f.RealmID, &f.UserID, &f.NumFailures, &f.LastFailure, &f.LastIPFailure,
		&f.NumTemporaryLockouts, &f.LockedUntil); err != nil {
		return LoginFailure{}, mapErr(err)
	}
	return f, nil
}

// GetLoginFailure loads a user's failure record; ErrNotFound when the user
// has none.
func (s *DB) GetLoginFailure(ctx context.Context, realmID, userID string) (LoginFailure, error) {
	return scanLoginFailure(s.queryRow(ctx, `SELECT `+loginFailureCols+` FROM login_failures
		WHERE realm_id = $1 AND user_id = $2`, realmID, userID))
}

// UpdateLoginFailure runs fn on a user's failure record (a zero record when
// there is none) while holding a lock on it, then stores what fn left. fn
// runs inside the transaction and must use tx, never the outer DB, for
// anything else it reads or writes (the user's credentials, disabling the
// user): on SQLite a second connection would wait for the lock this
// transaction holds. realmID must be the user's realm.
//
// The lock is what makes brute-force counting exact across nodes: every
// attempt on one user, on any node, decides and counts in turn. On
// PostgreSQL the row is inserted first (ON CONFLICT DO NOTHING, which takes
// no lock on an existing row) so that SELECT ... FOR UPDATE has a row to
// lock even before the user's first failure; SQLite's IMMEDIATE
// transactions hold the database write lock from BEGIN. The lock is held
// for as long as fn runs, a password verification included, so keep fn to
// one user's check.
//
// A record that fn leaves as it was is not written again. A record that fn
// empties (a successful login) is kept with zeros rather than deleted, as
// Keycloak clears rather than removes it: a transaction waiting for the row
// lock would otherwise find the row gone.
func (s *DB) UpdateLoginFailure(ctx context.Context, realmID, userID string, fn func(tx *DB, f *LoginFailure) error) error {
	return s.InTx(ctx, func(tx *DB) error {
		f, err := tx.lockLoginFailure(ctx, realmID, userID)
		if err != nil {
			return err
		}
		before := f
		if err := fn(tx, &f); err != nil {
			return err
		}
		// The keys are not fn's to change: a success clears the record
		// whole (LoginFailure{}), which is no change on an empty one.
		f.RealmID, f.UserID = before.RealmID, before.UserID
		if f == before {
			// Nothing to store (a right password with no failure to
			// clear, the common login): no write, so SQLite appends no
			// page to its log and PostgreSQL leaves no dead row behind.
			return nil
		}
		return oneRow(tx.exec(ctx, `UPDATE login_failures SET num_failures = $3, last_failure = $4, last_ip = $5,
			num_temporary_lockouts = $6, locked_until = $7 WHERE realm_id = $1 AND user_id = $2`,
			realmID, userID, f.NumFailures, f.LastFailure, f.LastIPFailure, f.NumTemporaryLockouts, f.LockedUntil))
	})
}

// lockLoginFailure makes sure the user's record exists and locks it.
func (s *DB) lockLoginFailure(ctx context.Context, realmID, userID string) (LoginFailure, error) {
	for attempt := 0; ; attempt++ {
		// Only for a user of this realm: the foreign keys check each id
		// alone.
		if _, err := s.exec(ctx, `INSERT INTO login_failures (`+loginFailureCols+`)
			SELECT realm_id, id, 0, 0, '', 0, 0 FROM users WHERE realm_id = $1 AND id = $2
			ON CONFLICT DO NOTHING`, realmID, userID); err != nil {
			return LoginFailure{}, fmt.Errorf("lock login failures of user %s: %w", userID, err)
		}
		f, err := scanLoginFailure(s.queryRow(ctx, `SELECT `+loginFailureCols+` FROM login_failures
			WHERE realm_id = $1 AND user_id = $2`+s.forUpdate(), realmID, userID))
		// On PostgreSQL an administrator's clearing can delete the row
		// while this transaction waits for its lock: the row is then
		// skipped, and inserting it again is right. An unknown user, or
		// one of another realm, stays not found.
		if errors.Is(err, ErrNotFound) && attempt < 3 {
			continue
		}
		return f, err
	}
}

// DeleteLoginFailure forgets a user's failures, which ends a temporary
// lockout. A user without a record is not an error (Keycloak answers 204).
func (s *DB) DeleteLoginFailure(ctx context.Context, realmID, userID string) error {
	_, err := s.exec(ctx, `DELETE FROM login_failures WHERE realm_id = $1 AND user_id = $2`, realmID, userID)
	return err
}

// DeleteLoginFailures forgets the failures of every user of a realm.
func (s *DB) DeleteLoginFailures(ctx context.Context, realmID string) error {
	_, err := s.exec(ctx, `DELETE FROM login_failures WHERE realm_id = $1`, realmID)
	return err
}
