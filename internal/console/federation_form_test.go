package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The new LDAP provider form, which needs no directory: Keycloak's groups
// of fields with the defaults of "other", Kerberos shown off and not
// editable, the vendor's defaults filled in on request without the typed
// bind credential coming back, and the console's own refusals.
func TestLDAPProviderForm(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(masterConsole, "admin", "admin-pw")
	newPath := "/admin/master/console/demo/user-federation/ldap/new"
	p := b.get(newPath)
	if p.status != http.StatusOK {
		t.Fatalf("new provider form: %d %s", p.status, p.body)
	}
	for _, want := range []string{"General options", "Connection and authentication settings", "LDAP searching and updating",
		"Synchronization settings", "Kerberos integration", "Cache settings", "Advanced settings", `id="nav-user-federation"`,
		`id="test-connection"`, `id="test-authentication"`, `id="vendor-defaults"`, `name="bindCredential"`, `value="entryUUID"`, `value="uid"`,
		`<input type="checkbox" id="f-allowKerberosAuthentication" value="on" disabled`, `name="usePasswordModifyExtendedOp"`,
		`name="validatePasswordPolicy"`, `name="trustEmail"`, `name="cachePolicy"`, `name="periodicFullSync"`, `name="changedSyncPeriod"`,
		`<option value="READ_ONLY" selected>`, `name="connectionPooling" value="on" checked`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("new provider form lacks %s", want)
		}
	}
	form := func(action string) url.Values {
		return url.Values{"action": {action}, "name": {"corp"}, "vendor": {"ad"}, "connectionUrl": {"ldaps://dc.example.org"},
			"authType": {"simple"}, "bindDn": {"cn=svc"}, "bindCredential": {"typed-secret"}, "editMode": {"WRITABLE"},
			"useTruststoreSpi": {"always"}, "searchScope": {"2"}, "cachePolicy": {"DEFAULT"},
			"usersDn": {"ou=People,dc=example,dc=org"}, "usernameLDAPAttribute": {"uid"}, "batchSizeForSync": {"1000"}}
	}
	q := b.submit(p, newPath, form("vendor-defaults"))
	if q.status != http.StatusOK {
		t.Fatalf("vendor defaults: %d %s", q.status, q.body)
	}
	for _, want := range []string{`value="objectGUID"`, `value="person, organizationalPerson, user"`, `id="f-usernameLDAPAttribute" name="usernameLDAPAttribute" value="cn"`,
		`value="ldaps://dc.example.org"`, `<option value="WRITABLE" selected>`, `<option value="2" selected>`, `id="retype"`} {
		if !strings.Contains(q.body, want) {
			t.Errorf("vendor defaults page lacks %s", want)
		}
	}
	if strings.Contains(q.body, "typed-secret") {
		t.Errorf("the typed bind credential came back in the page")
	}

	// The console's own refusals, before any call.
	f := form("save")
	f.Set("batchSizeForSync", "many")
	f.Set("editMode", "SOMETIMES")
	q = b.submit(p, newPath, f)
	if q.status != http.StatusBadRequest || !strings.Contains(q.body, `id="e-batchSizeForSync"`) || !strings.Contains(q.body, `id="e-editMode"`) ||
		strings.Contains(q.body, "typed-secret") {
		t.Errorf("bad batch size and edit mode: %d %s", q.status, q.body)
	}
	f = form("save")
	f.Set("periodicFullSync", "on")
	f.Set("fullSyncPeriod", "0")
	if q := b.submit(p, newPath, f); q.status != http.StatusBadRequest || !strings.Contains(q.body, `id="e-fullSyncPeriod"`) {
		t.Errorf("periodic sync without a period: %d %s", q.status, q.body)
	}
	// A period left over while its switch is off is no error.
	f = form("vendor-defaults")
	f.Set("fullSyncPeriod", "soon")
	if q := b.submit(p, newPath, f); q.status != http.StatusOK {
		t.Errorf("period of an off switch: %d", q.status)
	}
	if q := b.submit(p, newPath, url.Values{"action": {"sync-all"}}); q.status != http.StatusBadRequest {
		t.Errorf("sync of a provider not yet added: %d", q.status)
	}

	// A view-only administrator may read the form, not post it.
	e.addUser(e.demo, "viewer", "viewer-pw", "view-realm")
	v := e.browser()
	v.signIn("/admin/demo/console/", "viewer", "viewer-pw")
	vp := v.get("/admin/demo/console/demo/user-federation")
	if vp.status != http.StatusOK || strings.Contains(vp.body, `id="add-ldap"`) {
		t.Errorf("viewer list: %d", vp.status)
	}
	vp = v.get("/admin/demo/console/demo/user-federation/ldap/new")
	if vp.status != http.StatusOK || !strings.Contains(vp.body, "<fieldset disabled>") || strings.Contains(vp.body, `id="test-connection"`) {
		t.Errorf("viewer form: %d", vp.status)
	}
	if q := v.submit(vp, "/admin/demo/console/demo/user-federation/ldap/new", form("save")); q.status != http.StatusForbidden {
		t.Errorf("viewer save: %d", q.status)
	}
	// Without view-realm there is no section.
	e.addUser(e.demo, "users-only", "users-pw", "view-users")
	u := e.browser()
	up := u.signIn("/admin/demo/console/", "users-only", "users-pw")
	if strings.Contains(up.body, `id="nav-user-federation"`) {
		t.Errorf("user federation offered without view-realm")
	}
	if q := u.get("/admin/demo/console/demo/user-federation"); q.status != http.StatusForbidden {
		t.Errorf("user federation without view-realm: %d", q.status)
	}
}
