package protection

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/uma"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The resource registration endpoint (UMA 2.0 Federated Authorization §3):
// a resource server registers, reads, changes and removes its resources,
// on its own behalf or on behalf of the users who own them.

// ownerRep is a resource's owner: a JSON object with its id (and name), or
// the id alone as a string.
type ownerRep struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

func (o *ownerRep) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(`"`)) {
		return json.Unmarshal(b, &o.ID)
	}
	type plain ownerRep
	return json.Unmarshal(b, (*plain)(o))
}

// scopeRep is a scope in a resource: an object, or its name alone.
type scopeRep struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	IconURI     string `json:"iconUri,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

func (s *scopeRep) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(`"`)) {
		return json.Unmarshal(b, &s.Name)
	}
	type plain scopeRep
	return json.Unmarshal(b, (*plain)(s))
}

// resourceRep is a resource as the protection API reads and writes it:
// Keycloak's resource representation with its scopes as resource_scopes
// (UMA's name), scopes accepted too.
type resourceRep struct {
	ID                 string              `json:"_id,omitempty"`
	Name               string              `json:"name"`
	URIs               []string            `json:"uris"`
	Type               string              `json:"type,omitempty"`
	ResourceScopes     []scopeRep          `json:"resource_scopes"`
	IconURI            string              `json:"icon_uri,omitempty"`
	Owner              *ownerRep           `json:"owner,omitempty"`
	OwnerManagedAccess bool                `json:"ownerManagedAccess"`
	DisplayName        string              `json:"displayName,omitempty"`
	Attributes         map[string][]string `json:"attributes"`
	// Scopes and URI are read only: Keycloak's own names for them.
	Scopes []scopeRep `json:"-"`
	URI    string     `json:"-"`
}

func (r *resourceRep) UnmarshalJSON(b []byte) error {
	type plain resourceRep
	var in struct {
		plain
		Scopes []scopeRep `json:"scopes"`
		URI    string     `json:"uri"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*r = resourceRep(in.plain)
	r.Scopes, r.URI = in.Scopes, in.URI
	return nil
}

// scopes are the scopes the representation names, by either field.
func (r resourceRep) scopes() []scopeRep { return append(slices.Clone(r.ResourceScopes), r.Scopes...) }

// uris are its URIs, the single legacy uri included.
func (r resourceRep) uris() []string {
	out := slices.Clone(r.URIs)
	if r.URI != "" && !slices.Contains(out, r.URI) {
		out = append(out, r.URI)
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// toRep writes a stored resource for the protection API.
func (h *Handler) toRep(ctx context.Context, c caller, res authz.Resource, scopes map[string]authz.Scope) resourceRep {
	out := resourceRep{ID: res.ID, Name: res.Name, URIs: res.URIs, Type: res.Type, IconURI: res.IconURI,
		OwnerManagedAccess: res.OwnerManagedAccess, DisplayName: res.DisplayName, Attributes: res.Attributes,
		ResourceScopes: []scopeRep{}, Owner: &ownerRep{ID: res.Owner}}
	if out.URIs == nil {
		out.URIs = []string{}
	}
	if out.Attributes == nil {
		out.Attributes = map[string][]string{}
	}
	if res.Owner == c.server.ID {
		out.Owner.Name = c.client.ClientID
	} else if u, err := h.Store.GetUser(ctx, c.realm.ID, res.Owner); err == nil {
		out.Owner.Name = u.Username
	}
	for _, id := range res.ScopeIDs {
		if s, ok := scopes[id]; ok {
			out.ResourceScopes = append(out.ResourceScopes, scopeRep{ID: s.ID, Name: s.Name, IconURI: s.IconURI, DisplayName: s.DisplayName})
		}
	}
	return out
}

// scopeMap is the server's scopes by id.
func (h *Handler) scopeMap(ctx context.Context, serverID string) (map[string]authz.Scope, error) {
	all, err := h.Store.ListScopes(ctx, serverID, store.ScopeFilter{})
	if err != nil {
		return nil, err
	}
	out := make(map[string]authz.Scope, len(all))
	for _, s := range all {
		out[s.ID] = s
	}
	return out, nil
}

// resolveScopes finds the scopes a representation names, by id or name,
// creating those that do not exist yet (a resource server registers its
// scopes with its resources). It runs inside the caller's transaction.
func resolveScopes(ctx context.Context, tx *store.DB, serverID string, reps []scopeRep) ([]string, error) {
	var ids []string
	for _, s := range reps {
		var found authz.Scope
		var err error
		if s.ID != "" {
			found, err = tx.GetScope(ctx, serverID, s.ID)
		} else {
			var list []authz.Scope
			list, err = tx.ListScopes(ctx, serverID, store.ScopeFilter{Name: s.Name, ExactName: true})
			if err == nil && len(list) == 0 {
				err = store.ErrNotFound
			} else if err == nil {
				found = list[0]
			}
		}
		if errors.Is(err, store.ErrNotFound) {
			if s.Name == "" {
				return nil, fail(http.StatusBadRequest, "invalid_request", "Scope ["+s.ID+"] is invalid")
			}
			found, err = tx.CreateScope(ctx, authz.Scope{ServerID: serverID, Name: s.Name, DisplayName: s.DisplayName, IconURI: s.IconURI})
		}
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ids, found.ID) {
			ids = append(ids, found.ID)
		}
	}
	return ids, nil
}

// ownerID resolves an owner as a resource names it: the resource server's
// id, a user's id or a username.
func (h *Handler) ownerID(ctx context.Context, c caller, owner string) (string, error) {
	if owner == "" || owner == c.server.ID {
		return c.server.ID, nil
	}
	u, err := h.Store.GetUser(ctx, c.realm.ID, owner)
	if errors.Is(err, store.ErrNotFound) {
		u, err = h.Store.GetUserByUsername(ctx, c.realm.ID, owner)
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", fail(http.StatusBadRequest, "invalid_request", authz.ErrOwner.Msg)
	}
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// createResource serves POST .../resource_set. The owner is the caller
// unless the representation names another.
func (h *Handler) createResource(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := h.authenticate(r, true)
	if err != nil {
		return err
	}
	if !c.server.AllowRemoteResourceManagement {
		return errRemote
	}
	var in resourceRep
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	owner := c.id
	if in.Owner != nil && in.Owner.ID != "" {
		owner = in.Owner.ID
	}
	if owner, err = h.ownerID(ctx, c, owner); err != nil {
		return err
	}
	res := authz.Resource{ServerID: c.server.ID, Name: in.Name, DisplayName: in.DisplayName,
		Type: strings.TrimSpace(in.Type), IconURI: in.IconURI, URIs: in.uris(), Owner: owner,
		OwnerManagedAccess: in.OwnerManagedAccess, Attributes: in.Attributes}
	if err := authz.ValidateResource(res); err != nil {
		return fail(http.StatusBadRequest, "invalid_request", err.Error())
	}
	var created authz.Resource
	err = h.Store.InTx(ctx, func(tx *store.DB) error {
		var err error
		if res.ScopeIDs, err = resolveScopes(ctx, tx, c.server.ID, in.scopes()); err != nil {
			return err
		}
		created, err = tx.CreateResource(ctx, res)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return fail(http.StatusConflict, "invalid_request", "Resource with name ["+in.Name+"] already exists.")
	}
	if err != nil {
		return err
	}
	scopes, err := h.scopeMap(ctx, c.server.ID)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, h.toRep(ctx, c, created, scopes))
}

// getResource serves GET .../resource_set/{id}.
func (h *Handler) getResource(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := h.authenticate(r, true)
	if err != nil {
		return err
	}
	res, err := h.Store.GetResource(ctx, c.server.ID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	scopes, err := h.scopeMap(ctx, c.server.ID)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, h.toRep(ctx, c, res, scopes))
}

// updateResource serves PUT .../resource_set/{id}: the representation
// replaces the resource's fields; its owner stays.
func (h *Handler) updateResource(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := h.authenticate(r, true)
	if err != nil {
		return err
	}
	var in resourceRep
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	id := r.PathValue("id")
	err = h.Store.InTx(ctx, func(tx *store.DB) error {
		scopeIDs, err := resolveScopes(ctx, tx, c.server.ID, in.scopes())
		if err != nil {
			return err
		}
		_, err = tx.UpdateResource(ctx, c.server.ID, id, func(res *authz.Resource) error {
			if in.Name != "" {
				res.Name = in.Name
			}
			res.DisplayName, res.Type, res.IconURI, res.URIs = in.DisplayName, in.Type, in.IconURI, in.uris()
			res.OwnerManagedAccess, res.ScopeIDs = in.OwnerManagedAccess, scopeIDs
			if in.Attributes != nil {
				res.Attributes = in.Attributes
			}
			return authz.ValidateResource(*res)
		})
		return err
	})
	var invalid *authz.Error
	switch {
	case errors.As(err, &invalid):
		return fail(http.StatusBadRequest, "invalid_request", invalid.Msg)
	case errors.Is(err, store.ErrNotFound):
		return errNotFound
	case errors.Is(err, store.ErrConflict):
		return fail(http.StatusConflict, "invalid_request", "Resource with name ["+in.Name+"] already exists.")
	case err != nil:
		return err
	}
	return noContent(w)
}

// deleteResource serves DELETE .../resource_set/{id}; its tickets go with it.
func (h *Handler) deleteResource(w http.ResponseWriter, r *http.Request) error {
	c, err := h.authenticate(r, true)
	if err != nil {
		return err
	}
	if !c.server.AllowRemoteResourceManagement {
		return errRemote
	}
	err = h.Store.InTx(r.Context(), func(tx *store.DB) error {
		return uma.DeleteResource(r.Context(), tx, c.server.ID, r.PathValue("id"))
	})
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	return noContent(w)
}

// findResources serves GET .../resource_set: the ids of the resources that
// match the query, or with deep=true the resources themselves.
func (h *Handler) findResources(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := h.authenticate(r, true)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.ResourceFilter{ID: q.Get("_id"), Name: q.Get("name"), Type: q.Get("type"), ExactName: q.Get("exactName") == "true"}
	if owner := strings.TrimSpace(q.Get("owner")); owner != "" {
		f.Owner = h.ownerFilter(ctx, c, owner)
	}
	scopes, err := h.scopeMap(ctx, c.server.ID)
	if err != nil {
		return err
	}
	if name := strings.TrimSpace(q.Get("scope")); name != "" {
		for _, s := range scopes {
			if strings.Contains(strings.ToLower(s.Name), strings.ToLower(name)) {
				f.ScopeIDs = append(f.ScopeIDs, s.ID)
			}
		}
		if len(f.ScopeIDs) == 0 {
			return web.WriteJSON(w, http.StatusOK, []string{})
		}
	}
	uri := strings.TrimSpace(q.Get("uri"))
	matching := q.Get("matchingUri") == "true"
	if uri != "" && !matching {
		f.URI = uri
	}
	all, err := h.Store.ListResources(ctx, c.server.ID, f)
	if err != nil {
		return err
	}
	if uri != "" && matching {
		all = slices.DeleteFunc(all, func(res authz.Resource) bool {
			return !slices.ContainsFunc(res.URIs, func(p string) bool { return authz.MatchURI(p, uri) })
		})
	}
	first, _ := strconv.Atoi(q.Get("first"))
	max := 100
	if v, err := strconv.Atoi(q.Get("max")); err == nil {
		max = v
	}
	all = page(all, first, max)
	if q.Get("deep") == "true" {
		out := make([]resourceRep, 0, len(all))
		for _, res := range all {
			out = append(out, h.toRep(ctx, c, res, scopes))
		}
		return web.WriteJSON(w, http.StatusOK, out)
	}
	ids := make([]string, 0, len(all))
	for _, res := range all {
		ids = append(ids, res.ID)
	}
	return web.WriteJSON(w, http.StatusOK, ids)
}

// ownerFilter resolves the owner query parameter: a clientId, a username,
// or an id as is.
func (h *Handler) ownerFilter(ctx context.Context, c caller, owner string) string {
	if cl, err := h.Store.GetClientByClientID(ctx, c.realm.ID, owner); err == nil {
		return cl.ID
	}
	if u, err := h.Store.GetUserByUsername(ctx, c.realm.ID, owner); err == nil {
		return u.ID
	}
	return owner
}

// page applies first and max (max < 0: all) to a list.
func page[T any](all []T, first, max int) []T {
	if first > 0 {
		if first >= len(all) {
			return all[:0]
		}
		all = all[first:]
	}
	if max >= 0 && max < len(all) {
		all = all[:max]
	}
	return all
}
