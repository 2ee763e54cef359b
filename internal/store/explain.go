package store

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// PlanStep is one step of the engine's plan for a statement.
type PlanStep struct {
	// Table is the table the step reads ("" for steps that read none).
	Table string
	// FullScan is set when the step reads every row of Table, or of one
	// realm in Table: a sequential scan, a walk of a whole index, or an
	// index search on nothing narrower than coarseColumns.
	FullScan bool
	// Detail is the engine's own words for the step.
	Detail string
}

// Explain returns the engine's plan for query (in the engine's own
// placeholders, as TraceStatements gives it) with args, without running it:
// EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL, which plans with the
// arguments' values as it would for this execution.
func (s *DB) Explain(ctx context.Context, query string, args []any) ([]PlanStep, error) {
	if s.dialect == SQLite {
		rows, err := s.q.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			return nil, mapErr(err)
		}
		defer rows.Close()
		aliases := tableAliases(query)
		var out []PlanStep
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				return nil, err
			}
			step := sqlitePlanStep(detail)
			if t, ok := aliases[step.Table]; ok {
				step.Table = t
			}
			out = append(out, step)
		}
		return out, rows.Err()
	}
	var doc string
	if err := s.q.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&doc); err != nil {
		return nil, mapErr(err)
	}
	var plans []struct{ Plan pgPlanNode }
	if err := json.Unmarshal([]byte(doc), &plans); err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	var out []PlanStep
	for _, p := range plans {
		p.Plan.steps(&out, "")
	}
	return out, nil
}

// tableRef matches a table named in a statement, with its alias if any.
var tableRef = regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+([a-z_]+)(?:\s+(?:AS\s+)?([a-z_]+))?`)

// tableAliases maps the aliases a statement gives its tables to the
// tables, as SQLite's plan names a table by its alias.
func tableAliases(query string) map[string]string {
	out := map[string]string{}
	for _, m := range tableRef.FindAllStringSubmatch(query, -1) {
		if m[2] != "" && !sqlKeywords[strings.ToUpper(m[2])] {
			out[m[2]] = m[1]
		}
	}
	return out
}

var sqlKeywords = map[string]bool{"WHERE": true, "JOIN": true, "LEFT": true, "INNER": true, "ON": true, "ORDER": true,
	"GROUP": true, "LIMIT": true, "USING": true, "CROSS": true, "RETURNING": true, "SET": true, "UNION": true}

// sqliteScan matches SQLite's words for reading a whole table or index:
// "SCAN t", "SCAN t USING INDEX i", "SCAN t USING COVERING INDEX i"
// (a "SEARCH" step uses an index with a condition).
var sqliteScan = regexp.MustCompile(`^SCAN (\S+)`)
var sqliteSearch = regexp.MustCompile(`^SEARCH (\S+)`)

func sqlitePlanStep(detail string) PlanStep {
	if m := sqliteScan.FindStringSubmatch(detail); m != nil && m[1] != "CONSTANT" {
		return PlanStep{Table: m[1], FullScan: true, Detail: detail}
	}
	if m := sqliteSearch.FindStringSubmatch(detail); m != nil {
		cond := ""
		if i := strings.LastIndex(detail, "("); i >= 0 {
			cond = detail[i:]
		}
		return PlanStep{Table: m[1], FullScan: onlyCoarse(cond), Detail: detail}
	}
	return PlanStep{Detail: detail}
}

// coarseColumns are columns that almost every row of a realm shares a
// value of: an index condition on nothing else reads the whole realm.
var coarseColumns = map[string]bool{"realm_id": true, "offline": true, "service_account_of": true}

// condColumn matches a column compared in an index condition, in either
// engine's words: "realm_id=?", "(realm_id = 'x'::text)", "lower(name) ~>=~".
var condColumn = regexp.MustCompile(`([a-z_]+)\)?\s*(?:=|<|>|~)`)

// onlyCoarse reports whether an index condition compares coarse columns
// only (or nothing).
func onlyCoarse(cond string) bool {
	for _, m := range condColumn.FindAllStringSubmatch(cond, -1) {
		if !coarseColumns[m[1]] {
			return false
		}
	}
	return true
}

// pgPlanNode is the part of PostgreSQL's JSON plan that Explain reads.
type pgPlanNode struct {
	NodeType  string       `json:"Node Type"`
	Relation  string       `json:"Relation Name"`
	Index     string       `json:"Index Name"`
	IndexCond string       `json:"Index Cond"`
	Filter    string       `json:"Filter"`
	Plans     []pgPlanNode `json:"Plans"`
}

// steps appends the node's steps; a bitmap index scan reads the table of
// the heap scan above it, parent.
func (n pgPlanNode) steps(out *[]PlanStep, parent string) {
	if n.Relation != "" {
		parent = n.Relation
	}
	step := PlanStep{Table: n.Relation, Detail: strings.TrimSpace(n.NodeType + " " + n.Relation + " " + n.Index + " " + n.IndexCond + " " + n.Filter)}
	switch n.NodeType {
	case "Seq Scan":
		step.FullScan = true
	case "Index Scan", "Index Only Scan", "Bitmap Index Scan":
		// An index walked from end to end, for its order, reads every row.
		step.FullScan = onlyCoarse(n.IndexCond)
		step.Table = parent
	}
	*out = append(*out, step)
	for _, c := range n.Plans {
		c.steps(out, parent)
	}
}

// TableSizes returns how many rows each of the store's tables holds.
func (s *DB) TableSizes(ctx context.Context) (map[string]int64, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if s.dialect == Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := s.q.QueryContext(ctx, q)
	if err != nil {
		return nil, mapErr(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(names))
	for _, n := range names {
		var c int64
		// The names come from the catalogue, not from a caller.
		if err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+n+`"`).Scan(&c); err != nil {
			return nil, mapErr(err)
		}
		out[n] = c
	}
	return out, nil
}

// Analyze has the engine gather the statistics its planner decides on,
// as a live database has them: on SQLite what Optimize gathers, on
// PostgreSQL an ANALYZE of every table, which autovacuum does by itself
// some time after large writes. Without statistics a planner picks indexes
// by their shape alone and may walk a whole realm for the order of the rows
// it returns.
func (s *DB) Analyze(ctx context.Context) error {
	if s.dialect == SQLite {
		return s.Optimize(ctx)
	}
	sizes, err := s.TableSizes(ctx)
	if err != nil {
		return err
	}
	for n := range sizes {
		if _, err := s.q.ExecContext(ctx, `ANALYZE "`+n+`"`); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// Optimize refreshes SQLite's planner statistics on the tables whose size
// has changed enough since they were last gathered (PRAGMA optimize, with
// SQLite's own bound on the work): Open runs it, and the cleanup loop runs
// it every pass, so a database that grows keeps plans that use the
// indexes. PostgreSQL's autovacuum does this by itself.
//
// Only the per-index row estimates (sqlite_stat1) are kept; the value
// samples (sqlite_stat4, which this SQLite build gathers) are dropped.
// With samples, SQLite plans a statement for the values bound to it, so
// binding new values to a prepared statement expires its plan and the next
// step parses and plans the SQL again: every execution of every indexed
// lookup paid a whole prepare (a seventh of the server's CPU on the client
// credentials grant, measured), which is what preparing statements once
// (statements.go) is for. The estimates alone choose the same indexes for
// the equality lookups the request paths run (TestPathsUseIndexes).
//
// Outside a transaction the connection that gathered then lets go of the
// pages it read for that (PRAGMA shrink_memory): they are whole tables,
// not what requests read, and would stay in its page cache until a write
// elsewhere made them stale.
func (s *DB) Optimize(ctx context.Context) error {
	if s.dialect != SQLite {
		return nil
	}
	if s.inTx {
		return optimizeOn(ctx, s.q)
	}
	// One connection for every statement: ANALYZE loads what it gathered
	// into the connection that ran it, and the reload drops the samples
	// there. Connections opened later read the tables as left here.
	// The writer gate first, then the connection, in the order every write
	// takes them.
	if s.run != nil {
		leave, err := s.run.enterWriter(ctx)
		if err != nil {
			return fmt.Errorf("optimize: %w", err)
		}
		defer leave()
	}
	conn, err := s.sql.Conn(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer conn.Close()
	if err := optimizeOn(ctx, conn); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "PRAGMA shrink_memory")
	return mapErr(err)
}

// optimizeOn gathers the statistics on one connection (or transaction) and
// drops the value samples, reloading the statistics without them.
func optimizeOn(ctx context.Context, c querier) error {
	if _, err := c.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		return mapErr(err)
	}
	var samples int
	if err := c.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'`).Scan(&samples); err != nil {
		return mapErr(err)
	}
	if samples == 0 {
		return nil
	}
	r, err := c.ExecContext(ctx, "DELETE FROM sqlite_stat4")
	if err != nil {
		return mapErr(err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return nil
	}
	_, err = c.ExecContext(ctx, "ANALYZE sqlite_schema") // reload the statistics without the samples
	return mapErr(err)
}
