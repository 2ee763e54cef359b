package store

import (
	"context"
	"database/sql"
)

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
