package store

import (
	"context"
	"errors"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
)

// GetAuthConfig returns the realm's authentication model; a realm that has
// never stored one has the built-in model, flow.Defaults.
func (s *DB) GetAuthConfig(ctx context.Context, realmID string) (flow.Config, error) {
	return cached(ctx, s, func(sn *snapshot) *memo[string, flow.Config] { return &sn.authConfig }, realmID, func() (flow.Config, error) {
		return s.getAuthConfig(ctx, realmID)
	})
}

func (s *DB) getAuthConfig(ctx context.Context, realmID string) (flow.Config, error) {
	var doc string
	err := s.queryRow(ctx, `SELECT document FROM auth_config WHERE realm_id = $1`, realmID).Scan(&doc)
	if err := mapErr(err); errors.Is(err, ErrNotFound) {
		return flow.Defaults(), nil
	} else if err != nil {
		return flow.Config{}, err
	}
	var c flow.Config
	if err := fromJSON(doc, &c); err != nil {
		return flow.Config{}, err
	}
	return c, nil
}

// PutAuthConfig stores the realm's whole authentication model, replacing
// what was there.
func (s *DB) PutAuthConfig(ctx context.Context, realmID string, c flow.Config) error {
	_, err := s.exec(ctx, `INSERT INTO auth_config (realm_id, document) VALUES ($1, $2)
		ON CONFLICT (realm_id) DO UPDATE SET document = excluded.document`, realmID, toJSON(c))
	return mapErr(err)
}

// UpdateAuthConfig applies edit to the realm's authentication model in one
// transaction, holding the realm's row so concurrent edits apply in turn.
func (s *DB) UpdateAuthConfig(ctx context.Context, realmID string, edit func(*flow.Config) error) error {
	return s.InTx(ctx, func(tx *DB) error {
		var name string
		if err := tx.queryRow(ctx, `SELECT name FROM realms WHERE id = $1`+tx.forUpdate(), realmID).Scan(&name); err != nil {
			return mapErr(err)
		}
		c, err := tx.GetAuthConfig(ctx, realmID)
		if err != nil {
			return err
		}
		if err := edit(&c); err != nil {
			return err
		}
		return tx.PutAuthConfig(ctx, realmID, c)
	})
}

// InitAuthConfig stores c as the realm's authentication model unless the
// realm has one, and reports whether it did.
func (s *DB) InitAuthConfig(ctx context.Context, realmID string, c flow.Config) (bool, error) {
	res, err := s.exec(ctx, `INSERT INTO auth_config (realm_id, document) VALUES ($1, $2)
		ON CONFLICT (realm_id) DO NOTHING`, realmID, toJSON(c))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
