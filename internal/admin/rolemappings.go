package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// roleMappingRoutes serves Keycloak's RoleMapperResource and
// ClientRoleMappingsResource for users and groups: the roles mapped directly
// (realm and per client), the ones still available to map, and the
// effective ("composite") ones. Reading needs view-users, changing needs
// manage-users, for groups as for users (Keycloak's group permissions
// resolve to the same two roles). Without those roles, the realm's
// fine-grained admin permissions may grant the user or group (fgap.go);
// such a caller also needs each role's map-role permission (mayMapRole).
// Every role granted or taken away also passes requireConfer
// (escalation.go), whoever the caller is.
func (h *Handler) roleMappingRoutes(mux Mux) {
	for _, c := range []struct {
		kind         holderKind
		view, change string
	}{
		{holderUser, "view-users@user.view", "manage-users@user.map-roles"},
		{holderGroup, "view-users@group.view", "manage-users@group.manage"},
	} {
		a := roleMappingAPI{kind: c.kind}
		view, change := c.view, c.change
		base := "/admin/realms/{realm}/" + string(c.kind) + "/{id}/role-mappings"
		h.handle(mux, "GET "+base, view, a.all)
		h.handle(mux, "GET "+base+"/realm", view, a.direct)
		h.handle(mux, "POST "+base+"/realm", change, a.add)
		h.handle(mux, "DELETE "+base+"/realm", change, a.remove)
		h.handle(mux, "GET "+base+"/realm/available", view, a.available)
		h.handle(mux, "GET "+base+"/realm/composite", view, a.effective)
		h.handle(mux, "GET "+base+"/clients/{client}", view, a.direct)
		h.handle(mux, "POST "+base+"/clients/{client}", change, a.add)
		h.handle(mux, "DELETE "+base+"/clients/{client}", change, a.remove)
		h.handle(mux, "GET "+base+"/clients/{client}/available", view, a.available)
		h.handle(mux, "GET "+base+"/clients/{client}/composite", view, a.effective)
	}
}

// requireMap answers 403 unless the caller may change who holds each of
// roles: mayMapRole for each, then the escalation rule for all.
func (rq *Request) requireMap(ctx context.Context, roles []role.Role) error {
	if err := requireEachRole(roles, rq.mayMapRole); err != nil {
		return err
	}
	return rq.requireConfer(ctx, idsOfRoles(roles)...)
}

// holderKind names what role mappings belong to, as the path segment does.
type holderKind string

const (
	holderUser  holderKind = "users"
	holderGroup holderKind = "groups"
)

type roleMappingAPI struct{ kind holderKind }

// roleHolder is the user or group whose mappings a call reads or changes.
type roleHolder struct {
	kind holderKind
	id   string
	db   *store.DB
}

// holder loads the user or group in the path: 404 with Keycloak's message
// when it does not exist in the realm.
func (a roleMappingAPI) holder(rq *Request) (roleHolder, error) {
	ctx, id := rq.R.Context(), rq.R.PathValue("id")
	var err error
	if a.kind == holderUser {
		_, err = rq.h.Store.GetUser(ctx, rq.Realm.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			return roleHolder{}, notFound("User not found")
		}
	} else {
		_, err = rq.h.Store.GetGroup(ctx, rq.Realm.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			return roleHolder{}, notFound("Could not find group by id")
		}
	}
	if err != nil {
		return roleHolder{}, err
	}
	return roleHolder{kind: a.kind, id: id, db: rq.h.Store}, nil
}

// directRoles are the roles mapped to the holder itself.
func (x roleHolder) directRoles(ctx context.Context) ([]role.Role, error) {
	if x.kind == holderUser {
		return x.db.ListUserRoles(ctx, x.id)
	}
	return x.db.ListGroupRoles(ctx, x.id)
}

// effectiveIDs are the ids of every role the holder has: for a user through
// its groups too, for a group through its ancestors, and through composites.
func (x roleHolder) effectiveIDs(ctx context.Context, realmID string, c *roleCatalog) (map[string]bool, error) {
	var ids []string
	if x.kind == holderUser {
		var err error
		if ids, err = x.db.EffectiveRoleIDs(ctx, realmID, x.id); err != nil {
			return nil, err
		}
	} else {
		rs, err := groupChainRoles(ctx, x.db, realmID, x.id)
		if err != nil {
			return nil, err
		}
		ids = role.Expand(idsOfRoles(rs), c.graph)
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

func (x roleHolder) grant(ctx context.Context, ids []string) error {
	if x.kind == holderUser {
		return x.db.AddUserRoles(ctx, x.id, ids...)
	}
	return x.db.AddGroupRoles(ctx, x.id, ids...)
}

func (x roleHolder) revoke(ctx context.Context, ids []string) error {
	if x.kind == holderUser {
		return x.db.RemoveUserRoles(ctx, x.id, ids...)
	}
	return x.db.RemoveGroupRoles(ctx, x.id, ids...)
}

// scope is the part of the mappings a call is about: the realm roles, or
// the roles of the client in the path ({client} is its internal id).
type mappingScope struct {
	client *client.Client
}

func (s mappingScope) holds(r role.Role) bool {
	if s.client == nil {
		return r.ClientID == ""
	}
	return r.ClientID == s.client.ID
}

func (a roleMappingAPI) scope(rq *Request) (mappingScope, error) {
	id := rq.R.PathValue("client")
	if id == "" {
		return mappingScope{}, nil
	}
	c, err := rq.h.Store.GetClient(rq.R.Context(), rq.Realm.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return mappingScope{}, notFound("Client not found")
	}
	if err != nil {
		return mappingScope{}, err
	}
	return mappingScope{client: &c}, nil
}

// mappingsRepresentation is Keycloak's MappingsRepresentation; an empty part
// is left out, as Keycloak leaves it null.
type mappingsRepresentation struct {
	RealmMappings  []rep.Role                              `json:"realmMappings,omitempty"`
	ClientMappings map[string]clientMappingsRepresentation `json:"clientMappings,omitempty"`
}

// clientMappingsRepresentation is one client's part, keyed by its clientId.
type clientMappingsRepresentation struct {
	ID       string     `json:"id"`
	Client   string     `json:"client"`
	Mappings []rep.Role `json:"mappings"`
}

// all answers GET .../role-mappings.
func (a roleMappingAPI) all(rq *Request) error {
	ctx := rq.R.Context()
	x, err := a.holder(rq)
	if err != nil {
		return err
	}
	cat, err := loadRoleCatalog(ctx, rq)
	if err != nil {
		return err
	}
	direct, err := x.directRoles(ctx)
	if err != nil {
		return err
	}
	return rq.JSON(cat.mappings(direct))
}

// mappings is the MappingsRepresentation of directly mapped roles: realm
// roles, and each client's roles under its clientId.
func (c *roleCatalog) mappings(direct []role.Role) mappingsRepresentation {
	var out mappingsRepresentation
	for _, r := range direct {
		if r.ClientID == "" {
			out.RealmMappings = append(out.RealmMappings, c.brief(r))
			continue
		}
		cl, ok := c.clients[r.ClientID]
		if !ok {
			continue
		}
		if out.ClientMappings == nil {
			out.ClientMappings = map[string]clientMappingsRepresentation{}
		}
		m := out.ClientMappings[cl.ClientID]
		m.ID, m.Client = cl.ID, cl.ClientID
		m.Mappings = append(m.Mappings, c.brief(r))
		out.ClientMappings[cl.ClientID] = m
	}
	return out
}

// direct answers GET .../realm and GET .../clients/{client}.
func (a roleMappingAPI) direct(rq *Request) error {
	ctx := rq.R.Context()
	x, err := a.holder(rq)
	if err != nil {
		return err
	}
	sc, err := a.scope(rq)
	if err != nil {
		return err
	}
	cat, err := loadRoleCatalog(ctx, rq)
	if err != nil {
		return err
	}
	direct, err := x.directRoles(ctx)
	if err != nil {
		return err
	}
	return rq.JSON(cat.briefIn(sc, direct))
}

// briefIn is the brief representation of the roles of rs within sc.
func (c *roleCatalog) briefIn(sc mappingScope, rs []role.Role) []rep.Role {
	out := []rep.Role{}
	for _, r := range rs {
		if sc.holds(r) {
			out = append(out, c.brief(r))
		}
	}
	return out
}

// available answers .../available: the roles of the scope not mapped
// directly that the caller may grant.
func (a roleMappingAPI) available(rq *Request) error {
	ctx := rq.R.Context()
	x, err := a.holder(rq)
	if err != nil {
		return err
	}
	sc, err := a.scope(rq)
	if err != nil {
		return err
	}
	cat, err := loadRoleCatalog(ctx, rq)
	if err != nil {
		return err
	}
	direct, err := x.directRoles(ctx)
	if err != nil {
		return err
	}
	mapped := map[string]bool{}
	for _, r := range direct {
		mapped[r.ID] = true
	}
	out := []rep.Role{}
	for _, r := range cat.all {
		if !sc.holds(r) || mapped[r.ID] {
			continue
		}
		ok, err := rq.mayMapRole(r)
		if err != nil {
			return err
		}
		if ok {
			ok, err = rq.mayConfer(ctx, r.ID)
		}
		if err != nil {
			return err
		}
		if ok {
			out = append(out, cat.brief(r))
		}
	}
	return rq.JSON(out)
}

// effective answers .../composite: every role of the scope the holder has,
// directly, through groups or through composites. briefRepresentation=false
// adds the roles' attributes.
func (a roleMappingAPI) effective(rq *Request) error {
	ctx := rq.R.Context()
	x, err := a.holder(rq)
	if err != nil {
		return err
	}
	sc, err := a.scope(rq)
	if err != nil {
		return err
	}
	cat, err := loadRoleCatalog(ctx, rq)
	if err != nil {
		return err
	}
	has, err := x.effectiveIDs(ctx, rq.Realm.ID, cat)
	if err != nil {
		return err
	}
	return rq.JSON(cat.listed(rq, sc, func(r role.Role) bool { return has[r.ID] }))
}

// listed is every role of sc that keep accepts, brief unless the call asks
// for briefRepresentation=false (then with attributes), in catalog order.
func (c *roleCatalog) listed(rq *Request, sc mappingScope, keep func(role.Role) bool) []rep.Role {
	brief := rq.Bool("briefRepresentation", true)
	out := []rep.Role{}
	for _, r := range c.all {
		if !sc.holds(r) || !keep(r) {
			continue
		}
		if brief {
			out = append(out, c.brief(r))
		} else {
			out = append(out, c.full(r))
		}
	}
	return out
}

// add answers POST .../realm and POST .../clients/{client}. Every role is
// resolved and checked before anything is written: one unknown role is a
// 404 and one the caller may not grant is a 403, with nothing changed.
func (a roleMappingAPI) add(rq *Request) error {
	ctx := rq.R.Context()
	x, err := a.holder(rq)
	if err != nil {
		return err
	}
	sc, err := a.scope(rq)
	if err != nil {
		return err
	}
	var body []rep.Role
	if err := rq.decode(&body); err != nil {
		return err
	}
	cat, err := loadRoleCatalog(ctx, rq)
	if err != nil {
		return err
	}
	roles, err := cat.resolve(sc, body)
	if err != nil {
		return err
	}
	if err := rq.requireMap(ctx, roles); err != nil {
		return err
	}
	if err := x.grant(ctx, idsOfRoles(roles)); err != nil {
		return err
	}
	return rq.NoContent()
}

// remove answers DELETE .../realm and DELETE .../clients/{client}. Without
// a body every direct mapping of the scope goes, as in Keycloak. Taking a
// role away needs the same right as granting it.
func (a roleMappingAPI) remove(rq *Request) error {
	ctx := rq.R.Context()
	x, err := a.holder(rq)
	if err != nil {
		return err
	}
	sc, err := a.scope(rq)
	if err != nil {
		return err
	}
	body, given, err := rq.optionalRoles()
	if err != nil {
		return err
	}
	cat, err := loadRoleCatalog(ctx, rq)
	if err != nil {
		return err
	}
	var roles []role.Role
	if !given {
		direct, err := x.directRoles(ctx)
		if err != nil {
			return err
		}
		for _, r := range direct {
			if sc.holds(r) {
				roles = append(roles, r)
			}
		}
	} else if roles, err = cat.resolve(sc, body); err != nil {
		return err
	}
	if err := rq.requireMap(ctx, roles); err != nil {
		return err
	}
	if err := x.revoke(ctx, idsOfRoles(roles)); err != nil {
		return err
	}
	return rq.NoContent()
}

// optionalRoles reads the role list of a DELETE body; given is false when
// the body is empty or null, which Keycloak reads as "every mapping".
func (rq *Request) optionalRoles() (body []rep.Role, given bool, err error) {
	raw, err := io.ReadAll(http.MaxBytesReader(rq.W, rq.R.Body, maxJSONBody))
	if err != nil {
		return nil, false, errBadJSON
	}
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return nil, false, nil
	}
	if err := json.Unmarshal(t, &body); err != nil {
		return nil, false, errBadJSON
	}
	return body, true, nil
}

// roleCatalog is the realm's roles, composite edges and clients, loaded once
// per call, with the caller's grant decisions remembered.
type roleCatalog struct {
	all     []role.Role // ordered by client, then name
	byID    map[string]role.Role
	graph   map[string][]string
	clients map[string]client.Client // by internal id
}

func loadRoleCatalog(ctx context.Context, rq *Request) (*roleCatalog, error) {
	db, realmID := rq.h.Store, rq.Realm.ID
	all, err := db.ListAllRoles(ctx, realmID)
	if err != nil {
		return nil, err
	}
	graph, err := db.CompositeGraph(ctx, realmID)
	if err != nil {
		return nil, err
	}
	cs, err := db.ListClients(ctx, realmID)
	if err != nil {
		return nil, err
	}
	c := &roleCatalog{all: all, byID: make(map[string]role.Role, len(all)), graph: graph,
		clients: make(map[string]client.Client, len(cs))}
	for _, r := range all {
		c.byID[r.ID] = r
	}
	for _, cl := range cs {
		c.clients[cl.ID] = cl
	}
	return c, nil
}

// brief is Keycloak's brief RoleRepresentation (no attributes).
func (c *roleCatalog) brief(r role.Role) rep.Role {
	x := rep.RoleFromDomain(r, len(c.graph[r.ID]) > 0)
	x.Attributes = nil
	return x
}

// full is the RoleRepresentation with attributes ({} when none).
func (c *roleCatalog) full(r role.Role) rep.Role {
	return rep.RoleFromDomain(r, len(c.graph[r.ID]) > 0)
}

// errMappedRoleNotFound is Keycloak's answer when a role in a mapping body is not
// a role of the realm (or of the client in the path).
var errMappedRoleNotFound = notFound("Role not found")

// resolve finds each role of a request body within the scope: by name, and
// when the body also carries an id it must be that role's (as Keycloak
// requires); by id alone when there is no name.
func (c *roleCatalog) resolve(sc mappingScope, body []rep.Role) ([]role.Role, error) {
	out := make([]role.Role, 0, len(body))
	for _, x := range body {
		var (
			r     role.Role
			found bool
		)
		if x.Name != "" {
			for _, cand := range c.all {
				if sc.holds(cand) && cand.Name == x.Name {
					r, found = cand, true
					break
				}
			}
			if found && x.ID != "" && x.ID != r.ID {
				found = false
			}
		} else if x.ID != "" {
			r, found = c.byID[x.ID]
			found = found && sc.holds(r)
		}
		if !found {
			return nil, errMappedRoleNotFound
		}
		out = append(out, r)
	}
	return out, nil
}

// groupChainRoles returns the roles mapped to a group and to each of its
// ancestors: what a member of the group receives.
func groupChainRoles(ctx context.Context, db *store.DB, realmID, groupID string) ([]role.Role, error) {
	var out []role.Role
	seen := map[string]bool{}
	for id := groupID; id != "" && !seen[id]; {
		seen[id] = true
		rs, err := db.ListGroupRoles(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
		g, err := db.GetGroup(ctx, realmID, id)
		if err != nil {
			return nil, err
		}
		id = g.ParentID
	}
	return out, nil
}

func idsOfRoles(rs []role.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}
