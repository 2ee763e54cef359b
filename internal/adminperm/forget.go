package adminperm

import (
	"context"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// ForgetClient is Forget for a client that is deleted and for each of its
// roles, which go with it. tx should be the transaction deleting it.
func ForgetClient(ctx context.Context, tx *store.DB, realmID, clientID string) error {
	return tx.InTx(ctx, func(tx *store.DB) error {
		roles, err := tx.ListClientRoles(ctx, realmID, clientID)
		if err != nil {
			return err
		}
		for _, r := range roles {
			if err := Forget(ctx, tx, realmID, Role, r.ID); err != nil {
				return err
			}
		}
		return Forget(ctx, tx, realmID, Client, clientID)
	})
}
