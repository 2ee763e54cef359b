// Package store owns all persistence: one implementation of the data model
// over two SQL dialects, SQLite (embedded, pure Go) and PostgreSQL (pgx).
//
// Queries are written once with PostgreSQL's $N placeholders; rebind rewrites
// them to SQLite's ?N. Schema lives in migrations/<dialect>, applied at Open.
// Read-modify-write happens inside the store (Update* take an edit function),
// so the transaction boundary never leaks to callers.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
)

// Sentinel errors, checked with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
)

// Dialect names the SQL engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

//go:embed migrations
var migrations embed.FS

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is the store. A DB returned by Open runs each call in its own implicit
// transaction; inside InTx the same methods run in the caller's transaction.
type DB struct {
	sql     *sql.DB
	q       querier
	tx      *sql.Tx // inside InTx, the transaction q is
	dialect Dialect
	inTx    bool
	run     *runner // SQLite's prepared statements and writer gate; see statements.go
	stats   *stats  // shared with transactions; see stats.go
	hooks   *hooks  // shared with transactions; see session_end.go
	// ended collects, inside a transaction, the sessions it ended, told to
	// the hook after commit.
	ended *[]EndedSession
	// configDirty is set, inside a transaction, once it writes a
	// configuration table; see configversion.go.
	configDirty *bool
	cache       *configCache // shared with transactions; see configcache.go
	dsn         string
	// wal is SQLite's WAL-index header, mapped; nil elsewhere or when it
	// could not be mapped (walindex.go).
	wal *walIndex
}

// Open connects to the database, applies pending migrations and returns the
// store. For SQLite, dsn is a file path (its directory is created); for
// PostgreSQL, a postgres:// URL.
func Open(ctx context.Context, dialect Dialect, dsn string) (*DB, error) {
	var (
		db  *sql.DB
		err error
	)
	switch dialect {
	case SQLite:
		if dir := filepath.Dir(dsn); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		}
		// The file holds password hashes and private keys: owner only. It
		// is created here and never opened when it exists: closing a
		// descriptor of the file would drop the fcntl locks of any SQLite
		// connection this process already has open on it.
		if _, err := os.Stat(dsn); errors.Is(err, fs.ErrNotExist) {
			f, err := os.OpenFile(dsn, os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				return nil, fmt.Errorf("open database file: %w", err)
			}
			f.Close()
		}
		// WAL lets readers run beside the single writer; busy_timeout makes a
		// second writer wait instead of failing; _txlock=immediate takes the
		// write lock at BEGIN so two read-then-write transactions cannot
		// deadlock on lock upgrade.
		db, err = sql.Open("sqlite", "file:"+dsn+
			"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)"+
			"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate")
		if err == nil {
			// Every open connection stays open: a connection closed for
			// being idle loses its prepared statements, and opening one
			// runs the pragmas above again.
			// One more is held by the node for its whole life (walindex.go).
			db.SetMaxOpenConns(9)
			db.SetMaxIdleConns(9)
		}
	case Postgres:
		db, err = sql.Open("pgx", dsn)
		if err == nil {
			// As many idle as open: requests answered by one shared
			// configuration version read (requestVersion) go on to their
			// own queries together, and a connection closed for being one
			// idle too many is reopened by the next burst, its prepared
			// statements prepared again.
			db.SetMaxOpenConns(20)
			db.SetMaxIdleConns(20)
			db.SetConnMaxIdleTime(5 * time.Minute)
		}
	default:
		return nil, fmt.Errorf("unknown database %q", dialect)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dialect, err)
	}
	s := &DB{sql: db, q: db, dialect: dialect, stats: &stats{}, hooks: &hooks{}, cache: newConfigCache(), dsn: dsn}
	if dialect == SQLite {
		s.run = newRunner()
	}
	if err := s.migrate(ctx, dsn); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.Optimize(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("optimize: %w", err)
	}
	if dialect == SQLite {
		s.wal = s.openWALIndex(ctx)
	}
	return s, nil
}

// migrate applies pending migrations. Nodes started together on one empty
// database would otherwise run the same migration at once, and all but one
// fail: on PostgreSQL a session-level advisory lock lets one node migrate
// while the others wait, then find nothing left to do; on SQLite an flock
// on "<file>.migrate-lock" beside the database does the same for the
// processes of one machine.
func (s *DB) migrate(ctx context.Context, dsn string) error {
	dir, err := fs.Sub(migrations, "migrations/"+string(s.dialect))
	if err != nil {
		return err
	}
	gd := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if s.dialect == Postgres {
		gd = goose.DialectPostgres
		opts = append(opts, goose.WithSessionLocker(pgMigrationLock{}))
	}
	if s.dialect == SQLite {
		unlock, err := lockFile(dsn + ".migrate-lock")
		if err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
		defer unlock()
	}
	p, err := goose.NewProvider(gd, s.sql, dir, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// Serialize makes the transaction tx wait for, then hold until it ends, the
// lock called name: of the transactions that serialize on one name, on
// every node, one runs at a time, and each sees what the one before it
// committed. On SQLite every writing transaction is already alone (BEGIN
// IMMEDIATE), so there is nothing more to take.
func (s *DB) Serialize(ctx context.Context, name string) error {
	if !s.inTx {
		return errors.New("serialize: not in a transaction")
	}
	if s.dialect != Postgres {
		return nil
	}
	_, err := s.q.ExecContext(ctx, "SELECT pg_advisory_xact_lock("+advisoryKey+")", "gatehouse:"+name)
	return mapErr(err)
}

// advisoryKey is the advisory lock key of the name in $1 within the
// connection's schema, so that databases kept in separate schemas of one
// PostgreSQL database (as tests keep them) never wait for one another.
const advisoryKey = "hashtextextended($1 || ':' || current_schema(), 0)"

// pgMigrationLock is goose's session locker for PostgreSQL: a session-level
// advisory lock, waited for without polling, so a node that finds another
// migrating goes on the moment it is done. Cancelling the start cancels
// the wait.
type pgMigrationLock struct{}

var _ lock.SessionLocker = pgMigrationLock{}

func (pgMigrationLock) SessionLock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+advisoryKey+")", "gatehouse:migrate")
	return err
}

func (pgMigrationLock) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock("+advisoryKey+")", "gatehouse:migrate")
	return err
}

// Dialect reports which engine the store runs on.
func (s *DB) Dialect() Dialect { return s.dialect }

// Ping reports whether the database answers.
func (s *DB) Ping(ctx context.Context) error {
	var one int
	return s.sql.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Close stops the configuration listener and releases the connections.
// SQLite checkpoints its WAL on close.
func (s *DB) Close() error {
	s.cache.stopListening()
	if s.wal != nil {
		s.wal.shut()
	}
	if s.run != nil {
		s.run.close()
	}
	err := s.sql.Close()
	if s.wal != nil {
		// Only now that SQLite holds nothing on the file (walindex.go).
		s.wal.closeFile()
	}
	return err
}

// InTx runs fn in one transaction: every write fn makes lands, or none does.
// Nested calls join the outer transaction.
func (s *DB) InTx(ctx context.Context, fn func(tx *DB) error) error {
	if s.inTx {
		return fn(s)
	}
	for attempt := 0; ; attempt++ {
		err := s.runTx(ctx, fn)
		// PostgreSQL may abort a transaction on a serialization failure or a
		// deadlock; both are safe to run again from scratch.
		if attempt < 3 && isRetryable(err) {
			continue
		}
		return err
	}
}

func (s *DB) runTx(ctx context.Context, fn func(tx *DB) error) (err error) {
	// On SQLite the transaction holds the write lock from BEGIN, so it
	// first queues for the writer gate; once begun, no statement of it is
	// interrupted midway, and a ctx that ends fails the next statement,
	// which rolls it back (statements.go explains both).
	txCtx, err := s.stmtContext(ctx)
	if err != nil {
		return err
	}
	leave := func() {}
	if s.run != nil {
		if leave, err = s.run.enterWriter(ctx); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
	}
	left := false
	defer func() {
		if !left {
			leave()
		}
	}()
	tx, err := s.sql.BeginTx(txCtx, nil)
	if err != nil {
		return mapErr(fmt.Errorf("begin: %w", err))
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	txDB := &DB{sql: s.sql, q: tx, tx: tx, dialect: s.dialect, inTx: true, run: s.run, stats: s.stats, hooks: s.hooks,
		ended: new([]EndedSession), configDirty: new(bool), cache: s.cache, dsn: s.dsn}
	if err = fn(txDB); err != nil {
		return err
	}
	var version int64
	if *txDB.configDirty {
		if version, err = txDB.bumpConfigVersion(ctx); err != nil {
			return err
		}
	}
	if err = tx.Commit(); err != nil {
		return mapErr(fmt.Errorf("commit: %w", err))
	}
	left = true
	leave() // before the hook, which may write
	if *txDB.configDirty {
		// This node and this request see the write at once, without
		// waiting for the next version read.
		s.cache.changed(version)
		unpinView(ctx)
	}
	s.notifyEnded(ctx, *txDB.ended)
	return nil
}

// rebind rewrites $N placeholders to SQLite's ?N; PostgreSQL takes them as is.
func (s *DB) rebind(q string) string {
	if s.dialect != SQLite || !strings.Contains(q, "$") {
		return q
	}
	// Statements are mostly constants run again and again: their SQLite
	// spelling is kept (up to maxRebound of them) rather than rebuilt on
	// every call.
	if v, ok := rebound.Load(q); ok {
		return v.(string)
	}
	r := strings.ReplaceAll(q, "$", "?")
	if reboundCount.Load() < maxRebound {
		if _, loaded := rebound.LoadOrStore(q, r); !loaded {
			reboundCount.Add(1)
		}
	}
	return r
}

const maxRebound = 2048

var (
	rebound      sync.Map // PostgreSQL spelling → SQLite spelling
	reboundCount atomic.Int64
)

// traced rebinds q for the engine and hands it to the statement trace, if any.
func (s *DB) traced(q string, args []any) string {
	q = s.rebind(q)
	if s.stats != nil {
		if fn := s.stats.trace.Load(); fn != nil {
			(*fn)(q, args)
		}
	}
	return q
}

// mustMarkInTx marks a configuration write made through query or queryRow
// (INSERT ... RETURNING). Their rows outlive the call, so the store cannot
// wrap them in a transaction of its own: such a write must run inside InTx.
func (s *DB) mustMarkInTx(q string) {
	if !writesConfig(q) {
		return
	}
	if !s.inTx {
		panic("store: configuration write through query outside a transaction: " + q)
	}
	s.markConfigWrite()
}

// UnavailableError is a database that cannot be reached right now (down,
// restarting, connection lost). Callers answer 503, never a verdict such as
// "invalid grant", and nothing was written.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string     { return "database unavailable: " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error     { return e.Err }
func (e *UnavailableError) Unavailable() bool { return true }

func unavailable(err error) bool {
	var (
		pg   *pgconn.PgError
		conn *pgconn.ConnectError
		ne   net.Error
		lite *sqlite.Error
	)
	switch {
	case errors.As(err, &lite):
		// SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes:
		// the single writer lock was not free within busy_timeout. That is
		// overload, to be retried, not a failure of the request.
		return lite.Code()&0xff == 5 || lite.Code()&0xff == 6
	case errors.As(err, &pg):
		// 08xxx connection exceptions, 57P01-57P03 shutdown and start-up.
		return strings.HasPrefix(pg.Code, "08") || strings.HasPrefix(pg.Code, "57P")
	case errors.As(err, &conn), errors.As(err, &ne), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, io.ErrUnexpectedEOF), pgconn.Timeout(err):
		return true
	}
	return false
}

// mapErr turns driver errors into the store's sentinels.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if unavailable(err) {
		return &UnavailableError{Err: err}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %s", ErrConflict, pg.ConstraintName)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w: referenced row (%s)", ErrNotFound, pg.ConstraintName)
		}
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		// SQLite extended result codes: SQLITE_CONSTRAINT_UNIQUE (2067),
		// SQLITE_CONSTRAINT_PRIMARYKEY (1555), SQLITE_CONSTRAINT_FOREIGNKEY (787).
		switch lite.Code() {
		case 2067, 1555:
			return fmt.Errorf("%w: %s", ErrConflict, lite.Error())
		case 787:
			return fmt.Errorf("%w: referenced row", ErrNotFound)
		}
	}
	return err
}

func isRetryable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "40001" || pg.Code == "40P01"
	}
	return false
}

// rowsAffected checks that a write touched exactly one row.
func oneRow(r sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// NewID returns a new random identifier in the UUID form Keycloak uses for
// every object id, so ids move between the two servers unchanged.
func NewID() string { return uuid.NewString() }

// Migrations exposes the embedded schema files for tests that compare dialects.
func Migrations() fs.FS { return migrations }
