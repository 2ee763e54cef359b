package rep

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// ScopeMapping is Keycloak's ScopeMappingRepresentation: roles scope-mapped
// to one client (by clientId) or one client scope (by name). clientTemplate
// is how files from before client scopes name what became a client scope.
type ScopeMapping struct {
	Self           string   `json:"self,omitempty"`
	Client         string   `json:"client,omitempty"`
	ClientScope    string   `json:"clientScope,omitempty"`
	ClientTemplate string   `json:"clientTemplate,omitempty"`
	Roles          []string `json:"roles"`
}

// scopeMappings is the import step for the realm's scopeMappings (realm
// roles) and clientScopeMappings (roles of the client each key names; the
// pre-Keycloak-4 applicationScopeMappings has the same shape). A role the
// file names but does not declare is created, as Keycloak creates it; a
// client or client scope it does not hold is an error.
func (im *importer) scopeMappings(ctx context.Context) error {
	if im.x.ClientScopes == nil { // the built-in scopes were created for the file
		if err := provision.MapOfflineScope(ctx, im.tx, im.realm.ID); err != nil {
			return err
		}
	}
	for i, m := range im.x.ScopeMappings {
		path := fmt.Sprintf("$.scopeMappings[%d]", i)
		owner, err := im.scopeOwner(ctx, m, path)
		if err != nil {
			return err
		}
		if err := im.mapScope(ctx, owner, "", m.Roles, path); err != nil {
			return err
		}
	}
	for _, field := range []struct {
		name string
		m    map[string][]ScopeMapping
	}{{"clientScopeMappings", im.x.ClientScopeMappings}, {"applicationScopeMappings", im.x.ApplicationScopeMappings}} {
		for _, clientID := range sortedKeys(field.m) {
			base := fmt.Sprintf("$.%s.%s", field.name, clientID)
			if _, ok := im.clients[clientID]; !ok {
				return importErr(base, "client %q is not in the realm", clientID)
			}
			for i, m := range field.m[clientID] {
				path := fmt.Sprintf("%s[%d]", base, i)
				owner, err := im.scopeOwner(ctx, m, path)
				if err != nil {
					return err
				}
				if err := im.mapScope(ctx, owner, clientID, m.Roles, path); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// mapScope maps the named roles (realm roles, or with clientID that
// client's) to owner's scope.
func (im *importer) mapScope(ctx context.Context, owner store.ScopeOwner, clientID string, names []string, path string) error {
	var ids []string
	for i, name := range names {
		name = strings.TrimSpace(name)
		if name == "" {
			return importErr(fmt.Sprintf("%s.roles[%d]", path, i), "role name is missing")
		}
		id, err := im.ensureRole(ctx, clientID, name)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	return im.tx.AddScopeMappings(ctx, owner, ids...)
}

// scopeOwner finds the client or client scope a mapping belongs to.
func (im *importer) scopeOwner(ctx context.Context, m ScopeMapping, path string) (store.ScopeOwner, error) {
	switch {
	case m.Client != "":
		id, ok := im.clients[m.Client]
		if !ok {
			return store.ScopeOwner{}, importErr(path+".client", "client %q is not in the realm", m.Client)
		}
		return store.ScopeOwner{ID: id}, nil
	case m.ClientScope != "" || m.ClientTemplate != "":
		name, field := m.ClientScope, ".clientScope"
		if name == "" {
			name, field = m.ClientTemplate, ".clientTemplate"
		}
		s, err := im.tx.GetClientScopeByName(ctx, im.realm.ID, name)
		if err != nil {
			return store.ScopeOwner{}, importErr(path+field, "client scope %q is not in the realm", name)
		}
		return store.ScopeOwner{ClientScope: true, ID: s.ID}, nil
	}
	return store.ScopeOwner{}, importErr(path, "a scope mapping names a client or a client scope")
}

// ensureRole returns the id of the realm role (clientID "") or the role of
// the client with that clientId, creating it when the file never declared it.
func (im *importer) ensureRole(ctx context.Context, clientID, name string) (string, error) {
	realmRoles, clientRoles := []string{name}, map[string][]string(nil)
	if clientID != "" {
		realmRoles, clientRoles = nil, map[string][]string{clientID: {name}}
	}
	ids, err := im.roleIDs(ctx, realmRoles, clientRoles, "$", true)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// exportScopeMappings fills x's scopeMappings and clientScopeMappings, in
// Keycloak's shape: realm roles by client or scope, and each client's roles
// under that client's clientId; owners and role names sorted.
// clientIDOf maps clients' internal ids to clientIds, scopeName client
// scope ids to names.
func exportScopeMappings(ctx context.Context, tx *store.DB, realmID string, clientIDOf, scopeName map[string]string, x *Realm) error {
	byClient, byScope, err := tx.RealmScopeMappings(ctx, realmID)
	if err != nil {
		return err
	}
	if len(byClient) == 0 && len(byScope) == 0 {
		return nil
	}
	roles, err := tx.ListAllRoles(ctx, realmID)
	if err != nil {
		return err
	}
	roleByID := map[string]role.Role{}
	for _, r := range roles {
		roleByID[r.ID] = r
	}
	add := func(owner map[string][]string, name func(string) ScopeMapping) {
		var keys []string
		for k := range owner {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			return strings.Compare(name(a).Client+name(a).ClientScope, name(b).Client+name(b).ClientScope)
		})
		for _, k := range keys {
			realmPart := name(k)
			parts := map[string]*ScopeMapping{}
			for _, id := range owner[k] {
				r, ok := roleByID[id]
				if !ok {
					continue
				}
				if r.ClientID == "" {
					realmPart.Roles = append(realmPart.Roles, r.Name)
					continue
				}
				m := parts[r.ClientID]
				if m == nil {
					m = new(ScopeMapping)
					*m = name(k)
					parts[r.ClientID] = m
				}
				m.Roles = append(m.Roles, r.Name)
			}
			if len(realmPart.Roles) > 0 {
				slices.Sort(realmPart.Roles)
				x.ScopeMappings = append(x.ScopeMappings, realmPart)
			}
			for cid, m := range parts {
				slices.Sort(m.Roles)
				if x.ClientScopeMappings == nil {
					x.ClientScopeMappings = map[string][]ScopeMapping{}
				}
				key := clientIDOf[cid]
				x.ClientScopeMappings[key] = append(x.ClientScopeMappings[key], *m)
			}
		}
	}
	add(byClient, func(id string) ScopeMapping { return ScopeMapping{Client: clientIDOf[id]} })
	add(byScope, func(id string) ScopeMapping { return ScopeMapping{ClientScope: scopeName[id]} })
	return nil
}
