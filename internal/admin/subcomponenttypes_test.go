package admin_test

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
)

// An LDAP provider's sub-component types are its mapper types, with the
// defaults of that provider: a WRITABLE provider's attribute mappers write
// to LDAP, its group mapper's mode is LDAP_ONLY.
func TestLDAPSubComponentTypes(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		r := s.newRealm("fed")
		admin := s.adminToken()
		id := s.createComponent("fed", admin, ldapProvider("ldap", "ldap://127.0.0.1:1", "s3cret"))
		path := "/admin/realms/fed/components/" + id + "/sub-component-types"
		var types []ldap.MapperType
		s.get(path+"?type="+ldap.MapperProviderType, admin, &types)
		got := map[string]ldap.MapperType{}
		for _, mt := range types {
			got[mt.ID] = mt
		}
		for _, id := range []string{ldap.MapperUserAttribute, ldap.MapperFullName, ldap.MapperGroup, ldap.MapperRole, ldap.MapperMSADAccountControl} {
			if _, ok := got[id]; !ok {
				t.Errorf("no mapper type %s in %d", id, len(types))
			}
		}
		for _, p := range got[ldap.MapperGroup].Properties {
			if p.Name == "mode" && p.DefaultValue != "LDAP_ONLY" {
				t.Errorf("WRITABLE provider's group mode defaults to %q", p.DefaultValue)
			}
		}
		if got[ldap.MapperGroup].Metadata["fedToKeycloakSyncSupported"] != true {
			t.Errorf("group mapper metadata: %v", got[ldap.MapperGroup].Metadata)
		}
		if st, _, b := s.do("GET", path, admin, nil); st != 400 || string(b) != `{"errorMessage":"must specify a subtype"}` {
			t.Errorf("no type: %d %s", st, b)
		}
		var none []any
		if s.get(path+"?type=org.keycloak.keys.KeyProvider", admin, &none); len(none) != 0 {
			t.Errorf("key provider sub-types of an LDAP provider: %v", none)
		}
		if st, _, _ := s.do("GET", path+"?type="+ldap.MapperProviderType, s.realmAdmin(r, "u", "view-users"), nil); st != 403 {
			t.Errorf("without view-realm: %d", st)
		}
	})
}
