package reconcile_test

import (
	"context"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/reconcile"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// TestReconcilePruneForgetsAdminPermissions: a client (with its role), a
// realm role and an identity provider pruned by a realm file take their
// fine-grained admin permissions with them, as the admin API's deletions do.
func TestReconcilePruneForgetsAdminPermissions(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(t testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		apply(t, db, base, reconcile.Options{})
		apply(t, db, idpV1, reconcile.Options{})
		r, _ := db.GetRealmByName(ctx, "acme")
		app, _ := db.GetClientByClientID(ctx, r.ID, "app")
		appAdmin, _ := db.GetClientRole(ctx, r.ID, app.ID, "admin")
		viewer, _ := db.GetRealmRole(ctx, r.ID, "viewer")
		gh, _ := db.GetIdentityProvider(ctx, r.ID, "gh")
		rm, _ := db.GetClientByClientID(ctx, r.ID, "realm-management")
		staff, err := db.GroupByPath(ctx, r.ID, "/staff")
		if err != nil {
			t.Fatal(err)
		}
		ops, err := db.GroupByPath(ctx, r.ID, "/staff/ops")
		if err != nil {
			t.Fatal(err)
		}
		objects := []struct{ kind, id string }{
			{adminperm.Client, app.ID}, {adminperm.Role, appAdmin.ID}, {adminperm.Role, viewer.ID}, {adminperm.IdentityProvider, gh.InternalID},
			{adminperm.Group, staff.ID}, {adminperm.Group, ops.ID},
		}
		for _, o := range objects {
			if ref, err := adminperm.Set(ctx, db, r.ID, o.kind, o.id, true); err != nil || !ref.Enabled {
				t.Fatalf("enable %s %s: %+v %v", o.kind, o.id, ref, err)
			}
		}
		empty := `{"realm": "acme", "clients": [], "roles": {"realm": []}, "identityProviders": [], "groups": [], "users": []}`
		apply(t, db, empty, reconcile.Options{Prune: true})
		for _, o := range objects {
			if ref, err := adminperm.Get(ctx, db, r.ID, o.kind, o.id); err != nil || ref.Enabled {
				t.Errorf("%s %s after prune: %+v %v", o.kind, o.id, ref, err)
			}
			name, _ := adminperm.ResourceName(o.kind, o.id)
			rs, err := db.ListResources(ctx, rm.ID, store.ResourceFilter{Name: name, ExactName: true})
			if err != nil || len(rs) != 0 {
				t.Errorf("%s %s's resource after prune: %v %v", o.kind, o.id, rs, err)
			}
		}
	})
}
