package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/ldap/ldaptest"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

const fedPath = "/admin/master/console/demo/user-federation"

// ldapForm is the settings form of a provider of the test slapd, as an
// administrator fills it in.
func ldapForm(srv *ldaptest.Server, action string) url.Values {
	return url.Values{"action": {action}, "name": {"corp-ldap"}, "vendor": {"other"},
		"connectionUrl": {srv.URL}, "useTruststoreSpi": {"always"}, "connectionPooling": {"on"}, "connectionTimeout": {"5000"},
		"authType": {"simple"}, "bindDn": {ldaptest.BindDN}, "bindCredential": {ldaptest.BindPW},
		"editMode": {"READ_ONLY"}, "usersDn": {ldaptest.PeopleDN}, "usernameLDAPAttribute": {"uid"}, "rdnLDAPAttribute": {"uid"},
		"uuidLDAPAttribute": {"entryUUID"}, "userObjectClasses": {"inetOrgPerson, organizationalPerson"}, "searchScope": {"1"},
		"readTimeout": {"10000"}, "pagination": {"on"}, "importEnabled": {"on"}, "syncRegistrations": {"on"},
		"batchSizeForSync": {"1000"}, "fullSyncPeriod": {"604800"}, "changedSyncPeriod": {"86400"}, "cachePolicy": {"DEFAULT"},
		"trustEmail": {"on"}}
}

// storageProviders are the realm's user storage components in the store.
func storageProviders(t *testing.T, e *env) []store.Component {
	t.Helper()
	cs, err := e.db.ListComponents(context.Background(), e.demo.ID, ldap.ProviderType, "")
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

var providerLink = regexp.MustCompile(`href="[^"]*/user-federation/ldap/([^"/]+)"`)

// An LDAP provider's pages over HTTP against the admin API: the empty
// list, the API's refusal with nothing stored, creation with the default
// mappers, the masked credential never shown and kept on save, the list,
// the mappers tab (add, edit, delete, a group mapper's sync buttons), the
// federation link of an imported user, disable and enable, what a
// view-only administrator sees, and deletion.
func TestLDAPProviderPages(t *testing.T) {
	srv := ldaptest.Start(t)
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		testLDAPProviderPages(t, newEnvOn(t, web.URLs{}, open), srv)
	})
}

func testLDAPProviderPages(t *testing.T, e *env, srv *ldaptest.Server) {
	ctx := context.Background()
	b := e.browser()
	b.signIn(masterConsole, "admin", "admin-pw")

	p := b.get(fedPath)
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="no-providers"`) || !strings.Contains(p.body, `id="add-ldap"`) ||
		!strings.Contains(p.body, `id="nav-user-federation"`) {
		t.Fatalf("empty user federation page: %d %s", p.status, p.body)
	}
	newPath := fedPath + "/ldap/new"
	p = b.get(newPath)

	// The API's refusal is shown on the form; nothing is stored.
	f := ldapForm(srv, "save")
	f.Set("startTls", "on") // with connection pooling
	if q := b.submit(p, newPath, f); q.status != http.StatusBadRequest || !strings.Contains(q.body, `id="form-error"`) || !strings.Contains(q.body, "StartTLS") ||
		strings.Contains(q.body, ldaptest.BindPW) || !strings.Contains(q.body, `value="corp-ldap"`) {
		t.Errorf("StartTLS with pooling: %d %s", q.status, q.body)
	}
	if cs := storageProviders(t, e); len(cs) != 0 {
		t.Fatalf("refused form stored %d providers", len(cs))
	}

	// Save: the provider and its default mappers.
	q := b.submit(p, newPath, ldapForm(srv, "save"))
	if q.status != http.StatusSeeOther {
		t.Fatalf("add provider: %d %s", q.status, q.body)
	}
	cs := storageProviders(t, e)
	if len(cs) != 1 {
		t.Fatalf("providers after add: %d", len(cs))
	}
	c := cs[0]
	if c.Name != "corp-ldap" || c.ProviderID != "ldap" || first(c.Config["bindCredential"]) != ldaptest.BindPW ||
		first(c.Config["usersDn"]) != ldaptest.PeopleDN || first(c.Config["fullSyncPeriod"]) != "-1" || first(c.Config["connectionTimeout"]) != "5000" ||
		first(c.Config["trustEmail"]) != "true" || first(c.Config["allowKerberosAuthentication"]) != "false" || first(c.Config["enabled"]) != "true" {
		t.Errorf("stored provider: %+v", c)
	}
	provPath := fedPath + "/ldap/" + c.ID
	p = b.follow(q)
	if p.url != e.srv.URL+provPath+"?notice=created" || !strings.Contains(p.body, `id="notice"`) || strings.Contains(p.body, ldaptest.BindPW) ||
		strings.Contains(p.body, "**********") || !strings.Contains(p.body, `<select id="f-vendor" disabled`) || !strings.Contains(p.body, `id="tab-mappers"`) ||
		!strings.Contains(p.body, `value="`+ldaptest.PeopleDN+`"`) || !strings.Contains(p.body, `id="sync-all"`) {
		t.Errorf("provider page after add (%s): %s", p.url, p.body)
	}

	// Saved again without typing the credential: the stored one is kept;
	// the vendor cannot change.
	f = ldapForm(srv, "save")
	f.Set("bindCredential", "")
	f.Set("vendor", "ad")
	f.Set("periodicChangedUsersSync", "on")
	f.Set("changedSyncPeriod", "3600")
	f.Set("editMode", "UNSYNCED")
	if q := b.submit(p, provPath, f); q.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", q.status, q.body)
	}
	c = storageProviders(t, e)[0]
	if first(c.Config["bindCredential"]) != ldaptest.BindPW || first(c.Config["changedSyncPeriod"]) != "3600" || first(c.Config["vendor"]) != "other" ||
		first(c.Config["editMode"]) != "UNSYNCED" {
		t.Errorf("after save: %+v", c.Config)
	}
	p = b.get(provPath)
	if !strings.Contains(p.body, `id="f-periodicChangedUsersSync" name="periodicChangedUsersSync" value="on" checked`) || !strings.Contains(p.body, `value="3600"`) ||
		strings.Contains(p.body, `id="unlink-users"`) {
		t.Errorf("provider page after save: %s", p.body)
	}

	// The list shows it.
	l := b.get(fedPath)
	if m := providerLink.FindStringSubmatch(l.body); m == nil || m[1] != c.ID || !strings.Contains(l.body, ">corp-ldap</a>") || !strings.Contains(l.body, "Other") {
		t.Errorf("list: %s", l.body)
	}

	// Mappers: the defaults, then add, edit and delete one.
	mappersPath := provPath + "/mappers"
	mp := b.get(mappersPath)
	if mp.status != http.StatusOK || !strings.Contains(mp.body, ">username</a>") || !strings.Contains(mp.body, "user-attribute-ldap-mapper") {
		t.Fatalf("mappers tab: %d %s", mp.status, mp.body)
	}
	mp = b.get(mappersPath + "/new")
	if !strings.Contains(mp.body, `id="mapper-types"`) || !strings.Contains(mp.body, "?type=group-ldap-mapper") || !strings.Contains(mp.body, "?type=msad-user-account-control-mapper") {
		t.Errorf("mapper types: %s", mp.body)
	}
	if q := b.get(mappersPath + "/new?type=no-such-mapper"); q.status != http.StatusNotFound {
		t.Errorf("unknown mapper type: %d", q.status)
	}
	newMapper := mappersPath + "/new?type=user-attribute-ldap-mapper"
	mp = b.get(newMapper)
	if !strings.Contains(mp.body, `name="user.model.attribute"`) || !strings.Contains(mp.body, `name="ldap.attribute"`) {
		t.Fatalf("new attribute mapper form: %s", mp.body)
	}
	// The API's refusal: a missing LDAP attribute.
	if q := b.submit(mp, newMapper, url.Values{"action": {"save"}, "name": {"phone"}, "user.model.attribute": {"phone"}}); q.status != http.StatusBadRequest ||
		!strings.Contains(q.body, `id="form-error"`) || !strings.Contains(q.body, `value="phone"`) {
		t.Errorf("mapper without LDAP attribute: %d %s", q.status, q.body)
	}
	if q := b.submit(mp, newMapper, url.Values{"action": {"save"}, "name": {"phone"}, "user.model.attribute": {"phone"},
		"ldap.attribute": {"telephoneNumber"}, "read.only": {"on"}}); q.status != http.StatusSeeOther {
		t.Fatalf("add mapper: %d %s", q.status, q.body)
	}
	mapper := findMapper(t, e, c.ID, "phone")
	if first(mapper.Config["ldap.attribute"]) != "telephoneNumber" || first(mapper.Config["read.only"]) != "true" ||
		first(mapper.Config["is.mandatory.in.ldap"]) != "false" {
		t.Errorf("stored mapper: %+v", mapper)
	}
	mapperPath := mappersPath + "/" + mapper.ID
	mp = b.get(mapperPath)
	if !strings.Contains(mp.body, `value="telephoneNumber"`) || !strings.Contains(mp.body, `id="delete-mapper"`) || strings.Contains(mp.body, `id="sync-fedToKeycloak"`) {
		t.Errorf("mapper page: %s", mp.body)
	}
	if q := b.submit(mp, mapperPath, url.Values{"action": {"save"}, "user.model.attribute": {"phone"}, "ldap.attribute": {"mobile"},
		"read.only": {"on"}}); q.status != http.StatusSeeOther {
		t.Fatalf("edit mapper: %d %s", q.status, q.body)
	}
	if m := findMapper(t, e, c.ID, "phone"); first(m.Config["ldap.attribute"]) != "mobile" || m.Name != "phone" {
		t.Errorf("edited mapper: %+v", m)
	}
	if q := b.submit(mp, mapperPath, url.Values{"action": {"delete"}}); q.status != http.StatusSeeOther {
		t.Fatalf("delete mapper: %d %s", q.status, q.body)
	}
	if q := b.get(mapperPath); q.status != http.StatusNotFound {
		t.Errorf("deleted mapper page: %d", q.status)
	}
	// A group mapper, with its defaults, and its sync buttons.
	groupNew := mappersPath + "/new?type=group-ldap-mapper"
	mp = b.get(groupNew)
	if !strings.Contains(mp.body, `<option value="DN" selected>`) || !strings.Contains(mp.body, `value="groupOfNames"`) {
		t.Errorf("group mapper defaults: %s", mp.body)
	}
	if q := b.submit(mp, groupNew, groupMapperForm()); q.status != http.StatusSeeOther {
		t.Fatalf("add group mapper: %d %s", q.status, q.body)
	}
	mp = b.get(mappersPath + "/" + findMapper(t, e, c.ID, "groups").ID)
	if !strings.Contains(mp.body, `id="sync-fedToKeycloak"`) || !strings.Contains(mp.body, "Sync LDAP groups to Gatehouse") || !strings.Contains(mp.body, `id="sync-keycloakToFed"`) {
		t.Errorf("group mapper has no sync buttons: %s", mp.body)
	}

	// A user imported from the provider shows its federation link.
	u := e.addUser(e.demo, "fed-user", "unused-pw")
	if err := e.db.UpdateUser(ctx, e.demo.ID, u.ID, func(x *user.User) error { x.FederationLink = c.ID; return nil }); err != nil {
		t.Fatal(err)
	}
	up := b.get("/admin/master/console/demo/users/" + u.ID)
	if !strings.Contains(up.body, `id="federation-link"`) || !strings.Contains(up.body, `>corp-ldap</a>`) ||
		!strings.Contains(up.body, `href="/admin/master/console/demo/user-federation/ldap/`+c.ID+`"`) {
		t.Errorf("user page lacks the federation link: %s", up.body)
	}
	local := e.addUser(e.demo, "local-user", "unused-pw")
	if up := b.get("/admin/master/console/demo/users/" + local.ID); strings.Contains(up.body, `id="federation-link"`) {
		t.Errorf("a local user shows a federation link")
	}

	// Disable and enable keep the stored credential.
	if q := b.submit(p, provPath, url.Values{"action": {"disable"}}); q.status != http.StatusSeeOther {
		t.Fatalf("disable: %d %s", q.status, q.body)
	}
	c = storageProviders(t, e)[0]
	if first(c.Config["enabled"]) != "false" || first(c.Config["bindCredential"]) != ldaptest.BindPW {
		t.Errorf("after disable: %+v", c.Config)
	}
	if p := b.get(provPath); !strings.Contains(p.body, `id="enable-provider"`) || !strings.Contains(p.body, "<strong>disabled</strong>") {
		t.Errorf("disabled provider offers no enable")
	}
	if l := b.get(fedPath); !strings.Contains(l.body, ">Disabled<") {
		t.Errorf("list does not show the provider disabled")
	}
	b.submit(p, provPath, url.Values{"action": {"enable"}})
	if c := storageProviders(t, e)[0]; first(c.Config["enabled"]) != "true" {
		t.Errorf("after enable: %+v", c.Config)
	}

	// A view-only administrator sees the settings and mappers, no button.
	e.addUser(e.demo, "viewer", "viewer-pw", "view-realm", "view-users")
	vb := e.browser()
	vb.signIn("/admin/demo/console/", "viewer", "viewer-pw")
	for _, path := range []string{"/admin/demo/console/demo/user-federation", "/admin/demo/console/demo/user-federation/ldap/" + c.ID,
		"/admin/demo/console/demo/user-federation/ldap/" + c.ID + "/mappers", "/admin/demo/console/demo/user-federation/ldap/" + c.ID + "/mappers/" + findMapper(t, e, c.ID, "groups").ID} {
		vp := vb.get(path)
		if vp.status != http.StatusOK || strings.Contains(vp.body, ldaptest.BindPW) {
			t.Errorf("viewer %s: %d", path, vp.status)
		}
		for _, btn := range submitButton.FindAllString(vp.body, -1) {
			if !strings.Contains(btn, `id="sign-out"`) {
				t.Errorf("viewer is offered %s on %s", btn, path)
			}
		}
	}
	vp := vb.get("/admin/demo/console/demo/user-federation/ldap/" + c.ID)
	if q := vb.submit(vp, "/admin/demo/console/demo/user-federation/ldap/"+c.ID, url.Values{"action": {"disable"}}); q.status != http.StatusForbidden {
		t.Errorf("viewer disable: %d", q.status)
	}
	if q := vb.submit(vp, "/admin/demo/console/demo/user-federation", url.Values{"action": {"delete"}, "id": {c.ID}}); q.status != http.StatusForbidden {
		t.Errorf("viewer delete: %d", q.status)
	}

	// Delete from the list.
	if q := b.submit(l, fedPath, url.Values{"action": {"delete"}, "id": {c.ID}}); q.status != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", q.status, q.body)
	}
	if cs := storageProviders(t, e); len(cs) != 0 {
		t.Errorf("providers after delete: %d", len(cs))
	}
	if q := b.get(provPath); q.status != http.StatusNotFound {
		t.Errorf("deleted provider page: %d", q.status)
	}
	if q := b.get(mappersPath); q.status != http.StatusNotFound {
		t.Errorf("deleted provider's mappers: %d", q.status)
	}
}

// groupMapperForm is a group mapper of the test tree's groups.
func groupMapperForm() url.Values {
	return url.Values{"action": {"save"}, "name": {"groups"},
		"groups.dn": {ldaptest.GroupsDN}, "group.name.ldap.attribute": {"cn"}, "group.object.classes": {"groupOfNames"},
		"membership.ldap.attribute": {"member"}, "membership.attribute.type": {"DN"}, "membership.user.ldap.attribute": {"uid"},
		"mode": {"READ_ONLY"}, "user.roles.retrieve.strategy": {"LOAD_GROUPS_BY_MEMBER_ATTRIBUTE"}, "memberof.ldap.attribute": {"memberOf"},
		"groups.path": {"/"}, "preserve.group.inheritance": {"on"}}
}

func findMapper(t *testing.T, e *env, parentID, name string) store.Component {
	t.Helper()
	ms, err := e.db.ListComponents(context.Background(), e.demo.ID, ldap.MapperProviderType, parentID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no mapper %s among %d", name, len(ms))
	return store.Component{}
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// The buttons that talk to the directory, against the test slapd: test
// connection and authentication on a new provider's form (right and wrong
// credentials, nobody listening) and on a saved one with its stored
// credential, the server's capabilities, and the sync actions with their
// results: sync all imports the directory's users with their federation
// link, sync changed, a group mapper's sync, unlink and remove imported.
func TestLDAPProviderActions(t *testing.T) {
	srv := ldaptest.Start(t)
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		testLDAPProviderActions(t, newEnvOn(t, web.URLs{}, open), srv)
	})
}

func testLDAPProviderActions(t *testing.T, e *env, srv *ldaptest.Server) {
	ctx := context.Background()
	b := e.browser()
	b.signIn(masterConsole, "admin", "admin-pw")
	newPath := fedPath + "/ldap/new"
	p := b.get(newPath)

	if q := b.submit(p, newPath, ldapForm(srv, "test-connection")); q.status != http.StatusOK || !strings.Contains(q.body, `id="test-result"`) ||
		!strings.Contains(q.body, "Successfully connected to LDAP") || strings.Contains(q.body, ldaptest.BindPW) {
		t.Errorf("test connection: %d %s", q.status, q.body)
	}
	if q := b.submit(p, newPath, ldapForm(srv, "test-authentication")); q.status != http.StatusOK || !strings.Contains(q.body, "Successfully authenticated") ||
		strings.Contains(q.body, ldaptest.BindPW) || !strings.Contains(q.body, `id="retype"`) {
		t.Errorf("test authentication: %d %s", q.status, q.body)
	}
	f := ldapForm(srv, "test-authentication")
	f.Set("bindCredential", "wrong-secret")
	if q := b.submit(p, newPath, f); q.status != http.StatusBadRequest || !strings.Contains(q.body, "refused the bind DN and bind credentials") ||
		strings.Contains(q.body, "wrong-secret") {
		t.Errorf("test authentication, wrong password: %d %s", q.status, q.body)
	}
	f = ldapForm(srv, "test-connection")
	f.Set("connectionUrl", ldaptest.DeadURL(t))
	if q := b.submit(p, newPath, f); q.status != http.StatusBadRequest || !strings.Contains(q.body, "Error when trying to connect to LDAP") {
		t.Errorf("test connection, nobody listening: %d %s", q.status, q.body)
	}
	f = ldapForm(srv, "query-extensions")
	if q := b.submit(p, newPath, f); q.status != http.StatusOK || !strings.Contains(q.body, "supports the password modify extended operation") ||
		!strings.Contains(q.body, `name="usePasswordModifyExtendedOp" value="on" checked`) {
		t.Errorf("query extensions: %d %s", q.status, q.body)
	}

	q := b.submit(p, newPath, ldapForm(srv, "save"))
	if q.status != http.StatusSeeOther {
		t.Fatalf("add provider: %d %s", q.status, q.body)
	}
	c := storageProviders(t, e)[0]
	provPath := fedPath + "/ldap/" + c.ID
	p = b.get(provPath)
	// The stored credential tests authentication; a wrong one typed in
	// replaces it for the test only.
	f = ldapForm(srv, "test-authentication")
	f.Set("bindCredential", "")
	if q := b.submit(p, provPath, f); q.status != http.StatusOK || !strings.Contains(q.body, "Successfully authenticated") {
		t.Errorf("test authentication with the stored credential: %d %s", q.status, q.body)
	}
	f.Set("bindCredential", "wrong-secret")
	if q := b.submit(p, provPath, f); q.status != http.StatusBadRequest {
		t.Errorf("test authentication with a typed wrong credential: %d", q.status)
	}
	// The stored credential is not offered to a server just named.
	f.Set("bindCredential", "")
	f.Set("connectionUrl", ldaptest.DeadURL(t))
	if q := b.submit(p, provPath, f); q.status != http.StatusBadRequest || !strings.Contains(q.body, `id="e-bindCredential"`) {
		t.Errorf("stored credential with a new URL: %d %s", q.status, q.body)
	}
	f = ldapForm(srv, "save")
	f.Set("bindCredential", "")
	f.Set("bindDn", ldaptest.RootDN)
	if q := b.submit(p, provPath, f); q.status != http.StatusBadRequest || !strings.Contains(q.body, `id="e-bindCredential"`) {
		t.Errorf("stored credential with a new bind DN: %d %s", q.status, q.body)
	}
	if c := storageProviders(t, e)[0]; first(c.Config["bindCredential"]) != ldaptest.BindPW {
		t.Errorf("a test changed the stored credential")
	}

	// Sync all users: the result, and the users with their federation link.
	q = b.submit(p, provPath, url.Values{"action": {"sync-all"}})
	if q.status != http.StatusOK || !strings.Contains(q.body, `id="sync-result"`) || !strings.Contains(q.body, "finished successfully") {
		t.Fatalf("sync all: %d %s", q.status, q.body)
	}
	u, err := e.db.GetUserByUsername(ctx, e.demo.ID, "jbrown")
	if err != nil || u.FederationLink != c.ID {
		t.Fatalf("synced user: %+v %v", u, err)
	}
	up := b.get("/admin/master/console/demo/users/" + u.ID)
	if !strings.Contains(up.body, `id="federation-link"`) || !strings.Contains(up.body, `>corp-ldap</a>`) {
		t.Errorf("user page lacks the federation link: %s", up.body)
	}
	// A users-only administrator sees the provider's name, without a link.
	e.addUser(e.demo, "helpdesk", "helpdesk-pw", "view-users", "query-users")
	hb := e.browser()
	hb.signIn("/admin/demo/console/", "helpdesk", "helpdesk-pw")
	if up := hb.get("/admin/demo/console/demo/users/" + u.ID); !strings.Contains(up.body, `<p id="federation-link" aria-labelledby="l-federation">corp-ldap</p>`) {
		t.Errorf("helpdesk user page: %s", up.body)
	}
	if q := b.submit(p, provPath, url.Values{"action": {"sync-changed"}}); q.status != http.StatusOK || !strings.Contains(q.body, `id="sync-result"`) {
		t.Errorf("sync changed: %d %s", q.status, q.body)
	}

	// A group mapper's sync brings the directory's groups.
	mappersPath := provPath + "/mappers"
	mp := b.get(mappersPath + "/new?type=group-ldap-mapper")
	if q := b.submit(mp, mappersPath+"/new?type=group-ldap-mapper", groupMapperForm()); q.status != http.StatusSeeOther {
		t.Fatalf("add group mapper: %d %s", q.status, q.body)
	}
	groups := mappersPath + "/" + findMapper(t, e, c.ID, "groups").ID
	mp = b.get(groups)
	if q := b.submit(mp, groups, url.Values{"action": {"fedToKeycloak"}}); q.status != http.StatusOK || !strings.Contains(q.body, `id="sync-result"`) {
		t.Errorf("group sync: %d %s", q.status, q.body)
	}
	if gs, err := e.db.ListGroups(ctx, e.demo.ID); err != nil || !slices.ContainsFunc(gs, func(g role.Group) bool { return g.Name == "ldap-users" }) {
		t.Errorf("group sync did not bring ldap-users: %v %v", gs, err)
	}

	// Remove imported: the provider's users are gone; a sync brings them
	// back.
	if q := b.submit(p, provPath, url.Values{"action": {"remove-imported"}}); q.status != http.StatusSeeOther || !strings.Contains(q.header.Get("Location"), "notice=users-removed") {
		t.Fatalf("remove imported: %d %s", q.status, q.body)
	}
	if _, err := e.db.GetUserByUsername(ctx, e.demo.ID, "bwong"); err == nil {
		t.Errorf("imported user bwong is still there")
	}
	if q := b.submit(p, provPath, url.Values{"action": {"sync-all"}}); q.status != http.StatusOK || !strings.Contains(q.body, "finished successfully") {
		t.Fatalf("sync after remove: %d %s", q.status, q.body)
	}
	u, err = e.db.GetUserByUsername(ctx, e.demo.ID, "jbrown")
	if err != nil || u.FederationLink != c.ID {
		t.Fatalf("jbrown after the second sync: %+v %v", u, err)
	}

	// Unlink: the users stay, without the link, and a sync leaves them
	// alone.
	if q := b.submit(p, provPath, url.Values{"action": {"unlink"}}); q.status != http.StatusSeeOther || !strings.Contains(q.header.Get("Location"), "notice=users-unlinked") {
		t.Fatalf("unlink: %d %s", q.status, q.body)
	}
	if u, err := e.db.GetUserByUsername(ctx, e.demo.ID, "jbrown"); err != nil || u.FederationLink != "" {
		t.Errorf("unlinked user: %+v %v", u, err)
	}
	if up := b.get("/admin/master/console/demo/users/" + u.ID); up.status != http.StatusOK || strings.Contains(up.body, `id="federation-link"`) {
		t.Errorf("unlinked user still shows a federation link")
	}
	if q := b.submit(p, provPath, url.Values{"action": {"sync-all"}}); q.status != http.StatusOK || strings.Contains(q.body, " 0 failed") {
		t.Errorf("sync of unlinked users counts no failure: %d %s", q.status, q.body)
	}
	if u, err := e.db.GetUserByUsername(ctx, e.demo.ID, "jbrown"); err != nil || u.FederationLink != "" {
		t.Errorf("a sync linked the unlinked user again: %+v %v", u, err)
	}
}
