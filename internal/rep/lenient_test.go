package rep_test

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// A realm file is read as Keycloak reads it.
func TestLenientRealmFile(t *testing.T) {
	doc := `{
	  "realm": "lenient", "enabled": "true", "accessTokenLifespan": "120",
	  "registrationAllowed": "not a boolean", "registrationAllowed": false,
	  "attributes": {"frontendUrl": "", "userProfileEnabled": true, "n": 3},
	  "users": [{"username": "a", "enabled": "true", "attributes": {"phone": "123", "tags": ["x", "y"]},
	             "notAField": 1}],
	  "clients": [{"clientId": "c", "fullScopeAllowed": "false", "authorizationSettings": {"x": 1}}],
	  "components": {"org.keycloak.storage.client.ClientStorageProvider": [{"name": "remote", "providerId": "remote"}]},
	  "authenticationFlows": []
	}`
	realms, err := rep.DecodeRealms([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	x := realms[0].Realm
	if x.Enabled == nil || !*x.Enabled || x.AccessTokenLifespan == nil || *x.AccessTokenLifespan != 120 {
		t.Errorf("strings as boolean and number: enabled %v, lifespan %v", x.Enabled, x.AccessTokenLifespan)
	}
	if x.RegistrationAllowed == nil || *x.RegistrationAllowed {
		t.Errorf("duplicate key: the last value must win, got %v", x.RegistrationAllowed)
	}
	if x.Attributes["userProfileEnabled"] != "true" || x.Attributes["n"] != "3" {
		t.Errorf("realm attributes holding a boolean and a number: %v", x.Attributes)
	}
	u := x.Users[0]
	if !slices.Equal(u.Attributes["phone"], []string{"123"}) || !slices.Equal(u.Attributes["tags"], []string{"x", "y"}) {
		t.Errorf("user attributes: %v", u.Attributes)
	}
	if c := x.Clients[0]; c.FullScopeAllowed == nil || *c.FullScopeAllowed {
		t.Errorf("fullScopeAllowed: %v", c.FullScopeAllowed)
	}
	// authenticationFlows is stored: it is not in the report.
	want := []string{
		`$.clients[0].authorizationSettings`,
		`$.components["org.keycloak.storage.client.ClientStorageProvider"]`,
		"$.users[0].notAField",
	}
	if !slices.Equal(realms[0].Ignored, want) {
		t.Errorf("not stored:\n got %q\nwant %q", realms[0].Ignored, want)
	}
}

// Credentials of exports older than Keycloak 12 carry the hash in
// hashedSaltedValue; the user logs in with the password, and the first
// login re-hashes it with the realm's policy.
func TestLegacyCredentials(t *testing.T) {
	salt := []byte("0123456789abcdef")
	cases := []struct {
		algorithm  string
		iterations int
		h          func() hash.Hash
		keyLen     int
	}{
		{"pbkdf2", 20_000, sha1.New, 64},
		{"pbkdf2", 1, sha1.New, 64},
		{"pbkdf2-sha256", 27_500, sha256.New, 32},
		{"pbkdf2-sha256", 20_000, sha256.New, 64},
		{"pbkdf2-sha512", 27_500, sha512.New, 64},
		{"pbkdf2-sha512", 20_000, sha512.New, 64},
		{"", 1, sha1.New, 64}, // no algorithm: PBKDF2 with SHA-1
	}
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := server(t, open)
		ctx := context.Background()
		users := ""
		for i, c := range cases {
			sum, err := pbkdf2.Key(c.h, "secret-"+fmt.Sprint(i), salt, c.iterations, c.keyLen)
			if err != nil {
				t.Fatal(err)
			}
			alg := ""
			if c.algorithm != "" {
				alg = fmt.Sprintf(`"algorithm": %q,`, c.algorithm)
			}
			if i > 0 {
				users += ","
			}
			users += fmt.Sprintf(`{"username": "u%d", "enabled": true, "credentials": [{"type": "password",
				"hashedSaltedValue": %q, "salt": %q, "hashIterations": %d, %s "counter": 0, "digits": 0, "period": 0,
				"createdDate": 1528478610540, "config": {}}]}`, i, base64.StdEncoding.EncodeToString(sum),
				base64.StdEncoding.EncodeToString(salt), c.iterations, alg)
		}
		doc := `{"realm": "legacy", "enabled": true, "users": [` + users + `,
			{"username": "otp", "credentials": [{"type": "totp", "hashedSaltedValue": "dSdmuHLQhk", "hashIterations": 0,
			 "counter": 0, "algorithm": "HmacSHA1", "digits": 8, "period": 40}]}]}`
		done, err := rep.ImportRealms(ctx, db, []byte(doc), rep.ImportOptions{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if len(done[0].Ignored) != 0 {
			t.Errorf("legacy credential members reported as not stored: %v", done[0].Ignored)
		}
		r, err := db.GetRealmByName(ctx, "legacy")
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range cases {
			name := fmt.Sprintf("u%d", i)
			if verify(t, db, r.ID, name, "wrong") {
				t.Errorf("%s %d: a wrong password verifies", c.algorithm, c.iterations)
			}
			if !verify(t, db, r.ID, name, "secret-"+fmt.Sprint(i)) {
				t.Errorf("%s %d: the password does not verify", c.algorithm, c.iterations)
			}
		}
		u, err := db.GetUserByUsername(ctx, r.ID, "otp")
		if err != nil {
			t.Fatal(err)
		}
		cs, err := db.ListCredentials(ctx, u.ID)
		if err != nil || len(cs) != 1 || cs[0].Type != "otp" || cs[0].SecretData != `{"value":"dSdmuHLQhk"}` {
			t.Errorf("OTP credential: %+v, %v", cs, err)
		}
		// The cost bounds still hold for old credentials.
		bad := `{"realm": "legacy-bad", "users": [{"username": "a", "credentials": [{"type": "password",
			"hashedSaltedValue": "AAAA", "salt": "AAAA", "hashIterations": 100000000, "algorithm": "pbkdf2-sha256"}]}]}`
		if _, err := rep.ImportRealms(ctx, db, []byte(bad), rep.ImportOptions{Now: now}); err == nil {
			t.Error("a legacy hash beyond the cost bounds was imported")
		}
	})
}

// Roles that users, groups and default roles name without the file
// declaring them are created; a client with authorization services gets
// uma_protection; pre-Keycloak-4 applications become clients.
func TestUndeclaredRolesAndLegacyClients(t *testing.T) {
	doc := `{"realm": "Mixed", "enabled": true,
	  "defaultRoles": ["dflt"],
	  "applications": [{"name": "app", "enabled": true, "defaultRoles": ["app-dflt"]}],
	  "oauthClients": [{"name": "oc", "enabled": true}],
	  "roles": {"application": {"app": [{"name": "declared"}]}},
	  "clients": [{"clientId": "rs", "authorizationServicesEnabled": true, "serviceAccountsEnabled": true}],
	  "groups": [{"name": "g", "realmRoles": ["group-role"], "clientRoles": {"app": ["group-app-role"]}}],
	  "users": [{"username": "u", "realmRoles": ["user-role"], "applicationRoles": {"app": ["user-app-role"]}}]}`
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := server(t, open)
		ctx := context.Background()
		if _, err := rep.ImportRealms(ctx, db, []byte(doc), rep.ImportOptions{Now: now}); err != nil {
			t.Fatal(err)
		}
		r, err := db.GetRealmByName(ctx, "Mixed")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"dflt", "group-role", "user-role", "default-roles-mixed"} {
			if _, err := db.GetRealmRole(ctx, r.ID, name); err != nil {
				t.Errorf("realm role %s: %v", name, err)
			}
		}
		clientRoles := map[string][]string{"app": {"declared", "app-dflt", "group-app-role", "user-app-role"}, "rs": {"uma_protection"}}
		for cid, names := range clientRoles {
			c, err := db.GetClientByClientID(ctx, r.ID, cid)
			if err != nil {
				t.Fatalf("client %s: %v", cid, err)
			}
			for _, name := range names {
				if _, err := db.GetClientRole(ctx, r.ID, c.ID, name); err != nil {
					t.Errorf("role %s of %s: %v", name, cid, err)
				}
			}
		}
		oc, err := db.GetClientByClientID(ctx, r.ID, "oc")
		if err != nil || !oc.ConsentRequired || oc.FullScopeAllowed {
			t.Errorf("OAuth client: %+v, %v", oc, err)
		}
		def, err := db.ListComposites(ctx, r.DefaultRoleID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, ro := range def {
			names = append(names, ro.Name)
		}
		if !slices.Contains(names, "dflt") || !slices.Contains(names, "app-dflt") {
			t.Errorf("default role composites %v lack dflt and app-dflt", names)
		}
		rs, err := db.GetClientByClientID(ctx, r.ID, "rs")
		if err != nil {
			t.Fatal(err)
		}
		sa, err := db.GetServiceAccount(ctx, r.ID, rs.ID)
		if err != nil {
			t.Fatal(err)
		}
		saRoles, err := db.ListUserRoles(ctx, sa.ID)
		if err != nil || !slices.ContainsFunc(saRoles, func(ro role.Role) bool { return ro.Name == "uma_protection" }) {
			t.Errorf("service account roles %v lack uma_protection (%v)", saRoles, err)
		}
		u, err := db.GetUserByUsername(ctx, r.ID, "u")
		if err != nil {
			t.Fatal(err)
		}
		urs, err := db.ListUserRoles(ctx, u.ID)
		if err != nil || len(urs) != 2 {
			t.Errorf("user roles: %v, %v", urs, err)
		}
	})
}
