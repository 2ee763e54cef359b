package store

import (
	"context"

	"github.com/gatehouse-iam/gatehouse/internal/role"
)

// ScopeOwner names what role scope mappings belong to: a client, by its
// internal id, or a client scope.
type ScopeOwner struct {
	ClientScope bool
	ID          string
}

// table is the owner kind's table and owner column.
func (o ScopeOwner) table() (string, string) {
	if o.ClientScope {
		return "scope_role_scopes", "scope_id"
	}
	return "client_role_scopes", "client_id"
}

// ScopeMappings returns the roles mapped directly to the owner's scope,
// ordered by owning client, then name.
func (s *DB) ScopeMappings(ctx context.Context, realmID string, o ScopeOwner) ([]role.Role, error) {
	t, col := o.table()
	return s.roles(ctx, `SELECT r.id, r.realm_id, r.client_id, r.name, r.description, r.attributes FROM roles r
		JOIN `+t+` m ON m.role_id = r.id WHERE m.`+col+` = $1 AND r.realm_id = $2 ORDER BY r.client_id, r.name`, o.ID, realmID)
}

// AddScopeMappings maps roles to the owner's scope; a mapping that exists is
// not an error.
func (s *DB) AddScopeMappings(ctx context.Context, o ScopeOwner, roleIDs ...string) error {
	t, col := o.table()
	return s.InTx(ctx, func(tx *DB) error {
		for _, id := range roleIDs {
			if _, err := tx.exec(ctx, `INSERT INTO `+t+` (`+col+`, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, o.ID, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// RemoveScopeMappings unmaps roles from the owner's scope; a mapping that
// does not exist is not an error.
func (s *DB) RemoveScopeMappings(ctx context.Context, o ScopeOwner, roleIDs ...string) error {
	t, col := o.table()
	return s.InTx(ctx, func(tx *DB) error {
		for _, id := range roleIDs {
			if _, err := tx.exec(ctx, `DELETE FROM `+t+` WHERE `+col+` = $1 AND role_id = $2`, o.ID, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// RealmScopeMappings returns every role scope mapping of the realm, owner
// id → role ids, for clients and for client scopes, for export.
func (s *DB) RealmScopeMappings(ctx context.Context, realmID string) (clients, scopes map[string][]string, err error) {
	if clients, err = s.ownedIDs(ctx, `SELECT m.client_id, m.role_id FROM client_role_scopes m JOIN roles r ON r.id = m.role_id
		WHERE r.realm_id = $1 ORDER BY m.client_id, r.client_id, r.name`, realmID); err != nil {
		return nil, nil, err
	}
	if scopes, err = s.ownedIDs(ctx, `SELECT m.scope_id, m.role_id FROM scope_role_scopes m JOIN roles r ON r.id = m.role_id
		WHERE r.realm_id = $1 ORDER BY m.scope_id, r.client_id, r.name`, realmID); err != nil {
		return nil, nil, err
	}
	return clients, scopes, nil
}

// ScopeReach returns what the role scope mappings around one client reach
// through composites, in one query: under "" the client's own (its scope
// mappings and, with ownRoles, its own roles), under each linked client
// scope's id that scope's. An owner without mappings is absent. UNION makes
// the recursion stop on composite cycles.
func (s *DB) ScopeReach(ctx context.Context, realmID, clientID string, ownRoles bool) (map[string][]string, error) {
	return cached(ctx, s, func(sn *snapshot) *memo[reachKey, map[string][]string] { return &sn.scopeReach }, reachKey{realmID, clientID, ownRoles}, func() (map[string][]string, error) {
		return s.scopeReach(ctx, realmID, clientID, ownRoles)
	})
}

func (s *DB) scopeReach(ctx context.Context, realmID, clientID string, ownRoles bool) (map[string][]string, error) {
	own := ""
	if ownRoles {
		own = ` UNION SELECT CAST('' AS TEXT), id FROM roles WHERE realm_id = $2 AND client_id = $1`
	}
	return s.ownedIDs(ctx, `WITH RECURSIVE
		seed(owner, id) AS (
			SELECT CAST('' AS TEXT), role_id FROM client_role_scopes WHERE client_id = $1`+own+`
			UNION
			SELECT m.scope_id, m.role_id FROM scope_role_scopes m
			JOIN client_scope_links l ON l.scope_id = m.scope_id WHERE l.realm_id = $2 AND l.client_id = $1
		),
		reach(owner, id) AS (
			SELECT owner, id FROM seed
			UNION
			SELECT reach.owner, c.child_id FROM role_composites c JOIN reach ON c.parent_id = reach.id
		)
		SELECT owner, id FROM reach ORDER BY owner, id`, clientID, realmID)
}

// ownedIDs runs a query of (owner, id) rows and groups the ids by owner.
func (s *DB) ownedIDs(ctx context.Context, q string, args ...any) (map[string][]string, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var owner, id string
		if err := rows.Scan(&owner, &id); err != nil {
			return nil, err
		}
		out[owner] = append(out[owner], id)
	}
	return out, rows.Err()
}
