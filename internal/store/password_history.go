package store

import (
	"cmp"
	"context"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// ReplacePasswordKeepHistory stores c as the user's only password, like
// ReplacePassword, and keeps the replaced password as a "password-history"
// credential when r keeps any, all in one transaction. Kept passwords that
// r no longer keeps (judged at c.CreatedDate) are deleted, except the one
// just replaced, as Keycloak's PasswordCredentialProvider does.
func (s *DB) ReplacePasswordKeepHistory(ctx context.Context, c user.Credential, r user.HistoryRetention) error {
	return s.InTx(ctx, func(tx *DB) error {
		creds, err := tx.ListCredentials(ctx, c.UserID)
		if err != nil {
			return err
		}
		replaced := map[string]bool{}
		var kept []user.Credential
		for _, old := range creds {
			switch old.Type {
			case user.CredentialPassword:
				if r.Any() {
					_, err = tx.exec(ctx, `UPDATE credentials SET type = $2 WHERE id = $1`, old.ID, user.CredentialPasswordHistory)
					replaced[old.ID] = true
				} else {
					_, err = tx.exec(ctx, `DELETE FROM credentials WHERE id = $1`, old.ID)
				}
				if err != nil {
					return err
				}
			case user.CredentialPasswordHistory:
				kept = append(kept, old)
			}
		}
		// The replaced password is the newest kept one.
		slices.SortStableFunc(kept, func(a, b user.Credential) int { return cmp.Compare(b.CreatedDate, a.CreatedDate) })
		for i, h := range kept {
			if r.Keep(i+len(replaced), h.CreatedDate, c.CreatedDate) {
				continue
			}
			if _, err := tx.exec(ctx, `DELETE FROM credentials WHERE id = $1`, h.ID); err != nil {
				return err
			}
		}
		return tx.CreateCredential(ctx, c)
	})
}
