package admin

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/uma"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// A resource server's resources and scopes.

func (h *Handler) authzResourceRoutes(mux Mux, a authzAPI) {
	const r = authzBase + "/resource"
	h.handle(mux, "GET "+r, "", a.view(a.listResources))
	h.handle(mux, "POST "+r, "", a.manage(a.createResource))
	h.handle(mux, "GET "+r+"/search", "", a.view(a.findResource))
	h.handle(mux, "GET "+r+"/{rid}", "", a.view(a.withResource(a.getResource)))
	h.handle(mux, "PUT "+r+"/{rid}", "", a.manage(a.withResource(a.updateResource)))
	h.handle(mux, "DELETE "+r+"/{rid}", "", a.manage(a.withResource(a.deleteResource)))
	h.handle(mux, "GET "+r+"/{rid}/scopes", "", a.view(a.withResource(a.resourceScopes)))
	h.handle(mux, "GET "+r+"/{rid}/permissions", "", a.view(a.withResource(a.resourcePermissions)))
	h.handle(mux, "GET "+r+"/{rid}/attributes", "", a.view(a.withResource(a.resourceAttributes)))

	const s = authzBase + "/scope"
	h.handle(mux, "GET "+s, "", a.view(a.listScopes))
	h.handle(mux, "POST "+s, "", a.manage(a.createScope))
	h.handle(mux, "GET "+s+"/search", "", a.view(a.findScope))
	h.handle(mux, "GET "+s+"/{sid}", "", a.view(a.withScope(a.getScope)))
	h.handle(mux, "PUT "+s+"/{sid}", "", a.manage(a.withScope(a.updateScope)))
	h.handle(mux, "DELETE "+s+"/{sid}", "", a.manage(a.withScope(a.deleteScope)))
	h.handle(mux, "GET "+s+"/{sid}/resources", "", a.view(a.withScope(a.scopeResources)))
	h.handle(mux, "GET "+s+"/{sid}/permissions", "", a.view(a.withScope(a.scopePermissions)))
}

// errResourceExists is Keycloak's answer to a second resource of one name
// and owner.
func errResourceExists(name string) error {
	return &web.Error{Status: http.StatusConflict, Body: map[string]string{"error": "invalid_request",
		"error_description": fmt.Sprintf("Resource with name [%s] already exists.", name)}}
}

func (authzAPI) withResource(fn func(z *authzReq, r authz.Resource) error) func(z *authzReq) error {
	return func(z *authzReq) error {
		r, err := z.h.Store.GetResource(z.R.Context(), z.server.ID, z.R.PathValue("rid"))
		if err != nil {
			return authzError(err)
		}
		return fn(z, r)
	}
}

func (authzAPI) withScope(fn func(z *authzReq, s authz.Scope) error) func(z *authzReq) error {
	return func(z *authzReq) error {
		s, err := z.h.Store.GetScope(z.R.Context(), z.server.ID, z.R.PathValue("sid"))
		if err != nil {
			return authzError(err)
		}
		return fn(z, s)
	}
}

// listResources is GET .../resource: filtered by _id, name (a part, or the
// whole with exactName=true), uri, owner (a clientId or username, or an
// id), type and scope (a part of a scope's name); deep (the default) adds
// each resource's scopes and attributes.
func (a authzAPI) listResources(z *authzReq) error {
	first, max, err := z.Page()
	if err != nil {
		return err
	}
	q := z.R.URL.Query()
	dir, err := z.directory()
	if err != nil {
		return err
	}
	f := store.ResourceFilter{ID: q.Get("_id"), Name: q.Get("name"), ExactName: z.Bool("exactName", false), URI: q.Get("uri"),
		Type: q.Get("type"), First: first, Max: max}
	if owner := q.Get("owner"); owner != "" {
		f.Owner = owner
		if id, ok := dir.Lookup("client", owner); ok {
			f.Owner = id
		} else if id, ok := dir.Lookup("user", owner); ok {
			f.Owner = id
		}
	}
	if scope := q.Get("scope"); scope != "" {
		scopes, err := z.h.Store.ListScopes(z.R.Context(), z.server.ID, store.ScopeFilter{Name: scope})
		if err != nil {
			return err
		}
		if len(scopes) == 0 {
			return z.JSON([]authz.ResourceRep{})
		}
		for _, s := range scopes {
			f.ScopeIDs = append(f.ScopeIDs, s.ID)
		}
	}
	rs, err := z.h.Store.ListResources(z.R.Context(), z.server.ID, f)
	if err != nil {
		return err
	}
	ix, err := z.index()
	if err != nil {
		return err
	}
	deep := z.Bool("deep", true)
	out := make([]authz.ResourceRep, 0, len(rs))
	for _, r := range rs {
		out = append(out, authz.ResourceToRep(r, ix, dir, deep))
	}
	return z.JSON(out)
}

// findResource is GET .../resource/search?name=: the server's own
// resource of that exact name, or 204.
func (authzAPI) findResource(z *authzReq) error {
	name := z.R.URL.Query().Get("name")
	if !z.R.URL.Query().Has("name") {
		return &web.Error{Status: http.StatusBadRequest}
	}
	rs, err := z.h.Store.ListResources(z.R.Context(), z.server.ID, store.ResourceFilter{Name: name, ExactName: true, Owner: z.server.ID})
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		return z.NoContent()
	}
	ix, err := z.index()
	if err != nil {
		return err
	}
	dir, err := z.directory()
	if err != nil {
		return err
	}
	return z.JSON(authz.ResourceToRep(rs[0], ix, dir, true))
}

func (authzAPI) getResource(z *authzReq, r authz.Resource) error {
	ix, err := z.index()
	if err != nil {
		return err
	}
	dir, err := z.directory()
	if err != nil {
		return err
	}
	return z.JSON(authz.ResourceToRep(r, ix, dir, true))
}

// saveResource stores the resource x describes, creating the scopes it
// names that the server lacks; existing is the stored one on update.
func (a authzAPI) saveResource(z *authzReq, x authz.ResourceRep, existing *authz.Resource) (authz.Resource, error) {
	ctx := z.R.Context()
	var out authz.Resource
	err := z.h.Store.InTx(ctx, func(tx *store.DB) error {
		dir, err := tx.AuthzDirectory(ctx, z.Realm.ID)
		if err != nil {
			return err
		}
		r, scopes, err := authz.ResourceFromRep(x, z.server.ID, dir)
		if existing != nil {
			if x.Owner == nil {
				r.Owner = existing.Owner
				err = authz.ValidateResource(r)
			}
			r.ID = existing.ID
		}
		if err != nil {
			return err
		}
		m, err := tx.LoadAuthzModel(store.WithoutConfigView(ctx), z.Realm.ID, z.server.ID)
		if err != nil {
			return err
		}
		ix := authz.NewIndex(m)
		for _, o := range ix.Resources {
			if o.Name == r.Name && o.Owner == r.Owner && o.ID != r.ID {
				return errResourceExists(r.Name)
			}
		}
		for _, xs := range scopes {
			sc, ok := ix.Scope(xs.ID)
			if !ok {
				sc, ok = ix.Scope(xs.Name)
			}
			if !ok {
				sc = authz.Scope{ServerID: z.server.ID, Name: xs.Name, IconURI: xs.IconURI, DisplayName: xs.DisplayName}
				if err := authz.ValidateScope(sc); err != nil {
					return err
				}
				if sc, err = tx.CreateScope(ctx, sc); err != nil {
					return err
				}
				ix.Scopes = append(ix.Scopes, sc)
			}
			r.ScopeIDs = append(r.ScopeIDs, sc.ID)
		}
		if existing != nil {
			out, err = tx.UpdateResource(ctx, z.server.ID, r.ID, func(o *authz.Resource) error {
				*o = r
				return nil
			})
			return err
		}
		if r.ID != "" {
			if free, err := tx.AuthzIDFree(ctx, r.ID); err != nil || !free {
				r.ID = ""
			}
		}
		out, err = tx.CreateResource(ctx, r)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return out, errResourceExists(x.Name)
	}
	return out, authzError(err)
}

// createResource is POST .../resource: 201 with the new resource.
func (a authzAPI) createResource(z *authzReq) error {
	var x authz.ResourceRep
	if err := z.decode(&x); err != nil {
		return err
	}
	r, err := a.saveResource(z, x, nil)
	if err != nil {
		return err
	}
	ix, err := z.index()
	if err != nil {
		return err
	}
	dir, err := z.directory()
	if err != nil {
		return err
	}
	z.W.Header().Set("Location", z.URL("/clients/"+z.client.ID+"/authz/resource-server/resource/"+r.ID))
	return web.WriteJSON(z.W, http.StatusCreated, authz.ResourceToRep(r, ix, dir, true))
}

// updateResource is PUT .../resource/{rid}: the whole representation
// replaces the resource's fields and scopes; the owner stays unless given.
func (a authzAPI) updateResource(z *authzReq, r authz.Resource) error {
	var x authz.ResourceRep
	if err := z.decode(&x); err != nil {
		return err
	}
	if _, err := a.saveResource(z, x, &r); err != nil {
		return err
	}
	return z.NoContent()
}

// deleteResource removes the resource with its tickets and the
// user-managed permissions on it, as the protection API's removal does.
func (authzAPI) deleteResource(z *authzReq, r authz.Resource) error {
	ctx := z.R.Context()
	err := z.h.Store.InTx(ctx, func(tx *store.DB) error { return uma.DeleteResource(ctx, tx, z.server.ID, r.ID) })
	if err != nil {
		return authzError(err)
	}
	return z.NoContent()
}

// resourceScopes is GET .../resource/{rid}/scopes: the resource's scopes
// and, for a user's resource of a type, those of the server's own
// resources of that type, which it inherits.
func (authzAPI) resourceScopes(z *authzReq, r authz.Resource) error {
	ix, err := z.index()
	if err != nil {
		return err
	}
	out := []authz.ScopeRep{}
	add := func(ids []string) {
		for _, id := range ids {
			if s, ok := ix.Scope(id); ok && !slices.ContainsFunc(out, func(o authz.ScopeRep) bool { return o.ID == s.ID }) {
				out = append(out, authz.ScopeRep{ID: s.ID, Name: s.Name, IconURI: s.IconURI})
			}
		}
	}
	add(r.ScopeIDs)
	if r.Type != "" && r.Owner != z.server.ID {
		for _, t := range ix.Resources {
			if t.Type == r.Type && t.Owner == z.server.ID && t.ID != r.ID {
				add(t.ScopeIDs)
			}
		}
	}
	return z.JSON(out)
}

// resourceRef is the short form of a resource in lists.
type resourceRef struct {
	ID   string `json:"_id"`
	Name string `json:"name"`
}

// policyRef is the short form of a policy in lists of what applies.
type policyRef struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
}

// resourcePermissions is GET .../resource/{rid}/permissions: the
// permissions naming it, those for its type (and the server's resources of
// that type), and the scope permissions on its scopes.
func (authzAPI) resourcePermissions(z *authzReq, r authz.Resource) error {
	ix, err := z.index()
	if err != nil {
		return err
	}
	typed := map[string]bool{}
	if r.Type != "" {
		for _, t := range ix.Resources {
			if t.Type == r.Type && t.Owner == z.server.ID {
				typed[t.ID] = true
			}
		}
	}
	out := []policyRef{}
	for _, p := range ix.Policies {
		if p.Type == "uma" {
			continue
		}
		hit := slices.Contains(p.ResourceIDs, r.ID) ||
			r.Type != "" && p.Config["defaultResourceType"] == r.Type ||
			slices.ContainsFunc(p.ResourceIDs, func(id string) bool { return typed[id] }) ||
			(len(p.ResourceIDs) == 0 || slices.Contains(p.ResourceIDs, r.ID)) && slices.ContainsFunc(p.ScopeIDs, func(id string) bool { return slices.Contains(r.ScopeIDs, id) })
		if hit {
			out = append(out, policyRef{ID: p.ID, Name: p.Name, Type: p.Type})
		}
	}
	return z.JSON(out)
}

func (authzAPI) resourceAttributes(z *authzReq, r authz.Resource) error {
	if r.Attributes == nil {
		r.Attributes = map[string][]string{}
	}
	return z.JSON(r.Attributes)
}

func scopeRep(s authz.Scope) authz.ScopeRep {
	return authz.ScopeRep{ID: s.ID, Name: s.Name, IconURI: s.IconURI, DisplayName: s.DisplayName}
}

// listScopes is GET .../scope, filtered by scopeId and name (a part).
func (authzAPI) listScopes(z *authzReq) error {
	first, max, err := z.Page()
	if err != nil {
		return err
	}
	q := z.R.URL.Query()
	scopes, err := z.h.Store.ListScopes(z.R.Context(), z.server.ID, store.ScopeFilter{ID: q.Get("scopeId"), Name: q.Get("name"), First: first, Max: max})
	if err != nil {
		return err
	}
	out := make([]authz.ScopeRep, 0, len(scopes))
	for _, s := range scopes {
		out = append(out, scopeRep(s))
	}
	return z.JSON(out)
}

// findScope is GET .../scope/search?name=: the scope of that exact name,
// or 204.
func (authzAPI) findScope(z *authzReq) error {
	if !z.R.URL.Query().Has("name") {
		return &web.Error{Status: http.StatusBadRequest}
	}
	scopes, err := z.h.Store.ListScopes(z.R.Context(), z.server.ID, store.ScopeFilter{Name: z.R.URL.Query().Get("name"), ExactName: true})
	if err != nil {
		return err
	}
	if len(scopes) == 0 {
		return z.NoContent()
	}
	return z.JSON(scopeRep(scopes[0]))
}

func (authzAPI) getScope(z *authzReq, s authz.Scope) error { return z.JSON(scopeRep(s)) }

func errScopeExists(name string) error {
	return conflict("Scope with name [%s] already exists", name)
}

// createScope is POST .../scope: 201 with the new scope.
func (authzAPI) createScope(z *authzReq) error {
	var x authz.ScopeRep
	if err := z.decode(&x); err != nil {
		return err
	}
	s := authz.Scope{ServerID: z.server.ID, Name: x.Name, IconURI: x.IconURI, DisplayName: x.DisplayName}
	if err := authz.ValidateScope(s); err != nil {
		return authzError(err)
	}
	s, err := z.h.Store.CreateScope(z.R.Context(), s)
	if errors.Is(err, store.ErrConflict) {
		return errScopeExists(x.Name)
	}
	if err != nil {
		return err
	}
	z.W.Header().Set("Location", z.URL("/clients/"+z.client.ID+"/authz/resource-server/scope/"+s.ID))
	return web.WriteJSON(z.W, http.StatusCreated, scopeRep(s))
}

// updateScope is PUT .../scope/{sid}: name, icon and display name.
func (authzAPI) updateScope(z *authzReq, s authz.Scope) error {
	var x authz.ScopeRep
	if err := z.decode(&x); err != nil {
		return err
	}
	if err := authz.ValidateScope(authz.Scope{Name: x.Name}); err != nil {
		return authzError(err)
	}
	_, err := z.h.Store.UpdateScope(z.R.Context(), z.server.ID, s.ID, func(o *authz.Scope) error {
		o.Name, o.IconURI, o.DisplayName = x.Name, x.IconURI, x.DisplayName
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return errScopeExists(x.Name)
	}
	if err != nil {
		return authzError(err)
	}
	return z.NoContent()
}

// deleteScope is DELETE .../scope/{sid}: refused while a resource holds
// the scope; a permission whose only scope it was goes with it.
func (authzAPI) deleteScope(z *authzReq, s authz.Scope) error {
	if err := z.h.Store.DeleteScope(z.R.Context(), z.server.ID, s.ID); err != nil {
		return authzError(err)
	}
	return z.NoContent()
}

// scopeResources is GET .../scope/{sid}/resources: [{_id, name}].
func (authzAPI) scopeResources(z *authzReq, s authz.Scope) error {
	rs, err := z.h.Store.ListResources(z.R.Context(), z.server.ID, store.ResourceFilter{ScopeIDs: []string{s.ID}})
	if err != nil {
		return err
	}
	out := make([]resourceRef, 0, len(rs))
	for _, r := range rs {
		out = append(out, resourceRef{ID: r.ID, Name: r.Name})
	}
	return z.JSON(out)
}

// scopePermissions is GET .../scope/{sid}/permissions: [{id, name, type}].
func (authzAPI) scopePermissions(z *authzReq, s authz.Scope) error {
	ps, err := z.h.Store.ListPolicies(z.R.Context(), z.server.ID, store.PolicyFilter{ScopeID: s.ID})
	if err != nil {
		return err
	}
	out := make([]policyRef, 0, len(ps))
	for _, p := range ps {
		out = append(out, policyRef{ID: p.ID, Name: p.Name, Type: p.Type})
	}
	return z.JSON(out)
}
