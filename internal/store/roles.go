package store

import (
	"context"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/role"
)

const roleCols = `id, realm_id, client_id, name, description, attributes`

func scanRole(sc interface{ Scan(...any) error }) (role.Role, error) {
	var (
		r     role.Role
		attrs string
	)
	if err := sc.Scan(&r.ID, &r.RealmID, &r.ClientID, &r.Name, &r.Description, &attrs); err != nil {
		return role.Role{}, mapErr(err)
	}
	return r, fromJSON(attrs, &r.Attributes)
}

func (s *DB) roles(ctx context.Context, q string, args ...any) ([]role.Role, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []role.Role
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// CreateRole stores a realm role (ClientID empty) or a client role. Names are
// unique per realm for realm roles and per client for client roles.
func (s *DB) CreateRole(ctx context.Context, r role.Role) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if _, err := s.exec(ctx, `INSERT INTO roles (`+roleCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		r.ID, r.RealmID, r.ClientID, r.Name, r.Description, toJSON(r.Attributes)); err != nil {
		return fmt.Errorf("create role %q: %w", r.Name, err)
	}
	return nil
}

// GetRole loads a role by id.
func (s *DB) GetRole(ctx context.Context, realmID, id string) (role.Role, error) {
	return scanRole(s.queryRow(ctx, `SELECT `+roleCols+` FROM roles WHERE realm_id = $1 AND id = $2`, realmID, id))
}

// GetRealmRole loads a realm role by name.
func (s *DB) GetRealmRole(ctx context.Context, realmID, name string) (role.Role, error) {
	return scanRole(s.queryRow(ctx, `SELECT `+roleCols+` FROM roles WHERE realm_id = $1 AND client_id = '' AND name = $2`, realmID, name))
}

// GetClientRole loads a role of the client with internal id clientID by name.
func (s *DB) GetClientRole(ctx context.Context, realmID, clientID, name string) (role.Role, error) {
	return scanRole(s.queryRow(ctx, `SELECT `+roleCols+` FROM roles WHERE realm_id = $1 AND client_id = $2 AND name = $3`, realmID, clientID, name))
}

// ListRealmRoles returns the realm's realm roles by name.
func (s *DB) ListRealmRoles(ctx context.Context, realmID string) ([]role.Role, error) {
	return s.roles(ctx, `SELECT `+roleCols+` FROM roles WHERE realm_id = $1 AND client_id = '' ORDER BY name`, realmID)
}

// ListClientRoles returns a client's roles by name.
func (s *DB) ListClientRoles(ctx context.Context, realmID, clientID string) ([]role.Role, error) {
	return s.roles(ctx, `SELECT `+roleCols+` FROM roles WHERE realm_id = $1 AND client_id = $2 ORDER BY name`, realmID, clientID)
}

// ListAllRoles returns every role of the realm, realm and client roles alike.
func (s *DB) ListAllRoles(ctx context.Context, realmID string) ([]role.Role, error) {
	return s.roles(ctx, `SELECT `+roleCols+` FROM roles WHERE realm_id = $1 ORDER BY client_id, name`, realmID)
}

// UpdateRole applies edit to a stored role inside one transaction.
func (s *DB) UpdateRole(ctx context.Context, realmID, id string, edit func(*role.Role) error) error {
	return s.InTx(ctx, func(tx *DB) error {
		r, err := scanRole(tx.queryRow(ctx, `SELECT `+roleCols+` FROM roles WHERE realm_id = $1 AND id = $2`+tx.forUpdate(), realmID, id))
		if err != nil {
			return err
		}
		clientID := r.ClientID
		if err := edit(&r); err != nil {
			return err
		}
		r.ID, r.RealmID, r.ClientID = id, realmID, clientID
		if err := r.Validate(); err != nil {
			return err
		}
		return oneRow(tx.exec(ctx, `UPDATE roles SET name = $3, description = $4, attributes = $5 WHERE realm_id = $1 AND id = $2`,
			realmID, id, r.Name, r.Description, toJSON(r.Attributes)))
	})
}

// DeleteRole removes a role with its composite edges and mappings, and
// from role policies (see dropPolicyRefs).
func (s *DB) DeleteRole(ctx context.Context, realmID, id string) error {
	return s.InTx(ctx, func(tx *DB) error {
		if err := oneRow(tx.exec(ctx, `DELETE FROM roles WHERE realm_id = $1 AND id = $2`, realmID, id)); err != nil {
			return err
		}
		return tx.dropPolicyRefs(ctx, realmID, "role", id)
	})
}

// AddComposites makes children part of the composite role parent. Adding an
// edge that exists is not an error.
func (s *DB) AddComposites(ctx context.Context, parentID string, childIDs ...string) error {
	return s.InTx(ctx, func(tx *DB) error {
		for _, c := range childIDs {
			if _, err := tx.exec(ctx, `INSERT INTO role_composites (parent_id, child_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, parentID, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// RemoveComposites removes composite edges from parent.
func (s *DB) RemoveComposites(ctx context.Context, parentID string, childIDs ...string) error {
	return s.InTx(ctx, func(tx *DB) error {
		for _, c := range childIDs {
			if _, err := tx.exec(ctx, `DELETE FROM role_composites WHERE parent_id = $1 AND child_id = $2`, parentID, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListComposites returns the direct children of a composite role.
func (s *DB) ListComposites(ctx context.Context, parentID string) ([]role.Role, error) {
	return s.roles(ctx, `SELECT r.id, r.realm_id, r.client_id, r.name, r.description, r.attributes FROM roles r
		JOIN role_composites c ON c.child_id = r.id WHERE c.parent_id = $1 ORDER BY r.client_id, r.name`, parentID)
}

// CompositeGraph returns every composite edge of the realm, parent id → child ids,
// for role.Expand.
func (s *DB) CompositeGraph(ctx context.Context, realmID string) (map[string][]string, error) {
	return cached(ctx, s, func(sn *snapshot) *memo[string, map[string][]string] { return &sn.composites }, realmID, func() (map[string][]string, error) {
		return s.compositeGraph(ctx, realmID)
	})
}

func (s *DB) compositeGraph(ctx context.Context, realmID string) (map[string][]string, error) {
	rows, err := s.query(ctx, `SELECT c.parent_id, c.child_id FROM role_composites c
		JOIN roles r ON r.id = c.parent_id WHERE r.realm_id = $1 ORDER BY c.parent_id, c.child_id`, realmID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	g := map[string][]string{}
	for rows.Next() {
		var p, c string
		if err := rows.Scan(&p, &c); err != nil {
			return nil, err
		}
		g[p] = append(g[p], c)
	}
	return g, rows.Err()
}
