package admin

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// groupsAPI holds Keycloak's GroupsResource and GroupResource under
// /admin/realms/{realm}/groups. Listing and counting need query-groups,
// reading a group or its members view-users, changing manage-users; without
// those roles, the realm's fine-grained admin permissions may grant one
// group (fgap.go), and listings show only the groups the caller may view.
// Role mappings of groups are in rolemappings.go.
type groupsAPI struct{}

func (h *Handler) groupRoutes(mux Mux) {
	var a groupsAPI
	const g = "/admin/realms/{realm}/groups"
	const one = g + "/{id}"
	h.handle(mux, "GET "+g, "query-groups", a.list)
	h.handle(mux, "GET "+g+"/count", "query-groups", a.count)
	h.handle(mux, "POST "+g, "manage-users", a.create)
	h.handle(mux, "GET "+one, "view-users@group.view", a.withGroup(a.get))
	h.handle(mux, "PUT "+one, "manage-users@group.manage", a.withGroup(a.update))
	h.handle(mux, "DELETE "+one, "manage-users@group.manage", a.withGroup(a.delete))
	h.handle(mux, "GET "+one+"/children", "view-users@group.view", a.withGroup(a.children))
	h.handle(mux, "POST "+one+"/children", "manage-users@group.manage", a.withGroup(a.addChild))
	h.handle(mux, "GET "+one+"/members", "view-users@group.view-members", a.withGroup(a.members))
}

// seesAllGroups reports whether viewableGroups keeps every group.
func seesAllGroups(rq *Request) (bool, error) {
	if rq.Can("view-users") {
		return true, nil
	}
	c, err := rq.fgap()
	return err == nil && !c.On(), err
}

// viewableGroups keeps the groups of gs the caller may view: all of them
// for a caller holding view-users, and for a caller whom no fine-grained
// permission can grant anything (query-groups then lists every group, as
// it always has); otherwise those the permissions let the caller view.
func viewableGroups(rq *Request, gs []role.Group) ([]role.Group, error) {
	if all, err := seesAllGroups(rq); err != nil || all {
		return gs, err
	}
	return keep(gs, rq.canViewGroup)
}

func (a groupsAPI) withGroup(op func(rq *Request, g role.Group) error) endpoint {
	return func(rq *Request) error {
		g, err := rq.h.Store.GetGroup(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("id"))
		if errors.Is(err, store.ErrNotFound) {
			return notFound("Could not find group by id")
		}
		if err != nil {
			return err
		}
		return op(rq, g)
	}
}

// groupView renders groups for one call: paths need the ancestors, which it
// loads once each, and every group shows how many children it has.
type groupView struct {
	rq       *Request
	byID     map[string]role.Group
	counts   map[string]int64
	clientID map[string]string // internal id → clientId, loaded on first need
	access   map[string]bool
}

func newGroupView(rq *Request) (*groupView, error) {
	counts, err := rq.h.Store.SubGroupCounts(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return nil, err
	}
	v := &groupView{rq: rq, byID: map[string]role.Group{}, counts: counts}
	if rq.Can("manage-users") {
		// The role grants everything; no group needs its permissions read.
		v.access = map[string]bool{"view": true, "viewMembers": true, "manageMembers": true, "manage": true, "manageMembership": true}
	}
	return v, nil
}

func (v *groupView) group(id string) (role.Group, error) {
	if g, ok := v.byID[id]; ok {
		return g, nil
	}
	g, err := v.rq.h.Store.GetGroup(v.rq.R.Context(), v.rq.Realm.ID, id)
	if err != nil {
		return g, err
	}
	v.byID[id] = g
	return g, nil
}

// path is "/top/…/name". The store keeps the tree acyclic (MoveGroup), and
// the depth bound guards against a corrupt row anyway.
func (v *groupView) path(g role.Group) (string, error) {
	p := role.GroupPath("", g.Name)
	for depth := 0; g.ParentID != "" && depth < 1000; depth++ {
		parent, err := v.group(g.ParentID)
		if err != nil {
			return "", err
		}
		p = role.GroupPath("", parent.Name) + p
		g = parent
	}
	return p, nil
}

// rep is Keycloak's GroupRepresentation: brief (id, name, path, parentId,
// subGroupCount, no subgroups nested) or full (with attributes and the
// group's direct role mappings by name).
func (v *groupView) rep(g role.Group, full bool) (rep.Group, error) {
	path, err := v.path(g)
	if err != nil {
		return rep.Group{}, err
	}
	x := rep.GroupFromDomain(g, path)
	n := v.counts[g.ID]
	x.SubGroupCount = &n
	x.Access = v.access
	if x.Access == nil {
		if x.Access, err = v.rq.groupAccess(g); err != nil {
			return rep.Group{}, err
		}
	}
	if !full {
		x.Attributes, x.RealmRoles, x.ClientRoles = nil, nil, nil
		return x, nil
	}
	if x.Attributes == nil {
		x.Attributes = map[string][]string{}
	}
	ctx := v.rq.R.Context()
	roles, err := v.rq.h.Store.ListGroupRoles(ctx, g.ID)
	if err != nil {
		return x, err
	}
	for _, r := range roles {
		if r.ClientID == "" {
			x.RealmRoles = append(x.RealmRoles, r.Name)
			continue
		}
		if v.clientID == nil {
			cs, err := v.rq.h.Store.ListClients(ctx, v.rq.Realm.ID)
			if err != nil {
				return x, err
			}
			v.clientID = make(map[string]string, len(cs))
			for _, c := range cs {
				v.clientID[c.ID] = c.ClientID
			}
		}
		cid := v.clientID[r.ClientID]
		x.ClientRoles[cid] = append(x.ClientRoles[cid], r.Name)
	}
	return x, nil
}

func (v *groupView) reps(gs []role.Group, full bool) ([]rep.Group, error) {
	out := make([]rep.Group, 0, len(gs))
	for _, g := range gs {
		x, err := v.rep(g, full)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// hierarchy places each group under its ancestors up to the top level, as
// Keycloak's GroupUtils.populateGroupHierarchyFromSubGroups does for a
// search: the top-level groups come back, each carrying only the branches
// that lead to a match. Siblings are sorted by name.
func (v *groupView) hierarchy(gs []role.Group, full bool) ([]rep.Group, error) {
	type node struct {
		x    rep.Group
		kids []string
	}
	nodes := map[string]*node{}
	var roots []string
	add := func(g role.Group) (*node, bool, error) {
		if n, ok := nodes[g.ID]; ok {
			return n, false, nil
		}
		x, err := v.rep(g, full)
		if err != nil {
			return nil, false, err
		}
		n := &node{x: x}
		nodes[g.ID] = n
		return n, true, nil
	}
	for _, g := range gs {
		v.byID[g.ID] = g
		if _, fresh, err := add(g); err != nil || !fresh {
			if err != nil {
				return nil, err
			}
			continue
		}
		for cur := g; ; {
			if cur.ParentID == "" {
				roots = append(roots, cur.ID)
				break
			}
			parent, err := v.group(cur.ParentID)
			if err != nil {
				return nil, err
			}
			pn, fresh, err := add(parent)
			if err != nil {
				return nil, err
			}
			pn.kids = append(pn.kids, cur.ID)
			if !fresh {
				break // the rest of the way up is already built
			}
			cur = parent
		}
	}
	var build func(id string) rep.Group
	build = func(id string) rep.Group {
		n := nodes[id]
		x := n.x
		x.SubGroups = make([]rep.Group, 0, len(n.kids))
		for _, k := range n.kids {
			x.SubGroups = append(x.SubGroups, build(k))
		}
		slices.SortStableFunc(x.SubGroups, func(a, b rep.Group) int { return strings.Compare(a.Name, b.Name) })
		return x
	}
	out := make([]rep.Group, 0, len(roots))
	for _, id := range roots {
		out = append(out, build(id))
	}
	slices.SortStableFunc(out, func(a, b rep.Group) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// list is GET /groups: the top-level groups (first, max), or with search
// (exact) or q ("key:value …" on attributes) the matching groups placed in
// their hierarchy unless populateHierarchy=false. briefRepresentation
// defaults to true.
func (a groupsAPI) list(rq *Request) error {
	first, max, err := pageIfAsked(rq)
	if err != nil {
		return err
	}
	ctx, db, q := rq.R.Context(), rq.h.Store, rq.R.URL.Query()
	full := !rq.Bool("briefRepresentation", true)
	hierarchy := rq.Bool("populateHierarchy", true)
	// A caller who may view only some groups pages through those: the
	// whole list is read and filtered before the window is cut.
	all, err := seesAllGroups(rq)
	if err != nil {
		return err
	}
	window := func(gs []role.Group, err error) ([]role.Group, error) {
		if err != nil || all {
			return gs, err
		}
		if gs, err = viewableGroups(rq, gs); err != nil {
			return nil, err
		}
		return sliceWindow(gs, first, max), nil
	}
	pf, pm := first, max
	if !all {
		pf, pm = 0, -1
	}
	var gs []role.Group
	switch {
	case q.Has("q"):
		every, err := db.ListGroups(ctx, rq.Realm.ID)
		if err != nil {
			return err
		}
		want := kcSearchFields(q.Get("q"))
		for _, g := range every {
			if groupAttributesMatch(g, want) {
				gs = append(gs, g)
			}
		}
		slices.SortStableFunc(gs, func(a, b role.Group) int { return strings.Compare(a.Name, b.Name) })
		if all {
			gs = sliceWindow(gs, first, max)
		} else {
			gs, err = window(gs, nil)
		}
	case q.Has("search"):
		gs, err = window(db.SearchGroups(ctx, rq.Realm.ID, strings.TrimSpace(q.Get("search")), rq.Bool("exact", false), pf, pm))
	default:
		gs, err = window(db.ListSubGroups(ctx, rq.Realm.ID, store.RootGroup, pf, pm))
		hierarchy = false
	}
	if err != nil {
		return err
	}
	v, err := newGroupView(rq)
	if err != nil {
		return err
	}
	var out []rep.Group
	if hierarchy {
		out, err = v.hierarchy(gs, full)
	} else {
		out, err = v.reps(gs, full)
	}
	if err != nil {
		return err
	}
	return rq.JSON(out)
}

func groupAttributesMatch(g role.Group, want map[string]string) bool {
	for k, v := range want {
		if !slices.Contains(g.Attributes[k], v) {
			return false
		}
	}
	return true
}

// count is GET /groups/count: {"count": n}, with search or top=true.
func (a groupsAPI) count(rq *Request) error {
	ctx, db := rq.R.Context(), rq.h.Store
	search, top := strings.TrimSpace(rq.R.URL.Query().Get("search")), rq.Bool("top", false)
	all, err := seesAllGroups(rq)
	if err != nil {
		return err
	}
	if all {
		n, err := db.CountGroups(ctx, rq.Realm.ID, search, top)
		if err != nil {
			return err
		}
		return rq.JSON(map[string]int64{"count": n})
	}
	// A caller who views only some groups counts those, as the listing
	// shows them (Keycloak counts every group).
	var gs []role.Group
	switch {
	case search != "":
		gs, err = db.SearchGroups(ctx, rq.Realm.ID, search, false, 0, -1)
	case top:
		gs, err = db.ListSubGroups(ctx, rq.Realm.ID, store.RootGroup, 0, -1)
	default:
		gs, err = db.ListGroups(ctx, rq.Realm.ID)
	}
	if err != nil {
		return err
	}
	if gs, err = viewableGroups(rq, gs); err != nil {
		return err
	}
	return rq.JSON(map[string]int64{"count": int64(len(gs))})
}

// errGroupName is Keycloak's answer to a group without a name.
func (groupsAPI) nameMissing() error { return badRequest("Group name is missing") }

func (groupsAPI) newGroup(rq *Request, x rep.Group, parentID string) role.Group {
	g := x.ToDomain(rq.Realm.ID, parentID)
	g.ID = store.NewID()
	if g.Attributes == nil {
		g.Attributes = map[string][]string{}
	}
	return g
}

// move puts the group with id under parentID: 204, 404 when there is no
// such group, 409 (clash) when a sibling there has its name, 400 for a
// move under its own subtree. Every member of the moved subtree stops
// holding the old ancestors' roles and starts holding the new ones', so
// both sets pass requireConfer (issue 12: a manage-users admin moved her
// own group under one carrying realm-admin), and the group moved must be
// one the caller may manage.
func (groupsAPI) move(rq *Request, id, parentID string, clash func(name string) error) error {
	ctx := rq.R.Context()
	child, err := rq.h.Store.GetGroup(ctx, rq.Realm.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Could not find child by id")
	}
	if err != nil {
		return err
	}
	// The moved group's members come under the new parent's permissions,
	// so the group itself must be the caller's to manage.
	if ok, err := rq.canManageGroup(child); err != nil {
		return err
	} else if !ok {
		return errForbidden
	}
	err = rq.inTx(ctx, func(rq *Request, tx *store.DB) error {
		cur, err := tx.GetGroup(ctx, rq.Realm.ID, child.ID)
		if err != nil {
			return err
		}
		if cur.ParentID != parentID {
			lost, err := groupChainRoleIDs(ctx, tx, rq.Realm.ID, cur.ParentID)
			if err != nil {
				return err
			}
			gained, err := groupChainRoleIDs(ctx, tx, rq.Realm.ID, parentID)
			if err != nil {
				return err
			}
			if err := rq.requireConfer(ctx, append(lost, gained...)...); err != nil {
				return err
			}
		}
		return tx.MoveGroup(ctx, rq.Realm.ID, child.ID, parentID)
	})
	var we *web.Error
	switch {
	case errors.As(err, &we):
		return we
	case errors.Is(err, store.ErrConflict):
		return clash(child.Name)
	case errors.Is(err, store.ErrGroupCycle):
		return badRequest("Cannot move group " + child.Name + " under itself or one of its subgroups")
	case err != nil:
		return err
	}
	return rq.NoContent()
}

func topLevelClash(name string) error {
	return conflict("Top level group named '%s' already exists.", name)
}

func siblingClash(name string) error {
	return conflict("Sibling group named '%s' already exists.", name)
}

// create is POST /groups: a new top-level group (201 with Location), or,
// when the body carries an existing group's id, that group moved to the
// top level (204).
func (a groupsAPI) create(rq *Request) error {
	var x rep.Group
	if err := rq.decode(&x); err != nil {
		return err
	}
	if strings.TrimSpace(x.Name) == "" {
		return a.nameMissing()
	}
	if x.ID != "" {
		return a.move(rq, x.ID, store.RootGroup, topLevelClash)
	}
	g := a.newGroup(rq, x, store.RootGroup)
	err := rq.h.Store.CreateGroup(rq.R.Context(), g)
	if errors.Is(err, store.ErrConflict) {
		return topLevelClash(x.Name)
	}
	if err != nil {
		return err
	}
	return rq.Created(rq.URL("/groups/" + g.ID))
}

func (a groupsAPI) get(rq *Request, g role.Group) error {
	v, err := newGroupView(rq)
	if err != nil {
		return err
	}
	x, err := v.rep(g, true)
	if err != nil {
		return err
	}
	return rq.JSON(x)
}

// update is PUT /groups/{id}: name and, when given, description and
// attributes; subgroups
// and role mappings in the body are ignored, as in Keycloak.
func (a groupsAPI) update(rq *Request, g role.Group) error {
	var x rep.Group
	if err := rq.decode(&x); err != nil {
		return err
	}
	if strings.TrimSpace(x.Name) == "" {
		return a.nameMissing()
	}
	if x.ID != "" && x.ID != g.ID {
		return badRequest("Invalid group id")
	}
	err := rq.h.Store.UpdateGroup(rq.R.Context(), rq.Realm.ID, g.ID, func(cur *role.Group) error {
		cur.Name = x.Name
		if x.Description != nil {
			cur.Description = *x.Description
		}
		if x.Attributes != nil {
			cur.Attributes = x.ToDomain(cur.RealmID, cur.ParentID).Attributes
		}
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return siblingClash(x.Name)
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// delete is DELETE /groups/{id}: the group and its whole subtree, with
// the fine-grained admin permissions of each, in one transaction.
func (a groupsAPI) delete(rq *Request, g role.Group) error {
	ctx := rq.R.Context()
	err := adminperm.DeleteGroup(ctx, rq.h.Store, rq.Realm.ID, g.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return rq.NoContent()
}

// children is GET /groups/{id}/children: first (0), max (10), search and
// exact, briefRepresentation (default false), subGroupsCount (default true).
func (a groupsAPI) children(rq *Request, g role.Group) error {
	first, max, err := rq.Page()
	if err != nil {
		return err
	}
	q := rq.R.URL.Query()
	if !q.Has("max") {
		max = 10
	}
	ctx, db := rq.R.Context(), rq.h.Store
	var kids []role.Group
	if search := q.Get("search"); search != "" {
		all, err := db.ListSubGroups(ctx, rq.Realm.ID, g.ID, 0, -1)
		if err != nil {
			return err
		}
		exact := rq.Bool("exact", false)
		for _, k := range all {
			if exact && k.Name == search || !exact && strings.Contains(strings.ToLower(k.Name), strings.ToLower(search)) {
				kids = append(kids, k)
			}
		}
		if kids, err = viewableGroups(rq, kids); err != nil {
			return err
		}
		kids = sliceWindow(kids, first, max)
	} else if all, err := seesAllGroups(rq); err != nil {
		return err
	} else if !all {
		if kids, err = db.ListSubGroups(ctx, rq.Realm.ID, g.ID, 0, -1); err != nil {
			return err
		}
		if kids, err = viewableGroups(rq, kids); err != nil {
			return err
		}
		kids = sliceWindow(kids, first, max)
	} else if kids, err = db.ListSubGroups(ctx, rq.Realm.ID, g.ID, first, max); err != nil {
		return err
	}
	v, err := newGroupView(rq)
	if err != nil {
		return err
	}
	v.byID[g.ID] = g
	out, err := v.reps(kids, !rq.Bool("briefRepresentation", false))
	if err != nil {
		return err
	}
	if !rq.Bool("subGroupsCount", true) {
		for i := range out {
			out[i].SubGroupCount = nil
		}
	}
	return rq.JSON(out)
}

// addChild is POST /groups/{id}/children: a new subgroup (201 with
// Location and the new group), or, when the body carries an existing
// group's id, that group moved here (204).
func (a groupsAPI) addChild(rq *Request, parent role.Group) error {
	var x rep.Group
	if err := rq.decode(&x); err != nil {
		return err
	}
	if strings.TrimSpace(x.Name) == "" {
		return a.nameMissing()
	}
	if x.ID != "" {
		return a.move(rq, x.ID, parent.ID, siblingClash)
	}
	g := a.newGroup(rq, x, parent.ID)
	err := rq.h.Store.CreateGroup(rq.R.Context(), g)
	if errors.Is(err, store.ErrConflict) {
		return siblingClash(x.Name)
	}
	if err != nil {
		return err
	}
	v, err := newGroupView(rq)
	if err != nil {
		return err
	}
	out, err := v.rep(g, true)
	if err != nil {
		return err
	}
	rq.W.Header().Set("Location", rq.URL("/groups/"+g.ID))
	return web.WriteJSON(rq.W, http.StatusCreated, out)
}

// members is GET /groups/{id}/members: the direct members by username,
// first and max, briefRepresentation (default false).
func (a groupsAPI) members(rq *Request, g role.Group) error {
	first, max, err := rq.Page()
	if err != nil {
		return err
	}
	us, err := rq.h.Store.ListGroupMembers(rq.R.Context(), rq.Realm.ID, g.ID, first, max)
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

// listedUser is a user as the group, role and client listings show it:
// Keycloak's full representation (with totp) or its brief one. Never a
// credential (SECURITY.md M8).
func listedUser(rq *Request, u user.User, brief bool) (rep.User, error) {
	x := rep.UserFromDomain(u)
	if brief {
		x.Attributes, x.RequiredActions, x.DisableableCredentialTypes, x.NotBefore = nil, nil, nil, nil
		return x, nil
	}
	creds, err := rq.h.Store.ListCredentials(rq.R.Context(), u.ID)
	if err != nil {
		return x, err
	}
	for _, c := range creds {
		if c.Type == "otp" {
			x.Totp = true
		}
	}
	return x, nil
}
