package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// PushedRequest is a pushed authorization request (RFC 9126): the
// parameters a client sent to the PAR endpoint, waiting for the one
// authorization request that names it by its request_uri.
type PushedRequest struct {
	ID        string
	RealmID   string
	ClientID  string // the client's client_id, as the authorization request names it
	Params    map[string]string
	ExpiresAt int64 // epoch seconds
}

// CreatePushedRequest stores a pushed authorization request.
func (s *DB) CreatePushedRequest(ctx context.Context, p PushedRequest) error {
	data, err := json.Marshal(p.Params)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO pushed_requests (id, realm_id, client_id, params, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		p.ID, p.RealmID, p.ClientID, string(data), p.ExpiresAt)
	if err != nil {
		return fmt.Errorf("store pushed request: %w", err)
	}
	return nil
}

// TakePushedRequest removes and returns a pushed authorization request of
// the realm. The delete is the claim: of two nodes serving the same
// request_uri at once, only one gets it, and the other ErrNotFound. Expiry
// is the caller's check, so an expired request is gone all the same.
func (s *DB) TakePushedRequest(ctx context.Context, realmID, id string) (PushedRequest, error) {
	p := PushedRequest{}
	var data string
	err := s.queryRow(ctx, `DELETE FROM pushed_requests WHERE id = $1 AND realm_id = $2 RETURNING id, realm_id, client_id, params, expires_at`,
		id, realmID).Scan(&p.ID, &p.RealmID, &p.ClientID, &data, &p.ExpiresAt)
	if err != nil {
		return p, mapErr(err)
	}
	if err := json.Unmarshal([]byte(data), &p.Params); err != nil {
		return p, fmt.Errorf("read pushed request %s: %w", id, err)
	}
	return p, nil
}
