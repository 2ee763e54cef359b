package account

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/uma"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The user's resources (user-managed access): the resources of any
// client's resource server the user owns, who they are shared with, the
// resources others shared with the user, and the requests for access
// waiting on either side. A share is a set of granted permission tickets,
// one per scope, of the resource's server; a request is a ticket not yet
// granted. Keycloak's account API serves them under /account/resources
// with its own representations (AbstractResourceService's Resource,
// ResourcePermission and Permission), which these types follow.

// resourceRep is a resource as the account API shows it: Keycloak's
// ResourceRepresentation with the client it belongs to and, as a
// ResourcePermission, the users it is shared with.
type resourceRep struct {
	ID                 string          `json:"_id"`
	Name               string          `json:"name"`
	DisplayName        string          `json:"displayName,omitempty"`
	URIs               []string        `json:"uris"`
	Scopes             []scopeRep      `json:"scopes"`
	IconURI            string          `json:"icon_uri,omitempty"`
	OwnerManagedAccess bool            `json:"ownerManagedAccess"`
	Client             resourceClient  `json:"client"`
	Permissions        []permissionRep `json:"permissions,omitempty"`
}

type scopeRep struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName,omitempty"`
	IconURI     string `json:"iconUri,omitempty"`
}

type resourceClient struct {
	ClientID string `json:"clientId"`
	Name     string `json:"name,omitempty"`
	BaseURL  string `json:"baseUrl,omitempty"`
}

// permissionRep is a user and the scopes of a resource they hold or ask
// for (Keycloak's Permission, a UserRepresentation with scopes).
type permissionRep struct {
	Username  string   `json:"username"`
	FirstName string   `json:"firstName,omitempty"`
	LastName  string   `json:"lastName,omitempty"`
	Email     string   `json:"email,omitempty"`
	Scopes    []string `json:"scopes"`
}

// Refusals of the resources API, Keycloak's error codes.
var (
	errResourceNotFound   = notFound("resource_not_found")
	errInvalidResource    = &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": "invalid_resource"}}
	errInvalidPermissions = &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": "invalid_permissions"}}
)

// ownedResource is a resource of the realm with its server's scopes and
// client, as the pages and the API show it.
type ownedResource struct {
	authz.Resource
	scopes map[string]authz.Scope // the server's scopes by id
	client resourceClient
}

// rep is the resource as the API shows it, with every scope it has.
func (o ownedResource) rep() resourceRep {
	r := resourceRep{ID: o.ID, Name: o.Name, DisplayName: o.DisplayName, URIs: o.URIs, IconURI: o.IconURI,
		OwnerManagedAccess: o.OwnerManagedAccess, Client: o.client, Scopes: []scopeRep{}}
	if r.URIs == nil {
		r.URIs = []string{}
	}
	for _, id := range o.ScopeIDs {
		r.Scopes = append(r.Scopes, o.scopeRep(id))
	}
	return r
}

func (o ownedResource) scopeRep(id string) scopeRep {
	s := o.scopes[id]
	return scopeRep{Name: s.Name, DisplayName: s.DisplayName, IconURI: s.IconURI}
}

// scopeNames are the names of scope ids of the resource's server, in the
// resource's order; "" (a ticket for the whole resource) stands for all of
// the resource's scopes.
func (o ownedResource) scopeNames(ids []string) []string {
	if slices.Contains(ids, "") {
		ids = o.ScopeIDs
	}
	out := []string{}
	for _, id := range o.ScopeIDs {
		if slices.Contains(ids, id) {
			out = append(out, o.scopes[id].Name)
		}
	}
	for _, id := range ids { // scopes granted that the resource has since lost
		if !slices.Contains(o.ScopeIDs, id) {
			if s, ok := o.scopes[id]; ok {
				out = append(out, s.Name)
			}
		}
	}
	return out
}

// resourceIndex reads the realm's resource servers: their resources, scopes
// and clients, loaded once per request.
type resourceIndex struct {
	h      *Handler
	ctx    context.Context
	rl     realm.Realm
	byID   map[string]ownedResource
	all    []ownedResource // by server, then name
	users  map[string]user.User
	loaded bool
}

func (h *Handler) resourceIndex(ctx context.Context, rl realm.Realm) *resourceIndex {
	return &resourceIndex{h: h, ctx: ctx, rl: rl, byID: map[string]ownedResource{}, users: map[string]user.User{}}
}

func (x *resourceIndex) load() error {
	if x.loaded {
		return nil
	}
	x.loaded = true
	ids, err := x.h.Store.ListResourceServers(x.ctx, x.rl.ID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		c, err := x.h.Store.GetClient(x.ctx, x.rl.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		rc := resourceClient{ClientID: c.ClientID, Name: c.Name, BaseURL: c.BaseURL}
		scopes, err := x.h.Store.ListScopes(x.ctx, id, store.ScopeFilter{})
		if err != nil {
			return err
		}
		byID := map[string]authz.Scope{}
		for _, s := range scopes {
			byID[s.ID] = s
		}
		rs, err := x.h.Store.ListResources(x.ctx, id, store.ResourceFilter{})
		if err != nil {
			return err
		}
		for _, r := range rs {
			o := ownedResource{Resource: r, scopes: byID, client: rc}
			x.byID[r.ID] = o
			x.all = append(x.all, o)
		}
	}
	return nil
}

// owned lists the user's own resources whose name contains name (any
// case).
func (x *resourceIndex) owned(userID, name string) ([]ownedResource, error) {
	if err := x.load(); err != nil {
		return nil, err
	}
	var out []ownedResource
	for _, o := range x.all {
		if o.Owner == userID && (name == "" || strings.Contains(strings.ToLower(o.Name), strings.ToLower(name))) {
			out = append(out, o)
		}
	}
	return out, nil
}

// get finds a resource of the realm.
func (x *resourceIndex) get(id string) (ownedResource, bool, error) {
	if err := x.load(); err != nil {
		return ownedResource{}, false, err
	}
	o, ok := x.byID[id]
	return o, ok, nil
}

// user loads a user of the realm by id, once.
func (x *resourceIndex) user(id string) (user.User, error) {
	if u, ok := x.users[id]; ok {
		return u, nil
	}
	u, err := x.h.Store.GetUser(x.ctx, x.rl.ID, id)
	if err != nil {
		return u, err
	}
	x.users[id] = u
	return u, nil
}

// permission is a user with the scope names of tickets.
func (x *resourceIndex) permission(userID string, scopes []string) (permissionRep, error) {
	u, err := x.user(userID)
	if err != nil {
		return permissionRep{}, err
	}
	return permissionRep{Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, Scopes: scopes}, nil
}

// byRequester groups tickets of one resource by requester, in the order
// the requesters first appear, as Permission representations.
func (x *resourceIndex) byRequester(o ownedResource, tickets []store.PermissionTicket) ([]permissionRep, error) {
	var order []string
	scopes := map[string][]string{}
	for _, t := range tickets {
		if _, seen := scopes[t.Requester]; !seen {
			order = append(order, t.Requester)
		}
		scopes[t.Requester] = append(scopes[t.Requester], t.ScopeID)
	}
	out := []permissionRep{}
	for _, id := range order {
		p, err := x.permission(id, o.scopeNames(scopes[id]))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// tickets lists the realm's tickets f selects.
func (x *resourceIndex) tickets(f store.TicketFilter) ([]store.PermissionTicket, error) {
	return x.h.Store.ListPermissionTickets(x.ctx, x.rl.ID, f)
}

// sharedWith lists the users a resource of the owner is shared with.
func (x *resourceIndex) sharedWith(o ownedResource, granted bool) ([]permissionRep, error) {
	ts, err := x.tickets(store.TicketFilter{ServerID: o.ServerID, ResourceID: o.ID, Owner: o.Owner, Granted: &granted})
	if err != nil {
		return nil, err
	}
	return x.byRequester(o, ts)
}

// sharedWithMe lists the resources shared with the user, each with the
// scopes granted; name filters by resource name.
func (x *resourceIndex) sharedWithMe(userID, name string) ([]resourceRep, error) {
	return x.requested(userID, name, true)
}

// requested lists the resources the user holds tickets for: granted ones
// (shared with the user), or pending ones, one entry a ticket, as
// Keycloak's pending-requests answers.
func (x *resourceIndex) requested(userID, name string, granted bool) ([]resourceRep, error) {
	if err := x.load(); err != nil {
		return nil, err
	}
	ts, err := x.tickets(store.TicketFilter{Requester: userID, Granted: &granted})
	if err != nil {
		return nil, err
	}
	out := []resourceRep{}
	index := map[string]int{}
	for _, t := range ts {
		o, ok := x.byID[t.ResourceID]
		if !ok || (name != "" && !strings.Contains(strings.ToLower(o.Name), strings.ToLower(name))) {
			continue
		}
		r := o.rep()
		r.Scopes = []scopeRep{}
		for _, n := range o.scopeNames([]string{t.ScopeID}) {
			r.Scopes = append(r.Scopes, scopeRep{Name: n})
		}
		if !granted {
			out = append(out, r)
			continue
		}
		if i, ok := index[o.ID]; ok {
			out[i].Scopes = append(out[i].Scopes, r.Scopes...)
			continue
		}
		index[o.ID] = len(out)
		out = append(out, r)
	}
	// Full scope representations of the resource's server.
	for i := range out {
		o := x.byID[out[i].ID]
		for j, s := range out[i].Scopes {
			for _, id := range o.ScopeIDs {
				if o.scopes[id].Name == s.Name {
					out[i].Scopes[j] = o.scopeRep(id)
				}
			}
		}
	}
	return out, nil
}

// setPermission makes the scopes (ids of the resource's server) of
// resource o granted to requester exactly scopeIDs: tickets for other
// scopes are revoked, pending ones among them granted, missing ones
// created granted. It is the one rule behind sharing, revoking, approving
// and denying, as Keycloak's PUT .../permissions applies it; granting and
// revoking go through package uma, which keeps the permission that makes
// a grant count in evaluation in step. It runs in one transaction (joining
// the caller's).
func setPermission(ctx context.Context, db *store.DB, rl realm.Realm, o ownedResource, requesterID string, scopeIDs []string, nowMS int64) error {
	return db.InTx(ctx, func(tx *store.DB) error {
		ts, err := tx.ListPermissionTickets(ctx, rl.ID, store.TicketFilter{ServerID: o.ServerID, ResourceID: o.ID, Requester: requesterID})
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, t := range ts {
			if !slices.Contains(scopeIDs, t.ScopeID) {
				if err := uma.Revoke(ctx, tx, t); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				continue
			}
			have[t.ScopeID] = true
			if !t.Granted() {
				if _, err := uma.Grant(ctx, tx, t, nowMS); err != nil {
					return err
				}
			}
		}
		for _, id := range scopeIDs {
			if have[id] {
				continue
			}
			have[id] = true
			t := store.PermissionTicket{ID: store.NewID(), RealmID: rl.ID, ServerID: o.ServerID, ResourceID: o.ID, ScopeID: id,
				Owner: o.Owner, Requester: requesterID, CreatedTimestamp: nowMS}
			if err := tx.CreatePermissionTicket(ctx, t); err != nil {
				return err
			}
			if _, err := uma.Grant(ctx, tx, t, nowMS); err != nil {
				return err
			}
		}
		return nil
	})
}

// scopeID resolves a scope of the resource's server by name or id.
func (o ownedResource) scopeID(nameOrID string) (string, bool) {
	if _, ok := o.scopes[nameOrID]; ok {
		return nameOrID, true
	}
	for id, s := range o.scopes {
		if s.Name == nameOrID {
			return id, true
		}
	}
	return "", false
}

// grantedScopeIDs are the scope ids the requester holds (granted) or asks
// for (pending) on resource o.
func (x *resourceIndex) scopeIDsOf(o ownedResource, requesterID string, granted bool) ([]string, error) {
	ts, err := x.tickets(store.TicketFilter{ServerID: o.ServerID, ResourceID: o.ID, Requester: requesterID, Granted: &granted})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range ts {
		out = append(out, t.ScopeID)
	}
	return out, nil
}

// --- the account API ---

func (h *Handler) nowMS() int64 { return h.Now().UnixMilli() }

// listResources serves GET /account/resources: the caller's resources.
func (h *Handler) listResources(w http.ResponseWriter, r *http.Request, c *caller) error {
	x := h.resourceIndex(r.Context(), c.realm)
	os, err := x.owned(c.user.ID, r.URL.Query().Get("name"))
	if err != nil {
		return err
	}
	out := make([]resourceRep, 0, len(os))
	for _, o := range os {
		out = append(out, o.rep())
	}
	return writePage(w, r, out)
}

// sharedWithMe serves GET /account/resources/shared-with-me.
func (h *Handler) sharedWithMe(w http.ResponseWriter, r *http.Request, c *caller) error {
	out, err := h.resourceIndex(r.Context(), c.realm).sharedWithMe(c.user.ID, r.URL.Query().Get("name"))
	if err != nil {
		return err
	}
	return writePage(w, r, out)
}

// sharedWithOthers serves GET /account/resources/shared-with-others: the
// caller's resources that someone holds, with who holds what.
func (h *Handler) sharedWithOthers(w http.ResponseWriter, r *http.Request, c *caller) error {
	x := h.resourceIndex(r.Context(), c.realm)
	os, err := x.owned(c.user.ID, "")
	if err != nil {
		return err
	}
	out := []resourceRep{}
	for _, o := range os {
		ps, err := x.sharedWith(o, true)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			continue
		}
		rep := o.rep()
		rep.Permissions = ps
		out = append(out, rep)
	}
	return writePage(w, r, out)
}

// pendingRequests serves GET /account/resources/pending-requests: the
// caller's own requests for others' resources, not yet granted.
func (h *Handler) pendingRequests(w http.ResponseWriter, r *http.Request, c *caller) error {
	out, err := h.resourceIndex(r.Context(), c.realm).requested(c.user.ID, "", false)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// callerResource finds the resource in the path, which the caller must
// own.
func (h *Handler) callerResource(r *http.Request, c *caller) (*resourceIndex, ownedResource, error) {
	x := h.resourceIndex(r.Context(), c.realm)
	o, ok, err := x.get(r.PathValue("id"))
	switch {
	case err != nil:
		return nil, o, err
	case !ok:
		return nil, o, errResourceNotFound
	case o.Owner != c.user.ID:
		return nil, o, errInvalidResource
	}
	return x, o, nil
}

// getResource serves GET /account/resources/{id}.
func (h *Handler) getResource(w http.ResponseWriter, r *http.Request, c *caller) error {
	_, o, err := h.callerResource(r, c)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, o.rep())
}

// resourcePermissions serves GET /account/resources/{id}/permissions: who
// the resource is shared with.
func (h *Handler) resourcePermissions(w http.ResponseWriter, r *http.Request, c *caller) error {
	x, o, err := h.callerResource(r, c)
	if err != nil {
		return err
	}
	ps, err := x.sharedWith(o, true)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, ps)
}

// permissionRequests serves GET /account/resources/{id}/permissions/requests:
// the requests for the resource waiting for the caller's approval.
func (h *Handler) permissionRequests(w http.ResponseWriter, r *http.Request, c *caller) error {
	x, o, err := h.callerResource(r, c)
	if err != nil {
		return err
	}
	ps, err := x.sharedWith(o, false)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, ps)
}

// updatePermissions serves PUT /account/resources/{id}/permissions: each
// entry names a user (username or id) and the scopes (names or ids) they
// hold from then on; an empty list revokes the resource from them. Every
// entry is checked before anything changes.
func (h *Handler) updatePermissions(w http.ResponseWriter, r *http.Request, c *caller) error {
	_, o, err := h.callerResource(r, c)
	if err != nil {
		return err
	}
	var ps []permissionRep
	if err := json.NewDecoder(io.LimitReader(r.Body, maxJSONBytes)).Decode(&ps); err != nil {
		return errBadJSON
	}
	if len(ps) == 0 {
		return errInvalidPermissions
	}
	type change struct {
		userID string
		scopes []string
	}
	var changes []change
	for _, p := range ps {
		u, err := h.userByNameOrID(r.Context(), c.realm, p.Username)
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.ID == c.user.ID) {
			return errInvalidPermissions
		}
		if err != nil {
			return err
		}
		ch := change{userID: u.ID, scopes: []string{}}
		for _, s := range p.Scopes {
			id, ok := o.scopeID(s)
			if !ok {
				return errInvalidPermissions
			}
			ch.scopes = append(ch.scopes, id)
		}
		changes = append(changes, ch)
	}
	err = h.Store.InTx(r.Context(), func(tx *store.DB) error {
		for _, ch := range changes {
			if err := setPermission(r.Context(), tx, c.realm, o, ch.userID, ch.scopes, h.nowMS()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	h.Log.InfoContext(r.Context(), "account: resource permissions updated", "realm", c.realm.Name, "user", c.user.ID, "resource", o.ID)
	return noContent(w)
}

// userByNameOrID finds a user of the realm by username, or else by id.
func (h *Handler) userByNameOrID(ctx context.Context, rl realm.Realm, s string) (user.User, error) {
	if s == "" {
		return user.User{}, store.ErrNotFound
	}
	u, err := h.Store.GetUserByUsername(ctx, rl.ID, s)
	if errors.Is(err, store.ErrNotFound) {
		u, err = h.Store.GetUser(ctx, rl.ID, s)
	}
	if err == nil && u.ServiceAccountClientID != "" {
		return user.User{}, store.ErrNotFound
	}
	return u, err
}

// writePage answers a list with Keycloak's first/max paging.
func writePage[T any](w http.ResponseWriter, r *http.Request, xs []T) error {
	q := r.URL.Query()
	return web.WriteJSON(w, http.StatusOK, page(xs, q.Get("first"), q.Get("max")))
}
