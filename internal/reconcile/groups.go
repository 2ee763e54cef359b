package reconcile

import (
	"context"
	"fmt"
	"maps"
	"reflect"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// groups walks the file's group tree, matching groups by path. A level of
// the tree is managed (--prune deletes the groups it does not list) when the
// file carries it: the top level when "groups" is present, a group's
// children when its "subGroups" is.
func (r *run) groups(ctx context.Context) error {
	if r.x.Groups == nil {
		return nil
	}
	all, err := r.tx.ListGroups(ctx, r.realm.ID)
	if err != nil {
		return err
	}
	byID := map[string]role.Group{}
	for _, g := range all {
		byID[g.ID] = g
	}
	idx, err := r.loadRoles(ctx)
	if err != nil {
		return err
	}
	var walk func(xs []rep.Group, have []rep.Group, parentID, parentPath, path string) error
	walk = func(xs []rep.Group, have []rep.Group, parentID, parentPath, path string) error {
		existing := map[string]rep.Group{}
		for _, g := range have {
			existing[g.Name] = g
		}
		listed := map[string]bool{}
		for i, xg := range xs {
			p := fmt.Sprintf("%s[%d]", path, i)
			if listed[xg.Name] {
				return fileErr(p+".name", "group %q appears twice under the same parent", xg.Name)
			}
			listed[xg.Name] = true
			gp := role.GroupPath(parentPath, xg.Name)
			old, ok := existing[xg.Name]
			var id string
			if ok {
				id = old.ID
				if err := r.updateGroup(ctx, idx, byID[id], xg, gp, p); err != nil {
					return err
				}
			} else {
				g := xg.ToDomain(r.realm.ID, parentID)
				if g.ID == "" {
					g.ID = store.NewID()
				}
				if err := g.Validate(); err != nil {
					return fileErr(p, "%v", err)
				}
				if err := r.tx.CreateGroup(ctx, g); err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
				ids, err := idx.ids(xg.RealmRoles, xg.ClientRoles, p, "realmRoles", "clientRoles")
				if err != nil {
					return err
				}
				if err := r.tx.AddGroupRoles(ctx, g.ID, ids...); err != nil {
					return err
				}
				r.note(Create, KindGroup, gp)
				id = g.ID
			}
			if xg.SubGroups == nil {
				continue // children not managed by the file
			}
			if err := walk(xg.SubGroups, old.SubGroups, id, gp, p+".subGroups"); err != nil {
				return err
			}
		}
		if !r.opts.Prune {
			return nil
		}
		for _, g := range have {
			if listed[g.Name] {
				continue
			}
			// DeleteGroup takes the whole subtree (and its fine-grained
			// admin permissions); each group is a line.
			if err := adminperm.DeleteGroup(ctx, r.tx, r.realm.ID, g.ID); err != nil {
				return err
			}
			var gone func(g rep.Group)
			gone = func(g rep.Group) {
				r.note(Delete, KindGroup, g.Path)
				for _, k := range g.SubGroups {
					gone(k)
				}
			}
			gone(g)
		}
		return nil
	}
	return walk(r.x.Groups, rep.GroupTree(all), "", "", "$.groups")
}

// updateGroup brings an existing group's attributes and role mappings to
// what the file sets.
func (r *run) updateGroup(ctx context.Context, idx roleIndex, old role.Group, xg rep.Group, gp, path string) error {
	var fields []string
	if xg.Attributes != nil {
		want := xg.ToDomain(r.realm.ID, old.ParentID).Attributes
		if !reflect.DeepEqual(canonical(members(old.Attributes)), canonical(members(want))) {
			if err := r.tx.UpdateGroup(ctx, r.realm.ID, old.ID, func(g *role.Group) error {
				g.Attributes = maps.Clone(want)
				return nil
			}); err != nil {
				return err
			}
			fields = append(fields, "attributes")
		}
	}
	current, err := r.tx.ListGroupRoles(ctx, old.ID)
	if err != nil {
		return err
	}
	add, remove, changed, err := idx.mappings(current, xg.RealmRoles, xg.ClientRoles, path)
	if err != nil {
		return err
	}
	if len(remove) > 0 {
		if err := r.tx.RemoveGroupRoles(ctx, old.ID, remove...); err != nil {
			return err
		}
	}
	if len(add) > 0 {
		if err := r.tx.AddGroupRoles(ctx, old.ID, add...); err != nil {
			return err
		}
	}
	r.note(Update, KindGroup, gp, append(fields, changed...)...)
	return nil
}
