package store

import (
	"context"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// SetCredentialLabel renames one credential of a user (its userLabel).
func (s *DB) SetCredentialLabel(ctx context.Context, userID, id, label string) error {
	return oneRow(s.exec(ctx, `UPDATE credentials SET user_label = $3 WHERE user_id = $1 AND id = $2`, userID, id, label))
}

// MoveCredential puts credential id of a user right after credential after
// in the user's order ("" puts it first), and renumbers every credential's
// priority in steps of ten, as Keycloak does. Either id unknown is
// ErrNotFound.
func (s *DB) MoveCredential(ctx context.Context, userID, id, after string) error {
	return s.InTx(ctx, func(tx *DB) error {
		cs, err := tx.ListCredentials(ctx, userID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(cs, func(c user.Credential) bool { return c.ID == id })
		if i < 0 || after == id {
			return ErrNotFound
		}
		moved := cs[i]
		cs = slices.Delete(cs, i, i+1)
		at := 0
		if after != "" {
			j := slices.IndexFunc(cs, func(c user.Credential) bool { return c.ID == after })
			if j < 0 {
				return ErrNotFound
			}
			at = j + 1
		}
		cs = slices.Insert(cs, at, moved)
		for k, c := range cs {
			if _, err := tx.exec(ctx, `UPDATE credentials SET priority = $2 WHERE id = $1`, c.ID, (k+1)*10); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteCredentialsOfType removes every credential of type typ of a user.
func (s *DB) DeleteCredentialsOfType(ctx context.Context, userID, typ string) error {
	_, err := s.exec(ctx, `DELETE FROM credentials WHERE user_id = $1 AND type = $2`, userID, typ)
	return err
}

// UpdateCredentialData rewrites a credential's credentialData (an HOTP
// counter moving on) only if it still holds oldData: of two concurrent
// updates from the same old value, on any node, exactly one succeeds and
// the other gets ErrNotFound.
func (s *DB) UpdateCredentialData(ctx context.Context, id, oldData, newData string) error {
	return oneRow(s.exec(ctx, `UPDATE credentials SET credential_data = $3 WHERE id = $1 AND credential_data = $2`, id, oldData, newData))
}
