package admin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/bearer"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// Caller is the authenticated administrator of a call.
type Caller struct {
	Realm  realm.Realm // the realm the caller's token is from
	Master bool        // Realm is the master realm
	Token  bearer.Token
	// roleIDs are the caller's effective roles (composites and groups expanded).
	roleIDs map[string]bool
	// hasMasterAdmin: the caller holds master's "admin" role.
	hasMasterAdmin bool
}

// authenticate validates the bearer token. The caller's realm is read from
// the token's issuer, then everything is checked against that realm's keys;
// an admin token of one realm says nothing about another.
func (h *Handler) authenticate(r *http.Request) (*Caller, error) {
	pt := bearer.FromRequest(r)
	raw := pt.Raw
	if raw == "" || len(raw) > token.MaxTokenSize {
		return nil, errUnauthorized
	}
	name := bearer.IssuerRealm(h.URLs.Base(r), unverifiedIssuer(raw))
	if name == "" {
		return nil, errUnauthorized
	}
	ctx := r.Context()
	rl, err := h.Store.GetRealmByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !rl.Enabled) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, err
	}
	t, err := bearer.ValidateRequest(ctx, h.Store, rl, h.URLs.RealmURL(r, rl.Name), r, h.URLs.RequestURL(r), pt, h.Now())
	if errors.Is(err, bearer.ErrInvalid) {
		return nil, fmt.Errorf("%w (%w)", errUnauthorized, err) // the refusal rides along for the challenge
	}
	if err != nil {
		return nil, err
	}
	ids, err := h.Store.EffectiveRoleIDs(ctx, rl.ID, t.User.ID)
	if err != nil {
		return nil, err
	}
	c := &Caller{Realm: rl, Master: rl.Name == realm.MasterName, Token: t, roleIDs: map[string]bool{}}
	for _, id := range ids {
		c.roleIDs[id] = true
	}
	if c.Master {
		if a, err := h.Store.GetRealmRole(ctx, rl.ID, provision.MasterAdminRole); err == nil {
			c.hasMasterAdmin = c.roleIDs[a.ID]
		}
	}
	return c, nil
}

// unverifiedIssuer reads iss from a JWT without verifying it, only to pick
// the realm whose keys will then verify it.
func unverifiedIssuer(raw string) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Iss
}

// adminClient returns the client whose roles administer target for this
// caller: "<target>-realm" in master for master's admins, realm-management
// in the target realm for the realm's own admins.
func (h *Handler) adminClient(ctx context.Context, c *Caller, target realm.Realm) (realmID, clientID string, ok bool, err error) {
	switch {
	case c.Master:
		cl, err := h.Store.GetClientByClientID(ctx, c.Realm.ID, provision.MasterAdminClient(target.Name))
		if errors.Is(err, store.ErrNotFound) {
			return "", "", false, nil
		}
		return c.Realm.ID, cl.ID, err == nil, err
	case c.Realm.ID == target.ID:
		cl, err := h.Store.GetClientByClientID(ctx, target.ID, provision.RealmManagement)
		if errors.Is(err, store.ErrNotFound) {
			return "", "", false, nil
		}
		return target.ID, cl.ID, err == nil, err
	}
	return "", "", false, nil
}

// adminPerms returns the names of the admin roles the caller holds over target.
func (h *Handler) adminPerms(ctx context.Context, c *Caller, target realm.Realm) (map[string]bool, error) {
	realmID, clientID, ok, err := h.adminClient(ctx, c, target)
	if err != nil || !ok {
		return nil, err
	}
	roles, err := h.Store.ListClientRoles(ctx, realmID, clientID)
	if err != nil {
		return nil, err
	}
	perms := map[string]bool{}
	for _, r := range roles {
		if c.roleIDs[r.ID] {
			perms[r.Name] = true
		}
	}
	return perms, nil
}
