package rep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// A client's authorizationSettings: the resource server, its scopes,
// resources and policies, as realm files, partial imports, the admin
// API's import and its settings export carry them, all by name.

// ExportAuthz is a resource server as an export carries it: resources,
// policies (plain ones first, then permissions; user-managed ones left
// out), scopes, with references by name.
func ExportAuthz(s authz.ResourceServer, ix *authz.Index, dir authz.Directory) authz.ServerRep {
	x := authz.ServerRep{AllowRemoteResourceManagement: s.AllowRemoteResourceManagement, PolicyEnforcementMode: s.PolicyEnforcementMode,
		DecisionStrategy: s.DecisionStrategy, AuthorizationSchema: s.AuthorizationSchema,
		Resources: []authz.ResourceRep{}, Policies: []authz.PolicyRep{}, Scopes: []authz.ScopeRep{}}
	for _, r := range ix.Resources {
		x.Resources = append(x.Resources, authz.ExportResource(r, ix, dir))
	}
	for _, perms := range []bool{false, true} {
		for _, p := range ix.Policies {
			if p.Type == "uma" || authz.IsPermission(p.Type) != perms {
				continue
			}
			x.Policies = append(x.Policies, authz.ExportPolicy(p, ix, dir))
		}
	}
	for _, sc := range ix.Scopes {
		x.Scopes = append(x.Scopes, authz.ScopeRep{ID: sc.ID, Name: sc.Name, IconURI: sc.IconURI, DisplayName: sc.DisplayName})
	}
	return x
}

// exportAuthz is the authorizationSettings of client id, or nil when it is
// no resource server.
func exportAuthz(ctx context.Context, tx *store.DB, realmID, id string, dir authz.Directory) (*authz.ServerRep, error) {
	m, err := tx.LoadAuthzModel(ctx, realmID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	x := ExportAuthz(m.Server, authz.NewIndex(m), dir)
	return &x, nil
}

// ImportAuthz applies a resource server representation to the server s
// through tx: its settings replace s's (the schema only when given);
// scopes, resources and policies are created, or updated where one of the
// same name (and, for resources, the same owner) exists. Ids the
// representation gives are kept when no other object holds them. Policies
// may name policies that come later in the list. JavaScript policies are
// refused (authz.ErrScript).
func ImportAuthz(ctx context.Context, tx *store.DB, s authz.ResourceServer, x authz.ServerRep, dir authz.Directory) error {
	return importAuthz(ctx, tx, s, x, dir, false)
}

// importAuthz is ImportAuthz; with skipScripts, JavaScript policies are
// left out (and so are the references other policies make to them)
// instead of refused, as a realm file written by an older server carries
// them.
func importAuthz(ctx context.Context, tx *store.DB, s authz.ResourceServer, x authz.ServerRep, dir authz.Directory, skipScripts bool) error {
	s.AllowRemoteResourceManagement = x.AllowRemoteResourceManagement
	if x.PolicyEnforcementMode != "" {
		s.PolicyEnforcementMode = x.PolicyEnforcementMode
	}
	if x.DecisionStrategy != "" {
		s.DecisionStrategy = x.DecisionStrategy
	}
	if len(x.AuthorizationSchema) > 0 && string(x.AuthorizationSchema) != "null" {
		s.AuthorizationSchema = slices.Clone(x.AuthorizationSchema)
	}
	if err := authz.ValidateServer(s); err != nil {
		return err
	}
	if err := tx.PutResourceServer(ctx, s); err != nil {
		return err
	}
	m, err := tx.LoadAuthzModel(store.WithoutConfigView(ctx), s.RealmID, s.ID)
	if err != nil {
		return err
	}
	ix := authz.NewIndex(m)
	keepID := func(id string) (string, error) {
		if id == "" {
			return "", nil
		}
		free, err := tx.AuthzIDFree(ctx, id)
		if err != nil || !free {
			return "", err
		}
		return id, nil
	}
	// Scopes, by name.
	for _, xs := range x.Scopes {
		if err := authz.ValidateScope(authz.Scope{Name: xs.Name}); err != nil {
			return err
		}
		if _, err := importScope(ctx, tx, ix, xs, keepID); err != nil {
			return err
		}
	}
	// Resources, by name and owner.
	for _, xr := range x.Resources {
		r, scopes, err := authz.ResourceFromRep(xr, s.ID, dir)
		if err != nil {
			return err
		}
		r.ScopeIDs = nil
		for _, xs := range scopes {
			sc, err := importScope(ctx, tx, ix, authz.ScopeRep{ID: xs.ID, Name: xs.Name, IconURI: xs.IconURI, DisplayName: xs.DisplayName}, keepID)
			if err != nil {
				return err
			}
			r.ScopeIDs = append(r.ScopeIDs, sc.ID)
		}
		i := slices.IndexFunc(ix.Resources, func(o authz.Resource) bool { return o.Name == r.Name && o.Owner == r.Owner })
		if i >= 0 {
			id := ix.Resources[i].ID
			got, err := tx.UpdateResource(ctx, s.ID, id, func(o *authz.Resource) error {
				r.ID = id
				*o = r
				return nil
			})
			if err != nil {
				return err
			}
			ix.Resources[i] = got
			continue
		}
		if r.ID, err = keepID(r.ID); err != nil {
			return err
		}
		got, err := tx.CreateResource(ctx, r)
		if err != nil {
			return err
		}
		ix.Resources = append(ix.Resources, got)
	}
	// Policies, each after those it applies.
	scripts := map[string]bool{}
	pending := []authz.PolicyRep{}
	for _, xp := range x.Policies {
		if xp.Type == "js" {
			if !skipScripts {
				return authz.ErrScript
			}
			scripts[xp.Name] = true
			continue
		}
		pending = append(pending, xp)
	}
	for len(pending) > 0 {
		var later []authz.PolicyRep
		for _, xp := range pending {
			applies := applied(xp)
			if slices.ContainsFunc(applies, func(n string) bool { return waiting(pending, n) && n != xp.Name }) {
				later = append(later, xp)
				continue
			}
			if skipScripts && slices.ContainsFunc(applies, func(n string) bool { return scripts[n] }) {
				xp = withoutApplied(xp, scripts)
			}
			if err := importPolicy(ctx, tx, ix, xp, dir, keepID); err != nil {
				return fmt.Errorf("import policy %q: %w", xp.Name, err)
			}
		}
		if len(later) == len(pending) {
			return &authz.Error{Msg: fmt.Sprintf("Error while importing policy [%s]: its policies depend on one another", later[0].Name)}
		}
		pending = later
	}
	return nil
}

// importScope finds the scope xs names (by id or name), updating its icon
// and display name when given, or creates it.
func importScope(ctx context.Context, tx *store.DB, ix *authz.Index, xs authz.ScopeRep, keepID func(string) (string, error)) (authz.Scope, error) {
	for _, ref := range []string{xs.ID, xs.Name} {
		if ref == "" {
			continue
		}
		if sc, ok := ix.Scope(ref); ok {
			if (xs.IconURI == "" || xs.IconURI == sc.IconURI) && (xs.DisplayName == "" || xs.DisplayName == sc.DisplayName) {
				return sc, nil
			}
			got, err := tx.UpdateScope(ctx, ix.ServerID, sc.ID, func(o *authz.Scope) error {
				if xs.IconURI != "" {
					o.IconURI = xs.IconURI
				}
				if xs.DisplayName != "" {
					o.DisplayName = xs.DisplayName
				}
				return nil
			})
			if err != nil {
				return sc, err
			}
			for i := range ix.Scopes {
				if ix.Scopes[i].ID == got.ID {
					ix.Scopes[i] = got
				}
			}
			return got, nil
		}
	}
	id, err := keepID(xs.ID)
	if err != nil {
		return authz.Scope{}, err
	}
	sc := authz.Scope{ID: id, ServerID: ix.ServerID, Name: xs.Name, IconURI: xs.IconURI, DisplayName: xs.DisplayName}
	if err := authz.ValidateScope(sc); err != nil {
		return sc, err
	}
	got, err := tx.CreateScope(ctx, sc)
	if err != nil {
		return got, err
	}
	ix.Scopes = append(ix.Scopes, got)
	return got, nil
}

// importPolicy creates or (by name) updates one policy.
func importPolicy(ctx context.Context, tx *store.DB, ix *authz.Index, xp authz.PolicyRep, dir authz.Directory, keepID func(string) (string, error)) error {
	if xp.Logic == "" {
		xp.Logic = authz.Positive
	}
	if xp.DecisionStrategy == "" {
		xp.DecisionStrategy = authz.Unanimous
	}
	p, err := authz.PolicyFromInput(authz.PolicyInput{PolicyRep: xp}, ix, dir)
	if err != nil {
		return err
	}
	if old, ok := ix.Policy(xp.Name); ok && old.Name == xp.Name {
		got, err := tx.UpdatePolicy(ctx, ix.ServerID, old.ID, func(o *authz.Policy) error {
			p.ID, p.Type = old.ID, old.Type
			*o = p
			return nil
		})
		if err != nil {
			return err
		}
		for i := range ix.Policies {
			if ix.Policies[i].ID == got.ID {
				ix.Policies[i] = got
			}
		}
		return nil
	}
	if p.ID, err = keepID(p.ID); err != nil {
		return err
	}
	got, err := tx.CreatePolicy(ctx, p)
	if err != nil {
		return err
	}
	ix.Policies = append(ix.Policies, got)
	return nil
}

// applied lists the names (or ids) of the policies xp applies.
func applied(xp authz.PolicyRep) []string {
	out := slices.Clone(xp.Policies)
	var names []string
	if v := xp.Config["applyPolicies"]; v != "" && json.Unmarshal([]byte(v), &names) == nil {
		out = append(out, names...)
	}
	return out
}

func waiting(pending []authz.PolicyRep, name string) bool {
	return slices.ContainsFunc(pending, func(p authz.PolicyRep) bool { return p.Name == name || p.ID == name && name != "" })
}

// withoutApplied drops the skipped policies from those xp applies.
func withoutApplied(xp authz.PolicyRep, skip map[string]bool) authz.PolicyRep {
	keep := func(s []string) []string {
		return slices.DeleteFunc(slices.Clone(s), func(n string) bool { return skip[n] })
	}
	xp.Policies = keep(xp.Policies)
	cfg := map[string]string{}
	for k, v := range xp.Config {
		cfg[k] = v
	}
	var names []string
	if json.Unmarshal([]byte(cfg["applyPolicies"]), &names) == nil {
		b, _ := json.Marshal(keep(names))
		cfg["applyPolicies"] = string(b)
		if len(keep(names)) == 0 {
			delete(cfg, "applyPolicies")
		}
	}
	xp.Config = cfg
	return xp
}

// scriptPolicies are the JavaScript policies of the file's clients, by
// JSON path: import leaves them out, with the references to them.
func (x Realm) scriptPolicies() []string {
	var out []string
	for i, c := range x.Clients {
		if c.AuthorizationSettings == nil || c.AuthorizationServicesEnabled == nil || !*c.AuthorizationServicesEnabled {
			continue
		}
		for j, p := range c.AuthorizationSettings.Policies {
			if p.Type == "js" {
				out = append(out, fmt.Sprintf("$.clients[%d].authorizationSettings.policies[%d]", i, j))
			}
		}
	}
	return out
}

// authzSettings makes the file's clients with authorizationServicesEnabled
// resource servers, as Keycloak does once users exist: service accounts on,
// neither public nor bearer-only, and their authorizationSettings imported.
// The clients whose roles administer a realm keep their flags: their
// resource server holds the realm's fine-grained admin permissions.
func (im *importer) authzSettings(ctx context.Context) error {
	var dir authz.Directory
	for i, xc := range im.x.Clients {
		if xc.AuthorizationServicesEnabled == nil || !*xc.AuthorizationServicesEnabled {
			continue
		}
		path := fmt.Sprintf("$.clients[%d].authorizationSettings", i)
		c, err := im.tx.GetClient(ctx, im.realm.ID, im.clients[xc.ClientID])
		if err != nil {
			return err
		}
		s := authz.DefaultServer(im.realm.ID, c.ID)
		if existing, err := im.tx.GetResourceServer(ctx, im.realm.ID, c.ID); err == nil {
			s = existing
		}
		if adminClient(im.realm.Name, c.ClientID) {
			if err := im.tx.PutResourceServer(ctx, s); err != nil {
				return err
			}
		} else {
			if c.BearerOnly || c.PublicClient {
				if err := im.tx.UpdateClient(ctx, im.realm.ID, c.ID, func(o *client.Client) error {
					o.BearerOnly, o.PublicClient = false, false
					return nil
				}); err != nil {
					return err
				}
				c.BearerOnly, c.PublicClient = false, false
			}
			if err := provision.EnableAuthorization(ctx, im.tx, &c, im.now); err != nil {
				return importErr(path, "%v", err)
			}
		}
		if xc.AuthorizationSettings == nil {
			continue
		}
		if dir == nil {
			if dir, err = im.tx.AuthzDirectory(ctx, im.realm.ID); err != nil {
				return err
			}
		}
		if err := importAuthz(ctx, im.tx, s, *xc.AuthorizationSettings, dir, true); err != nil {
			var ae *authz.Error
			if errors.As(err, &ae) {
				return importErr(path, "%v", err)
			}
			return err
		}
	}
	return nil
}

// adminClient reports whether clientID names a client whose roles
// administer a realm: realm-management, or in master a "<realm>-realm".
func adminClient(realmName, clientID string) bool {
	return clientID == "realm-management" || realmName == "master" && strings.HasSuffix(clientID, "-realm")
}
