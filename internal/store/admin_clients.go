package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// The queries the admin API's client, role and group listings page through.
// Pages are (first, max) as Keycloak's query parameters give them; max < 0
// means no limit.

// pageMax turns a negative max into "no limit" for LIMIT.
func pageMax(max int) int {
	if max < 0 {
		return math.MaxInt32
	}
	return max
}

// containsPattern turns user text into a case-insensitive substring pattern for
// LIKE ... ESCAPE '\', so that "%" and "_" in a search match themselves.
func containsPattern(search string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(search)) + "%"
}

// ListClientsPage returns a page of the realm's clients ordered by clientId.
func (s *DB) ListClientsPage(ctx context.Context, realmID string, first, max int) ([]client.Client, error) {
	return s.scanClients(ctx, `SELECT `+clientCols+` FROM clients WHERE realm_id = $1 ORDER BY client_id LIMIT $2 OFFSET $3`,
		realmID, pageMax(max), first)
}

// SearchClients returns a page of the clients whose clientId contains
// search, ignoring case, ordered by clientId.
func (s *DB) SearchClients(ctx context.Context, realmID, search string, first, max int) ([]client.Client, error) {
	return s.scanClients(ctx, `SELECT `+clientCols+` FROM clients WHERE realm_id = $1 AND LOWER(client_id) LIKE $2 ESCAPE '\'
		ORDER BY client_id LIMIT $3 OFFSET $4`, realmID, containsPattern(search), pageMax(max), first)
}

func (s *DB) scanClients(ctx context.Context, q string, args ...any) ([]client.Client, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []client.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RealmScopeLinks returns the client scope links of every client of the
// realm (the realm defaults, under RealmDefaults, included), keyed by the
// client's internal id, each list in scope-name order.
func (s *DB) RealmScopeLinks(ctx context.Context, realmID string) (map[string][]client.ScopeLink, error) {
	rows, err := s.query(ctx, `SELECT l.client_id, l.scope_id, l.is_default FROM client_scope_links l
		JOIN client_scopes c ON c.id = l.scope_id WHERE l.realm_id = $1 ORDER BY l.client_id, c.name`, realmID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]client.ScopeLink{}
	for rows.Next() {
		var (
			clientID string
			l        client.ScopeLink
		)
		if err := rows.Scan(&clientID, &l.ScopeID, &l.Default); err != nil {
			return nil, err
		}
		out[clientID] = append(out[clientID], l)
	}
	return out, rows.Err()
}

// ClientUserSession is a user session as a client's session listing shows
// it: the session, its user's username, when this client last received a
// token in it (epoch seconds), and every client in the session (internal id
// → clientId).
type ClientUserSession struct {
	Session         session.UserSession
	Username        string
	ClientTimestamp int64
	Clients         map[string]string
}

// ListClientUserSessions returns a page of the online (or offline) user
// sessions in which the client holds a client session, oldest first.
func (s *DB) ListClientUserSessions(ctx context.Context, realmID, clientID string, offline bool, first, max int) ([]ClientUserSession, error) {
	// The page is chosen first, reading only the client's sessions and the
	// order's columns, and only its rows are joined to the rest of the
	// session and to the user: every session of the client is sorted, so
	// the joins made before the LIMIT cost one random read per session, in
	// tables as large as the realm.
	rows, err := s.query(ctx, `SELECT us.id, us.realm_id, us.user_id, us.offline, us.started, us.last_refresh, us.remember_me,
		us.ip_address, us.auth_method, us.auth_time, us.notes, u.username, page.ts
		FROM (SELECT us.id AS id, cs.ts AS ts
			FROM client_sessions cs
			JOIN user_sessions us ON us.id = cs.user_session_id
			WHERE us.realm_id = $1 AND cs.client_id = $2 AND us.offline = $3 AND cs.offline = $3
			ORDER BY us.started, us.id LIMIT $4 OFFSET $5) page
		JOIN user_sessions us ON us.id = page.id
		JOIN users u ON u.id = us.user_id
		ORDER BY us.started, us.id`, realmID, clientID, offline, pageMax(max), first)
	if err != nil {
		return nil, err
	}
	var out []ClientUserSession
	for rows.Next() {
		var (
			x     ClientUserSession
			notes string
		)
		us := &x.Session
		if err := rows.Scan(&us.ID, &us.RealmID, &us.UserID, &us.Offline, &us.Started, &us.LastRefresh, &us.RememberMe,
			&us.IPAddress, &us.AuthMethod, &us.AuthTime, &notes, &x.Username, &x.ClientTimestamp); err != nil {
			rows.Close()
			return nil, err
		}
		if err := fromJSON(notes, &us.Notes); err != nil {
			rows.Close()
			return nil, err
		}
		x.Clients = map[string]string{}
		out = append(out, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	// The other clients of each session, in one query.
	byID := make(map[string]*ClientUserSession, len(out))
	args := []any{realmID}
	for i := range out {
		byID[out[i].Session.ID] = &out[i]
		args = append(args, out[i].Session.ID)
	}
	rows, err = s.query(ctx, `SELECT cs.user_session_id, c.id, c.client_id FROM client_sessions cs
		JOIN clients c ON c.id = cs.client_id
		WHERE c.realm_id = $1 AND cs.user_session_id IN (`+placeholders(2, len(out))+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var sid, id, clientID string
		if err := rows.Scan(&sid, &id, &clientID); err != nil {
			return nil, err
		}
		byID[sid].Clients[id] = clientID
	}
	return out, rows.Err()
}

// SearchRoles returns a page of the realm roles (clientID empty) or of a
// client's roles whose name or description contains search, ignoring case,
// ordered by name. An empty search matches every role.
func (s *DB) SearchRoles(ctx context.Context, realmID, clientID, search string, first, max int) ([]role.Role, error) {
	return s.roles(ctx, `SELECT `+roleCols+` FROM roles WHERE realm_id = $1 AND client_id = $2
		AND (LOWER(name) LIKE $3 ESCAPE '\' OR LOWER(description) LIKE $3 ESCAPE '\')
		ORDER BY name LIMIT $4 OFFSET $5`, realmID, clientID, containsPattern(search), pageMax(max), first)
}

// ListRoleMembers returns a page of the users the role is mapped to directly
// (not through groups or composites), ordered by username.
func (s *DB) ListRoleMembers(ctx context.Context, realmID, roleID string, first, max int) ([]user.User, error) {
	return s.users(ctx, `SELECT `+qualifiedCols("u.", userCols)+` FROM users u JOIN user_roles m ON m.user_id = u.id
		WHERE u.realm_id = $1 AND m.role_id = $2 ORDER BY u.username LIMIT $3 OFFSET $4`, realmID, roleID, pageMax(max), first)
}

// ListRoleGroups returns a page of the groups the role is mapped to
// directly, ordered by name.
func (s *DB) ListRoleGroups(ctx context.Context, realmID, roleID string, first, max int) ([]role.Group, error) {
	return s.groups(ctx, `SELECT `+qualifiedCols("g.", groupCols)+` FROM realm_groups g JOIN group_roles m ON m.group_id = g.id
		WHERE g.realm_id = $1 AND m.role_id = $2 ORDER BY g.name, g.id LIMIT $3 OFFSET $4`, realmID, roleID, pageMax(max), first)
}

// ListGroupMembers returns a page of a group's direct members, ordered by
// username.
func (s *DB) ListGroupMembers(ctx context.Context, realmID, groupID string, first, max int) ([]user.User, error) {
	return s.users(ctx, `SELECT `+qualifiedCols("u.", userCols)+` FROM users u JOIN group_members m ON m.user_id = u.id
		WHERE u.realm_id = $1 AND m.group_id = $2 ORDER BY u.username LIMIT $3 OFFSET $4`, realmID, groupID, pageMax(max), first)
}

// ListSubGroups returns a page of the children of parentID (RootGroup for
// the top-level groups), ordered by name.
func (s *DB) ListSubGroups(ctx context.Context, realmID, parentID string, first, max int) ([]role.Group, error) {
	return s.groups(ctx, `SELECT `+groupCols+` FROM realm_groups WHERE realm_id = $1 AND parent_id = $2
		ORDER BY name, id LIMIT $3 OFFSET $4`, realmID, parentID, pageMax(max), first)
}

// RootGroup is the parent id of a top-level group.
const RootGroup = ""

// SearchGroups returns a page of the groups, at any depth, whose name
// contains search ignoring case (or, when exact, equals it), ordered by name.
func (s *DB) SearchGroups(ctx context.Context, realmID, search string, exact bool, first, max int) ([]role.Group, error) {
	if exact {
		return s.groups(ctx, `SELECT `+groupCols+` FROM realm_groups WHERE realm_id = $1 AND name = $2
			ORDER BY name, id LIMIT $3 OFFSET $4`, realmID, search, pageMax(max), first)
	}
	return s.groups(ctx, `SELECT `+groupCols+` FROM realm_groups WHERE realm_id = $1 AND LOWER(name) LIKE $2 ESCAPE '\'
		ORDER BY name, id LIMIT $3 OFFSET $4`, realmID, containsPattern(search), pageMax(max), first)
}

// CountGroups counts the realm's groups: all of them, only the top-level
// ones, or (when search is not empty) those whose name contains search.
func (s *DB) CountGroups(ctx context.Context, realmID, search string, topOnly bool) (int64, error) {
	var n int64
	var err error
	switch {
	case search != "":
		err = s.queryRow(ctx, `SELECT COUNT(*) FROM realm_groups WHERE realm_id = $1 AND LOWER(name) LIKE $2 ESCAPE '\'`,
			realmID, containsPattern(search)).Scan(&n)
	case topOnly:
		err = s.queryRow(ctx, `SELECT COUNT(*) FROM realm_groups WHERE realm_id = $1 AND parent_id = $2`, realmID, RootGroup).Scan(&n)
	default:
		err = s.queryRow(ctx, `SELECT COUNT(*) FROM realm_groups WHERE realm_id = $1`, realmID).Scan(&n)
	}
	return n, mapErr(err)
}

// SubGroupCounts returns how many children each group of the realm has;
// groups without children are absent.
func (s *DB) SubGroupCounts(ctx context.Context, realmID string) (map[string]int64, error) {
	rows, err := s.query(ctx, `SELECT parent_id, COUNT(*) FROM realm_groups WHERE realm_id = $1 AND parent_id <> $2 GROUP BY parent_id`,
		realmID, RootGroup)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			id string
			n  int64
		)
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// ErrGroupCycle refuses moving a group under itself or one of its descendants.
var ErrGroupCycle = errors.New("a group cannot move under itself or its own subgroup")

// MoveGroup makes the group a child of parentID (RootGroup for the top
// level). The group keeps its id, members, role mappings and subtree. A
// sibling with the same name under the new parent is ErrConflict; a parent
// inside the group's own subtree is ErrGroupCycle; a missing group or parent
// is ErrNotFound.
func (s *DB) MoveGroup(ctx context.Context, realmID, id, parentID string) error {
	return s.InTx(ctx, func(tx *DB) error {
		g, err := scanGroup(tx.queryRow(ctx, `SELECT `+groupCols+` FROM realm_groups WHERE realm_id = $1 AND id = $2`+tx.forUpdate(), realmID, id))
		if err != nil {
			return err
		}
		if g.ParentID == parentID {
			return nil
		}
		// Walk up from the new parent: meeting the group means a cycle.
		for p := parentID; p != RootGroup; {
			if p == id {
				return ErrGroupCycle
			}
			pg, err := tx.GetGroup(ctx, realmID, p)
			if err != nil {
				return fmt.Errorf("parent group: %w", err)
			}
			p = pg.ParentID
		}
		return oneRow(tx.exec(ctx, `UPDATE realm_groups SET parent_id = $3 WHERE realm_id = $1 AND id = $2`, realmID, id, parentID))
	})
}

// qualifiedCols qualifies each column of a column list with a table alias.
func qualifiedCols(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
