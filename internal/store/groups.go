package store

import (
	"context"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/role"
)

const groupCols = `id, realm_id, parent_id, name, attributes, description`

func scanGroup(sc interface{ Scan(...any) error }) (role.Group, error) {
	var (
		g     role.Group
		attrs string
	)
	if err := sc.Scan(&g.ID, &g.RealmID, &g.ParentID, &g.Name, &attrs, &g.Description); err != nil {
		return role.Group{}, mapErr(err)
	}
	return g, fromJSON(attrs, &g.Attributes)
}

func (s *DB) groups(ctx context.Context, q string, args ...any) ([]role.Group, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []role.Group
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// CreateGroup stores a group; sibling names are unique.
func (s *DB) CreateGroup(ctx context.Context, g role.Group) error {
	if err := g.Validate(); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *DB) error {
		if g.ParentID != "" {
			if _, err := tx.GetGroup(ctx, g.RealmID, g.ParentID); err != nil {
				return fmt.Errorf("parent group: %w", err)
			}
		}
		if _, err := tx.exec(ctx, `INSERT INTO realm_groups (`+groupCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			g.ID, g.RealmID, g.ParentID, g.Name, toJSON(g.Attributes), g.Description); err != nil {
			return fmt.Errorf("create group %q: %w", g.Name, err)
		}
		return nil
	})
}

// GetGroup loads a group by id.
func (s *DB) GetGroup(ctx context.Context, realmID, id string) (role.Group, error) {
	return scanGroup(s.queryRow(ctx, `SELECT `+groupCols+` FROM realm_groups WHERE realm_id = $1 AND id = $2`, realmID, id))
}

// ListGroups returns every group of the realm, parents before children.
func (s *DB) ListGroups(ctx context.Context, realmID string) ([]role.Group, error) {
	all, err := s.groups(ctx, `SELECT `+groupCols+` FROM realm_groups WHERE realm_id = $1 ORDER BY name, id`, realmID)
	if err != nil {
		return nil, err
	}
	// Order breadth-first so a caller recreating the tree always sees a
	// parent before its children.
	byParent := map[string][]role.Group{}
	for _, g := range all {
		byParent[g.ParentID] = append(byParent[g.ParentID], g)
	}
	out := make([]role.Group, 0, len(all))
	queue := []string{""}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, g := range byParent[p] {
			out = append(out, g)
			queue = append(queue, g.ID)
		}
	}
	return out, nil
}

// UpdateGroup applies edit to a stored group; it cannot move the group.
func (s *DB) UpdateGroup(ctx context.Context, realmID, id string, edit func(*role.Group) error) error {
	return s.InTx(ctx, func(tx *DB) error {
		g, err := scanGroup(tx.queryRow(ctx, `SELECT `+groupCols+` FROM realm_groups WHERE realm_id = $1 AND id = $2`+tx.forUpdate(), realmID, id))
		if err != nil {
			return err
		}
		parent := g.ParentID
		if err := edit(&g); err != nil {
			return err
		}
		g.ID, g.RealmID, g.ParentID = id, realmID, parent
		if err := g.Validate(); err != nil {
			return err
		}
		return oneRow(tx.exec(ctx, `UPDATE realm_groups SET name = $3, attributes = $4, description = $5 WHERE realm_id = $1 AND id = $2`,
			realmID, id, g.Name, toJSON(g.Attributes), g.Description))
	})
}

// DeleteGroup removes a group and its whole subtree, and each of them
// from group policies (see dropPolicyRefs).
func (s *DB) DeleteGroup(ctx context.Context, realmID, id string) error {
	return s.InTx(ctx, func(tx *DB) error {
		kids, err := tx.groups(ctx, `SELECT `+groupCols+` FROM realm_groups WHERE realm_id = $1 AND parent_id = $2`, realmID, id)
		if err != nil {
			return err
		}
		for _, k := range kids {
			if err := tx.DeleteGroup(ctx, realmID, k.ID); err != nil {
				return err
			}
		}
		if err := oneRow(tx.exec(ctx, `DELETE FROM realm_groups WHERE realm_id = $1 AND id = $2`, realmID, id)); err != nil {
			return err
		}
		return tx.dropPolicyRefs(ctx, realmID, "group", id)
	})
}

// AddGroupRoles maps roles to a group; existing mappings are kept.
func (s *DB) AddGroupRoles(ctx context.Context, groupID string, roleIDs ...string) error {
	return s.InTx(ctx, func(tx *DB) error {
		for _, r := range roleIDs {
			if _, err := tx.exec(ctx, `INSERT INTO group_roles (group_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, groupID, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// RemoveGroupRoles unmaps roles from a group.
func (s *DB) RemoveGroupRoles(ctx context.Context, groupID string, roleIDs ...string) error {
	return s.InTx(ctx, func(tx *DB) error {
		for _, r := range roleIDs {
			if _, err := tx.exec(ctx, `DELETE FROM group_roles WHERE group_id = $1 AND role_id = $2`, groupID, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListGroupRoles returns the roles mapped directly to a group.
func (s *DB) ListGroupRoles(ctx context.Context, groupID string) ([]role.Role, error) {
	return s.roles(ctx, `SELECT r.id, r.realm_id, r.client_id, r.name, r.description, r.attributes FROM roles r
		JOIN group_roles g ON g.role_id = r.id WHERE g.group_id = $1 ORDER BY r.client_id, r.name`, groupID)
}

// AddGroupMember puts a user in a group; joining twice is not an error.
func (s *DB) AddGroupMember(ctx context.Context, groupID, userID string) error {
	return s.AddGroupMembers(ctx, GroupMember{GroupID: groupID, UserID: userID})
}

// GroupMember is one user's membership of one group.
type GroupMember struct{ GroupID, UserID string }

// AddGroupMembers adds memberships, in as few statements as the engines
// allow (see CreateUsers); one that exists is kept.
func (s *DB) AddGroupMembers(ctx context.Context, ms ...GroupMember) error {
	rows := make([][]any, len(ms))
	for i, m := range ms {
		rows[i] = []any{m.GroupID, m.UserID}
	}
	return s.insertRows(ctx, `INSERT INTO group_members (group_id, user_id)`, ` ON CONFLICT DO NOTHING`, rows)
}

// RemoveGroupMember takes a user out of a group; not a member is ErrNotFound.
func (s *DB) RemoveGroupMember(ctx context.Context, groupID, userID string) error {
	return oneRow(s.exec(ctx, `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, groupID, userID))
}

// ListUserGroups returns the groups a user is a direct member of.
func (s *DB) ListUserGroups(ctx context.Context, userID string) ([]role.Group, error) {
	return s.groups(ctx, `SELECT `+qualifiedCols("g.", groupCols)+` FROM realm_groups g
		JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.name`, userID)
}

// UserGroupLineage returns the groups a user is a direct member of (their
// ids, in direct) together with every ancestor of those groups (in all,
// direct ones included), so role.GroupPaths(all) names each direct group
// by its full path. The walk up stops at 1000 levels, deeper than any tree
// the store lets MoveGroup build.
func (s *DB) UserGroupLineage(ctx context.Context, userID string) (direct []string, all []role.Group, err error) {
	all, err = s.groups(ctx, `WITH RECURSIVE lineage(id, depth) AS (
			SELECT group_id, 0 FROM group_members WHERE user_id = $1
			UNION
			SELECT g.parent_id, l.depth + 1 FROM lineage l JOIN realm_groups g ON g.id = l.id
			WHERE g.parent_id <> '' AND l.depth < 1000)
		SELECT `+groupCols+` FROM realm_groups WHERE id IN (SELECT id FROM lineage) ORDER BY name`, userID)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.query(ctx, `SELECT group_id FROM group_members WHERE user_id = $1 ORDER BY group_id`, userID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, nil, err
		}
		direct = append(direct, id)
	}
	return direct, all, rows.Err()
}
