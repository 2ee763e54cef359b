package store

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// rowScanner is a row about to be scanned: *sql.Row, or pgRow.
type rowScanner interface{ Scan(dest ...any) error }

// hotRow runs a query of one row that every bearer check runs. On
// PostgreSQL, outside a transaction, it goes through pgx's own interface
// on a connection of the pool (pgRow) instead of database/sql's rows,
// whose per-column conversions were a third of the query's cost; the
// statement, its preparation (pgx's statement cache on the connection) and
// the round trip are the same. Elsewhere it is queryRow.
func (s *DB) hotRow(ctx context.Context, q string, args ...any) rowScanner {
	if s.dialect != Postgres || s.inTx {
		return s.queryRow(ctx, q, args...)
	}
	return pgRow{s: s, ctx: ctx, q: q, args: args}
}

// pgRow is one row read with pgx's scanning (see hotRow).
type pgRow struct {
	s    *DB
	ctx  context.Context
	q    string
	args []any
}

// errRetryConn marks a statement that failed before anything was sent on
// its connection (pgconn.SafeToRetry), so it may run again on another.
var errRetryConn = errors.New("connection failed before the statement was sent")

func (r pgRow) Scan(dest ...any) error {
	q := r.s.traced(r.q, r.args)
	defer r.s.startQuery()()
	for attempt := 0; ; attempt++ {
		err := r.scanOnce(q, dest)
		if errors.Is(err, errRetryConn) && attempt < 2 {
			continue
		}
		return err
	}
}

func (r pgRow) scanOnce(q string, dest []any) error {
	conn, err := r.s.sql.Conn(r.ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var retry bool
	err = conn.Raw(func(dc any) error {
		pc, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("store: PostgreSQL connection is not pgx's")
		}
		err := pc.Conn().QueryRow(r.ctx, q, r.args...).Scan(dest...)
		if err != nil && pgconn.SafeToRetry(err) {
			// database/sql discards a connection that reports ErrBadConn.
			retry = true
			return driver.ErrBadConn
		}
		return err
	})
	if retry {
		return errRetryConn
	}
	return err
}
