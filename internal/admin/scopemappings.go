package admin

import (
	"errors"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// scopeMappingRoutes serves Keycloak's ScopeMappedResource and
// ScopeMappedClientResource under clients and client scopes: the roles
// scope-mapped directly (realm, and per client), the ones still available,
// and the ones the scope reaches ("composite").
//
// Reading needs view-clients, changing needs manage-clients, as for the
// rest of a client or client scope; for a client, its fine-grained
// permissions (view, manage) may stand in, and then each role mapped or
// unmapped needs its own map-role-client-scope (or its client's
// map-roles-client-scope), as Keycloak asks. A scope mapping confers no
// role on anyone: it only lets a role the user already holds into the
// tokens of a client without full scope, and admin rights are read from
// the store, never from token claims; so requireConfer does not apply.
// Client scopes answer 404 for an unknown scope before the permission
// decides, as their other routes do.
func (h *Handler) scopeMappingRoutes(mux Mux) {
	for _, a := range []scopeMappingAPI{{}, {clientScope: true}} {
		base, view, manage := "/admin/realms/{realm}/clients/{id}/scope-mappings", clientView, clientManage
		if a.clientScope {
			base, view, manage = "/admin/realms/{realm}/client-scopes/{id}/scope-mappings", "query-clients", "query-clients"
		}
		h.handle(mux, "GET "+base, view, a.all)
		h.handle(mux, "GET "+base+"/realm", view, a.direct)
		h.handle(mux, "POST "+base+"/realm", manage, a.add)
		h.handle(mux, "DELETE "+base+"/realm", manage, a.remove)
		h.handle(mux, "GET "+base+"/realm/available", view, a.available)
		h.handle(mux, "GET "+base+"/realm/composite", view, a.composite)
		h.handle(mux, "GET "+base+"/clients/{client}", view, a.direct)
		h.handle(mux, "POST "+base+"/clients/{client}", manage, a.add)
		h.handle(mux, "DELETE "+base+"/clients/{client}", manage, a.remove)
		h.handle(mux, "GET "+base+"/clients/{client}/available", view, a.available)
		h.handle(mux, "GET "+base+"/clients/{client}/composite", view, a.composite)
	}
}

type scopeMappingAPI struct{ clientScope bool }

// scopeContainer is the client or client scope whose mappings a call is about.
type scopeContainer struct {
	owner store.ScopeOwner
	// fullScope is a client's "full scope allowed": its scope then reaches
	// every role.
	fullScope bool
}

// container loads the client or scope in the path: 404 with Keycloak's
// message when it does not exist, then (for client scopes) 403 without
// perm.
func (a scopeMappingAPI) container(rq *Request, perm string) (scopeContainer, error) {
	if a.clientScope {
		s, err := rq.h.loadScope(rq, perm)
		if err != nil {
			return scopeContainer{}, err
		}
		return scopeContainer{owner: store.ScopeOwner{ClientScope: true, ID: s.ID}}, nil
	}
	c, err := clientsAPI{}.load(rq)
	if err != nil {
		return scopeContainer{}, err
	}
	return scopeContainer{owner: store.ScopeOwner{ID: c.ID}, fullScope: c.FullScopeAllowed}, nil
}

// part is the realm roles, or the roles of the client named by {client};
// an unknown client there is 404.
func (a scopeMappingAPI) part(rq *Request) (mappingScope, error) {
	id := rq.R.PathValue("client")
	if id == "" {
		return mappingScope{}, nil
	}
	c, err := rq.h.Store.GetClient(rq.R.Context(), rq.Realm.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return mappingScope{}, clientsAPI{}.notFound()
	}
	if err != nil {
		return mappingScope{}, err
	}
	return mappingScope{client: &c}, nil
}

// load is the common start of every call: container, part, role catalog
// and the container's direct mappings.
func (a scopeMappingAPI) load(rq *Request, perm string) (scopeContainer, mappingScope, *roleCatalog, []role.Role, error) {
	sc, err := a.container(rq, perm)
	if err != nil {
		return sc, mappingScope{}, nil, nil, err
	}
	part, err := a.part(rq)
	if err != nil {
		return sc, part, nil, nil, err
	}
	ctx := rq.R.Context()
	cat, err := loadRoleCatalog(ctx, rq)
	if err != nil {
		return sc, part, nil, nil, err
	}
	direct, err := rq.h.Store.ScopeMappings(ctx, rq.Realm.ID, sc.owner)
	return sc, part, cat, direct, err
}

// all answers GET .../scope-mappings.
func (a scopeMappingAPI) all(rq *Request) error {
	_, _, cat, direct, err := a.load(rq, "view-clients")
	if err != nil {
		return err
	}
	return rq.JSON(cat.mappings(direct))
}

// direct answers GET .../realm and GET .../clients/{client}.
func (a scopeMappingAPI) direct(rq *Request) error {
	_, part, cat, direct, err := a.load(rq, "view-clients")
	if err != nil {
		return err
	}
	return rq.JSON(cat.briefIn(part, direct))
}

// available answers .../available: the roles of the part not mapped
// directly. Only a caller who may change the mappings is offered any, as
// Keycloak filters the list by the right to map them.
func (a scopeMappingAPI) available(rq *Request) error {
	_, part, cat, direct, err := a.load(rq, "view-clients")
	if err != nil {
		return err
	}
	out := []rep.Role{}
	if ok, err := a.mayChange(rq); err != nil || !ok {
		if err != nil {
			return err
		}
		return rq.JSON(out)
	}
	mapped := map[string]bool{}
	for _, r := range direct {
		mapped[r.ID] = true
	}
	for _, r := range cat.all {
		if !part.holds(r) || mapped[r.ID] {
			continue
		}
		ok, err := rq.mayMapClientScope(r)
		if err != nil {
			return err
		}
		if ok {
			out = append(out, cat.brief(r))
		}
	}
	return rq.JSON(out)
}

// mayChange reports whether the caller may change the mappings of the
// container in the path: manage-clients, or, for a client, its manage
// permission.
func (a scopeMappingAPI) mayChange(rq *Request) (bool, error) {
	if rq.Can("manage-clients") || a.clientScope {
		return rq.Can("manage-clients"), nil
	}
	c, err := clientsAPI{}.load(rq)
	if err != nil {
		return false, err
	}
	return rq.canManageClient(c)
}

// mayMapClientScope is Keycloak's canMapClientScope: manage-clients, or
// the role's map-role-client-scope, or its client's map-roles-client-scope.
func (rq *Request) mayMapClientScope(r role.Role) (bool, error) {
	return rq.orGrant(rq.Can("manage-clients"), nil, func(c *adminperm.Checker) bool {
		return roleGrant(c, r, adminperm.MapRoleClientScope, adminperm.MapRolesClientScope)
	})
}

// composite answers .../composite: the roles of the part the scope
// reaches: every one for a client with full scope; otherwise those its
// mappings (and, for a client, its own roles) reach through composites.
// briefRepresentation=false adds the roles' attributes.
func (a scopeMappingAPI) composite(rq *Request) error {
	sc, part, cat, direct, err := a.load(rq, "view-clients")
	if err != nil {
		return err
	}
	seeds := idsOfRoles(direct)
	if !sc.owner.ClientScope {
		for _, r := range cat.all {
			if r.ClientID == sc.owner.ID {
				seeds = append(seeds, r.ID)
			}
		}
	}
	reach := map[string]bool{}
	for _, id := range role.Expand(seeds, cat.graph) {
		reach[id] = true
	}
	return rq.JSON(cat.listed(rq, part, func(r role.Role) bool { return sc.fullScope || reach[r.ID] }))
}

// resolve finds the roles of a request body as Keycloak does: realm roles
// by id (any role of the realm), a client's roles by name; one not found
// is 404 with nothing changed.
func (a scopeMappingAPI) resolve(part mappingScope, cat *roleCatalog, body []rep.Role) ([]role.Role, error) {
	out := make([]role.Role, 0, len(body))
	for _, x := range body {
		var (
			r     role.Role
			found bool
		)
		if part.client == nil {
			r, found = cat.byID[x.ID]
		} else {
			for _, cand := range cat.all {
				if cand.ClientID == part.client.ID && cand.Name == x.Name {
					r, found = cand, true
					break
				}
			}
		}
		if !found {
			return nil, errMappedRoleNotFound
		}
		out = append(out, r)
	}
	return out, nil
}

// add answers POST .../realm and POST .../clients/{client}.
func (a scopeMappingAPI) add(rq *Request) error {
	sc, part, cat, _, err := a.load(rq, "manage-clients")
	if err != nil {
		return err
	}
	var body []rep.Role
	if err := rq.decode(&body); err != nil {
		return err
	}
	roles, err := a.resolve(part, cat, body)
	if err != nil {
		return err
	}
	if err := requireEachRole(roles, rq.mayMapClientScope); err != nil {
		return err
	}
	if err := rq.h.Store.AddScopeMappings(rq.R.Context(), sc.owner, idsOfRoles(roles)...); err != nil {
		return err
	}
	return rq.NoContent()
}

// remove answers DELETE .../realm and DELETE .../clients/{client}. Without
// a body every direct mapping of the part goes, as in Keycloak.
func (a scopeMappingAPI) remove(rq *Request) error {
	sc, part, cat, direct, err := a.load(rq, "manage-clients")
	if err != nil {
		return err
	}
	body, given, err := rq.optionalRoles()
	if err != nil {
		return err
	}
	var roles []role.Role
	if !given {
		for _, r := range direct {
			if part.holds(r) {
				roles = append(roles, r)
			}
		}
	} else if roles, err = a.resolve(part, cat, body); err != nil {
		return err
	}
	if err := requireEachRole(roles, rq.mayMapClientScope); err != nil {
		return err
	}
	if err := rq.h.Store.RemoveScopeMappings(rq.R.Context(), sc.owner, idsOfRoles(roles)...); err != nil {
		return err
	}
	return rq.NoContent()
}
