package usersync

import (
	"context"
	"errors"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/federation"
	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// ErrDirection is a mapper sync in a direction Gatehouse does not run.
var ErrDirection = errors.New("only the directory-to-Gatehouse sync of group and role mappers is available")

// SyncMapper brings a group mapper's groups (or a role mapper's roles)
// from the directory into the realm: every group or role the mapper finds
// under its DN exists afterwards, the new ones counted as added and those
// already there as updated. Memberships are not touched here: each user's
// come with the user's import.
func (s *Syncer) SyncMapper(ctx context.Context, rl realm.Realm, provider, m store.Component, fedToLocal bool) (Result, error) {
	var r Result
	if !fedToLocal {
		return r, ErrDirection
	}
	if m.ProviderID != ldap.MapperGroup && m.ProviderID != ldap.MapperRole {
		r.Ignored = true
		r.finish()
		return r, nil
	}
	p, err := federation.Load(ctx, s.DB, provider)
	if err != nil {
		return r, err
	}
	client, err := federation.Dial(ctx, p)
	if err != nil {
		return r, err
	}
	defer client.Close()
	first := func(k, def string) string {
		if v := m.Config[k]; len(v) > 0 && strings.TrimSpace(v[0]) != "" {
			return strings.TrimSpace(v[0])
		}
		return def
	}
	prefix := "groups"
	if m.ProviderID == ldap.MapperRole {
		prefix = "roles"
	}
	nameAttr := first(strings.TrimSuffix(prefix, "s")+".name.ldap.attribute", "cn")
	classes := first(strings.TrimSuffix(prefix, "s")+".object.classes", "groupOfNames")
	filter := "(|"
	for _, oc := range strings.Split(classes, ",") {
		filter += "(objectClass=" + ldap.EscapeFilter(strings.TrimSpace(oc)) + ")"
	}
	filter += ")"
	if f := first(prefix+".ldap.filter", ""); f != "" {
		filter = "(&" + filter + f + ")"
	}
	entries, err := client.Search(ctx, first(prefix+".dn", ""), filter, true, []string{nameAttr})
	if err != nil {
		return r, err
	}
	var names []string
	for _, e := range entries {
		if n := e.First(nameAttr); n != "" {
			names = append(names, n)
		}
	}
	err = s.DB.InTx(ctx, func(tx *store.DB) error {
		r = Result{}
		if m.ProviderID == ldap.MapperRole {
			return syncRoles(ctx, tx, rl, m, first, names, &r)
		}
		return syncGroups(ctx, tx, rl, first("groups.path", "/"), names, &r)
	})
	r.finish()
	return r, err
}

func syncRoles(ctx context.Context, tx *store.DB, rl realm.Realm, m store.Component, first func(string, string) string, names []string, r *Result) error {
	clientID := ""
	if first("use.realm.roles.mapping", "true") == "false" {
		c, err := tx.GetClientByClientID(ctx, rl.ID, first("client.id", ""))
		if err != nil {
			return err
		}
		clientID = c.ID
	}
	for _, n := range names {
		var err error
		if clientID == "" {
			_, err = tx.GetRealmRole(ctx, rl.ID, n)
		} else {
			_, err = tx.GetClientRole(ctx, rl.ID, clientID, n)
		}
		switch {
		case err == nil:
			r.Updated++
		case errors.Is(err, store.ErrNotFound):
			if err := tx.CreateRole(ctx, role.Role{ID: store.NewID(), RealmID: rl.ID, ClientID: clientID, Name: n, Attributes: map[string][]string{}}); err != nil {
				return err
			}
			r.Added++
		default:
			return err
		}
	}
	return nil
}

func syncGroups(ctx context.Context, tx *store.DB, rl realm.Realm, path string, names []string, r *Result) error {
	gs, err := tx.ListGroups(ctx, rl.ID)
	if err != nil {
		return err
	}
	paths := role.GroupPaths(gs)
	byPath := map[string]string{}
	for id, p := range paths {
		byPath[p] = id
	}
	path = "/" + strings.Trim(path, "/")
	parent := ""
	if path != "/" {
		id, ok := byPath[path]
		if !ok {
			return errors.New("the mapper's groups path " + path + " is not a group of the realm")
		}
		parent = id
	}
	for _, n := range names {
		full := strings.TrimSuffix(path, "/") + "/" + n
		if _, ok := byPath[full]; ok {
			r.Updated++
			continue
		}
		g := role.Group{ID: store.NewID(), RealmID: rl.ID, ParentID: parent, Name: n, Attributes: map[string][]string{}}
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		byPath[full] = g.ID
		r.Added++
	}
	return nil
}
