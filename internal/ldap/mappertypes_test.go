package ldap

import (
	"slices"
	"testing"
)

// The mapper types follow their provider: a WRITABLE provider's mappers
// write by default, a READ_ONLY one's only read; a provider that does not
// import offers neither "always read from LDAP" nor the IMPORT mode; Active
// Directory's groups are of class group and may be searched recursively.
func TestMapperTypes(t *testing.T) {
	find := func(types []MapperType, id, name string) (MapperType, MapperProperty, bool) {
		for _, mt := range types {
			if mt.ID != id {
				continue
			}
			for _, p := range mt.Properties {
				if p.Name == name {
					return mt, p, true
				}
			}
			return mt, MapperProperty{}, false
		}
		t.Fatalf("no mapper type %s", id)
		return MapperType{}, MapperProperty{}, false
	}
	ids := []string{}
	ro := MapperTypes(Config{Vendor: VendorOther, EditMode: ReadOnly, ImportEnabled: true, UsernameAttribute: "uid"})
	for _, mt := range ro {
		ids = append(ids, mt.ID)
	}
	for _, id := range []string{MapperUserAttribute, MapperFullName, MapperHardcodedRole, MapperHardcodedAttribute, MapperHardcodedGroup,
		MapperGroup, MapperRole, MapperCertificate, MapperMSADAccountControl} {
		if !slices.Contains(ids, id) {
			t.Errorf("no mapper type %s", id)
		}
	}
	if _, p, _ := find(ro, MapperUserAttribute, "read.only"); p.DefaultValue != "true" {
		t.Errorf("READ_ONLY provider: read.only defaults to %q", p.DefaultValue)
	}
	if _, _, ok := find(ro, MapperUserAttribute, "always.read.value.from.ldap"); !ok {
		t.Errorf("importing provider lacks always.read.value.from.ldap")
	}
	if _, p, _ := find(ro, MapperGroup, "mode"); p.DefaultValue != "READ_ONLY" || !slices.Contains(p.Options, "IMPORT") {
		t.Errorf("READ_ONLY provider's group mode: %+v", p)
	}
	if mt, p, _ := find(ro, MapperGroup, "group.object.classes"); p.DefaultValue != "groupOfNames" || mt.Metadata["fedToKeycloakSyncSupported"] != true {
		t.Errorf("group mapper: %+v %+v", p, mt.Metadata)
	}
	if _, p, _ := find(ro, MapperGroup, "user.roles.retrieve.strategy"); slices.Contains(p.Options, "LOAD_GROUPS_BY_MEMBER_ATTRIBUTE_RECURSIVELY") {
		t.Errorf("recursive search offered outside AD")
	}

	w := MapperTypes(Config{Vendor: VendorActiveDirectory, EditMode: Writable, ImportEnabled: false, UsernameAttribute: "cn"})
	if _, p, _ := find(w, MapperUserAttribute, "read.only"); p.DefaultValue != "false" {
		t.Errorf("WRITABLE provider: read.only defaults to %q", p.DefaultValue)
	}
	if _, _, ok := find(w, MapperUserAttribute, "always.read.value.from.ldap"); ok {
		t.Errorf("provider without import offers always.read.value.from.ldap")
	}
	if _, p, _ := find(w, MapperGroup, "mode"); p.DefaultValue != "LDAP_ONLY" || slices.Contains(p.Options, "IMPORT") {
		t.Errorf("WRITABLE provider without import, group mode: %+v", p)
	}
	if _, p, _ := find(w, MapperRole, "role.object.classes"); p.DefaultValue != "group" {
		t.Errorf("AD role classes: %q", p.DefaultValue)
	}
	if _, p, _ := find(w, MapperGroup, "membership.user.ldap.attribute"); p.DefaultValue != "cn" {
		t.Errorf("membership user attribute: %q", p.DefaultValue)
	}
	if _, p, _ := find(w, MapperGroup, "user.roles.retrieve.strategy"); !slices.Contains(p.Options, "LOAD_GROUPS_BY_MEMBER_ATTRIBUTE_RECURSIVELY") {
		t.Errorf("AD lacks the recursive search")
	}
}
