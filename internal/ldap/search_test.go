package ldap

import "testing"

func TestSearchConditionEscapes(t *testing.T) {
	cfg := Config{UsernameAttribute: "uid"}
	ms := []MapperSpec{{ProviderID: MapperUserAttribute, Config: map[string][]string{"user.model.attribute": {"email"}, "ldap.attribute": {"mail"}}}}
	for _, tc := range []struct {
		s    UserSearch
		want string
	}{
		{UserSearch{Words: []string{"user1)(uid=*"}}, `(|(uid=*user1\29\28uid=*)(mail=*user1\29\28uid=*))`},
		{UserSearch{Words: []string{`"bob"`, "b*"}}, `(&(|(uid=bob)(mail=bob))(|(uid=*b*)(mail=*b*)))`},
		{UserSearch{Words: []string{"*"}}, `(|(uid=*)(mail=*))`},
		{UserSearch{Fields: map[string]string{"username": "a(b", "lastName": "x"}, Exact: true}, `(uid=a\28b)`},
		{UserSearch{Fields: map[string]string{"firstName": "x"}}, ``},
	} {
		if got := SearchCondition(cfg, ms, tc.s); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.s, got, tc.want)
		}
	}
}

func TestProfileChangesAndReadOnly(t *testing.T) {
	ms := []MapperSpec{
		{ProviderID: MapperUserAttribute, Config: map[string][]string{"user.model.attribute": {"username"}, "ldap.attribute": {"uid"}}},
		{ProviderID: MapperUserAttribute, Config: map[string][]string{"user.model.attribute": {"email"}, "ldap.attribute": {"mail"}}},
		{ProviderID: MapperUserAttribute, Config: map[string][]string{"user.model.attribute": {"lastName"}, "ldap.attribute": {"sn"}, "is.mandatory.in.ldap": {"true"}}},
		{ProviderID: MapperUserAttribute, Config: map[string][]string{"user.model.attribute": {"phone"}, "ldap.attribute": {"telephoneNumber"}, "read.only": {"true"}}},
	}
	cfg := Config{EditMode: Writable, RDNAttribute: "uid"}
	before := Projection{Username: "u", Email: "a@x", LastName: "L", Attributes: map[string][]string{"phone": {"1"}}}
	after := Projection{Username: "v", Email: "b@x", Attributes: map[string][]string{"phone": {"2"}}}
	got := ProfileChanges(cfg, ms, before, after)
	if len(got) != 2 || got["mail"][0] != "b@x" || got["sn"][0] != " " {
		t.Errorf("changes: %v", got)
	}
	if all, fixed := ReadOnlyAttributes(cfg, ms); all || len(fixed) != 2 || fixed[0] != "username" || fixed[1] != "phone" {
		t.Errorf("writable read-only: %v %v", all, fixed)
	}
	if all, _ := ReadOnlyAttributes(Config{EditMode: ReadOnly}, ms); !all {
		t.Error("READ_ONLY fixes every attribute")
	}
	if all, fixed := ReadOnlyAttributes(Config{EditMode: Unsynced}, ms); all || fixed != nil {
		t.Error("UNSYNCED fixes nothing")
	}
}
