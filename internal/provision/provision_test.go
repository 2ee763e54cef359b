package provision_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

var now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func TestNewRealmHasKeycloakBuiltins(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := t.Context()
		if _, err := provision.Master(ctx, db, "admin", "pw-admin", now); err != nil {
			t.Fatal(err)
		}
		r := realm.New(store.NewID(), "ldap-demo")
		if err := provision.NewRealm(ctx, db, r, now); err != nil {
			t.Fatal(err)
		}
		r, _ = db.GetRealm(ctx, r.ID)

		clients, _ := db.ListClients(ctx, r.ID)
		var ids []string
		for _, c := range clients {
			ids = append(ids, c.ClientID)
		}
		want := []string{"account", "account-console", "admin-cli", "broker", "realm-management", "security-admin-console"}
		if !slices.Equal(ids, want) {
			t.Fatalf("clients: got %v want %v", ids, want)
		}

		scopes, _ := db.ListClientScopes(ctx, r.ID)
		var names []string
		for _, s := range scopes {
			names = append(names, s.Name)
		}
		for _, n := range []string{"profile", "email", "roles", "web-origins", "acr", "basic", "offline_access", "address", "phone", "microprofile-jwt"} {
			if !slices.Contains(names, n) {
				t.Errorf("missing built-in scope %s", n)
			}
		}

		def, err := db.GetRole(ctx, r.ID, r.DefaultRoleID)
		if err != nil || def.Name != "default-roles-ldap-demo" {
			t.Fatalf("default role: %+v %v", def, err)
		}
		kids, _ := db.ListComposites(ctx, def.ID)
		var kn []string
		for _, k := range kids {
			kn = append(kn, k.Name)
		}
		for _, n := range []string{"offline_access", "uma_authorization", "view-profile", "manage-account"} {
			if !slices.Contains(kn, n) {
				t.Errorf("default role lacks %s (has %v)", n, kn)
			}
		}

		rm, _ := db.GetClientByClientID(ctx, r.ID, "realm-management")
		ra, err := db.GetClientRole(ctx, r.ID, rm.ID, "realm-admin")
		if err != nil {
			t.Fatal(err)
		}
		if kids, _ := db.ListComposites(ctx, ra.ID); len(kids) != len(provision.AdminRoles) {
			t.Errorf("realm-admin composites: %d", len(kids))
		}

		// Keycloak's default key providers, by name, algorithm and priority.
		ks, _ := db.ListKeys(ctx, r.ID)
		var got []string
		for _, k := range ks {
			got = append(got, fmt.Sprintf("%s %s %s %d %v", k.DisplayName(), k.ProviderID, k.Algorithm, k.Priority, k.Active && k.Enabled))
		}
		slices.Sort(got)
		wantKeys := []string{
			"aes-generated aes-generated AES 100 true",
			"hmac-generated-hs512 hmac-generated HS512 100 true",
			"rsa-enc-generated rsa-enc-generated RSA-OAEP 100 true",
			"rsa-generated rsa-generated RS256 100 true",
		}
		if !slices.Equal(got, wantKeys) {
			t.Errorf("keys:\n%v\nwant\n%v", got, wantKeys)
		}

		// A new client receives the realm's default scopes.
		app, _ := db.GetClientByClientID(ctx, r.ID, "admin-cli")
		links, _ := db.ClientScopeLinks(ctx, r.ID, app.ID)
		if len(links) != 10 {
			t.Errorf("admin-cli scope links: %d", len(links))
		}

		// Master got an admin client for the new realm, inside the admin role.
		m, _ := db.GetRealmByName(ctx, "master")
		ac, err := db.GetClientByClientID(ctx, m.ID, "ldap-demo-realm")
		if err != nil {
			t.Fatalf("ldap-demo-realm client in master: %v", err)
		}
		mu, _ := db.GetClientRole(ctx, m.ID, ac.ID, "manage-users")
		admin, _ := db.GetRealmRole(ctx, m.ID, "admin")
		adminKids, _ := db.ListComposites(ctx, admin.ID)
		found := false
		for _, k := range adminKids {
			found = found || k.ID == mu.ID
		}
		if !found {
			t.Error("master admin role does not include ldap-demo-realm/manage-users")
		}

		// Running Complete again adds nothing.
		before, _ := db.ListAllRoles(ctx, r.ID)
		if err := provision.Complete(ctx, db, r.ID, now); err != nil {
			t.Fatal(err)
		}
		after, _ := db.ListAllRoles(ctx, r.ID)
		if len(before) != len(after) {
			t.Errorf("Complete is not idempotent: %d roles became %d", len(before), len(after))
		}
	})
}

func TestMasterBootstrapAdmin(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	created, err := provision.Master(ctx, db, "Admin", "s3cret-pass", now)
	if err != nil || !created {
		t.Fatalf("created=%v err=%v", created, err)
	}
	m, _ := db.GetRealmByName(ctx, "master")
	u, err := db.GetUserByUsername(ctx, m.ID, "admin")
	if err != nil {
		t.Fatal(err)
	}
	creds, _ := db.ListCredentials(ctx, u.ID)
	if len(creds) != 1 {
		t.Fatalf("credentials: %d", len(creds))
	}
	if ok, err := user.VerifyPassword("s3cret-pass", creds[0]); !ok || err != nil {
		t.Fatalf("bootstrap password does not verify: %v", err)
	}
	eff, _ := db.EffectiveRoleIDs(ctx, m.ID, u.ID)
	admin, _ := db.GetRealmRole(ctx, m.ID, "admin")
	mr, _ := db.GetClientByClientID(ctx, m.ID, "master-realm")
	mu, _ := db.GetClientRole(ctx, m.ID, mr.ID, "manage-users")
	if !slices.Contains(eff, admin.ID) || !slices.Contains(eff, mu.ID) {
		t.Fatal("bootstrap admin lacks admin or master-realm/manage-users")
	}
	// A second start with another password neither adds a user nor changes it.
	created, err = provision.Master(ctx, db, "other", "different", now)
	if err != nil || created {
		t.Fatalf("second start: created=%v err=%v", created, err)
	}
	if n, _ := db.CountUsers(ctx, m.ID); n != 1 {
		t.Fatalf("users after restart: %d", n)
	}
}

func TestNewRealmsGetTheBuiltInFlowsWithTheirOwnIDs(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := t.Context()
		if _, err := provision.Master(ctx, db, "admin", "pw-admin", now); err != nil {
			t.Fatal(err)
		}
		master, err := db.GetRealmByName(ctx, realm.MasterName)
		if err != nil {
			t.Fatal(err)
		}
		a, b := realm.New(store.NewID(), "a"), realm.New(store.NewID(), "b")
		for _, r := range []realm.Realm{a, b} {
			if err := provision.NewRealm(ctx, db, r, now); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[string]string{}
		for _, r := range []realm.Realm{master, a, b} {
			c, err := db.GetAuthConfig(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if err := flow.Validate(c); err != nil {
				t.Errorf("%s: %v", r.Name, err)
			}
			want := flow.Defaults()
			if len(c.Flows) != len(want.Flows) || len(c.RequiredActions) != len(want.RequiredActions) || c.Bindings != want.Bindings {
				t.Fatalf("%s: %d flows, %d required actions, bindings %+v", r.Name, len(c.Flows), len(c.RequiredActions), c.Bindings)
			}
			for _, f := range c.Flows {
				ids := []string{f.ID}
				for _, e := range f.Executions {
					ids = append(ids, e.ID)
				}
				for _, id := range ids {
					if id == "" || seen[id] != "" {
						t.Errorf("%s: flow %s: id %q empty or shared with %s", r.Name, f.Alias, id, seen[id])
					}
					seen[id] = r.Name
				}
			}
		}
	})
}
