package store

import (
	"context"
	"database/sql"
)

// What the external tests of this package look at inside it.

var (
	ConfigTables  = configTables
	DataTables    = dataTables
	WrittenTables = writtenTables
)

// Tables lists the tables of the store's schema.
func (s *DB) Tables(ctx context.Context) ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if s.dialect == Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	rows, err := s.sql.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// CachedVersion is the version of the node's current snapshot, 0 for none.
func (s *DB) CachedVersion() int64 {
	if sn := s.cache.current.Load(); sn != nil {
		return sn.version
	}
	return 0
}

// VersionReadJoined is how many requests wait for the shared version read
// that is not sent yet (0 for none).
func (s *DB) VersionReadJoined() int {
	r := &s.cache.reads
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.open == nil {
		return 0
	}
	return r.open.joined
}

// TestConn pins one pooled connection, for tests that look at what lives
// on a connection.
func (s *DB) TestConn(ctx context.Context) (*sql.Conn, error) { return s.sql.Conn(ctx) }

// PreparedStatements is how many statements the DB keeps prepared (SQLite).
func (s *DB) PreparedStatements() int {
	if s.run == nil {
		return 0
	}
	s.run.mu.Lock()
	defer s.run.mu.Unlock()
	return len(s.run.stmts)
}

// HoldWriter takes SQLite's writer gate as a write transaction would.
func (s *DB) HoldWriter(ctx context.Context) (release func(), err error) {
	return s.run.enterWriter(ctx)
}

// PlannerStatRows counts the rows of SQLite's planner statistics.
func (s *DB) PlannerStatRows(ctx context.Context) (int, error) {
	var n int
	err := s.sql.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_stat1`).Scan(&n)
	return n, err
}
