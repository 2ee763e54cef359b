package decide

import (
	"sync"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
)

// Evaluate decides which of the requested resources and scopes the identity is granted. With no
// request it evaluates every resource the server owns and every resource the user owns.
func (e *Engine) Evaluate(id Identity, req []Requested) Result {
	return e.evaluate(&id, req, false)
}

// Explain is Evaluate that also reports each resource decision and the effect of every
// permission and policy involved, for the evaluation tool.
func (e *Engine) Explain(id Identity, req []Requested) Result {
	return e.evaluate(&id, req, true)
}

// resourcePermission is one resource (or none) with the scopes to decide on it.
type resourcePermission struct {
	res     int32 // -1: the scopes on any resource
	scopes  []int32
	granted bool
}

// scratch is per-request working memory, pooled so an evaluation allocates little.
type scratch struct {
	effect  []uint8
	pgrant  []uint8
	seen    []uint32
	gen     uint32
	apply   []int32
	granted []int32
	deniedA []int32 // denied by resource or scope permissions
	deniedT []int32 // denied by typed resource permissions
	uma     []int32
	perms   []resourcePermission
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func (e *Engine) evaluate(id *Identity, req []Requested, explain bool) Result {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	n := len(e.pols)
	if cap(sc.effect) < n {
		sc.effect = make([]uint8, n)
		sc.pgrant = make([]uint8, n)
		sc.seen = make([]uint32, n)
		sc.gen = 0
	}
	sc.effect = sc.effect[:n]
	clear(sc.effect)
	sc.pgrant = sc.pgrant[:n]
	clear(sc.pgrant)
	sc.seen = sc.seen[:n]
	st := evalState{e: e, id: id, effect: sc.effect, granted: sc.pgrant}

	sc.perms = e.resourcePermissions(id, req, sc.perms[:0])
	var out Result
	var names []string // one backing array for the granted scope names
	var seenPolicy map[string]bool
	if explain {
		seenPolicy = map[string]bool{}
	}
	for _, rp := range sc.perms {
		granted, ok, hasResult := e.decide(&st, sc, rp)
		if ok {
			var p Permission
			p, names = e.permission(rp.res, granted, names)
			out.Permissions = append(out.Permissions, p)
		}
		if !explain || !hasResult {
			continue
		}
		rr := ResourceResult{Effect: Deny}
		if rp.res >= 0 {
			rr.ResourceID = e.res[rp.res].id
		}
		shown := rp.scopes
		if ok {
			rr.Effect = Permit
			shown = granted
		}
		for _, s := range shown {
			rr.ScopeIDs = append(rr.ScopeIDs, e.model.Scopes[s].ID)
		}
		if !rp.granted && e.server.PolicyEnforcementMode != authz.Disabled {
			for _, pi := range sc.apply {
				if !e.hasResult(&st, pi, rp.res) {
					continue
				}
				pr := e.policyResult(&st, pi, rp.res)
				rr.Policies = append(rr.Policies, pr)
				if !seenPolicy[pr.PolicyID] {
					seenPolicy[pr.PolicyID] = true
					out.Policies = append(out.Policies, pr)
				}
			}
		}
		out.Resources = append(out.Resources, rr)
	}
	out.Denied = len(out.Permissions) == 0
	return out
}

// resourcePermissions turns a request into the resources and scopes to decide on.
func (e *Engine) resourcePermissions(id *Identity, req []Requested, out []resourcePermission) []resourcePermission {
	if len(req) == 0 {
		for i := range e.res {
			if e.res[i].serverOwned {
				out = append(out, resourcePermission{res: int32(i), scopes: e.res[i].allScopes})
			}
		}
		if id.UserID != "" && id.UserID != e.server.ID {
			for _, i := range e.ownedBy[id.UserID] {
				if !e.res[i].serverOwned {
					out = append(out, resourcePermission{res: i, scopes: e.res[i].allScopes})
				}
			}
		}
		return out
	}
	for _, r := range req {
		if r.ResourceID == "" {
			var scopes []int32
			for _, name := range r.Scopes {
				if s, ok := e.scopeByN[name]; ok && !contains(scopes, s) {
					scopes = append(scopes, s)
				}
			}
			if len(scopes) > 0 {
				out = append(out, resourcePermission{res: -1, scopes: scopes, granted: r.Granted})
			}
			continue
		}
		ri, ok := e.resByID[r.ResourceID]
		if !ok {
			continue
		}
		scopes := e.res[ri].allScopes
		if len(r.Scopes) > 0 {
			scopes = nil
			for _, s := range e.res[ri].allScopes {
				for _, name := range r.Scopes {
					if e.model.Scopes[s].Name == name {
						scopes = append(scopes, s)
						break
					}
				}
			}
		}
		out = append(out, resourcePermission{res: ri, scopes: scopes, granted: r.Granted})
	}
	return out
}

// applicable collects, once each, the permissions that apply to a resource permission, in the
// order Keycloak looks them up: scope permissions on the resource, scope permissions on no
// resource, permissions on the resource's type, permissions on the server's resources of that
// type (for a user's resource), then resource permissions on the resource.
func (e *Engine) applicable(sc *scratch, rp resourcePermission) []int32 {
	sc.gen++
	if sc.gen == 0 {
		clear(sc.seen)
		sc.gen = 1
	}
	gen := sc.gen
	apply := sc.apply[:0]
	add := func(p int32) {
		if sc.seen[p] != gen {
			sc.seen[p] = gen
			apply = append(apply, p)
		}
	}
	addScoped := func(list []int32) {
		for _, p := range list {
			if intersects(e.pols[p].scopes, rp.scopes) {
				add(p)
			}
		}
	}
	if len(rp.scopes) > 0 {
		if rp.res >= 0 {
			addScoped(e.resScopePerms[rp.res])
		}
		for _, s := range rp.scopes {
			for _, p := range e.scopePerms[s] {
				add(p)
			}
		}
	}
	if rp.res >= 0 {
		r := &e.res[rp.res]
		if r.typ != "" {
			for _, p := range e.typePerms[r.typ] {
				add(p)
			}
			if !r.serverOwned {
				for _, t := range e.typeResources[r.typ] {
					for _, p := range e.resPerms[t] {
						add(p)
					}
					addScoped(e.resScopePerms[t])
				}
			}
		}
		for _, p := range e.resPerms[rp.res] {
			add(p)
		}
	}
	sc.apply = apply
	return apply
}

// hasResult reports whether a permission took part in the decision: one without associated
// policies decides nothing (except a user-managed permission, which grants the owner).
func (e *Engine) hasResult(st *evalState, pi, res int32) bool {
	p := &e.pols[pi]
	if len(p.assoc) > 0 {
		return true
	}
	return p.kind == "uma" && res >= 0 && st.id.UserID != "" && e.res[res].owner == st.id.UserID
}

// decide returns the scopes granted on one resource permission, whether it is granted at all,
// and whether any decision was recorded for it (the evaluation tool lists only those).
func (e *Engine) decide(st *evalState, sc *scratch, rp resourcePermission) (scopes []int32, ok, hasResult bool) {
	sc.apply = sc.apply[:0]
	mode := e.server.PolicyEnforcementMode
	if mode == authz.Disabled || rp.granted {
		return e.grantAll(rp)
	}
	apply := e.applicable(sc, rp)
	if len(apply) == 0 {
		if mode == authz.Permissive {
			return e.grantAll(rp)
		}
		return nil, false, false
	}
	var r *resource
	if rp.res >= 0 {
		r = &e.res[rp.res]
	}
	granted, deniedA, deniedT, uma := sc.granted[:0], sc.deniedA[:0], sc.deniedT[:0], sc.uma[:0]
	resourceGranted, anyDeny := false, false
	for _, pi := range apply {
		if !e.hasResult(st, pi, rp.res) {
			continue
		}
		hasResult = true
		p := &e.pols[pi]
		containsResource := rp.res >= 0 && contains(p.resources, rp.res)
		if st.permissionGranted(pi, r) {
			switch p.kind {
			case "scope":
				for _, s := range rp.scopes {
					if contains(p.scopes, s) {
						granted = addTo(granted, s)
						// A scope the resource does not hold itself (inherited from its type)
						// is granted even if another permission denied it.
						if r != nil && !contains(r.scopes, s) {
							deniedA = remove(deniedA, s)
						}
					}
				}
			case "resource":
				for _, s := range rp.scopes {
					granted = addTo(granted, s)
				}
			case "uma":
				// User-managed permissions exist only on resources with owner-managed access
				// (the protection API refuses others), so none is told apart here.
				uma = append(uma, pi)
			}
			if !resourceGranted && containsResource {
				// A scope permission grants the resource itself only on a user's resource,
				// where it overrides what the resource's type decides.
				resourceGranted = p.kind != "scope" || (r != nil && !r.serverOwned)
			}
			continue
		}
		anyDeny = true
		switch p.kind {
		case "resource":
			if containsResource || !resourceGranted {
				if p.typed {
					for _, s := range rp.scopes {
						deniedT = addTo(deniedT, s)
					}
				} else {
					for _, s := range rp.scopes {
						deniedA = addTo(deniedA, s)
					}
				}
			}
		default:
			if containsResource || len(p.resources) == 0 {
				for _, s := range p.scopes {
					deniedA = addTo(deniedA, s)
				}
			}
		}
	}
	defer func() { sc.granted, sc.deniedA, sc.deniedT, sc.uma = granted[:0], deniedA[:0], deniedT[:0], uma[:0] }()
	if !hasResult {
		return nil, false, false
	}
	if e.server.DecisionStrategy == authz.Affirmative {
		// One permission granting a scope is enough.
		for _, s := range granted {
			deniedA = remove(deniedA, s)
		}
	}
	if resourceGranted {
		// A permission on the resource itself overrides what typed permissions denied.
		for _, s := range granted {
			deniedT = remove(deniedT, s)
		}
		for _, s := range deniedT {
			deniedA = addTo(deniedA, s)
		}
	}
	if len(deniedA) == 0 {
		for _, s := range deniedT {
			deniedA = addTo(deniedA, s)
		}
	}
	for _, s := range deniedA {
		granted = remove(granted, s)
	}
	if len(uma) == 0 {
		if !resourceGranted && len(granted) == 0 && len(rp.scopes) > 0 {
			return nil, false, true
		}
	} else {
		for _, pi := range uma {
			scopes := e.pols[pi].scopes
			if len(scopes) == 0 {
				// Shared without scopes: the whole resource, every scope asked for.
				scopes = rp.scopes
			}
			for _, s := range scopes {
				if len(rp.scopes) == 0 || contains(rp.scopes, s) {
					granted = addTo(granted, s)
				}
			}
		}
		if len(granted) == 0 && len(r.scopes) > 0 {
			return nil, false, true
		}
		anyDeny = false
	}
	if anyDeny && len(granted) == 0 {
		return nil, false, true
	}
	if rp.res < 0 && len(granted) == 0 {
		return nil, false, true
	}
	// The slice is scratch memory: valid until the next call.
	return granted, true, true
}

// grantAll grants a resource permission without evaluating policies, unless specific scopes
// were asked for and none of them belongs to the resource.
func (e *Engine) grantAll(rp resourcePermission) ([]int32, bool, bool) {
	if rp.res >= 0 && len(rp.scopes) == 0 && len(e.res[rp.res].scopes) > 0 {
		return nil, false, true
	}
	if rp.res < 0 && len(rp.scopes) == 0 {
		return nil, false, true
	}
	return rp.scopes, true, true
}

func (e *Engine) permission(res int32, scopes []int32, names []string) (Permission, []string) {
	start := len(names)
	for _, s := range scopes {
		names = append(names, e.model.Scopes[s].Name)
	}
	p := Permission{Scopes: names[start:len(names):len(names)]}
	if res >= 0 {
		p.ResourceID, p.ResourceName = e.res[res].id, e.res[res].name
	}
	return p, names
}

func (e *Engine) policyResult(st *evalState, pi, res int32) PolicyResult {
	var r *resource
	if res >= 0 {
		r = &e.res[res]
	}
	p := &e.pols[pi]
	pr := PolicyResult{PolicyID: p.id, Effect: effectName(st.permissionGranted(pi, r))}
	for _, a := range p.assoc {
		pr.Associated = append(pr.Associated, PolicyResult{PolicyID: e.pols[a].id, Effect: effectName(st.effectOf(a, r))})
	}
	return pr
}

func effectName(permit bool) string {
	if permit {
		return Permit
	}
	return Deny
}

func intersects(a, b []int32) bool {
	for _, x := range a {
		if contains(b, x) {
			return true
		}
	}
	return false
}

func addTo(s []int32, v int32) []int32 {
	if contains(s, v) {
		return s
	}
	return append(s, v)
}

func remove(s []int32, v int32) []int32 {
	for i, x := range s {
		if x == v {
			return append(s[:i], s[i+1:]...)
		}
	}
	return s
}
