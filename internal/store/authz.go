package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
)

// Authorization services: a client's resource server with its resources,
// scopes and policies. Each object is a row with the columns it is looked
// up by and a JSON document of the rest; associations live in their own
// tables, in the order they were given.

type authzServerData struct {
	PolicyEnforcementMode         string `json:"policyEnforcementMode"`
	DecisionStrategy              string `json:"decisionStrategy"`
	AllowRemoteResourceManagement bool   `json:"allowRemoteResourceManagement"`
	// AuthorizationSchema is the schema's JSON text, kept as a string so
	// its bytes come back as they went in.
	AuthorizationSchema string `json:"authorizationSchema,omitempty"`
}

type authzResourceData struct {
	DisplayName        string              `json:"displayName,omitempty"`
	Type               string              `json:"type,omitempty"`
	IconURI            string              `json:"iconUri,omitempty"`
	URIs               []string            `json:"uris"`
	OwnerManagedAccess bool                `json:"ownerManagedAccess,omitempty"`
	Attributes         map[string][]string `json:"attributes"`
}

type authzScopeData struct {
	DisplayName string `json:"displayName,omitempty"`
	IconURI     string `json:"iconUri,omitempty"`
}

type authzPolicyData struct {
	Description      string            `json:"description,omitempty"`
	Logic            string            `json:"logic"`
	DecisionStrategy string            `json:"decisionStrategy"`
	Owner            string            `json:"owner,omitempty"`
	Config           map[string]string `json:"config"`
}

// ResourceFilter selects resources of a server. Empty fields match all.
type ResourceFilter struct {
	ID    string
	Name  string // a case-insensitive part of the name, or the whole name with ExactName
	URI   string // one of the resource's URIs
	Owner string
	Type  string
	// ScopeIDs keeps resources holding at least one of these scopes.
	ScopeIDs  []string
	ExactName bool
	// First skips that many results; Max, when above zero, caps them.
	First, Max int
}

// ScopeFilter selects scopes of a server.
type ScopeFilter struct {
	ID, Name   string
	ExactName  bool
	First, Max int
}

// PolicyFilter selects policies of a server.
type PolicyFilter struct {
	ID, Name  string
	ExactName bool
	Type      string
	Owner     string
	// Permission, when set, keeps permissions (true) or policies (false).
	Permission *bool
	// ResourceID and ScopeID keep policies associated with that resource or
	// scope; ResourceType keeps permissions of that resource type.
	ResourceID, ScopeID, ResourceType string
	First, Max                        int
}

// IsPermission reports whether a policy type is a permission's.
func IsPermission(typ string) bool { return typ == "resource" || typ == "scope" || typ == "uma" }

// GetResourceServer loads a client's authorization settings; ErrNotFound
// when the client is not a resource server.
func (s *DB) GetResourceServer(ctx context.Context, realmID, id string) (authz.ResourceServer, error) {
	rs := authz.ResourceServer{ID: id, RealmID: realmID}
	var data string
	if err := s.queryRow(ctx, `SELECT data FROM authz_resource_servers WHERE realm_id = $1 AND id = $2`, realmID, id).Scan(&data); err != nil {
		return authz.ResourceServer{}, mapErr(err)
	}
	var d authzServerData
	if err := fromJSON(data, &d); err != nil {
		return authz.ResourceServer{}, err
	}
	rs.PolicyEnforcementMode, rs.DecisionStrategy, rs.AllowRemoteResourceManagement = d.PolicyEnforcementMode, d.DecisionStrategy, d.AllowRemoteResourceManagement
	if d.AuthorizationSchema != "" {
		rs.AuthorizationSchema = []byte(d.AuthorizationSchema)
	}
	return rs, nil
}

// PutResourceServer stores a client's authorization settings, creating the
// resource server or replacing its settings. The client must exist.
func (s *DB) PutResourceServer(ctx context.Context, rs authz.ResourceServer) error {
	d := toJSON(authzServerData{PolicyEnforcementMode: rs.PolicyEnforcementMode, DecisionStrategy: rs.DecisionStrategy,
		AllowRemoteResourceManagement: rs.AllowRemoteResourceManagement, AuthorizationSchema: string(rs.AuthorizationSchema)})
	_, err := s.exec(ctx, `INSERT INTO authz_resource_servers (id, realm_id, data) SELECT id, realm_id, $3 FROM clients WHERE realm_id = $1 AND id = $2
		ON CONFLICT (id) DO UPDATE SET data = excluded.data`, rs.RealmID, rs.ID, d)
	if err != nil {
		return fmt.Errorf("store resource server: %w", err)
	}
	// The INSERT ... SELECT writes nothing for a client that does not exist.
	if _, err := s.GetResourceServer(ctx, rs.RealmID, rs.ID); err != nil {
		return err
	}
	return nil
}

// DeleteResourceServer removes a client's resource server with everything
// it holds.
func (s *DB) DeleteResourceServer(ctx context.Context, realmID, id string) error {
	return oneRow(s.exec(ctx, `DELETE FROM authz_resource_servers WHERE realm_id = $1 AND id = $2`, realmID, id))
}

// ListResourceServers returns the ids of the realm's resource servers.
func (s *DB) ListResourceServers(ctx context.Context, realmID string) ([]string, error) {
	rows, err := s.query(ctx, `SELECT id FROM authz_resource_servers WHERE realm_id = $1 ORDER BY id`, realmID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, id)
	}
	return out, mapErr(rows.Err())
}

// LoadAuthzModel returns a resource server with all its resources, scopes
// and policies, one query per table. With a config view the model is
// shared by every request of the same configuration version: read it,
// never change it.
func (s *DB) LoadAuthzModel(ctx context.Context, realmID, serverID string) (authz.Model, error) {
	return cached(ctx, s, func(sn *snapshot) *memo[[2]string, authz.Model] { return &sn.authzModels }, [2]string{realmID, serverID}, func() (authz.Model, error) {
		var m authz.Model
		err := s.InTx(ctx, func(tx *DB) error {
			var err error
			if m.Server, err = tx.GetResourceServer(ctx, realmID, serverID); err != nil {
				return err
			}
			if m.Resources, err = tx.loadResources(ctx, serverID, "", ""); err != nil {
				return err
			}
			if m.Scopes, err = tx.loadScopes(ctx, serverID, ""); err != nil {
				return err
			}
			m.Policies, err = tx.loadPolicies(ctx, serverID, "")
			return err
		})
		return m, err
	})
}

// links reads an association table's (owner, target) pairs of a server in
// their stored order.
func (s *DB) links(ctx context.Context, q string, args ...any) (map[string][]string, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			return nil, mapErr(err)
		}
		out[a] = append(out[a], b)
	}
	return out, mapErr(rows.Err())
}

// writeLinks replaces owner's rows in an association table with targets, in order.
func (s *DB) writeLinks(ctx context.Context, table, ownerCol, targetCol, owner string, targets []string) error {
	if _, err := s.exec(ctx, `DELETE FROM `+table+` WHERE `+ownerCol+` = $1`, owner); err != nil {
		return err
	}
	rows := make([][]any, 0, len(targets))
	seen := map[string]bool{}
	for _, t := range targets {
		if seen[t] {
			continue
		}
		seen[t] = true
		rows = append(rows, []any{owner, t, len(rows)})
	}
	return s.insertRows(ctx, `INSERT INTO `+table+` (`+ownerCol+`, `+targetCol+`, pos)`, "", rows)
}

// checkSameServer makes sure every id names a row of table in the server,
// so no association crosses resource servers.
func (s *DB) checkSameServer(ctx context.Context, table, serverID string, ids []string) error {
	for _, id := range ids {
		var n int
		if err := s.queryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE server_id = $1 AND id = $2`, serverID, id).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n == 0 {
			return fmt.Errorf("%w: %s %s", ErrNotFound, strings.TrimPrefix(table, "authz_"), id)
		}
	}
	return nil
}

// --- resources ---

func (s *DB) loadResources(ctx context.Context, serverID, id, owner string) ([]authz.Resource, error) {
	q := `SELECT id, server_id, name, owner, data FROM authz_resources WHERE server_id = $1`
	lq := `SELECT l.resource_id, l.scope_id FROM authz_resource_scopes l JOIN authz_resources r ON r.id = l.resource_id WHERE r.server_id = $1`
	args := []any{serverID}
	switch {
	case id != "":
		q += ` AND id = $2`
		lq += ` AND r.id = $2`
		args = append(args, id)
	case owner != "":
		q += ` AND owner = $2`
		lq += ` AND r.owner = $2`
		args = append(args, owner)
	}
	rows, err := s.query(ctx, q+` ORDER BY name, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []authz.Resource
	for rows.Next() {
		var (
			r    authz.Resource
			data string
			d    authzResourceData
		)
		if err := rows.Scan(&r.ID, &r.ServerID, &r.Name, &r.Owner, &data); err != nil {
			return nil, mapErr(err)
		}
		if err := fromJSON(data, &d); err != nil {
			return nil, err
		}
		r.DisplayName, r.Type, r.IconURI, r.URIs, r.OwnerManagedAccess, r.Attributes = d.DisplayName, d.Type, d.IconURI, d.URIs, d.OwnerManagedAccess, d.Attributes
		if r.URIs == nil {
			r.URIs = []string{}
		}
		if r.Attributes == nil {
			r.Attributes = map[string][]string{}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	rows.Close()
	links, err := s.links(ctx, lq+` ORDER BY l.resource_id, l.pos`, args...)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].ScopeIDs = links[out[i].ID]
		if out[i].ScopeIDs == nil {
			out[i].ScopeIDs = []string{}
		}
	}
	return out, nil
}

func encodeResource(r authz.Resource) string {
	uris := r.URIs
	if uris == nil {
		uris = []string{}
	}
	attrs := r.Attributes
	if attrs == nil {
		attrs = map[string][]string{}
	}
	return toJSON(authzResourceData{DisplayName: r.DisplayName, Type: r.Type, IconURI: r.IconURI, URIs: uris,
		OwnerManagedAccess: r.OwnerManagedAccess, Attributes: attrs})
}

// GetResource loads a resource of a server.
func (s *DB) GetResource(ctx context.Context, serverID, id string) (authz.Resource, error) {
	rs, err := s.loadResources(ctx, serverID, id, "")
	if err != nil {
		return authz.Resource{}, err
	}
	if len(rs) == 0 {
		return authz.Resource{}, ErrNotFound
	}
	return rs[0], nil
}

// ListResources returns a server's resources matching f, ordered by name.
func (s *DB) ListResources(ctx context.Context, serverID string, f ResourceFilter) ([]authz.Resource, error) {
	all, err := s.loadResources(ctx, serverID, f.ID, f.Owner)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, r := range all {
		if !nameMatches(r.Name, f.Name, f.ExactName) || (f.Type != "" && r.Type != f.Type) ||
			(f.URI != "" && !slices.Contains(r.URIs, f.URI)) {
			continue
		}
		if len(f.ScopeIDs) > 0 && !slices.ContainsFunc(r.ScopeIDs, func(id string) bool { return slices.Contains(f.ScopeIDs, id) }) {
			continue
		}
		out = append(out, r)
	}
	return page(out, f.First, f.Max), nil
}

// CreateResource stores a new resource (given an ID, or a new one) with its
// scopes, which must belong to the same server. Its name is unique per
// owner within the server (ErrConflict).
func (s *DB) CreateResource(ctx context.Context, r authz.Resource) (authz.Resource, error) {
	if r.ID == "" {
		r.ID = NewID()
	}
	err := s.InTx(ctx, func(tx *DB) error {
		var realmID string
		if err := tx.queryRow(ctx, `SELECT realm_id FROM authz_resource_servers WHERE id = $1`, r.ServerID).Scan(&realmID); err != nil {
			return mapErr(err)
		}
		if err := tx.checkSameServer(ctx, "authz_scopes", r.ServerID, r.ScopeIDs); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO authz_resources (id, server_id, realm_id, name, owner, data) VALUES ($1, $2, $3, $4, $5, $6)`,
			r.ID, r.ServerID, realmID, r.Name, r.Owner, encodeResource(r)); err != nil {
			return fmt.Errorf("create resource %q: %w", r.Name, err)
		}
		return tx.writeLinks(ctx, "authz_resource_scopes", "resource_id", "scope_id", r.ID, r.ScopeIDs)
	})
	if err != nil {
		return authz.Resource{}, err
	}
	return s.GetResource(ctx, r.ServerID, r.ID)
}

// UpdateResource applies edit to a stored resource in one transaction and
// returns it as stored. Its id and server cannot change.
func (s *DB) UpdateResource(ctx context.Context, serverID, id string, edit func(*authz.Resource) error) (authz.Resource, error) {
	err := s.InTx(ctx, func(tx *DB) error {
		r, err := tx.GetResource(ctx, serverID, id)
		if err != nil {
			return err
		}
		if err := edit(&r); err != nil {
			return err
		}
		r.ID, r.ServerID = id, serverID
		if err := tx.checkSameServer(ctx, "authz_scopes", serverID, r.ScopeIDs); err != nil {
			return err
		}
		if err := oneRow(tx.exec(ctx, `UPDATE authz_resources SET name = $3, owner = $4, data = $5 WHERE server_id = $1 AND id = $2`,
			serverID, id, r.Name, r.Owner, encodeResource(r))); err != nil {
			return fmt.Errorf("change resource %q: %w", r.Name, err)
		}
		return tx.writeLinks(ctx, "authz_resource_scopes", "resource_id", "scope_id", id, r.ScopeIDs)
	})
	if err != nil {
		return authz.Resource{}, err
	}
	return s.GetResource(ctx, serverID, id)
}

// DeleteResource removes a resource; permissions that named it lose it and
// stay.
func (s *DB) DeleteResource(ctx context.Context, serverID, id string) error {
	return oneRow(s.exec(ctx, `DELETE FROM authz_resources WHERE server_id = $1 AND id = $2`, serverID, id))
}

// --- scopes ---

func (s *DB) loadScopes(ctx context.Context, serverID, id string) ([]authz.Scope, error) {
	q := `SELECT id, server_id, name, data FROM authz_scopes WHERE server_id = $1`
	args := []any{serverID}
	if id != "" {
		q += ` AND id = $2`
		args = append(args, id)
	}
	rows, err := s.query(ctx, q+` ORDER BY name, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []authz.Scope
	for rows.Next() {
		var (
			sc   authz.Scope
			data string
			d    authzScopeData
		)
		if err := rows.Scan(&sc.ID, &sc.ServerID, &sc.Name, &data); err != nil {
			return nil, mapErr(err)
		}
		if err := fromJSON(data, &d); err != nil {
			return nil, err
		}
		sc.DisplayName, sc.IconURI = d.DisplayName, d.IconURI
		out = append(out, sc)
	}
	return out, mapErr(rows.Err())
}

// GetScope loads a scope of a server.
func (s *DB) GetScope(ctx context.Context, serverID, id string) (authz.Scope, error) {
	scs, err := s.loadScopes(ctx, serverID, id)
	if err != nil {
		return authz.Scope{}, err
	}
	if len(scs) == 0 {
		return authz.Scope{}, ErrNotFound
	}
	return scs[0], nil
}

// ListScopes returns a server's scopes matching f, ordered by name.
func (s *DB) ListScopes(ctx context.Context, serverID string, f ScopeFilter) ([]authz.Scope, error) {
	all, err := s.loadScopes(ctx, serverID, f.ID)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, sc := range all {
		if nameMatches(sc.Name, f.Name, f.ExactName) {
			out = append(out, sc)
		}
	}
	return page(out, f.First, f.Max), nil
}

// CreateScope stores a new scope; its name is unique in the server (ErrConflict).
func (s *DB) CreateScope(ctx context.Context, sc authz.Scope) (authz.Scope, error) {
	if sc.ID == "" {
		sc.ID = NewID()
	}
	if _, err := s.exec(ctx, `INSERT INTO authz_scopes (id, server_id, name, data) VALUES ($1, $2, $3, $4)`,
		sc.ID, sc.ServerID, sc.Name, toJSON(authzScopeData{DisplayName: sc.DisplayName, IconURI: sc.IconURI})); err != nil {
		return authz.Scope{}, fmt.Errorf("create scope %q: %w", sc.Name, err)
	}
	return sc, nil
}

// UpdateScope applies edit to a stored scope in one transaction.
func (s *DB) UpdateScope(ctx context.Context, serverID, id string, edit func(*authz.Scope) error) (authz.Scope, error) {
	var out authz.Scope
	err := s.InTx(ctx, func(tx *DB) error {
		sc, err := tx.GetScope(ctx, serverID, id)
		if err != nil {
			return err
		}
		if err := edit(&sc); err != nil {
			return err
		}
		sc.ID, sc.ServerID = id, serverID
		out = sc
		if err := oneRow(tx.exec(ctx, `UPDATE authz_scopes SET name = $3, data = $4 WHERE server_id = $1 AND id = $2`,
			serverID, id, sc.Name, toJSON(authzScopeData{DisplayName: sc.DisplayName, IconURI: sc.IconURI}))); err != nil {
			return fmt.Errorf("change scope %q: %w", sc.Name, err)
		}
		return nil
	})
	return out, err
}

// ErrScopeInUse is a scope that resources still hold: it cannot be deleted.
var ErrScopeInUse = errors.New("scope is associated with resources")

// DeleteScope removes a scope no resource holds (ErrScopeInUse otherwise).
// A permission whose only scope it was is deleted with it; others lose it.
func (s *DB) DeleteScope(ctx context.Context, serverID, id string) error {
	return s.InTx(ctx, func(tx *DB) error {
		if _, err := tx.GetScope(ctx, serverID, id); err != nil {
			return err
		}
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM authz_resource_scopes WHERE scope_id = $1`, id).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n > 0 {
			return ErrScopeInUse
		}
		if _, err := tx.exec(ctx, `DELETE FROM authz_policies WHERE id IN (SELECT policy_id FROM authz_policy_scopes WHERE scope_id = $1)
			AND (SELECT COUNT(*) FROM authz_policy_scopes o WHERE o.policy_id = authz_policies.id) = 1`, id); err != nil {
			return err
		}
		return oneRow(tx.exec(ctx, `DELETE FROM authz_scopes WHERE server_id = $1 AND id = $2`, serverID, id))
	})
}

// --- policies ---

func (s *DB) loadPolicies(ctx context.Context, serverID, id string) ([]authz.Policy, error) {
	q := `SELECT id, server_id, name, type, data FROM authz_policies WHERE server_id = $1`
	args := []any{serverID}
	link := func(table, col string) string {
		lq := `SELECT l.policy_id, l.` + col + ` FROM ` + table + ` l JOIN authz_policies p ON p.id = l.policy_id WHERE p.server_id = $1`
		if id != "" {
			lq += ` AND p.id = $2`
		}
		return lq + ` ORDER BY l.policy_id, l.pos`
	}
	if id != "" {
		q += ` AND id = $2`
		args = append(args, id)
	}
	rows, err := s.query(ctx, q+` ORDER BY name, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []authz.Policy
	for rows.Next() {
		var (
			p    authz.Policy
			data string
			d    authzPolicyData
		)
		if err := rows.Scan(&p.ID, &p.ServerID, &p.Name, &p.Type, &data); err != nil {
			return nil, mapErr(err)
		}
		if err := fromJSON(data, &d); err != nil {
			return nil, err
		}
		p.Description, p.Logic, p.DecisionStrategy, p.Owner, p.Config = d.Description, d.Logic, d.DecisionStrategy, d.Owner, d.Config
		if p.Config == nil {
			p.Config = map[string]string{}
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	rows.Close()
	pols, err := s.links(ctx, link("authz_policy_policies", "associated_id"), args...)
	if err != nil {
		return nil, err
	}
	res, err := s.links(ctx, link("authz_policy_resources", "resource_id"), args...)
	if err != nil {
		return nil, err
	}
	scs, err := s.links(ctx, link("authz_policy_scopes", "scope_id"), args...)
	if err != nil {
		return nil, err
	}
	for i := range out {
		p := &out[i]
		p.PolicyIDs, p.ResourceIDs, p.ScopeIDs = nonNil(pols[p.ID]), nonNil(res[p.ID]), nonNil(scs[p.ID])
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func encodePolicy(p authz.Policy) string {
	return toJSON(authzPolicyData{Description: p.Description, Logic: p.Logic, DecisionStrategy: p.DecisionStrategy,
		Owner: p.Owner, Config: nonNilConfig(p.Config)})
}

// GetPolicy loads a policy or permission of a server.
func (s *DB) GetPolicy(ctx context.Context, serverID, id string) (authz.Policy, error) {
	ps, err := s.loadPolicies(ctx, serverID, id)
	if err != nil {
		return authz.Policy{}, err
	}
	if len(ps) == 0 {
		return authz.Policy{}, ErrNotFound
	}
	return ps[0], nil
}

// ListPolicies returns a server's policies matching f, ordered by name.
func (s *DB) ListPolicies(ctx context.Context, serverID string, f PolicyFilter) ([]authz.Policy, error) {
	all, err := s.loadPolicies(ctx, serverID, f.ID)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, p := range all {
		switch {
		case !nameMatches(p.Name, f.Name, f.ExactName),
			f.Type != "" && p.Type != f.Type,
			f.Owner != "" && p.Owner != f.Owner,
			f.Permission != nil && IsPermission(p.Type) != *f.Permission,
			f.ResourceID != "" && !slices.Contains(p.ResourceIDs, f.ResourceID),
			f.ScopeID != "" && !slices.Contains(p.ScopeIDs, f.ScopeID),
			f.ResourceType != "" && p.Config["defaultResourceType"] != f.ResourceType && p.Config["resourceType"] != f.ResourceType:
			continue
		}
		out = append(out, p)
	}
	return page(out, f.First, f.Max), nil
}

// DependentPolicies returns the policies that have id among their
// associated policies.
func (s *DB) DependentPolicies(ctx context.Context, serverID, id string) ([]authz.Policy, error) {
	all, err := s.loadPolicies(ctx, serverID, "")
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, p := range all {
		if slices.Contains(p.PolicyIDs, id) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *DB) writePolicyLinks(ctx context.Context, p authz.Policy) error {
	if slices.Contains(p.PolicyIDs, p.ID) {
		return fmt.Errorf("%w: policy %s cannot depend on itself", ErrConflict, p.Name)
	}
	for _, c := range []struct {
		table, col, target string
		ids                []string
	}{
		{"authz_policy_policies", "associated_id", "authz_policies", p.PolicyIDs},
		{"authz_policy_resources", "resource_id", "authz_resources", p.ResourceIDs},
		{"authz_policy_scopes", "scope_id", "authz_scopes", p.ScopeIDs},
	} {
		if err := s.checkSameServer(ctx, c.target, p.ServerID, c.ids); err != nil {
			return err
		}
		if err := s.writeLinks(ctx, c.table, "policy_id", c.col, p.ID, c.ids); err != nil {
			return err
		}
	}
	return nil
}

// CreatePolicy stores a new policy or permission with its associations,
// which must belong to the same server. Its name is unique in the server
// (ErrConflict).
func (s *DB) CreatePolicy(ctx context.Context, p authz.Policy) (authz.Policy, error) {
	if p.ID == "" {
		p.ID = NewID()
	}
	err := s.InTx(ctx, func(tx *DB) error {
		var realmID string
		if err := tx.queryRow(ctx, `SELECT realm_id FROM authz_resource_servers WHERE id = $1`, p.ServerID).Scan(&realmID); err != nil {
			return mapErr(err)
		}
		if _, err := tx.exec(ctx, `INSERT INTO authz_policies (id, server_id, realm_id, name, type, data) VALUES ($1, $2, $3, $4, $5, $6)`,
			p.ID, p.ServerID, realmID, p.Name, p.Type, encodePolicy(p)); err != nil {
			return fmt.Errorf("create policy %q: %w", p.Name, err)
		}
		return tx.writePolicyLinks(ctx, p)
	})
	if err != nil {
		return authz.Policy{}, err
	}
	return s.GetPolicy(ctx, p.ServerID, p.ID)
}

// UpdatePolicy applies edit to a stored policy in one transaction and
// returns it as stored. Its id, server and type cannot change.
func (s *DB) UpdatePolicy(ctx context.Context, serverID, id string, edit func(*authz.Policy) error) (authz.Policy, error) {
	err := s.InTx(ctx, func(tx *DB) error {
		p, err := tx.GetPolicy(ctx, serverID, id)
		if err != nil {
			return err
		}
		typ := p.Type
		if err := edit(&p); err != nil {
			return err
		}
		p.ID, p.ServerID, p.Type = id, serverID, typ
		if err := oneRow(tx.exec(ctx, `UPDATE authz_policies SET name = $3, data = $4 WHERE server_id = $1 AND id = $2`,
			serverID, id, p.Name, encodePolicy(p))); err != nil {
			return fmt.Errorf("change policy %q: %w", p.Name, err)
		}
		return tx.writePolicyLinks(ctx, p)
	})
	if err != nil {
		return authz.Policy{}, err
	}
	return s.GetPolicy(ctx, serverID, id)
}

// DeletePolicy removes a policy; the policies that aggregated it lose it.
func (s *DB) DeletePolicy(ctx context.Context, serverID, id string) error {
	return oneRow(s.exec(ctx, `DELETE FROM authz_policies WHERE server_id = $1 AND id = $2`, serverID, id))
}

// --- references from outside the resource server ---

// Policies name roles, users, groups, clients and client scopes by id in
// their config. When one of those is deleted, each policy naming it drops
// it; a policy left naming none is deleted, as the policy would otherwise
// grant on an empty condition.
var policyRefKeys = map[string]string{"role": "roles", "user": "users", "group": "groups", "client": "clients", "client-scope": "clientScopes"}

func (s *DB) dropPolicyRefs(ctx context.Context, realmID, typ, id string) error {
	key := policyRefKeys[typ]
	rows, err := s.query(ctx, `SELECT id, server_id, data FROM authz_policies WHERE realm_id = $1 AND type = $2`, realmID, typ)
	if err != nil {
		return err
	}
	type hit struct {
		id, server string
		d          authzPolicyData
	}
	var hits []hit
	for rows.Next() {
		var (
			h    hit
			data string
		)
		if err := rows.Scan(&h.id, &h.server, &data); err != nil {
			rows.Close()
			return mapErr(err)
		}
		if !strings.Contains(data, id) {
			continue
		}
		if err := fromJSON(data, &h.d); err != nil {
			rows.Close()
			return err
		}
		hits = append(hits, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapErr(err)
	}
	for _, h := range hits {
		kept, changed, err := authz.DropReference(h.d.Config[key], id)
		if err != nil || !changed {
			continue // a value this store cannot read stays as it is
		}
		if kept == "" {
			if _, err := s.exec(ctx, `DELETE FROM authz_policies WHERE id = $1`, h.id); err != nil {
				return err
			}
			continue
		}
		h.d.Config[key] = kept
		if _, err := s.exec(ctx, `UPDATE authz_policies SET data = $2 WHERE id = $1`, h.id, toJSON(h.d)); err != nil {
			return err
		}
	}
	return nil
}

// dropUserResources deletes the resources a user owns in the realm. A
// permission whose only resource was one of them goes too; others lose it.
func (s *DB) dropUserResources(ctx context.Context, realmID, userID string) error {
	if _, err := s.exec(ctx, `DELETE FROM authz_policies WHERE id IN (SELECT l.policy_id FROM authz_policy_resources l
			JOIN authz_resources r ON r.id = l.resource_id WHERE r.realm_id = $1 AND r.owner = $2)
		AND (SELECT COUNT(*) FROM authz_policy_resources o WHERE o.policy_id = authz_policies.id) = 1`, realmID, userID); err != nil {
		return err
	}
	_, err := s.exec(ctx, `DELETE FROM authz_resources WHERE realm_id = $1 AND owner = $2`, realmID, userID)
	return err
}

// nameMatches is the name search of the admin API: a case-insensitive
// part of the name, or the exact name.
func nameMatches(name, want string, exact bool) bool {
	if want == "" {
		return true
	}
	if exact {
		return name == want
	}
	return strings.Contains(strings.ToLower(name), strings.ToLower(want))
}

// page applies first/max to a result list.
func page[T any](in []T, first, max int) []T {
	if first > 0 {
		if first >= len(in) {
			return nil
		}
		in = in[first:]
	}
	if max > 0 && max < len(in) {
		in = in[:max]
	}
	return in
}

// AuthzIDFree reports whether no resource, scope or policy has id, so an
// import may give it to a new one.
func (s *DB) AuthzIDFree(ctx context.Context, id string) (bool, error) {
	var n int
	err := s.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM authz_resources WHERE id = $1) + (SELECT COUNT(*) FROM authz_scopes WHERE id = $1)
		+ (SELECT COUNT(*) FROM authz_policies WHERE id = $1)`, id).Scan(&n)
	return n == 0, mapErr(err)
}
