package store

import "context"

// EndedSession is a user session that an explicit logout ended (by the user,
// a client or an administrator), with the clients it held: what a back-channel
// logout notifies. Sessions that expire are not reported.
type EndedSession struct {
	RealmID, ID, UserID string
	Offline             bool
	// ClientIDs are the internal ids of the clients with a session in it.
	ClientIDs []string
	// ClientNotes are the notes of those client sessions, by client id:
	// what a logout message must repeat of the login (a SAML NameID).
	ClientNotes map[string]map[string]string
}

// SessionEndHook is told of sessions that ended, once the transaction that
// ended them has committed (never for a rolled-back one). It runs on the
// caller's goroutine, so it must only hand the work on.
type SessionEndHook func(ctx context.Context, ended []EndedSession)

// hooks are shared by a DB and its transactions.
type hooks struct {
	sessionEnd SessionEndHook
}

// OnSessionsEnded sets the hook every explicit session end reaches. Call it
// once, before the store serves requests.
func (s *DB) OnSessionsEnded(fn SessionEndHook) { s.hooks.sessionEnd = fn }

// endSessions deletes the user sessions matching where (a condition on
// user_sessions' columns with $1… args) and reports them to the hook after
// commit. It returns how many ended.
func (s *DB) endSessions(ctx context.Context, where string, args ...any) (int64, error) {
	if s.hooks.sessionEnd == nil {
		r, err := s.exec(ctx, `DELETE FROM user_sessions WHERE `+where, args...)
		if err != nil {
			return 0, err
		}
		return r.RowsAffected()
	}
	var n int64
	err := s.InTx(ctx, func(tx *DB) error {
		ended, err := tx.sessionsToEnd(ctx, where, args...)
		if err != nil {
			return err
		}
		r, err := tx.exec(ctx, `DELETE FROM user_sessions WHERE `+where, args...)
		if err != nil {
			return err
		}
		if n, err = r.RowsAffected(); err != nil {
			return err
		}
		*tx.ended = append(*tx.ended, ended...)
		return nil
	})
	return n, err
}

// sessionsToEnd reads the sessions matching where with their clients. It
// runs in the deleting transaction, so what it reads is what is deleted.
func (s *DB) sessionsToEnd(ctx context.Context, where string, args ...any) ([]EndedSession, error) {
	rows, err := s.query(ctx, `SELECT us.id, us.realm_id, us.user_id, us.offline, COALESCE(cs.client_id, ''), COALESCE(cs.notes, '')
		FROM user_sessions us LEFT JOIN client_sessions cs ON cs.user_session_id = us.id
		WHERE us.id IN (SELECT id FROM user_sessions WHERE `+where+`) ORDER BY us.id, cs.started, cs.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []EndedSession
	for rows.Next() {
		var e EndedSession
		var clientID, notes string
		if err := rows.Scan(&e.ID, &e.RealmID, &e.UserID, &e.Offline, &clientID, &notes); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].ID != e.ID {
			out = append(out, e)
		}
		if clientID != "" {
			last := &out[len(out)-1]
			last.ClientIDs = append(last.ClientIDs, clientID)
			var n map[string]string
			if notes != "" {
				if err := fromJSON(notes, &n); err != nil {
					return nil, err
				}
			}
			if len(n) > 0 {
				if last.ClientNotes == nil {
					last.ClientNotes = map[string]map[string]string{}
				}
				last.ClientNotes[clientID] = n
			}
		}
	}
	return out, rows.Err()
}

// notifyEnded hands the sessions a committed transaction ended to the hook.
func (s *DB) notifyEnded(ctx context.Context, ended []EndedSession) {
	if len(ended) > 0 && s.hooks.sessionEnd != nil {
		// The hook's work outlives the request: it reads configuration
		// fresh, not from the request's snapshot.
		s.hooks.sessionEnd(WithoutConfigView(context.WithoutCancel(ctx)), ended)
	}
}

// oneEnded is oneRow for endSessions: no session ended is ErrNotFound.
func oneEnded(n int64, err error) error {
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}
