package rep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/gatehouse-iam/gatehouse/internal/regpolicy"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/profile"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// ErrRealmExists is returned when an imported realm exists and neither
// Override nor SkipExisting was asked for.
var ErrRealmExists = errors.New("already exists")

// ImportOptions says what to do when the realm exists.
type ImportOptions struct {
	Override     bool // replace the existing realm
	SkipExisting bool // leave it and report skipped (--import-realm at start)
	Now          time.Time
	Log          *slog.Logger // warnings (a weak key, an unsupported provider); nil logs nothing
}

// maxImportSize bounds a realm file; bigger ones are better split per realm.
const maxImportSize = 256 << 20

// ImportFile imports a realm file holding one realm; see ImportRealms.
func ImportFile(ctx context.Context, db *store.DB, data []byte, opts ImportOptions) (realmName string, skipped bool, err error) {
	done, err := ImportRealms(ctx, db, data, opts)
	if len(done) > 0 {
		realmName, skipped = done[0].Realm, done[0].Skipped
	}
	if err == nil && len(done) != 1 {
		err = importErr("$", "the file holds %d realms, not one", len(done))
	}
	return realmName, skipped, err
}

// Imported is one realm of a file that ImportRealms went through.
type Imported struct {
	Realm   string
	Skipped bool
	// Ignored lists, by JSON path, the members of the file that Gatehouse
	// read but does not store (see DecodeRealms).
	Ignored []string
	// NotRunnable gives, by binding (browserFlow…), why the flow the realm
	// binds cannot run in Gatehouse: the realm is imported, and a login
	// through that binding fails with this reason.
	NotRunnable map[string]string
}

// ImportRealms imports a realm file in Keycloak's realm export format: one
// realm object, or a JSON array of them as Keycloak's single-file export of
// several realms writes. Every realm is written in one transaction: a file
// that fails anywhere leaves nothing behind.
func ImportRealms(ctx context.Context, db *store.DB, data []byte, opts ImportOptions) ([]Imported, error) {
	realms, err := DecodeRealms(data)
	if err != nil {
		return nil, err
	}
	out := make([]Imported, len(realms))
	err = db.InTx(ctx, func(tx *store.DB) error {
		for i, d := range realms {
			skipped, err := Import(ctx, tx, d.Realm, opts)
			if err != nil {
				var ie *ImportError
				if holdsArray(data) && errors.As(err, &ie) {
					ie.Path = fmt.Sprintf("$[%d]", i) + strings.TrimPrefix(ie.Path, "$")
				}
				return err
			}
			out[i] = Imported{Realm: d.Realm.Realm, Skipped: skipped, Ignored: d.Ignored}
			if !skipped {
				if out[i].NotRunnable, err = NotRunnable(ctx, tx, d.Realm.Realm); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// NotRunnable returns, by binding, why the flows realm realmName binds
// cannot run in Gatehouse (flow.NotRunnable); nil when all can.
func NotRunnable(ctx context.Context, db *store.DB, realmName string) (map[string]string, error) {
	r, err := db.GetRealmByName(ctx, realmName)
	if err != nil {
		return nil, err
	}
	c, err := db.GetAuthConfig(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	if bad := flow.NotRunnable(c); len(bad) > 0 {
		return bad, nil
	}
	return nil, nil
}

// Import writes realm x and everything in it.
func Import(ctx context.Context, db *store.DB, x Realm, opts ImportOptions) (skipped bool, err error) {
	if opts.Now.IsZero() {
		return false, errors.New("import: ImportOptions.Now is required")
	}
	if strings.TrimSpace(x.Realm) == "" {
		return false, importErr("$.realm", "the realm name is missing")
	}
	err = db.InTx(ctx, func(tx *store.DB) error {
		existing, err := tx.GetRealmByName(ctx, x.Realm)
		switch {
		case err == nil && opts.SkipExisting:
			skipped = true
			return nil
		case err == nil && !opts.Override:
			return fmt.Errorf("realm %q %w", x.Realm, ErrRealmExists)
		case err == nil:
			if err := tx.DeleteRealm(ctx, existing.ID); err != nil {
				return err
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		im := importer{tx: tx, x: x, now: opts.Now, log: opts.Log}
		return im.run(ctx)
	})
	return skipped, err
}

type importer struct {
	tx  *store.DB
	x   Realm
	now time.Time
	log *slog.Logger // nil logs nothing

	realm      realm.Realm
	scopes     map[string]string            // scope name → id
	clients    map[string]string            // clientId → internal id
	realmRole  map[string]string            // role name → id
	clientRole map[string]map[string]string // clientId → role name → id
	groups     map[string]string            // group path → id
}

func (im *importer) run(ctx context.Context) error {
	x, tx := im.x, im.tx
	id := x.ID
	if id == "" {
		id = store.NewID()
	}
	im.realm = realm.New(id, x.Realm)
	x.ApplyTo(&im.realm)
	im.realm.ID, im.realm.Name, im.realm.DefaultRoleID = id, x.Realm, ""
	if err := im.registrationPolicies(); err != nil {
		return err
	}
	if err := im.realm.Validate(); err != nil {
		return importErr("$", "%v", err)
	}
	if err := user.CheckHashPolicy(im.realm.PasswordPolicy); err != nil {
		return importErr("$.passwordPolicy", "%v", err)
	}
	if err := tx.CreateRealm(ctx, im.realm); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return importErr("$.id", "realm id %q is used by another realm", id)
		}
		return err
	}
	steps := []func(context.Context) error{
		im.authFlows, im.clientScopes, im.clientsStep, im.roles, im.composites, im.defaultRole, im.keys,
		func(ctx context.Context) error { return provision.Complete(ctx, tx, im.realm.ID, im.now) },
		im.reloadRoles, im.legacyDefaultRoles, im.scopeMappings, im.groupsStep, im.realmExtras, im.userStorage, im.identityProviders, im.users, im.serviceAccounts, im.authzSettings,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// authFlows stores the file's authentication model (see Realm.authConfig)
// with ids for every part; a file without one gets the built-in model from
// provision.Complete. Flows naming authenticators Gatehouse does not run
// are kept, as Keycloak keeps them; ImportRealms reports the bindings
// they leave unable to run.
func (im *importer) authFlows(ctx context.Context) error {
	c, ok, err := im.x.authConfig()
	if err != nil {
		return importErr("$.authenticationFlows", "%v", err)
	}
	if !ok {
		return nil
	}
	seen := map[string]bool{}
	for i := range c.Flows {
		if seen[c.Flows[i].ID] {
			c.Flows[i].ID = "" // a second flow with the id: it gets its own
		}
		seen[c.Flows[i].ID] = true
	}
	c.AssignIDs(store.NewID)
	ids := flowIDs(c)
	for i, xc := range im.x.Clients {
		for _, k := range slices.Sorted(maps.Keys(xc.AuthenticationFlowBindingOverrides)) {
			if id := xc.AuthenticationFlowBindingOverrides[k]; strings.TrimSpace(id) != "" && ids[id] == "" {
				return importErr(fmt.Sprintf("$.clients[%d].authenticationFlowBindingOverrides[%q]", i, k), "flow %s does not exist", id)
			}
		}
	}
	return im.tx.PutAuthConfig(ctx, im.realm.ID, c)
}

func (im *importer) clientScopes(ctx context.Context) error {
	im.scopes = map[string]string{}
	if im.x.ClientScopes == nil {
		if err := provision.DefaultScopes(ctx, im.tx, im.realm.ID); err != nil {
			return err
		}
	}
	// Client templates, before Keycloak 4, were what client scopes became.
	type entry struct {
		cs   ClientScope
		path string
	}
	var entries []entry
	for i, cs := range im.x.ClientScopes {
		entries = append(entries, entry{cs, fmt.Sprintf("$.clientScopes[%d]", i)})
	}
	for i, cs := range im.x.ClientTemplates {
		entries = append(entries, entry{cs, fmt.Sprintf("$.clientTemplates[%d]", i)})
	}
	for _, e := range entries {
		cs, path := e.cs, e.path
		s := cs.ToDomain(im.realm.ID)
		if s.ID == "" {
			s.ID = store.NewID()
		}
		for j := range s.ProtocolMappers {
			if s.ProtocolMappers[j].ID == "" {
				s.ProtocolMappers[j].ID = store.NewID()
			}
		}
		if err := s.Validate(); err != nil {
			return importErr(path, "%v", err)
		}
		if err := im.tx.CreateClientScope(ctx, s); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return importErr(path+".name", "client scope %q appears twice (or its id is taken)", s.Name)
			}
			return err
		}
	}
	all, err := im.tx.ListClientScopes(ctx, im.realm.ID)
	if err != nil {
		return err
	}
	for _, s := range all {
		im.scopes[s.Name] = s.ID
	}
	// Realm defaults for new clients, when the file names them.
	for _, l := range []struct {
		names []string
		dflt  bool
		path  string
	}{{im.x.DefaultDefaultClientScopes, true, "$.defaultDefaultClientScopes"}, {im.x.DefaultOptionalClientScopes, false, "$.defaultOptionalClientScopes"}} {
		for _, name := range l.names {
			sid, ok := im.scopes[name]
			if !ok {
				continue // Keycloak skips scopes it does not know, as SAML ones here
			}
			if err := im.tx.LinkClientScope(ctx, im.realm.ID, store.RealmDefaults, sid, l.dflt); err != nil {
				return err
			}
		}
	}
	return nil
}

func (im *importer) clientsStep(ctx context.Context) error {
	im.clients = map[string]string{}
	for i, xc := range im.x.Clients {
		path := fmt.Sprintf("$.clients[%d]", i)
		c := xc.ToDomain(im.realm.ID)
		if c.ID == "" {
			c.ID = store.NewID()
		}
		for j := range c.ProtocolMappers {
			if c.ProtocolMappers[j].ID == "" {
				c.ProtocolMappers[j].ID = store.NewID()
			}
		}
		if err := c.Validate(); err != nil {
			return importErr(path, "%v", err)
		}
		if _, dup := im.clients[c.ClientID]; dup {
			return importErr(path+".clientId", "client %q appears twice", c.ClientID)
		}
		if err := im.tx.CreateClient(ctx, c); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return importErr(path+".id", "client id %q is already used", c.ID)
			}
			return err
		}
		im.clients[c.ClientID] = c.ID
		if xc.ClientTemplate != "" {
			sid, ok := im.scopes[xc.ClientTemplate]
			if !ok {
				return importErr(path+".clientTemplate", "client template %q is not in the realm", xc.ClientTemplate)
			}
			if err := im.tx.LinkClientScope(ctx, im.realm.ID, c.ID, sid, true); err != nil {
				return err
			}
		}
		if xc.DefaultClientScopes == nil && xc.OptionalClientScopes == nil {
			links, err := im.tx.ClientScopeLinks(ctx, im.realm.ID, store.RealmDefaults)
			if err != nil {
				return err
			}
			for _, l := range links {
				if err := im.tx.LinkClientScope(ctx, im.realm.ID, c.ID, l.ScopeID, l.Default); err != nil {
					return err
				}
			}
			continue
		}
		for _, l := range []struct {
			names []string
			dflt  bool
		}{{xc.DefaultClientScopes, true}, {xc.OptionalClientScopes, false}} {
			for _, name := range l.names {
				if sid, ok := im.scopes[name]; ok {
					if err := im.tx.LinkClientScope(ctx, im.realm.ID, c.ID, sid, l.dflt); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// roles creates the file's roles. Roles of clients the file carries come
// first, then the built-in clients the file lacks are created (Keycloak sets
// those up before importing), and last the file's roles of those built-in
// clients, where a role the built-in client already has is kept as it is.
func (im *importer) roles(ctx context.Context) error {
	var later []string
	if im.x.Roles != nil {
		for i, xr := range im.x.Roles.Realm {
			if err := im.createRole(ctx, xr, "", fmt.Sprintf("$.roles.realm[%d]", i), false); err != nil {
				return err
			}
		}
		for _, clientID := range sortedKeys(im.x.Roles.Client) {
			cid, ok := im.clients[clientID]
			if !ok {
				later = append(later, clientID)
				continue
			}
			for i, xr := range im.x.Roles.Client[clientID] {
				if err := im.createRole(ctx, xr, cid, fmt.Sprintf("$.roles.client.%s[%d]", clientID, i), false); err != nil {
					return err
				}
			}
		}
	}
	if err := provision.BuiltinClients(ctx, im.tx, im.realm.ID, im.now); err != nil {
		return err
	}
	for _, clientID := range later {
		c, err := im.tx.GetClientByClientID(ctx, im.realm.ID, clientID)
		if errors.Is(err, store.ErrNotFound) {
			return importErr("$.roles.client."+clientID, "roles of client %q, which is not in the file", clientID)
		}
		if err != nil {
			return err
		}
		for i, xr := range im.x.Roles.Client[clientID] {
			if err := im.createRole(ctx, xr, c.ID, fmt.Sprintf("$.roles.client.%s[%d]", clientID, i), true); err != nil {
				return err
			}
		}
	}
	// A client with authorization services has the role its resource
	// server's protection API asks for, as Keycloak creates it on import.
	for _, xc := range im.x.Clients {
		if xc.AuthorizationServicesEnabled != nil && *xc.AuthorizationServicesEnabled {
			if _, err := provision.EnsureClientRole(ctx, im.tx, im.realm.ID, im.clients[xc.ClientID], umaProtection, "${role_uma_protection}"); err != nil {
				return err
			}
		}
	}
	return nil
}

// umaProtection is the client role of a resource server's protection API.
const umaProtection = "uma_protection"

func (im *importer) createRole(ctx context.Context, xr Role, clientID, path string, keepExisting bool) error {
	r := xr.ToDomain(im.realm.ID, clientID)
	if keepExisting {
		if _, err := im.tx.GetClientRole(ctx, im.realm.ID, clientID, r.Name); err == nil {
			return nil
		}
	}
	if r.ID == "" {
		r.ID = store.NewID()
	}
	if err := r.Validate(); err != nil {
		return importErr(path, "%v", err)
	}
	if err := im.tx.CreateRole(ctx, r); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return importErr(path+".name", "role %q appears twice (or its id is taken)", r.Name)
		}
		return err
	}
	return nil
}

// reloadRoles indexes every role by name, built-in ones included.
func (im *importer) reloadRoles(ctx context.Context) error {
	im.realmRole = map[string]string{}
	im.clientRole = map[string]map[string]string{}
	all, err := im.tx.ListAllRoles(ctx, im.realm.ID)
	if err != nil {
		return err
	}
	cs, err := im.tx.ListClients(ctx, im.realm.ID)
	if err != nil {
		return err
	}
	byID := map[string]string{}
	for _, c := range cs {
		byID[c.ID] = c.ClientID
		im.clients[c.ClientID] = c.ID
	}
	for _, r := range all {
		if r.ClientID == "" {
			im.realmRole[r.Name] = r.ID
			continue
		}
		cid := byID[r.ClientID]
		if im.clientRole[cid] == nil {
			im.clientRole[cid] = map[string]string{}
		}
		im.clientRole[cid][r.Name] = r.ID
	}
	return nil
}

// roleIDs resolves realm role names and client role names (by clientId).
// With create a role the realm or client lacks is created, as Keycloak's
// import does for the roles of groups and the default roles; the client
// must exist.
func (im *importer) roleIDs(ctx context.Context, realmRoles []string, clientRoles map[string][]string, path string, create bool) ([]string, error) {
	var ids []string
	for i, name := range realmRoles {
		id, ok := im.realmRole[name]
		if !ok && create {
			r, err := provision.EnsureRealmRole(ctx, im.tx, im.realm.ID, name, "")
			if err != nil {
				return nil, err
			}
			id, ok = r.ID, true
			im.realmRole[name] = id
		}
		if !ok {
			return nil, importErr(fmt.Sprintf("%s.realmRoles[%d]", path, i), "realm role %q does not exist", name)
		}
		ids = append(ids, id)
	}
	for _, cid := range sortedKeys(clientRoles) {
		for i, name := range clientRoles[cid] {
			id, ok := im.clientRole[cid][name]
			if c, known := im.clients[cid]; !ok && create && known {
				r, err := provision.EnsureClientRole(ctx, im.tx, im.realm.ID, c, name, "")
				if err != nil {
					return nil, err
				}
				id, ok = r.ID, true
				if im.clientRole[cid] == nil {
					im.clientRole[cid] = map[string]string{}
				}
				im.clientRole[cid][name] = id
			}
			if !ok {
				return nil, importErr(fmt.Sprintf("%s.clientRoles.%s[%d]", path, cid, i), "role %q of client %q does not exist", name, cid)
			}
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (im *importer) composites(ctx context.Context) error {
	if err := im.reloadRoles(ctx); err != nil {
		return err
	}
	if im.x.Roles == nil {
		return nil
	}
	add := func(xr Role, table map[string]string, path string) error {
		if xr.Composites == nil {
			return nil
		}
		kids, err := im.roleIDs(ctx, xr.Composites.Realm, xr.Composites.Client, path+".composites", false)
		if err != nil {
			var ie *ImportError
			if errors.As(err, &ie) {
				ie.Path = strings.Replace(ie.Path, "realmRoles", "realm", 1)
				ie.Path = strings.Replace(ie.Path, "clientRoles", "client", 1)
			}
			return err
		}
		return im.tx.AddComposites(ctx, table[xr.Name], kids...)
	}
	for i, xr := range im.x.Roles.Realm {
		if err := add(xr, im.realmRole, fmt.Sprintf("$.roles.realm[%d]", i)); err != nil {
			return err
		}
	}
	for _, clientID := range sortedKeys(im.x.Roles.Client) {
		for i, xr := range im.x.Roles.Client[clientID] {
			if err := add(xr, im.clientRole[clientID], fmt.Sprintf("$.roles.client.%s[%d]", clientID, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (im *importer) defaultRole(ctx context.Context) error {
	if im.x.DefaultRole == nil || im.x.DefaultRole.Name == "" {
		return nil
	}
	id, ok := im.realmRole[im.x.DefaultRole.Name]
	if !ok {
		return importErr("$.defaultRole.name", "default role %q is not among the realm roles", im.x.DefaultRole.Name)
	}
	im.realm.DefaultRoleID = id
	return im.tx.UpdateRealm(ctx, im.realm.ID, func(r *realm.Realm) error { r.DefaultRoleID = id; return nil })
}

// legacyDefaultRoles makes the default roles an export older than Keycloak
// 13 names (realm defaultRoles, clients' defaultRoles) part of the realm's
// default role, creating those the file does not declare.
func (im *importer) legacyDefaultRoles(ctx context.Context) error {
	if im.x.DefaultRole != nil && im.x.DefaultRole.Name != "" {
		return nil
	}
	clientRoles := map[string][]string{}
	for _, xc := range im.x.Clients {
		if len(xc.DefaultRoles) > 0 {
			clientRoles[xc.ClientID] = xc.DefaultRoles
		}
	}
	if len(im.x.DefaultRoles) == 0 && len(clientRoles) == 0 {
		return nil
	}
	r, err := im.tx.GetRealm(ctx, im.realm.ID)
	if err != nil {
		return err
	}
	ids, err := im.roleIDs(ctx, im.x.DefaultRoles, clientRoles, "$.defaultRoles", true)
	if err != nil {
		return err
	}
	return im.tx.AddComposites(ctx, r.DefaultRoleID, ids...)
}

// keyProviders is where Keycloak's export keeps realm keys.
const keyProviders = "org.keycloak.keys.KeyProvider"

func (im *importer) keys(ctx context.Context) error {
	comps := slices.Clone(im.x.Components[keyProviders])
	paths := make([]string, len(comps))
	for i := range comps {
		paths[i] = fmt.Sprintf("$.components[%q][%d]", keyProviders, i)
	}
	legacy := len(comps) == 0 && im.x.PrivateKey != ""
	if legacy {
		// A pre-key-provider realm key becomes the "rsa" provider it was
		// migrated to; its certificate, when absent, is generated. A file
		// with key providers of its own uses those and ignores it.
		comps = append(comps, Component{Name: keys.ProviderRSA, ProviderID: keys.ProviderRSA, Config: map[string][]string{
			"privateKey": {im.x.PrivateKey}, "certificate": {im.x.Certificate}, "priority": {"100"},
		}})
		paths = append(paths, "$.privateKey")
	} else if im.x.PrivateKey != "" {
		im.warn("$.privateKey", "ignored: the file's key providers hold the realm's keys")
	}
	// A file without key providers gets the default ones (provision.Complete
	// makes them). A file with some gets none added: an algorithm it has no
	// key for gets a fallback key when a token first needs one.
	for i, c := range comps {
		if !slices.Contains(keys.Providers, c.ProviderID) {
			im.warn(paths[i], "key provider %q is not supported and not imported", c.ProviderID)
			continue
		}
		k, err := keys.FromComponent(c.ID, keys.Params{ProviderID: c.ProviderID, Name: c.Name, Config: c.Config}, im.realm.Name, im.now)
		if err != nil {
			return importErr(paths[i], "%v", err)
		}
		k.RealmID = im.realm.ID
		if w := k.Weakness(); w != "" {
			im.warn(paths[i], "%s (kid %s); it is kept, as the file asks", w, k.Kid)
		}
		if err := im.tx.CreateKey(ctx, k); err != nil {
			return importErr(paths[i], "%v", err)
		}
	}
	if legacy {
		secrets, err := keys.DefaultSecrets(im.now)
		if err != nil {
			return err
		}
		for _, k := range secrets {
			k.RealmID = im.realm.ID
			if err := im.tx.CreateKey(ctx, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// warn reports something imported differently from the file, to the log.
func (im *importer) warn(path, format string, a ...any) {
	if im.log != nil {
		im.log.Warn("import: "+fmt.Sprintf(format, a...), "realm", im.x.Realm, "path", path)
	}
}

func (im *importer) groupsStep(ctx context.Context) error {
	im.groups = map[string]string{}
	var walk func(gs []Group, parentID, parentPath, path string) error
	walk = func(gs []Group, parentID, parentPath, path string) error {
		for i, xg := range gs {
			p := fmt.Sprintf("%s[%d]", path, i)
			g := xg.ToDomain(im.realm.ID, parentID)
			if g.ID == "" {
				g.ID = store.NewID()
			}
			if err := g.Validate(); err != nil {
				return importErr(p, "%v", err)
			}
			if err := im.tx.CreateGroup(ctx, g); err != nil {
				if errors.Is(err, store.ErrConflict) {
					return importErr(p+".name", "group %q appears twice under the same parent (or its id is taken)", g.Name)
				}
				return err
			}
			gp := role.GroupPath(parentPath, g.Name)
			im.groups[gp] = g.ID
			ids, err := im.roleIDs(ctx, xg.RealmRoles, xg.ClientRoles, p, true)
			if err != nil {
				return err
			}
			if err := im.tx.AddGroupRoles(ctx, g.ID, ids...); err != nil {
				return err
			}
			if err := walk(xg.SubGroups, g.ID, gp, p+".subGroups"); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(im.x.Groups, "", "", "$.groups")
}

// Where Keycloak's export keeps the declarative user profile.
const (
	UserProfileProvider   = "org.keycloak.userprofile.UserProfileProvider"
	userProfileProviderID = "declarative-user-profile"
	userProfileConfig     = "kc.user.profile.config"
)

// realmExtras stores what the realm keeps beside its settings: the default
// groups (by path, so after the groups), its own texts, and the user
// profile, which is checked as the admin API checks it.
func (im *importer) realmExtras(ctx context.Context) error {
	var defaults []string
	for i, p := range im.x.DefaultGroups {
		id, ok := im.groups[p]
		if !ok {
			id, ok = im.groups["/"+p]
		}
		if !ok {
			return importErr(fmt.Sprintf("$.defaultGroups[%d]", i), "group %q is not among the realm's groups", p)
		}
		defaults = append(defaults, id)
	}
	var up []byte
	for i, c := range im.x.Components[UserProfileProvider] {
		if v := c.Config[userProfileConfig]; len(v) > 0 && v[0] != "" {
			cfg, err := profile.Parse([]byte(v[0]))
			if err != nil {
				return importErr(fmt.Sprintf("$.components[%q][%d].config[%q]", UserProfileProvider, i, userProfileConfig), "%v", err)
			}
			if up, err = json.Marshal(cfg); err != nil {
				return err
			}
		}
	}
	if len(defaults) == 0 && len(up) == 0 && len(im.x.LocalizationTexts) == 0 {
		return nil
	}
	return im.tx.UpdateRealm(ctx, im.realm.ID, func(r *realm.Realm) error {
		r.DefaultGroupIDs, r.UserProfile, r.Localization = defaults, up, im.x.LocalizationTexts
		return nil
	})
}

// identityProviders stores the file's identity providers, checked as the
// admin API checks them (the flows they name must be the realm's), and
// their mappers, whose roles and groups must exist.
func (im *importer) identityProviders(ctx context.Context) error {
	kinds := map[string]string{}
	for i, xp := range im.x.IdentityProviders {
		path := fmt.Sprintf("$.identityProviders[%d]", i)
		p := xp.ToDomain()
		if err := CheckProvider(ctx, im.tx, im.realm, p); idp.IsValidationError(err) {
			return importErr(path, "%v", err)
		} else if err != nil {
			return err
		}
		if _, err := im.tx.CreateIdentityProvider(ctx, im.realm.ID, p); errors.Is(err, store.ErrConflict) {
			return importErr(path+".alias", "identity provider %s is there twice", p.Alias)
		} else if err != nil {
			return err
		}
		kinds[p.Alias] = p.ProviderID
	}
	for i, xm := range im.x.IdentityProviderMappers {
		path := fmt.Sprintf("$.identityProviderMappers[%d]", i)
		m := xm.ToDomain()
		kind, ok := kinds[m.IdentityProviderAlias]
		if !ok {
			return importErr(path+".identityProviderAlias", "identity provider %s is not among the realm's", m.IdentityProviderAlias)
		}
		if _, err := CheckProviderMapper(ctx, im.tx, im.realm.ID, kind, m); idp.IsValidationError(err) {
			return importErr(path, "%v", err)
		} else if err != nil {
			return err
		}
		if _, err := im.tx.CreateIdentityProviderMapper(ctx, im.realm.ID, m); errors.Is(err, store.ErrConflict) {
			return importErr(path+".name", "mapper %s of identity provider %s is there twice, or its id is taken", m.Name, m.IdentityProviderAlias)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// users creates the file's users through CreateUser, as Keycloak's import
// does: no default role, exactly the roles and groups the file names.
func (im *importer) users(ctx context.Context) error {
	for i, xu := range im.x.Users {
		_, err := CreateUser(ctx, im.tx, im.realm.ID, xu, UserOptions{Source: FromImport, Now: im.now})
		if err != nil {
			return UserErrorAt(fmt.Sprintf("$.users[%d]", i), err)
		}
	}
	return nil
}

// serviceAccounts creates the service account user of every client that has
// service accounts on but whose user the file did not carry. The service
// account of a client with authorization services holds the client's
// uma_protection role, as Keycloak grants it when it sets up the resource
// server.
func (im *importer) serviceAccounts(ctx context.Context) error {
	cs, err := im.tx.ListClients(ctx, im.realm.ID)
	if err != nil {
		return err
	}
	authz := map[string]bool{}
	for _, xc := range im.x.Clients {
		authz[xc.ClientID] = xc.AuthorizationServicesEnabled != nil && *xc.AuthorizationServicesEnabled
	}
	for _, c := range cs {
		if !c.ServiceAccountsEnabled {
			continue
		}
		if err := provision.EnsureServiceAccount(ctx, im.tx, c, im.now); err != nil {
			return err
		}
		if !authz[c.ClientID] {
			continue
		}
		sa, err := im.tx.GetServiceAccount(ctx, im.realm.ID, c.ID)
		if err != nil {
			return err
		}
		uma, err := im.tx.GetClientRole(ctx, im.realm.ID, c.ID, umaProtection)
		if err != nil {
			return err
		}
		if err := im.tx.AddUserRoles(ctx, sa.ID, uma.ID); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// registrationPolicies takes the file's client registration policies; a
// file without any gets the default set, as a new realm does.
func (im *importer) registrationPolicies() error {
	cs, ok := im.x.Components[regpolicy.ProviderType]
	if !ok {
		im.realm.RegistrationPolicies = regpolicy.Defaults()
		return nil
	}
	ps := []realm.RegistrationPolicy{}
	seen := map[string]bool{}
	for i, c := range cs {
		p := realm.RegistrationPolicy{ID: c.ID, Name: c.Name, ProviderID: c.ProviderID, SubType: c.SubType, Config: c.Config}
		if p.ID == "" || seen[p.ID] {
			p.ID = store.NewID()
		}
		seen[p.ID] = true
		if err := regpolicy.Validate(p); err != nil {
			return importErr(fmt.Sprintf("$.components[%q][%d]", regpolicy.ProviderType, i), "%v", err)
		}
		ps = append(ps, p)
	}
	im.realm.RegistrationPolicies = ps
	return nil
}
