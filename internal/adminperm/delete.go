package adminperm

import (
	"context"

	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// The objects that carry fine-grained admin permissions are deleted here,
// and only here (TestOneHomeForDeletions keeps the store's deletions out of
// other packages): each deletion forgets the permissions of what it
// removes, in the same transaction, so that no path leaves a resource and
// its permissions behind on the admin client. db may be a transaction
// already.

// DeleteGroup deletes a group with its whole subtree and the permissions
// of each group in it.
func DeleteGroup(ctx context.Context, db *store.DB, realmID, id string) error {
	return db.InTx(ctx, func(tx *store.DB) error {
		all, err := tx.ListGroups(ctx, realmID)
		if err != nil {
			return err
		}
		for _, g := range role.Subtree(all, id) {
			if err := Forget(ctx, tx, realmID, Group, g); err != nil {
				return err
			}
		}
		return tx.DeleteGroup(ctx, realmID, id)
	})
}

// DeleteRole deletes a role and its permissions.
func DeleteRole(ctx context.Context, db *store.DB, realmID, id string) error {
	return db.InTx(ctx, func(tx *store.DB) error {
		if err := Forget(ctx, tx, realmID, Role, id); err != nil {
			return err
		}
		return tx.DeleteRole(ctx, realmID, id)
	})
}

// DeleteClient deletes a client with its roles, and the permissions of
// the client and of each of its roles.
func DeleteClient(ctx context.Context, db *store.DB, realmID, id string) error {
	return db.InTx(ctx, func(tx *store.DB) error {
		roles, err := tx.ListClientRoles(ctx, realmID, id)
		if err != nil {
			return err
		}
		for _, r := range roles {
			if err := Forget(ctx, tx, realmID, Role, r.ID); err != nil {
				return err
			}
		}
		if err := Forget(ctx, tx, realmID, Client, id); err != nil {
			return err
		}
		return tx.DeleteClient(ctx, realmID, id)
	})
}

// DeleteIdentityProvider deletes the identity provider with alias and its
// permissions (kept under its internal id).
func DeleteIdentityProvider(ctx context.Context, db *store.DB, realmID, alias string) error {
	return db.InTx(ctx, func(tx *store.DB) error {
		p, err := tx.GetIdentityProvider(ctx, realmID, alias)
		if err != nil {
			return err
		}
		if err := Forget(ctx, tx, realmID, IdentityProvider, p.InternalID); err != nil {
			return err
		}
		return tx.DeleteIdentityProvider(ctx, realmID, alias)
	})
}
