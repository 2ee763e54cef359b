package rep_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

var now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func fixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/ldap-demo-realm.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func server(t *testing.T, open func(testing.TB) *store.DB) *store.DB {
	t.Helper()
	db := open(t)
	if _, err := provision.Master(context.Background(), db, "admin", "admin-pw", now); err != nil {
		t.Fatal(err)
	}
	return db
}

func verify(t *testing.T, db *store.DB, realmID, username, password string) bool {
	t.Helper()
	u, err := db.GetUserByUsername(context.Background(), realmID, username)
	if err != nil {
		t.Fatalf("user %s: %v", username, err)
	}
	creds, _ := db.ListCredentials(context.Background(), u.ID)
	for _, c := range creds {
		if c.Type == user.CredentialPassword {
			ok, err := user.VerifyPassword(password, c)
			if err != nil {
				t.Fatalf("verify %s: %v", username, err)
			}
			return ok
		}
	}
	t.Fatalf("user %s has no password", username)
	return false
}

func TestImportFixture(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := server(t, open)
		ctx := context.Background()
		name, skipped, err := rep.ImportFile(ctx, db, fixture(t), rep.ImportOptions{Now: now})
		if err != nil || skipped || name != "ldap-demo" {
			t.Fatalf("import: %q %v %v", name, skipped, err)
		}
		r, err := db.GetRealmByName(ctx, "ldap-demo")
		if err != nil {
			t.Fatal(err)
		}
		if r.ID != "5b7a6a55-6c0e-4c53-9a57-0d4f3c1f2a10" || r.SSOSessionIdleTimeout != 60 || r.AccessTokenLifespan != 60 ||
			r.OfflineSessionIdleTimeout != 5184000 || !r.RevokeRefreshToken || r.RefreshTokenMaxReuse != 2 || r.FailureFactor != 5 {
			t.Fatalf("realm settings: %+v", r)
		}

		// Keycloak-format hashes verify with the right password only.
		if !verify(t, db, r.ID, "user1", "password") || verify(t, db, r.ID, "user1", "Password") {
			t.Error("pbkdf2-sha256 (27500) hash of user1 does not verify as expected")
		}
		if !verify(t, db, r.ID, "user2", "correct horse") || verify(t, db, r.ID, "user2", "password") {
			t.Error("argon2 hash of user2 does not verify as expected")
		}
		if !verify(t, db, r.ID, "newcomer", "first-day") {
			t.Error("plain imported password was not hashed correctly")
		}
		nc, _ := db.GetUserByUsername(ctx, r.ID, "newcomer")
		if !slices.Contains(nc.RequiredActions, "UPDATE_PASSWORD") {
			t.Error("temporary password did not add UPDATE_PASSWORD")
		}
		creds, _ := db.ListCredentials(ctx, nc.ID)
		if strings.Contains(creds[0].SecretData, "first-day") || !strings.Contains(creds[0].CredentialData, `"argon2"`) {
			t.Errorf("plain password stored unhashed or not argon2: %s", creds[0].CredentialData)
		}

		// Roles through direct mappings, composites and group inheritance.
		u1, _ := db.GetUserByUsername(ctx, r.ID, "user1")
		eff, _ := db.EffectiveRoleIDs(ctx, r.ID, u1.ID)
		app, _ := db.GetClientByClientID(ctx, r.ID, "ldap-app")
		reader, _ := db.GetClientRole(ctx, r.ID, app.ID, "reader")
		offline, _ := db.GetRealmRole(ctx, r.ID, "offline_access")
		appUser, _ := db.GetRealmRole(ctx, r.ID, "app-user")
		for _, id := range []string{reader.ID, offline.ID, appUser.ID} {
			if !slices.Contains(eff, id) {
				t.Errorf("user1 lacks role %s", id)
			}
		}
		u2, _ := db.GetUserByUsername(ctx, r.ID, "USER2")
		if u2.Email != "user2@example.com" || u2.Attributes["department"][0] != "research" {
			t.Errorf("user2: %+v", u2)
		}
		eff2, _ := db.EffectiveRoleIDs(ctx, r.ID, u2.ID)
		if !slices.Contains(eff2, reader.ID) || !slices.Contains(eff2, appUser.ID) {
			t.Error("user2 did not inherit roles from /staff/operators and /staff")
		}

		// Clients: the file's, with its secret and scopes, and the built-ins.
		if app.Secret != "password" || !app.ServiceAccountsEnabled || app.Attributes["pkce.code.challenge.method"] != "S256" {
			t.Errorf("ldap-app: %+v", app)
		}
		links, _ := db.ClientScopeLinks(ctx, r.ID, app.ID)
		var dflt, opt int
		for _, l := range links {
			if l.Default {
				dflt++
			} else {
				opt++
			}
		}
		if dflt != 6 || opt != 2 {
			t.Errorf("ldap-app scopes: %d default, %d optional", dflt, opt)
		}
		sa, err := db.GetServiceAccount(ctx, r.ID, app.ID)
		if err != nil || sa.ID != "a1a1a1a1-5555-4d4d-8e8e-000000000009" {
			t.Errorf("service account: %+v %v", sa, err)
		}
		for _, id := range []string{"account", "account-console", "admin-cli", "broker", "realm-management", "security-admin-console"} {
			if _, err := db.GetClientByClientID(ctx, r.ID, id); err != nil {
				t.Errorf("built-in client %s missing: %v", id, err)
			}
		}
		info, _ := db.GetClientScopeByName(ctx, r.ID, "info")
		if len(info.ProtocolMappers) != 2 {
			t.Errorf("info scope mappers: %v", info.ProtocolMappers)
		}
		ks, _ := db.ListKeys(ctx, r.ID)
		algs := map[string]string{}
		for _, k := range ks {
			algs[k.Algorithm] = k.DisplayName()
		}
		// The file's aes-generated provider gets a key of its own, and the
		// realm no other: a file with a key provider gets no defaults, and
		// its first token makes the fallback keys it needs.
		if len(ks) != 1 || algs["AES"] != "aes-generated" {
			t.Errorf("keys: want the file's AES key alone, got %v", algs)
		}
	})
}

func TestImportExistingRealm(t *testing.T) {
	db := server(t, storetest.Open)
	ctx := context.Background()
	if _, _, err := rep.ImportFile(ctx, db, fixture(t), rep.ImportOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	_, _, err := rep.ImportFile(ctx, db, fixture(t), rep.ImportOptions{Now: now})
	if !errors.Is(err, rep.ErrRealmExists) {
		t.Fatalf("second import: want ErrRealmExists, got %v", err)
	}
	_, skipped, err := rep.ImportFile(ctx, db, fixture(t), rep.ImportOptions{Now: now, SkipExisting: true})
	if err != nil || !skipped {
		t.Fatalf("skip existing: %v %v", skipped, err)
	}
	r, _ := db.GetRealmByName(ctx, "ldap-demo")
	if err := db.UpdateRealm(ctx, r.ID, func(x *realm.Realm) error { x.AccessTokenLifespan = 999; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rep.ImportFile(ctx, db, fixture(t), rep.ImportOptions{Now: now, Override: true}); err != nil {
		t.Fatalf("override: %v", err)
	}
	r, _ = db.GetRealmByName(ctx, "ldap-demo")
	if r.AccessTokenLifespan != 60 {
		t.Fatalf("override kept the old realm: %d", r.AccessTokenLifespan)
	}
	if n, _ := db.CountUsers(ctx, r.ID); n != 4 {
		t.Fatalf("users after override: %d", n)
	}
}

func TestMalformedFileIsRejectedWithPath(t *testing.T) {
	cases := []struct {
		name, doc, path string
	}{
		{"wrong type deep in a list", `{"realm":"x","users":[{"username":"a"},{"username":"b","enabled":"yes"}]}`, "$.users[1].enabled"},
		{"wrong type of a setting", `{"realm":"x","accessTokenLifespan":"sixty"}`, "$.accessTokenLifespan"},
		{"syntax error", `{"realm":"x","clients":[{"clientId":"a"},{"clientId":"b",,}]}`, "$.clients[1].clientId"},
		{"truncated file", `{"realm":"x","users":[{"username":"a"`, "$"},
		{"not an object", `"x"`, "$"},
		{"an array element not a realm", `[{"realm":"x"},{"realm":"y","enabled":[]}]`, "$[1].enabled"},
		{"empty file", ``, "$"},
		{"missing realm name", `{"enabled":true}`, "$.realm"},
		{"client roles of an unknown client", `{"realm":"x","users":[{"username":"a","clientRoles":{"nope":["r"]}}]}`, "$.users[0].clientRoles.nope"},
		{"group roles of an unknown client", `{"realm":"x","groups":[{"name":"g","clientRoles":{"nope":["r"]}}]}`, "$.groups[0].clientRoles.nope[0]"},
		{"usernames differing in case", `{"realm":"x","users":[{"username":"a"},{"username":"A"}]}`, "$.users[1].username"},
		{"absurd hash parameters", `{"realm":"x","users":[{"username":"a","credentials":[{"type":"password","secretData":"{\"value\":\"AAAA\",\"salt\":\"AAAA\"}","credentialData":"{\"hashIterations\":2000000000,\"algorithm\":\"pbkdf2-sha256\"}"}]}]}`, "$.users[0].credentials[0]"},
		{"missing group", `{"realm":"x","users":[{"username":"a","groups":["/nope"]}]}`, "$.users[0].groups[0]"},
		{"duplicate client", `{"realm":"x","clients":[{"clientId":"a"},{"clientId":"a"}]}`, "$.clients[1].clientId"},
		{"composite naming a missing role", `{"realm":"x","roles":{"realm":[{"name":"r","composite":true,"composites":{"realm":["ghost"]}}]}}`, "$.roles.realm[0].composites.realm[0]"},
		{"invalid realm name", `{"realm":"a/b"}`, "$"},
	}
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := server(t, open)
		ctx := context.Background()
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := rep.ImportFile(ctx, db, []byte(tc.doc), rep.ImportOptions{Now: now})
				var ie *rep.ImportError
				if !errors.As(err, &ie) {
					t.Fatalf("want ImportError, got %v", err)
				}
				if ie.Path != tc.path {
					t.Fatalf("path: got %q want %q (%v)", ie.Path, tc.path, err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				if _, err := db.GetRealmByName(ctx, "x"); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("realm half-imported: %v", err)
				}
			})
		}
		// The master realm's admin clients were not touched by failed imports.
		m, _ := db.GetRealmByName(ctx, "master")
		if _, err := db.GetClientByClientID(ctx, m.ID, "x-realm"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("failed import left x-realm in master: %v", err)
		}
	})
}

func TestExportImportExportIsStable(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := context.Background()
		a := server(t, open)
		if _, _, err := rep.ImportFile(ctx, a, fixture(t), rep.ImportOptions{Now: now}); err != nil {
			t.Fatal(err)
		}
		first, err := rep.Export(ctx, a, "ldap-demo")
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(first, []byte("first-day")) {
			t.Fatal("export holds a plain password")
		}
		for _, want := range []string{`"realm": "ldap-demo"`, `"a1a1a1a1-5555-4d4d-8e8e-000000000001"`, `pbkdf2-sha256`,
			`"org.keycloak.keys.KeyProvider"`, `"secret"`, `"serviceAccountClientId": "ldap-app"`, `"/staff/operators"`} {
			if !bytes.Contains(first, []byte(want)) {
				t.Errorf("export lacks %s", want)
			}
		}
		b := server(t, open)
		if _, _, err := rep.ImportFile(ctx, b, first, rep.ImportOptions{Now: now.Add(time.Hour)}); err != nil {
			t.Fatalf("re-import: %v", err)
		}
		second, err := rep.Export(ctx, b, "ldap-demo")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("export → import → export differs:\n%s", firstDiff(first, second))
		}
		// The master realm exports too, and a fresh realm round-trips as well.
		if _, err := rep.Export(ctx, b, "master"); err != nil {
			t.Fatal(err)
		}
		if _, err := rep.Export(ctx, b, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown realm: %v", err)
		}
	})
}

func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return "line " + strconv.Itoa(i+1) + ":\n- " + la[i] + "\n+ " + lb[i]
		}
	}
	return "lengths differ"
}
