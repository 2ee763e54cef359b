package store

import (
	"context"
	"database/sql"
	"sync/atomic"
)

// stats is what a DB and the transactions begun from it share for
// monitoring. It is allocated by Open, so a transaction's DB, which copies the
// pointer, reports to the same place.
type stats struct {
	timer atomic.Pointer[func() (done func())]
	trace atomic.Pointer[func(query string, args []any)]
}

// TimeQueries makes the store call start as each statement is sent and the
// function start returned once the database has answered (for a query: when
// the first row is ready, not after the caller has read them all). The store
// keeps no clock of its own; the caller's timer decides what a duration is.
// A nil start stops the timing.
func (s *DB) TimeQueries(start func() (done func())) {
	if s.stats == nil {
		return
	}
	if start == nil {
		s.stats.timer.Store(nil)
		return
	}
	s.stats.timer.Store(&start)
}

// TraceStatements makes the store call fn with every statement it sends,
// in the engine's own placeholders, and its arguments, before sending it:
// what a test needs to ask the engine how it plans the statements a
// request runs (Explain). fn must not keep args past the call's end
// unless it copies the slice. A nil fn stops the tracing.
func (s *DB) TraceStatements(fn func(query string, args []any)) {
	if fn == nil {
		s.stats.trace.Store(nil)
		return
	}
	s.stats.trace.Store(&fn)
}

// startQuery begins timing one statement; the result must be called when it
// has run.
func (s *DB) startQuery() (done func()) {
	if s.stats != nil {
		if start := s.stats.timer.Load(); start != nil {
			return (*start)()
		}
	}
	return func() {}
}

// PoolStats reports the connection pool: open, in use and idle connections
// and how long callers waited for one, as database/sql counts them.
func (s *DB) PoolStats() sql.DBStats { return s.sql.Stats() }

// SessionCount is how many user sessions the store holds for one realm.
// Sessions past their expiry count until the cleanup loop removes them,
// which it does within a minute.
type SessionCount struct {
	Realm   string // the realm's name
	Online  int64  // SSO sessions
	Offline int64  // offline sessions (offline_access tokens)
}

// CountSessions counts the user sessions of every realm, realms without any
// included, in one grouped query over the (realm_id, offline, …) index.
func (s *DB) CountSessions(ctx context.Context) ([]SessionCount, error) {
	rows, err := s.query(ctx, `SELECT r.name,
		COUNT(CASE WHEN us.offline = $1 THEN 1 END),
		COUNT(CASE WHEN us.offline = $2 THEN 1 END)
		FROM realms r LEFT JOIN user_sessions us ON us.realm_id = r.id
		GROUP BY r.name ORDER BY r.name`, false, true)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SessionCount
	for rows.Next() {
		var c SessionCount
		if err := rows.Scan(&c.Realm, &c.Online, &c.Offline); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
