// Package grant decides what a token for a client and a user carries before
// the token package shapes it: the client scopes in effect for a scope
// parameter, and, through role scope (package role), the scopes and roles
// that apply to the user. The token, userinfo and introspection endpoints
// and the admin console's "Evaluate" tab all ask here, so the example token
// an administrator sees is the token the client would get.
package grant

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// ErrInvalidScope is returned by ResolveScopes when the scope parameter
// names a scope the client does not have (OAuth's invalid_scope).
var ErrInvalidScope = errors.New("invalid scope")

// Scopes is the outcome of matching a scope parameter against the client's
// linked scopes.
type Scopes struct {
	Scopes  []client.Scope // default scopes plus the requested optional ones
	OpenID  bool           // "openid" was asked for
	Offline bool           // offline_access was asked for and is linked
	// RoleScoped holds the ids of the scopes with role scope mappings,
	// which apply only to users holding a role they reach (see Resolve).
	RoleScoped map[string]bool
}

// Names returns the names of the scopes in effect, in order.
func (s Scopes) Names() []string {
	out := make([]string, len(s.Scopes))
	for i, sc := range s.Scopes {
		out[i] = sc.Name
	}
	return out
}

// ResolveScopes returns the client scopes that apply: every default OpenID
// Connect scope of the client, plus the optional ones requested names. A
// requested scope the client does not have is ErrInvalidScope; the scopes
// that did match are returned with it.
func ResolveScopes(ctx context.Context, db *store.DB, rl realm.Realm, c client.Client, requested string) (Scopes, error) {
	var out Scopes
	links, err := db.ClientScopesOf(ctx, rl.ID, c.ID)
	if err != nil {
		return out, err
	}
	out.Scopes = make([]client.Scope, 0, len(links))
	want := map[string]bool{}
	for _, s := range strings.Fields(requested) {
		if s == "openid" {
			out.OpenID = true
			continue
		}
		want[s] = true
	}
	for _, l := range links {
		sc := l.Scope
		if sc.Protocol != "" && sc.Protocol != "openid-connect" {
			continue
		}
		if l.Default || want[sc.Name] {
			out.Scopes = append(out.Scopes, sc)
			delete(want, sc.Name)
			if l.RoleScoped {
				if out.RoleScoped == nil {
					out.RoleScoped = map[string]bool{}
				}
				out.RoleScoped[sc.ID] = true
			}
		}
	}
	out.Offline = slices.ContainsFunc(out.Scopes, func(s client.Scope) bool { return s.Name == "offline_access" }) &&
		strings.Contains(" "+requested+" ", " offline_access ")
	if len(want) > 0 {
		return out, ErrInvalidScope
	}
	return out, nil
}

// DefaultScopes returns the default client scopes of c whose protocol is
// protocol, with the same role scope bookkeeping as ResolveScopes. A SAML
// login has no scope parameter: its client's default SAML scopes apply.
func DefaultScopes(ctx context.Context, db *store.DB, rl realm.Realm, c client.Client, protocol string) (Scopes, error) {
	var out Scopes
	links, err := db.ClientScopesOf(ctx, rl.ID, c.ID)
	if err != nil {
		return out, err
	}
	for _, l := range links {
		if !l.Default || l.Scope.Protocol != protocol {
			continue
		}
		out.Scopes = append(out.Scopes, l.Scope)
		if l.RoleScoped {
			if out.RoleScoped == nil {
				out.RoleScoped = map[string]bool{}
			}
			out.RoleScoped[l.Scope.ID] = true
		}
	}
	return out, nil
}

// Access is what a token for one user and client may carry: the client
// scopes that apply to the user, and the user's roles within the client's
// scope, by name (sorted; client roles keyed by clientId).
type Access struct {
	Scopes      []client.Scope
	RealmRoles  []string
	ClientRoles map[string][]string
	// RoleIDs are the ids of the same roles, realm and client alike.
	RoleIDs map[string]bool
	// Groups are the full paths of the user's groups ("/staff/ops"), read
	// only when a group membership mapper is in effect.
	Groups []string
}

// Resolve applies role scope to a request for client c by user u with the
// requested scopes: every grant, refresh, introspection and userinfo answer
// goes through it, so a token and what is later said of it carry the same
// roles. The scope mappings are read only when the client lacks full scope
// or a requested scope has some.
func Resolve(ctx context.Context, db *store.DB, rl realm.Realm, c client.Client, u user.User, sr Scopes) (Access, error) {
	out := Access{Scopes: sr.Scopes, ClientRoles: map[string][]string{}}
	held, err := db.EffectiveRoles(ctx, rl.ID, u.ID)
	if err != nil {
		return out, err
	}
	in := make(map[string]bool, len(held))
	for _, r := range held {
		in[r.ID] = true
	}
	if !c.FullScopeAllowed || len(sr.RoleScoped) > 0 {
		reach, err := db.ScopeReach(ctx, rl.ID, c.ID, !c.FullScopeAllowed)
		if err != nil {
			return out, err
		}
		out.Scopes = nil
		var applied [][]string
		for _, sc := range sr.Scopes {
			if role.ScopePermitted(reach[sc.ID], in) {
				out.Scopes = append(out.Scopes, sc)
				applied = append(applied, reach[sc.ID])
			}
		}
		in = role.InScope(in, c.FullScopeAllowed, reach[""], applied...)
	}
	out.RoleIDs = make(map[string]bool, len(held))
	for _, r := range held {
		if !in[r.ID] {
			continue
		}
		out.RoleIDs[r.ID] = true
		if r.ClientID == "" {
			out.RealmRoles = append(out.RealmRoles, r.Name)
		} else {
			out.ClientRoles[r.ClientClientID] = append(out.ClientRoles[r.ClientClientID], r.Name)
		}
	}
	sort.Strings(out.RealmRoles)
	for k := range out.ClientRoles {
		sort.Strings(out.ClientRoles[k])
	}
	if token.NeedsGroups(c, out.Scopes) || needsSAMLGroups(c, out.Scopes) {
		direct, all, err := db.UserGroupLineage(ctx, u.ID)
		if err != nil {
			return out, err
		}
		paths := role.GroupPaths(all)
		for _, id := range direct {
			out.Groups = append(out.Groups, paths[id])
		}
		sort.Strings(out.Groups)
	}
	return out, nil
}

// InScopeRoles reports which of roles a token for client c may carry with
// the requested scopes, whoever the user (the Evaluate tab's "granted"):
// all with full scope, else those the client's own roles and scope
// mappings, or a requested scope's mappings, reach.
func InScopeRoles(ctx context.Context, db *store.DB, rl realm.Realm, c client.Client, sr Scopes, roles []role.Role) (map[string]bool, error) {
	in := make(map[string]bool, len(roles))
	for _, r := range roles {
		in[r.ID] = true
	}
	if c.FullScopeAllowed {
		return in, nil
	}
	reach, err := db.ScopeReach(ctx, rl.ID, c.ID, true)
	if err != nil {
		return nil, err
	}
	var applied [][]string
	for _, sc := range sr.Scopes {
		applied = append(applied, reach[sc.ID])
	}
	return role.InScope(in, false, reach[""], applied...), nil
}

// samlGroupMapper is the SAML mapper type that lists the user's groups.
const samlGroupMapper = "saml-group-membership-mapper"

// needsSAMLGroups reports whether a SAML group list mapper is in effect for
// c with scopes, so Resolve reads the user's groups.
func needsSAMLGroups(c client.Client, scopes []client.Scope) bool {
	has := func(ms []client.ProtocolMapper) bool {
		return slices.ContainsFunc(ms, func(m client.ProtocolMapper) bool { return m.ProtocolMapper == samlGroupMapper })
	}
	return has(c.ProtocolMappers) || slices.ContainsFunc(scopes, func(s client.Scope) bool { return has(s.ProtocolMappers) })
}
