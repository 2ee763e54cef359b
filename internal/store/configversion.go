package store

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Configuration tables hold what an administrator sets up: realms, clients,
// scopes, roles, groups, keys, the authentication model. Nodes cache what
// they read from them (see configcache.go), so every write to one of them
// raises config_version in the same transaction. The store finds those
// writes itself, from the statement text, in exec and query: a new write
// path cannot forget the bump, and a new table must be listed in one of the
// two sets below or the schema test fails.
var configTables = map[string]bool{
	"realms":                    true,
	"clients":                   true,
	"client_scopes":             true,
	"client_scope_links":        true,
	"roles":                     true,
	"role_composites":           true,
	"realm_groups":              true,
	"group_roles":               true,
	"client_role_scopes":        true,
	"scope_role_scopes":         true,
	"realm_keys":                true,
	"auth_config":               true,
	"components":                true,
	"identity_providers":        true,
	"identity_provider_mappers": true,
	"authz_resource_servers":    true,
	"authz_resources":           true,
	"authz_scopes":              true,
	"authz_resource_scopes":     true,
	"authz_policies":            true,
	"authz_policy_policies":     true,
	"authz_policy_resources":    true,
	"authz_policy_scopes":       true,
}

// dataTables are never cached: users and what they hold, sessions, codes,
// revocations, counters, events.
var dataTables = map[string]bool{
	"users":                 true,
	"credentials":           true,
	"user_roles":            true,
	"group_members":         true,
	"user_sessions":         true,
	"client_sessions":       true,
	"revoked_tokens":        true,
	"user_consents":         true,
	"auth_sessions":         true,
	"auth_codes":            true,
	"login_failures":        true,
	"events":                true,
	"admin_events":          true,
	"device_codes":          true,
	"client_initial_access": true,
	"pushed_requests":       true,
	"user_attributes":       true,
	"sync_state":            true,
	"federated_identities":  true,
	// Permission tickets are users' requests and grants, read fresh by
	// each grant; a granted ticket's policy is configuration and bumps
	// the version where it is written.
	"authz_permission_tickets": true,
	"config_version":           true,
	"goose_db_version":         true,
	// SQLite's planner statistics (Optimize)
	"sqlite_stat4": true,
}

// writesConfig memoizes, per statement text, whether it writes a
// configuration table. Statements are constants, so the map stays as small
// as the store's source.
var writesConfigMemo sync.Map // string → bool

func writesConfig(q string) bool {
	if v, ok := writesConfigMemo.Load(q); ok {
		return v.(bool)
	}
	w := false
	for _, t := range writtenTables(q) {
		if configTables[t] {
			w = true
		}
	}
	writesConfigMemo.Store(q, w)
	return w
}

// writtenTables names the tables a statement inserts into, updates or
// deletes from, in its main part or in a WITH clause. "ON CONFLICT ... DO
// UPDATE SET" writes the INSERT's own table.
func writtenTables(q string) []string {
	f := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return r == ' ' || r == '\n' || r == '\t' || r == '\r' || r == '(' || r == ')' || r == ',' || r == ';'
	})
	var out []string
	for i := 0; i < len(f); i++ {
		next := func(skip ...string) string {
			for i+1 < len(f) {
				i++
				skipped := false
				for _, s := range skip {
					if f[i] == s {
						skipped = true
					}
				}
				if !skipped {
					return f[i]
				}
			}
			return ""
		}
		switch f[i] {
		case "insert":
			out = append(out, next("or", "replace", "ignore", "into"))
		case "update":
			if t := next("only"); t != "set" {
				out = append(out, t)
			}
		case "delete":
			out = append(out, next("from", "only"))
		}
	}
	return out
}

// markConfigWrite records that the transaction wrote configuration; the
// version is raised once, just before commit (see runTx), so the version
// row is the last lock the transaction takes and two writers cannot
// deadlock on it.
func (s *DB) markConfigWrite() { *s.configDirty = true }

// bumpConfigVersion raises the configuration version inside the
// transaction and, on PostgreSQL, queues a notification that the database
// delivers to every listening node when (and only if) it commits.
func (s *DB) bumpConfigVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.q.QueryRowContext(ctx, `UPDATE config_version SET version = version + 1 WHERE id = 1 RETURNING version`).Scan(&v); err != nil {
		return 0, mapErr(err)
	}
	if s.dialect == Postgres {
		if _, err := s.q.ExecContext(ctx, `SELECT pg_notify('`+configChannel+`', current_schema() || ' ' || $1)`, strconv.FormatInt(v, 10)); err != nil {
			return 0, mapErr(err)
		}
	}
	return v, nil
}

// ConfigVersion reads the configuration version: the one round trip that
// tells a node whether what it caches is current.
func (s *DB) ConfigVersion(ctx context.Context) (int64, error) {
	// Through hotRow: every request runs it, so on SQLite it is prepared
	// once and runs without a cancellation goroutine, like the statements
	// whose results it guards, and on PostgreSQL it skips database/sql's
	// row conversions.
	var v int64
	err := s.hotRow(ctx, `SELECT version FROM config_version WHERE id = 1`).Scan(&v)
	return v, mapErr(err)
}

// The version read of a request, shared (PostgreSQL).
//
// Each request reads the version once, before its first cached read
// (configcache.go), and on PostgreSQL that read is a round trip: under load,
// a good part of a bearer check's CPU. What a request needs is a version
// read *sent after it asked*: every write committed before then is seen.
// Any number of requests asking at once can share one such read. So one
// read is in flight at a time; the requests that ask meanwhile wait
// together for the next one, which is sent the moment the one in flight
// has answered, and which none of them asked for after it was sent. A
// request waits at most for the read in flight and its own, and no request
// ever gets a version read before it asked. SQLite has no round trip to
// save: each request reads its own, or none while nothing has been
// committed (walindex.go).

// versionReads is a node's shared version reads.
type versionReads struct {
	mu sync.Mutex
	// open is the read that requests asking now join; it is not sent yet.
	open *versionRead
	// inFlight is the read sent and not yet answered, if any.
	inFlight *versionRead
}

// versionRead is one version read shared by the requests that joined it.
type versionRead struct {
	done    chan struct{} // closed once version and err are set
	version int64
	err     error
	joined  int // requests sharing it, counted while it is open (for tests)
}

// versionReadWait bounds a shared read, which runs on behalf of several
// requests and so without any one request's cancellation: a read that
// hangs must not hold up the reads queued behind it for longer.
const versionReadWait = 10 * time.Second

// requestVersion reads the configuration version for a request starting
// its view: a read shared with the requests asking at the same time on
// PostgreSQL, its own on SQLite. A shared read that failed is made again
// by each request, with its own context, so that a request only ever sees
// its own error.
func (s *DB) requestVersion(ctx context.Context) (int64, error) {
	if s.dialect != Postgres {
		return s.sqliteVersion(ctx)
	}
	r := &s.cache.reads
	r.mu.Lock()
	rd := r.open
	var after *versionRead
	lead := rd == nil
	if lead {
		rd = &versionRead{done: make(chan struct{})}
		r.open, after = rd, r.inFlight
	}
	rd.joined++
	r.mu.Unlock()
	if lead {
		s.sendVersionRead(ctx, rd, after)
	}
	select {
	case <-rd.done:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	if rd.err != nil {
		return s.ConfigVersion(ctx)
	}
	return rd.version, nil
}

// sendVersionRead sends rd once the read in flight before it (after, or
// nil) has answered, and answers the requests that joined it. It goes on
// whether or not the leading request is still waiting: others may be.
func (s *DB) sendVersionRead(ctx context.Context, rd, after *versionRead) {
	if after != nil {
		<-after.done
	}
	r := &s.cache.reads
	r.mu.Lock()
	r.open, r.inFlight = nil, rd // from here on, requests join the next read
	r.mu.Unlock()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), versionReadWait)
	rd.version, rd.err = s.ConfigVersion(rctx)
	cancel()
	r.mu.Lock()
	if r.inFlight == rd {
		r.inFlight = nil
	}
	r.mu.Unlock()
	close(rd.done)
}
