package store

import (
	"context"
	"strings"
)

// batchParams bounds the parameters of one multi-row INSERT, well under
// both engines' limits (SQLite 32766, PostgreSQL 65535). SQLite's driver
// looks each parameter's name up in a list as it binds it, so a statement
// of n parameters costs n² there: it gets short statements, which cost it
// no round trip anyway.
func (s *DB) batchParams() int {
	if s.dialect == SQLite {
		return 300
	}
	return 8000
}

// insertRows runs insertInto (an "INSERT INTO t (cols)" prefix) with as many
// rows per statement as batchParams allows. Each row has the same number
// of values. A multi-row INSERT is one round trip and one statement for the
// engine to plan, which is what makes loading many rows at once cheap; a
// single row is the same statement with one VALUES tuple.
func (s *DB) insertRows(ctx context.Context, insertInto, suffix string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	cols := len(rows[0])
	per := max(1, s.batchParams()/cols)
	for len(rows) > 0 {
		batch := rows[:min(per, len(rows))]
		rows = rows[len(batch):]
		var b strings.Builder
		b.WriteString(insertInto)
		b.WriteString(" VALUES ")
		args := make([]any, 0, len(batch)*cols)
		for i, r := range batch {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			b.WriteString(placeholders(len(args)+1, cols))
			b.WriteString(")")
			args = append(args, r...)
		}
		b.WriteString(suffix)
		if _, err := s.exec(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}
