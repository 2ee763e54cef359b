package admin

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Realm routes about groups and sessions as a whole: the default groups
// every new user joins, finding a group by its path, and how many sessions
// each client holds.
func (h *Handler) realmGroupRoutes(mux Mux) {
	const one = "/admin/realms/{realm}"
	var a groupsAPI
	h.handle(mux, "GET "+one+"/default-groups", "view-realm", a.defaultGroups)
	h.handle(mux, "PUT "+one+"/default-groups/{groupId}", "manage-realm", a.setDefaultGroup(true))
	h.handle(mux, "DELETE "+one+"/default-groups/{groupId}", "manage-realm", a.setDefaultGroup(false))
	// The path holds slashes ("/parent/child"), which the admin client sends
	// escaped or not.
	h.handle(mux, "GET "+one+"/group-by-path/{path...}", "view-users@group.by-path", a.byPath)
	h.handle(mux, "GET "+one+"/client-session-stats", "view-realm", h.clientSessionStats)
}

// defaultGroups answers the realm's default groups, brief, in the order
// they were added; groups deleted since are left out.
func (a groupsAPI) defaultGroups(rq *Request) error {
	v, err := newGroupView(rq)
	if err != nil {
		return err
	}
	out := []rep.Group{}
	for _, id := range rq.Realm.DefaultGroupIDs {
		g, err := v.group(id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		x, err := v.rep(g, false)
		if err != nil {
			return err
		}
		out = append(out, x)
	}
	return rq.JSON(out)
}

// setDefaultGroup adds or removes a default group. Making a group a default
// hands its roles to every new user, so the caller must be able to confer
// them (requireConfer), as for the default role.
func (a groupsAPI) setDefaultGroup(add bool) endpoint {
	return func(rq *Request) error {
		ctx := rq.R.Context()
		id := rq.R.PathValue("groupId")
		g, err := rq.h.Store.GetGroup(ctx, rq.Realm.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("Group not found")
		}
		if err != nil {
			return err
		}
		if add {
			rs, err := rep.MemberRoles(ctx, rq.h.Store, rq.Realm.ID, g.ID)
			if err != nil {
				return err
			}
			roleIDs := make([]string, 0, len(rs))
			for _, r := range rs {
				roleIDs = append(roleIDs, r.ID)
			}
			if err := rq.requireConfer(ctx, roleIDs...); err != nil {
				return err
			}
		}
		err = rq.h.Store.UpdateRealm(ctx, rq.Realm.ID, func(r *realm.Realm) error {
			r.DefaultGroupIDs = slices.DeleteFunc(r.DefaultGroupIDs, func(x string) bool { return x == g.ID })
			if add {
				r.DefaultGroupIDs = append(r.DefaultGroupIDs, g.ID)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return rq.NoContent()
	}
}

// byPath answers GET /group-by-path/{path}: the group at "/parent/child"
// (the leading slash may be left out), in full.
func (a groupsAPI) byPath(rq *Request) error {
	g, err := groupByPath(rq)
	if err != nil {
		return err
	}
	return a.get(rq, g)
}

// errGroupPathNotFound is Keycloak's answer to a path no group has.
var errGroupPathNotFound = notFound("Group path does not exist")

// groupByPath finds the group the path parameter names.
func groupByPath(rq *Request) (role.Group, error) {
	want := "/" + strings.TrimPrefix(rq.R.PathValue("path"), "/")
	all, err := rq.h.Store.ListGroups(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return role.Group{}, err
	}
	for id, p := range role.GroupPaths(all) {
		if p == want {
			return all[slices.IndexFunc(all, func(g role.Group) bool { return g.ID == id })], nil
		}
	}
	return role.Group{}, errGroupPathNotFound
}

// clientSessionStats answers, for each client holding sessions, its
// counts as Keycloak gives them: strings.
func (h *Handler) clientSessionStats(rq *Request) error {
	ctx := rq.R.Context()
	counts, err := h.Store.ClientSessionCounts(ctx, rq.Realm.ID)
	if err != nil {
		return err
	}
	cs, err := h.Store.ListClients(ctx, rq.Realm.ID)
	if err != nil {
		return err
	}
	out := []map[string]string{}
	for _, c := range cs {
		n, ok := counts[c.ID]
		if !ok {
			continue
		}
		out = append(out, map[string]string{"id": c.ID, "clientId": c.ClientID,
			"active": strconv.Itoa(n[0]), "offline": strconv.Itoa(n[1])})
	}
	return rq.JSON(out)
}
