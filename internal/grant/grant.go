// Package grant decides what a token for a client and a user carries before
// the token package shapes it: the client scopes in effect for a scope
// parameter, and the user's roles within the client's role scope. The token
// endpoint and the admin console's "Evaluate" tab both ask here, so the
// example token an administrator sees is the token the client would get.
package grant

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// ErrInvalidScope is returned by Scopes when the scope parameter names a
// scope the client does not have (OAuth's invalid_scope).
var ErrInvalidScope = errors.New("invalid scope")

// Scopes is the outcome of matching a scope parameter against the client's
// linked scopes.
type Scopes struct {
	Scopes  []client.Scope // default scopes plus the requested optional ones
	OpenID  bool           // "openid" was asked for
	Offline bool           // offline_access was asked for and is linked
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
// requested scope the client does not have is ErrInvalidScope.
func ResolveScopes(ctx context.Context, db *store.DB, rl realm.Realm, c client.Client, requested string) (Scopes, error) {
	var out Scopes
	links, err := db.ClientScopesOf(ctx, rl.ID, c.ID)
	if err != nil {
		return out, err
	}
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
		}
	}
	if len(want) > 0 {
		return out, ErrInvalidScope
	}
	out.Offline = slices.ContainsFunc(out.Scopes, func(s client.Scope) bool { return s.Name == "offline_access" }) &&
		strings.Contains(" "+requested+" ", " offline_access ")
	return out, nil
}

// Roles returns the user's effective realm and client role names as a token
// for client c may carry them: all of them with full scope allowed, and
// otherwise only the client's own roles. Names are sorted; client roles are
// keyed by clientId.
func Roles(ctx context.Context, db *store.DB, rl realm.Realm, c client.Client, u user.User) ([]string, map[string][]string, error) {
	held, err := db.EffectiveRoles(ctx, rl.ID, u.ID)
	if err != nil {
		return nil, nil, err
	}
	realmRoles, clientRoles := InScope(c, held)
	return realmRoles, clientRoles, nil
}

// InScope filters roles to those within client c's role scope.
func InScope(c client.Client, held []store.RoleRef) ([]string, map[string][]string) {
	var realmRoles []string
	clientRoles := map[string][]string{}
	for _, r := range held {
		if !RoleInScope(c, r.ClientID) {
			continue
		}
		if r.ClientID == "" {
			realmRoles = append(realmRoles, r.Name)
			continue
		}
		clientRoles[r.ClientClientID] = append(clientRoles[r.ClientClientID], r.Name)
	}
	sort.Strings(realmRoles)
	for k := range clientRoles {
		sort.Strings(clientRoles[k])
	}
	return realmRoles, clientRoles
}

// RoleInScope reports whether a token for client c may carry a role owned
// by roleClientID (the owning client's internal id, "" for a realm role):
// any role with full scope allowed, otherwise only the client's own.
func RoleInScope(c client.Client, roleClientID string) bool {
	return c.FullScopeAllowed || roleClientID != "" && roleClientID == c.ID
}
