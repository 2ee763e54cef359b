package store

import (
	"context"
	"fmt"
)

// Device code states.
const (
	DevicePending  = "pending"
	DeviceApproved = "approved"
	DeviceDenied   = "denied"
)

// DeviceCode is a device authorization grant (RFC 8628) in progress: created
// by the device authorization endpoint, decided on the verification page,
// redeemed at the token endpoint, on any node.
type DeviceCode struct {
	RealmID  string
	ClientID string // internal id
	// UserCode is the code the user types, normalized (upper case, no dash).
	UserCode      string
	Scope         string
	Nonce         string
	ExpiresAt     int64 // epoch seconds
	Interval      int64 // seconds between polls
	LastPolled    int64 // epoch milliseconds, 0 before the first poll
	Status        string
	UserSessionID string // set on approval
	// CodeChallenge and CodeChallengeMethod are the request's PKCE
	// challenge, both "" without PKCE.
	CodeChallenge       string
	CodeChallengeMethod string
}

const deviceCols = `realm_id, client_id, user_code, scope, nonce, expires_at, poll_interval, last_polled, status, user_session_id, code_challenge, code_challenge_method`

func scanDeviceCode(row interface{ Scan(...any) error }) (DeviceCode, error) {
	var d DeviceCode
	err := row.Scan(&d.RealmID, &d.ClientID, &d.UserCode, &d.Scope, &d.Nonce, &d.ExpiresAt, &d.Interval, &d.LastPolled, &d.Status, &d.UserSessionID, &d.CodeChallenge, &d.CodeChallengeMethod)
	return d, mapErr(err)
}

// CreateDeviceCode stores a pending grant; only the device code's hash is
// kept. A user code already taken in the realm is ErrConflict.
func (s *DB) CreateDeviceCode(ctx context.Context, deviceCode string, d DeviceCode) error {
	_, err := s.exec(ctx, `INSERT INTO device_codes (device_hash, `+deviceCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, '', $10, $11)`,
		codeHash(deviceCode), d.RealmID, d.ClientID, d.UserCode, d.Scope, d.Nonce, d.ExpiresAt, d.Interval, DevicePending,
		d.CodeChallenge, d.CodeChallengeMethod)
	if err != nil {
		return fmt.Errorf("create device code: %w", err)
	}
	return nil
}

// GetDeviceCodeByUserCode loads the grant a user code names.
func (s *DB) GetDeviceCodeByUserCode(ctx context.Context, realmID, userCode string) (DeviceCode, error) {
	return scanDeviceCode(s.queryRow(ctx, `SELECT `+deviceCols+` FROM device_codes WHERE realm_id = $1 AND user_code = $2`, realmID, userCode))
}

// DecideDeviceCode approves (with the user session the login made) or
// denies a pending grant that has not expired at now (epoch seconds). A
// grant that is unknown, expired or already decided is ErrNotFound: the
// conditional update lets exactly one decision win.
func (s *DB) DecideDeviceCode(ctx context.Context, realmID, userCode string, approve bool, userSessionID string, now int64) error {
	status := DeviceDenied
	if approve {
		status = DeviceApproved
	}
	r, err := s.exec(ctx, `UPDATE device_codes SET status = $1, user_session_id = $2
		WHERE realm_id = $3 AND user_code = $4 AND status = $5 AND expires_at > $6`,
		status, userSessionID, realmID, userCode, DevicePending, now)
	if err != nil {
		return err
	}
	if n, err := r.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return ErrNotFound
	}
	return nil
}

// PollDeviceCode records a poll of deviceCode at nowMillis and returns the
// grant. allowed is false when the previous allowed poll was less than the
// grant's interval ago (RFC 8628 §3.5 slow_down); such a poll is not
// recorded, so a client that keeps polling too fast stays refused. The
// conditional update makes the check hold across nodes.
func (s *DB) PollDeviceCode(ctx context.Context, realmID, deviceCode string, nowMillis int64) (d DeviceCode, allowed bool, err error) {
	h := codeHash(deviceCode)
	err = s.InTx(ctx, func(tx *DB) error {
		r, err := tx.exec(ctx, `UPDATE device_codes SET last_polled = $1
			WHERE device_hash = $2 AND realm_id = $3 AND last_polled + poll_interval * 1000 <= $1`, nowMillis, h, realmID)
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		if err != nil {
			return err
		}
		allowed = n == 1
		d, err = scanDeviceCode(tx.queryRow(ctx, `SELECT `+deviceCols+` FROM device_codes WHERE device_hash = $1 AND realm_id = $2`, h, realmID))
		return err
	})
	return d, allowed, err
}

// ConsumeDeviceCode deletes an approved grant. Of concurrent redemptions on
// any number of nodes exactly one gets true; the others get false and must
// issue nothing.
func (s *DB) ConsumeDeviceCode(ctx context.Context, realmID, deviceCode string) (bool, error) {
	r, err := s.exec(ctx, `DELETE FROM device_codes WHERE device_hash = $1 AND realm_id = $2 AND status = $3`,
		codeHash(deviceCode), realmID, DeviceApproved)
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n == 1, err
}
