package reconcile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/reconcile"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

var now = time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)

// base is a realm as a team would keep it in version control: settings,
// two clients, realm and client roles with a composite, a group tree with
// role mappings, and two users, one with a password.
const base = `{
  "realm": "acme",
  "enabled": true,
  "accessTokenLifespan": 300,
  "roles": {
    "realm": [
      {"name": "viewer", "description": "reads"},
      {"name": "editor", "composite": true, "composites": {"realm": ["viewer"]}}
    ],
    "client": {"app": [{"name": "admin"}]}
  },
  "clients": [
    {"clientId": "app", "enabled": true, "secret": "app-secret-1", "directAccessGrantsEnabled": true,
     "redirectUris": ["https://app.example.com/*"], "attributes": {"pkce.code.challenge.method": "S256"},
     "protocolMappers": [{"name": "dept", "protocolMapper": "oidc-usermodel-attribute-mapper",
       "config": {"user.attribute": "dept", "claim.name": "dept", "access.token.claim": "true"}}]},
    {"clientId": "legacy", "enabled": true, "publicClient": true}
  ],
  "groups": [
    {"name": "staff", "realmRoles": ["viewer"], "subGroups": [
      {"name": "ops", "clientRoles": {"app": ["admin"]}}
    ]}
  ],
  "users": [
    {"username": "Alice", "enabled": true, "email": "alice@example.com", "firstName": "Alice",
     "realmRoles": ["editor"], "groups": ["/staff/ops"],
     "credentials": [{"type": "password", "value": "Alice-pass-1"}]},
    {"username": "bob", "enabled": true}
  ]
}`

// edited is base after a change request: a longer token lifespan, a second
// redirect URI, a new client, a reworded role, a composite dropped, a new
// group, a renamed user; bob and the legacy client are no longer listed.
const edited = `{
  "realm": "acme",
  "enabled": true,
  "accessTokenLifespan": 600,
  "roles": {
    "realm": [
      {"name": "viewer", "description": "reads everything"},
      {"name": "editor", "composite": false, "composites": {}}
    ],
    "client": {"app": [{"name": "admin"}]}
  },
  "clients": [
    {"clientId": "app", "enabled": true, "secret": "app-secret-1", "directAccessGrantsEnabled": true,
     "redirectUris": ["https://app2.example.com/*", "https://app.example.com/*"], "attributes": {"pkce.code.challenge.method": "S256"},
     "protocolMappers": [{"name": "dept", "protocolMapper": "oidc-usermodel-attribute-mapper",
       "config": {"user.attribute": "dept", "claim.name": "dept", "access.token.claim": "true"}}]},
    {"clientId": "new-app", "enabled": true, "publicClient": true, "redirectUris": ["https://new.example.com/*"]}
  ],
  "groups": [
    {"name": "contractors"},
    {"name": "staff", "realmRoles": ["viewer"], "subGroups": [
      {"name": "ops", "clientRoles": {"app": ["admin"]}}
    ]}
  ],
  "users": [
    {"username": "alice", "enabled": true, "email": "alice@example.com", "firstName": "Alicia",
     "realmRoles": ["editor"], "groups": ["/staff/ops"],
     "credentials": [{"type": "password", "value": "Alice-pass-1"}]}
  ]
}`

var editedPlan = []string{
	`update realm "acme": accessTokenLifespan`,
	`create client "new-app"`,
	`update client "app": redirectUris`,
	`update realm-role "editor": composites`,
	`update realm-role "viewer": description`,
	`create group "/contractors"`,
	`update user "alice": firstName`,
}

func apply(t *testing.T, db *store.DB, file string, opts reconcile.Options) []string {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = now
	}
	plan, err := reconcile.File(context.Background(), db, []byte(file), opts)
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if plan.Realm != "acme" {
		t.Errorf("plan realm = %q", plan.Realm)
	}
	return plan.Lines()
}

func wantPlan(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("plan:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func export(t *testing.T, db *store.DB) []byte {
	t.Helper()
	b, err := rep.Export(context.Background(), db, "acme")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReconcile(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(t testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()

		t.Run("a new realm is created with everything in the file", func(t *testing.T) {
			wantPlan(t, apply(t, db, base, reconcile.Options{}), []string{
				`create realm "acme"`,
				`create client "app"`,
				`create client "legacy"`,
				`create realm-role "editor"`,
				`create realm-role "viewer"`,
				`create client-role "app/admin"`,
				`create group "/staff"`,
				`create group "/staff/ops"`,
				`create user "alice"`,
				`create user "bob"`,
			})
		})
		t.Run("the same file applied again changes nothing", func(t *testing.T) {
			before := export(t, db)
			wantPlan(t, apply(t, db, base, reconcile.Options{}), nil)
			wantPlan(t, apply(t, db, base, reconcile.Options{Prune: true}), nil)
			if after := export(t, db); !bytes.Equal(before, after) {
				t.Error("an empty plan wrote something")
			}
		})
		t.Run("the realm's own export changes nothing", func(t *testing.T) {
			before := export(t, db)
			wantPlan(t, apply(t, db, string(before), reconcile.Options{Prune: true}), nil)
		})

		t.Run("a dry run shows the plan and writes nothing", func(t *testing.T) {
			before := export(t, db)
			wantPlan(t, apply(t, db, edited, reconcile.Options{DryRun: true}), editedPlan)
			if after := export(t, db); !bytes.Equal(before, after) {
				t.Errorf("dry run changed the realm:\n%s\nvs\n%s", before, after)
			}
		})
		t.Run("an edited file gives exactly the expected plan", func(t *testing.T) {
			wantPlan(t, apply(t, db, edited, reconcile.Options{}), editedPlan)
			wantPlan(t, apply(t, db, edited, reconcile.Options{}), nil)
			// Order carries no meaning in these lists.
			reordered := strings.Replace(edited, `["https://app2.example.com/*", "https://app.example.com/*"]`,
				`["https://app.example.com/*", "https://app2.example.com/*"]`, 1)
			wantPlan(t, apply(t, db, reordered, reconcile.Options{}), nil)

			r, _ := db.GetRealmByName(ctx, "acme")
			if r.AccessTokenLifespan != 600 {
				t.Errorf("accessTokenLifespan = %d", r.AccessTokenLifespan)
			}
			app, _ := db.GetClientByClientID(ctx, r.ID, "app")
			if len(app.RedirectURIs) != 2 || app.Secret != "app-secret-1" || app.Attributes["pkce.code.challenge.method"] != "S256" {
				t.Errorf("app after update: %+v", app)
			}
			if _, err := db.GetClientByClientID(ctx, r.ID, "legacy"); err != nil {
				t.Errorf("a client the file no longer lists went without --prune: %v", err)
			}
			if _, err := db.GetUserByUsername(ctx, r.ID, "bob"); err != nil {
				t.Errorf("a user the file no longer lists went without --prune: %v", err)
			}
			editor, _ := db.GetRealmRole(ctx, r.ID, "editor")
			if kids, _ := db.ListComposites(ctx, editor.ID); len(kids) != 0 {
				t.Errorf("editor still has composites %v", kids)
			}
		})

		t.Run("prune removes what the file does not list but never built-ins", func(t *testing.T) {
			wantPlan(t, apply(t, db, edited, reconcile.Options{Prune: true, DryRun: true}), []string{
				`delete client "legacy"`,
				`delete user "bob"`,
			})
			// Every list empty: everything of the file's own goes, nothing built in does.
			empty := `{"realm": "acme", "clients": [], "clientScopes": [], "roles": {"realm": [], "client": {"account": []}}, "groups": [], "users": []}`
			wantPlan(t, apply(t, db, empty, reconcile.Options{Prune: true}), []string{
				`delete client "app"`,
				`delete client "legacy"`,
				`delete client "new-app"`,
				`delete realm-role "editor"`,
				`delete realm-role "viewer"`,
				`delete group "/contractors"`,
				`delete group "/staff"`,
				`delete group "/staff/ops"`,
				`delete user "alice"`,
				`delete user "bob"`,
			})
			r, _ := db.GetRealmByName(ctx, "acme")
			for _, id := range []string{provision.Account, provision.AccountConsole, provision.AdminCLI, provision.Broker,
				provision.SecurityAdminConsole, provision.RealmManagement} {
				if _, err := db.GetClientByClientID(ctx, r.ID, id); err != nil {
					t.Errorf("built-in client %s: %v", id, err)
				}
			}
			for _, name := range []string{"offline_access", "uma_authorization", "default-roles-acme"} {
				if _, err := db.GetRealmRole(ctx, r.ID, name); err != nil {
					t.Errorf("built-in realm role %s: %v", name, err)
				}
			}
			for _, name := range []string{"profile", "email", "roles", "web-origins", "offline_access"} {
				if _, err := db.GetClientScopeByName(ctx, r.ID, name); err != nil {
					t.Errorf("built-in client scope %s: %v", name, err)
				}
			}
			account, _ := db.GetClientByClientID(ctx, r.ID, provision.Account)
			if roles, _ := db.ListClientRoles(ctx, r.ID, account.ID); len(roles) == 0 {
				t.Error("the account client's roles were pruned")
			}
			// And back: the base file recreates what it lists.
			apply(t, db, base, reconcile.Options{})
			wantPlan(t, apply(t, db, base, reconcile.Options{Prune: true}), nil)
		})
	})
}

func TestReconcileCredentials(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	apply(t, db, base, reconcile.Options{})
	r, _ := db.GetRealmByName(ctx, "acme")
	alice, _ := db.GetUserByUsername(ctx, r.ID, "alice")
	password := func() user.Credential {
		t.Helper()
		creds, err := db.ListCredentials(ctx, alice.ID)
		if err != nil || len(creds) != 1 {
			t.Fatalf("credentials: %v %v", creds, err)
		}
		return creds[0]
	}
	verifies := func(pw string) bool {
		ok, _ := user.VerifyPassword(pw, password())
		return ok
	}
	withUser := func(extra string) string {
		var x map[string]any
		json.Unmarshal([]byte(base), &x)
		var u map[string]any
		json.Unmarshal([]byte(extra), &u)
		x["users"] = []any{u}
		b, _ := json.Marshal(x)
		return string(b)
	}

	t.Run("a plain password that still verifies is left alone", func(t *testing.T) {
		stored := password()
		wantPlan(t, apply(t, db, base, reconcile.Options{}), nil)
		if password() != stored {
			t.Error("the stored hash was rewritten")
		}
	})
	t.Run("a user the file gives no credentials keeps the password they chose", func(t *testing.T) {
		changed, err := user.NewPasswordCredential(store.NewID(), alice.ID, "Alice-chose-this", now.UnixMilli(), user.HashPolicy{})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.ReplacePassword(ctx, changed); err != nil {
			t.Fatal(err)
		}
		wantPlan(t, apply(t, db, withUser(`{"username": "alice", "firstName": "Alice"}`), reconcile.Options{}), nil)
		if !verifies("Alice-chose-this") {
			t.Error("the user's own password was replaced")
		}
	})
	t.Run("a different password in the file replaces it, temporary adds the action once", func(t *testing.T) {
		file := withUser(`{"username": "alice", "credentials": [{"type": "password", "value": "Reset-2", "temporary": true}]}`)
		wantPlan(t, apply(t, db, file, reconcile.Options{}), []string{`update user "alice": credentials, requiredActions`})
		if !verifies("Reset-2") {
			t.Error("the file's password was not set")
		}
		u, _ := db.GetUser(ctx, r.ID, alice.ID)
		if !slices.Contains(u.RequiredActions, "UPDATE_PASSWORD") {
			t.Errorf("required actions %v", u.RequiredActions)
		}
		wantPlan(t, apply(t, db, file, reconcile.Options{}), nil)
	})
	t.Run("an exported hash is compared as stored", func(t *testing.T) {
		c := password()
		x := rep.CredentialFromDomain(c)
		b, _ := json.Marshal(x)
		wantPlan(t, apply(t, db, withUser(`{"username": "alice", "credentials": [`+string(b)+`]}`), reconcile.Options{}), nil)
		other, _ := user.NewPasswordCredential("x", alice.ID, "Other-3", 1, user.HashPolicy{})
		b, _ = json.Marshal(rep.CredentialFromDomain(other))
		wantPlan(t, apply(t, db, withUser(`{"username": "alice", "credentials": [`+string(b)+`]}`), reconcile.Options{}),
			[]string{`update user "alice": credentials`})
		if !verifies("Other-3") {
			t.Error("the file's hash was not stored")
		}
	})
}

func TestReconcileErrorsWriteNothing(t *testing.T) {
	db := storetest.Open(t)
	apply(t, db, base, reconcile.Options{})
	before := export(t, db)
	// A valid change followed by a reference to a role that does not exist:
	// the whole plan is refused.
	bad := strings.Replace(edited, `"realmRoles": ["editor"]`, `"realmRoles": ["nope"]`, 1)
	_, err := reconcile.File(context.Background(), db, []byte(bad), reconcile.Options{Now: now})
	var ie *rep.ImportError
	if !errors.As(err, &ie) || ie.Path != "$.users[0].realmRoles[0]" {
		t.Fatalf("error = %v, want an ImportError at $.users[0].realmRoles[0]", err)
	}
	if after := export(t, db); !bytes.Equal(before, after) {
		t.Error("a failed reconcile left changes behind")
	}
}

func TestReconcileDryRunOfNewRealm(t *testing.T) {
	db := storetest.Open(t)
	got := apply(t, db, base, reconcile.Options{DryRun: true})
	if len(got) == 0 || got[0] != `create realm "acme"` {
		t.Errorf("plan = %v", got)
	}
	if _, err := db.GetRealmByName(context.Background(), "acme"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("dry run created the realm: %v", err)
	}
}

// A SAML client whose attributes do not validate is refused, on create and
// on update, at the attribute's path, as the importer refuses it, and
// nothing of the plan is written.
func TestReconcileRefusesInvalidSAMLClient(t *testing.T) {
	db := storetest.Open(t)
	apply(t, db, base, reconcile.Options{})
	before := export(t, db)
	bad := strings.Replace(base, `"clients": [`, `"clients": [
    {"clientId": "sp", "protocol": "saml", "attributes": {"saml_name_id_format": "whatever"}},`, 1)
	_, err := reconcile.File(context.Background(), db, []byte(bad), reconcile.Options{Now: now})
	var ie *rep.ImportError
	if !errors.As(err, &ie) || ie.Path != "$.clients[0].attributes.saml_name_id_format" {
		t.Fatalf("create: error = %v, want an ImportError at $.clients[0].attributes.saml_name_id_format", err)
	}
	if after := export(t, db); !bytes.Equal(before, after) {
		t.Error("a refused reconcile left changes behind")
	}

	good := strings.Replace(base, `"clients": [`, `"clients": [
    {"clientId": "sp", "protocol": "saml", "attributes": {"saml.signature.algorithm": "RSA_SHA256"}},`, 1)
	apply(t, db, good, reconcile.Options{})
	before = export(t, db)
	bad = strings.Replace(good, `"RSA_SHA256"`, `"RSA_MD5"`, 1)
	_, err = reconcile.File(context.Background(), db, []byte(bad), reconcile.Options{Now: now})
	if !errors.As(err, &ie) || ie.Path != "$.clients[0].attributes.saml.signature.algorithm" {
		t.Fatalf("update: error = %v, want an ImportError at $.clients[0].attributes.saml.signature.algorithm", err)
	}
	if after := export(t, db); !bytes.Equal(before, after) {
		t.Error("a refused reconcile left changes behind")
	}
}

// A file from a partial export carries the mask for a client's private
// key: the stored key stays, and a new client goes without one.
func TestReconcileKeepsMaskedClientAttributes(t *testing.T) {
	db := storetest.Open(t)
	withKey := strings.Replace(base, `"clients": [`, `"clients": [
    {"clientId": "sp", "protocol": "saml", "attributes": {"saml.signing.private.key": "PRIVATE"}},`, 1)
	apply(t, db, withKey, reconcile.Options{})
	masked := strings.Replace(withKey, `"PRIVATE"`, `"**********"`, 1)
	wantPlan(t, apply(t, db, masked, reconcile.Options{}), nil)
	r, err := db.GetRealmByName(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := db.GetClientByClientID(context.Background(), r.ID, "sp")
	if err != nil || sp.Attributes["saml.signing.private.key"] != "PRIVATE" {
		t.Errorf("stored private key after a masked file: %q %v", sp.Attributes["saml.signing.private.key"], err)
	}
	fresh := strings.Replace(masked, `"clientId": "sp"`, `"clientId": "sp2"`, 1)
	apply(t, db, fresh, reconcile.Options{})
	sp2, err := db.GetClientByClientID(context.Background(), r.ID, "sp2")
	if _, ok := sp2.Attributes["saml.signing.private.key"]; err != nil || ok {
		t.Errorf("a new client from a masked file: %v %v", sp2.Attributes, err)
	}
}
