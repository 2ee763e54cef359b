package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// scanPlan is where one value's columns are scanned to, and what turns
// them into the value once scanned (JSON columns decoded; nil when the
// columns are the value). Plans put side by side read a row that joins
// several tables.
type scanPlan struct {
	dest   []any
	finish func() error
}

// scanInto scans one row into the plans, in order.
func scanInto(sc interface{ Scan(...any) error }, plans ...scanPlan) error {
	var dest []any
	if len(plans) == 1 {
		dest = plans[0].dest
	} else {
		n := 0
		for _, p := range plans {
			n += len(p.dest)
		}
		dest = make([]any, 0, n)
		for _, p := range plans {
			dest = append(dest, p.dest...)
		}
	}
	if err := sc.Scan(dest...); err != nil {
		return mapErr(err)
	}
	for _, p := range plans {
		if p.finish == nil {
			continue
		}
		if err := p.finish(); err != nil {
			return err
		}
	}
	return nil
}

// qualify prefixes each column of a column list with a table alias.
func qualify(alias, cols string) string {
	fields := strings.Split(cols, ",")
	for i, f := range fields {
		fields[i] = alias + "." + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}

// TokenState is what checking a presented token needs from the store
// beyond the realm's configuration: whether its jti was revoked, and the
// sessions and user it stands on. Each field is read as it is at the
// moment of the one query that reads them all.
type TokenState struct {
	Revoked       bool
	UserSession   session.UserSession
	ClientSession session.ClientSession
	User          user.User
}

// revokedCol is the TokenState.Revoked column for the jti in $1 ("" for a
// token whose revocation is not checked).
const revokedCol = `CASE WHEN $1 = '' THEN 0 ELSE (SELECT COUNT(*) FROM revoked_tokens WHERE jti = $1) END`

// mappingCols are the direct role mappings and group memberships of the
// user u, each as "count:" and the space-separated ids (NULL for none;
// see splitMappingIDs for why the count): what the user's
// effective roles are computed from (effectiveRolesCached), read with the
// rest of the token's state so that userinfo, introspection and the
// refresh grant need no query of their own for them.
const mappingCols = `(SELECT CAST(COUNT(*) AS TEXT) || ':' || string_agg(role_id, ' ') FROM user_roles WHERE user_id = u.id),
	(SELECT CAST(COUNT(*) AS TEXT) || ':' || string_agg(group_id, ' ') FROM group_members WHERE user_id = u.id)`

// sessionTokenStateQuery is built once: every bearer check runs it.
var sessionTokenStateQuery = `SELECT ` + revokedCol + `, ` + qualify("us", userSessionCols) + `, ` +
	qualify("cs", clientSessionCols) + `, ` + qualify("u", userCols) + `, ` + mappingCols + `
		FROM user_sessions us
		JOIN client_sessions cs ON cs.user_session_id = us.id AND cs.client_id = $4
		JOIN users u ON u.realm_id = us.realm_id AND u.id = us.user_id
		WHERE us.realm_id = $2 AND us.id = $3`

// SessionTokenState reads in one query whether jti is revoked (jti ""
// is not checked), the realm's user session sid, its client session for
// the client with id clientID, and the session's user. ErrNotFound when
// any of the three is missing.
func (s *DB) SessionTokenState(ctx context.Context, realmID, jti, sid, clientID string) (TokenState, error) {
	var (
		st      TokenState
		revoked int
	)
	var roles, groups sql.NullString
	err := scanInto(s.hotRow(ctx, sessionTokenStateQuery, jti, realmID, sid, clientID),
		scanPlan{dest: []any{&revoked}},
		userSessionPlan(&st.UserSession), clientSessionPlan(&st.ClientSession), userPlan(&st.User),
		scanPlan{dest: []any{&roles, &groups}})
	st.Revoked = revoked > 0
	if err == nil {
		keepMappingsInView(ctx, st.User.ID, roles.String, groups.String)
	}
	return st, err
}

// UserTokenState reads in one query whether jti is revoked (jti "" is not
// checked) and the realm's user userID, for a token without a session.
// ErrNotFound when the user is missing.
func (s *DB) UserTokenState(ctx context.Context, realmID, jti, userID string) (TokenState, error) {
	var (
		st      TokenState
		revoked int
	)
	var roles, groups sql.NullString
	err := scanInto(s.hotRow(ctx, `SELECT `+revokedCol+`, `+qualify("u", userCols)+`, `+mappingCols+`
		FROM users u WHERE u.realm_id = $2 AND u.id = $3`, jti, realmID, userID),
		scanPlan{dest: []any{&revoked}}, userPlan(&st.User),
		scanPlan{dest: []any{&roles, &groups}})
	st.Revoked = revoked > 0
	if err == nil {
		keepMappingsInView(ctx, st.User.ID, roles.String, groups.String)
	}
	return st, err
}
