package admin

import (
	"context"
	"errors"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// LDAP mappers that give roles or groups to every user a sync or login
// imports are role grants made in advance, so creating or changing one
// passes requireConfer (escalation.go) with every role it could confer:
//   - hardcoded-ldap-role-mapper: the role it names ("role" or
//     "clientId.role", every reading of the name);
//   - hardcoded-ldap-group-mapper: the group's and its ancestors' roles;
//   - role-ldap-mapper: every role of the client it maps into, or every
//     realm role, since the directory decides which ones;
//   - group-ldap-mapper: the roles of every group under its groups path and
//     of that path's ancestors, since the directory decides membership.
// A caller without those roles, or the right to hand them out, cannot make
// a directory it controls hand them out instead.

// mapperConfers returns the ids of the roles mapper m could confer.
func mapperConfers(ctx context.Context, db *store.DB, realmID string, m store.Component) ([]string, error) {
	first := func(k string) string {
		if v := m.Config[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	var out []string
	add := func(rs ...role.Role) {
		for _, r := range rs {
			out = append(out, r.ID)
		}
	}
	switch m.ProviderID {
	case ldap.MapperHardcodedRole:
		name := first("role")
		if r, err := db.GetRealmRole(ctx, realmID, name); err == nil {
			add(r)
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		for i := range len(name) {
			if name[i] != '.' {
				continue
			}
			if c, err := db.GetClientByClientID(ctx, realmID, name[:i]); err == nil {
				if r, err := db.GetClientRole(ctx, realmID, c.ID, name[i+1:]); err == nil {
					add(r)
				}
			}
		}
	case ldap.MapperRole:
		var rs []role.Role
		var err error
		if first("use.realm.roles.mapping") == "false" {
			c, cerr := db.GetClientByClientID(ctx, realmID, first("client.id"))
			if errors.Is(cerr, store.ErrNotFound) {
				return nil, nil
			}
			if cerr != nil {
				return nil, cerr
			}
			rs, err = db.ListClientRoles(ctx, realmID, c.ID)
		} else {
			rs, err = db.ListRealmRoles(ctx, realmID)
		}
		if err != nil {
			return nil, err
		}
		add(rs...)
	case ldap.MapperHardcodedGroup, ldap.MapperGroup:
		gs, err := db.ListGroups(ctx, realmID)
		if err != nil {
			return nil, err
		}
		paths := role.GroupPaths(gs)
		prefix := first("group")
		if m.ProviderID == ldap.MapperGroup {
			prefix = first("groups.path")
		}
		prefix = "/" + strings.Trim(prefix, "/")
		for _, g := range gs {
			p := paths[g.ID]
			under := m.ProviderID == ldap.MapperGroup && (prefix == "/" || p == prefix || strings.HasPrefix(p, prefix+"/"))
			if p == prefix || under {
				rs, err := groupChainRoles(ctx, db, realmID, g.ID)
				if err != nil {
					return nil, err
				}
				add(rs...)
			}
		}
	}
	return out, nil
}

// requireMapperConfer is requireConfer for what mapper m could confer.
func (rq *Request) requireMapperConfer(ctx context.Context, db *store.DB, m store.Component) error {
	if m.ProviderType != ldap.MapperProviderType {
		return nil
	}
	ids, err := mapperConfers(ctx, db, rq.Realm.ID, m)
	if err != nil {
		return err
	}
	return rq.requireConfer(ctx, ids...)
}
