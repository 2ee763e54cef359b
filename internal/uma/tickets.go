package uma

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// A granted permission ticket takes part in evaluation through a "uma"
// permission: the owner's permission on the resource, for the scopes
// granted, whose one associated user policy names the requester. The
// tickets of one owner, requester and resource share it. These functions
// keep it in step with the tickets; callers run them in the transaction
// that changes a ticket.

// Grant marks t granted at nowMillis (if it was not) and makes its
// permission include it. It returns the ticket as stored.
func Grant(ctx context.Context, tx *store.DB, t store.PermissionTicket, nowMillis int64) (store.PermissionTicket, error) {
	policyID := t.PolicyID
	if policyID == "" {
		// Another granted ticket of the same owner, requester and resource
		// already has a permission: share it.
		others, err := tx.ListPermissionTickets(ctx, t.RealmID, store.TicketFilter{ServerID: t.ServerID, ResourceID: t.ResourceID,
			Owner: t.Owner, Requester: t.Requester, WithPolicy: true})
		if err != nil {
			return t, err
		}
		if len(others) > 0 {
			policyID = others[0].PolicyID
		}
	}
	if policyID == "" {
		users, _ := json.Marshal([]string{t.Requester})
		up, err := tx.CreatePolicy(ctx, authz.Policy{ServerID: t.ServerID, Name: store.NewID(), Type: "user", Logic: authz.Positive,
			DecisionStrategy: authz.Unanimous, Owner: t.Owner, Config: map[string]string{"users": string(users)}})
		if err != nil {
			return t, err
		}
		p := authz.Policy{ServerID: t.ServerID, Name: store.NewID(), Type: "uma", Logic: authz.Positive,
			DecisionStrategy: authz.Unanimous, Owner: t.Owner, Config: map[string]string{},
			PolicyIDs: []string{up.ID}, ResourceIDs: []string{t.ResourceID}}
		if t.ScopeID != "" {
			p.ScopeIDs = []string{t.ScopeID}
		}
		created, err := tx.CreatePolicy(ctx, p)
		if err != nil {
			return t, err
		}
		policyID = created.ID
	} else {
		// No scopes in a permission means the whole resource: a ticket
		// for the whole resource widens it so.
		if _, err := tx.UpdatePolicy(ctx, t.ServerID, policyID, func(p *authz.Policy) error {
			switch {
			case t.ScopeID == "":
				p.ScopeIDs = nil
			case len(p.ScopeIDs) > 0 && !slices.Contains(p.ScopeIDs, t.ScopeID):
				p.ScopeIDs = append(p.ScopeIDs, t.ScopeID)
			}
			return nil
		}); err != nil {
			return t, err
		}
	}
	return tx.UpdatePermissionTicket(ctx, t.ServerID, t.ID, func(old store.PermissionTicket) (store.PermissionTicket, error) {
		if !old.Granted() {
			old.GrantedTimestamp = nowMillis
		}
		old.PolicyID = policyID
		return old, nil
	})
}

// Revoke deletes t and takes its scope out of its permission; the
// permission (and its user policy) goes when no granted ticket is left
// behind it, or when no scope is left in it.
func Revoke(ctx context.Context, tx *store.DB, t store.PermissionTicket) error {
	if err := tx.DeletePermissionTicket(ctx, t.ServerID, t.ID); err != nil {
		return err
	}
	if t.PolicyID == "" {
		return nil
	}
	rest, err := tx.ListPermissionTickets(ctx, t.RealmID, store.TicketFilter{ServerID: t.ServerID, ResourceID: t.ResourceID,
		Owner: t.Owner, Requester: t.Requester, Granted: ptr(true)})
	if err != nil {
		return err
	}
	p, err := tx.GetPolicy(ctx, t.ServerID, t.PolicyID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return DeletePermission(ctx, tx, p)
	}
	// The permission keeps exactly the scopes still granted; a ticket for
	// the whole resource keeps it whole (no scopes).
	var scopes []string
	for _, o := range rest {
		if o.ScopeID == "" {
			scopes = nil
			break
		}
		scopes = append(scopes, o.ScopeID)
	}
	_, err = tx.UpdatePolicy(ctx, t.ServerID, p.ID, func(p *authz.Policy) error {
		p.ScopeIDs = scopes
		return nil
	})
	return err
}

// DeletePermission deletes a user-managed ("uma") permission with its
// associated policies, which belong to it alone.
func DeletePermission(ctx context.Context, tx *store.DB, p authz.Policy) error {
	if err := tx.DeletePolicy(ctx, p.ServerID, p.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	for _, id := range p.PolicyIDs {
		if err := tx.DeletePolicy(ctx, p.ServerID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// DeleteResource removes a resource with what exists only for it: its
// tickets (the store cascades them) and the user-managed ("uma")
// permissions on it, with their associated policies, which would
// otherwise outlive it naming nothing.
func DeleteResource(ctx context.Context, tx *store.DB, serverID, resourceID string) error {
	ps, err := tx.ListPolicies(ctx, serverID, store.PolicyFilter{Type: "uma", ResourceID: resourceID})
	if err != nil {
		return err
	}
	if err := tx.DeleteResource(ctx, serverID, resourceID); err != nil {
		return err
	}
	for _, p := range ps {
		if err := DeletePermission(ctx, tx, p); err != nil {
			return err
		}
	}
	return nil
}
