package store

import (
	"context"
	"math"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// UserQuery is the admin API's user search, with Keycloak's semantics
// (JpaUserProvider.searchForUserStream in Keycloak 26):
//
//   - Search is split on blanks and every term must match username, email,
//     first name or last name. A term matches by prefix; "*" is a wildcard
//     ("*foo*" for a substring); a term in double quotes matches exactly.
//   - Username, Email, FirstName and LastName each match as a substring, or
//     exactly when Exact is true. All comparisons ignore case.
//   - Attributes are custom attributes that must all be present, each with
//     one value equal to the given one ignoring case (a substring when Exact
//     is explicitly false).
//   - Service accounts are left out unless IncludeServiceAccounts is set,
//     as Keycloak leaves them out of a plain listing and a search.
//   - InGroups, when not nil, keeps the direct members of those groups (an
//     empty list keeps no one): the listing of an administrator who may see
//     only some groups' members.
//
// LIKE's own wildcards (% and _) in a value are matched literally.
type UserQuery struct {
	Search                               string
	Username, Email, FirstName, LastName *string
	Exact                                *bool
	Enabled, EmailVerified               *bool
	Attributes                           map[string]string
	IncludeServiceAccounts               bool
	InGroups                             []string
}

// SearchUsers returns a page of the realm's users matching q, ordered by
// username. max < 0 means no limit.
func (s *DB) SearchUsers(ctx context.Context, realmID string, q UserQuery, first, max int) ([]user.User, error) {
	ctx = cancellable(ctx) // a scan: an abandoned search stops
	if max < 0 {
		max = math.MaxInt32
	}
	if max == 0 {
		return nil, nil
	}
	where, args := q.where(realmID, s.dialect)
	// Usernames are stored in lower case, so lower(username) orders them
	// the same; but no index gives that order, so a planner answers a
	// search from the search indexes and sorts what matched, rather than
	// walking the realm's usernames in order and filtering until the page
	// is full, which reads every user when the matches are few.
	order := "username"
	if len(strings.Fields(q.Search)) > 0 {
		order = "lower(username)"
	}
	if len(q.Attributes) == 0 {
		args = append(args, max, first)
		return s.users(ctx, `SELECT `+userCols+` FROM users WHERE `+where+
			` ORDER BY `+order+` LIMIT $`+strconv.Itoa(len(args)-1)+` OFFSET $`+strconv.Itoa(len(args)), args...)
	}
	// Attributes live in one JSON column, which the two dialects query
	// differently; the other conditions narrow the rows in SQL and the
	// attributes are matched here, paging included.
	var out []user.User
	err := s.eachUser(ctx, `SELECT `+userCols+` FROM users WHERE `+where+` ORDER BY `+order, args, func(u user.User) bool {
		if !q.attributesMatch(u) {
			return true
		}
		if first > 0 {
			first--
			return true
		}
		out = append(out, u)
		return len(out) < max
	})
	return out, err
}

// CountUsersMatching returns how many of the realm's users match q.
func (s *DB) CountUsersMatching(ctx context.Context, realmID string, q UserQuery) (int, error) {
	ctx = cancellable(ctx)
	where, args := q.where(realmID, s.dialect)
	if len(q.Attributes) == 0 {
		var n int
		err := s.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE `+where, args...).Scan(&n)
		return n, mapErr(err)
	}
	n := 0
	err := s.eachUser(ctx, `SELECT `+userCols+` FROM users WHERE `+where, args, func(u user.User) bool {
		if q.attributesMatch(u) {
			n++
		}
		return true
	})
	return n, err
}

// eachUser calls fn for each row until it returns false.
func (s *DB) eachUser(ctx context.Context, q string, args []any, fn func(user.User) bool) error {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return err
		}
		if !fn(u) {
			return nil
		}
	}
	return rows.Err()
}

// UsersWithCredentialType reports which of the given users hold at least
// one credential of type typ ("otp" for the user representation's totp flag).
func (s *DB) UsersWithCredentialType(ctx context.Context, userIDs []string, typ string) (map[string]bool, error) {
	out := map[string]bool{}
	// Bounded batches keep every statement under both engines' parameter limits.
	for len(userIDs) > 0 {
		batch := userIDs[:min(len(userIDs), 500)]
		userIDs = userIDs[len(batch):]
		args := []any{typ}
		for _, id := range batch {
			args = append(args, id)
		}
		rows, err := s.query(ctx, `SELECT DISTINCT user_id FROM credentials WHERE type = $1 AND user_id IN (`+
			placeholders(2, len(batch))+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// where builds the SQL conditions of q. Attributes are narrowed down here
// through user_attributes when they must equal a value; the caller checks
// them in full on each user (attributesMatch).
//
// Usernames and emails are stored in lower case, so they are compared as
// they are, which lets the (realm_id, username) and (realm_id, email)
// indexes answer. A prefix LIKE uses an index on PostgreSQL when it is on
// the very expression compared (text_pattern_ops); SQLite's LIKE ignores
// ASCII case, exactly what its lower() folds, so there the name columns
// are compared as they are, against the indexes that ignore case.
func (q UserQuery) where(realmID string, d Dialect) (string, []any) {
	conds := []string{"realm_id = $1"}
	args := []any{realmID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !q.IncludeServiceAccounts {
		conds = append(conds, "service_account_of = ''")
	}
	for _, term := range strings.Fields(q.Search) {
		term = strings.ToLower(term)
		if len(term) >= 2 && term[0] == '"' && term[len(term)-1] == '"' {
			p := arg(term[1 : len(term)-1])
			conds = append(conds, "(username = "+p+" OR email = "+p+" OR lower(first_name) = "+p+" OR lower(last_name) = "+p+")")
			continue
		}
		pattern := strings.ReplaceAll(escapeLike(term), "*", "%")
		if !strings.HasSuffix(pattern, "%") {
			pattern += "%"
		}
		p := arg(pattern)
		first, last := "lower(first_name)", "lower(last_name)"
		if d == SQLite {
			first, last = "first_name", "last_name"
		}
		conds = append(conds, "(username LIKE "+p+likeEscape+" OR email LIKE "+p+likeEscape+
			" OR "+first+" LIKE "+p+likeEscape+" OR "+last+" LIKE "+p+likeEscape+")")
	}
	exact := q.Exact != nil && *q.Exact
	for _, f := range []struct {
		col string
		val *string
	}{{"username", q.Username}, {"email", q.Email}, {"first_name", q.FirstName}, {"last_name", q.LastName}} {
		if f.val == nil {
			continue
		}
		v := strings.ToLower(*f.val)
		col := "lower(" + f.col + ")"
		if f.col == "username" || f.col == "email" {
			col = f.col
		}
		if exact {
			conds = append(conds, col+" = "+arg(v))
		} else {
			conds = append(conds, "lower("+f.col+") LIKE "+arg("%"+escapeLike(v)+"%")+likeEscape)
		}
	}
	if q.Enabled != nil {
		conds = append(conds, "enabled = "+arg(*q.Enabled))
	}
	if q.InGroups != nil {
		if len(q.InGroups) == 0 {
			conds = append(conds, "1 = 0")
		} else {
			ps := make([]string, len(q.InGroups))
			for i, g := range q.InGroups {
				ps[i] = arg(g)
			}
			conds = append(conds, "id IN (SELECT user_id FROM group_members WHERE group_id IN ("+strings.Join(ps, ", ")+"))")
		}
	}
	if q.EmailVerified != nil {
		conds = append(conds, "email_verified = "+arg(*q.EmailVerified))
	}
	if q.Exact == nil || *q.Exact {
		for name, want := range q.Attributes {
			conds = append(conds, "id IN (SELECT user_id FROM user_attributes WHERE realm_id = $1 AND name = "+
				arg(name)+" AND value = "+arg(attributeKey(want))+")")
		}
	}
	return strings.Join(conds, " AND "), args
}

// attributesMatch applies q's attribute conditions to u.
func (q UserQuery) attributesMatch(u user.User) bool {
	substring := q.Exact != nil && !*q.Exact
	for name, want := range q.Attributes {
		want = strings.ToLower(want)
		found := false
		for _, v := range u.Attributes[name] {
			v = strings.ToLower(v)
			if v == want || substring && strings.Contains(v, want) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// likeEscape makes backslash LIKE's escape character on both engines
// (SQLite has none by default; PostgreSQL's standard strings keep '\' as is).
const likeEscape = ` ESCAPE '\'`

// escapeLike makes %, _ and \ in s match themselves in a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
