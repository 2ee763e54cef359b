package admin

import (
	"errors"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// permissionRoutes serves the switches of fine-grained admin permissions
// (package adminperm): users and groups here, and, in their own block
// below, roles (the clients' are in clienttools.go, the identity
// providers' in identityproviders.go); and the components' sub-component
// types.
func (h *Handler) permissionRoutes(mux Mux) {
	// Users as a whole: reading the switch needs view-realm, turning it
	// needs manage-realm, as in Keycloak.
	const users = "/admin/realms/{realm}/users-management-permissions"
	h.handle(mux, "GET "+users, "view-realm", h.usersPermissions)
	h.handle(mux, "PUT "+users, "manage-realm", h.usersPermissions)

	// One group: viewing the group reads it, managing the group turns it.
	var g groupsAPI
	const group = "/admin/realms/{realm}/groups/{id}/management/permissions"
	h.handle(mux, "GET "+group, "view-users@group.view", g.withGroup(groupPermissions))
	h.handle(mux, "PUT "+group, "manage-users@group.manage", g.withGroup(groupPermissions))

	h.rolePermissionRoutes(mux)

	h.handle(mux, "GET /admin/realms/{realm}/components/{id}/sub-component-types", "view-realm", h.subComponentTypes)
}

// usersPermissions answers GET and PUT users-management-permissions.
func (h *Handler) usersPermissions(rq *Request) error {
	return managementPermissions(rq, adminperm.Users, "")
}

func groupPermissions(rq *Request, g role.Group) error {
	return managementPermissions(rq, adminperm.Group, g.ID)
}

// managementPermissions answers GET (the object's ManagementPermissionReference)
// and PUT (turn on or off, by the body's "enabled", then the reference) of
// one object's permissions.
func managementPermissions(rq *Request, kind, objectID string) error {
	ctx := rq.R.Context()
	if rq.R.Method != http.MethodPut {
		ref, err := adminperm.Get(ctx, rq.h.Store, rq.Realm.ID, kind, objectID)
		if err != nil {
			return err
		}
		return rq.JSON(ref)
	}
	var in adminperm.Reference
	if err := rq.decode(&in); err != nil {
		return err
	}
	ref, err := adminperm.Set(ctx, rq.h.Store, rq.Realm.ID, kind, objectID, in.Enabled)
	if err != nil {
		return err
	}
	return rq.JSON(ref)
}

// rolePermissionRoutes serves management/permissions of roles, by id and
// by name, realm and client roles alike, with the permissions Keycloak
// asks: reading needs the right to view the role (view-realm, or to view
// its client), switching the right to manage it (manage-realm; for a
// client role, to configure its client), by the rules role.view and
// role.manage on both paths.
func (h *Handler) rolePermissionRoutes(mux Mux) {
	var r rolesAPI
	const byID = "/admin/realms/{realm}/roles-by-id/{roleID}/management/permissions"
	h.handle(mux, "GET "+byID, "@role.view", r.one(rolePermissions))
	h.handle(mux, "PUT "+byID, "@role.manage", r.one(rolePermissions))
	for _, c := range []struct{ base, view, manage string }{
		{"/admin/realms/{realm}/roles/{roleName}", "view-realm", "manage-realm"},
		{"/admin/realms/{realm}/clients/{id}/roles/{roleName}", roleView, roleManage},
	} {
		h.handle(mux, "GET "+c.base+"/management/permissions", c.view, r.one(rolePermissions))
		h.handle(mux, "PUT "+c.base+"/management/permissions", c.manage, r.one(rolePermissions))
	}
}

func rolePermissions(rq *Request, r role.Role) error {
	return managementPermissions(rq, adminperm.Role, r.ID)
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
