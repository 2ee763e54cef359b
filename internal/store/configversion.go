package store

import (
	"context"
	"strconv"
	"strings"
	"sync"
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
