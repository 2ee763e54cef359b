package ldap

import (
	"errors"
	"testing"
	"time"
)

func cfg(kv ...string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = []string{kv[i+1]}
	}
	return m
}

func TestParseDefaults(t *testing.T) {
	c, err := Parse(cfg("editMode", "READ_ONLY", "connectionUrl", "ldap://a:389 ldaps://b:636", "bindCredential", " s3cret "))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Enabled || c.Priority != 0 || c.Vendor != "other" || !c.ImportEnabled || c.SyncRegistrations || c.TrustEmail ||
		!c.Pagination || c.BatchSizeForSync != 1000 || c.SearchScope != ScopeSubtree || c.AuthType != "simple" ||
		c.UsernameAttribute != "uid" || c.RDNAttribute != "uid" || c.UUIDAttribute != "entryUUID" ||
		len(c.UserObjectClasses) != 2 || c.FullSyncPeriod != -1 || c.ChangedSyncPeriod != -1 || c.CachePolicy != "DEFAULT" {
		t.Errorf("defaults: %+v", c)
	}
	if len(c.ConnectionURLs) != 2 || c.ConnectionURLs[1] != "ldaps://b:636" {
		t.Errorf("urls: %v", c.ConnectionURLs)
	}
	if c.BindCredential != " s3cret " {
		t.Errorf("bind credential must be kept as given")
	}
}

func TestParseVendorDefaults(t *testing.T) {
	c, err := Parse(cfg("editMode", "WRITABLE", "vendor", "ad", "connectionTimeout", "1500"))
	if err != nil {
		t.Fatal(err)
	}
	if c.UsernameAttribute != "cn" || c.RDNAttribute != "cn" || c.UUIDAttribute != "objectGUID" || !c.ActiveDirectory() {
		t.Errorf("ad: %+v", c)
	}
	if c.ConnectionTimeout != 1500*time.Millisecond {
		t.Errorf("timeout %v", c.ConnectionTimeout)
	}
	for vendor, uuid := range map[string]string{"rhds": "nsuniqueid", "tivoli": "uniqueidentifier", "edirectory": "guid"} {
		c, err := Parse(cfg("editMode", "READ_ONLY", "vendor", vendor))
		if err != nil || c.UUIDAttribute != uuid || c.UsernameAttribute != "uid" {
			t.Errorf("%s: %v %+v", vendor, err, c)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg map[string][]string
		msg string
	}{
		"missing edit mode":        {cfg(), msgEditModeMandatory},
		"unknown edit mode":        {cfg("editMode", "SOMETIMES"), msgEditModeMandatory},
		"custom filter unbalanced": {cfg("editMode", "READ_ONLY", "customUserSearchFilter", "uid=x"), msgInvalidCustomFilter},
		"connection timeout text":  {cfg("editMode", "READ_ONLY", "connectionTimeout", "soon"), msgConnectionTimeoutNumber},
		"read timeout text":        {cfg("editMode", "READ_ONLY", "readTimeout", "1s"), msgReadTimeoutNumber},
		"starttls with pooling":    {cfg("editMode", "READ_ONLY", "startTls", "true", "connectionPooling", "true"), msgStartTLSAndPooling},
		"policy check read-only":   {cfg("editMode", "READ_ONLY", "validatePasswordPolicy", "true"), msgValidatePolicyWritable},
		"unsynced without import":  {cfg("editMode", "UNSYNCED", "importEnabled", "false"), msgUnsyncedAndImportOff},
		"kerberos":                 {cfg("editMode", "READ_ONLY", "allowKerberosAuthentication", "true"), msgKerberosUnsupported},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(tc.cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Msg != tc.msg {
				t.Errorf("got %v, want %q", err, tc.msg)
			}
		})
	}
}

func TestDefaultMappers(t *testing.T) {
	names := func(c Config) []string {
		var out []string
		for _, m := range DefaultMappers(c) {
			out = append(out, m.Name+"/"+m.ProviderID)
		}
		return out
	}
	other, _ := Parse(cfg("editMode", "READ_ONLY"))
	got := names(other)
	want := []string{"username/user-attribute-ldap-mapper", "first name/user-attribute-ldap-mapper", "last name/user-attribute-ldap-mapper",
		"email/user-attribute-ldap-mapper", "creation date/user-attribute-ldap-mapper", "modify date/user-attribute-ldap-mapper"}
	if len(got) != len(want) {
		t.Fatalf("other: %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("other[%d] = %s, want %s", i, got[i], want[i])
		}
	}
	if fn := DefaultMappers(other)[1].Config["ldap.attribute"][0]; fn != "cn" {
		t.Errorf("first name from %s", fn)
	}
	if ro := DefaultMappers(other)[0].Config["read.only"][0]; ro != "true" {
		t.Errorf("read-only provider's username mapper read.only=%s", ro)
	}
	ad, _ := Parse(cfg("editMode", "WRITABLE", "vendor", "ad", "usernameLDAPAttribute", "sAMAccountName"))
	got = names(ad)
	if got[1] != "first name/user-attribute-ldap-mapper" || got[2] != "username-cn/user-attribute-ldap-mapper" || got[len(got)-1] != "MSAD account controls/msad-user-account-control-mapper" {
		t.Errorf("ad writable: %v", got)
	}
	adRO, _ := Parse(cfg("editMode", "READ_ONLY", "vendor", "ad", "usernameLDAPAttribute", "sAMAccountName"))
	if got := names(adRO); got[1] != "full name/full-name-ldap-mapper" {
		t.Errorf("ad read-only: %v", got)
	}
	reg, _ := Parse(cfg("editMode", "WRITABLE", "syncRegistrations", "true", "usePasswordModifyExtendedOp", "true"))
	if got := names(reg); got[len(got)-1] != "random initial password/hardcoded-ldap-attribute-mapper" {
		t.Errorf("sync registrations: %v", got)
	}
}
