package rep

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/regpolicy"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Export writes realm realmName in Keycloak's realm export format, with
// users, credentials (hashes, never plain passwords) and private keys, as
// "kc.sh export" does. The output is deterministic: exporting, importing into
// an empty server and exporting again gives the same bytes.
func Export(ctx context.Context, db *store.DB, realmName string) ([]byte, error) {
	var x Realm
	err := db.InTx(ctx, func(tx *store.DB) error {
		var err error
		x, err = exportRealm(ctx, tx, realmName)
		return err
	})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func exportRealm(ctx context.Context, tx *store.DB, realmName string) (Realm, error) {
	enabled := true
	r, err := tx.GetRealmByName(ctx, realmName)
	if err != nil {
		return Realm{}, fmt.Errorf("export realm %q: %w", realmName, err)
	}
	x := RealmFromDomain(r)

	clients, err := tx.ListClients(ctx, r.ID)
	if err != nil {
		return Realm{}, err
	}
	clientIDOf := map[string]string{} // internal id → clientId
	for _, c := range clients {
		clientIDOf[c.ID] = c.ClientID
	}
	scopes, err := tx.ListClientScopes(ctx, r.ID)
	if err != nil {
		return Realm{}, err
	}
	scopeName := map[string]string{}
	for _, s := range scopes {
		scopeName[s.ID] = s.Name
	}

	// Roles, realm and client, with composites named as Keycloak names them.
	roles, err := tx.ListAllRoles(ctx, r.ID)
	if err != nil {
		return Realm{}, err
	}
	graph, err := tx.CompositeGraph(ctx, r.ID)
	if err != nil {
		return Realm{}, err
	}
	byID := map[string]role.Role{}
	for _, ro := range roles {
		byID[ro.ID] = ro
	}
	names := func(ids []string) ([]string, map[string][]string) {
		var realmNames []string
		var clientNames map[string][]string
		for _, id := range ids {
			ro, ok := byID[id]
			if !ok {
				continue // a role of another realm; never created by Gatehouse
			}
			if ro.ClientID == "" {
				realmNames = append(realmNames, ro.Name)
				continue
			}
			if clientNames == nil {
				clientNames = map[string][]string{}
			}
			cid := clientIDOf[ro.ClientID]
			clientNames[cid] = append(clientNames[cid], ro.Name)
		}
		slices.Sort(realmNames)
		for k := range clientNames {
			slices.Sort(clientNames[k])
		}
		return realmNames, clientNames
	}
	x.Roles = &Roles{Realm: []Role{}, Client: map[string][]Role{}}
	for _, ro := range roles {
		kids := graph[ro.ID]
		xr := RoleFromDomain(ro, len(kids) > 0)
		if len(kids) > 0 {
			rn, cn := names(kids)
			xr.Composites = &Composites{Realm: rn, Client: cn}
		}
		if ro.ClientID == "" {
			x.Roles.Realm = append(x.Roles.Realm, xr)
			if ro.ID == r.DefaultRoleID {
				d := xr
				d.Composites, d.Attributes = nil, nil
				x.DefaultRole = &d
			}
		} else {
			cid := clientIDOf[ro.ClientID]
			x.Roles.Client[cid] = append(x.Roles.Client[cid], xr)
		}
	}
	for _, c := range clients {
		if x.Roles.Client[c.ClientID] == nil {
			x.Roles.Client[c.ClientID] = []Role{}
		}
	}

	// Groups, as a tree with their role mappings.
	groups, err := tx.ListGroups(ctx, r.ID)
	if err != nil {
		return Realm{}, err
	}
	x.Groups = GroupTree(groups)
	groupPath := map[string]string{}
	var fill func(gs []Group) error
	fill = func(gs []Group) error {
		for i := range gs {
			groupPath[gs[i].ID] = gs[i].Path
			mapped, err := tx.ListGroupRoles(ctx, gs[i].ID)
			if err != nil {
				return err
			}
			ids := make([]string, len(mapped))
			for j, m := range mapped {
				ids[j] = m.ID
			}
			gs[i].RealmRoles, gs[i].ClientRoles = names(ids)
			if gs[i].RealmRoles == nil {
				gs[i].RealmRoles = []string{}
			}
			if gs[i].ClientRoles == nil {
				gs[i].ClientRoles = map[string][]string{}
			}
			gs[i].SubGroupCount = nil
			if gs[i].SubGroups == nil {
				gs[i].SubGroups = []Group{}
			}
			if err := fill(gs[i].SubGroups); err != nil {
				return err
			}
		}
		return nil
	}
	if err := fill(x.Groups); err != nil {
		return Realm{}, err
	}

	// Users, with hashed credentials, role mappings and group paths.
	users, err := tx.ListUsers(ctx, r.ID, 0, -1)
	if err != nil {
		return Realm{}, err
	}
	fed, err := tx.ListRealmFederatedIdentities(ctx, r.ID)
	if err != nil {
		return Realm{}, err
	}
	fedOf := map[string][]idp.FederatedIdentity{} // user id → links
	for _, f := range fed {
		fedOf[f.UserID] = append(fedOf[f.UserID], f)
	}
	x.Users = []User{}
	for _, u := range users {
		xu := UserFromDomain(u)
		if u.ServiceAccountClientID != "" {
			xu.ServiceAccountClientID = clientIDOf[u.ServiceAccountClientID]
		}
		creds, err := tx.ListCredentials(ctx, u.ID)
		if err != nil {
			return Realm{}, err
		}
		xu.Credentials = []Credential{}
		for _, c := range creds {
			xu.Credentials = append(xu.Credentials, CredentialFromDomain(c))
			xu.Totp = xu.Totp || c.Type == "otp"
		}
		mapped, err := tx.ListUserRoles(ctx, u.ID)
		if err != nil {
			return Realm{}, err
		}
		ids := make([]string, len(mapped))
		for j, m := range mapped {
			ids[j] = m.ID
		}
		xu.RealmRoles, xu.ClientRoles = names(ids)
		gs, err := tx.ListUserGroups(ctx, u.ID)
		if err != nil {
			return Realm{}, err
		}
		for _, g := range gs {
			xu.Groups = append(xu.Groups, groupPath[g.ID])
		}
		slices.Sort(xu.Groups)
		for _, f := range fedOf[u.ID] {
			xu.FederatedIdentities = append(xu.FederatedIdentities, FederatedIdentityFromDomain(f))
		}
		x.Users = append(x.Users, xu)
	}

	// Identity providers, secrets included as in every full export (a
	// partial export masks them), and their mappers.
	providers, err := tx.ListIdentityProviders(ctx, r.ID)
	if err != nil {
		return Realm{}, err
	}
	x.IdentityProviders = []IdentityProvider{}
	for _, p := range providers {
		x.IdentityProviders = append(x.IdentityProviders, IdentityProviderFromDomain(p))
	}
	mappers, err := tx.ListRealmIdentityProviderMappers(ctx, r.ID)
	if err != nil {
		return Realm{}, err
	}
	for _, m := range mappers {
		x.IdentityProviderMappers = append(x.IdentityProviderMappers, IdentityProviderMapperFromDomain(m))
	}

	// Clients with their scope links, and the realm's scopes and defaults.
	x.Clients = []Client{}
	dir, err := tx.AuthzDirectory(ctx, r.ID)
	if err != nil {
		return Realm{}, err
	}
	for _, c := range clients {
		xc := ClientFromDomain(c)
		if xc.AuthorizationSettings, err = exportAuthz(ctx, tx, r.ID, c.ID, dir); err != nil {
			return Realm{}, err
		}
		if xc.AuthorizationSettings != nil {
			xc.AuthorizationServicesEnabled = &enabled
		}
		links, err := tx.ClientScopeLinks(ctx, r.ID, c.ID)
		if err != nil {
			return Realm{}, err
		}
		xc.DefaultClientScopes, xc.OptionalClientScopes = linkNames(links, scopeName)
		x.Clients = append(x.Clients, xc)
	}
	x.ClientScopes = []ClientScope{}
	for _, s := range scopes {
		x.ClientScopes = append(x.ClientScopes, ScopeFromDomain(s))
	}
	links, err := tx.ClientScopeLinks(ctx, r.ID, store.RealmDefaults)
	if err != nil {
		return Realm{}, err
	}
	x.DefaultDefaultClientScopes, x.DefaultOptionalClientScopes = linkNames(links, scopeName)
	if err := exportScopeMappings(ctx, tx, r.ID, clientIDOf, scopeName, &x); err != nil {
		return Realm{}, err
	}

	// Keys as Keycloak's key provider components.
	ks, err := tx.ListKeys(ctx, r.ID)
	if err != nil {
		return Realm{}, err
	}
	var comps []Component
	for _, k := range ks {
		c, err := keyComponent(k)
		if err != nil {
			return Realm{}, err
		}
		comps = append(comps, c)
	}
	slices.SortFunc(comps, func(a, b Component) int {
		if a.ProviderID != b.ProviderID {
			if a.ProviderID < b.ProviderID {
				return -1
			}
			return 1
		}
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	x.Components = map[string][]Component{keyProviders: comps}
	for _, p := range regpolicy.Of(r) {
		x.Components[regpolicy.ProviderType] = append(x.Components[regpolicy.ProviderType], Component{ID: p.ID, Name: p.Name,
			ProviderID: p.ProviderID, SubType: p.SubType, SubComponents: map[string][]Component{}, Config: p.Config})
	}
	storage, err := exportUserStorage(ctx, tx, r.ID)
	if err != nil {
		return Realm{}, err
	}
	if len(storage) > 0 {
		x.Components[ldap.ProviderType] = storage
	}
	if len(r.UserProfile) > 0 {
		// Keycloak keeps the declarative user profile as a component.
		x.Components[UserProfileProvider] = []Component{{Name: userProfileProviderID, ProviderID: userProfileProviderID,
			SubComponents: map[string][]Component{}, Config: map[string][]string{userProfileConfig: {string(r.UserProfile)}}}}
	}
	for _, id := range r.DefaultGroupIDs {
		if p, ok := groupPath[id]; ok {
			x.DefaultGroups = append(x.DefaultGroups, p)
		}
	}
	if len(r.Localization) > 0 {
		x.LocalizationTexts = r.Localization
	}
	auth, err := tx.GetAuthConfig(ctx, r.ID)
	if err != nil {
		return Realm{}, err
	}
	x.setAuth(auth)
	return x, nil
}

func linkNames(links []client.ScopeLink, scopeName map[string]string) (dflt, optional []string) {
	dflt, optional = []string{}, []string{}
	for _, l := range links {
		if l.Default {
			dflt = append(dflt, scopeName[l.ScopeID])
		} else {
			optional = append(optional, scopeName[l.ScopeID])
		}
	}
	slices.Sort(dflt)
	slices.Sort(optional)
	return dflt, optional
}

func keyComponent(k keys.Key) (Component, error) {
	conf, err := keys.ComponentConfig(k)
	if err != nil {
		return Component{}, fmt.Errorf("export key %s: %w", k.Kid, err)
	}
	return Component{ID: k.ID, Name: k.DisplayName(), ProviderID: k.ProviderID, SubComponents: map[string][]Component{}, Config: conf}, nil
}
