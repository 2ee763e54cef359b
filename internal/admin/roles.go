package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// rolesAPI holds Keycloak's RoleContainerResource (realm roles under
// /roles, a client's under /clients/{id}/roles) and RoleByIdResource
// (/roles-by-id). Realm roles need view-realm or manage-realm, client roles
// view-clients or manage-clients, or the client's fine-grained permissions
// (view; configure under the client's path and manage by id, as Keycloak
// asks); any administrator may list roles, as in Keycloak, so that role
// pickers work for every admin.
//
// Two rules keep roles from becoming a path to admin rights (SECURITY.md
// M3, M4; CVE-2026-9796): a role may become a child of another, or stop
// being one, only when the caller could grant it and everything it implies
// directly (requireConfer, escalation.go, which every path that changes who
// holds a role goes through); and an admin role itself (a role of
// realm-management, of master's "<realm>-realm" clients, or master's admin
// and create-realm) is renamed, deleted or recomposed only by a whole-realm
// administrator, because admin rights are looked up by those names.
type rolesAPI struct{}

// roleOp is an endpoint on one role, already loaded.
type roleOp func(rq *Request, r role.Role) error

func (h *Handler) roleRoutes(mux Mux) {
	var a rolesAPI
	// One role, by name (realm roles need view-realm and manage-realm;
	// client roles go through the rules role.view and role.manage) or by
	// id (where the container, and so the role, is known once the role is
	// loaded: the rules decide for everyone).
	for _, c := range []struct{ base, view, manage, create string }{
		{"/admin/realms/{realm}/roles", "view-realm", "manage-realm", "manage-realm"},
		{"/admin/realms/{realm}/clients/{id}/roles", roleView, roleManage, clientConfigure},
		{"/admin/realms/{realm}/roles-by-id", "@role.view", "@role.manage", ""},
	} {
		one, load := c.base+"/{roleName}", a.one
		if c.create == "" {
			one = c.base + "/{roleID}"
		} else {
			h.handle(mux, "GET "+c.base, "", a.list)
			h.handle(mux, "POST "+c.base, c.create, a.create)
			h.handle(mux, "GET "+one+"/users", c.view, load(a.users))
			h.handle(mux, "GET "+one+"/groups", c.view, load(a.groups))
		}
		h.handle(mux, "GET "+one, c.view, load(a.get))
		h.handle(mux, "PUT "+one, c.manage, load(a.update))
		h.handle(mux, "DELETE "+one, c.manage, load(a.delete))
		h.handle(mux, "GET "+one+"/composites", c.view, load(a.composites))
		h.handle(mux, "POST "+one+"/composites", c.manage, load(a.addComposites))
		h.handle(mux, "DELETE "+one+"/composites", c.manage, load(a.removeComposites))
		h.handle(mux, "GET "+one+"/composites/realm", c.view, load(a.realmComposites))
		h.handle(mux, "GET "+one+"/composites/clients/{clientUuid}", c.view, load(a.clientComposites))
	}
}

// The rules of a client role under its client's path; by id, the role's
// rules alone.
const (
	roleView   = "view-clients@role.view"
	roleManage = "manage-clients@role.manage"
)

func (rolesAPI) notFound() error { return notFound("Could not find role") }

// perms returns the view and manage permissions for roles of a container
// (clientID empty for realm roles).
func (rolesAPI) perms(clientID string) (view, manage string) {
	if clientID == "" {
		return "view-realm", "manage-realm"
	}
	return "view-clients", "manage-clients"
}

// container returns the internal id of the client in the path, or "" for
// realm roles; an unknown client is 404.
func (rolesAPI) container(rq *Request) (string, error) {
	id := rq.R.PathValue("id")
	if id == "" {
		return "", nil
	}
	c, err := rq.h.Store.GetClient(rq.R.Context(), rq.Realm.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", clientsAPI{}.notFound()
	}
	return c.ID, err
}

// one runs op on the role the path names (pathRole).
func (rolesAPI) one(op roleOp) endpoint {
	return func(rq *Request) error {
		r, err := pathRole(rq)
		if err != nil {
			return err
		}
		return op(rq, r)
	}
}

// pathRole loads the role the path names, by id or by name, for the rules
// role.view and role.manage. A caller holding no admin role of the realm,
// or, under a client, no right to list clients, learns nothing of ids.
func pathRole(rq *Request) (role.Role, error) {
	ctx := rq.R.Context()
	if id := rq.R.PathValue("roleID"); id != "" {
		r, err := rq.h.Store.GetRole(ctx, rq.Realm.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			if len(rq.perms) == 0 {
				return r, errForbidden
			}
			return r, notFound("Could not find role with id")
		}
		return r, err
	}
	if rq.R.PathValue("id") == "" {
		r, err := rq.h.Store.GetRealmRole(ctx, rq.Realm.ID, rq.R.PathValue("roleName"))
		if errors.Is(err, store.ErrNotFound) {
			return r, rolesAPI{}.notFound()
		}
		return r, err
	}
	c, err := pathObject(rq, "id", "query-clients", clientsAPI{}.notFound(), rq.h.Store.GetClient)
	if err != nil {
		return role.Role{}, err
	}
	r, err := rq.h.Store.GetClientRole(ctx, rq.Realm.ID, c.ID, rq.R.PathValue("roleName"))
	if errors.Is(err, store.ErrNotFound) {
		return r, errorIfMissing(rq, "query-clients", rolesAPI{}.notFound())
	}
	return r, err
}

// roleRule runs the rule on the path's role: a realm role answers to the
// realm roles (realm), a client role to its client's rule (client).
func roleRule(realm string, client func(rq *Request, c client.Client) (bool, error)) objectRule {
	return func(rq *Request) (bool, error) {
		r, err := pathRole(rq)
		if err != nil {
			return false, err
		}
		if r.ClientID == "" {
			return rq.Can(realm), nil
		}
		c, err := rq.h.Store.GetClient(rq.R.Context(), rq.Realm.ID, r.ClientID)
		if err != nil {
			return false, err
		}
		return client(rq, c)
	}
}

// roleGrant reads in the caller's permissions whether roleScope is granted
// on r, or, for a client role, clientScope on its client (map-role and
// map-roles, map-role-composite and map-roles-composite, ...).
func roleGrant(c *adminperm.Checker, r role.Role, roleScope, clientScope string) bool {
	return c.Role(r.ID, roleScope) || r.ClientID != "" && c.Client(r.ClientID, clientScope)
}

// rep is the role as Keycloak shows it: full with its attributes ({} when
// none), brief without.
func (rolesAPI) rep(r role.Role, graph map[string][]string, full bool) rep.Role {
	x := rep.RoleFromDomain(r, len(graph[r.ID]) > 0)
	switch {
	case !full:
		x.Attributes = nil
	case x.Attributes == nil:
		x.Attributes = map[string][]string{}
	}
	return x
}

func (a rolesAPI) reps(rq *Request, rs []role.Role, full bool) error {
	graph, err := rq.h.Store.CompositeGraph(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return err
	}
	out := make([]rep.Role, 0, len(rs))
	for _, r := range rs {
		out = append(out, a.rep(r, graph, full))
	}
	return rq.JSON(out)
}

// guardAdminRole refuses changes to an admin role by anyone but a
// whole-realm administrator.
func (rolesAPI) guardAdminRole(rq *Request, r role.Role) error {
	admin, err := rq.h.isAdminRole(rq.R.Context(), r)
	if err != nil {
		return err
	}
	if admin && !wholeRealmAdmin(rq) {
		return errForbidden
	}
	return nil
}

// list is GET .../roles: search (name or description, ignoring case),
// first and max, briefRepresentation (default true).
func (a rolesAPI) list(rq *Request) error {
	clientID, err := a.container(rq)
	if err != nil {
		return err
	}
	first, max, err := pageIfAsked(rq)
	if err != nil {
		return err
	}
	ctx, db := rq.R.Context(), rq.h.Store
	search := strings.TrimSpace(rq.R.URL.Query().Get("search"))
	var rs []role.Role
	switch {
	case search != "" || max >= 0:
		rs, err = db.SearchRoles(ctx, rq.Realm.ID, clientID, search, first, max)
	case clientID == "":
		rs, err = db.ListRealmRoles(ctx, rq.Realm.ID)
	default:
		rs, err = db.ListClientRoles(ctx, rq.Realm.ID, clientID)
	}
	if err != nil {
		return err
	}
	return a.reps(rq, rs, !rq.Bool("briefRepresentation", true))
}

func (rolesAPI) location(rq *Request, r role.Role) string {
	if r.ClientID == "" {
		return rq.URL("/roles/" + url.PathEscape(r.Name))
	}
	return rq.URL("/clients/" + r.ClientID + "/roles/" + url.PathEscape(r.Name))
}

// create is POST .../roles. Composites named in the body (realm role names,
// client role names by clientId) are added as by POST .../composites.
func (a rolesAPI) create(rq *Request) error {
	clientID, err := a.container(rq)
	if err != nil {
		return err
	}
	var x rep.Role
	if err := rq.decode(&x); err != nil {
		return err
	}
	if strings.TrimSpace(x.Name) == "" {
		return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": "role has no name"}}
	}
	ctx, db := rq.R.Context(), rq.h.Store
	r := x.ToDomain(rq.Realm.ID, clientID)
	r.ID = store.NewID()
	if r.Attributes == nil {
		r.Attributes = map[string][]string{}
	}
	if err := a.guardAdminRole(rq, r); err != nil {
		return err
	}
	var children []role.Role
	if x.Composite && x.Composites != nil {
		for _, name := range x.Composites.Realm {
			c, err := db.GetRealmRole(ctx, rq.Realm.ID, name)
			if errors.Is(err, store.ErrNotFound) {
				return errorMessage(http.StatusNotFound, "Realm Role with name "+name+" does not exist")
			}
			if err != nil {
				return err
			}
			children = append(children, c)
		}
		for cid, names := range x.Composites.Client {
			cl, err := db.GetClientByClientID(ctx, rq.Realm.ID, cid)
			if errors.Is(err, store.ErrNotFound) {
				continue // Keycloak skips clients it does not know
			}
			if err != nil {
				return err
			}
			for _, name := range names {
				c, err := db.GetClientRole(ctx, rq.Realm.ID, cl.ID, name)
				if errors.Is(err, store.ErrNotFound) {
					return errorMessage(http.StatusNotFound, "Client Role with name "+name+" does not exist")
				}
				if err != nil {
					return err
				}
				children = append(children, c)
			}
		}
		if err := a.requireComposable(rq, children); err != nil {
			return err
		}
	}
	err = db.InTx(ctx, func(tx *store.DB) error {
		if err := tx.CreateRole(ctx, r); err != nil {
			return err
		}
		return tx.AddComposites(ctx, r.ID, idsOfRoles(children)...)
	})
	if errors.Is(err, store.ErrConflict) {
		return conflict("Role with name %s already exists", r.Name)
	}
	if err != nil {
		return err
	}
	return rq.Created(a.location(rq, r))
}

func (a rolesAPI) get(rq *Request, r role.Role) error {
	kids, err := rq.h.Store.ListComposites(rq.R.Context(), r.ID)
	if err != nil {
		return err
	}
	return rq.JSON(a.rep(r, map[string][]string{r.ID: idsOfRoles(kids)}, true))
}

// update is PUT on a role: name when given, description, and attributes
// when given (replacing the old ones), as Keycloak's updateRole.
func (a rolesAPI) update(rq *Request, r role.Role) error {
	var x rep.Role
	if err := rq.decode(&x); err != nil {
		return err
	}
	if err := a.guardAdminRole(rq, r); err != nil {
		return err
	}
	err := rq.h.Store.UpdateRole(rq.R.Context(), rq.Realm.ID, r.ID, func(ro *role.Role) error {
		if x.Name != "" {
			ro.Name = x.Name
		}
		ro.Description = x.Description
		if x.Attributes != nil {
			ro.Attributes = x.ToDomain(ro.RealmID, ro.ClientID).Attributes
		}
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return conflict("Role with name %s already exists", x.Name)
	}
	if errors.Is(err, store.ErrNotFound) {
		return a.notFound()
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// delete is DELETE on a role. The realm's default role cannot go: every new
// user is given it.
func (a rolesAPI) delete(rq *Request, r role.Role) error {
	if r.ID == rq.Realm.DefaultRoleID {
		return badRequest(r.Name + " is default role of the realm and cannot be removed.")
	}
	if err := a.guardAdminRole(rq, r); err != nil {
		return err
	}
	ctx := rq.R.Context()
	err := adminperm.DeleteRole(ctx, rq.h.Store, rq.Realm.ID, r.ID)
	if errors.Is(err, store.ErrNotFound) {
		return a.notFound()
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}

func (a rolesAPI) childReps(rq *Request, r role.Role, keep func(role.Role) bool) error {
	kids, err := rq.h.Store.ListComposites(rq.R.Context(), r.ID)
	if err != nil {
		return err
	}
	var out []role.Role
	for _, k := range kids {
		if keep(k) {
			out = append(out, k)
		}
	}
	return a.reps(rq, out, false)
}

// composites is GET .../composites: the direct children, brief. By id it
// takes Keycloak's search, first and max too.
func (a rolesAPI) composites(rq *Request, r role.Role) error {
	search := strings.ToLower(rq.R.URL.Query().Get("search"))
	first, max, err := pageIfAsked(rq)
	if err != nil {
		return err
	}
	kids, err := rq.h.Store.ListComposites(rq.R.Context(), r.ID)
	if err != nil {
		return err
	}
	var out []role.Role
	for _, k := range kids {
		if strings.Contains(strings.ToLower(k.Name), search) {
			out = append(out, k)
		}
	}
	return a.reps(rq, sliceWindow(out, first, max), false)
}

func (a rolesAPI) realmComposites(rq *Request, r role.Role) error {
	return a.childReps(rq, r, func(k role.Role) bool { return k.ClientID == "" })
}

func (a rolesAPI) clientComposites(rq *Request, r role.Role) error {
	c, err := rq.h.Store.GetClient(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("clientUuid"))
	if errors.Is(err, store.ErrNotFound) {
		return clientsAPI{}.notFound()
	}
	if err != nil {
		return err
	}
	return a.childReps(rq, r, func(k role.Role) bool { return k.ClientID == c.ID })
}

// resolve finds the roles of a composites body: by id, or by name (a client
// role when clientRole and containerId, the client's internal id, say so).
func (rolesAPI) resolve(rq *Request, xs []rep.Role) ([]role.Role, error) {
	ctx, db := rq.R.Context(), rq.h.Store
	out := make([]role.Role, 0, len(xs))
	for _, x := range xs {
		var (
			r   role.Role
			err = store.ErrNotFound
		)
		switch {
		case x.ID != "":
			r, err = db.GetRole(ctx, rq.Realm.ID, x.ID)
		case x.Name != "" && x.ClientRole && x.ContainerID != "":
			r, err = db.GetClientRole(ctx, rq.Realm.ID, x.ContainerID, x.Name)
		case x.Name != "":
			r, err = db.GetRealmRole(ctx, rq.Realm.ID, x.Name)
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound("Could not find composite role")
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// requireComposable is Keycloak's requireMapComposite for each child: the
// caller manages the child's container, or the realm's fine-grained
// permissions grant it the child's map-role-composite (or its client's
// map-roles-composite); and, whoever the caller is, it could grant the
// child, and everything the child implies, directly (requireConfer).
func (a rolesAPI) requireComposable(rq *Request, children []role.Role) error {
	if len(children) == 0 {
		return nil
	}
	mayCompose := func(child role.Role) (bool, error) {
		_, manage := a.perms(child.ClientID)
		return rq.orGrant(rq.Can(manage), nil, func(c *adminperm.Checker) bool {
			return roleGrant(c, child, adminperm.MapRoleComposite, adminperm.MapRolesComposite)
		})
	}
	if err := requireEachRole(children, mayCompose); err != nil {
		return err
	}
	return rq.requireConfer(rq.R.Context(), idsOfRoles(children)...)
}

// requireEachRole answers 403 unless allowed holds for each of roles.
func requireEachRole(roles []role.Role, allowed func(role.Role) (bool, error)) error {
	for _, r := range roles {
		ok, err := allowed(r)
		if err != nil {
			return err
		}
		if !ok {
			return errForbidden
		}
	}
	return nil
}

// addComposites is POST .../composites: 204, or 403 with nothing changed
// when any child may not be added.
func (a rolesAPI) addComposites(rq *Request, r role.Role) error {
	var xs []rep.Role
	if err := rq.decode(&xs); err != nil {
		return err
	}
	if err := a.guardAdminRole(rq, r); err != nil {
		return err
	}
	children, err := a.resolve(rq, xs)
	if err != nil {
		return err
	}
	if err := a.requireComposable(rq, children); err != nil {
		return err
	}
	if err := rq.h.Store.AddComposites(rq.R.Context(), r.ID, idsOfRoles(children)...); err != nil {
		return err
	}
	return rq.NoContent()
}

func (a rolesAPI) removeComposites(rq *Request, r role.Role) error {
	var xs []rep.Role
	if err := rq.decode(&xs); err != nil {
		return err
	}
	if err := a.guardAdminRole(rq, r); err != nil {
		return err
	}
	children, err := a.resolve(rq, xs)
	if err != nil {
		return err
	}
	// Everyone holding r loses the children: withdrawing is guarded as
	// granting is (escalation.go).
	if err := rq.requireConfer(rq.R.Context(), idsOfRoles(children)...); err != nil {
		return err
	}
	if err := rq.h.Store.RemoveComposites(rq.R.Context(), r.ID, idsOfRoles(children)...); err != nil {
		return err
	}
	return rq.NoContent()
}

// users is GET .../users: the users the role is mapped to directly; reading
// them needs query-users as well.
func (a rolesAPI) users(rq *Request, r role.Role) error {
	if err := rq.Require("query-users"); err != nil {
		return err
	}
	first, max, err := rq.Page()
	if err != nil {
		return err
	}
	us, err := rq.h.Store.ListRoleMembers(rq.R.Context(), rq.Realm.ID, r.ID, first, max)
	if err != nil {
		return err
	}
	brief := rq.Bool("briefRepresentation", false)
	out := make([]rep.User, 0, len(us))
	for _, u := range us {
		x, err := listedUser(rq, u, brief)
		if err != nil {
			return err
		}
		out = append(out, x)
	}
	return rq.JSON(out)
}

// groups is GET .../groups: the groups the role is mapped to directly.
func (a rolesAPI) groups(rq *Request, r role.Role) error {
	first, max, err := rq.Page()
	if err != nil {
		return err
	}
	gs, err := rq.h.Store.ListRoleGroups(rq.R.Context(), rq.Realm.ID, r.ID, first, max)
	if err != nil {
		return err
	}
	v, err := newGroupView(rq)
	if err != nil {
		return err
	}
	full := !rq.Bool("briefRepresentation", true)
	out := make([]rep.Group, 0, len(gs))
	for _, g := range gs {
		x, err := v.rep(g, full)
		if err != nil {
			return err
		}
		out = append(out, x)
	}
	return rq.JSON(out)
}
