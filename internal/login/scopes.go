package login

import (
	"context"
	"errors"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/grant"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// requestedScopes returns the client scopes a request brings into effect
// (grant.ResolveScopes, the rule the token endpoint applies to the same
// parameter); a scope the client lacks is grant.ErrInvalidScope.
func (h *Handler) requestedScopes(ctx context.Context, rl realm.Realm, c client.Client, requested string) ([]client.Scope, error) {
	s, err := grant.ResolveScopes(ctx, h.Store, rl, c, requested)
	if err != nil {
		return nil, err
	}
	return s.Scopes, nil
}

// consentScopes returns the scopes the user must still approve for c: the
// scopes in effect that show on the consent screen and that no stored grant
// covers (all of them with prompt=consent). None means no consent page.
func (h *Handler) consentScopes(ctx context.Context, rl realm.Realm, c client.Client, userID string, req authRequest) ([]client.Scope, error) {
	var scopes []client.Scope
	if req.SAML != nil {
		// A SAML login has no scope parameter: its default SAML scopes.
		s, err := grant.DefaultScopes(ctx, h.Store, rl, c, protocolSAML)
		if err != nil {
			return nil, err
		}
		scopes = s.Scopes
	} else {
		var err error
		if scopes, err = h.requestedScopes(ctx, rl, c, req.Scope); err != nil {
			return nil, err
		}
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
