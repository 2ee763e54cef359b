package store

import (
	"context"

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
func (s *DB) EffectiveRoles(ctx context.Context, realmID, userID string) ([]RoleRef, error) {
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
