// Package decide is the policy evaluation engine of authorization services: given one resource
// server's model and the identity asking, it decides which resources and scopes are granted.
//
// The evaluator is pure: no storage, no HTTP, no clock; load.go alone reads the store, to build
// an Engine (LoadEngine) and an Identity (LoadIdentity). Compile turns an authz.Model into an
// Engine once (indexes of permissions by resource, resource type and scope, parsed policy
// settings); an Engine is immutable and safe for concurrent use, so a caller may keep one per model version.
// Evaluate evaluates each policy at most once per request, whatever the number of resources.
//
// The semantics follow Keycloak's authorization services:
//   - A policy decides PERMIT or DENY from the identity; NEGATIVE logic inverts the outcome.
//   - A permission (type "resource", "scope" or the user-managed "uma") applies to a requested
//     resource when it lists the resource, when its resourceType names the resource's type, when
//     it lists a resource of the server owning that type (for resources owned by users), or, for
//     scope permissions, when it lists a requested scope (bound to the resource, or to none).
//     It is granted when its associated policies agree under its decision strategy.
//   - The scopes granted on a resource are combined from the applying permissions under the
//     resource server's decision strategy (see grantedScopes).
//   - A resource no permission applies to is denied when the server is ENFORCING, granted when
//     PERMISSIVE; DISABLED grants every request without evaluating anything.
package decide

import (
	"fmt"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
)

// Identity is who is asking, as the policies see it.
type Identity struct {
	// UserID is the user's id (a service account's user id for a client acting alone).
	UserID, Username string
	// ClientID is the internal id of the client acting (client policies match it).
	ClientID string
	// RoleIDs are the effective realm and client role ids (composites expanded).
	RoleIDs map[string]bool
	// StoredRoleIDs, when not nil, are the effective role ids of the user's stored mappings,
	// which role policies with fetchRoles read instead of RoleIDs (the roles of a token).
	StoredRoleIDs map[string]bool
	// GroupIDs are the groups the user is a direct member of; InheritedGroupIDs their ancestors,
	// which group policies with extendChildren also accept.
	GroupIDs          map[string]bool
	InheritedGroupIDs map[string]bool
	GroupPaths        []string
	// Group resolves a group id to its path and name, for group policies that read the user's
	// groups from a token claim (groupsClaim); nil resolves nothing.
	Group func(id string) (path, name string, ok bool)
	// ClientScopeIDs are the client scopes of the token (client-scope policies).
	ClientScopeIDs map[string]bool
	// Claims are the token's claims, read by regex policies.
	Claims map[string]any
	// Attributes are the evaluation context's attributes (kc.time.date_time, kc.client.id,
	// values given to the evaluate endpoint), read by time and regex policies.
	Attributes map[string][]string
	// Now is the time of the request. Its location is the time zone in which time policies read
	// days, months, hours and minutes.
	Now time.Time
}

// Requested is one resource (and optionally some of its scopes, by name) asked for.
// An empty ResourceID with Scopes asks for those scopes on any resource.
type Requested struct {
	ResourceID string
	Scopes     []string
	// Granted marks a request already granted by other means (a permission ticket the owner
	// approved): its scopes are granted without evaluating policies.
	Granted bool
}

// Permission is a granted resource and the names of the scopes granted on it.
// ResourceID is empty for scopes granted without a resource.
type Permission struct {
	ResourceID, ResourceName string
	Scopes                   []string
}

// Effects of a policy, a permission or a resource.
const (
	Permit = "PERMIT"
	Deny   = "DENY"
)

// Result is the outcome of one evaluation.
type Result struct {
	// Permissions are the granted resources with their granted scopes, in request order.
	Permissions []Permission
	// Denied is true when nothing that was asked for was granted.
	Denied bool
	// Resources explains each resource decision (only filled by Explain).
	Resources []ResourceResult
	// Policies lists each permission evaluated, once, with its associated policies' effects
	// (only filled by Explain).
	Policies []PolicyResult
}

// ResourceResult is the decision on one requested resource, for the evaluation tool.
type ResourceResult struct {
	// ResourceID is empty for a request of scopes on any resource.
	ResourceID string
	// Effect is Permit when the resource was granted.
	Effect string
	// Scopes are the granted scope ids when permitted, else the requested scope ids.
	ScopeIDs []string
	// Policies are the permissions that applied, with their associated policies.
	Policies []PolicyResult
}

// PolicyResult is the effect of a policy or permission and, for a permission, of each of its
// associated policies.
type PolicyResult struct {
	PolicyID   string
	Effect     string
	Associated []PolicyResult
}

// Engine is a compiled resource server model.
type Engine struct {
	server   authz.ResourceServer
	model    authz.Model
	res      []resource
	resByID  map[string]int32
	scopeIDs map[string]int32 // scope id -> index
	scopeByN map[string]int32 // scope name -> index
	pols     []policy
	polByID  map[string]int32

	// Permission indexes: each lists policy indexes in model order.
	resPerms      [][]int32          // resource permissions listing the resource
	resScopePerms [][]int32          // scope permissions listing the resource
	scopePerms    [][]int32          // scope permissions with no resource, by scope
	typePerms     map[string][]int32 // resource permissions by resourceType
	typeResources map[string][]int32 // server-owned resources by type
	ownedBy       map[string][]int32 // resources by owner
	permCount     int
}

type resource struct {
	id, name, typ string
	serverOwned   bool
	oma           bool
	owner         string
	scopes        []int32 // own scopes
	allScopes     []int32 // own scopes plus those inherited from the server's typed resources
}

// Compile builds an Engine from a model. It fails on a policy whose associated policies form a
// cycle, which would never finish evaluating.
func Compile(m authz.Model) (*Engine, error) {
	e := &Engine{
		server:        m.Server,
		model:         m,
		resByID:       make(map[string]int32, len(m.Resources)),
		scopeIDs:      make(map[string]int32, len(m.Scopes)),
		scopeByN:      make(map[string]int32, len(m.Scopes)),
		polByID:       make(map[string]int32, len(m.Policies)),
		typePerms:     map[string][]int32{},
		typeResources: map[string][]int32{},
		ownedBy:       map[string][]int32{},
	}
	for i, s := range m.Scopes {
		e.scopeIDs[s.ID] = int32(i)
		e.scopeByN[s.Name] = int32(i)
	}
	e.res = make([]resource, len(m.Resources))
	for i, r := range m.Resources {
		rr := resource{id: r.ID, name: r.Name, typ: r.Type, owner: r.Owner, oma: r.OwnerManagedAccess,
			serverOwned: r.Owner == "" || r.Owner == m.Server.ID}
		for _, sid := range r.ScopeIDs {
			if si, ok := e.scopeIDs[sid]; ok {
				rr.scopes = append(rr.scopes, si)
			}
		}
		e.res[i] = rr
		e.resByID[r.ID] = int32(i)
		e.ownedBy[rr.owner] = append(e.ownedBy[rr.owner], int32(i))
		if rr.typ != "" && rr.serverOwned {
			e.typeResources[rr.typ] = append(e.typeResources[rr.typ], int32(i))
		}
	}
	// A user's resource of a type inherits the scopes of the server's resources of that type.
	for i := range e.res {
		r := &e.res[i]
		r.allScopes = r.scopes
		if r.typ == "" || r.serverOwned {
			continue
		}
		for _, ti := range e.typeResources[r.typ] {
			for _, s := range e.res[ti].scopes {
				if !contains(r.allScopes, s) {
					if len(r.allScopes) == len(r.scopes) {
						r.allScopes = append([]int32(nil), r.scopes...)
					}
					r.allScopes = append(r.allScopes, s)
				}
			}
		}
	}
	for i, p := range m.Policies {
		e.polByID[p.ID] = int32(i)
	}
	e.pols = make([]policy, len(m.Policies))
	for i, p := range m.Policies {
		e.pols[i] = compilePolicy(e, p)
	}
	if err := e.checkCycles(); err != nil {
		return nil, err
	}
	e.markPerResource()
	e.resPerms = make([][]int32, len(e.res))
	e.resScopePerms = make([][]int32, len(e.res))
	e.scopePerms = make([][]int32, len(m.Scopes))
	for i := range e.pols {
		p := &e.pols[i]
		if !p.permission {
			continue
		}
		e.permCount++
		pi := int32(i)
		switch {
		case p.kind == "scope":
			if len(p.resources) == 0 {
				for _, s := range p.scopes {
					e.scopePerms[s] = append(e.scopePerms[s], pi)
				}
			}
			for _, r := range p.resources {
				e.resScopePerms[r] = append(e.resScopePerms[r], pi)
			}
		default:
			if p.resourceType != "" && len(p.resources) == 0 {
				e.typePerms[p.resourceType] = append(e.typePerms[p.resourceType], pi)
			}
			for _, r := range p.resources {
				e.resPerms[r] = append(e.resPerms[r], pi)
			}
		}
	}
	return e, nil
}

// checkCycles refuses associated policies that lead back to themselves.
func (e *Engine) checkCycles() error {
	const (
		white = iota
		grey
		black
	)
	color := make([]uint8, len(e.pols))
	var visit func(i int32) error
	visit = func(i int32) error {
		switch color[i] {
		case grey:
			return fmt.Errorf("policy %q: associated policies form a cycle", e.pols[i].name)
		case black:
			return nil
		}
		color[i] = grey
		for _, a := range e.pols[i].assoc {
			if err := visit(a); err != nil {
				return err
			}
		}
		color[i] = black
		return nil
	}
	for i := range e.pols {
		if err := visit(int32(i)); err != nil {
			return err
		}
	}
	return nil
}

// markPerResource flags the policies whose effect depends on the resource evaluated.
func (e *Engine) markPerResource() {
	done := make([]bool, len(e.pols))
	var visit func(i int32) bool
	visit = func(i int32) bool {
		p := &e.pols[i]
		if done[i] {
			return p.perResource
		}
		done[i] = true
		p.perResource = p.kind == "uma"
		for _, a := range p.assoc {
			if visit(a) {
				p.perResource = true
			}
		}
		return p.perResource
	}
	for i := range e.pols {
		visit(int32(i))
	}
}

// Model returns the model the engine was compiled from.
func (e *Engine) Model() authz.Model { return e.model }

// ScopeID returns the id of the scope with the given name.
func (e *Engine) ScopeID(name string) (string, bool) {
	i, ok := e.scopeByN[name]
	if !ok {
		return "", false
	}
	return e.model.Scopes[i].ID, true
}

func contains(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
