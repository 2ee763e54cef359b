package decide

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/grant"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// This file is the one place that builds the evaluator's inputs from the store; the rest of the
// package reads nothing but its arguments.

// Subject names who an Identity is built for.
type Subject struct {
	Realm realm.Realm
	// Client is the client acting (a token's azp): its role scope decides which roles count,
	// as it decides which roles its tokens carry.
	Client client.Client
	// User is the user; for a client acting alone, its service account user.
	User user.User
	// Scope is the scope parameter (or a token's scope claim): with the client's default
	// scopes it gives the client scopes client-scope policies see.
	Scope string
	// Claims are the token's claims, if there is a token (regex policies read them).
	Claims map[string]any
	// Attributes are extra context attributes (the evaluation tool's, a claim_token's).
	Attributes map[string][]string
	// Now is the time of the request, in the time zone time policies read.
	Now time.Time
}

// LoadIdentity builds the Identity of a user (or service account) acting through a client: the
// roles a token of that client carries for the user (grant.Resolve, the token endpoint's rule),
// the user's effective roles for role policies with fetchRoles, the user's groups with their
// ancestors and paths, and the client scopes in effect.
func LoadIdentity(ctx context.Context, db *store.DB, s Subject) (Identity, error) {
	id := Identity{UserID: s.User.ID, Username: s.User.Username, ClientID: s.Client.ID, Claims: s.Claims, Now: s.Now}
	sr, err := grant.ResolveScopes(ctx, db, s.Realm, s.Client, s.Scope)
	if err != nil && !errors.Is(err, grant.ErrInvalidScope) {
		return id, fmt.Errorf("authorization identity: %w", err)
	}
	// A scope the client does not have is left out rather than refused: the token that named
	// it was already checked by whoever issued it.
	acc, err := grant.Resolve(ctx, db, s.Realm, s.Client, s.User, sr)
	if err != nil {
		return id, fmt.Errorf("authorization identity: %w", err)
	}
	id.RoleIDs = acc.RoleIDs
	id.ClientScopeIDs = make(map[string]bool, len(acc.Scopes))
	for _, sc := range acc.Scopes {
		id.ClientScopeIDs[sc.ID] = true
	}
	stored, err := db.EffectiveRoleIDs(ctx, s.Realm.ID, s.User.ID)
	if err != nil {
		return id, fmt.Errorf("authorization identity: %w", err)
	}
	id.StoredRoleIDs = make(map[string]bool, len(stored))
	for _, r := range stored {
		id.StoredRoleIDs[r] = true
	}
	direct, all, err := db.UserGroupLineage(ctx, s.User.ID)
	if err != nil {
		return id, fmt.Errorf("authorization identity: %w", err)
	}
	paths := role.GroupPaths(all)
	id.GroupIDs = make(map[string]bool, len(direct))
	for _, g := range direct {
		id.GroupIDs[g] = true
		id.GroupPaths = append(id.GroupPaths, paths[g])
	}
	sort.Strings(id.GroupPaths)
	id.InheritedGroupIDs = make(map[string]bool, len(all))
	for _, g := range all {
		id.InheritedGroupIDs[g.ID] = true
	}
	id.Group = groupResolver(ctx, db, s.Realm.ID)
	id.Attributes = contextAttributes(s)
	return id, nil
}

// groupResolver gives an Identity's Group: a group's path (role.GroupPaths, the one path rule)
// and name, read from the store when a policy first asks and remembered for the request. A
// group that cannot be read resolves to nothing, which grants nothing.
func groupResolver(ctx context.Context, db *store.DB, realmID string) func(string) (string, string, bool) {
	known := map[string]role.Group{}
	get := func(id string) (role.Group, bool) {
		if g, ok := known[id]; ok {
			return g, true
		}
		g, err := db.GetGroup(ctx, realmID, id)
		if err != nil {
			return g, false
		}
		known[id] = g
		return g, true
	}
	return func(id string) (string, string, bool) {
		g, ok := get(id)
		if !ok {
			return "", "", false
		}
		lineage := []role.Group{g}
		for p := g.ParentID; p != "" && len(lineage) <= len(known); {
			parent, ok := get(p)
			if !ok {
				return "", "", false
			}
			lineage = append(lineage, parent)
			p = parent.ParentID
		}
		return role.GroupPaths(lineage)[id], g.Name, true
	}
}

// contextAttributes are the attributes every evaluation context carries, under the names
// policies use for them, with the given ones taking precedence.
func contextAttributes(s Subject) map[string][]string {
	out := map[string][]string{
		"kc.realm.name":     {s.Realm.Name},
		"kc.time.date_time": {s.Now.Format("2006-01-02 15:04:05")},
	}
	if s.Client.ClientID != "" {
		out["kc.client.id"] = []string{s.Client.ClientID}
	}
	for k, v := range s.Attributes {
		out[k] = v
	}
	return out
}

// LoadEngine reads a resource server's model from the store and compiles it. With a config
// view in ctx the model comes from the node's configuration cache, so a policy changed on any
// node is seen by the next request, and the engine compiled from that model is reused.
func LoadEngine(ctx context.Context, db *store.DB, realmID, serverID string) (*Engine, error) {
	m, err := db.LoadAuthzModel(ctx, realmID, serverID)
	if err != nil {
		return nil, fmt.Errorf("load resource server %s: %w", serverID, err)
	}
	key := realmID + "/" + serverID
	engines.Lock()
	c, ok := engines.m[key]
	engines.Unlock()
	if ok && c.from(m) {
		return c.engine, nil
	}
	e, err := Compile(m)
	if err != nil {
		return nil, err
	}
	engines.Lock()
	engines.m[key] = compiled{model: m, engine: e}
	engines.Unlock()
	return e, nil
}

// engines keeps, per resource server, the engine compiled from the last model loaded. The
// configuration cache hands every request of one configuration version the same model (the
// same slices, never changed), so an engine is reused exactly while its model is the one the
// store serves; a new version is a new model, and compiles again. Models read without a view
// are fresh slices and never match. Losing the cache costs one compilation.
var engines = struct {
	sync.Mutex
	m map[string]compiled
}{m: map[string]compiled{}}

type compiled struct {
	model  authz.Model
	engine *Engine
}

// from reports whether m is the very model the engine was compiled from. Holding the old
// model's slices keeps their memory from being reused, so equal addresses mean equal models.
func (c compiled) from(m authz.Model) bool {
	same := func(a, b int, pa, pb any) bool { return a == b && (a == 0 || pa == pb) }
	o := c.model
	return o.Server.ID == m.Server.ID && o.Server.PolicyEnforcementMode == m.Server.PolicyEnforcementMode &&
		o.Server.DecisionStrategy == m.Server.DecisionStrategy &&
		len(o.Policies)+len(o.Resources)+len(o.Scopes) > 0 &&
		same(len(o.Policies), len(m.Policies), first(o.Policies), first(m.Policies)) &&
		same(len(o.Resources), len(m.Resources), first(o.Resources), first(m.Resources)) &&
		same(len(o.Scopes), len(m.Scopes), first(o.Scopes), first(m.Scopes))
}

func first[T any](s []T) any {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}
