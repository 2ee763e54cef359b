package console

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
)

// The User federation section, as Keycloak's console lays it out: the
// realm's user storage providers, an LDAP provider's settings in Keycloak's
// groups of fields with the buttons that test the connection and the bind,
// its mappers, and the actions that synchronise, unlink and remove the
// users it imported. Like every console page it reads and writes through
// the admin API (components, testLDAPConnection, user-storage), so every
// rule about a setting is the API's; a mapper's fields are the ones the
// API's sub-component-types lists for its type.

const (
	storageProviderType = ldap.ProviderType
	ldapMapperType      = ldap.MapperProviderType
	ldapProviderID      = ldap.ProviderID
)

// Kinds of an LDAP setting beyond the settings form's.
const (
	kindPassword = "password" // a secret: never shown, empty keeps it
	kindFixed    = "fixed"    // a switch shown off that cannot be turned on
	kindButton   = "button"   // a submit button of the form (Name is its action)
)

// ldapSpec is one field of the LDAP settings form. Name is the config key;
// "name" is the component's own name.
type ldapSpec struct {
	spec
	Default string
	// Required fields are marked; the API judges them.
	Required bool
	// FixedOnEdit fields cannot change once the provider exists (the
	// vendor, as in Keycloak's console).
	FixedOnEdit bool
}

// ldapSetting is an ldapSpec with its value as the form shows it.
type ldapSetting struct {
	ldapSpec
	Text     string
	On       bool
	Options  []option
	Error    string
	Disabled bool
}

// Pseudo settings: switches that stand for a period of -1.
const (
	periodicFullSync    = "periodicFullSync"
	periodicChangedSync = "periodicChangedUsersSync"
)

var (
	vendorOptions = []option{{Value: "ad", Label: "Active Directory"}, {Value: "rhds", Label: "Red Hat Directory Server"},
		{Value: "tivoli", Label: "Tivoli"}, {Value: "edirectory", Label: "Novell eDirectory"}, {Value: "other", Label: "Other"}}
	editModeOptions = []option{{Value: "READ_ONLY", Label: "READ_ONLY"}, {Value: "WRITABLE", Label: "WRITABLE"},
		{Value: "UNSYNCED", Label: "UNSYNCED"}}
	cacheOptions = []option{{Value: "DEFAULT", Label: "DEFAULT"}, {Value: "EVICT_DAILY", Label: "EVICT_DAILY"},
		{Value: "EVICT_WEEKLY", Label: "EVICT_WEEKLY"}, {Value: "MAX_LIFESPAN", Label: "MAX_LIFESPAN"}, {Value: "NO_CACHE", Label: "NO_CACHE"}}
)

func ls(kind, name, label, help, def string) ldapSpec {
	return ldapSpec{spec: spec{Kind: kind, Name: name, Label: label, Help: help}, Default: def}
}

func sel(name, label, help, def string, opts []option) ldapSpec {
	s := ls(kindSelect, name, label, help, def)
	s.Options = opts
	return s
}

func req(s ldapSpec) ldapSpec { s.Required = true; return s }

// ldapSpecs are the fields of the LDAP settings form in Keycloak's groups
// and order, with the defaults of a new provider.
var ldapSpecs = []ldapSpec{
	ls(kindSection, "general", "General options", "", ""),
	req(ls(kindText, "name", "UI display name", "The name of the provider in the console.", "ldap")),
	func() ldapSpec {
		s := req(sel("vendor", "Vendor", "The kind of directory; it decides the defaults of the LDAP attributes (\"Fill in the vendor's defaults\" sets them). It cannot change later.", ldap.VendorOther, vendorOptions))
		s.FixedOnEdit = true
		return s
	}(),

	ls(kindButton, "vendor-defaults", "Fill in the vendor's defaults", "", ""),

	ls(kindSection, "connection", "Connection and authentication settings", "", ""),
	req(ls(kindText, "connectionUrl", "Connection URL", "ldap:// or ldaps:// URL of the server; several URLs separated by spaces are tried in turn.", "")),
	ls(kindBool, "startTls", "Enable StartTLS", "Upgrade an ldap:// connection to TLS before binding.", "false"),
	sel("useTruststoreSpi", "Use Truststore SPI", "Whether ldaps and StartTLS certificates are verified against the server's configured truststore as well as the system's.", "always",
		[]option{{Value: "always", Label: "Always"}, {Value: "never", Label: "Never"}}),
	ls(kindBool, "connectionPooling", "Connection pooling", "Reuse connections to the server.", "true"),
	ls(kindNumber, "connectionTimeout", "Connection timeout", "Milliseconds to wait for a connection; empty for the default.", ""),
	ls(kindButton, "test-connection", "Test connection", "", ""),
	req(sel("authType", "Bind type", "simple binds with the bind DN and credentials; none binds anonymously.", "simple",
		[]option{{Value: "simple", Label: "simple"}, {Value: "none", Label: "none"}})),
	ls(kindText, "bindDn", "Bind DN", "DN of the administrative account that searches the directory.", ""),
	ls(kindPassword, "bindCredential", "Bind credentials", "Password of the bind DN. It is never shown; leave empty to keep the stored one.", ""),
	ls(kindButton, "test-authentication", "Test authentication", "", ""),

	ls(kindSection, "searching", "LDAP searching and updating", "", ""),
	req(sel("editMode", "Edit mode", "READ_ONLY: LDAP is never written. WRITABLE: changes made here, passwords included, are written to LDAP. UNSYNCED: changes stay here.", "READ_ONLY", editModeOptions)),
	req(ls(kindText, "usersDn", "Users DN", "Full DN of the subtree where the users are, for example ou=People,dc=example,dc=org.", "")),
	req(ls(kindText, "usernameLDAPAttribute", "Username LDAP attribute", "LDAP attribute mapped to the username, for example uid or cn.", "")),
	req(ls(kindText, "rdnLDAPAttribute", "RDN LDAP attribute", "LDAP attribute used as the RDN of a user's DN; usually the username attribute.", "")),
	req(ls(kindText, "uuidLDAPAttribute", "UUID LDAP attribute", "LDAP attribute that identifies an entry for good, for example entryUUID or objectGUID.", "")),
	req(ls(kindText, "userObjectClasses", "User object classes", "Object classes of user entries, separated by commas.", "")),
	ls(kindText, "customUserSearchFilter", "User LDAP filter", "An extra filter on the users searched, in parentheses; empty for none.", ""),
	sel("searchScope", "Search scope", "One level searches the users DN only; subtree searches below it too.", "1",
		[]option{{Value: "1", Label: "One Level"}, {Value: "2", Label: "Subtree"}}),
	ls(kindNumber, "readTimeout", "Read timeout", "Milliseconds to wait for an answer; empty for the default.", ""),
	ls(kindBool, "pagination", "Pagination", "Ask the server for results in pages.", "true"),

	ls(kindSection, "synchronization", "Synchronization settings", "", ""),
	ls(kindBool, "importEnabled", "Import users", "Keep a local copy of the LDAP users; off serves them from LDAP alone.", "true"),
	ls(kindBool, "syncRegistrations", "Sync Registrations", "Create users registered here in LDAP as well.", "true"),
	ls(kindNumber, "batchSizeForSync", "Batch size", "Users imported per transaction during a sync.", "1000"),
	ls(kindBool, periodicFullSync, "Periodic full sync", "Synchronise all users periodically.", "false"),
	ls(kindNumber, "fullSyncPeriod", "Full sync period", "Seconds between periodic full syncs.", "604800"),
	ls(kindBool, periodicChangedSync, "Periodic changed users sync", "Synchronise the users changed in LDAP periodically.", "false"),
	ls(kindNumber, "changedSyncPeriod", "Changed users sync period", "Seconds between periodic syncs of changed users.", "86400"),

	ls(kindSection, "kerberos", "Kerberos integration", "", ""),
	ls(kindFixed, "allowKerberosAuthentication", "Allow Kerberos authentication", "Gatehouse does not authenticate with Kerberos.", "false"),

	ls(kindSection, "cache", "Cache settings", "", ""),
	sel("cachePolicy", "Cache policy", "How long imported users are cached before they are read from LDAP again.", "DEFAULT", cacheOptions),

	ls(kindSection, "advanced", "Advanced settings", "", ""),
	ls(kindBool, "usePasswordModifyExtendedOp", "Enable the LDAPv3 password modify extended operation", "Change passwords with the password modify extended operation (RFC 3062) rather than by writing the password attribute.", "false"),
	ls(kindBool, "validatePasswordPolicy", "Validate password policy", "Check the realm's password policy before a new password is written to LDAP.", "false"),
	ls(kindBool, "trustEmail", "Trust email", "Mark the email addresses of imported users as verified.", "false"),
	ls(kindButton, "query-extensions", "Query supported extensions", "", ""),
}

// passwordModifyOID is the LDAPv3 password modify extended operation
// (RFC 3062), as the server's root DSE lists it.
const passwordModifyOID = "1.3.6.1.4.1.4203.1.11.1"

// capability is the admin API's LDAPCapabilityRepresentation.
type capability struct {
	OID  string `json:"oid"`
	Type string `json:"type"`
}

// syncResult is the admin API's SynchronizationResultRepresentation.
type syncResult struct {
	Ignored bool   `json:"ignored"`
	Added   int    `json:"added"`
	Updated int    `json:"updated"`
	Removed int    `json:"removed"`
	Failed  int    `json:"failed"`
	Status  string `json:"status"`
}

// text is the result as the page reports it.
func (s syncResult) text(what string) string {
	if s.Ignored {
		return s.Status + "."
	}
	return fmt.Sprintf("Sync of %s finished successfully. %d added, %d updated, %d removed, %d failed.", what, s.Added, s.Updated, s.Removed, s.Failed)
}

// federationRow is one provider of the User federation list.
type federationRow struct {
	ID, Name, ProviderID, Vendor, Priority string
	Enabled, LDAP                          bool
}

type federationListData struct {
	Rows     []federationRow
	Editable bool
	Action   string
}

// fedURL is the console path of the User federation section's page p.
func (q *rq) fedURL(p string) string { return q.realmURL("/user-federation" + p) }

// userFederation lists the realm's user storage providers and deletes them.
func (h *Handler) userFederation(q *rq) error {
	if !q.perms.can("view-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to view the realm settings.")
	}
	v := q.view("User federation", "user-federation", "")
	d := &federationListData{Editable: q.perms.can("manage-realm"), Action: q.fedURL("")}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		if q.form("action") != "delete" {
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		_, err := q.api(http.MethodDelete, q.adminPath("/components/"+seg(q.form("id"))), nil, nil)
		if err == nil {
			return q.redirect(d.Action, "deleted")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	var providers []component
	if err := q.get(q.adminPath("/components?type="+url.QueryEscape(storageProviderType)), &providers); err != nil {
		return err
	}
	for _, c := range providers {
		d.Rows = append(d.Rows, federationRow{ID: c.ID, Name: c.Name, ProviderID: c.ProviderID, Vendor: optionLabel(vendorOptions, c.Get("vendor")),
			Priority: c.Get("priority"), Enabled: c.Get("enabled") != "false", LDAP: c.ProviderID == ldapProviderID})
	}
	slices.SortStableFunc(d.Rows, func(a, b federationRow) int {
		pa, _ := strconv.Atoi(a.Priority)
		pb, _ := strconv.Atoi(b.Priority)
		return pa - pb
	})
	return q.render(status, "user-federation.html", v)
}

// optionLabel is the label of value among opts, or value itself.
func optionLabel(opts []option, value string) string {
	for _, o := range opts {
		if o.Value == value {
			return o.Label
		}
	}
	return value
}

// ldapPageData is the LDAP provider page.
type ldapPageData struct {
	Action   string
	New      bool
	ID       string
	Enabled  bool
	Import   bool
	Unsynced bool
	Settings []ldapSetting
	Editable bool
	// Tested is the result of a test button, shown above the form.
	Tested string
	// Retype asks for the bind credentials again after a test of a new
	// provider: a typed secret is never written back into the page.
	Retype bool
	Synced string
}

// ldapTabs are the tabs of an LDAP provider.
func (q *rq) ldapTabs(id, current string) []tabLink {
	return tabs(q.fedURL("/ldap/"+seg(id)), current, "settings", "", "Settings", "mappers", "/mappers", "Mappers")
}

// ldapProvider shows and saves an LDAP provider's settings
// (/user-federation/ldap/new adds one), tests its connection and bind, and
// runs its actions: enable, disable, delete, sync, unlink and remove the
// imported users.
func (h *Handler) ldapProvider(q *rq) error {
	if !q.perms.can("view-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to view the realm settings.")
	}
	id := q.r.PathValue("id")
	isNew := id == "new"
	v := q.view("User federation", "user-federation", "settings")
	v.Back = &link{"User federation", q.fedURL("")}
	var stored component
	if isNew {
		v.Heading = "Add LDAP provider"
		stored = component{ProviderID: ldapProviderID, ProviderType: storageProviderType, Config: map[string][]string{}}
	} else {
		if err := q.get(q.adminPath("/components/"+seg(id)), &stored); err != nil {
			return err
		}
		if stored.ProviderType != storageProviderType || stored.ProviderID != ldapProviderID {
			return errPage(http.StatusNotFound, "This is not an LDAP provider.")
		}
		v.Heading = stored.Name
		v.Tabs = q.ldapTabs(id, "settings")
	}
	action := q.fedURL("/ldap/" + seg(id))
	d := &ldapPageData{Action: action, New: isNew, ID: stored.ID, Editable: q.perms.can("manage-realm")}
	v.Data = d
	show := func(c component) {
		d.Enabled = c.Get("enabled") != "false"
		d.Import = c.Get("importEnabled") != "false"
		d.Unsynced = c.Get("editMode") == "UNSYNCED"
		d.Settings = ldapSettings(c, isNew)
	}
	show(stored)
	if !q.post() {
		return q.render(http.StatusOK, "ldap-provider.html", v)
	}
	if !q.perms.can("manage-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to manage the realm settings.")
	}
	one := q.adminPath("/components/" + seg(id))
	storage := q.adminPath("/user-storage/" + seg(id))
	var err error
	switch a := q.form("action"); {
	case isNew && a == "vendor-defaults":
		// The form again, as typed, with the chosen vendor's attributes.
		out, settings, _ := ldapFromForm(q, stored, isNew)
		defs := ldap.VendorDefaults(out.Get("vendor"))
		for i := range settings {
			settings[i].Error = ""
			if def, ok := defs[settings[i].Name]; ok {
				settings[i].Text = def
			}
		}
		d.Settings, d.Retype = settings, q.form("bindCredential") != ""
		return q.render(http.StatusOK, "ldap-provider.html", v)
	case a == "query-extensions":
		// The server's capabilities decide the password modify switch, as
		// in Keycloak's console; nothing is saved.
		out, settings, fieldErrs := ldapFromForm(q, stored, isNew)
		d.Settings, d.Retype = settings, isNew && q.form("bindCredential") != ""
		if len(fieldErrs) > 0 {
			v.FieldErrors, v.Error = fieldErrs, "Please correct the fields marked below."
			return q.render(http.StatusBadRequest, "ldap-provider.html", v)
		}
		var caps []capability
		if _, err = q.api(http.MethodPost, q.adminPath("/ldap-server-capabilities"), testBody("", out), &caps); err != nil {
			err = ldapTestError(err)
			break
		}
		has := slices.ContainsFunc(caps, func(c capability) bool { return c.OID == passwordModifyOID })
		for i := range d.Settings {
			if d.Settings[i].Name == "usePasswordModifyExtendedOp" {
				d.Settings[i].On = has
			}
		}
		d.Tested = fmt.Sprintf("The server lists %d controls, extensions and features; it %s the password modify extended operation.",
			len(caps), map[bool]string{true: "supports", false: "does not support"}[has])
		return q.render(http.StatusOK, "ldap-provider.html", v)
	case isNew && a != "save" && a != "test-connection" && a != "test-authentication":
		return errPage(http.StatusBadRequest, "Unknown action.")
	case a == "save" || a == "test-connection" || a == "test-authentication":
		out, settings, fieldErrs := ldapFromForm(q, stored, isNew)
		d.Settings = settings
		if len(fieldErrs) > 0 {
			v.FieldErrors, v.Error = fieldErrs, "Please correct the fields marked below."
			return q.render(http.StatusBadRequest, "ldap-provider.html", v)
		}
		if a != "save" {
			d.Retype = isNew && q.form("bindCredential") != ""
			if err = q.testLDAP(a, out); err == nil {
				d.Tested = map[string]string{"test-connection": "Successfully connected to LDAP.",
					"test-authentication": "Successfully authenticated to LDAP with the bind DN and credentials."}[a]
				return q.render(http.StatusOK, "ldap-provider.html", v)
			}
			break
		}
		if isNew {
			var loc string
			if loc, err = q.api(http.MethodPost, q.adminPath("/components"), out, nil); err == nil {
				return q.redirect(q.fedURL("/ldap/"+seg(lastSegment(loc))), "created")
			}
			break
		}
		if _, err = q.api(http.MethodPut, one, out, nil); err == nil {
			return q.redirect(action, "saved")
		}
	case a == "enable" || a == "disable":
		c := stored
		c.Config = maps.Clone(stored.Config)
		c.Config["enabled"] = []string{strconv.FormatBool(a == "enable")}
		if _, err = q.api(http.MethodPut, one, c, nil); err == nil {
			return q.redirect(action, "saved")
		}
	case a == "delete":
		if _, err = q.api(http.MethodDelete, one, nil, nil); err == nil {
			return q.redirect(q.fedURL(""), "deleted")
		}
	case a == "sync-changed" || a == "sync-all":
		mode := map[string]string{"sync-changed": "triggerChangedUsersSync", "sync-all": "triggerFullSync"}[a]
		var res syncResult
		if _, err = q.api(http.MethodPost, storage+"/sync?action="+mode, nil, &res); err == nil {
			d.Synced = res.text("users")
			return q.render(http.StatusOK, "ldap-provider.html", v)
		}
	case a == "unlink":
		if _, err = q.api(http.MethodPost, storage+"/unlink-users", nil, nil); err == nil {
			return q.redirect(action, "users-unlinked")
		}
	case a == "remove-imported":
		if _, err = q.api(http.MethodPost, storage+"/remove-imported-users", nil, nil); err == nil {
			return q.redirect(action, "users-removed")
		}
	default:
		return errPage(http.StatusBadRequest, "Unknown action.")
	}
	return q.refused(v, "ldap-provider.html", err)
}

// testLDAP asks the API to connect (and bind) with the form's settings.
// An empty bind credential of a stored provider is the stored one.
func (q *rq) testLDAP(action string, c component) error {
	body := testBody(map[string]string{"test-connection": "testConnection", "test-authentication": "testAuthentication"}[action], c)
	_, err := q.api(http.MethodPost, q.adminPath("/testLDAPConnection"), body, nil)
	return ldapTestError(err)
}

// ldapTestErrors word the failure codes the API answers a test with.
var ldapTestErrors = map[string]string{
	"AuthenticationFailure": "the server refused the bind DN and bind credentials.",
	"NameNotFound":          "the server does not know the bind DN.",
	"ConnectionFailed":      "nothing accepts connections at the connection URL.",
	"UnknownHost":           "the host of the connection URL is unknown.",
	"NoRouteToHost":         "there is no route to the host of the connection URL.",
	"SSLHandshakeFailed":    "the TLS handshake failed: the server's certificate is not trusted.",
	"CommunicationError":    "the server could not be reached or did not answer in time.",
	"MalformedURL":          "the connection URL is not an ldap:// or ldaps:// URL.",
	"UnknownError":          "the server answered with an error.",
}

// ldapTestError puts the API's failure code of a test into words.
func ldapTestError(err error) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
		if text, ok := ldapTestErrors[ae.Message]; ok {
			ae.Message = "Error when trying to connect to LDAP: " + text
		}
	}
	return err
}

// testBody is the admin API's TestLdapConnectionRepresentation of the
// settings c; a stored provider's id lets the API use its stored bind
// credential when c carries the mask.
func testBody(action string, c component) map[string]string {
	body := map[string]string{}
	if action != "" {
		body["action"] = action
	}
	for _, k := range []string{"connectionUrl", "bindDn", "bindCredential", "useTruststoreSpi", "connectionTimeout", "startTls", "authType"} {
		body[k] = c.Get(k)
	}
	if c.ID != "" {
		body["componentId"] = c.ID
	}
	return body
}

// ldapSettings are the form's fields with the values of c (the defaults
// for a new provider).
func ldapSettings(c component, isNew bool) []ldapSetting {
	out := make([]ldapSetting, 0, len(ldapSpecs))
	vendor := ldap.VendorDefaults(c.Get("vendor"))
	if isNew && vendor == nil {
		vendor = ldap.VendorDefaults(ldap.VendorOther)
	}
	for _, sp := range ldapSpecs {
		if def, ok := vendor[sp.Name]; ok && isNew {
			sp.Default = def
		}
		s := ldapSetting{ldapSpec: sp, Disabled: sp.FixedOnEdit && !isNew || sp.Kind == kindFixed}
		val, ok := c.Config[sp.Name]
		text := ""
		if ok && len(val) > 0 {
			text = val[0]
		}
		switch sp.Name {
		case "name":
			text, ok = c.Name, c.Name != ""
		case periodicFullSync:
			text, ok = strconv.FormatBool(c.Get("fullSyncPeriod") != "" && c.Get("fullSyncPeriod") != "-1"), !isNew
		case periodicChangedSync:
			text, ok = strconv.FormatBool(c.Get("changedSyncPeriod") != "" && c.Get("changedSyncPeriod") != "-1"), !isNew
		case "fullSyncPeriod", "changedSyncPeriod":
			ok = ok && text != "-1"
		}
		if !ok && (isNew || sp.Kind == kindBool || sp.Kind == kindSelect || sp.Name == "fullSyncPeriod" || sp.Name == "changedSyncPeriod") {
			text = sp.Default
		}
		switch sp.Kind {
		case kindBool, kindFixed:
			s.On = text == "true"
		case kindSelect:
			s.Text, s.Options = text, selectOptions(sp.Options, text)
		case kindPassword:
			// never shown
		default:
			s.Text = text
		}
		out = append(out, s)
	}
	return out
}

// ldapFromForm reads the settings form into the component to send: the
// stored config with the form's fields over it, so settings the form does
// not show are kept. It returns the settings as submitted and the fields
// the console could not read.
func ldapFromForm(q *rq, stored component, isNew bool) (component, []ldapSetting, map[string]string) {
	out := stored
	out.Config = maps.Clone(stored.Config)
	if out.Config == nil {
		out.Config = map[string][]string{}
	}
	if isNew {
		out.Config["enabled"] = []string{"true"}
	}
	errs := map[string]string{}
	settings := make([]ldapSetting, 0, len(ldapSpecs))
	periodic := map[string]bool{}
	for _, sp := range ldapSpecs {
		s := ldapSetting{ldapSpec: sp, Disabled: sp.FixedOnEdit && !isNew || sp.Kind == kindFixed}
		val := q.form(sp.Name)
		set := func(v string) {
			if v == "" {
				delete(out.Config, sp.Name)
			} else {
				out.Config[sp.Name] = []string{v}
			}
		}
		switch sp.Kind {
		case kindSection, kindButton:
		case kindFixed:
			out.Config[sp.Name] = []string{"false"}
		case kindBool:
			s.On = q.checked(sp.Name)
			if sp.Name == periodicFullSync || sp.Name == periodicChangedSync {
				periodic[sp.Name] = s.On
			} else {
				out.Config[sp.Name] = []string{strconv.FormatBool(s.On)}
			}
		case kindSelect:
			if s.Disabled {
				val = stored.Get(sp.Name)
			}
			s.Text, s.Options = val, selectOptions(sp.Options, val)
			if !slices.ContainsFunc(sp.Options, func(o option) bool { return o.Value == val }) {
				s.Error = "Choose one of the options."
			}
			set(val)
		case kindPassword:
			switch {
			case val != "":
				out.Config[sp.Name] = []string{val}
			case !isNew && stored.Get(sp.Name) != "" && (q.form("connectionUrl") != stored.Get("connectionUrl") || q.form("bindDn") != stored.Get("bindDn")):
				// As in Keycloak's console: the stored password is never
				// offered to a server or an account just named.
				s.Error = "Enter the bind credentials again: the connection URL or the bind DN changed."
			case !isNew && stored.Get(sp.Name) != "":
				out.Config[sp.Name] = []string{secret.Mask}
			default:
				delete(out.Config, sp.Name)
			}
		case kindNumber:
			s.Text = val
			if val != "" {
				if n, err := strconv.Atoi(val); err != nil || n < 0 {
					s.Error = "Enter a whole number, 0 or more."
				}
			}
			set(val)
		default:
			s.Text = val
			if sp.Name == "name" {
				out.Name = val
			} else {
				set(val)
			}
		}
		settings = append(settings, s)
	}
	// A period is -1 when its switch is off; on, it needs a period.
	for sw, period := range map[string]string{periodicFullSync: "fullSyncPeriod", periodicChangedSync: "changedSyncPeriod"} {
		if !periodic[sw] {
			out.Config[period] = []string{"-1"}
			for i := range settings {
				if settings[i].Name == period {
					settings[i].Error = ""
				}
			}
			continue
		}
		if n, err := strconv.Atoi(q.form(period)); err != nil || n <= 0 {
			for i := range settings {
				if settings[i].Name == period {
					settings[i].Error = "Enter a number of seconds, 1 or more."
				}
			}
		}
	}
	for _, s := range settings {
		if s.Error != "" {
			errs[s.Name] = s.Error
		}
	}
	return out, settings, errs
}

// ldapMapperRow is one mapper of the Mappers tab.
type ldapMapperRow struct{ ID, Name, Type string }

type ldapMappersData struct {
	Rows     []ldapMapperRow
	Editable bool
	Action   string
}

// ldapParent reads the LDAP provider a mapper page belongs to.
func (q *rq) ldapParent(id string) (component, error) {
	var c component
	if err := q.get(q.adminPath("/components/"+seg(id)), &c); err != nil {
		return c, err
	}
	if c.ProviderType != storageProviderType || c.ProviderID != ldapProviderID {
		return c, errPage(http.StatusNotFound, "This is not an LDAP provider.")
	}
	return c, nil
}

// ldapMappers lists an LDAP provider's mappers and deletes them.
func (h *Handler) ldapMappers(q *rq) error {
	if !q.perms.can("view-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to view the realm settings.")
	}
	id := q.r.PathValue("id")
	parent, err := q.ldapParent(id)
	if err != nil {
		return err
	}
	v := q.view("User federation", "user-federation", "mappers")
	v.Heading = parent.Name
	v.Back = &link{"User federation", q.fedURL("")}
	v.Tabs = q.ldapTabs(id, "mappers")
	d := &ldapMappersData{Editable: q.perms.can("manage-realm"), Action: q.fedURL("/ldap/" + seg(id) + "/mappers")}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		if q.form("action") != "delete" {
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		_, err := q.api(http.MethodDelete, q.adminPath("/components/"+seg(q.form("mapper"))), nil, nil)
		if err == nil {
			return q.redirect(d.Action, "deleted")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	var mappers []component
	if err := q.get(q.adminPath("/components?parent="+url.QueryEscape(id)+"&type="+url.QueryEscape(ldapMapperType)), &mappers); err != nil {
		return err
	}
	for _, m := range mappers {
		d.Rows = append(d.Rows, ldapMapperRow{m.ID, m.Name, m.ProviderID})
	}
	slices.SortFunc(d.Rows, func(a, b ldapMapperRow) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return q.render(status, "ldap-mappers.html", v)
}

// componentType is the admin API's ComponentTypeRepresentation.
type componentType struct {
	ID         string           `json:"id"`
	HelpText   string           `json:"helpText"`
	Properties []configProperty `json:"properties"`
	Metadata   map[string]any   `json:"metadata"`
}

// configProperty is the admin API's ConfigPropertyRepresentation.
type configProperty struct {
	Name         string   `json:"name"`
	Label        string   `json:"label"`
	HelpText     string   `json:"helpText"`
	Type         string   `json:"type"`
	DefaultValue any      `json:"defaultValue"`
	Options      []string `json:"options"`
	Secret       bool     `json:"secret"`
	Required     bool     `json:"required"`
}

// ldapMapperField is a property of a mapper type with its value.
type ldapMapperField struct {
	configProperty
	Value  string
	Values []string // MultivaluedString
	On     bool
	Error  string
}

// syncButton is a mapper's sync action: its direction and label.
type syncButton struct{ Direction, Label string }

type ldapMapperData struct {
	Action   string
	Back     string
	New      bool
	ID, Name string
	Type     string
	TypeHelp string
	Types    []componentType // a new mapper's choices, before one is picked
	Fields   []ldapMapperField
	Syncs    []syncButton
	Editable bool
	Synced   string
}

// syncLabels word the sync actions of group and role mappers.
var syncLabels = map[string]string{
	"sync-ldap-groups-to-keycloak": "Sync LDAP groups to Gatehouse",
	"sync-keycloak-groups-to-ldap": "Sync Gatehouse groups to LDAP",
	"sync-ldap-roles-to-keycloak":  "Sync LDAP roles to Gatehouse",
	"sync-keycloak-roles-to-ldap":  "Sync Gatehouse roles to LDAP",
}

// ldapMapper adds (/mappers/new?type=…), shows, saves, deletes and syncs
// one mapper of an LDAP provider. Its fields are the properties the API
// lists for its type under this provider.
func (h *Handler) ldapMapper(q *rq) error {
	if !q.perms.can("view-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to view the realm settings.")
	}
	id, mid := q.r.PathValue("id"), q.r.PathValue("mapper")
	parent, err := q.ldapParent(id)
	if err != nil {
		return err
	}
	isNew := mid == "new"
	back := q.fedURL("/ldap/" + seg(id) + "/mappers")
	v := q.view("User federation", "user-federation", "mappers")
	v.Back = &link{parent.Name, back}
	v.Tabs = q.ldapTabs(id, "mappers")
	var types []componentType
	if err := q.get(q.adminPath("/components/"+seg(id)+"/sub-component-types?type="+url.QueryEscape(ldapMapperType)), &types); err != nil {
		return err
	}
	var m component
	if isNew {
		v.Heading = "Add mapper"
		m = component{ProviderID: q.r.URL.Query().Get("type"), ProviderType: ldapMapperType, ParentID: id, Config: map[string][]string{}}
	} else {
		if err := q.get(q.adminPath("/components/"+seg(mid)), &m); err != nil {
			return err
		}
		if m.ProviderType != ldapMapperType || m.ParentID != id {
			return errPage(http.StatusNotFound, "This provider has no such mapper.")
		}
		v.Heading = m.Name
	}
	d := &ldapMapperData{Action: q.r.URL.RequestURI(), Back: back, New: isNew, ID: m.ID, Name: m.Name, Type: m.ProviderID,
		Editable: q.perms.can("manage-realm")}
	v.Data = d
	ti := slices.IndexFunc(types, func(t componentType) bool { return t.ID == m.ProviderID })
	if ti < 0 {
		if !isNew {
			return errPage(http.StatusNotFound, "Unknown mapper type.")
		}
		if m.ProviderID != "" {
			return errPage(http.StatusNotFound, "Unknown mapper type.")
		}
		// No type yet: the page lists the types to choose from.
		d.Types = types
		return q.render(http.StatusOK, "ldap-mapper.html", v)
	}
	t := types[ti]
	d.TypeHelp = t.HelpText
	if !isNew {
		for _, dir := range []struct{ flag, msg, direction string }{
			{"fedToKeycloakSyncSupported", "fedToKeycloakSyncMessage", "fedToKeycloak"},
			{"keycloakToFedSyncSupported", "keycloakToFedSyncMessage", "keycloakToFed"}} {
			if on, _ := t.Metadata[dir.flag].(bool); on {
				msg, _ := t.Metadata[dir.msg].(string)
				label := syncLabels[msg]
				if label == "" {
					label = msg
				}
				d.Syncs = append(d.Syncs, syncButton{dir.direction, label})
			}
		}
	}
	d.Fields = ldapMapperFields(t, m, isNew)
	for i := range d.Fields {
		// A client field offers the realm's clients, as Keycloak's does.
		if f := &d.Fields[i]; f.Type == "ClientList" {
			var clients []struct {
				ClientID string `json:"clientId"`
			}
			if err := q.get(q.adminPath("/clients?briefRepresentation=true&max=1000"), &clients); err == nil {
				f.Options = []string{""}
				for _, c := range clients {
					f.Options = append(f.Options, c.ClientID)
				}
			}
		}
	}
	if !q.post() {
		return q.render(http.StatusOK, "ldap-mapper.html", v)
	}
	if !q.perms.can("manage-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to manage the realm settings.")
	}
	one := q.adminPath("/components/" + seg(mid))
	switch a := q.form("action"); {
	case a == "delete" && !isNew:
		if _, err = q.api(http.MethodDelete, one, nil, nil); err == nil {
			return q.redirect(back, "deleted")
		}
	case (a == "fedToKeycloak" || a == "keycloakToFed") && !isNew:
		var res syncResult
		path := q.adminPath("/user-storage/" + seg(id) + "/mappers/" + seg(mid) + "/sync?direction=" + a)
		if _, err = q.api(http.MethodPost, path, nil, &res); err == nil {
			d.Synced = res.text("groups")
			if res.Status != "" && !res.Ignored {
				d.Synced = "Sync finished: " + res.Status + "."
			}
			return q.render(http.StatusOK, "ldap-mapper.html", v)
		}
	case a == "save":
		out := m
		out.Config = maps.Clone(m.Config)
		if out.Config == nil {
			out.Config = map[string][]string{}
		}
		if isNew {
			out.Name = q.form("name")
			d.Name = out.Name
		}
		for i := range d.Fields {
			f := &d.Fields[i]
			switch f.Type {
			case "boolean":
				f.On = q.checked(f.Name)
				out.Config[f.Name] = []string{strconv.FormatBool(f.On)}
			case "MultivaluedString", "MultivaluedList":
				f.Values = lines(q.r.PostForm.Get(f.Name))
				out.Config[f.Name] = f.Values
			case "Password":
				switch val := q.form(f.Name); {
				case val != "":
					out.Config[f.Name] = []string{val}
				case isNew:
					delete(out.Config, f.Name)
				}
			default:
				f.Value = q.form(f.Name)
				if (f.Type == "List" || f.Type == "ClientList") && len(f.Options) > 0 && !slices.Contains(f.Options, f.Value) {
					f.Error = "Choose one of the options."
				}
				if f.Value == "" {
					delete(out.Config, f.Name)
				} else {
					out.Config[f.Name] = []string{f.Value}
				}
			}
		}
		for _, f := range d.Fields {
			if f.Error != "" {
				if v.FieldErrors == nil {
					v.FieldErrors = map[string]string{}
				}
				v.FieldErrors[f.Name] = f.Error
			}
		}
		if len(v.FieldErrors) > 0 {
			v.Error = "Please correct the fields marked below."
			return q.render(http.StatusBadRequest, "ldap-mapper.html", v)
		}
		if isNew {
			if _, err = q.api(http.MethodPost, q.adminPath("/components"), out, nil); err == nil {
				return q.redirect(back, "created")
			}
		} else if _, err = q.api(http.MethodPut, one, out, nil); err == nil {
			return q.redirect(q.fedURL("/ldap/"+seg(id)+"/mappers/"+seg(mid)), "saved")
		}
	default:
		return errPage(http.StatusBadRequest, "Unknown action.")
	}
	return q.refused(v, "ldap-mapper.html", err)
}

// ldapMapperFields are the properties of type t with the values of m, or
// their defaults for a new mapper.
func ldapMapperFields(t componentType, m component, isNew bool) []ldapMapperField {
	out := make([]ldapMapperField, 0, len(t.Properties))
	for _, p := range t.Properties {
		f := ldapMapperField{configProperty: p}
		vals, ok := m.Config[p.Name]
		if !ok && isNew {
			if def := defaultText(p.DefaultValue); def != "" {
				vals = []string{def}
			} else if p.Type == "List" && len(p.Options) > 0 {
				vals = p.Options[:1]
			}
		}
		switch p.Type {
		case "boolean":
			f.On = len(vals) > 0 && vals[0] == "true"
		case "MultivaluedString", "MultivaluedList":
			f.Values = vals
		case "Password":
		default:
			if len(vals) > 0 {
				f.Value = vals[0]
			}
		}
		out = append(out, f)
	}
	return out
}

// defaultText is a property's default value as config text.
func defaultText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
