package store

import (
	"context"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/client"
)

// RoleRef is a role as a token names it.
type RoleRef struct {
	ID       string
	Name     string
	ClientID string // internal id of the owning client; "" for realm roles
	// ClientClientID is the owning client's clientId, the key of resource_access.
	ClientClientID string
}

// EffectiveRoles returns every role a user holds, with names and owning
// clients, in one query: direct mappings, the mappings of the user's groups
// and their ancestors, expanded through composites. UNION (not UNION ALL)
// makes the recursion stop on cycles, which Keycloak allows. It answers the
// same set as EffectiveRoleIDs, which the token endpoint used to assemble
// from half a dozen queries per request.
//
// With a configuration view (protocol requests) only the user's own rows,
// direct role mappings and group memberships, are read from the database;
// the rest of the walk (group ancestors, group roles, composites, names)
// is configuration and comes from the node's cache (roleDirectory), with
// the same answer.
func (s *DB) EffectiveRoles(ctx context.Context, realmID, userID string) ([]RoleRef, error) {
	sn, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if sn != nil {
		return s.effectiveRolesCached(ctx, realmID, userID)
	}
	rows, err := s.query(ctx, `WITH RECURSIVE
		grp(id) AS (
			SELECT group_id FROM group_members WHERE user_id = $1
			UNION
			SELECT g.parent_id FROM realm_groups g JOIN grp ON g.id = grp.id WHERE g.parent_id <> ''
		),
		eff(id) AS (
			SELECT role_id FROM user_roles WHERE user_id = $1
			UNION
			SELECT role_id FROM group_roles WHERE group_id IN (SELECT id FROM grp)
			UNION
			SELECT c.child_id FROM role_composites c JOIN eff ON c.parent_id = eff.id
		)
		SELECT r.id, r.name, r.client_id, COALESCE(cl.client_id, '')
		FROM eff JOIN roles r ON r.id = eff.id
		LEFT JOIN clients cl ON cl.id = r.client_id
		WHERE r.realm_id = $2
		ORDER BY r.client_id, r.name`, userID, realmID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RoleRef
	for rows.Next() {
		var r RoleRef
		if err := rows.Scan(&r.ID, &r.Name, &r.ClientID, &r.ClientClientID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// roleDirectory is the configuration EffectiveRoles walks for one realm:
// every role with its names, each group's parent and roles. The composite
// edges are CompositeGraph's.
type roleDirectory struct {
	roles       map[string]RoleRef
	groupParent map[string]string
	groupRoles  map[string][]string
}

// roleDirectoryOf returns the realm's roleDirectory, cached per
// configuration version. Call it with a view only.
func (s *DB) roleDirectoryOf(ctx context.Context, realmID string) (*roleDirectory, error) {
	return cached(ctx, s, func(sn *snapshot) *memo[string, *roleDirectory] { return &sn.roleDirs }, realmID, func() (*roleDirectory, error) {
		return s.loadRoleDirectory(ctx, realmID)
	})
}

func (s *DB) loadRoleDirectory(ctx context.Context, realmID string) (*roleDirectory, error) {
	d := &roleDirectory{roles: map[string]RoleRef{}, groupParent: map[string]string{}, groupRoles: map[string][]string{}}
	rows, err := s.query(ctx, `SELECT r.id, r.name, r.client_id, COALESCE(cl.client_id, '')
		FROM roles r LEFT JOIN clients cl ON cl.id = r.client_id
		WHERE r.realm_id = $1`, realmID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r RoleRef
		if err := rows.Scan(&r.ID, &r.Name, &r.ClientID, &r.ClientClientID); err != nil {
			return nil, err
		}
		d.roles[r.ID] = r
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	rows, err = s.query(ctx, `SELECT id, parent_id FROM realm_groups WHERE realm_id = $1`, realmID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent string
		if err := rows.Scan(&id, &parent); err != nil {
			return nil, err
		}
		d.groupParent[id] = parent
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	rows, err = s.query(ctx, `SELECT gr.group_id, gr.role_id FROM group_roles gr
		JOIN realm_groups g ON g.id = gr.group_id WHERE g.realm_id = $1`, realmID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var g, r string
		if err := rows.Scan(&g, &r); err != nil {
			return nil, err
		}
		d.groupRoles[g] = append(d.groupRoles[g], r)
	}
	return d, rows.Err()
}

// effectiveRolesCached answers EffectiveRoles from the user's direct role
// mappings and group memberships (one query of the user's own rows) and
// the realm's cached roleDirectory and composite graph.
func (s *DB) effectiveRolesCached(ctx context.Context, realmID, userID string) ([]RoleRef, error) {
	dir, err := s.roleDirectoryOf(ctx, realmID)
	if err != nil {
		return nil, err
	}
	graph, err := s.CompositeGraph(ctx, realmID)
	if err != nil {
		return nil, err
	}
	direct, groups, err := s.userMappings(ctx, userID)
	if err != nil {
		return nil, err
	}
	held := make(map[string]bool, len(direct))
	queue := make([]string, 0, len(direct))
	for _, id := range direct {
		if !held[id] {
			held[id] = true
			queue = append(queue, id)
		}
	}
	// The groups and their ancestors; seen stops a cycle of parents.
	seen := map[string]bool{}
	for _, g := range groups {
		for g != "" && !seen[g] {
			seen[g] = true
			for _, r := range dir.groupRoles[g] {
				if !held[r] {
					held[r] = true
					queue = append(queue, r)
				}
			}
			g = dir.groupParent[g]
		}
	}
	// Composites, breadth first; held stops cycles, which Keycloak allows.
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, c := range graph[id] {
			if !held[c] {
				held[c] = true
				queue = append(queue, c)
			}
		}
	}
	var out []RoleRef
	for id := range held {
		if r, ok := dir.roles[id]; ok {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b RoleRef) int {
		if c := strings.Compare(a.ClientID, b.ClientID); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// userMappings returns the user's direct role mappings and group
// memberships: those the request's bearer check has just read with the
// session (SessionTokenState, mappingsInView), else one query.
func (s *DB) userMappings(ctx context.Context, userID string) (roles, groups []string, err error) {
	if m := mappingsInView(ctx, userID); m != nil {
		return m.roles, m.groups, nil
	}
	rows, err := s.query(ctx, `SELECT 0, role_id FROM user_roles WHERE user_id = $1
		UNION ALL SELECT 1, group_id FROM group_members WHERE user_id = $1`, userID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			kind int
			id   string
		)
		if err := rows.Scan(&kind, &id); err != nil {
			return nil, nil, err
		}
		if kind == 0 {
			roles = append(roles, id)
		} else {
			groups = append(groups, id)
		}
	}
	return roles, groups, rows.Err()
}

// LinkedScope is a client scope linked to a client, with how it is linked.
type LinkedScope struct {
	Scope   client.Scope
	Default bool
	// RoleScoped is true when the scope has role scope mappings, which
	// decide whether it applies to a user (see ScopeReach).
	RoleScoped bool
}

// ClientScopesOf returns the scopes linked to a client with their mappers,
// in scope-name order, in one query.
func (s *DB) ClientScopesOf(ctx context.Context, realmID, clientID string) ([]LinkedScope, error) {
	return cachedSlice(ctx, s, func(sn *snapshot) *memo[[2]string, []LinkedScope] { return &sn.scopesOf }, [2]string{realmID, clientID}, func() ([]LinkedScope, error) {
		return s.clientScopesOf(ctx, realmID, clientID)
	})
}

func (s *DB) clientScopesOf(ctx context.Context, realmID, clientID string) ([]LinkedScope, error) {
	rows, err := s.query(ctx, `SELECT c.id, c.realm_id, c.name, c.data, l.is_default,
		EXISTS (SELECT 1 FROM scope_role_scopes m WHERE m.scope_id = c.id)
		FROM client_scope_links l JOIN client_scopes c ON c.id = l.scope_id
		WHERE l.realm_id = $1 AND l.client_id = $2 ORDER BY c.name`, realmID, clientID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LinkedScope
	for rows.Next() {
		var (
			ls   LinkedScope
			data string
			d    scopeData
		)
		if err := rows.Scan(&ls.Scope.ID, &ls.Scope.RealmID, &ls.Scope.Name, &data, &ls.Default, &ls.RoleScoped); err != nil {
			return nil, err
		}
		if err := fromJSON(data, &d); err != nil {
			return nil, err
		}
		ls.Scope.Description, ls.Scope.Protocol, ls.Scope.Attributes, ls.Scope.ProtocolMappers = d.Description, d.Protocol, d.Attributes, d.ProtocolMappers
		out = append(out, ls)
	}
	return out, rows.Err()
}
