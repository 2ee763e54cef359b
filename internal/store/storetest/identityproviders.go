package storetest

import (
	"errors"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

func identityProviderTests() []struct {
	name string
	fn   func(t *testing.T, db *store.DB)
} {
	return []struct {
		name string
		fn   func(t *testing.T, db *store.DB)
	}{
		{"identity providers: round trip, unique alias, rename, refusals", testIdentityProviders},
		{"identity provider mappers: follow their provider, unique names", testIdentityProviderMappers},
		{"federated identities: links, lookups, uniqueness, removal with user and provider", testFederatedIdentities},
	}
}

func testIdentityProviders(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "idps")
	other := mkRealm(t, db, "idps2")
	p := idp.New("corp", "oidc")
	p.DisplayName, p.TrustEmail, p.StoreToken, p.HideOnLogin = "Corporate", true, true, true
	p.FirstBrokerLoginFlowAlias, p.SyncMode = "first broker login", idp.SyncForce
	p.Config = map[string]string{"clientId": "gh", "clientSecret": "s3cret", "authorizationUrl": "https://up.example/auth", "empty": " "}
	got, err := db.CreateIdentityProvider(ctx(), r.ID, p)
	if err != nil || got.InternalID == "" {
		t.Fatalf("create: %+v %v", got, err)
	}
	read, err := db.GetIdentityProvider(ctx(), r.ID, "corp")
	if err != nil {
		t.Fatal(err)
	}
	if read.InternalID != got.InternalID || read.DisplayName != "Corporate" || !read.Enabled || !read.TrustEmail ||
		!read.StoreToken || !read.HideOnLogin || read.LinkOnly || read.SyncMode != idp.SyncForce ||
		read.FirstBrokerLoginFlowAlias != "first broker login" || read.Config["clientSecret"] != "s3cret" {
		t.Fatalf("round trip: %+v", read)
	}
	if _, ok := read.Config["empty"]; ok {
		t.Errorf("blank config value kept: %v", read.Config)
	}
	if byID, err := db.GetIdentityProviderByID(ctx(), r.ID, got.InternalID); err != nil || byID.Alias != "corp" {
		t.Errorf("by id: %+v %v", byID, err)
	}
	if _, err := db.CreateIdentityProvider(ctx(), r.ID, idp.New("corp", "github")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate alias: %v", err)
	}
	// The same alias in another realm is another provider.
	if _, err := db.CreateIdentityProvider(ctx(), other.ID, idp.New("corp", "github")); err != nil {
		t.Errorf("same alias in another realm: %v", err)
	}
	for _, bad := range []idp.Provider{idp.New("", "oidc"), idp.New("a b", "oidc"), idp.New("a/b", "oidc"), idp.New("x", "saml-nope"),
		{Alias: "y", ProviderID: "oidc", SyncMode: "SOMETIMES"}} {
		if _, err := db.CreateIdentityProvider(ctx(), r.ID, bad); !idp.IsValidationError(err) {
			t.Errorf("invalid %+v stored or wrong error: %v", bad, err)
		}
	}
	// A legacy configuration key moves to its field.
	legacy := idp.New("legacy", "google")
	legacy.Config = map[string]string{"hideOnLoginPage": "true", "syncMode": "IMPORT"}
	if _, err := db.CreateIdentityProvider(ctx(), r.ID, legacy); err != nil {
		t.Fatal(err)
	}
	if l, _ := db.GetIdentityProvider(ctx(), r.ID, "legacy"); !l.HideOnLogin || l.SyncMode != idp.SyncImport || len(l.Config) != 0 {
		t.Errorf("legacy keys: %+v", l)
	}
	list, err := db.ListIdentityProviders(ctx(), r.ID)
	if err != nil || len(list) != 2 || list[0].Alias != "corp" || list[1].Alias != "legacy" {
		t.Fatalf("list: %+v %v", list, err)
	}
	// Rename; an edit that fails or is invalid changes nothing.
	boom := errors.New("boom")
	if err := db.UpdateIdentityProvider(ctx(), r.ID, "corp", func(p *idp.Provider) error { p.DisplayName = "x"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("failing edit: %v", err)
	}
	if err := db.UpdateIdentityProvider(ctx(), r.ID, "corp", func(p *idp.Provider) error { p.ProviderID = "nope"; return nil }); !idp.IsValidationError(err) {
		t.Fatalf("invalid edit: %v", err)
	}
	if err := db.UpdateIdentityProvider(ctx(), r.ID, "corp", func(p *idp.Provider) error { p.Alias = "legacy"; return nil }); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("rename onto another: %v", err)
	}
	if err := db.UpdateIdentityProvider(ctx(), r.ID, "corp", func(p *idp.Provider) error {
		p.Alias, p.InternalID, p.Enabled = "corp2", "changed", false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetIdentityProvider(ctx(), r.ID, "corp"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old alias still found: %v", err)
	}
	if c, err := db.GetIdentityProvider(ctx(), r.ID, "corp2"); err != nil || c.InternalID != got.InternalID || c.Enabled || c.DisplayName != "Corporate" {
		t.Errorf("after rename: %+v %v", c, err)
	}
	if err := db.UpdateIdentityProvider(ctx(), r.ID, "nope", func(*idp.Provider) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update missing: %v", err)
	}
	if err := db.DeleteIdentityProvider(ctx(), r.ID, "corp2"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteIdentityProvider(ctx(), r.ID, "corp2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete missing: %v", err)
	}
	if o, err := db.GetIdentityProvider(ctx(), other.ID, "corp"); err != nil || o.ProviderID != "github" {
		t.Errorf("other realm's provider: %+v %v", o, err)
	}
}

func testIdentityProviderMappers(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "idpmappers")
	for _, a := range []string{"up", "up2"} {
		if _, err := db.CreateIdentityProvider(ctx(), r.ID, idp.New(a, "oidc")); err != nil {
			t.Fatal(err)
		}
	}
	m, err := db.CreateIdentityProviderMapper(ctx(), r.ID, idp.Mapper{Name: "role", IdentityProviderAlias: "up",
		IdentityProviderMapper: "oidc-hardcoded-role-idp-mapper", Config: map[string]string{"role": "admin", "syncMode": "INHERIT"}})
	if err != nil || m.ID == "" {
		t.Fatalf("create: %+v %v", m, err)
	}
	if _, err := db.CreateIdentityProviderMapper(ctx(), r.ID, idp.Mapper{Name: "attr", IdentityProviderAlias: "up", IdentityProviderMapper: "hardcoded-attribute-idp-mapper"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateIdentityProviderMapper(ctx(), r.ID, idp.Mapper{Name: "role", IdentityProviderAlias: "up", IdentityProviderMapper: "x"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate name: %v", err)
	}
	if _, err := db.CreateIdentityProviderMapper(ctx(), r.ID, idp.Mapper{Name: "role", IdentityProviderAlias: "up2", IdentityProviderMapper: "x"}); err != nil {
		t.Errorf("same name on another provider: %v", err)
	}
	if _, err := db.CreateIdentityProviderMapper(ctx(), r.ID, idp.Mapper{Name: "m", IdentityProviderAlias: "nope", IdentityProviderMapper: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("mapper of a missing provider: %v", err)
	}
	if _, err := db.CreateIdentityProviderMapper(ctx(), r.ID, idp.Mapper{Name: "", IdentityProviderAlias: "up", IdentityProviderMapper: "x"}); !idp.IsValidationError(err) {
		t.Errorf("nameless mapper: %v", err)
	}
	got, err := db.GetIdentityProviderMapper(ctx(), r.ID, m.ID)
	if err != nil || got.Name != "role" || got.IdentityProviderAlias != "up" || got.IdentityProviderMapper != "oidc-hardcoded-role-idp-mapper" || got.Config["role"] != "admin" {
		t.Fatalf("get: %+v %v", got, err)
	}
	if err := db.UpdateIdentityProviderMapper(ctx(), r.ID, m.ID, func(x *idp.Mapper) error {
		x.Name, x.Config["role"], x.IdentityProviderAlias = "role2", "user", "up2"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateIdentityProviderMapper(ctx(), r.ID, m.ID, func(x *idp.Mapper) error { x.Name = "attr"; return nil }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("rename onto a sibling: %v", err)
	}
	// Renaming the provider keeps its mappers.
	if err := db.UpdateIdentityProvider(ctx(), r.ID, "up", func(p *idp.Provider) error { p.Alias = "upstream"; return nil }); err != nil {
		t.Fatal(err)
	}
	list, err := db.ListIdentityProviderMappers(ctx(), r.ID, "upstream")
	if err != nil || len(list) != 2 || list[0].Name != "attr" || list[1].Name != "role2" || list[1].Config["role"] != "user" || list[1].IdentityProviderAlias != "upstream" {
		t.Fatalf("after provider rename: %+v %v", list, err)
	}
	all, err := db.ListRealmIdentityProviderMappers(ctx(), r.ID)
	if err != nil || len(all) != 3 {
		t.Fatalf("realm mappers: %+v %v", all, err)
	}
	if err := db.DeleteIdentityProviderMapper(ctx(), r.ID, list[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteIdentityProviderMapper(ctx(), r.ID, list[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete missing mapper: %v", err)
	}
	// Deleting the provider deletes its mappers.
	if err := db.DeleteIdentityProvider(ctx(), r.ID, "upstream"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetIdentityProviderMapper(ctx(), r.ID, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("mapper outlived its provider: %v", err)
	}
	if all, _ := db.ListRealmIdentityProviderMappers(ctx(), r.ID); len(all) != 1 || all[0].IdentityProviderAlias != "up2" {
		t.Errorf("left: %+v", all)
	}
}

func testFederatedIdentities(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "fedids")
	other := mkRealm(t, db, "fedids2")
	for _, a := range []string{"gh", "corp"} {
		if _, err := db.CreateIdentityProvider(ctx(), r.ID, idp.New(a, "oidc")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.CreateIdentityProvider(ctx(), other.ID, idp.New("gh", "oidc")); err != nil {
		t.Fatal(err)
	}
	alice, bob := mkUser(t, db, r.ID, "alice"), mkUser(t, db, r.ID, "bob")
	stranger := mkUser(t, db, other.ID, "stranger")
	link := idp.FederatedIdentity{UserID: alice.ID, Alias: "gh", FederatedUserID: "123", FederatedUsername: "alice-gh", Token: `{"access_token":"t"}`}
	if err := db.AddFederatedIdentity(ctx(), r.ID, link); err != nil {
		t.Fatal(err)
	}
	if err := db.AddFederatedIdentity(ctx(), r.ID, idp.FederatedIdentity{UserID: alice.ID, Alias: "corp", FederatedUserID: "a1", FederatedUsername: "alice"}); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]idp.FederatedIdentity{
		"second link of a user to a provider":     {UserID: alice.ID, Alias: "gh", FederatedUserID: "999"},
		"an upstream account linked to two users": {UserID: bob.ID, Alias: "gh", FederatedUserID: "123"},
	} {
		if err := db.AddFederatedIdentity(ctx(), r.ID, bad); !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, bad := range map[string]idp.FederatedIdentity{
		"missing provider":        {UserID: bob.ID, Alias: "nope", FederatedUserID: "1"},
		"missing user":            {UserID: "nope", Alias: "gh", FederatedUserID: "1"},
		"a user of another realm": {UserID: stranger.ID, Alias: "gh", FederatedUserID: "1"},
	} {
		if err := db.AddFederatedIdentity(ctx(), r.ID, bad); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := db.AddFederatedIdentity(ctx(), r.ID, idp.FederatedIdentity{UserID: bob.ID, Alias: "gh"}); !idp.IsValidationError(err) {
		t.Errorf("link without upstream id: %v", err)
	}
	// The same upstream account may be linked in another realm.
	if err := db.AddFederatedIdentity(ctx(), other.ID, idp.FederatedIdentity{UserID: stranger.ID, Alias: "gh", FederatedUserID: "123"}); err != nil {
		t.Errorf("same account in another realm: %v", err)
	}
	list, err := db.ListFederatedIdentities(ctx(), r.ID, alice.ID)
	if err != nil || len(list) != 2 || list[0].Alias != "corp" || list[1] != link {
		t.Fatalf("list: %+v %v", list, err)
	}
	if got, err := db.GetFederatedIdentity(ctx(), r.ID, alice.ID, "gh"); err != nil || got != link {
		t.Errorf("get: %+v %v", got, err)
	}
	if _, err := db.GetFederatedIdentity(ctx(), r.ID, bob.ID, "gh"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get missing: %v", err)
	}
	u, err := db.FindUserByFederatedIdentity(ctx(), r.ID, "gh", "123")
	if err != nil || u.ID != alice.ID {
		t.Fatalf("find: %+v %v", u, err)
	}
	if u, err := db.FindUserByFederatedIdentity(ctx(), other.ID, "gh", "123"); err != nil || u.ID != stranger.ID {
		t.Errorf("find in other realm: %+v %v", u, err)
	}
	if _, err := db.FindUserByFederatedIdentity(ctx(), r.ID, "corp", "123"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("find under another provider: %v", err)
	}
	if err := db.UpdateFederatedIdentityToken(ctx(), r.ID, alice.ID, "gh", "new"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetFederatedIdentity(ctx(), r.ID, alice.ID, "gh"); got.Token != "new" {
		t.Errorf("token: %q", got.Token)
	}
	if err := db.UpdateFederatedIdentityToken(ctx(), r.ID, bob.ID, "gh", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token of a missing link: %v", err)
	}
	// Renaming the provider keeps the links.
	if err := db.UpdateIdentityProvider(ctx(), r.ID, "gh", func(p *idp.Provider) error { p.Alias = "github"; return nil }); err != nil {
		t.Fatal(err)
	}
	if u, err := db.FindUserByFederatedIdentity(ctx(), r.ID, "github", "123"); err != nil || u.ID != alice.ID {
		t.Errorf("find after rename: %v", err)
	}
	if err := db.AddFederatedIdentity(ctx(), r.ID, idp.FederatedIdentity{UserID: bob.ID, Alias: "corp", FederatedUserID: "b1"}); err != nil {
		t.Fatal(err)
	}
	if all, err := db.ListRealmFederatedIdentities(ctx(), r.ID); err != nil || len(all) != 3 {
		t.Errorf("realm links: %+v %v", all, err)
	}
	if err := db.RemoveFederatedIdentity(ctx(), r.ID, alice.ID, "corp"); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveFederatedIdentity(ctx(), r.ID, alice.ID, "corp"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("remove missing: %v", err)
	}
	// Deleting a provider removes its links; deleting a user removes theirs.
	if err := db.DeleteIdentityProvider(ctx(), r.ID, "github"); err != nil {
		t.Fatal(err)
	}
	if list, _ := db.ListFederatedIdentities(ctx(), r.ID, alice.ID); len(list) != 0 {
		t.Errorf("links outlived their provider: %+v", list)
	}
	if err := db.DeleteUser(ctx(), r.ID, bob.ID); err != nil {
		t.Fatal(err)
	}
	if all, _ := db.ListRealmFederatedIdentities(ctx(), r.ID); len(all) != 0 {
		t.Errorf("links outlived their user: %+v", all)
	}
	if _, err := db.FindUserByFederatedIdentity(ctx(), r.ID, "corp", "b1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted user found: %v", err)
	}
}
