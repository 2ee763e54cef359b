package authz

import (
	"encoding/json"
	"slices"
	"strings"
)

// Directory resolves the realm objects a policy or resource names: kind is
// "role", "user", "group", "client" or "client-scope".
type Directory interface {
	// Lookup returns the id of the object ref names: its id, or its name
	// (a realm role's name or "clientId/roleName", a username, a group's
	// path, a clientId, a client scope's name).
	Lookup(kind, ref string) (id string, ok bool)
	// Name returns the name an export gives the object with id, in the
	// forms Lookup accepts.
	Name(kind, id string) (name string, ok bool)
}

// Index finds a resource server's resources, scopes and policies by id or
// by name.
type Index struct {
	ServerID  string
	Resources []Resource
	Scopes    []Scope
	Policies  []Policy
}

// NewIndex indexes a model.
func NewIndex(m Model) *Index {
	return &Index{ServerID: m.Server.ID, Resources: m.Resources, Scopes: m.Scopes, Policies: m.Policies}
}

// Resource finds a resource by id, or by name (the server's own first).
func (ix *Index) Resource(ref string) (Resource, bool) {
	var byName *Resource
	for i, r := range ix.Resources {
		if r.ID == ref {
			return r, true
		}
		if r.Name == ref && (byName == nil || r.Owner == ix.ServerID) {
			byName = &ix.Resources[i]
		}
	}
	if byName != nil {
		return *byName, true
	}
	return Resource{}, false
}

// Scope finds a scope by id or name.
func (ix *Index) Scope(ref string) (Scope, bool) {
	for _, s := range ix.Scopes {
		if s.ID == ref || s.Name == ref {
			return s, true
		}
	}
	return Scope{}, false
}

// Policy finds a policy by id or name.
func (ix *Index) Policy(ref string) (Policy, bool) {
	for _, p := range ix.Policies {
		if p.ID == ref || p.Name == ref {
			return p, true
		}
	}
	return Policy{}, false
}

// refKinds are the config keys holding references to realm objects, by
// policy type.
var refKinds = map[string]struct{ key, kind string }{
	"role":         {"roles", "role"},
	"user":         {"users", "user"},
	"group":        {"groups", "group"},
	"client":       {"clients", "client"},
	"client-scope": {"clientScopes", "client-scope"},
}

// PolicyFromInput builds the policy a request or a realm file describes.
// References to realm objects (in typed fields or in config) may be ids or
// names and are stored as ids; associated policies, resources and scopes
// (in policies/resources/scopes, or in config applyPolicies/resources/scopes
// as an export writes them) may be ids or names of the server's own.
func PolicyFromInput(in PolicyInput, ix *Index, dir Directory) (Policy, error) {
	p := Policy{ID: in.ID, ServerID: ix.ServerID, Name: in.Name, Description: in.Description, Type: in.Type,
		Logic: in.Logic, DecisionStrategy: in.DecisionStrategy, Owner: in.Owner, Config: map[string]string{}}
	if p.Type == "js" {
		return p, ErrScript
	}
	assoc := map[string][]string{"applyPolicies": in.Policies, "resources": in.Resources, "scopes": in.Scopes}
	for k, v := range in.Config {
		if _, ok := assoc[k]; ok {
			if len(assoc[k]) == 0 && v != "" {
				var names []string
				if err := json.Unmarshal([]byte(v), &names); err != nil {
					return p, invalid("Invalid %s in policy [%s] config", k, p.Name)
				}
				assoc[k] = names
			}
			continue
		}
		if v != "" {
			p.Config[k] = v
		}
	}
	if typed, ok := in.typedConfig(); ok {
		if p.Type == "time" {
			for _, f := range timeFields {
				delete(p.Config, f[1])
			}
		}
		for k, v := range typed {
			p.Config[k] = v
		}
	}
	if in.ResourceType != "" && p.Type == "resource" {
		p.Config["defaultResourceType"] = in.ResourceType
	}
	if ref, ok := refKinds[p.Type]; ok && p.Config[ref.key] != "" {
		v, err := resolveRefs(p, ref.key, ref.kind, dir)
		if err != nil {
			return p, err
		}
		p.Config[ref.key] = v
	}
	for _, ref := range assoc["applyPolicies"] {
		q, ok := ix.Policy(ref)
		if !ok {
			return p, invalid("Policy with id or name [%s] not found", ref)
		}
		p.PolicyIDs = appendNew(p.PolicyIDs, q.ID)
	}
	for _, ref := range assoc["resources"] {
		r, ok := ix.Resource(ref)
		if !ok {
			return p, invalid("Resource with id or name [%s] not found", ref)
		}
		p.ResourceIDs = appendNew(p.ResourceIDs, r.ID)
	}
	for _, ref := range assoc["scopes"] {
		s, ok := ix.Scope(ref)
		if !ok {
			return p, invalid("Scope with id or name [%s] not found", ref)
		}
		p.ScopeIDs = appendNew(p.ScopeIDs, s.ID)
	}
	return p, ValidatePolicy(p)
}

func appendNew(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// resolveRefs rewrites the references in config key to ids.
func resolveRefs(p Policy, key, kind string, dir Directory) (string, error) {
	var items []json.RawMessage
	if err := json.Unmarshal([]byte(p.Config[key]), &items); err != nil {
		return "", invalid("Invalid %s in policy [%s]", key, p.Name)
	}
	notFound := func(ref string) error {
		what := map[string]string{"role": "Role", "user": "User", "group": "Group", "client": "Client", "client-scope": "Client scope"}[kind]
		return invalid("Error while updating policy [%s]. %s [%s] could not be found.", p.Name, what, ref)
	}
	var out []any
	seen := map[string]bool{}
	for _, it := range items {
		var s string
		if json.Unmarshal(it, &s) == nil {
			id, ok := dir.Lookup(kind, s)
			if !ok {
				return "", notFound(s)
			}
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
			continue
		}
		var o map[string]any
		if err := json.Unmarshal(it, &o); err != nil {
			return "", invalid("Invalid %s in policy [%s]", key, p.Name)
		}
		ref, _ := o["id"].(string)
		if ref == "" {
			ref, _ = o["path"].(string)
		}
		id, ok := dir.Lookup(kind, ref)
		if !ok {
			return "", notFound(ref)
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		switch kind {
		case "group":
			ext, _ := o["extendChildren"].(bool)
			out = append(out, GroupRef{ID: id, ExtendChildren: ext})
		default:
			req, _ := o["required"].(bool)
			out = append(out, RoleRef{ID: id, Required: req})
		}
	}
	if len(out) == 0 {
		return "", nil
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// ExportPolicy is a policy as a realm export or the settings export writes
// it: references to realm objects by name, associations in config by name.
func ExportPolicy(p Policy, ix *Index, dir Directory) PolicyRep {
	x := Generic(p)
	x.Owner = ""
	if ref, ok := refKinds[p.Type]; ok && x.Config[ref.key] != "" {
		x.Config[ref.key] = exportRefs(x.Config[ref.key], ref.kind, dir)
	}
	names := func(ids []string, name func(string) (string, bool)) string {
		var out []string
		for _, id := range ids {
			if n, ok := name(id); ok {
				out = append(out, n)
			}
		}
		if len(out) == 0 {
			return ""
		}
		b, _ := json.Marshal(out)
		return string(b)
	}
	if v := names(p.ScopeIDs, func(id string) (string, bool) { s, ok := ix.Scope(id); return s.Name, ok }); v != "" {
		x.Config["scopes"] = v
	}
	if v := names(p.ResourceIDs, func(id string) (string, bool) { r, ok := ix.Resource(id); return r.Name, ok }); v != "" {
		x.Config["resources"] = v
	}
	if v := names(p.PolicyIDs, func(id string) (string, bool) { q, ok := ix.Policy(id); return q.Name, ok }); v != "" {
		x.Config["applyPolicies"] = v
	}
	return x
}

// exportRefs rewrites stored ids to the names an export shows: a group
// entry by its path, the others in place of the id.
func exportRefs(v, kind string, dir Directory) string {
	var items []json.RawMessage
	if json.Unmarshal([]byte(v), &items) != nil {
		return v
	}
	var out []any
	for _, it := range items {
		var s string
		if json.Unmarshal(it, &s) == nil {
			if n, ok := dir.Name(kind, s); ok {
				s = n
			}
			out = append(out, s)
			continue
		}
		var o map[string]any
		if json.Unmarshal(it, &o) != nil {
			continue
		}
		id, _ := o["id"].(string)
		n, ok := dir.Name(kind, id)
		if !ok {
			n = id
		}
		if kind == "group" {
			ext, _ := o["extendChildren"].(bool)
			out = append(out, GroupRef{Path: n, ExtendChildren: ext})
			continue
		}
		req, _ := o["required"].(bool)
		out = append(out, RoleRef{ID: n, Required: req})
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// ResourceToRep is a resource as the admin API shows it; deep adds its
// scopes and attributes. The owner's name is the username, or the
// clientId when the resource server owns it.
func ResourceToRep(r Resource, ix *Index, dir Directory, deep bool) ResourceRep {
	x := ResourceRep{ID: r.ID, Name: r.Name, Type: r.Type, OwnerManagedAccess: r.OwnerManagedAccess, DisplayName: r.DisplayName,
		URIs: nonNil(r.URIs), IconURI: r.IconURI, Owner: &OwnerRep{ID: r.Owner}}
	if r.Owner == ix.ServerID {
		x.Owner.Name, _ = dir.Name("client", r.Owner)
	} else {
		x.Owner.Name, _ = dir.Name("user", r.Owner)
	}
	if deep {
		for _, id := range r.ScopeIDs {
			if s, ok := ix.Scope(id); ok {
				x.Scopes = append(x.Scopes, ScopeRep{ID: s.ID, Name: s.Name, IconURI: s.IconURI, DisplayName: s.DisplayName})
			}
		}
		x.Attributes = r.Attributes
		if x.Attributes == nil {
			x.Attributes = map[string][]string{}
		}
	}
	return x
}

// ExportResource is a resource as an export writes it: no owner when the
// server owns it, else the owner's name only; scopes by name.
func ExportResource(r Resource, ix *Index, dir Directory) ResourceRep {
	x := ResourceToRep(r, ix, dir, true)
	if r.Owner == ix.ServerID {
		x.Owner = nil
	} else {
		x.Owner.ID = ""
	}
	for i := range x.Scopes {
		x.Scopes[i] = ScopeRep{Name: x.Scopes[i].Name}
	}
	return x
}

// ErrOwner is a resource owner that names no user of the realm.
var ErrOwner = &Error{Msg: "Owner must be a valid username or user identifier. If the resource server, the client id or null."}

// ResourceFromRep builds the resource x describes, owned by the server
// unless x names a user (by id or username). The scopes are returned as the
// representation names them (id or name), for the caller to find or create.
func ResourceFromRep(x ResourceRep, serverID string, dir Directory) (Resource, []ScopeRep, error) {
	r := Resource{ID: x.ID, ServerID: serverID, Name: x.Name, DisplayName: x.DisplayName, Type: strings.TrimSpace(x.Type),
		IconURI: x.IconURI, URIs: nonNil(x.URIs), OwnerManagedAccess: x.OwnerManagedAccess, Attributes: x.Attributes, Owner: serverID}
	if r.Attributes == nil {
		r.Attributes = map[string][]string{}
	}
	if x.Owner != nil {
		ref := x.Owner.ID
		if ref == "" {
			ref = x.Owner.Name
		}
		if ref != "" && ref != serverID {
			if cid, ok := dir.Name("client", serverID); ok && cid == ref {
				ref = serverID
			}
		}
		if ref != "" && ref != serverID {
			id, ok := dir.Lookup("user", ref)
			if !ok {
				return r, nil, ErrOwner
			}
			r.Owner = id
		}
	}
	return r, x.Scopes, ValidateResource(r)
}
