package adminperm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/authz/decide"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Checker answers what the realm's fine-grained admin permissions grant
// one administrator, for one admin call. Each resource is evaluated once,
// on first question, with all its scopes, by the authorization services
// engine (package decide). A Checker is not safe for concurrent use.
type Checker struct {
	on       bool
	engine   *decide.Engine
	identity decide.Identity
	// byName maps the server's own resources' names to their ids.
	byName  map[string]string
	granted map[string]map[string]bool // resource id -> granted scope names
	// groupTyped lists the ids of the groups whose permissions are on;
	// groups and parent are the realm's group tree, loaded only when some
	// group has permissions.
	groupTyped []string
	groups     []role.Group
	parent     map[string]string
}

// Load builds the Checker of admin, acting through adminClient (the client
// of the admin's token), over realm rl. It never fails because permissions
// are off: the Checker then answers false to everything. So it does for an
// administrator of another realm (master's administrators manage a realm
// through their roles only, as in Keycloak), and for a resource server
// that does not enforce: the realm's admin rights never fail open.
func Load(ctx context.Context, db *store.DB, rl realm.Realm, admin user.User, adminClient client.Client, now time.Time) (*Checker, error) {
	c := &Checker{}
	if admin.ID == "" || admin.RealmID != rl.ID {
		return c, nil
	}
	mc, err := ManagementClient(ctx, db, rl)
	if errors.Is(err, store.ErrNotFound) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("admin permissions: %w", err)
	}
	e, err := decide.LoadEngine(ctx, db, rl.ID, mc.ID)
	if errors.Is(err, store.ErrNotFound) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("admin permissions: %w", err)
	}
	m := e.Model()
	if m.Server.PolicyEnforcementMode != authz.Enforcing || len(m.Policies) == 0 {
		return c, nil
	}
	c.on, c.engine = true, e
	c.byName = make(map[string]string, len(m.Resources))
	c.granted = map[string]map[string]bool{}
	for _, r := range m.Resources {
		if r.Owner != "" && r.Owner != m.Server.ID {
			continue
		}
		c.byName[r.Name] = r.ID
		if id, ok := strings.CutPrefix(r.Name, kinds[Group].prefix); ok && r.Type == kinds[Group].typ {
			c.groupTyped = append(c.groupTyped, id)
		}
	}
	if len(c.groupTyped) > 0 {
		gs, err := db.ListGroups(ctx, rl.ID)
		if err != nil {
			return nil, fmt.Errorf("admin permissions: %w", err)
		}
		c.groups = gs
		c.parent = make(map[string]string, len(gs))
		for _, g := range gs {
			c.parent[g.ID] = g.ParentID
		}
	}
	if c.identity, err = decide.LoadIdentity(ctx, db, decide.Subject{Realm: rl, Client: adminClient, User: admin, Now: now}); err != nil {
		return nil, fmt.Errorf("admin permissions: %w", err)
	}
	return c, nil
}

// On reports whether any permission can grant this administrator anything.
func (c *Checker) On() bool { return c.on }

// has reports whether scope is granted on the resource named name.
func (c *Checker) has(name, scope string) bool {
	if !c.on {
		return false
	}
	id, ok := c.byName[name]
	if !ok {
		return false
	}
	g, ok := c.granted[id]
	if !ok {
		g = map[string]bool{}
		for _, p := range c.engine.Evaluate(c.identity, []decide.Requested{{ResourceID: id}}).Permissions {
			if p.ResourceID != id {
				continue
			}
			for _, s := range p.Scopes {
				g[s] = true
			}
		}
		c.granted[id] = g
	}
	return g[scope]
}

func (c *Checker) object(kindName, id, scope string) bool {
	return id != "" && c.has(kinds[kindName].resourceName(id), scope)
}

// Users reports whether scope is granted on the "Users" resource, which
// stands for every user of the realm.
func (c *Checker) Users(scope string) bool { return c.has(kinds[Users].resourceName(""), scope) }

// Group reports whether scope is granted on that group's resource only
// (not through an ancestor).
func (c *Checker) Group(groupID, scope string) bool { return c.object(Group, groupID, scope) }

// Member reports whether scope (view-members or manage-members) is granted
// on any of the groups a user is a member of, or on an ancestor of one.
func (c *Checker) Member(userGroupIDs []string, scope string) bool {
	if !c.on || len(c.groupTyped) == 0 {
		return false
	}
	seen := map[string]bool{}
	for _, g := range userGroupIDs {
		for id := g; id != "" && !seen[id]; id = c.parent[id] {
			seen[id] = true
			if c.Group(id, scope) {
				return true
			}
		}
	}
	return false
}

// MemberGroups returns the groups whose members scope lets the admin see
// or manage: each group granted scope, and all of its descendants, since a
// member of a subgroup is reached through the group's permission too. A
// user listing filtered by these groups shows exactly the users Member
// lets through.
func (c *Checker) MemberGroups(scope string) []string {
	if !c.on {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, g := range c.groupTyped {
		if _, exists := c.parent[g]; !exists || seen[g] || !c.Group(g, scope) {
			continue
		}
		for _, id := range role.Subtree(c.groups, g) {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// Role reports whether scope (map-role, map-role-client-scope,
// map-role-composite) is granted on that role.
func (c *Checker) Role(roleID, scope string) bool { return c.object(Role, roleID, scope) }

// Client reports whether scope is granted on that client (its internal id).
func (c *Checker) Client(clientID, scope string) bool { return c.object(Client, clientID, scope) }

// IdentityProvider reports whether scope is granted on the identity
// provider with that internal id.
func (c *Checker) IdentityProvider(internalID, scope string) bool {
	return c.object(IdentityProvider, internalID, scope)
}

// Impersonatable reports whether target may be impersonated. It is true
// unless the Users resource's user-impersonated permission has policies:
// then they decide, evaluated for the target user (acting through the
// realm's admin client), so a policy can name who must never be
// impersonated, whoever asks.
func Impersonatable(ctx context.Context, db *store.DB, rl realm.Realm, target user.User, now time.Time) (bool, error) {
	mc, err := ManagementClient(ctx, db, rl)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	e, err := decide.LoadEngine(ctx, db, rl.ID, mc.ID)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	k := kinds[Users]
	name := k.perm(UserImpersonated, "")
	restricted := false
	for _, p := range e.Model().Policies {
		if p.Name == name && len(p.PolicyIDs) > 0 {
			restricted = true
		}
	}
	if !restricted {
		return true, nil
	}
	id, err := decide.LoadIdentity(ctx, db, decide.Subject{Realm: rl, Client: mc, User: target, Now: now})
	if err != nil {
		return false, err
	}
	c := &Checker{on: true, engine: e, identity: id, byName: map[string]string{}, granted: map[string]map[string]bool{}}
	for _, r := range e.Model().Resources {
		if r.Owner == "" || r.Owner == e.Model().Server.ID {
			c.byName[r.Name] = r.ID
		}
	}
	return c.Users(UserImpersonated), nil
}
