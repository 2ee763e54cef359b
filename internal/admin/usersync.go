package admin

import (
	"errors"

	"github.com/gatehouse-iam/gatehouse/internal/federation"
	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/usersync"
)

// userSyncRoutes serves the sync of a provider's users, run by usersync
// under the provider's lease, and the sync of a group or role mapper's
// groups or roles.
func (h *Handler) userSyncRoutes(mux Mux) {
	const base = "/admin/realms/{realm}/user-storage"
	h.handle(mux, "POST "+base+"/{id}/sync", "manage-users", h.syncUsers)
	h.handle(mux, "POST "+base+"/{parentId}/mappers/{id}/sync", "manage-users", h.syncMapper)
}

// syncer is this node's Syncer; requests and the periodic loop share the
// node name, so a request finds the lease the loop holds as held.
func (h *Handler) syncer() *usersync.Syncer {
	return &usersync.Syncer{DB: h.Store, Log: h.Log, Now: h.Now, Node: usersync.ThisNode}
}

func (h *Handler) syncUsers(rq *Request) error {
	c, err := h.userStorage(rq, rq.R.PathValue("id"))
	if err != nil {
		return err
	}
	var full bool
	switch action := rq.R.URL.Query().Get("action"); action {
	case "triggerFullSync":
		full = true
	case "triggerChangedUsersSync":
	case "":
		return errBadParam("Missing action")
	default:
		return errBadParam("Unknown action: " + action)
	}
	// The sync outlives neither the request nor the caller's view of the
	// configuration: it reads what is stored now.
	res, err := h.syncer().Sync(store.WithoutConfigView(rq.R.Context()), rq.Realm, c.ID, full)
	if err != nil {
		return h.syncFailure(rq, err)
	}
	return rq.JSON(res)
}

// syncFailure answers a sync that could not run with Keycloak's 400 and
// the failure's code; a provider whose settings no longer parse answers
// its message.
func (h *Handler) syncFailure(rq *Request, err error) error {
	if errors.Is(err, usersync.ErrDirection) {
		return badRequest(err.Error())
	}
	var ce *ldap.ConfigError
	if errors.As(err, &ce) {
		return badRequest(ce.Msg)
	}
	var unavailable *federation.UnavailableError
	if errors.As(err, &unavailable) || errors.Is(err, ldap.ErrUnreachable) || errors.Is(err, ldap.ErrInvalidCredentials) ||
		errors.Is(err, ldap.ErrNotFound) {
		return h.ldapFailure(rq, "sync", err)
	}
	return err
}

func (h *Handler) syncMapper(rq *Request) error {
	ctx := rq.R.Context()
	parent, err := h.Store.GetComponent(ctx, rq.Realm.ID, rq.R.PathValue("parentId"))
	if errors.Is(err, store.ErrNotFound) || err == nil && parent.ProviderType != ldap.ProviderType {
		return notFound("Parent model not found")
	}
	if err != nil {
		return err
	}
	m, err := h.Store.GetComponent(ctx, rq.Realm.ID, rq.R.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || err == nil && m.ParentID != parent.ID {
		return notFound("Mapper model not found")
	}
	if err != nil {
		return err
	}
	direction := rq.R.URL.Query().Get("direction")
	if direction != "fedToKeycloak" && direction != "keycloakToFed" {
		return errBadParam("Unknown direction: " + direction)
	}
	res, err := h.syncer().SyncMapper(store.WithoutConfigView(ctx), rq.Realm, parent, m, direction == "fedToKeycloak")
	if err != nil {
		return h.syncFailure(rq, err)
	}
	return rq.JSON(res)
}
