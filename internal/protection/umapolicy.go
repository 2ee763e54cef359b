package protection

import (
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

// User-managed permissions (the policy endpoint, uma-policy): the owner of
// a resource with owner-managed access, with a token issued to the
// resource server's client, lets roles, groups, clients or users use some
// of its scopes. Each is a "uma" permission on the resource, owned by the
// user, whose associated policies (one per kind: role, group, client,
// user) say who; all kinds given must agree (UNANIMOUS by default).

// umaPolicyRep is Keycloak's UMA permission representation.
type umaPolicyRep struct {
	ID               string   `json:"id,omitempty"`
	Name             string   `json:"name,omitempty"`
	Description      string   `json:"description,omitempty"`
	Type             string   `json:"type,omitempty"`
	Logic            string   `json:"logic,omitempty"`
	DecisionStrategy string   `json:"decisionStrategy,omitempty"`
	Owner            string   `json:"owner,omitempty"`
	Resources        []string `json:"resources,omitempty"`
	Scopes           []string `json:"scopes,omitempty"`
	Roles            []string `json:"roles,omitempty"`
	Groups           []string `json:"groups,omitempty"`
	Clients          []string `json:"clients,omitempty"`
	Users            []string `json:"users,omitempty"`
	Condition        string   `json:"condition,omitempty"`
}

func badUMA(desc string) error { return fail(http.StatusBadRequest, "invalid_request", desc) }

// checkUMARequest applies the rules of the policy endpoint to a resource
// and, when rep is given, to the permission asked for: the caller owns the
// resource, which is owner-managed, on a server that allows remote
// management; the scopes (all of the resource's by default) are its own.
// It returns the scope ids.
func (h *Handler) checkUMARequest(ctx context.Context, c caller, resourceID string, rep *umaPolicyRep) ([]string, error) {
	res, err := h.Store.GetResource(ctx, c.server.ID, resourceID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, badUMA("Resource [" + resourceID + "] cannot be found")
	}
	if err != nil {
		return nil, err
	}
	if res.Owner != c.id {
		return nil, badUMA("Only resource owner can access policies for resource [" + resourceID + "]")
	}
	if !res.OwnerManagedAccess {
		return nil, badUMA("Only resources with owner managed accessed can have policies")
	}
	if !c.server.AllowRemoteResourceManagement {
		return nil, fail(http.StatusForbidden, "request_not_supported", "Remote Resource Management not enabled on resource server ["+c.server.ID+"]")
	}
	if rep == nil {
		return nil, nil
	}
	scopes, err := h.scopeMap(ctx, c.server.ID)
	if err != nil {
		return nil, err
	}
	byName := map[string]string{}
	for _, id := range res.ScopeIDs {
		byName[scopes[id].Name] = id
	}
	if len(rep.Scopes) == 0 {
		return slices.Clone(res.ScopeIDs), nil
	}
	var ids []string
	for _, n := range rep.Scopes {
		id, ok := byName[n]
		if !ok {
			return nil, badUMA("Some of the scopes [" + strings.Join(rep.Scopes, ", ") + "] are not valid for resource [" + resourceID + "]")
		}
		ids = append(ids, id)
	}
	if len(rep.Resources) > 0 && (len(rep.Resources) != 1 || rep.Resources[0] != res.ID) {
		return nil, badUMA("Invalid resource")
	}
	return ids, nil
}

// umaPolicy loads a "uma" permission of the server.
func (h *Handler) umaPolicy(ctx context.Context, c caller, id string) (authz.Policy, error) {
	p, err := h.Store.GetPolicy(ctx, c.server.ID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (p.Type != "uma" || len(p.ResourceIDs) == 0)) {
		return authz.Policy{}, fail(http.StatusNotFound, "invalid_request", "Policy with ["+id+"] does not exist")
	}
	return p, err
}

// createUMAPolicy serves POST .../uma-policy/{resourceId}.
func (h *Handler) createUMAPolicy(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := h.authenticate(r, false)
	if err != nil {
		return err
	}
	var in umaPolicyRep
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.ID != "" {
		return badUMA("Newly created uma policies should not have an id")
	}
	resourceID := r.PathValue("id")
	scopeIDs, err := h.checkUMARequest(ctx, c, resourceID, &in)
	if err != nil {
		return err
	}
	if in.Condition != "" {
		return badUMA("Conditions written in JavaScript are not supported")
	}
	if strings.TrimSpace(in.Name) == "" {
		return badUMA("Policy name must not be empty")
	}
	p := authz.Policy{ServerID: c.server.ID, Name: in.Name, Description: in.Description, Type: "uma",
		Logic: orDefault(in.Logic, authz.Positive), DecisionStrategy: orDefault(in.DecisionStrategy, authz.Unanimous),
		Owner: c.id, Config: map[string]string{}, ResourceIDs: []string{resourceID}, ScopeIDs: scopeIDs}
	var created authz.Policy
	err = h.Store.InTx(ctx, func(tx *store.DB) error {
		for _, kind := range policyKinds {
			values := kind.values(&in)
			if len(values) == 0 {
				continue
			}
			id, err := h.putAssociated(ctx, tx, c, "", kind, values)
			if err != nil {
				return err
			}
			p.PolicyIDs = append(p.PolicyIDs, id)
		}
		created, err = tx.CreatePolicy(ctx, p)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return fail(http.StatusConflict, "invalid_request", "Policy with name ["+in.Name+"] already exists")
	}
	if err != nil {
		return err
	}
	rep, err := h.umaRep(ctx, c, created)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, rep)
}

// getUMAPolicy serves GET .../uma-policy/{policyId}.
func (h *Handler) getUMAPolicy(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := h.authenticate(r, false)
	if err != nil {
		return err
	}
	p, err := h.umaPolicy(ctx, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := h.checkUMARequest(ctx, c, p.ResourceIDs[0], nil); err != nil {
		return err
	}
	rep, err := h.umaRep(ctx, c, p)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, rep)
}

// updateUMAPolicy serves PUT .../uma-policy/{policyId}; its resource cannot
// change.
func (h *Handler) updateUMAPolicy(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := h.authenticate(r, false)
	if err != nil {
		return err
	}
	var in umaPolicyRep
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	p, err := h.umaPolicy(ctx, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	resourceID := p.ResourceIDs[0]
	if len(in.Resources) > 0 && (len(in.Resources) != 1 || in.Resources[0] != resourceID) {
		return badUMA("Uma permission resource cannot be changed")
	}
	scopeIDs, err := h.checkUMARequest(ctx, c, resourceID, &in)
	if err != nil {
		return err
	}
	if in.Condition != "" {
		return badUMA("Conditions written in JavaScript are not supported")
	}
	err = h.Store.InTx(ctx, func(tx *store.DB) error {
		current := map[string]string{} // kind -> associated policy id
		for _, id := range p.PolicyIDs {
			if a, err := tx.GetPolicy(ctx, c.server.ID, id); err == nil {
				current[a.Type] = a.ID
			}
		}
		var ids []string
		for _, kind := range policyKinds {
			values := kind.values(&in)
			old := current[kind.typ]
			if len(values) == 0 {
				if old != "" {
					if err := tx.DeletePolicy(ctx, c.server.ID, old); err != nil && !errors.Is(err, store.ErrNotFound) {
						return err
					}
				}
				continue
			}
			id, err := h.putAssociated(ctx, tx, c, old, kind, values)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		_, err := tx.UpdatePolicy(ctx, c.server.ID, p.ID, func(q *authz.Policy) error {
			if in.Name != "" {
				q.Name = in.Name
			}
			q.Description = in.Description
			q.Logic = orDefault(in.Logic, q.Logic)
			q.DecisionStrategy = orDefault(in.DecisionStrategy, q.DecisionStrategy)
			q.ScopeIDs, q.PolicyIDs = scopeIDs, ids
			return nil
		})
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return fail(http.StatusConflict, "invalid_request", "Policy with name ["+in.Name+"] already exists")
	}
	if err != nil {
		return err
	}
	return noContent(w)
}

// deleteUMAPolicy serves DELETE .../uma-policy/{policyId}, with the
// policies that belong to the permission.
func (h *Handler) deleteUMAPolicy(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := h.authenticate(r, false)
	if err != nil {
		return err
	}
	p, err := h.umaPolicy(ctx, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := h.checkUMARequest(ctx, c, p.ResourceIDs[0], nil); err != nil {
		return err
	}
	err = h.Store.InTx(ctx, func(tx *store.DB) error { return uma.DeletePermission(ctx, tx, p) })
	if err != nil {
		return err
	}
	return noContent(w)
}

// findUMAPolicies serves GET .../uma-policy: the caller's own user-managed
// permissions, by name, resource and scope.
func (h *Handler) findUMAPolicies(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := h.authenticate(r, false)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.PolicyFilter{Name: q.Get("name"), Type: "uma", Owner: c.id, ResourceID: q.Get("resource")}
	if s := q.Get("scope"); s != "" {
		f.ScopeID = s
		if list, err := h.Store.ListScopes(ctx, c.server.ID, store.ScopeFilter{Name: s, ExactName: true}); err == nil && len(list) > 0 {
			f.ScopeID = list[0].ID
		}
	}
	list, err := h.Store.ListPolicies(ctx, c.server.ID, f)
	if err != nil {
		return err
	}
	first, _ := strconv.Atoi(q.Get("first"))
	max := 100
	if v, err := strconv.Atoi(q.Get("max")); err == nil {
		max = v
	}
	list = page(list, first, max)
	out := make([]umaPolicyRep, 0, len(list))
	for _, p := range list {
		rep, err := h.umaRep(ctx, c, p)
		if err != nil {
			return err
		}
		out = append(out, rep)
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// policyKind is one kind of associated policy a UMA permission holds.
type policyKind struct {
	typ    string
	values func(*umaPolicyRep) []string
}

var policyKinds = []policyKind{
	{"role", func(r *umaPolicyRep) []string { return r.Roles }},
	{"group", func(r *umaPolicyRep) []string { return r.Groups }},
	{"client", func(r *umaPolicyRep) []string { return r.Clients }},
	{"user", func(r *umaPolicyRep) []string { return r.Users }},
}

// putAssociated creates (id "") or rewrites the associated policy of a
// kind, naming roles, groups, clients or users by name, path, clientId or
// username, which the realm's authorization directory resolves to ids
// (the same resolution as policies written through the admin API).
func (h *Handler) putAssociated(ctx context.Context, tx *store.DB, c caller, id string, kind policyKind, values []string) (string, error) {
	dir, err := tx.AuthzDirectory(ctx, c.realm.ID)
	if err != nil {
		return "", err
	}
	ids := make([]string, 0, len(values))
	for _, v := range values {
		ref, ok := dir.Lookup(kind.typ, v)
		if !ok {
			return "", badUMA(notFoundText[kind.typ](v))
		}
		ids = append(ids, ref)
	}
	config := map[string]string{}
	switch kind.typ {
	case "role":
		type roleDef struct {
			ID       string `json:"id"`
			Required bool   `json:"required"`
		}
		defs := make([]roleDef, len(ids))
		for i, ref := range ids {
			defs[i] = roleDef{ID: ref}
		}
		config["roles"] = jsonText(defs)
	case "group":
		type groupDef struct {
			ID             string `json:"id"`
			ExtendChildren bool   `json:"extendChildren"`
		}
		defs := make([]groupDef, len(ids))
		for i, ref := range ids {
			defs[i] = groupDef{ID: ref}
		}
		config["groups"] = jsonText(defs)
	default: // "client", "user"
		config[kind.typ+"s"] = jsonText(ids)
	}
	if id != "" {
		_, err := tx.UpdatePolicy(ctx, c.server.ID, id, func(p *authz.Policy) error {
			p.Config = config
			return nil
		})
		return id, err
	}
	p, err := tx.CreatePolicy(ctx, authz.Policy{ServerID: c.server.ID, Name: store.NewID(), Type: kind.typ, Logic: authz.Positive,
		DecisionStrategy: authz.Unanimous, Owner: c.id, Config: config})
	return p.ID, err
}

// notFoundText is the refusal of a name that resolves to nothing, per
// kind, in Keycloak's words.
var notFoundText = map[string]func(string) string{
	"role":   func(v string) string { return "Role [" + v + "] not found" },
	"group":  func(v string) string { return "Group with path [" + v + "] not found" },
	"client": func(v string) string { return "Client with id [" + v + "] not found" },
	"user":   func(v string) string { return "User [" + v + "] does not exist" },
}

// umaRep writes a UMA permission with its associated policies read back
// into names.
func (h *Handler) umaRep(ctx context.Context, c caller, p authz.Policy) (umaPolicyRep, error) {
	out := umaPolicyRep{ID: p.ID, Name: p.Name, Description: p.Description, Type: "uma", Logic: p.Logic,
		DecisionStrategy: p.DecisionStrategy, Owner: p.Owner, Resources: p.ResourceIDs}
	scopes, err := h.scopeMap(ctx, c.server.ID)
	if err != nil {
		return out, err
	}
	for _, id := range p.ScopeIDs {
		out.Scopes = append(out.Scopes, scopes[id].Name)
	}
	for _, id := range p.PolicyIDs {
		a, err := h.Store.GetPolicy(ctx, c.server.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return out, err
		}
		switch a.Type {
		case "role":
			var defs []struct{ ID string }
			json.Unmarshal([]byte(a.Config["roles"]), &defs)
			for _, d := range defs {
				r, err := h.Store.GetRole(ctx, c.realm.ID, d.ID)
				if err != nil {
					continue
				}
				name := r.Name
				if r.ClientID != "" {
					if cl, err := h.Store.GetClient(ctx, c.realm.ID, r.ClientID); err == nil {
						name = cl.ClientID + "/" + r.Name
					}
				}
				out.Roles = append(out.Roles, name)
			}
		case "group":
			var defs []struct{ ID string }
			json.Unmarshal([]byte(a.Config["groups"]), &defs)
			for _, d := range defs {
				if path, err := h.groupPath(ctx, c, d.ID); err == nil {
					out.Groups = append(out.Groups, path)
				}
			}
		case "client":
			var ids []string
			json.Unmarshal([]byte(a.Config["clients"]), &ids)
			for _, id := range ids {
				if cl, err := h.Store.GetClient(ctx, c.realm.ID, id); err == nil {
					out.Clients = append(out.Clients, cl.ClientID)
				}
			}
		case "user":
			var ids []string
			json.Unmarshal([]byte(a.Config["users"]), &ids)
			for _, id := range ids {
				if u, err := h.Store.GetUser(ctx, c.realm.ID, id); err == nil {
					out.Users = append(out.Users, u.Username)
				}
			}
		}
	}
	return out, nil
}

// groupPath is a group's full path.
func (h *Handler) groupPath(ctx context.Context, c caller, id string) (string, error) {
	var names []string
	for id != "" && len(names) < 1000 {
		g, err := h.Store.GetGroup(ctx, c.realm.ID, id)
		if err != nil {
			return "", err
		}
		names = append([]string{g.Name}, names...)
		id = g.ParentID
	}
	return "/" + strings.Join(names, "/"), nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
