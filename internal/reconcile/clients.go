package reconcile

import (
	"context"
	"fmt"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

func (r *run) clientScopes(ctx context.Context) error {
	cur, err := r.tx.ListClientScopes(ctx, r.realm.ID)
	if err != nil {
		return err
	}
	byName := map[string]client.Scope{}
	for _, s := range cur {
		byName[s.Name] = s
	}
	listed := map[string]bool{}
	for i, xs := range r.x.ClientScopes {
		path := fmt.Sprintf("$.clientScopes[%d]", i)
		if xs.Name == "" {
			return fileErr(path+".name", "the client scope name is missing")
		}
		if listed[xs.Name] {
			return fileErr(path+".name", "client scope %q appears twice", xs.Name)
		}
		listed[xs.Name] = true
		old, ok := byName[xs.Name]
		if !ok {
			s := xs.ToDomain(r.realm.ID)
			if s.ID == "" {
				s.ID = store.NewID()
			}
			newMapperIDs(s.ProtocolMappers)
			if err := s.Validate(); err != nil {
				return fileErr(path, "%v", err)
			}
			if err := r.tx.CreateClientScope(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			r.note(Create, KindClientScope, s.Name)
			continue
		}
		want := old
		xs.ApplyTo(&want)
		fields := diff(rep.ScopeFromDomain(old), rep.ScopeFromDomain(want), "id")
		if len(fields) == 0 {
			continue
		}
		newMapperIDs(want.ProtocolMappers)
		if err := want.Validate(); err != nil {
			return fileErr(path, "%v", err)
		}
		if err := r.tx.UpdateClientScope(ctx, r.realm.ID, old.ID, func(s *client.Scope) error { *s = want; return nil }); err != nil {
			return err
		}
		r.note(Update, KindClientScope, old.Name, fields...)
	}
	if r.x.ClientScopes == nil || !r.opts.Prune {
		return nil
	}
	for _, s := range cur {
		if listed[s.Name] || provision.IsBuiltinScope(s.Name) {
			continue
		}
		if err := r.tx.DeleteClientScope(ctx, r.realm.ID, s.ID); err != nil {
			return err
		}
		r.note(Delete, KindClientScope, s.Name)
	}
	return nil
}

func (r *run) clients(ctx context.Context) error {
	cur, err := r.tx.ListClients(ctx, r.realm.ID)
	if err != nil {
		return err
	}
	byClientID := map[string]client.Client{}
	for _, c := range cur {
		byClientID[c.ClientID] = c
	}
	listed := map[string]bool{}
	for i, xc := range r.x.Clients {
		path := fmt.Sprintf("$.clients[%d]", i)
		if xc.ClientID == "" {
			return fileErr(path+".clientId", "the clientId is missing")
		}
		if listed[xc.ClientID] {
			return fileErr(path+".clientId", "client %q appears twice", xc.ClientID)
		}
		listed[xc.ClientID] = true
		// A partial export writes the mask in place of a secret it leaves
		// out; applying it would set the secret to the asterisks.
		if xc.Secret != nil && *xc.Secret == secret.Mask {
			xc.Secret = nil
		}
		old, ok := byClientID[xc.ClientID]
		// So does it for a secret or private-key attribute.
		xc.Attributes = rep.KeepMaskedAttributes(xc.Attributes, old.Attributes)
		if !ok {
			c := xc.ToDomain(r.realm.ID)
			if c.ID == "" {
				c.ID = store.NewID()
			}
			newMapperIDs(c.ProtocolMappers)
			if err := c.Validate(); err != nil {
				return fileErr(path, "%v", err)
			}
			if err := rep.ValidateSAMLClient(path, c); err != nil {
				return err
			}
			// As the importer and the admin API do: the realm's default
			// scopes, and a service account user when enabled.
			if err := provision.CreateClient(ctx, r.tx, c, r.opts.Now); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if _, err := r.syncLinks(ctx, c.ID, xc.DefaultClientScopes, xc.OptionalClientScopes, "", ""); err != nil {
				return err
			}
			r.note(Create, KindClient, c.ClientID)
			continue
		}
		want := old
		xc.ApplyTo(&want)
		fields := diff(rep.ClientFromDomain(old), rep.ClientFromDomain(want), "id", "access")
		if len(fields) > 0 {
			newMapperIDs(want.ProtocolMappers)
			if err := want.Validate(); err != nil {
				return fileErr(path, "%v", err)
			}
			if err := rep.ValidateSAMLClient(path, want); err != nil {
				return err
			}
			if err := r.tx.UpdateClient(ctx, r.realm.ID, old.ID, func(c *client.Client) error { *c = want; return nil }); err != nil {
				return err
			}
			if want.ServiceAccountsEnabled && !old.ServiceAccountsEnabled {
				if err := provision.EnsureServiceAccount(ctx, r.tx, want, r.opts.Now); err != nil {
					return err
				}
			}
		}
		links, err := r.syncLinks(ctx, old.ID, xc.DefaultClientScopes, xc.OptionalClientScopes,
			"defaultClientScopes", "optionalClientScopes")
		if err != nil {
			return err
		}
		r.note(Update, KindClient, old.ClientID, append(fields, links...)...)
	}
	if r.x.Clients == nil || !r.opts.Prune {
		return nil
	}
	realms, err := r.realmNames(ctx)
	if err != nil {
		return err
	}
	for _, c := range cur {
		if listed[c.ClientID] || provision.IsBuiltinClient(r.realm.Name, c.ClientID, realms) {
			continue
		}
		// Its roles, scope links, sessions and service account go with it,
		// and its and its roles' fine-grained admin permissions.
		if err := adminperm.DeleteClient(ctx, r.tx, r.realm.ID, c.ID); err != nil {
			return err
		}
		r.note(Delete, KindClient, c.ClientID)
	}
	return nil
}

func (r *run) realmNames(ctx context.Context) ([]string, error) {
	all, err := r.tx.ListRealms(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(all))
	for i, x := range all {
		names[i] = x.Name
	}
	return names, nil
}

// syncLinks makes the default and the optional client scopes linked to
// clientID (or the realm defaults) exactly the named ones, for each list
// that is not nil. Names of scopes the realm lacks are skipped, as
// Keycloak's import skips them. It returns the field names of the lists
// that changed.
func (r *run) syncLinks(ctx context.Context, clientID string, dflt, optional []string, dfltField, optionalField string) ([]string, error) {
	if dflt == nil && optional == nil {
		return nil, nil
	}
	scopes, err := r.tx.ListClientScopes(ctx, r.realm.ID)
	if err != nil {
		return nil, err
	}
	idOf := map[string]string{}
	for _, s := range scopes {
		idOf[s.Name] = s.ID
	}
	links, err := r.tx.ClientScopeLinks(ctx, r.realm.ID, clientID)
	if err != nil {
		return nil, err
	}
	// The whole wanted state first, so a scope moving from optional to
	// default is relinked once rather than linked and then unlinked.
	have, want := map[string]bool{}, map[string]bool{}
	for _, l := range links {
		have[l.ScopeID] = l.Default
		if (l.Default && dflt == nil) || (!l.Default && optional == nil) {
			want[l.ScopeID] = l.Default // a list the file leaves out is kept
		}
	}
	for _, n := range dflt {
		if id, ok := idOf[n]; ok {
			want[id] = true
		}
	}
	for _, n := range optional {
		if id, ok := idOf[n]; ok {
			if _, both := want[id]; !both {
				want[id] = false
			}
		}
	}
	kind := func(m map[string]bool, isDefault bool) []string {
		var ids []string
		for id, d := range m {
			if d == isDefault {
				ids = append(ids, id)
			}
		}
		return ids
	}
	var fields []string
	if dflt != nil && dfltField != "" && !sameSet(kind(have, true), kind(want, true)) {
		fields = append(fields, dfltField)
	}
	if optional != nil && optionalField != "" && !sameSet(kind(have, false), kind(want, false)) {
		fields = append(fields, optionalField)
	}
	for _, l := range links {
		if _, ok := want[l.ScopeID]; !ok {
			if err := r.tx.UnlinkClientScope(ctx, r.realm.ID, clientID, l.ScopeID); err != nil {
				return nil, err
			}
		}
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	slices.Sort(ids) // a stable order of writes
	for _, id := range ids {
		if d, ok := have[id]; !ok || d != want[id] {
			if err := r.tx.LinkClientScope(ctx, r.realm.ID, clientID, id, want[id]); err != nil {
				return nil, err
			}
		}
	}
	return fields, nil
}

// newMapperIDs gives mappers that are new (no id from the file, none to
// keep from the old mapper of the same name) a fresh id.
func newMapperIDs(ms []client.ProtocolMapper) {
	for i := range ms {
		if ms[i].ID == "" {
			ms[i].ID = store.NewID()
		}
	}
}
