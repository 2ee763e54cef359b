package admin

import (
	"errors"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// permissionRoutes serves management/permissions of roles and groups (the
// clients' is in clienttools.go) and the components' sub-component types.
// Gatehouse has no fine-grained admin permissions: every resource answers
// as Keycloak does while they are off.
func (h *Handler) permissionRoutes(mux *http.ServeMux) {
	var r rolesAPI
	var g groupsAPI
	const byID = "/admin/realms/{realm}/roles-by-id/{roleID}/management/permissions"
	h.handle(mux, "GET "+byID, "", r.byID(false, func(rq *Request, _ role.Role) error { return permissionsOff(rq) }))
	h.handle(mux, "PUT "+byID, "", r.byID(true, func(rq *Request, _ role.Role) error { return setPermissionsOff(rq) }))
	for _, c := range []struct{ base, view, manage string }{
		{"/admin/realms/{realm}/roles/{roleName}", "view-realm", "manage-realm"},
		{"/admin/realms/{realm}/clients/{id}/roles/{roleName}", "view-clients", "manage-clients"},
	} {
		h.handle(mux, "GET "+c.base+"/management/permissions", c.view, r.byName(func(rq *Request, _ role.Role) error { return permissionsOff(rq) }))
		h.handle(mux, "PUT "+c.base+"/management/permissions", c.manage, r.byName(func(rq *Request, _ role.Role) error { return setPermissionsOff(rq) }))
	}
	const group = "/admin/realms/{realm}/groups/{id}/management/permissions"
	h.handle(mux, "GET "+group, "view-users", g.withGroup(func(rq *Request, _ role.Group) error { return permissionsOff(rq) }))
	h.handle(mux, "PUT "+group, "manage-users", g.withGroup(func(rq *Request, _ role.Group) error { return setPermissionsOff(rq) }))

	h.handle(mux, "GET /admin/realms/{realm}/components/{id}/sub-component-types", "view-realm", h.subComponentTypes)
}

// permissionReference is Keycloak's ManagementPermissionReference.
type permissionReference struct {
	Enabled bool `json:"enabled"`
}

// permissionsOff is the answer for a resource without fine-grained
// permissions.
func permissionsOff(rq *Request) error { return rq.JSON(permissionReference{}) }

// setPermissionsOff accepts turning fine-grained permissions off, which they
// are, and refuses turning them on rather than pretend they apply.
func setPermissionsOff(rq *Request) error {
	var ref permissionReference
	if err := rq.decode(&ref); err != nil {
		return err
	}
	if ref.Enabled {
		return badRequest("Fine-grained admin permissions are not supported")
	}
	return permissionsOff(rq)
}

// subComponentTypes lists the kinds of sub-component a component accepts:
// an LDAP provider's mapper types, with their fields and the defaults for
// that provider (ldap.MapperTypes). Key providers accept none.
func (h *Handler) subComponentTypes(rq *Request) error {
	c, err := h.Store.GetComponent(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("id"))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err == nil && c.ProviderType == ldap.ProviderType {
		switch rq.R.URL.Query().Get("type") {
		case "":
			return badRequest("must specify a subtype")
		case ldap.MapperProviderType:
			// A stored provider passed ldap.Parse; its defaults are what
			// matter here, so a config refused since is still shown.
			cfg, _ := ldap.Parse(c.Config)
			return rq.JSON(ldap.MapperTypes(cfg))
		}
		return rq.JSON([]any{})
	}
	if _, _, err := h.findKey(rq); errors.Is(err, errComponentNotFound) {
		return notFound("Could not find parent component")
	} else if err != nil {
		return err
	}
	if rq.R.URL.Query().Get("type") == "" {
		return badRequest("must specify a subtype")
	}
	return rq.JSON([]any{})
}
