package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// ldapProvider is a provider body as the admin console sends it.
func ldapProvider(name, url, password string) map[string]any {
	return map[string]any{
		"name": name, "providerId": "ldap", "providerType": ldap.ProviderType,
		"config": map[string][]string{
			"enabled": {"true"}, "vendor": {"other"}, "connectionUrl": {url}, "bindDn": {"cn=admin,dc=example,dc=org"},
			"bindCredential": {password}, "usersDn": {"ou=People,dc=example,dc=org"}, "usernameLDAPAttribute": {"uid"},
			"rdnLDAPAttribute": {"uid"}, "uuidLDAPAttribute": {"entryUUID"}, "userObjectClasses": {"inetOrgPerson, organizationalPerson"},
			"editMode": {"WRITABLE"}, "importEnabled": {"true"}, "syncRegistrations": {"false"}, "pagination": {"true"},
		},
	}
}

// createComponent posts a component and returns its id from Location.
func (s *testServer) createComponent(realmName, token string, body any) string {
	s.t.Helper()
	st, h, b := s.do("POST", "/admin/realms/"+realmName+"/components", token, body)
	if st != 201 {
		s.t.Fatalf("create component: %d %s", st, b)
	}
	loc := h.Get("Location")
	return loc[strings.LastIndex(loc, "/")+1:]
}

func TestLDAPProviderComponents(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		r := s.newRealm("fed")
		admin := s.adminToken()
		comps := "/admin/realms/fed/components"
		list := func(q string) []policyComp {
			t.Helper()
			var out []policyComp
			s.get(comps+q, admin, &out)
			return out
		}

		// Refused settings answer Keycloak's 400 and store nothing.
		bad := ldapProvider("bad", "ldap://127.0.0.1:1", "pw")
		delete(bad["config"].(map[string][]string), "editMode")
		st, _, b := s.do("POST", comps, admin, bad)
		if st != 400 || string(b) != `{"errorMessage":"Edit Mode is mandatory"}` {
			t.Errorf("no edit mode: %d %s", st, b)
		}
		bad = ldapProvider("bad", "ldap://127.0.0.1:1", "pw")
		bad["providerId"] = "kerberos"
		if st, _, b := s.do("POST", comps, admin, bad); st != 400 || !strings.Contains(string(b), "errorMessage") {
			t.Errorf("kerberos provider: %d %s", st, b)
		}
		if got := list("?type=" + ldap.ProviderType); len(got) != 0 {
			t.Fatalf("refused providers stored: %+v", got)
		}

		id := s.createComponent("fed", admin, ldapProvider("ldap", "ldap://127.0.0.1:1", "s3cret"))
		provs := list("?type=" + ldap.ProviderType + "&parent=" + r.ID)
		if len(provs) != 1 || provs[0].ID != id || provs[0].Config["bindCredential"][0] != secret.Mask {
			t.Fatalf("providers: %+v", provs)
		}
		var one map[string]any
		s.get(comps+"/"+id, admin, &one)
		if one["parentId"] != r.ID || one["providerType"] != ldap.ProviderType || strings.Contains(mustJSON(t, one), "s3cret") {
			t.Errorf("read one: %v", one)
		}
		stored, _ := s.DB.GetComponent(ctx, r.ID, id)
		if stored.Config["bindCredential"][0] != "s3cret" {
			t.Errorf("stored credential: %v", stored.Config["bindCredential"])
		}

		// The default mappers came with it, under the provider.
		mappers := list("?parent=" + id + "&type=" + ldap.MapperProviderType)
		var names []string
		for _, m := range mappers {
			names = append(names, m.Name)
		}
		for _, want := range []string{"username", "email", "first name", "last name", "creation date", "modify date"} {
			if !slices.Contains(names, want) {
				t.Errorf("default mapper %q missing: %v", want, names)
			}
		}
		if got := list("?parent=" + id + "&name=email"); len(got) != 1 || got[0].ProviderID != ldap.MapperUserAttribute || got[0].Config["ldap.attribute"][0] != "mail" {
			t.Errorf("email mapper by name: %+v", got)
		}
		if got := list("?type=org.keycloak.keys.KeyProvider"); slices.ContainsFunc(got, func(c policyComp) bool { return c.ProviderType != "org.keycloak.keys.KeyProvider" }) {
			t.Errorf("key provider list holds other types")
		}
		// Without filters every component of the realm is listed, mappers too.
		if got := list(""); !slices.ContainsFunc(got, func(c policyComp) bool { return c.ID == id }) || !slices.ContainsFunc(got, func(c policyComp) bool { return c.ProviderType == ldap.MapperProviderType }) {
			t.Errorf("unfiltered list: %d entries", len(got))
		}
		if got := list("?parent=" + r.ID); slices.ContainsFunc(got, func(c policyComp) bool { return c.ProviderType == ldap.MapperProviderType }) {
			t.Errorf("the realm's children hold mappers")
		}

		// Updates: the mask keeps the stored secret only while the URL and
		// the bind DN stay; with either changed it is refused (the stored
		// password would go to a server the administrator just named). A
		// new password replaces it, a refused setting changes nothing.
		for _, change := range []func(map[string][]string){
			func(c map[string][]string) { c["connectionUrl"] = []string{"ldap://127.0.0.1:2"} },
			func(c map[string][]string) { c["bindDn"] = []string{"cn=other,dc=example,dc=org"} },
		} {
			upd := ldapProvider("renamed", "ldap://127.0.0.1:1", secret.Mask)
			upd["id"] = id
			change(upd["config"].(map[string][]string))
			st, _, b := s.do("PUT", comps+"/"+id, admin, upd)
			if st != 400 || !strings.Contains(string(b), "errorMessage") {
				t.Errorf("mask with a changed URL or bind DN: %d %s", st, b)
			}
			stored, _ = s.DB.GetComponent(ctx, r.ID, id)
			if stored.Name != "ldap" || stored.Config["connectionUrl"][0] != "ldap://127.0.0.1:1" || stored.Config["bindDn"][0] != "cn=admin,dc=example,dc=org" {
				t.Errorf("refused masked update changed the provider: %+v", stored)
			}
		}
		upd := ldapProvider("renamed", "ldap://127.0.0.1:1", secret.Mask)
		upd["id"] = id
		if st, _, b := s.do("PUT", comps+"/"+id, admin, upd); st != 204 {
			t.Fatalf("update with mask: %d %s", st, b)
		}
		stored, _ = s.DB.GetComponent(ctx, r.ID, id)
		if stored.Name != "renamed" || stored.Config["bindCredential"][0] != "s3cret" {
			t.Errorf("after update with mask: %+v", stored)
		}
		upd = ldapProvider("renamed", "ldap://127.0.0.1:2", "other")
		upd["config"].(map[string][]string)["editMode"] = []string{"READ_ONLY"}
		upd["config"].(map[string][]string)["validatePasswordPolicy"] = []string{"true"}
		st, _, b = s.do("PUT", comps+"/"+id, admin, upd)
		if st != 400 || string(b) != `{"errorMessage":"Validate Password Policy is applicable only with WRITABLE edit mode"}` {
			t.Errorf("refused update: %d %s", st, b)
		}
		stored, _ = s.DB.GetComponent(ctx, r.ID, id)
		if stored.Config["bindCredential"][0] != "s3cret" || stored.Config["editMode"][0] != "WRITABLE" {
			t.Errorf("refused update changed the provider: %+v", stored.Config)
		}
		upd = ldapProvider("renamed", "ldap://127.0.0.1:2", "n3w")
		if st, _, b := s.do("PUT", comps+"/"+id, admin, upd); st != 204 {
			t.Fatalf("update: %d %s", st, b)
		}
		if stored, _ = s.DB.GetComponent(ctx, r.ID, id); stored.Config["bindCredential"][0] != "n3w" {
			t.Errorf("new secret not stored")
		}
		if st, _, _ := s.do("PUT", comps+"/"+store.NewID(), admin, upd); st != 404 {
			t.Errorf("update of an unknown component: %d", st)
		}

		// Mappers: created under the provider, checked, updated, deleted.
		mapper := map[string]any{"name": "street", "providerId": ldap.MapperUserAttribute, "providerType": ldap.MapperProviderType, "parentId": id,
			"config": map[string][]string{"user.model.attribute": {"street"}}}
		st, _, b = s.do("POST", comps, admin, mapper)
		if st != 400 || string(b) != `{"errorMessage":"Missing configuration for 'LDAP Attribute'"}` {
			t.Errorf("mapper without its LDAP attribute: %d %s", st, b)
		}
		mapper["config"].(map[string][]string)["ldap.attribute"] = []string{"street"}
		mapper["parentId"] = store.NewID()
		if st, _, b := s.do("POST", comps, admin, mapper); st != 400 {
			t.Errorf("mapper under an unknown provider: %d %s", st, b)
		}
		mapper["parentId"] = id
		mid := s.createComponent("fed", admin, mapper)
		mapper["config"].(map[string][]string)["ldap.attribute"] = []string{"postalAddress"}
		if st, _, b := s.do("PUT", comps+"/"+mid, admin, mapper); st != 204 {
			t.Errorf("mapper update: %d %s", st, b)
		}
		if m, _ := s.DB.GetComponent(ctx, r.ID, mid); m.Config["ldap.attribute"][0] != "postalAddress" {
			t.Errorf("mapper update not stored: %+v", m)
		}
		if st, _, _ := s.do("DELETE", comps+"/"+mid, admin, nil); st != 204 {
			t.Errorf("mapper delete: %d", st)
		}

		// A partial export shows the provider and its mappers, the bind
		// credential masked.
		st, _, b = s.do("POST", "/admin/realms/fed/partial-export", admin, nil)
		var px struct {
			Components map[string][]struct {
				ID            string                       `json:"id"`
				Config        map[string][]string          `json:"config"`
				SubComponents map[string][]json.RawMessage `json:"subComponents"`
			} `json:"components"`
		}
		json.Unmarshal(b, &px)
		if ps := px.Components[ldap.ProviderType]; st != 200 || len(ps) != 1 || ps[0].ID != id || ps[0].Config["bindCredential"][0] != secret.Mask ||
			len(ps[0].SubComponents[ldap.MapperProviderType]) == 0 || strings.Contains(string(b), "n3w") {
			t.Errorf("partial export: %d %+v", st, px.Components[ldap.ProviderType])
		}

		// A user imported from the provider goes with it; a local one stays.
		mk := func(name, link string) string {
			u := user.User{ID: store.NewID(), RealmID: r.ID, Username: name, Enabled: true, FederationLink: link}
			if err := s.DB.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			return u.ID
		}
		fedUser, localUser := mk("from-ldap", id), mk("local", "")
		if st, _, _ := s.do("DELETE", comps+"/"+id, admin, nil); st != 204 {
			t.Fatalf("provider delete: %d", st)
		}
		if _, err := s.DB.GetUser(ctx, r.ID, fedUser); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("imported user kept: %v", err)
		}
		if _, err := s.DB.GetUser(ctx, r.ID, localUser); err != nil {
			t.Errorf("local user removed: %v", err)
		}
		if left, _ := s.DB.ListComponents(ctx, r.ID, "", ""); len(left) != 0 {
			t.Errorf("left after the provider's deletion: %+v", left)
		}
		if st, _, _ := s.do("DELETE", comps+"/"+id, admin, nil); st != 404 {
			t.Errorf("second delete: %d", st)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
