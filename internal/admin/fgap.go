package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Fine-grained admin permissions (package adminperm) reach the admin API
// in one way: a route's permission may name an object rule after an "@",
// as in "view-users@user.view". The guard checks the admin role first (the
// fast path: a caller holding view-users never evaluates a policy); only a
// caller without it has the rule run, and the rule asks the realm's
// permissions about the object in the path. A rule answering false is the
// same 403 as a missing role. Routes without a rule need their role.
//
// To protect another kind of object, add its rules to objectRules with the
// kind as prefix ("client.view") and name them in the routes. A rule
// should load its object as the endpoint will, and answer a missing object
// with errorIfMissing, so that a caller who may not list the objects
// learns nothing from 404s.
//
// Rules that combine the admin roles with the permissions (a user is
// viewable with view-users, with the Users resource's view or manage, or
// through a group's view-members or manage-members) are here, in one
// place, for the routes' rules and for the endpoints that filter lists or
// fill in "access" with them.

// objectRule decides whether the caller, lacking the route's role, may
// call the route on the object in the path.
type objectRule func(rq *Request) (bool, error)

// objectRules are the rules routes can name, by name.
var objectRules = map[string]objectRule{
	// The users resource as a whole: listing and counting users.
	"users.view": func(rq *Request) (bool, error) { return rq.canViewAllUsers() },
	// Creating a user: manage on the Users resource, or a body putting the
	// user in groups whose members and membership the caller manages.
	"users.create":     func(rq *Request) (bool, error) { return rq.canCreateUser() },
	"user.view":        userRule(func(rq *Request, u user.User) (bool, error) { return rq.canViewUser(u) }),
	"user.manage":      userRule(func(rq *Request, u user.User) (bool, error) { return rq.canManageUser(u) }),
	"user.map-roles":   userRule(func(rq *Request, u user.User) (bool, error) { return rq.canMapRolesOf(u) }),
	"user.impersonate": userRule(func(rq *Request, _ user.User) (bool, error) { return rq.canImpersonate() }),
	// Joining or leaving a group: the user's membership may change, and the
	// group's membership may change.
	"user.group-membership": userRule(func(rq *Request, u user.User) (bool, error) {
		ok, err := rq.canManageGroupMembership(u)
		if err != nil || !ok {
			return false, err
		}
		g, err := pathGroup(rq, "groupId", notFound("Group not found"))
		if err != nil {
			return false, err
		}
		return rq.canManageMembershipOf(g)
	}),
	// A user's brute-force record, under /attack-detection: the user's
	// rule, or for an id no user has (a record may outlive its user) the
	// rule on all users.
	"login-failure.view":   loginFailureRule((*Request).canViewUser, (*Request).canViewAllUsers),
	"login-failure.manage": loginFailureRule((*Request).canManageUser, (*Request).canManageAllUsers),
	"group.by-path": func(rq *Request) (bool, error) {
		g, err := groupByPath(rq)
		if errors.Is(err, errGroupPathNotFound) {
			return false, errorIfMissing(rq, "query-groups", err)
		}
		if err != nil {
			return false, err
		}
		return rq.canViewGroup(g)
	},
	"group.view":         groupRule(func(rq *Request, g role.Group) (bool, error) { return rq.canViewGroup(g) }),
	"group.manage":       groupRule(func(rq *Request, g role.Group) (bool, error) { return rq.canManageGroup(g) }),
	"group.view-members": groupRule(func(rq *Request, g role.Group) (bool, error) { return rq.canViewMembersOf(g) }),
	// One client (clients.go).
	"client.view":      clientRule((*Request).canViewClient),
	"client.configure": clientRule((*Request).canConfigureClient),
	"client.manage":    clientRule((*Request).canManageClient),
	// One role: a realm role's are view-realm and manage-realm; a client
	// role is viewed with its client and managed by who configures it.
	"role.view":   roleRule("view-realm", (*Request).canViewClient),
	"role.manage": roleRule("manage-realm", (*Request).canConfigureClient),
}

// splitPerm reads a route's permission: the admin role, and the object
// rule named after "@" (nil when none). An unknown rule is a programming
// error, caught when the route is registered.
func splitPerm(perm string) (string, objectRule) {
	roleName, ruleName, ok := strings.Cut(perm, "@")
	if !ok {
		return perm, nil
	}
	rule, known := objectRules[ruleName]
	if !known {
		panic(fmt.Sprintf("admin: route permission %q names no object rule", perm))
	}
	return roleName, rule
}

// errorIfMissing answers a rule's missing object: the endpoint's 404 for a
// caller holding the role that lists such objects (they could find out
// anyway), 403 for others, who may not probe ids.
func errorIfMissing(rq *Request, listRole string, notFoundErr error) error {
	if rq.Can(listRole) {
		return notFoundErr
	}
	return errForbidden
}

// pathObject loads the object the path parameter param names, answering
// its absence as errorIfMissing does.
func pathObject[T any](rq *Request, param, listRole string, missing error, load func(ctx context.Context, realmID, id string) (T, error)) (T, error) {
	x, err := load(rq.R.Context(), rq.Realm.ID, rq.R.PathValue(param))
	if errors.Is(err, store.ErrNotFound) {
		return x, errorIfMissing(rq, listRole, missing)
	}
	return x, err
}

func pathUser(rq *Request) (user.User, error) {
	return pathObject(rq, "id", "query-users", notFound("User not found"), rq.h.Store.GetUser)
}

func pathGroup(rq *Request, param string, missing error) (role.Group, error) {
	return pathObject(rq, param, "query-groups", missing, rq.h.Store.GetGroup)
}

func userRule(fn func(rq *Request, u user.User) (bool, error)) objectRule {
	return func(rq *Request) (bool, error) {
		u, err := pathUser(rq)
		if err != nil {
			return false, err
		}
		return fn(rq, u)
	}
}

func loginFailureRule(one func(rq *Request, u user.User) (bool, error), all func(rq *Request) (bool, error)) objectRule {
	return func(rq *Request) (bool, error) {
		u, err := rq.h.Store.GetUser(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("userId"))
		if errors.Is(err, store.ErrNotFound) {
			return all(rq)
		}
		if err != nil {
			return false, err
		}
		return one(rq, u)
	}
}

func groupRule(fn func(rq *Request, g role.Group) (bool, error)) objectRule {
	return func(rq *Request) (bool, error) {
		g, err := pathGroup(rq, "id", notFound("Could not find group by id"))
		if err != nil {
			return false, err
		}
		return fn(rq, g)
	}
}

// fgap returns the caller's Checker for the target realm, loaded once per
// call. Callers of another realm get one that grants nothing.
func (rq *Request) fgap() (*adminperm.Checker, error) {
	if rq.checker != nil {
		return rq.checker, nil
	}
	if rq.Caller == nil {
		// The client registration service runs admin code on behalf of no
		// administrator: it is granted nothing.
		rq.checker = &adminperm.Checker{}
		return rq.checker, nil
	}
	t := rq.Caller.Token
	c, err := adminperm.Load(rq.R.Context(), rq.h.Store, rq.Realm, t.User, t.Client, rq.Now())
	if err != nil {
		return nil, err
	}
	rq.checker = c
	return c, nil
}

// userGroupIDs are the groups u is a direct member of, read once per call
// (a user's "access" asks four rules about them).
func (rq *Request) userGroupIDs(ctx context.Context, u user.User) ([]string, error) {
	if ids, ok := rq.userGroups[u.ID]; ok {
		return ids, nil
	}
	gs, err := rq.h.Store.ListUserGroups(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	if rq.userGroups == nil {
		rq.userGroups = map[string][]string{}
	}
	rq.userGroups[u.ID] = ids
	return ids, nil
}

// orGrant answers ok (or err) when the admin roles decided ok already,
// and otherwise what grant reads in the caller's permissions: the shape of
// every rule below, which evaluates no policy for a caller whose roles
// suffice.
func (rq *Request) orGrant(ok bool, err error, grant func(c *adminperm.Checker) bool) (bool, error) {
	if err != nil || ok {
		return ok, err
	}
	c, err := rq.fgap()
	return err == nil && grant(c), err
}

// canViewAllUsers: view-users, or view or manage on the Users resource.
func (rq *Request) canViewAllUsers() (bool, error) {
	return rq.orGrant(rq.Can("view-users"), nil, func(c *adminperm.Checker) bool {
		return c.Users(adminperm.View) || c.Users(adminperm.Manage)
	})
}

// canManageAllUsers: manage-users, or manage on the Users resource.
func (rq *Request) canManageAllUsers() (bool, error) {
	return rq.orGrant(rq.Can("manage-users"), nil, func(c *adminperm.Checker) bool { return c.Users(adminperm.Manage) })
}

// canCreateUser: for a body naming groups (by path; paths no group has
// are left to the endpoint's answer), manage-members and manage-membership
// on every group named; for one naming none, manage on all users. Users
// manage alone does not place a new user in a group (Gatehouse asks what
// joining one asks, where Keycloak asks nothing): a group's members may
// hold what policies grant the group.
func (rq *Request) canCreateUser() (bool, error) {
	var x struct {
		Groups []string `json:"groups"`
	}
	if err := rq.decode(&x); err != nil {
		return false, err
	}
	found := false
	for _, p := range x.Groups {
		g, err := rq.h.Store.GroupByPath(rq.R.Context(), rq.Realm.ID, p)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if ok, err := rq.canManageMembersOf(g); err != nil || !ok {
			return false, err
		}
		if ok, err := rq.canManageMembershipOf(g); err != nil || !ok {
			return false, err
		}
		found = true
	}
	if found {
		return true, nil
	}
	return rq.canManageAllUsers()
}

// canViewUser: all users, or u through one of its groups (or their
// ancestors) granting view-members or manage-members.
func (rq *Request) canViewUser(u user.User) (bool, error) {
	if ok, err := rq.canViewAllUsers(); err != nil || ok {
		return ok, err
	}
	return rq.memberAllows(u, adminperm.ViewMembers, adminperm.ManageMembers)
}

// canManageUser: all users, or u through a group granting manage-members.
func (rq *Request) canManageUser(u user.User) (bool, error) {
	if ok, err := rq.canManageAllUsers(); err != nil || ok {
		return ok, err
	}
	return rq.memberAllows(u, adminperm.ManageMembers)
}

func (rq *Request) memberAllows(u user.User, scopes ...string) (bool, error) {
	c, err := rq.fgap()
	if err != nil || !c.On() {
		return false, err
	}
	ids, err := rq.userGroupIDs(rq.R.Context(), u)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(scopes, func(s string) bool { return c.Member(ids, s) }), nil
}

// canMapRolesOf: whether the caller may change u's role mappings at all;
// each role then needs mayMapRole as well.
func (rq *Request) canMapRolesOf(u user.User) (bool, error) {
	ok, err := rq.canManageUser(u)
	return rq.orGrant(ok, err, func(c *adminperm.Checker) bool { return c.Users(adminperm.MapRoles) })
}

// canManageGroupMembership: whether u's groups may change at all; the
// group joined or left needs canManageMembershipOf as well.
func (rq *Request) canManageGroupMembership(u user.User) (bool, error) {
	ok, err := rq.canManageUser(u)
	return rq.orGrant(ok, err, func(c *adminperm.Checker) bool { return c.Users(adminperm.ManageGroupMembership) })
}

// canViewGroup: view-users, or view or manage on g.
func (rq *Request) canViewGroup(g role.Group) (bool, error) {
	return rq.orGrant(rq.Can("view-users"), nil, func(c *adminperm.Checker) bool {
		return c.Group(g.ID, adminperm.View) || c.Group(g.ID, adminperm.Manage)
	})
}

// canManageGroup: manage-users, or manage on g.
func (rq *Request) canManageGroup(g role.Group) (bool, error) {
	return rq.orGrant(rq.Can("manage-users"), nil, func(c *adminperm.Checker) bool { return c.Group(g.ID, adminperm.Manage) })
}

// canManageMembershipOf: whether users may join or leave g: manage on g,
// or manage-membership on g.
func (rq *Request) canManageMembershipOf(g role.Group) (bool, error) {
	ok, err := rq.canManageGroup(g)
	return rq.orGrant(ok, err, func(c *adminperm.Checker) bool { return c.Group(g.ID, adminperm.ManageMembership) })
}

// canViewMembersOf: all users, or view-members or manage-members on g itself.
func (rq *Request) canViewMembersOf(g role.Group) (bool, error) {
	ok, err := rq.canViewAllUsers()
	return rq.orGrant(ok, err, func(c *adminperm.Checker) bool {
		return c.Group(g.ID, adminperm.ViewMembers) || c.Group(g.ID, adminperm.ManageMembers)
	})
}

// canManageMembersOf: all users, or manage-members on g itself.
func (rq *Request) canManageMembersOf(g role.Group) (bool, error) {
	ok, err := rq.canManageAllUsers()
	return rq.orGrant(ok, err, func(c *adminperm.Checker) bool { return c.Group(g.ID, adminperm.ManageMembers) })
}

// canImpersonate: the impersonation role, or impersonate on the Users
// resource; the user must be impersonatable too (adminperm.Impersonatable).
func (rq *Request) canImpersonate() (bool, error) {
	return rq.orGrant(rq.Can("impersonation"), nil, func(c *adminperm.Checker) bool { return c.Users(adminperm.Impersonate) })
}

// mayMapRole is the per-role half of mapping roles for a caller without
// manage-users: map-role on the role, or map-roles on its client. The
// escalation rule (requireConfer) applies on top, to every caller.
func (rq *Request) mayMapRole(r role.Role) (bool, error) {
	return rq.orGrant(rq.Can("manage-users"), nil, func(c *adminperm.Checker) bool {
		return roleGrant(c, r, adminperm.MapRole, adminperm.MapRoles)
	})
}

// visibleMemberGroups returns, for a caller who may not view every user,
// the groups whose members (subgroups' included) the caller may view; all
// is true when the caller may view every user.
func (rq *Request) visibleMemberGroups() (groupIDs []string, all bool, err error) {
	if ok, err := rq.canViewAllUsers(); err != nil || ok {
		return nil, ok, err
	}
	c, err := rq.fgap()
	if err != nil {
		return nil, false, err
	}
	seen := map[string]bool{}
	groupIDs = []string{}
	for _, s := range []string{adminperm.ViewMembers, adminperm.ManageMembers} {
		for _, g := range c.MemberGroups(s) {
			if !seen[g] {
				seen[g] = true
				groupIDs = append(groupIDs, g)
			}
		}
	}
	return groupIDs, false, nil
}

// userAccess is the "access" of a user representation: what the caller
// may do with u.
func (rq *Request) userAccess(u user.User) (map[string]bool, error) {
	return access(map[string]func() (bool, error){
		"view":                  func() (bool, error) { return rq.canViewUser(u) },
		"manage":                func() (bool, error) { return rq.canManageUser(u) },
		"mapRoles":              func() (bool, error) { return rq.canMapRolesOf(u) },
		"manageGroupMembership": func() (bool, error) { return rq.canManageGroupMembership(u) },
		"impersonate":           rq.canImpersonate,
	})
}

// groupAccess is the "access" of a group representation.
func (rq *Request) groupAccess(g role.Group) (map[string]bool, error) {
	return access(map[string]func() (bool, error){
		"view":             func() (bool, error) { return rq.canViewGroup(g) },
		"manage":           func() (bool, error) { return rq.canManageGroup(g) },
		"manageMembership": func() (bool, error) { return rq.canManageMembershipOf(g) },
		"viewMembers":      func() (bool, error) { return rq.canViewMembersOf(g) },
		"manageMembers":    func() (bool, error) { return rq.canManageMembersOf(g) },
	})
}

// access answers each of checks.
func access(checks map[string]func() (bool, error)) (map[string]bool, error) {
	out := make(map[string]bool, len(checks))
	for k, check := range checks {
		ok, err := check()
		if err != nil {
			return nil, err
		}
		out[k] = ok
	}
	return out, nil
}

// keep returns the elements of xs that ok accepts, in place.
func keep[T any](xs []T, ok func(T) (bool, error)) ([]T, error) {
	out := xs[:0]
	for _, x := range xs {
		yes, err := ok(x)
		if err != nil {
			return nil, err
		}
		if yes {
			out = append(out, x)
		}
	}
	return out, nil
}
