package protection

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/uma"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Permission tickets of user-managed access: a resource owner grants a
// requester scopes of a resource (or approves what the requester asked for
// at the token endpoint with submit_request), sees and withdraws grants.

// ticketRep is Keycloak's permission ticket representation.
type ticketRep struct {
	ID            string `json:"id,omitempty"`
	Owner         string `json:"owner,omitempty"`
	Resource      string `json:"resource,omitempty"`
	Scope         string `json:"scope,omitempty"`
	Granted       bool   `json:"granted"`
	ScopeName     string `json:"scopeName,omitempty"`
	ResourceName  string `json:"resourceName,omitempty"`
	Requester     string `json:"requester,omitempty"`
	OwnerName     string `json:"ownerName,omitempty"`
	RequesterName string `json:"requesterName,omitempty"`
}

func errTicket(status int, code, desc string) error { return fail(status, code, desc) }

var errInvalidTicket = fail(http.StatusBadRequest, "invalid_request", "invalid_ticket")

// ticketRepOf writes a ticket, with the names of its resource, scope and
// users when names is set.
func (h *Handler) ticketRepOf(ctx context.Context, c caller, t store.PermissionTicket, names bool) ticketRep {
	out := ticketRep{ID: t.ID, Owner: t.Owner, Resource: t.ResourceID, Scope: t.ScopeID, Granted: t.Granted(), Requester: t.Requester}
	if !names {
		return out
	}
	if r, err := h.Store.GetResource(ctx, c.server.ID, t.ResourceID); err == nil {
		out.ResourceName = r.Name
	}
	if t.ScopeID != "" {
		if s, err := h.Store.GetScope(ctx, c.server.ID, t.ScopeID); err == nil {
			out.ScopeName = s.Name
		}
	}
	if u, err := h.Store.GetUser(ctx, c.realm.ID, t.Owner); err == nil {
		out.OwnerName = u.Username
	}
	if u, err := h.Store.GetUser(ctx, c.realm.ID, t.Requester); err == nil {
		out.RequesterName = u.Username
	}
	return out
}

// createTicket serves POST .../permission/ticket: the resource's owner
// grants (or records) a requester's access to one scope.
func (h *Handler) createTicket(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := h.authenticate(r, false)
	if err != nil {
		return err
	}
	var in ticketRep
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	switch {
	case in.ID != "":
		return errTicket(http.StatusBadRequest, "invalid_permission", "created permissions should not have id")
	case in.Resource == "":
		return errTicket(http.StatusBadRequest, "invalid_permission", "created permissions should have resource")
	case in.Scope == "" && in.ScopeName == "":
		return errTicket(http.StatusBadRequest, "invalid_permission", "created permissions should have scope or scopeName")
	case in.Requester == "" && in.RequesterName == "":
		return errTicket(http.StatusBadRequest, "invalid_permission", "created permissions should have requester or requesterName")
	}
	res, err := h.Store.GetResource(ctx, c.server.ID, in.Resource)
	if errors.Is(err, store.ErrNotFound) {
		return errTicket(http.StatusBadRequest, "invalid_resource_id", "Resource set with id ["+in.Resource+"] does not exists in this server.")
	}
	if err != nil {
		return err
	}
	if res.Owner != c.id {
		return errTicket(http.StatusForbidden, "not_authorised", "permissions for ["+in.Resource+"] can be only created by the owner")
	}
	requester, err := h.Store.GetUser(ctx, c.realm.ID, in.Requester)
	if in.Requester == "" {
		requester, err = h.Store.GetUserByUsername(ctx, c.realm.ID, in.RequesterName)
	}
	if errors.Is(err, store.ErrNotFound) {
		return errTicket(http.StatusBadRequest, "invalid_permission", "Requester does not exists in this server as user.")
	}
	if err != nil {
		return err
	}
	var scope authz.Scope
	if in.ScopeName != "" {
		var list []authz.Scope
		list, err = h.Store.ListScopes(ctx, c.server.ID, store.ScopeFilter{Name: in.ScopeName, ExactName: true})
		if err == nil && len(list) > 0 {
			scope = list[0]
		}
	} else {
		scope, err = h.Store.GetScope(ctx, c.server.ID, in.Scope)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if scope.ID == "" {
		name := in.Scope
		if in.ScopeName != "" {
			name = in.ScopeName
		}
		return errTicket(http.StatusBadRequest, "invalid_scope", "Scope ["+name+"] is invalid")
	}
	if !slices.Contains(res.ScopeIDs, scope.ID) {
		return errTicket(http.StatusBadRequest, "invalid_resource_id", "Resource set with id ["+in.Resource+"] does not have Scope ["+scope.Name+"]")
	}
	t := store.PermissionTicket{ID: store.NewID(), RealmID: c.realm.ID, ServerID: c.server.ID, ResourceID: res.ID, ScopeID: scope.ID,
		Owner: res.Owner, Requester: requester.ID, CreatedTimestamp: h.Now().UnixMilli()}
	err = h.Store.InTx(ctx, func(tx *store.DB) error {
		if err := tx.CreatePermissionTicket(ctx, t); err != nil {
			return err
		}
		if in.Granted {
			t, err = uma.Grant(ctx, tx, t, h.Now().UnixMilli())
		}
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return errTicket(http.StatusBadRequest, "invalid_permission", "Permission already exists")
	}
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, h.ticketRepOf(ctx, c, t, false))
}

// updateTicket serves PUT .../permission/ticket: granted true grants the
// ticket, false withdraws it (the ticket is deleted).
func (h *Handler) updateTicket(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := h.authenticate(r, false)
	if err != nil {
		return err
	}
	var in ticketRep
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.ID == "" {
		return errInvalidTicket
	}
	err = h.Store.InTx(ctx, func(tx *store.DB) error {
		t, err := tx.GetPermissionTicket(ctx, c.server.ID, in.ID)
		if errors.Is(err, store.ErrNotFound) {
			return errInvalidTicket
		}
		if err != nil {
			return err
		}
		if t.Owner != c.id && !c.isServer {
			return errTicket(http.StatusForbidden, "not_authorised", "permissions for ["+in.Resource+"] can be updated only by the owner or by the resource server")
		}
		if !in.Granted {
			return uma.Revoke(ctx, tx, t)
		}
		_, err = uma.Grant(ctx, tx, t, h.Now().UnixMilli())
		return err
	})
	if err != nil {
		return err
	}
	return noContent(w)
}

// deleteTicket serves DELETE .../permission/ticket/{id}: the owner, the
// requester or the resource server may withdraw it.
func (h *Handler) deleteTicket(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := h.authenticate(r, false)
	if err != nil {
		return err
	}
	err = h.Store.InTx(ctx, func(tx *store.DB) error {
		t, err := tx.GetPermissionTicket(ctx, c.server.ID, r.PathValue("id"))
		if errors.Is(err, store.ErrNotFound) {
			return errInvalidTicket
		}
		if err != nil {
			return err
		}
		if t.Owner != c.id && !c.isServer && t.Requester != c.id {
			return errTicket(http.StatusForbidden, "not_authorised", "permissions for ["+t.ResourceID+"] can be deleted only by the owner, the requester, or the resource server")
		}
		return uma.Revoke(ctx, tx, t)
	})
	if err != nil {
		return err
	}
	return noContent(w)
}

// findTickets serves GET .../permission/ticket with Keycloak's filters.
func (h *Handler) findTickets(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := h.authenticate(r, false)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.TicketFilter{ServerID: c.server.ID, ResourceID: q.Get("resourceId"), Max: 100}
	if s := q.Get("scopeId"); s != "" {
		f.ScopeID = s
		if _, err := h.Store.GetScope(ctx, c.server.ID, s); errors.Is(err, store.ErrNotFound) {
			if list, err := h.Store.ListScopes(ctx, c.server.ID, store.ScopeFilter{Name: s, ExactName: true}); err == nil && len(list) > 0 {
				f.ScopeID = list[0].ID
			}
		}
	}
	if v := q.Get("owner"); v != "" {
		f.Owner = h.userID(ctx, c, v)
	}
	if v := q.Get("requester"); v != "" {
		f.Requester = h.userID(ctx, c, v)
	}
	if v := q.Get("granted"); v != "" {
		g := v == "true"
		f.Granted = &g
	}
	// A user sees the tickets of their own resources and their own
	// requests, never other users' (the resource server sees all).
	if !c.isServer && f.Owner != c.id && f.Requester != c.id {
		if f.Owner != "" || f.Requester != "" {
			return web.WriteJSON(w, http.StatusOK, []ticketRep{})
		}
		f.Owner = c.id
	}
	if v, err := strconv.Atoi(q.Get("first")); err == nil {
		f.First = v
	}
	if v, err := strconv.Atoi(q.Get("max")); err == nil {
		f.Max = v
	}
	list, err := h.Store.ListPermissionTickets(ctx, c.realm.ID, f)
	if err != nil {
		return err
	}
	names := q.Get("returnNames") == "true"
	out := make([]ticketRep, 0, len(list))
	for _, t := range list {
		out = append(out, h.ticketRepOf(ctx, c, t, names))
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// userID resolves a user given by id or username; anything else is kept
// as is (and matches nothing).
func (h *Handler) userID(ctx context.Context, c caller, v string) string {
	if u, err := h.Store.GetUser(ctx, c.realm.ID, v); err == nil {
		return u.ID
	}
	if u, err := h.Store.GetUserByUsername(ctx, c.realm.ID, v); err == nil {
		return u.ID
	}
	return v
}
