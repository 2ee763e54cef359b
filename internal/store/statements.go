package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// How statements reach the database, and why it differs by engine.
//
// PostgreSQL: pgx prepares every statement on the connection that runs it
// and keeps it in that connection's statement cache (its default exec mode,
// which Open leaves alone). A cache that lives and dies with its connection
// is what a restart of PostgreSQL needs: the pool's new connections start
// with empty caches, so nothing refers to a statement the server forgot.
// Cancellation stays as it is: pgx cancels a running statement server-side.
//
// SQLite (modernc.org/sqlite) would parse every statement anew, and for each
// call with a cancellable context it starts a goroutine that watches the
// context and installs a progress handler; under load on one core those
// goroutines and their scheduling were most of the refresh grant's tail. So:
//
//   - each distinct statement is prepared once per DB (database/sql then
//     prepares it lazily on each pooled connection and keeps it there;
//     inside a transaction Tx.StmtContext reuses the connection's copy);
//   - statements run with the context's cancellation removed
//     (context.WithoutCancel), after checking that it has not ended. Every
//     statement of the request paths is an indexed lookup or a write of a
//     few rows that finishes in well under a millisecond; cancelling one
//     midway would gain nothing, and SQLite only notices an interrupt every
//     1000 VM steps anyway. What can take long is waiting, and that wait is
//     the writer gate below, which does honour cancellation. Searches that
//     scan (admin user search, event queries) mark their context with
//     cancellable and keep the driver's interruption.
//   - one write transaction runs at a time, queued in this process (FIFO)
//     instead of retrying on SQLITE_BUSY inside busy_timeout, whose sleeps
//     of up to 100 ms let later writers overtake earlier ones and made the
//     write lock a convoy. The gate is held from BEGIN to COMMIT: exactly
//     the span of SQLite's own write lock (BEGIN IMMEDIATE), no longer.
//     Another process on the same file (an import beside a running server)
//     still meets busy_timeout.

// maxPrepared bounds the statements kept prepared; queries built from
// input (searches with a variable number of conditions) beyond it run
// unprepared rather than grow the cache without end.
const maxPrepared = 512

// writerWait is how long a write waits for the gate before answering
// "unavailable", as busy_timeout does for SQLite's own lock.
const writerWait = 10 * time.Second

// runner is what a DB and the transactions begun from it share about
// running statements. It is nil on PostgreSQL.
type runner struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
	// writer holds one token while a write transaction (or a single
	// write outside one) runs.
	writer chan struct{}
}

func newRunner() *runner {
	return &runner{stmts: map[string]*sql.Stmt{}, writer: make(chan struct{}, 1)}
}

// errWriterBusy is a write that waited writerWait for the gate.
var errWriterBusy = errors.New("sqlite: the writer lock was not free in time")

// enterWriter takes the writer gate, waiting at most writerWait or until
// ctx ends; the returned function gives it back.
func (r *runner) enterWriter(ctx context.Context) (func(), error) {
	select {
	case r.writer <- struct{}{}:
		return r.leaveWriter, nil
	default:
	}
	t := time.NewTimer(writerWait)
	defer t.Stop()
	select {
	case r.writer <- struct{}{}:
		return r.leaveWriter, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, &UnavailableError{Err: errWriterBusy}
	}
}

func (r *runner) leaveWriter() { <-r.writer }

// prepared returns the statement for query, prepared on db, or nil when it
// cannot be prepared (the caller then runs it unprepared, which reports the
// error as before) or the cache is full.
func (r *runner) prepared(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	r.mu.Lock()
	st, ok := r.stmts[query]
	full := len(r.stmts) >= maxPrepared
	r.mu.Unlock()
	if ok || full {
		return st
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.stmts[query]; ok {
		st.Close() // prepared by a concurrent caller meanwhile
		return prev
	}
	r.stmts[query] = st
	return st
}

// close releases every prepared statement.
func (r *runner) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for q, st := range r.stmts {
		st.Close()
		delete(r.stmts, q)
	}
}

type cancellableKey struct{}

// cancellable marks ctx so that on SQLite the statements run with it keep
// the driver's interruption on cancel: for scans whose time grows with the
// data (searches), where an abandoned request should stop the work.
func cancellable(ctx context.Context) context.Context {
	return context.WithValue(ctx, cancellableKey{}, true)
}

// stmtContext is the context a statement runs with (see the top of this
// file): on SQLite, ctx without its cancellation unless marked cancellable,
// once checked to be still live.
func (s *DB) stmtContext(ctx context.Context) (context.Context, error) {
	if s.run == nil {
		return ctx, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ctx.Value(cancellableKey{}) != nil {
		return ctx, nil
	}
	return context.WithoutCancel(ctx), nil
}

// stmt returns the prepared form of query for this DB (a transaction's own
// handle inside one), or nil to run query unprepared.
func (s *DB) stmt(ctx context.Context, query string) *sql.Stmt {
	if s.run == nil {
		return nil
	}
	st := s.run.prepared(ctx, s.sql, query)
	if st == nil || s.tx == nil {
		return st
	}
	return s.tx.StmtContext(ctx, st)
}

func (s *DB) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	forgetMappings(ctx, q)
	if writesConfig(q) {
		if !s.inTx {
			// The write and the version bump land together or not at all.
			var r sql.Result
			err := s.InTx(ctx, func(tx *DB) error {
				var err error
				r, err = tx.exec(ctx, q, args...)
				return err
			})
			return r, err
		}
		s.markConfigWrite()
	}
	ctx, err := s.stmtContext(ctx)
	if err != nil {
		return nil, err
	}
	if s.run != nil && !s.inTx {
		leave, err := s.run.enterWriter(ctx)
		if err != nil {
			return nil, fmt.Errorf("exec: %w", err)
		}
		defer leave()
	}
	q = s.traced(q, args)
	defer s.startQuery()()
	var r sql.Result
	if st := s.stmt(ctx, q); st != nil {
		r, err = st.ExecContext(ctx, args...)
	} else {
		r, err = s.q.ExecContext(ctx, q, args...)
	}
	return r, mapErr(err)
}

func (s *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s.mustMarkInTx(q)
	ctx, err := s.stmtContext(ctx)
	if err != nil {
		return nil, err
	}
	q = s.traced(q, args)
	defer s.startQuery()()
	var r *sql.Rows
	if st := s.stmt(ctx, q); st != nil {
		r, err = st.QueryContext(ctx, args...)
	} else {
		r, err = s.q.QueryContext(ctx, q, args...)
	}
	return r, mapErr(err)
}

// queryRow runs a query of one row. A context that has already ended gives
// a Row whose Scan reports it, as database/sql does.
func (s *DB) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	s.mustMarkInTx(q)
	dctx, err := s.stmtContext(ctx)
	if err != nil {
		return s.q.QueryRowContext(ctx, s.rebind(q), args...)
	}
	q = s.traced(q, args)
	defer s.startQuery()()
	if st := s.stmt(dctx, q); st != nil {
		return st.QueryRowContext(dctx, args...)
	}
	return s.q.QueryRowContext(dctx, q, args...)
}
