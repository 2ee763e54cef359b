package store

import (
	"context"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

const keyCols = `id, realm_id, kid, provider_id, algorithm, use, priority, enabled, active, private, certificate, created_at, name, config`

func keyArgs(k keys.Key) []any {
	if k.Certificate == nil {
		k.Certificate = []byte{}
	}
	if k.Config == nil {
		k.Config = map[string]string{}
	}
	return []any{k.ID, k.RealmID, k.Kid, k.ProviderID, k.Algorithm, k.Use, k.Priority, k.Enabled, k.Active,
		k.Private, k.Certificate, k.CreatedAt, k.Name, toJSON(k.Config)}
}

// CreateKey stores a realm key.
func (s *DB) CreateKey(ctx context.Context, k keys.Key) error {
	if _, err := s.exec(ctx, `INSERT INTO realm_keys (`+keyCols+`) VALUES (`+placeholders(1, 14)+`)`,
		keyArgs(k)...); err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	return nil
}

// ReplaceKey overwrites a realm key, material included, keeping its id:
// an admin who changes a generated provider's key size gets a new key
// under the same component.
func (s *DB) ReplaceKey(ctx context.Context, k keys.Key) error {
	return oneRow(s.exec(ctx, `UPDATE realm_keys SET kid = $3, provider_id = $4, algorithm = $5, use = $6, priority = $7,
		enabled = $8, active = $9, private = $10, certificate = $11, created_at = $12, name = $13, config = $14
		WHERE id = $1 AND realm_id = $2`, keyArgs(k)...))
}

// ListKeys returns every key of a realm, highest priority first.
func (s *DB) ListKeys(ctx context.Context, realmID string) ([]keys.Key, error) {
	return cachedSlice(ctx, s, func(sn *snapshot) *memo[string, []keys.Key] { return &sn.keys }, realmID, func() ([]keys.Key, error) {
		return s.listKeys(ctx, realmID)
	})
}

func (s *DB) listKeys(ctx context.Context, realmID string) ([]keys.Key, error) {
	rows, err := s.query(ctx, `SELECT `+keyCols+` FROM realm_keys WHERE realm_id = $1 ORDER BY priority DESC, created_at DESC, id`, realmID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []keys.Key
	for rows.Next() {
		var k keys.Key
		var config string
		if err := rows.Scan(&k.ID, &k.RealmID, &k.Kid, &k.ProviderID, &k.Algorithm, &k.Use, &k.Priority,
			&k.Enabled, &k.Active, &k.Private, &k.Certificate, &k.CreatedAt, &k.Name, &config); err != nil {
			return nil, err
		}
		if err := fromJSON(config, &k.Config); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// SetKeyState changes whether a key is enabled and active (signing) or
// passive (verifying only), for rotation.
func (s *DB) SetKeyState(ctx context.Context, realmID, id string, enabled, active bool, priority int64) error {
	return oneRow(s.exec(ctx, `UPDATE realm_keys SET enabled = $3, active = $4, priority = $5 WHERE realm_id = $1 AND id = $2`,
		realmID, id, enabled, active, priority))
}

// DeleteKey removes a key.
func (s *DB) DeleteKey(ctx context.Context, realmID, id string) error {
	return oneRow(s.exec(ctx, `DELETE FROM realm_keys WHERE realm_id = $1 AND id = $2`, realmID, id))
}
