package store

import (
	"context"
	"errors"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/role"
)

// realmDirectory resolves the realm objects policies name, from the realm's
// roles, clients, groups and client scopes read once, and its users looked
// up one by one.
type realmDirectory struct {
	ctx     context.Context
	db      *DB
	realmID string
	byID    map[string]map[string]string // kind → id → name
	byName  map[string]map[string]string // kind → name → id
}

// AuthzDirectory returns what converts the references of a realm's
// policies between ids and names (authz.Directory). It reads through s, so
// inside a transaction it sees the transaction's writes made before it.
func (s *DB) AuthzDirectory(ctx context.Context, realmID string) (authz.Directory, error) {
	d := &realmDirectory{ctx: ctx, db: s, realmID: realmID, byID: map[string]map[string]string{}, byName: map[string]map[string]string{}}
	add := func(kind, id, name string) {
		if d.byID[kind] == nil {
			d.byID[kind], d.byName[kind] = map[string]string{}, map[string]string{}
		}
		d.byID[kind][id] = name
		if _, taken := d.byName[kind][name]; !taken {
			d.byName[kind][name] = id
		}
	}
	clients, err := s.ListClients(ctx, realmID)
	if err != nil {
		return nil, err
	}
	clientIDs := map[string]string{}
	for _, c := range clients {
		add("client", c.ID, c.ClientID)
		clientIDs[c.ID] = c.ClientID
	}
	roles, err := s.ListAllRoles(ctx, realmID)
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		if r.ClientID == "" {
			add("role", r.ID, r.Name)
		} else {
			add("role", r.ID, clientIDs[r.ClientID]+"/"+r.Name)
		}
	}
	groups, err := s.ListGroups(ctx, realmID)
	if err != nil {
		return nil, err
	}
	for id, path := range role.GroupPaths(groups) {
		add("group", id, path)
	}
	scopes, err := s.ListClientScopes(ctx, realmID)
	if err != nil {
		return nil, err
	}
	for _, sc := range scopes {
		add("client-scope", sc.ID, sc.Name)
	}
	return d, nil
}

func (d *realmDirectory) Lookup(kind, ref string) (string, bool) {
	if ref == "" {
		return "", false
	}
	if kind == "user" {
		if u, err := d.db.GetUser(d.ctx, d.realmID, ref); err == nil {
			return u.ID, true
		}
		if u, err := d.db.GetUserByUsername(d.ctx, d.realmID, ref); err == nil {
			return u.ID, true
		}
		return "", false
	}
	if _, ok := d.byID[kind][ref]; ok {
		return ref, true
	}
	if id, ok := d.byName[kind][ref]; ok {
		return id, true
	}
	if kind == "group" && ref[0] != '/' {
		id, ok := d.byName[kind]["/"+ref]
		return id, ok
	}
	return "", false
}

func (d *realmDirectory) Name(kind, id string) (string, bool) {
	if kind == "user" {
		u, err := d.db.GetUser(d.ctx, d.realmID, id)
		if errors.Is(err, ErrNotFound) || err != nil {
			return "", false
		}
		return u.Username, true
	}
	n, ok := d.byID[kind][id]
	return n, ok
}
