package store

import (
	"context"
	"database/sql"
)

// PermissionTicket is a requester's access to a resource its owner manages
// (user-managed access): one scope of the resource, or the whole resource
// when ScopeID is "". It is pending until GrantedTimestamp is set.
// Timestamps are epoch milliseconds.
type PermissionTicket struct {
	ID, RealmID, ServerID string
	ResourceID, ScopeID   string
	Owner, Requester      string // user ids
	CreatedTimestamp      int64
	GrantedTimestamp      int64 // 0: pending
	// PolicyID is the "uma" permission that carries a granted ticket into
	// evaluation ("" while pending).
	PolicyID string
}

// Granted reports whether the owner granted the ticket.
func (t PermissionTicket) Granted() bool { return t.GrantedTimestamp > 0 }

// TicketFilter selects permission tickets of a realm; empty fields match
// everything.
type TicketFilter struct {
	ServerID, ResourceID, ScopeID, Owner, Requester string
	// NoScope selects the tickets for a whole resource (ScopeID "").
	NoScope bool
	// Granted selects granted (true) or pending (false) tickets; nil both.
	Granted *bool
	// WithPolicy selects the tickets backed by a "uma" permission.
	WithPolicy bool
	First, Max int // Max <= 0: no limit
}

const ticketCols = `id, realm_id, server_id, resource_id, COALESCE(scope_id, ''), owner, requester, created_at, granted_at, COALESCE(policy_id, '')`

func scanTicket(row interface{ Scan(...any) error }) (PermissionTicket, error) {
	var t PermissionTicket
	err := row.Scan(&t.ID, &t.RealmID, &t.ServerID, &t.ResourceID, &t.ScopeID, &t.Owner, &t.Requester,
		&t.CreatedTimestamp, &t.GrantedTimestamp, &t.PolicyID)
	return t, mapErr(err)
}

// optionalRef stores "" as NULL, for optional references.
func optionalRef(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// CreatePermissionTicket stores a new ticket. A ticket for the same
// requester, resource and scope already there is ErrConflict; a resource,
// scope or requester that does not exist is ErrNotFound.
func (s *DB) CreatePermissionTicket(ctx context.Context, t PermissionTicket) error {
	_, err := s.exec(ctx, `INSERT INTO authz_permission_tickets (id, realm_id, server_id, resource_id, scope_id, owner, requester,
		created_at, granted_at, policy_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		t.ID, t.RealmID, t.ServerID, t.ResourceID, optionalRef(t.ScopeID), t.Owner, t.Requester,
		t.CreatedTimestamp, t.GrantedTimestamp, optionalRef(t.PolicyID))
	return err
}

// GetPermissionTicket returns one ticket of a resource server, or ErrNotFound.
func (s *DB) GetPermissionTicket(ctx context.Context, serverID, id string) (PermissionTicket, error) {
	return scanTicket(s.queryRow(ctx, `SELECT `+ticketCols+` FROM authz_permission_tickets WHERE server_id = $1 AND id = $2`, serverID, id))
}

// ListPermissionTickets returns a realm's tickets that f selects, oldest first.
func (s *DB) ListPermissionTickets(ctx context.Context, realmID string, f TicketFilter) ([]PermissionTicket, error) {
	granted := 0
	if f.Granted != nil {
		granted = 2
		if *f.Granted {
			granted = 1
		}
	}
	limit := f.Max
	if limit <= 0 {
		limit = -1
	}
	// One statement for every combination of filters, so it is prepared once.
	rows, err := s.query(ctx, `SELECT `+ticketCols+` FROM authz_permission_tickets WHERE realm_id = $1
		AND ($2 = '' OR server_id = $2) AND ($3 = '' OR resource_id = $3) AND ($4 = '' OR scope_id = $4)
		AND ($5 = '' OR owner = $5) AND ($6 = '' OR requester = $6) AND ($7 = 0 OR scope_id IS NULL)
		AND ($8 = 0 OR ($8 = 1 AND granted_at > 0) OR ($8 = 2 AND granted_at = 0)) AND ($9 = 0 OR policy_id IS NOT NULL)
		ORDER BY created_at, id LIMIT $10 OFFSET $11`,
		realmID, f.ServerID, f.ResourceID, f.ScopeID, f.Owner, f.Requester, boolInt(f.NoScope), granted, boolInt(f.WithPolicy),
		pageMax(limit), max(f.First, 0))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []PermissionTicket{}
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, mapErr(rows.Err())
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// UpdatePermissionTicket applies fn to a ticket in one transaction; fn may
// change its grant and its policy only.
func (s *DB) UpdatePermissionTicket(ctx context.Context, serverID, id string, fn func(PermissionTicket) (PermissionTicket, error)) (PermissionTicket, error) {
	var out PermissionTicket
	err := s.InTx(ctx, func(tx *DB) error {
		old, err := scanTicket(tx.queryRow(ctx, `SELECT `+ticketCols+` FROM authz_permission_tickets WHERE server_id = $1 AND id = $2`+tx.forUpdate(), serverID, id))
		if err != nil {
			return err
		}
		t, err := fn(old)
		if err != nil {
			return err
		}
		if err := oneRow(tx.exec(ctx, `UPDATE authz_permission_tickets SET granted_at = $2, policy_id = $3 WHERE id = $1`,
			old.ID, t.GrantedTimestamp, optionalRef(t.PolicyID))); err != nil {
			return err
		}
		old.GrantedTimestamp, old.PolicyID = t.GrantedTimestamp, t.PolicyID
		out = old
		return nil
	})
	return out, err
}

// DeletePermissionTicket removes a ticket of a resource server; a missing
// one is ErrNotFound.
func (s *DB) DeletePermissionTicket(ctx context.Context, serverID, id string) error {
	return oneRow(s.exec(ctx, `DELETE FROM authz_permission_tickets WHERE server_id = $1 AND id = $2`, serverID, id))
}
