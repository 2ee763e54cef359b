package store

import (
	"context"
	"database/sql"
	"errors"
)

// InitialAccess is an initial access token's record: the registrations it
// still allows and when it stops being valid. Timestamp is epoch seconds,
// Expiration seconds after it (0: never).
type InitialAccess struct {
	ID             string
	RealmID        string
	Timestamp      int64
	Expiration     int
	Count          int
	RemainingCount int
}

// Expired reports whether the token is past its expiration at now (epoch
// seconds).
func (a InitialAccess) Expired(now int64) bool {
	return a.Expiration > 0 && a.Timestamp+int64(a.Expiration) <= now
}

// CreateInitialAccess stores a new initial access record.
func (s *DB) CreateInitialAccess(ctx context.Context, a InitialAccess) error {
	_, err := s.exec(ctx, `INSERT INTO client_initial_access (id, realm_id, created_at, expiration, count, remaining_count)
		VALUES ($1, $2, $3, $4, $5, $6)`, a.ID, a.RealmID, a.Timestamp, a.Expiration, a.Count, a.RemainingCount)
	return err
}

// ListInitialAccess returns the realm's initial access records, oldest first.
func (s *DB) ListInitialAccess(ctx context.Context, realmID string) ([]InitialAccess, error) {
	rows, err := s.query(ctx, `SELECT id, realm_id, created_at, expiration, count, remaining_count
		FROM client_initial_access WHERE realm_id = $1 ORDER BY created_at, id`, realmID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []InitialAccess{}
	for rows.Next() {
		var a InitialAccess
		if err := rows.Scan(&a.ID, &a.RealmID, &a.Timestamp, &a.Expiration, &a.Count, &a.RemainingCount); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// GetInitialAccess returns one record, or ErrNotFound.
func (s *DB) GetInitialAccess(ctx context.Context, realmID, id string) (InitialAccess, error) {
	var a InitialAccess
	err := s.queryRow(ctx, `SELECT id, realm_id, created_at, expiration, count, remaining_count
		FROM client_initial_access WHERE realm_id = $1 AND id = $2`, realmID, id).
		Scan(&a.ID, &a.RealmID, &a.Timestamp, &a.Expiration, &a.Count, &a.RemainingCount)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	return a, err
}

// DeleteInitialAccess removes a record; a missing one is not an error, as
// Keycloak's delete answers 204 either way.
func (s *DB) DeleteInitialAccess(ctx context.Context, realmID, id string) error {
	_, err := s.exec(ctx, `DELETE FROM client_initial_access WHERE realm_id = $1 AND id = $2`, realmID, id)
	return err
}

// UseInitialAccess takes one registration from the record's remaining
// count. The decrement is one conditional UPDATE, so two nodes racing for
// the last registration cannot both win: the loser gets ErrConflict, as
// does a record with nothing left. The record stays with a remaining count
// of 0 (the admin list shows it used up).
func (s *DB) UseInitialAccess(ctx context.Context, realmID, id string) error {
	res, err := s.exec(ctx, `UPDATE client_initial_access SET remaining_count = remaining_count - 1
		WHERE realm_id = $1 AND id = $2 AND remaining_count > 0`, realmID, id)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrConflict
	}
	return nil
}
