// Package ldap owns Gatehouse's side of LDAP user federation: the `ldap`
// user storage provider's settings (as stored in a component's config), the
// directory client, and the mappers that turn a directory entry into a
// projection of a user and back. It never touches the store; package
// federation glues it to Gatehouse's users.
package ldap

import (
	"crypto/x509"
	"strconv"
	"strings"
	"time"
)

// Component provider types and ids as the admin API names them.
const (
	ProviderID         = "ldap"
	ProviderType       = "org.keycloak.storage.UserStorageProvider"
	MapperProviderType = "org.keycloak.storage.ldap.mappers.LDAPStorageMapper"
)

// Config keys of the ldap provider component.
const (
	KeyEnabled                     = "enabled"
	KeyPriority                    = "priority"
	KeyVendor                      = "vendor"
	KeyConnectionURL               = "connectionUrl"
	KeyStartTLS                    = "startTls"
	KeyAuthType                    = "authType"
	KeyBindDN                      = "bindDn"
	KeyBindCredential              = "bindCredential"
	KeyUsersDN                     = "usersDn"
	KeyUsernameLDAPAttribute       = "usernameLDAPAttribute"
	KeyRDNLDAPAttribute            = "rdnLDAPAttribute"
	KeyUUIDLDAPAttribute           = "uuidLDAPAttribute"
	KeyUserObjectClasses           = "userObjectClasses"
	KeyCustomUserSearchFilter      = "customUserSearchFilter"
	KeySearchScope                 = "searchScope"
	KeyPagination                  = "pagination"
	KeyBatchSizeForSync            = "batchSizeForSync"
	KeyEditMode                    = "editMode"
	KeyImportEnabled               = "importEnabled"
	KeySyncRegistrations           = "syncRegistrations"
	KeyTrustEmail                  = "trustEmail"
	KeyConnectionTimeout           = "connectionTimeout"
	KeyReadTimeout                 = "readTimeout"
	KeyConnectionPooling           = "connectionPooling"
	KeyValidatePasswordPolicy      = "validatePasswordPolicy"
	KeyUsePasswordModifyExtendedOp = "usePasswordModifyExtendedOp"
	KeyAllowKerberosAuthentication = "allowKerberosAuthentication"
	KeyUseKerberosForPassword      = "useKerberosForPasswordAuthentication"
	KeyFullSyncPeriod              = "fullSyncPeriod"
	KeyChangedSyncPeriod           = "changedSyncPeriod"
	KeyLastSync                    = "lastSync"
	KeyCachePolicy                 = "cachePolicy"
	KeyUseTruststoreSPI            = "useTruststoreSpi"
	KeyConnectionTrace             = "connectionTrace"
	KeyReferral                    = "referral"
)

// Vendors.
const (
	VendorOther            = "other"
	VendorActiveDirectory  = "ad"
	VendorRHDS             = "rhds"
	VendorTivoli           = "tivoli"
	VendorNovellEDirectory = "edirectory"
)

// EditMode says who owns a federated user's data.
type EditMode string

const (
	// ReadOnly: the directory is the truth; Gatehouse refuses changes.
	ReadOnly EditMode = "READ_ONLY"
	// Writable: changes (password included) are written to the directory.
	Writable EditMode = "WRITABLE"
	// Unsynced: changes stay in Gatehouse's copy of the user.
	Unsynced EditMode = "UNSYNCED"
)

// Search scopes as stored in searchScope.
const (
	ScopeOneLevel = 1
	ScopeSubtree  = 2
)

// DefaultBatchSizeForSync is the page size of a sync when none is set.
const DefaultBatchSizeForSync = 1000

// Config is an ldap provider component's config, parsed with defaults applied.
type Config struct {
	Enabled  bool
	Priority int

	Vendor         string
	ConnectionURLs []string
	StartTLS       bool
	AuthType       string // "simple" or "none"
	BindDN         string
	BindCredential string

	UsersDN                string
	UsernameAttribute      string
	RDNAttribute           string
	UUIDAttribute          string
	UserObjectClasses      []string
	CustomUserSearchFilter string
	SearchScope            int
	Pagination             bool
	BatchSizeForSync       int

	EditMode                    EditMode
	ImportEnabled               bool
	SyncRegistrations           bool
	TrustEmail                  bool
	ValidatePasswordPolicy      bool
	UsePasswordModifyExtendedOp bool
	AllowKerberosAuthentication bool

	ConnectionTimeout time.Duration // 0: the client's own default
	ReadTimeout       time.Duration // 0: the client's own default
	ConnectionPooling bool
	UseTruststoreSPI  string
	ConnectionTrace   bool

	FullSyncPeriod    int // seconds; <= 0 disables the periodic full sync
	ChangedSyncPeriod int // seconds; <= 0 disables the periodic changed-users sync
	CachePolicy       string

	// RootCAs verifies ldaps:// and StartTLS servers; nil means the system
	// pool. Not part of the component: the server's own config sets it.
	RootCAs *x509.CertPool
}

// ActiveDirectory reports whether the directory is Microsoft AD, which
// changes the password attribute, account-control handling and timestamps.
func (c Config) ActiveDirectory() bool { return c.Vendor == VendorActiveDirectory }

// ConfigError is a refused provider or mapper setting; Msg is the
// message the admin API answers with.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

// Messages of refused settings, as administrators of these servers know them.
const (
	msgInvalidCustomFilter     = `Custom configured LDAP filter does not start with "(" or does not end with ")".`
	msgConnectionTimeoutNumber = "Connection Timeout must be a number"
	msgReadTimeoutNumber       = "Read Timeout must be a number"
	msgStartTLSAndPooling      = "Can not enable both StartTLS and connection pooling."
	msgEditModeMandatory       = "Edit Mode is mandatory"
	msgValidatePolicyWritable  = "Validate Password Policy is applicable only with WRITABLE edit mode"
	msgUnsyncedAndImportOff    = "Can not disable Importing users when LDAP provider mode is UNSYNCED"
	msgKerberosUnsupported     = "Kerberos authentication is not supported"
)

// first returns the first value of key, and whether the key has one.
func first(cfg map[string][]string, key string) (string, bool) {
	v, ok := cfg[key]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

func str(cfg map[string][]string, key, def string) string {
	if v, ok := first(cfg, key); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

// boolean reads a flag the way the stored config spells it: only "true"
// (any case) is true; absent means def.
func boolean(cfg map[string][]string, key string, def bool) bool {
	v, ok := first(cfg, key)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	return strings.EqualFold(strings.TrimSpace(v), "true")
}

// DefaultUUIDAttribute is the attribute holding an entry's stable id per vendor.
func DefaultUUIDAttribute(vendor string) string {
	switch vendor {
	case VendorRHDS:
		return "nsuniqueid"
	case VendorTivoli:
		return "uniqueidentifier"
	case VendorNovellEDirectory:
		return "guid"
	case VendorActiveDirectory:
		return "objectGUID"
	}
	return "entryUUID"
}

// VendorDefaults are the settings the console fills in when a vendor is
// chosen for a new provider.
func VendorDefaults(vendor string) map[string]string {
	switch vendor {
	case VendorActiveDirectory:
		return map[string]string{KeyUsernameLDAPAttribute: "cn", KeyRDNLDAPAttribute: "cn", KeyUUIDLDAPAttribute: "objectGUID", KeyUserObjectClasses: "person, organizationalPerson, user"}
	case VendorRHDS, VendorTivoli, VendorNovellEDirectory, VendorOther:
		return map[string]string{KeyUsernameLDAPAttribute: "uid", KeyRDNLDAPAttribute: "uid", KeyUUIDLDAPAttribute: DefaultUUIDAttribute(vendor), KeyUserObjectClasses: "inetOrgPerson, organizationalPerson"}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// millis parses a timeout in milliseconds; empty is 0.
func millis(cfg map[string][]string, key, msg string) (time.Duration, error) {
	v := str(cfg, key, "")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, &ConfigError{Msg: msg}
	}
	if n < 0 {
		n = 0
	}
	return time.Duration(n) * time.Millisecond, nil
}

func integer(cfg map[string][]string, key string, def int) int {
	v := str(cfg, key, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return def
	}
	return n
}

// Parse reads a provider component's config, applying defaults, and
// refuses settings that cannot work together.
func Parse(cfg map[string][]string) (Config, error) {
	c := Config{
		Enabled:  boolean(cfg, KeyEnabled, true),
		Priority: integer(cfg, KeyPriority, 0),
		Vendor:   str(cfg, KeyVendor, VendorOther),
		StartTLS: boolean(cfg, KeyStartTLS, false),
		AuthType: str(cfg, KeyAuthType, "simple"),
		BindDN:   str(cfg, KeyBindDN, ""),
		UsersDN:  str(cfg, KeyUsersDN, ""),

		Pagination:                  boolean(cfg, KeyPagination, true),
		ImportEnabled:               boolean(cfg, KeyImportEnabled, true),
		SyncRegistrations:           boolean(cfg, KeySyncRegistrations, false),
		TrustEmail:                  boolean(cfg, KeyTrustEmail, false),
		ValidatePasswordPolicy:      boolean(cfg, KeyValidatePasswordPolicy, false),
		UsePasswordModifyExtendedOp: boolean(cfg, KeyUsePasswordModifyExtendedOp, false),
		AllowKerberosAuthentication: boolean(cfg, KeyAllowKerberosAuthentication, false),
		ConnectionPooling:           boolean(cfg, KeyConnectionPooling, true),
		UseTruststoreSPI:            str(cfg, KeyUseTruststoreSPI, "always"),
		ConnectionTrace:             boolean(cfg, KeyConnectionTrace, false),
		FullSyncPeriod:              integer(cfg, KeyFullSyncPeriod, -1),
		ChangedSyncPeriod:           integer(cfg, KeyChangedSyncPeriod, -1),
		CachePolicy:                 str(cfg, KeyCachePolicy, "DEFAULT"),
		BatchSizeForSync:            integer(cfg, KeyBatchSizeForSync, DefaultBatchSizeForSync),
	}
	if v, ok := first(cfg, KeyBindCredential); ok {
		c.BindCredential = v // a password may begin or end with spaces
	}
	if c.BatchSizeForSync <= 0 {
		c.BatchSizeForSync = DefaultBatchSizeForSync
	}
	for _, u := range strings.Fields(str(cfg, KeyConnectionURL, "")) {
		c.ConnectionURLs = append(c.ConnectionURLs, u)
	}
	def := VendorDefaults(c.Vendor)
	if def == nil {
		def = VendorDefaults(VendorOther)
	}
	c.UsernameAttribute = str(cfg, KeyUsernameLDAPAttribute, def[KeyUsernameLDAPAttribute])
	rdnDefault := c.UsernameAttribute
	if strings.EqualFold(rdnDefault, "sAMAccountName") {
		rdnDefault = "cn"
	}
	c.RDNAttribute = str(cfg, KeyRDNLDAPAttribute, rdnDefault)
	c.UUIDAttribute = str(cfg, KeyUUIDLDAPAttribute, DefaultUUIDAttribute(c.Vendor))
	c.UserObjectClasses = splitList(str(cfg, KeyUserObjectClasses, "inetOrgPerson,organizationalPerson"))
	c.SearchScope = integer(cfg, KeySearchScope, ScopeSubtree)
	if c.SearchScope != ScopeOneLevel {
		c.SearchScope = ScopeSubtree
	}

	c.CustomUserSearchFilter = str(cfg, KeyCustomUserSearchFilter, "")
	if f := c.CustomUserSearchFilter; f != "" && (!strings.HasPrefix(f, "(") || !strings.HasSuffix(f, ")")) {
		return c, &ConfigError{Msg: msgInvalidCustomFilter}
	}
	var err error
	if c.ConnectionTimeout, err = millis(cfg, KeyConnectionTimeout, msgConnectionTimeoutNumber); err != nil {
		return c, err
	}
	if c.ReadTimeout, err = millis(cfg, KeyReadTimeout, msgReadTimeoutNumber); err != nil {
		return c, err
	}
	if c.StartTLS && boolean(cfg, KeyConnectionPooling, false) {
		return c, &ConfigError{Msg: msgStartTLSAndPooling}
	}
	if c.StartTLS {
		c.ConnectionPooling = false
	}
	switch mode := EditMode(str(cfg, KeyEditMode, "")); mode {
	case ReadOnly, Writable, Unsynced:
		c.EditMode = mode
	default:
		return c, &ConfigError{Msg: msgEditModeMandatory}
	}
	if c.EditMode != Writable && c.ValidatePasswordPolicy {
		return c, &ConfigError{Msg: msgValidatePolicyWritable}
	}
	if !c.ImportEnabled && c.EditMode == Unsynced {
		return c, &ConfigError{Msg: msgUnsyncedAndImportOff}
	}
	if c.AllowKerberosAuthentication || boolean(cfg, KeyUseKerberosForPassword, false) {
		// Kerberos/SPNEGO stays out of Gatehouse; accepting the flag
		// silently would promise a login path that does not exist.
		return c, &ConfigError{Msg: msgKerberosUnsupported}
	}
	return c, nil
}

// MapperSpec is a mapper sub-component to create under a provider.
type MapperSpec struct {
	ID, Name, ProviderID string
	Config               map[string][]string
}

// Mapper provider ids.
const (
	MapperUserAttribute      = "user-attribute-ldap-mapper"
	MapperFullName           = "full-name-ldap-mapper"
	MapperHardcodedRole      = "hardcoded-ldap-role-mapper"
	MapperHardcodedAttribute = "hardcoded-ldap-attribute-mapper"
	MapperHardcodedGroup     = "hardcoded-ldap-group-mapper"
	MapperGroup              = "group-ldap-mapper"
	MapperRole               = "role-ldap-mapper"
	MapperCertificate        = "certificate-ldap-mapper"
	MapperMSADAccountControl = "msad-user-account-control-mapper"
)

// RandomAttributeValue in a hardcoded attribute mapper stands for a fresh
// random value per created entry.
const RandomAttributeValue = "${RANDOM}"

func attrMapper(name, userAttr, ldapAttr string, readOnly, alwaysRead, mandatory bool) MapperSpec {
	return MapperSpec{Name: name, ProviderID: MapperUserAttribute, Config: map[string][]string{
		"user.model.attribute":        {userAttr},
		"ldap.attribute":              {ldapAttr},
		"read.only":                   {strconv.FormatBool(readOnly)},
		"always.read.value.from.ldap": {strconv.FormatBool(alwaysRead)},
		"is.mandatory.in.ldap":        {strconv.FormatBool(mandatory)},
	}}
}

// DefaultMappers are the mappers a new provider gets, chosen from its
// vendor, username and RDN attributes and edit mode.
func DefaultMappers(c Config) []MapperSpec {
	readOnly := c.EditMode == ReadOnly || c.EditMode == Unsynced
	alwaysRead := c.EditMode == ReadOnly || c.EditMode == Writable
	out := []MapperSpec{attrMapper("username", "username", c.UsernameAttribute, readOnly, false, true)}
	if strings.EqualFold(c.RDNAttribute, "cn") {
		switch {
		case strings.EqualFold(c.UsernameAttribute, "cn"):
			out = append(out, attrMapper("first name", "firstName", "givenName", readOnly, alwaysRead, true))
		case c.EditMode == Writable:
			// With sAMAccountName as username, new entries still need a cn.
			out = append(out,
				attrMapper("first name", "firstName", "givenName", readOnly, alwaysRead, true),
				attrMapper("username-cn", "username", "cn", readOnly, false, true))
		default:
			out = append(out, MapperSpec{Name: "full name", ProviderID: MapperFullName, Config: map[string][]string{
				"ldap.full.name.attribute": {"cn"},
				"read.only":                {strconv.FormatBool(readOnly)},
				"write.only":               {"false"},
			}})
		}
	} else {
		out = append(out, attrMapper("first name", "firstName", "cn", readOnly, alwaysRead, true))
	}
	out = append(out,
		attrMapper("last name", "lastName", "sn", readOnly, alwaysRead, true),
		attrMapper("email", "email", "mail", readOnly, false, false))
	created, modified := "createTimestamp", "modifyTimestamp"
	if c.ActiveDirectory() {
		created, modified = "whenCreated", "whenChanged"
	}
	out = append(out,
		attrMapper("creation date", "createTimestamp", created, true, alwaysRead, false),
		attrMapper("modify date", "modifyTimestamp", modified, true, alwaysRead, false))
	if c.ActiveDirectory() {
		out = append(out, MapperSpec{Name: "MSAD account controls", ProviderID: MapperMSADAccountControl, Config: map[string][]string{}})
	}
	if !c.ActiveDirectory() && c.SyncRegistrations && c.UsePasswordModifyExtendedOp {
		// The password modify operation needs an existing userPassword to
		// replace, so registered entries start with a random one.
		out = append(out, MapperSpec{Name: "random initial password", ProviderID: MapperHardcodedAttribute, Config: map[string][]string{
			"ldap.attribute.name":  {"userpassword"},
			"ldap.attribute.value": {RandomAttributeValue},
		}})
	}
	return out
}
