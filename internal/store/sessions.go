package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
)

const userSessionCols = `id, realm_id, user_id, offline, started, last_refresh, remember_me, ip_address, auth_method, auth_time, notes`

func scanUserSession(sc interface{ Scan(...any) error }) (session.UserSession, error) {
	var s session.UserSession
	if err := scanInto(sc, userSessionPlan(&s)); err != nil {
		return session.UserSession{}, err
	}
	return s, nil
}

// userSessionPlan reads the columns of userSessionCols into s.
func userSessionPlan(s *session.UserSession) scanPlan {
	var notes string
	return scanPlan{
		dest: []any{&s.ID, &s.RealmID, &s.UserID, &s.Offline, &s.Started, &s.LastRefresh, &s.RememberMe,
			&s.IPAddress, &s.AuthMethod, &s.AuthTime, &notes},
		finish: func() error { return fromJSON(notes, &s.Notes) },
	}
}

// CreateUserSession stores a new user session (SSO or offline).
func (s *DB) CreateUserSession(ctx context.Context, us session.UserSession) error {
	return s.CreateUserSessions(ctx, us)
}

// CreateUserSessions stores new user sessions, in as few statements as the
// engines allow (see CreateUsers).
func (s *DB) CreateUserSessions(ctx context.Context, uss ...session.UserSession) error {
	rows := make([][]any, len(uss))
	for i, us := range uss {
		if us.Notes == nil {
			us.Notes = map[string]string{}
		}
		rows[i] = []any{us.ID, us.RealmID, us.UserID, us.Offline, us.Started, us.LastRefresh, us.RememberMe,
			us.IPAddress, us.AuthMethod, us.AuthTime, toJSON(us.Notes)}
	}
	if err := s.insertRows(ctx, `INSERT INTO user_sessions (`+userSessionCols+`)`, "", rows); err != nil {
		return fmt.Errorf("create user session: %w", err)
	}
	return nil
}

// GetUserSession loads a user session by id.
func (s *DB) GetUserSession(ctx context.Context, realmID, id string) (session.UserSession, error) {
	return scanUserSession(s.queryRow(ctx, `SELECT `+userSessionCols+` FROM user_sessions WHERE realm_id = $1 AND id = $2`, realmID, id))
}

// ListUserSessions returns a user's sessions, online or offline, oldest first.
func (s *DB) ListUserSessions(ctx context.Context, realmID, userID string, offline bool) ([]session.UserSession, error) {
	rows, err := s.query(ctx, `SELECT `+userSessionCols+` FROM user_sessions WHERE realm_id = $1 AND user_id = $2 AND offline = $3 ORDER BY started, id`,
		realmID, userID, offline)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []session.UserSession
	for rows.Next() {
		us, err := scanUserSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, us)
	}
	return out, rows.Err()
}

// TouchUserSession records activity: last_refresh only moves forward, so
// two nodes refreshing at once cannot move it back.
func (s *DB) TouchUserSession(ctx context.Context, id string, now int64) error {
	_, err := s.exec(ctx, `UPDATE user_sessions SET last_refresh = $2 WHERE id = $1 AND last_refresh < $2`, id, now)
	return err
}

// DeleteUserSession ends a session and its client sessions.
func (s *DB) DeleteUserSession(ctx context.Context, realmID, id string) error {
	return oneEnded(s.endSessions(ctx, `realm_id = $1 AND id = $2`, realmID, id))
}

// DeleteUserSessions ends every session of a user, online or offline, and
// returns how many ended.
func (s *DB) DeleteUserSessions(ctx context.Context, realmID, userID string, offline bool) (int64, error) {
	return s.endSessions(ctx, `realm_id = $1 AND user_id = $2 AND offline = $3`, realmID, userID, offline)
}

const clientSessionCols = `id, user_session_id, client_id, offline, started, ts, current_refresh_token, refresh_use_count, scope, nonce, notes`

func scanClientSession(sc interface{ Scan(...any) error }) (session.ClientSession, error) {
	var c session.ClientSession
	if err := scanInto(sc, clientSessionPlan(&c)); err != nil {
		return session.ClientSession{}, err
	}
	return c, nil
}

// clientSessionPlan reads the columns of clientSessionCols into c.
func clientSessionPlan(c *session.ClientSession) scanPlan {
	var notes string
	return scanPlan{
		dest: []any{&c.ID, &c.UserSessionID, &c.ClientID, &c.Offline, &c.Started, &c.Timestamp,
			&c.CurrentRefreshToken, &c.RefreshUseCount, &c.Scope, &c.Nonce, &notes},
		finish: func() error { return fromJSON(notes, &c.Notes) },
	}
}

// CreateClientSession stores a client's session inside a user session; a
// client has at most one per user session (ErrConflict).
func (s *DB) CreateClientSession(ctx context.Context, c session.ClientSession) error {
	return s.CreateClientSessions(ctx, c)
}

// CreateClientSessions stores client sessions, in as few statements as the
// engines allow (see CreateUsers).
func (s *DB) CreateClientSessions(ctx context.Context, cs ...session.ClientSession) error {
	rows := make([][]any, len(cs))
	for i, c := range cs {
		if c.Notes == nil {
			c.Notes = map[string]string{}
		}
		rows[i] = []any{c.ID, c.UserSessionID, c.ClientID, c.Offline, c.Started, c.Timestamp, c.CurrentRefreshToken,
			c.RefreshUseCount, c.Scope, c.Nonce, toJSON(c.Notes)}
	}
	if err := s.insertRows(ctx, `INSERT INTO client_sessions (`+clientSessionCols+`)`, "", rows); err != nil {
		return fmt.Errorf("create client session: %w", err)
	}
	return nil
}

// GetClientSession loads the session of a client inside a user session.
func (s *DB) GetClientSession(ctx context.Context, userSessionID, clientID string) (session.ClientSession, error) {
	return scanClientSession(s.queryRow(ctx, `SELECT `+clientSessionCols+` FROM client_sessions WHERE user_session_id = $1 AND client_id = $2`,
		userSessionID, clientID))
}

// ListClientSessions returns the client sessions of a user session.
func (s *DB) ListClientSessions(ctx context.Context, userSessionID string) ([]session.ClientSession, error) {
	rows, err := s.query(ctx, `SELECT `+clientSessionCols+` FROM client_sessions WHERE user_session_id = $1 ORDER BY started, id`, userSessionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []session.ClientSession
	for rows.Next() {
		c, err := scanClientSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteClientSession detaches a client from a user session.
func (s *DB) DeleteClientSession(ctx context.Context, userSessionID, clientID string) error {
	return oneRow(s.exec(ctx, `DELETE FROM client_sessions WHERE user_session_id = $1 AND client_id = $2`, userSessionID, clientID))
}

// DeleteOfflineSessionsOfClient revokes a user's offline access for one
// client: the client's offline client sessions go, and so does any offline
// user session left without clients. It returns how many client sessions ended.
func (s *DB) DeleteOfflineSessionsOfClient(ctx context.Context, realmID, userID, clientID string) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(tx *DB) error {
		r, err := tx.exec(ctx, `DELETE FROM client_sessions WHERE client_id = $1 AND offline = $2 AND user_session_id IN
			(SELECT id FROM user_sessions WHERE realm_id = $3 AND user_id = $4 AND offline = $2)`, clientID, true, realmID, userID)
		if err != nil {
			return err
		}
		if n, err = r.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.exec(ctx, `DELETE FROM user_sessions WHERE realm_id = $1 AND user_id = $2 AND offline = $3 AND NOT EXISTS
			(SELECT 1 FROM client_sessions c WHERE c.user_session_id = user_sessions.id)`, realmID, userID, true)
		return err
	})
	return n, err
}

// UpdateClientSession changes the client session id by read-modify-write:
// the row is read locked, fn decides on it and returns the new value, and
// the value is written in the same transaction, so a rule that decides on
// the stored state (refresh token rotation, session.DecideRefresh) sees
// every concurrent change on any number of nodes. fn may run more than once
// (a PostgreSQL serialization retry), so it must do nothing but decide. An
// error from fn leaves the row as it was and is returned as is; a missing
// row is ErrNotFound. The session's identity (its user session, client,
// offline flag and start) never changes.
func (s *DB) UpdateClientSession(ctx context.Context, id string, fn func(session.ClientSession) (session.ClientSession, error)) (session.ClientSession, error) {
	var out session.ClientSession
	err := s.InTx(ctx, func(tx *DB) error {
		old, err := scanClientSession(tx.queryRow(ctx, `SELECT `+clientSessionCols+` FROM client_sessions WHERE id = $1`+tx.forUpdate(), id))
		if err != nil {
			return err
		}
		c, err := fn(old)
		if err != nil {
			return err
		}
		if c.Notes == nil {
			c.Notes = map[string]string{}
		}
		if err := oneRow(tx.exec(ctx, `UPDATE client_sessions SET ts = $2, current_refresh_token = $3, refresh_use_count = $4,
			scope = $5, nonce = $6, notes = $7 WHERE id = $1`,
			old.ID, c.Timestamp, c.CurrentRefreshToken, c.RefreshUseCount, c.Scope, c.Nonce, toJSON(c.Notes))); err != nil {
			return err
		}
		c.ID, c.UserSessionID, c.ClientID, c.Offline, c.Started = old.ID, old.UserSessionID, old.ClientID, old.Offline, old.Started
		out = c
		return nil
	})
	return out, err
}

// UpdateClientSessionScope records the scope granted on the latest token.
func (s *DB) UpdateClientSessionScope(ctx context.Context, id, scope string) error {
	return oneRow(s.exec(ctx, `UPDATE client_sessions SET scope = $2 WHERE id = $1`, id, scope))
}

// CountSessions counts a client's live sessions, online or offline.
func (s *DB) CountClientSessions(ctx context.Context, clientID string, offline bool) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM client_sessions WHERE client_id = $1 AND offline = $2`, clientID, offline).Scan(&n)
	return n, mapErr(err)
}

// RevokeToken records that the token jti is revoked until it would have
// expired anyway (epoch seconds).
func (s *DB) RevokeToken(ctx context.Context, realmID, jti string, expiresAt int64) error {
	_, err := s.exec(ctx, `INSERT INTO revoked_tokens (jti, realm_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING`,
		jti, realmID, expiresAt)
	return err
}

// IsTokenRevoked reports whether the token jti was revoked.
func (s *DB) IsTokenRevoked(ctx context.Context, jti string) (bool, error) {
	var one int
	err := s.queryRow(ctx, `SELECT 1 FROM revoked_tokens WHERE jti = $1`, jti).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, mapErr(err)
}

// DeleteExpiredSessions removes the sessions of realm r that expired before
// now (epoch seconds) and revoked-token records past their expiry. It
// returns the number of user sessions removed.
func (s *DB) DeleteExpiredSessions(ctx context.Context, r realm.Realm, now int64) (int64, error) {
	// The longest idle time a session of each kind can have; a session idle
	// longer than that is dead whatever its remember-me flag.
	onlineIdle := int64(max(r.SSOSessionIdleTimeout, r.SSOSessionIdleTimeoutRememberMe))
	onlineMax := int64(max(r.SSOSessionMaxLifespan, r.SSOSessionMaxLifespanRememberMe))
	// Idle too long, then started too long ago: one range on one index
	// each (user_sessions_refresh, user_sessions_started), which the
	// planner takes from its row estimates alone, where an OR of the two
	// would be planned as a scan of the realm's sessions.
	type bound struct {
		offline bool
		column  string
		before  int64
	}
	bounds := []bound{
		{false, "last_refresh", now - onlineIdle},
		{false, "started", now - onlineMax},
		{true, "last_refresh", now - int64(r.OfflineSessionIdleTimeout)},
	}
	if r.OfflineSessionMaxLifespanEnabled {
		bounds = append(bounds, bound{true, "started", now - int64(r.OfflineSessionMaxLifespan)})
	}
	var total int64
	for _, d := range bounds {
		res, err := s.exec(ctx, `DELETE FROM user_sessions WHERE realm_id = $1 AND offline = $2 AND `+d.column+` < $3`,
			r.ID, d.offline, d.before)
		if err != nil {
			return total, err
		}
		n, _ := res.RowsAffected()
		total += n
	}
	_, err := s.exec(ctx, `DELETE FROM revoked_tokens WHERE realm_id = $1 AND expires_at < $2`, r.ID, now)
	return total, err
}

// ConsumeOnce records a single-use value (a client assertion's jti, a DPoP
// proof's jti and URL) until expiresAt (epoch seconds); DeleteExpiredSessions
// drops it afterwards. It reports false when the value was already
// used: the insert either wins or conflicts, atomically on any node.
func (s *DB) ConsumeOnce(ctx context.Context, realmID, key string, expiresAt int64) (bool, error) {
	r, err := s.exec(ctx, `INSERT INTO revoked_tokens (jti, realm_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING`,
		key, realmID, expiresAt)
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

// ClientSessionCounts counts the realm's client sessions per client: online
// and offline, keyed by the client's internal id; clients without sessions
// are absent.
func (s *DB) ClientSessionCounts(ctx context.Context, realmID string) (map[string][2]int, error) {
	rows, err := s.query(ctx, `SELECT cs.client_id, cs.offline, COUNT(*) FROM client_sessions cs
		JOIN clients c ON c.id = cs.client_id WHERE c.realm_id = $1 GROUP BY cs.client_id, cs.offline`, realmID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][2]int{}
	for rows.Next() {
		var (
			id      string
			offline bool
			n       int
		)
		if err := rows.Scan(&id, &offline, &n); err != nil {
			return nil, err
		}
		c := out[id]
		if offline {
			c[1] = n
		} else {
			c[0] = n
		}
		out[id] = c
	}
	return out, rows.Err()
}
