package store

import (
	"context"
	"slices"
)

// Consent is the client scopes a user granted a client (epoch ms times).
type Consent struct {
	UserID    string
	ClientID  string // internal id
	ScopeIDs  []string
	CreatedAt int64
	UpdatedAt int64
}

// GrantConsent records (or extends) a user's consent to scopes of a client.
func (s *DB) GrantConsent(ctx context.Context, userID, clientID string, scopeIDs []string, nowMs int64) error {
	return s.InTx(ctx, func(tx *DB) error {
		old, err := tx.GetConsent(ctx, userID, clientID)
		if err == nil {
			merged := append(append([]string{}, old.ScopeIDs...), scopeIDs...)
			slices.Sort(merged)
			merged = slices.Compact(merged)
			return oneRow(tx.exec(ctx, `UPDATE user_consents SET scope_ids = $3, updated_at = $4 WHERE user_id = $1 AND client_id = $2`,
				userID, clientID, toJSON(merged), nowMs))
		}
		ids := append([]string{}, scopeIDs...)
		slices.Sort(ids)
		_, err = tx.exec(ctx, `INSERT INTO user_consents (user_id, client_id, scope_ids, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
			userID, clientID, toJSON(slices.Compact(ids)), nowMs)
		return err
	})
}

// GetConsent loads a user's consent to a client.
func (s *DB) GetConsent(ctx context.Context, userID, clientID string) (Consent, error) {
	var (
		c   Consent
		ids string
	)
	err := s.queryRow(ctx, `SELECT user_id, client_id, scope_ids, created_at, updated_at FROM user_consents WHERE user_id = $1 AND client_id = $2`,
		userID, clientID).Scan(&c.UserID, &c.ClientID, &ids, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return Consent{}, mapErr(err)
	}
	return c, fromJSON(ids, &c.ScopeIDs)
}

// ListConsents returns a user's consents.
func (s *DB) ListConsents(ctx context.Context, userID string) ([]Consent, error) {
	rows, err := s.query(ctx, `SELECT user_id, client_id, scope_ids, created_at, updated_at FROM user_consents WHERE user_id = $1 ORDER BY created_at, client_id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Consent
	for rows.Next() {
		var (
			c   Consent
			ids string
		)
		if err := rows.Scan(&c.UserID, &c.ClientID, &ids, &c.CreatedAt, &c.UpdatedAt); err != nil {
			return nil, err
		}
		if err := fromJSON(ids, &c.ScopeIDs); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RevokeGrant removes a user's consent to a client and the client's offline
// sessions of that user, in one transaction: story 1's "remove access". It
// reports whether there was anything to revoke.
func (s *DB) RevokeGrant(ctx context.Context, realmID, userID, clientID string) (bool, error) {
	var found bool
	err := s.InTx(ctx, func(tx *DB) error {
		r, err := tx.exec(ctx, `DELETE FROM user_consents WHERE user_id = $1 AND client_id = $2`, userID, clientID)
		if err != nil {
			return err
		}
		n, _ := r.RowsAffected()
		m, err := tx.DeleteOfflineSessionsOfClient(ctx, realmID, userID, clientID)
		if err != nil {
			return err
		}
		found = n+m > 0
		return nil
	})
	return found, err
}
