package admin

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// A resource server's policies and permissions. Both live under .../policy
// and .../permission alike (a permission is a policy of type "resource" or
// "scope"); the permission list shows permissions only.

func (h *Handler) authzPolicyRoutes(mux Mux, a authzAPI) {
	for _, kind := range []string{"policy", "permission"} {
		perms := kind == "permission"
		p := authzBase + "/" + kind
		h.handle(mux, "GET "+p, "", a.view(a.listPolicies(perms)))
		h.handle(mux, "POST "+p, "", a.manage(a.createPolicy("")))
		h.handle(mux, "GET "+p+"/search", "", a.view(a.findPolicy))
		h.handle(mux, "GET "+p+"/providers", "", a.view(a.providers))
		// {x} is a policy type (typed create) or a policy's id.
		h.handle(mux, "POST "+p+"/{x}", "", a.manage(a.createTyped))
		h.handle(mux, "GET "+p+"/{x}", "", a.view(a.getOrListTyped(perms)))
		h.handle(mux, "PUT "+p+"/{x}", "", a.manage(a.withPolicy("x", a.updatePolicy(false))))
		h.handle(mux, "DELETE "+p+"/{x}", "", a.manage(a.withPolicy("x", a.deletePolicy)))
		h.handle(mux, "GET "+p+"/{type}/{pid}", "", a.view(a.withTypedPolicy(a.getPolicy(true))))
		h.handle(mux, "PUT "+p+"/{type}/{pid}", "", a.manage(a.withTypedPolicy(a.updatePolicy(true))))
		h.handle(mux, "DELETE "+p+"/{type}/{pid}", "", a.manage(a.withTypedPolicy(a.deletePolicy)))
		h.handle(mux, "GET "+p+"/{x}/associatedPolicies", "", a.view(a.withPolicy("x", a.associatedPolicies)))
		h.handle(mux, "GET "+p+"/{x}/dependentPolicies", "", a.view(a.withPolicy("x", a.dependentPolicies)))
		h.handle(mux, "GET "+p+"/{x}/resources", "", a.view(a.withPolicy("x", a.policyResources)))
		h.handle(mux, "GET "+p+"/{x}/scopes", "", a.view(a.withPolicy("x", a.policyScopes)))
	}
}

func isPolicyType(t string) bool { return slices.Contains(authz.PolicyTypes, t) || t == "js" }

func (authzAPI) withPolicy(param string, fn func(z *authzReq, p authz.Policy) error) func(z *authzReq) error {
	return func(z *authzReq) error {
		p, err := z.h.Store.GetPolicy(z.R.Context(), z.server.ID, z.R.PathValue(param))
		if err != nil {
			return authzError(err)
		}
		return fn(z, p)
	}
}

// withTypedPolicy loads {pid} under a known {type}; an unknown type is 404.
func (a authzAPI) withTypedPolicy(fn func(z *authzReq, p authz.Policy) error) func(z *authzReq) error {
	return func(z *authzReq) error {
		if !isPolicyType(z.R.PathValue("type")) {
			return errNotFoundBare
		}
		return a.withPolicy("pid", fn)(z)
	}
}

// listPolicies is GET .../policy (and .../permission, permissions only):
// filtered by policyId, name (a part), type, resource and scope (an id or
// a name), permission and owner; user-managed policies only when their
// owner is asked for.
func (authzAPI) listPolicies(permsOnly bool) func(z *authzReq) error {
	return listPoliciesOf(permsOnly, "")
}

// getOrListTyped is GET .../policy/{x}: the policies of type x, or the
// policy whose id is x.
func (a authzAPI) getOrListTyped(permsOnly bool) func(z *authzReq) error {
	return func(z *authzReq) error {
		if x := z.R.PathValue("x"); isPolicyType(x) {
			return listPoliciesOf(permsOnly, x)(z)
		}
		return a.withPolicy("x", a.getPolicy(false))(z)
	}
}

func listPoliciesOf(permsOnly bool, typ string) func(z *authzReq) error {
	return func(z *authzReq) error {
		first, max, err := z.Page()
		if err != nil {
			return err
		}
		q := z.R.URL.Query()
		f := store.PolicyFilter{ID: q.Get("policyId"), Name: q.Get("name"), Type: q.Get("type"), Owner: q.Get("owner")}
		if typ != "" {
			f.Type = typ
		}
		if permsOnly {
			yes := true
			f.Permission = &yes
		} else if v := q.Get("permission"); v == "true" || v == "false" {
			b := v == "true"
			f.Permission = &b
		}
		ix, err := z.index()
		if err != nil {
			return err
		}
		if ref := q.Get("resource"); ref != "" {
			r, ok := ix.Resource(ref)
			if !ok {
				return z.NoContent()
			}
			f.ResourceID = r.ID
		}
		if ref := q.Get("scope"); ref != "" {
			s, ok := ix.Scope(ref)
			if !ok {
				return z.NoContent()
			}
			f.ScopeID = s.ID
		}
		ps, err := z.h.Store.ListPolicies(z.R.Context(), z.server.ID, f)
		if err != nil {
			return err
		}
		if f.Owner == "" {
			ps = slices.DeleteFunc(ps, func(p authz.Policy) bool { return p.Owner != "" })
		}
		ps = sliceWindow(ps, first, max)
		out := make([]authz.PolicyRep, 0, len(ps))
		for _, p := range ps {
			out = append(out, authz.Generic(p))
		}
		return z.JSON(out)
	}
}

// findPolicy is GET .../policy/search?name=: the policy of that exact name,
// or 204.
func (authzAPI) findPolicy(z *authzReq) error {
	if !z.R.URL.Query().Has("name") {
		return &web.Error{Status: http.StatusBadRequest}
	}
	ps, err := z.h.Store.ListPolicies(z.R.Context(), z.server.ID, store.PolicyFilter{Name: z.R.URL.Query().Get("name"), ExactName: true})
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		return z.NoContent()
	}
	return z.JSON(authz.Generic(ps[0]))
}

func (authzAPI) providers(z *authzReq) error { return z.JSON(authz.Providers) }

func errPolicyExists(name string) error {
	return &web.Error{Status: http.StatusConflict, Body: map[string]string{"error": fmt.Sprintf("Policy with name [%s] already exists", name),
		"error_description": "Conflicting policy"}}
}

// createTyped is POST .../policy/{type}: a typed representation. A {x}
// that names no policy type names a policy, which takes no POST.
func (a authzAPI) createTyped(z *authzReq) error {
	typ := z.R.PathValue("x")
	if !isPolicyType(typ) {
		return &web.Error{Status: http.StatusMethodNotAllowed, Body: map[string]string{"error": "HTTP 405 Method Not Allowed"}}
	}
	return a.createPolicy(typ)(z)
}

// createPolicy is POST .../policy (typ "": the body's type) and
// POST .../policy/{type}: 201 with the representation sent, given its id.
func (authzAPI) createPolicy(typ string) func(z *authzReq) error {
	return func(z *authzReq) error {
		body, err := z.body()
		if err != nil {
			return err
		}
		in, err := authz.DecodePolicy(body)
		if err != nil {
			return errBadJSON
		}
		if typ != "" {
			in.Type = typ
		}
		if in.Type == "js" {
			return authzError(authz.ErrScript)
		}
		ctx := z.R.Context()
		var created authz.Policy
		err = z.h.Store.InTx(ctx, func(tx *store.DB) error {
			m, err := tx.LoadAuthzModel(store.WithoutConfigView(ctx), z.Realm.ID, z.server.ID)
			if err != nil {
				return err
			}
			dir, err := tx.AuthzDirectory(ctx, z.Realm.ID)
			if err != nil {
				return err
			}
			in.ID = ""
			p, err := authz.PolicyFromInput(in, authz.NewIndex(m), dir)
			if err != nil {
				return err
			}
			if slices.ContainsFunc(m.Policies, func(o authz.Policy) bool { return o.Name == p.Name }) {
				return errPolicyExists(p.Name)
			}
			created, err = tx.CreatePolicy(ctx, p)
			return err
		})
		if errors.Is(err, store.ErrConflict) {
			return errPolicyExists(in.Name)
		}
		if err != nil {
			return authzError(err)
		}
		echo := map[string]any{}
		for k, v := range in.Raw {
			echo[k] = v
		}
		echo["id"], echo["type"], echo["logic"], echo["decisionStrategy"] = created.ID, created.Type, created.Logic, created.DecisionStrategy
		z.W.Header().Set("Location", z.URL("/clients/"+z.client.ID+"/authz/resource-server/policy/"+created.ID))
		return web.WriteJSON(z.W, http.StatusCreated, echo)
	}
}

// getPolicy is GET .../policy/{id} (the generic representation) and
// GET .../policy/{type}/{id} (the typed one).
func (authzAPI) getPolicy(typed bool) func(z *authzReq, p authz.Policy) error {
	return func(z *authzReq, p authz.Policy) error {
		if typed {
			return z.JSON(authz.Typed(p))
		}
		return z.JSON(authz.Generic(p))
	}
}

// updatePolicy is PUT .../policy/{id} and PUT .../policy/{type}/{id}:
// name, description, logic, decision strategy and the type's settings;
// associations are replaced when the body names them and kept otherwise.
// Keycloak answers 201.
func (authzAPI) updatePolicy(typed bool) func(z *authzReq, p authz.Policy) error {
	return func(z *authzReq, old authz.Policy) error {
		body, err := z.body()
		if err != nil {
			return err
		}
		in, err := authz.DecodePolicy(body)
		if err != nil {
			return errBadJSON
		}
		in.ID, in.Type = old.ID, old.Type
		if typed {
			// A typed body carries the type's fields; the rest of the
			// stored config stays.
			cfg := map[string]string{}
			for k, v := range old.Config {
				cfg[k] = v
			}
			for k, v := range in.Config {
				cfg[k] = v
			}
			in.Config = cfg
		}
		_, hasPolicies := in.Raw["policies"]
		_, hasResources := in.Raw["resources"]
		_, hasScopes := in.Raw["scopes"]
		_, cfgPolicies := in.Config["applyPolicies"]
		_, cfgResources := in.Config["resources"]
		_, cfgScopes := in.Config["scopes"]
		ctx := z.R.Context()
		err = z.h.Store.InTx(ctx, func(tx *store.DB) error {
			m, err := tx.LoadAuthzModel(store.WithoutConfigView(ctx), z.Realm.ID, z.server.ID)
			if err != nil {
				return err
			}
			dir, err := tx.AuthzDirectory(ctx, z.Realm.ID)
			if err != nil {
				return err
			}
			p, err := authz.PolicyFromInput(in, authz.NewIndex(m), dir)
			if err != nil {
				return err
			}
			if !hasPolicies && !cfgPolicies {
				p.PolicyIDs = old.PolicyIDs
			}
			if !hasResources && !cfgResources {
				p.ResourceIDs = old.ResourceIDs
			}
			if !hasScopes && !cfgScopes {
				p.ScopeIDs = old.ScopeIDs
			}
			if p.Owner == "" {
				p.Owner = old.Owner
			}
			if slices.ContainsFunc(m.Policies, func(o authz.Policy) bool { return o.Name == p.Name && o.ID != p.ID }) {
				return errPolicyExists(p.Name)
			}
			if err := authz.ValidatePolicy(p); err != nil {
				return err
			}
			_, err = tx.UpdatePolicy(ctx, z.server.ID, old.ID, func(o *authz.Policy) error {
				*o = p
				return nil
			})
			return err
		})
		if errors.Is(err, store.ErrConflict) {
			return errPolicyExists(in.Name)
		}
		if err != nil {
			return authzError(err)
		}
		z.W.WriteHeader(http.StatusCreated)
		return nil
	}
}

func (authzAPI) deletePolicy(z *authzReq, p authz.Policy) error {
	if err := z.h.Store.DeletePolicy(z.R.Context(), z.server.ID, p.ID); err != nil {
		return authzError(err)
	}
	return z.NoContent()
}

// associatedPolicies is GET .../policy/{id}/associatedPolicies.
func (authzAPI) associatedPolicies(z *authzReq, p authz.Policy) error {
	ix, err := z.index()
	if err != nil {
		return err
	}
	out := []policyRef{}
	for _, id := range p.PolicyIDs {
		if q, ok := ix.Policy(id); ok {
			out = append(out, policyRef{ID: q.ID, Name: q.Name, Type: q.Type, Description: q.Description})
		}
	}
	return z.JSON(out)
}

// dependentPolicies is GET .../policy/{id}/dependentPolicies: the policies
// and permissions that apply it.
func (authzAPI) dependentPolicies(z *authzReq, p authz.Policy) error {
	ps, err := z.h.Store.DependentPolicies(z.R.Context(), z.server.ID, p.ID)
	if err != nil {
		return err
	}
	out := make([]policyRef, 0, len(ps))
	for _, q := range ps {
		out = append(out, policyRef{ID: q.ID, Name: q.Name, Type: q.Type})
	}
	return z.JSON(out)
}

// policyResources is GET .../policy/{id}/resources: [{_id, name}].
func (authzAPI) policyResources(z *authzReq, p authz.Policy) error {
	ix, err := z.index()
	if err != nil {
		return err
	}
	out := []resourceRef{}
	for _, id := range p.ResourceIDs {
		if r, ok := ix.Resource(id); ok {
			out = append(out, resourceRef{ID: r.ID, Name: r.Name})
		}
	}
	return z.JSON(out)
}

// policyScopes is GET .../policy/{id}/scopes: [{id, name}].
func (authzAPI) policyScopes(z *authzReq, p authz.Policy) error {
	ix, err := z.index()
	if err != nil {
		return err
	}
	out := []authz.ScopeRep{}
	for _, id := range p.ScopeIDs {
		if s, ok := ix.Scope(id); ok {
			out = append(out, authz.ScopeRep{ID: s.ID, Name: s.Name})
		}
	}
	return z.JSON(out)
}
