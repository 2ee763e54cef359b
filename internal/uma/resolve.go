package uma

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/authz/decide"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Asker is the identity a grant evaluates for, as resources name owners: a
// user's id, or the resource server's id when the server's own service
// account asks (Server true).
type Asker struct {
	ID     string
	Server bool
}

// index is a model looked up by id and name.
type index struct {
	m         authz.Model
	resources map[string]*authz.Resource
	scopeName map[string]string // scope id -> name
	scopeID   map[string]string // scope name -> id
}

func newIndex(m authz.Model) index {
	x := index{m: m, resources: map[string]*authz.Resource{}, scopeName: map[string]string{}, scopeID: map[string]string{}}
	for i := range m.Resources {
		x.resources[m.Resources[i].ID] = &m.Resources[i]
	}
	for _, s := range m.Scopes {
		x.scopeName[s.ID], x.scopeID[s.Name] = s.Name, s.ID
	}
	return x
}

// scopeNames are the names of a resource's scopes.
func (x index) scopeNames(r *authz.Resource) []string {
	out := make([]string, 0, len(r.ScopeIDs))
	for _, id := range r.ScopeIDs {
		if n, ok := x.scopeName[id]; ok {
			out = append(out, n)
		}
	}
	return out
}

// Requests turns a grant's permissions (from its ticket, or its permission
// parameters) into requests for who (granted holds the server's granted
// tickets; only who's count), resolving resource names and resource-type
// references as the requesting party sees them: its own resource of that
// name, resources shared with it by granted tickets, then the server's.
func Requests(m authz.Model, who Asker, granted []store.PermissionTicket, perms []Permission) ([]decide.Requested, error) {
	x := newIndex(m)
	var out []decide.Requested
	add := func(r decide.Requested) {
		for i := range out {
			if out[i].ResourceID == r.ResourceID && out[i].Granted == r.Granted {
				for _, s := range r.Scopes {
					if !slices.Contains(out[i].Scopes, s) {
						out[i].Scopes = append(out[i].Scopes, s)
					}
				}
				return
			}
		}
		out = append(out, r)
	}
	for _, p := range perms {
		var scopes []string
		for _, s := range p.Scopes {
			if _, ok := x.scopeID[s]; ok {
				scopes = append(scopes, s)
			}
		}
		if len(p.Scopes) > 0 && len(scopes) == 0 {
			return nil, fail(http.StatusBadRequest, "invalid_scope", "One of the given scopes ["+strings.Join(p.Scopes, ", ")+"] is invalid")
		}
		id := p.ResourceID
		if id == "" {
			if len(scopes) > 0 {
				add(decide.Requested{Scopes: scopes})
			}
			continue
		}
		if _, ok := x.resources[id]; ok {
			add(decide.Requested{ResourceID: id, Scopes: scopes})
			continue
		}
		if typ, ok := typeReference(id); ok {
			for _, r := range m.Resources {
				if r.Type == typ.name && typ.match(r, m.Server.ID, who.ID) {
					add(decide.Requested{ResourceID: r.ID, Scopes: scopes})
				}
			}
			continue
		}
		n := len(out)
		for _, r := range m.Resources {
			if r.Name == id && r.Owner == who.ID {
				add(decide.Requested{ResourceID: r.ID, Scopes: scopes})
			}
		}
		if who.Server && who.ID == m.Server.ID {
			continue
		}
		// Resources of that name shared with the asker: only what the
		// owner granted, and only the scopes asked for among them.
		shared := map[string][]string{}
		var order []string
		for _, t := range granted {
			r, ok := x.resources[t.ResourceID]
			if !ok || r.Name != id || !t.Granted() || t.Requester != who.ID {
				continue
			}
			if _, seen := shared[r.ID]; !seen {
				order = append(order, r.ID)
			}
			if t.ScopeID == "" {
				shared[r.ID] = append(shared[r.ID], x.scopeNames(r)...)
			} else if name, ok := x.scopeName[t.ScopeID]; ok {
				shared[r.ID] = append(shared[r.ID], name)
			}
		}
		for _, rid := range order {
			give := shared[rid]
			if len(scopes) > 0 {
				give = slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return !slices.Contains(shared[rid], s) })
			}
			if len(give) > 0 {
				add(decide.Requested{ResourceID: rid, Scopes: give, Granted: true})
			}
		}
		for _, r := range m.Resources {
			if r.Name == id && r.Owner == m.Server.ID {
				add(decide.Requested{ResourceID: r.ID, Scopes: scopes})
			}
		}
		if len(out) == n {
			return nil, fail(http.StatusBadRequest, "invalid_resource", "Resource with id ["+id+"] does not exist.")
		}
	}
	return out, nil
}

// typeRef is a "resource-type…:" reference of a permission parameter.
type typeRef struct {
	name  string
	match func(r authz.Resource, serverID, askerID string) bool
}

func typeReference(id string) (typeRef, bool) {
	for _, p := range []struct {
		prefix string
		match  func(r authz.Resource, serverID, askerID string) bool
	}{
		// The type's own resources, which the server owns.
		{"resource-type:", func(r authz.Resource, server, _ string) bool { return r.Owner == server }},
		{"resource-type-any:", func(authz.Resource, string, string) bool { return true }},
		// Instances of the type: resources of it that users own.
		{"resource-type-instance:", func(r authz.Resource, server, _ string) bool { return r.Owner != server }},
		{"resource-type-owner:", func(r authz.Resource, _, asker string) bool { return r.Owner == asker }},
	} {
		if name, ok := strings.CutPrefix(id, p.prefix); ok {
			return typeRef{name: name, match: p.match}, true
		}
	}
	return typeRef{}, false
}

// All is what a grant that names no permission evaluates: every resource
// of the server, the asker's own, and what was shared with it.
func All(m authz.Model, who Asker, granted []store.PermissionTicket) []decide.Requested {
	x := newIndex(m)
	var out []decide.Requested
	for _, r := range m.Resources {
		if r.Owner == m.Server.ID || (r.Owner == who.ID && !who.Server) {
			out = append(out, decide.Requested{ResourceID: r.ID})
		}
	}
	shared := map[string]int{}
	for _, t := range granted {
		r, ok := x.resources[t.ResourceID]
		if !ok || !t.Granted() || t.Requester != who.ID {
			continue
		}
		i, seen := shared[r.ID]
		if !seen {
			i = len(out)
			shared[r.ID] = i
			out = append(out, decide.Requested{ResourceID: r.ID, Scopes: []string{}, Granted: true})
		}
		names := x.scopeNames(r)
		if t.ScopeID != "" {
			names = nil
			if n, ok := x.scopeName[t.ScopeID]; ok {
				names = []string{n}
			}
		}
		for _, n := range names {
			if !slices.Contains(out[i].Scopes, n) {
				out[i].Scopes = append(out[i].Scopes, n)
			}
		}
	}
	return out
}

// Previous adds the permissions of an earlier RPT to reqs, so an upgraded
// RPT keeps what is still granted. Resources and scopes that no longer
// exist are dropped.
func Previous(m authz.Model, reqs []decide.Requested, prev []Permission) []decide.Requested {
	x := newIndex(m)
	for _, p := range prev {
		if _, ok := x.resources[p.ResourceID]; !ok {
			continue
		}
		var scopes []string
		for _, s := range p.Scopes {
			if _, ok := x.scopeID[s]; ok {
				scopes = append(scopes, s)
			}
		}
		i := slices.IndexFunc(reqs, func(r decide.Requested) bool { return r.ResourceID == p.ResourceID && !r.Granted })
		if i < 0 {
			reqs = append(reqs, decide.Requested{ResourceID: p.ResourceID, Scopes: scopes})
			continue
		}
		for _, s := range scopes {
			if !slices.Contains(reqs[i].Scopes, s) {
				reqs[i].Scopes = append(reqs[i].Scopes, s)
			}
		}
	}
	return reqs
}

// Covers reports whether granted includes every request of reqs with all
// its scopes (an RPT upgrade is refused unless everything asked is given).
func Covers(granted []Permission, reqs []decide.Requested) bool {
	for _, r := range reqs {
		ok := slices.ContainsFunc(granted, func(p Permission) bool {
			if r.ResourceID != "" && p.ResourceID != r.ResourceID {
				return false
			}
			for _, s := range r.Scopes {
				if !slices.Contains(p.Scopes, s) {
					return false
				}
			}
			return true
		})
		if !ok {
			return false
		}
	}
	return true
}

// Pending lists the tickets a denied request submits for its owners'
// approval: one per scope asked (or one for the whole resource) on each
// resource its owner manages, other than the asker's and the server's own.
// Tickets already there are the caller's to skip.
func Pending(m authz.Model, who Asker, perms []Permission) []store.PermissionTicket {
	x := newIndex(m)
	var out []store.PermissionTicket
	for _, p := range perms {
		r, ok := x.resources[p.ResourceID]
		if !ok {
			for i := range m.Resources {
				if m.Resources[i].Name == p.ResourceID && m.Resources[i].Owner != m.Server.ID {
					r, ok = &m.Resources[i], true
					break
				}
			}
		}
		if !ok || !r.OwnerManagedAccess || r.Owner == who.ID || r.Owner == m.Server.ID {
			continue
		}
		scopes := p.Scopes
		if len(scopes) == 0 {
			scopes = x.scopeNames(r)
		}
		if len(scopes) == 0 {
			out = append(out, store.PermissionTicket{ServerID: m.Server.ID, ResourceID: r.ID, Owner: r.Owner, Requester: who.ID})
			continue
		}
		for _, s := range scopes {
			id, ok := x.scopeID[s]
			if !ok {
				continue
			}
			out = append(out, store.PermissionTicket{ServerID: m.Server.ID, ResourceID: r.ID, ScopeID: id, Owner: r.Owner, Requester: who.ID})
		}
	}
	return out
}

// ResolveURIs reads each permission's resource as a URI (the grant's
// permission_resource_format=uri) and names instead the resources of the
// server, or of the asker, that it designates: those listing the URI itself
// and, when matching (permission_resource_matching_uri=true) finds none,
// those with a URI pattern matching it (authz.MatchURI). A URI that
// designates nothing is refused as an unknown resource would be.
func ResolveURIs(m authz.Model, who Asker, perms []Permission, matching bool) ([]Permission, error) {
	var out []Permission
	for _, p := range perms {
		if p.ResourceID == "" {
			out = append(out, p)
			continue
		}
		var exact, matched []string
		for _, r := range m.Resources {
			if r.Owner != m.Server.ID && r.Owner != who.ID {
				continue
			}
			switch {
			case slices.Contains(r.URIs, p.ResourceID):
				exact = append(exact, r.ID)
			case matching && slices.ContainsFunc(r.URIs, func(u string) bool { return authz.MatchURI(u, p.ResourceID) }):
				matched = append(matched, r.ID)
			}
		}
		ids := exact
		if len(ids) == 0 {
			ids = matched
		}
		if len(ids) == 0 {
			return nil, fail(http.StatusBadRequest, "invalid_resource", "Resource with id ["+p.ResourceID+"] does not exist.")
		}
		for _, id := range ids {
			out = append(out, Permission{ResourceID: id, Scopes: p.Scopes})
		}
	}
	return out, nil
}
