package oidc

import (
	"context"

	"github.com/gatehouse-iam/gatehouse/internal/authz/decide"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
)

// umaIdentity is the requesting party as the policies see it: the user's
// effective roles and groups, the token's claims, and the claims pushed
// with the request as context attributes.
func (h *Handler) umaIdentity(ctx context.Context, rl realm.Realm, party requestingParty, pushed map[string][]string) (decide.Identity, error) {
	u := party.user
	id := decide.Identity{UserID: u.ID, Username: u.Username, ClientID: party.client.ID, RoleIDs: map[string]bool{},
		GroupIDs: map[string]bool{}, InheritedGroupIDs: map[string]bool{}, Claims: party.token.Claims.Raw,
		Attributes: map[string][]string{}, Now: h.Now()}
	roles, err := h.Store.EffectiveRoles(ctx, rl.ID, u.ID)
	if err != nil {
		return id, err
	}
	for _, r := range roles {
		id.RoleIDs[r.ID] = true
	}
	direct, all, err := h.Store.UserGroupLineage(ctx, u.ID)
	if err != nil {
		return id, err
	}
	for _, g := range direct {
		id.GroupIDs[g] = true
	}
	for _, g := range all {
		if !id.GroupIDs[g.ID] {
			id.InheritedGroupIDs[g.ID] = true
		}
	}
	paths := role.GroupPaths(all)
	for _, g := range direct {
		id.GroupPaths = append(id.GroupPaths, paths[g])
	}
	for k, v := range pushed {
		id.Attributes[k] = v
	}
	id.Attributes["kc.client.id"] = []string{party.client.ClientID}
	return id, nil
}
