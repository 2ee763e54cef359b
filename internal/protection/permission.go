package protection

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/uma"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The permission endpoint (UMA 2.0 Federated Authorization §4): a resource
// server, refused a request without an RPT, asks for a permission ticket
// naming what the request needed, and hands it to the client, which
// redeems it at the token endpoint.

// permissionRequest is one permission a resource server asks a ticket for.
type permissionRequest struct {
	ResourceID     string              `json:"resource_id"`
	ResourceScopes []string            `json:"resource_scopes"`
	Claims         map[string][]string `json:"claims"`
}

// permission serves POST .../permission: a list of permission requests (or
// one) → 201 {"ticket": …}.
func (h *Handler) permission(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := h.authenticate(r, false)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := decodeJSON(w, r, &raw); err != nil {
		return err
	}
	var reqs []permissionRequest
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		var one permissionRequest
		if err := json.Unmarshal(raw, &one); err != nil {
			return fail(http.StatusBadRequest, "invalid_request", "Failed to parse representation")
		}
		reqs = []permissionRequest{one}
	} else if err := json.Unmarshal(raw, &reqs); err != nil {
		return fail(http.StatusBadRequest, "invalid_request", "Failed to parse representation")
	}
	if len(reqs) == 0 {
		return fail(http.StatusBadRequest, "invalid_permission_request", "Invalid permission request.")
	}
	m, err := h.Store.LoadAuthzModel(ctx, c.realm.ID, c.server.ID)
	if err != nil {
		return err
	}
	perms, err := verifyRequested(m, c, reqs)
	if err != nil {
		return err
	}
	t := uma.Ticket{Permissions: perms, Audience: c.client.ClientID, Subject: c.token.Claims.Sub,
		IssuedFor: c.token.Claims.Azp, ID: store.NewID(), IssuedAt: h.Now().Unix(), Expires: c.token.Claims.Exp}
	for _, p := range reqs {
		for k, v := range p.Claims {
			if t.Claims == nil {
				t.Claims = map[string][]string{}
			}
			t.Claims[k] = append(t.Claims[k], v...)
		}
	}
	ks, err := h.Store.ListKeys(ctx, c.realm.ID)
	if err != nil {
		return err
	}
	k, err := provision.SigningKey(ctx, h.Store, h.Log, c.realm, &ks, token.AccessAlg(c.realm, c.client), h.Now())
	if err != nil {
		return err
	}
	signed, err := uma.SignTicket(t, k)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, map[string]string{"ticket": signed})
}

// verifyRequested checks each requested resource (by id, else by name:
// the caller's own, then the server's) and scope, and returns the
// permissions the ticket carries.
func verifyRequested(m authz.Model, c caller, reqs []permissionRequest) ([]uma.Permission, error) {
	scopeName := map[string]string{}
	for _, s := range m.Scopes {
		scopeName[s.ID] = s.Name
	}
	var out []uma.Permission
	for _, req := range reqs {
		var found []authz.Resource
		if req.ResourceID == "" {
			if len(req.ResourceScopes) == 0 {
				return nil, fail(http.StatusBadRequest, "invalid_resource_id", "Resource id or name not provided.")
			}
		} else if i := slices.IndexFunc(m.Resources, func(r authz.Resource) bool { return r.ID == req.ResourceID }); i >= 0 {
			found = append(found, m.Resources[i])
		} else {
			for _, r := range m.Resources {
				if r.Name == req.ResourceID && (r.Owner == c.id || (!c.isServer && r.Owner == m.Server.ID)) {
					found = append(found, r)
				}
			}
			if len(found) == 0 {
				return nil, fail(http.StatusBadRequest, "invalid_resource_id", "Resource set with id ["+req.ResourceID+"] does not exists in this server.")
			}
		}
		if len(found) == 0 {
			scopes, err := checkScopes(m, nil, req.ResourceScopes, scopeName)
			if err != nil {
				return nil, err
			}
			out = append(out, uma.Permission{Scopes: scopes})
			continue
		}
		for i := range found {
			scopes, err := checkScopes(m, &found[i], req.ResourceScopes, scopeName)
			if err != nil {
				return nil, err
			}
			out = append(out, uma.Permission{ResourceID: found[i].ID, Scopes: scopes})
		}
	}
	return out, nil
}

// checkScopes accepts scope names of the resource (or of the server's
// resources of its type), or of the server when no resource is named.
func checkScopes(m authz.Model, res *authz.Resource, names []string, scopeName map[string]string) ([]string, error) {
	var out []string
	for _, n := range names {
		ok := false
		if res == nil {
			for _, s := range m.Scopes {
				ok = ok || s.Name == n
			}
		} else {
			holds := func(r authz.Resource) bool {
				return slices.ContainsFunc(r.ScopeIDs, func(id string) bool { return scopeName[id] == n })
			}
			ok = holds(*res)
			if !ok && res.Type != "" {
				ok = slices.ContainsFunc(m.Resources, func(r authz.Resource) bool {
					return r.Type == res.Type && r.Owner == m.Server.ID && holds(r)
				})
			}
		}
		if !ok {
			return nil, fail(http.StatusBadRequest, "invalid_scope", "Scope ["+n+"] is invalid")
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}
