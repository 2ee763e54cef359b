package admin

import (
	"context"
	"errors"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// This file holds the one rule that keeps admin rights from spreading
// (issue 12; SECURITY.md M3, M4; CVE-2026-9796, CVE-2026-11577): every
// admin operation that changes which roles some principal holds, directly,
// through a group or its ancestors, or through a composite, passes
// requireConfer with the roles whose holding it changes.
//
// The rule: a caller may confer or withdraw a role only when the caller
// could hold every role that role implies through composites, where an
// admin role (see isAdminRole) counts only if the caller holds it
// effectively (or holds master's "admin" role, which may grant anything).
// Ordinary roles are free to whoever has the route's manage permission.
//
// Which roles an operation changes:
//   - role mappings of a user or group, added or removed: the roles named;
//   - joining or leaving a group: the group's and its ancestors' roles;
//   - moving a group (POST /groups or /groups/{id}/children with an id): the
//     roles of the old and of the new ancestors, since the whole subtree's
//     members lose the one set and gain the other;
//   - composites added to or removed from a role (the default role
//     included, which every user holds): the children;
//   - a new user with groups and roles, or a new service account: those
//     roles, the groups' chains and the realm's default role;
//   - partial import: each of the above as the file asks for it.
//
// Withdrawing is checked as granting is, as Keycloak does for role-mapping
// removal: a lesser admin may not strip a realm-admin of their rights any
// more than take them. Deleting a whole user, group, role or client is not
// a change of holdings in this sense and needs only the route's permission.
// Keycloak checks the role named; Gatehouse checks everything it implies, and
// also checks group moves, membership and composites, which Keycloak leaves
// to the manage permission alone.

// requireConfer answers 403 unless the caller may change who holds each of
// roleIDs (see above). It is checked before anything is written, or inside
// the transaction that wrote, so a refused call changes nothing.
func (rq *Request) requireConfer(ctx context.Context, roleIDs ...string) error {
	ok, err := rq.mayConfer(ctx, roleIDs...)
	if err != nil {
		return err
	}
	if !ok {
		return errForbidden
	}
	return nil
}

// mayConfer is requireConfer's decision, for listings that leave out what
// the caller may not grant.
func (rq *Request) mayConfer(ctx context.Context, roleIDs ...string) (bool, error) {
	if len(roleIDs) == 0 {
		return true, nil
	}
	if rq.composites == nil {
		g, err := rq.h.Store.CompositeGraph(ctx, rq.Realm.ID)
		if err != nil {
			return false, err
		}
		rq.composites = g
	}
	if rq.conferrable == nil {
		rq.conferrable = map[string]bool{}
	}
	for _, id := range role.Expand(roleIDs, rq.composites) {
		ok, known := rq.conferrable[id]
		if !known {
			r, err := rq.h.Store.GetRole(ctx, rq.Realm.ID, id)
			if errors.Is(err, store.ErrNotFound) {
				continue // an edge into another realm confers nothing here
			}
			if err != nil {
				return false, err
			}
			admin, err := rq.h.isAdminRole(ctx, r)
			if err != nil {
				return false, err
			}
			ok = !admin || rq.Caller.roleIDs[id] || rq.Caller.holdsAllAdmin()
			rq.conferrable[id] = ok
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// compositesChanged drops the composite graph requireConfer loaded, for a
// call (partial import) that writes composites and checks again afterwards.
func (rq *Request) compositesChanged() { rq.composites = nil }

// holdsAllAdmin is true for master's "admin" role holders, who may grant any role.
func (c *Caller) holdsAllAdmin() bool { return c.Master && c.hasMasterAdmin }

// isAdminRole reports whether r is an admin role: a role of a client
// reservedClientID names (realm-management, or master's "<realm>-realm"),
// or master's admin and create-realm realm roles. Clients are recognised by
// name, as authorization finds them, never by a flag an admin can edit.
func (h *Handler) isAdminRole(ctx context.Context, r role.Role) (bool, error) {
	rl, err := h.Store.GetRealm(ctx, r.RealmID)
	if err != nil {
		return false, err
	}
	if r.ClientID == "" {
		return rl.Name == realm.MasterName && (r.Name == provision.MasterAdminRole || r.Name == provision.CreateRealmRole), nil
	}
	c, err := h.Store.GetClient(ctx, r.RealmID, r.ClientID)
	if err != nil {
		return false, err
	}
	return reservedClientID(rl, c.ClientID), nil
}

// groupChainRoleIDs returns the ids of the roles mapped to a group and to
// each of its ancestors: what a member of the group holds through it. The
// root (store.RootGroup, "") has none.
func groupChainRoleIDs(ctx context.Context, db *store.DB, realmID, groupID string) ([]string, error) {
	rs, err := groupChainRoles(ctx, db, realmID, groupID)
	return idsOfRoles(rs), err
}

// inTx runs fn in one store transaction with a copy of rq whose store is the
// transaction, so that requireConfer reads what the write will change and a
// concurrent change cannot slip between the check and the write.
func (rq *Request) inTx(ctx context.Context, fn func(txrq *Request, tx *store.DB) error) error {
	return rq.h.Store.InTx(ctx, func(tx *store.DB) error {
		txh := *rq.h
		txh.Store = tx
		txrq := *rq
		txrq.h = &txh
		txrq.composites, txrq.conferrable = nil, nil // PostgreSQL may run this twice
		return fn(&txrq, tx)
	})
}

// requireServiceAccount guards giving a client a service account, which
// receives the realm's default role like any new user.
func (rq *Request) requireServiceAccount(ctx context.Context) error {
	return rq.requireConfer(ctx, rq.Realm.DefaultRoleID)
}

// requireTakeover guards taking over a user: setting, resetting or
// removing its credentials, or changing the address its recovery mail goes
// to. It is 403 unless the caller could confer every role the user holds,
// so that holding manage-users (or manage-clients, for a client's service
// account) is no way into realm-admin through someone who has it. Keycloak
// allows these; Gatehouse does not (README, "Where Gatehouse differs").
func (rq *Request) requireTakeover(ctx context.Context, userID string) error {
	ids, err := rq.h.Store.EffectiveRoleIDs(ctx, rq.Realm.ID, userID)
	if err != nil {
		return err
	}
	return rq.requireConfer(ctx, ids...)
}

// requireClientTakeover is requireTakeover for a client: whoever holds its
// secret or its authentication settings acts as its service account.
func (rq *Request) requireClientTakeover(ctx context.Context, clientID string) error {
	sa, err := rq.h.Store.GetServiceAccount(ctx, rq.Realm.ID, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return rq.requireTakeover(ctx, sa.ID)
}
