package reconcile

import (
	"context"
	"fmt"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// roleIndex finds the realm's roles by name: realm roles, and client roles
// by the owning client's clientId.
type roleIndex struct {
	realm    map[string]role.Role
	client   map[string]map[string]role.Role // clientId → name → role
	clients  map[string]client.Client        // clientId → client
	clientID map[string]string               // internal id → clientId
}

func (r *run) loadRoles(ctx context.Context) (roleIndex, error) {
	idx := roleIndex{realm: map[string]role.Role{}, client: map[string]map[string]role.Role{},
		clients: map[string]client.Client{}, clientID: map[string]string{}}
	cs, err := r.tx.ListClients(ctx, r.realm.ID)
	if err != nil {
		return idx, err
	}
	for _, c := range cs {
		idx.clients[c.ClientID] = c
		idx.clientID[c.ID] = c.ClientID
		idx.client[c.ClientID] = map[string]role.Role{}
	}
	all, err := r.tx.ListAllRoles(ctx, r.realm.ID)
	if err != nil {
		return idx, err
	}
	for _, ro := range all {
		if ro.ClientID == "" {
			idx.realm[ro.Name] = ro
		} else if cid, ok := idx.clientID[ro.ClientID]; ok {
			idx.client[cid][ro.Name] = ro
		}
	}
	return idx, nil
}

// ids resolves role names, as realm role names and client role names keyed
// by clientId; path names the list in the file for errors.
func (idx roleIndex) ids(realmNames []string, clientNames map[string][]string, path, realmKey, clientKey string) ([]string, error) {
	var out []string
	for i, n := range realmNames {
		ro, ok := idx.realm[n]
		if !ok {
			return nil, fileErr(fmt.Sprintf("%s.%s[%d]", path, realmKey, i), "realm role %q does not exist", n)
		}
		out = append(out, ro.ID)
	}
	for _, cid := range sortedKeys(clientNames) {
		for i, n := range clientNames[cid] {
			ro, ok := idx.client[cid][n]
			if !ok {
				return nil, fileErr(fmt.Sprintf("%s.%s.%s[%d]", path, clientKey, cid, i), "role %q of client %q does not exist", n, cid)
			}
			out = append(out, ro.ID)
		}
	}
	return out, nil
}

// roles creates and updates the file's realm and client roles; composites
// come after, once every role exists.
func (r *run) roles(ctx context.Context) error {
	if r.x.Roles == nil {
		return nil
	}
	idx, err := r.loadRoles(ctx)
	if err != nil {
		return err
	}
	listed := map[string]bool{}
	for i, xr := range r.x.Roles.Realm {
		path := fmt.Sprintf("$.roles.realm[%d]", i)
		if listed[xr.Name] {
			return fileErr(path+".name", "role %q appears twice", xr.Name)
		}
		listed[xr.Name] = true
		if err := r.putRole(ctx, xr, idx.realm, "", KindRealmRole, xr.Name, path); err != nil {
			return err
		}
	}
	for _, cid := range sortedKeys(r.x.Roles.Client) {
		c, ok := idx.clients[cid]
		if !ok {
			return fileErr("$.roles.client."+cid, "roles of client %q, which does not exist", cid)
		}
		seen := map[string]bool{}
		for i, xr := range r.x.Roles.Client[cid] {
			path := fmt.Sprintf("$.roles.client.%s[%d]", cid, i)
			if seen[xr.Name] {
				return fileErr(path+".name", "role %q appears twice", xr.Name)
			}
			seen[xr.Name] = true
			if err := r.putRole(ctx, xr, idx.client[cid], c.ID, KindClientRole, cid+"/"+xr.Name, path); err != nil {
				return err
			}
		}
		if !r.opts.Prune {
			continue
		}
		realms, err := r.realmNames(ctx)
		if err != nil {
			return err
		}
		if provision.IsBuiltinClient(r.realm.Name, cid, realms) {
			continue // the roles of built-in clients are built in
		}
		for _, name := range sortedKeys(idx.client[cid]) {
			if !seen[name] {
				if err := r.deleteRole(ctx, idx.client[cid][name].ID); err != nil {
					return err
				}
				r.note(Delete, KindClientRole, cid+"/"+name)
			}
		}
	}
	if r.x.Roles.Realm == nil || !r.opts.Prune {
		return nil
	}
	for _, name := range sortedKeys(idx.realm) {
		ro := idx.realm[name]
		if listed[name] || ro.ID == r.realm.DefaultRoleID || provision.IsBuiltinRealmRole(r.realm.Name, name) {
			continue
		}
		if err := r.deleteRole(ctx, ro.ID); err != nil {
			return err
		}
		r.note(Delete, KindRealmRole, name)
	}
	return nil
}

// putRole creates role xr or updates the existing one of the same name. The
// description is replaced, as Keycloak's role update does; attributes are
// replaced when the file sets them.
func (r *run) putRole(ctx context.Context, xr rep.Role, existing map[string]role.Role, clientID string, kind Kind, name, path string) error {
	old, ok := existing[xr.Name]
	if !ok {
		ro := xr.ToDomain(r.realm.ID, clientID)
		if ro.ID == "" {
			ro.ID = store.NewID()
		}
		if err := ro.Validate(); err != nil {
			return fileErr(path, "%v", err)
		}
		if err := r.tx.CreateRole(ctx, ro); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		r.note(Create, kind, name)
		return nil
	}
	want := old
	want.Description = xr.Description
	if xr.Attributes != nil {
		want.Attributes = xr.ToDomain(r.realm.ID, clientID).Attributes
	}
	fields := diff(rep.RoleFromDomain(old, false), rep.RoleFromDomain(want, false), "id", "containerId", "composite", "clientRole")
	if len(fields) == 0 {
		return nil
	}
	if err := r.tx.UpdateRole(ctx, r.realm.ID, old.ID, func(ro *role.Role) error { *ro = want; return nil }); err != nil {
		return err
	}
	r.note(Update, kind, name, fields...)
	return nil
}

// composites makes each role whose composites the file lists have exactly
// those children.
func (r *run) composites(ctx context.Context) error {
	if r.x.Roles == nil {
		return nil
	}
	idx, err := r.loadRoles(ctx)
	if err != nil {
		return err
	}
	set := func(xr rep.Role, parent role.Role, kind Kind, name, path string) error {
		if xr.Composites == nil {
			return nil
		}
		want, err := idx.ids(xr.Composites.Realm, xr.Composites.Client, path+".composites", "realm", "client")
		if err != nil {
			return err
		}
		kids, err := r.tx.ListComposites(ctx, parent.ID)
		if err != nil {
			return err
		}
		have := make([]string, len(kids))
		for i, k := range kids {
			have[i] = k.ID
		}
		if sameSet(have, want) {
			return nil
		}
		if gone := minus(have, want); len(gone) > 0 {
			if err := r.tx.RemoveComposites(ctx, parent.ID, gone...); err != nil {
				return err
			}
		}
		if added := minus(want, have); len(added) > 0 {
			if err := r.tx.AddComposites(ctx, parent.ID, added...); err != nil {
				return err
			}
		}
		r.note(Update, kind, name, "composites")
		return nil
	}
	for i, xr := range r.x.Roles.Realm {
		if err := set(xr, idx.realm[xr.Name], KindRealmRole, xr.Name, fmt.Sprintf("$.roles.realm[%d]", i)); err != nil {
			return err
		}
	}
	for _, cid := range sortedKeys(r.x.Roles.Client) {
		for i, xr := range r.x.Roles.Client[cid] {
			if err := set(xr, idx.client[cid][xr.Name], KindClientRole, cid+"/"+xr.Name, fmt.Sprintf("$.roles.client.%s[%d]", cid, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// mappings works out the role mappings a user or group should have: the
// current ones, with the realm roles replaced when realmNames is not nil
// and the client roles replaced when clientNames is not nil. It returns
// what to add and remove, and the changed fields (realmRoles, clientRoles).
func (idx roleIndex) mappings(current []role.Role, realmNames []string, clientNames map[string][]string, path string) (add, remove, fields []string, err error) {
	var haveRealm, haveClient []string
	for _, ro := range current {
		if ro.ClientID == "" {
			haveRealm = append(haveRealm, ro.ID)
		} else {
			haveClient = append(haveClient, ro.ID)
		}
	}
	if realmNames != nil {
		want, err := idx.ids(realmNames, nil, path, "realmRoles", "clientRoles")
		if err != nil {
			return nil, nil, nil, err
		}
		if !sameSet(haveRealm, want) {
			add, remove = append(add, minus(want, haveRealm)...), append(remove, minus(haveRealm, want)...)
			fields = append(fields, "realmRoles")
		}
	}
	if clientNames != nil {
		want, err := idx.ids(nil, clientNames, path, "realmRoles", "clientRoles")
		if err != nil {
			return nil, nil, nil, err
		}
		if !sameSet(haveClient, want) {
			add, remove = append(add, minus(want, haveClient)...), append(remove, minus(haveClient, want)...)
			fields = append(fields, "clientRoles")
		}
	}
	return add, remove, fields, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// deleteRole deletes a role with its fine-grained admin permissions.
func (r *run) deleteRole(ctx context.Context, id string) error {
	return adminperm.DeleteRole(ctx, r.tx, r.realm.ID, id)
}
