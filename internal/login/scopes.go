package login

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// errInvalidScope is a scope parameter naming a scope the client lacks.
type errInvalidScope struct{ names []string }

func (e errInvalidScope) Error() string { return "invalid scope " + strings.Join(e.names, " ") }

// requestedScopes returns the client scopes a request brings into effect:
// every default scope of the client and the optional ones the scope
// parameter names, in link order. "openid" needs no client scope. This is
// the rule the token endpoint applies to the same parameter.
func (h *Handler) requestedScopes(ctx context.Context, rl realm.Realm, c client.Client, requested string) ([]client.Scope, error) {
	links, err := h.Store.ClientScopeLinks(ctx, rl.ID, c.ID)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, s := range strings.Fields(requested) {
		if s != "openid" {
			want[s] = true
		}
	}
	var out []client.Scope
	for _, l := range links {
		sc, err := h.Store.GetClientScope(ctx, rl.ID, l.ScopeID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if sc.Protocol != "" && sc.Protocol != "openid-connect" {
			continue
		}
		if l.Default || want[sc.Name] {
			out = append(out, sc)
			delete(want, sc.Name)
		}
	}
	if len(want) > 0 {
		var names []string
		for name := range want {
			names = append(names, name)
		}
		slices.Sort(names)
		return nil, errInvalidScope{names}
	}
	return out, nil
}

// consentScopes returns the scopes the user must still approve for c: the
// scopes in effect that show on the consent screen and that no stored grant
// covers (all of them with prompt=consent). None means no consent page.
func (h *Handler) consentScopes(ctx context.Context, rl realm.Realm, c client.Client, userID string, req authRequest) ([]client.Scope, error) {
	scopes, err := h.requestedScopes(ctx, rl, c, req.Scope)
	if err != nil {
		return nil, err
	}
	scopes = slices.DeleteFunc(scopes, func(s client.Scope) bool {
		return s.Attributes["display.on.consent.screen"] == "false"
	})
	if len(scopes) == 0 || hasPrompt(req, "consent") {
		return scopes, nil
	}
	granted, err := h.Store.GetConsent(ctx, userID, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return scopes, nil
	}
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(scopes, func(s client.Scope) bool { return slices.Contains(granted.ScopeIDs, s.ID) }), nil
}
