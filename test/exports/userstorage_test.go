package exports_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// ldapFiles are the files holding LDAP user storage providers: each must
// import them as providers with their mappers.
var ldapFiles = []string{
	"adorsys__keycloak-config-cli__ldap-federation-realm.json",
	"keycloak__keycloak__partialexport-testrealm.json",
	"keycloak__keycloak__testrealm-ldap-group-legacy.json",
}

// checkUserStorage checks that realm realmName holds the file's LDAP
// providers (by name, with the file's id when it gives one, connection URL
// and bind credential as written) and, under each, the file's mappers.
func checkUserStorage(t *testing.T, db *store.DB, realmName string, r map[string]any) int {
	t.Helper()
	ctx := context.Background()
	rm, err := db.GetRealmByName(ctx, realmName)
	if err != nil {
		t.Fatal(err)
	}
	comps, _ := r["components"].(map[string]any)
	providers, err := db.ListComponents(ctx, rm.ID, ldap.ProviderType, rm.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range list(comps[ldap.ProviderType]) {
		want := p.(map[string]any)
		if want["providerId"] != ldap.ProviderID {
			continue
		}
		n++
		i := slices.IndexFunc(providers, func(c store.Component) bool { return c.Name == want["name"] })
		if i < 0 {
			t.Errorf("realm %s lacks LDAP provider %v", realmName, want["name"])
			continue
		}
		got := providers[i]
		if id, ok := want["id"].(string); ok && id != got.ID {
			t.Errorf("provider %v imported with id %s, the file says %s", want["name"], got.ID, id)
		}
		cfg, _ := want["config"].(map[string]any)
		for _, k := range []string{ldap.KeyConnectionURL, ldap.KeyBindCredential, ldap.KeyEditMode} {
			if w := fmt.Sprint(cfg[k]); w != fmt.Sprint(got.Config[k]) {
				t.Errorf("provider %v %s: %v, the file says %s", want["name"], k, got.Config[k], w)
			}
		}
		mappers, err := db.ListComponents(ctx, rm.ID, ldap.MapperProviderType, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		var gotNames, wantNames []string
		for _, m := range mappers {
			gotNames = append(gotNames, m.ProviderID+"/"+m.Name)
		}
		subs, _ := want["subComponents"].(map[string]any)
		for _, m := range list(subs[ldap.MapperProviderType]) {
			mm := m.(map[string]any)
			wantNames = append(wantNames, fmt.Sprint(mm["providerId"])+"/"+fmt.Sprint(mm["name"]))
		}
		slices.Sort(gotNames)
		slices.Sort(wantNames)
		if !slices.Equal(gotNames, wantNames) {
			t.Errorf("provider %v mappers: %v, the file lists %v", want["name"], gotNames, wantNames)
		}
	}
	return n
}

// TestLDAPFilesHoldProviders keeps the list above honest: each file has at
// least one LDAP provider.
func TestLDAPFilesHoldProviders(t *testing.T) {
	for _, f := range loadFiles(t) {
		has := false
		for _, r := range f.realms {
			comps, _ := r["components"].(map[string]any)
			for _, p := range list(comps[ldap.ProviderType]) {
				has = has || p.(map[string]any)["providerId"] == ldap.ProviderID
			}
		}
		if has != slices.Contains(ldapFiles, f.name) {
			t.Errorf("%s: holds an LDAP provider %v, listed in ldapFiles %v", f.name, has, !has)
		}
	}
}
