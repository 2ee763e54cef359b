package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// AuthSession is a login in progress. Data is the login package's own JSON
// (the authorization request and the steps done so far).
type AuthSession struct {
	ID        string
	RealmID   string
	Data      string
	ExpiresAt int64 // epoch seconds
}

// SaveAuthSession creates or replaces a login in progress.
func (s *DB) SaveAuthSession(ctx context.Context, a AuthSession) error {
	_, err := s.exec(ctx, `INSERT INTO auth_sessions (id, realm_id, data, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
		a.ID, a.RealmID, a.Data, a.ExpiresAt)
	return err
}

// GetAuthSession loads a login in progress that has not expired at now.
func (s *DB) GetAuthSession(ctx context.Context, realmID, id string, now int64) (AuthSession, error) {
	var a AuthSession
	err := s.queryRow(ctx, `SELECT id, realm_id, data, expires_at FROM auth_sessions WHERE realm_id = $1 AND id = $2 AND expires_at > $3`,
		realmID, id, now).Scan(&a.ID, &a.RealmID, &a.Data, &a.ExpiresAt)
	return a, mapErr(err)
}

// DeleteAuthSession ends a login in progress.
func (s *DB) DeleteAuthSession(ctx context.Context, id string) error {
	_, err := s.exec(ctx, `DELETE FROM auth_sessions WHERE id = $1`, id)
	return err
}

// AuthCode is an issued authorization code. Data is the login package's JSON
// (redirect URI, scope, nonce, PKCE challenge ...) that the token endpoint
// checks on redemption.
type AuthCode struct {
	RealmID       string
	ClientID      string // internal id
	UserSessionID string
	Data          string
	ExpiresAt     int64 // epoch seconds
}

func codeHash(code string) string {
	h := sha256.Sum256([]byte(code))
	return hex.EncodeToString(h[:])
}

// CreateAuthCode stores a code; only its hash is kept.
func (s *DB) CreateAuthCode(ctx context.Context, code string, c AuthCode) error {
	_, err := s.exec(ctx, `INSERT INTO auth_codes (code_hash, realm_id, client_id, user_session_id, data, expires_at, used_at)
		VALUES ($1, $2, $3, $4, $5, $6, 0)`, codeHash(code), c.RealmID, c.ClientID, c.UserSessionID, c.Data, c.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create auth code: %w", err)
	}
	return nil
}

// RedeemAuthCode consumes a code of realmID at now. The conditional update
// is the whole single-use guarantee: of any number of concurrent
// redemptions on any number of nodes exactly one sees fresh = true. A code
// that exists but was used before comes back with fresh = false, so the
// caller can revoke what the first redemption issued; an unknown code is
// ErrNotFound. Expiry is the caller's check (it needs the code's data).
func (s *DB) RedeemAuthCode(ctx context.Context, realmID, code string, now int64) (c AuthCode, fresh bool, err error) {
	h := codeHash(code)
	err = s.InTx(ctx, func(tx *DB) error {
		r, err := tx.exec(ctx, `UPDATE auth_codes SET used_at = $3 WHERE code_hash = $1 AND realm_id = $2 AND used_at = 0`, h, realmID, now)
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		if err != nil {
			return err
		}
		fresh = n == 1
		return mapErr(tx.queryRow(ctx, `SELECT realm_id, client_id, user_session_id, data, expires_at FROM auth_codes WHERE code_hash = $1 AND realm_id = $2`,
			h, realmID).Scan(&c.RealmID, &c.ClientID, &c.UserSessionID, &c.Data, &c.ExpiresAt))
	})
	return c, fresh, err
}

// DeleteExpiredLogins removes logins in progress, codes and pushed
// authorization requests that expired before now (epoch seconds). Used
// codes are kept until their expiry so a replay is still recognised as one;
// device codes are kept an hour past theirs so a late poll still hears
// expired_token.
func (s *DB) DeleteExpiredLogins(ctx context.Context, now int64) error {
	if _, err := s.exec(ctx, `DELETE FROM auth_sessions WHERE expires_at <= $1`, now); err != nil {
		return err
	}
	if _, err := s.exec(ctx, `DELETE FROM auth_codes WHERE expires_at <= $1`, now-3600); err != nil {
		return err
	}
	if _, err := s.exec(ctx, `DELETE FROM pushed_requests WHERE expires_at <= $1`, now); err != nil {
		return err
	}
	_, err := s.exec(ctx, `DELETE FROM device_codes WHERE expires_at <= $1`, now-3600)
	return err
}
