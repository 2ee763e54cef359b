package federation

import (
	"context"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// SyncMapper creates, in one transaction, every group (group mapper) or
// role (role mapper) that mapper m of p finds in the directory, by the
// same rules as a user's import (ImportEntry): groups at the paths the
// mapper gives them (nested ones under their parents when it preserves
// inheritance), roles as realm or client roles. It counts the groups or
// roles it created (added) and those already there (updated); a role of
// a client the realm does not have is left out. Memberships come with
// each user's import.
func SyncMapper(ctx context.Context, db *store.DB, rl realm.Realm, p Provider, c *ldap.Client, m ldap.MapperSpec) (added, updated int, err error) {
	groups, roles, err := ldap.Known(ctx, c, m)
	if err != nil {
		return 0, 0, wrap(p, err)
	}
	err = db.InTx(ctx, func(tx *store.DB) error {
		added, updated = 0, 0
		all, err := tx.ListGroups(ctx, rl.ID)
		if err != nil {
			return err
		}
		// Parents sort before their children.
		for _, path := range groups {
			if _, ok, err := groupByPath(ctx, tx, rl, &all, path, false); err != nil {
				return err
			} else if ok {
				updated++
				continue
			}
			if _, _, err := groupByPath(ctx, tx, rl, &all, path, true); err != nil {
				return err
			}
			added++
		}
		for _, ref := range roles {
			if _, ok, err := resolveRole(ctx, tx, rl, ref, false); err != nil {
				return err
			} else if ok {
				updated++
				continue
			}
			if _, ok, err := resolveRole(ctx, tx, rl, ref, true); err != nil {
				return err
			} else if ok {
				added++
			}
		}
		return nil
	})
	return added, updated, err
}
