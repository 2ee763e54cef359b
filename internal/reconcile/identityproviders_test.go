package reconcile_test

import (
	"context"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/reconcile"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

const idpV1 = `{"realm": "acme", "enabled": true, "roles": {"realm": [{"name": "partner"}]},
 "identityProviders": [
  {"alias": "corp", "providerId": "oidc", "config": {"clientId": "c", "clientSecret": "s1", "tokenUrl": "https://up.example/token"}},
  {"alias": "gh", "providerId": "github", "config": {"clientId": "g"}}],
 "identityProviderMappers": [{"name": "partner", "identityProviderAlias": "corp", "identityProviderMapper": "oidc-hardcoded-role-idp-mapper", "config": {"role": "partner"}}],
 "users": [{"username": "alice", "enabled": true, "federatedIdentities": [{"identityProvider": "corp", "userId": "up-1", "userName": "alice"}]}]}`

// The secret comes back masked, the display name changes, gh is gone and
// the mapper's sync mode is set.
const idpV2 = `{"realm": "acme", "enabled": true, "roles": {"realm": [{"name": "partner"}]},
 "identityProviders": [
  {"alias": "corp", "displayName": "Corp", "providerId": "oidc", "config": {"clientId": "c", "clientSecret": "**********", "tokenUrl": "https://up.example/token"}}],
 "identityProviderMappers": [{"name": "partner", "identityProviderAlias": "corp", "identityProviderMapper": "oidc-hardcoded-role-idp-mapper", "config": {"role": "partner", "syncMode": "FORCE"}}]}`

// TestReconcileIdentityProviders: providers by alias and mappers by name
// are created, updated (a masked secret keeps the stored one) and pruned;
// a second run plans nothing.
func TestReconcileIdentityProviders(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(t testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		apply(t, db, idpV1, reconcile.Options{})
		r, _ := db.GetRealmByName(ctx, "acme")
		u, err := db.FindUserByFederatedIdentity(ctx, r.ID, "corp", "up-1")
		if err != nil || u.Username != "alice" {
			t.Fatalf("link of the created realm: %+v %v", u, err)
		}
		wantPlan(t, apply(t, db, idpV1, reconcile.Options{}), nil)
		wantPlan(t, apply(t, db, idpV2, reconcile.Options{Prune: true}), []string{
			`update identity-provider "corp": displayName`,
			`delete identity-provider "gh"`,
			`update identity-provider-mapper "corp/partner": config`,
		})
		p, err := db.GetIdentityProvider(ctx, r.ID, "corp")
		if err != nil || p.Config["clientSecret"] != "s1" || p.DisplayName != "Corp" {
			t.Fatalf("after update: %+v %v", p, err)
		}
		if _, err := db.GetIdentityProvider(ctx, r.ID, "gh"); err == nil {
			t.Error("gh not pruned")
		}
		wantPlan(t, apply(t, db, idpV2, reconcile.Options{Prune: true}), nil)
		// A mapper naming a role the realm lacks is refused, and nothing changes.
		bad := `{"realm": "acme", "identityProviders": [{"alias": "corp", "providerId": "oidc", "displayName": "X"}],
		 "identityProviderMappers": [{"name": "m", "identityProviderAlias": "corp", "identityProviderMapper": "oidc-hardcoded-role-idp-mapper", "config": {"role": "nope"}}]}`
		if _, err := reconcile.File(ctx, db, []byte(bad), reconcile.Options{Now: now}); err == nil {
			t.Fatal("bad mapper reconciled")
		}
		if p, _ := db.GetIdentityProvider(ctx, r.ID, "corp"); p.DisplayName != "Corp" {
			t.Errorf("refused reconcile changed the provider: %+v", p)
		}
	})
}
