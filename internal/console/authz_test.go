package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The Authorization tab end to end over HTTP: the client's switch turns
// authorization services on, then settings, a scope, a resource, a
// policy of every type, resource and scope permissions, an evaluation for
// a user who holds the policy's role (PERMIT) and one who does not (DENY),
// the export, and deletions.
func TestAuthorizationTab(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		authorizationTab(t, newEnvOn(t, web.URLs{}, open))
	})
}

// location is the console path a 303 sends to, without its notice.
func location(t *testing.T, p page, what string) string {
	t.Helper()
	if p.status != http.StatusSeeOther {
		t.Fatalf("%s: %d %s", what, p.status, p.body)
	}
	return strings.SplitN(p.header.Get("Location"), "?", 2)[0]
}

// optionValue finds the value of the option labelled label in a page.
func optionValue(t *testing.T, p page, label string) string {
	t.Helper()
	m := regexp.MustCompile(`<option value="([^"]*)"[^>]*>` + regexp.QuoteMeta(label) + `</option>`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no option %q at %s:\n%s", label, p.url, p.body)
	}
	return m[1]
}

func authorizationTab(t *testing.T, e *env) {
	ctx := context.Background()
	b := e.browser()
	home := b.signIn(masterConsole, "admin", "admin-pw")
	r := "/admin/master/console/demo"

	// A realm role "photographer" held by alice, not by bob.
	p := b.submit(home, r+"/roles", url.Values{"action": {"create"}, "name": {"photographer"}})
	location(t, p, "create role")
	alice := e.addUser(e.demo, "alice", "alice-pw")
	e.addUser(e.demo, "bob", "bob-pw")
	ro, err := e.db.GetRealmRole(ctx, e.demo.ID, "photographer")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.AddUserRoles(ctx, alice.ID, ro.ID); err != nil {
		t.Fatal(err)
	}

	client := location(t, b.submit(home, r+"/clients/new", url.Values{"clientId": {"photos"}, "accessType": {"confidential"},
		"standardFlowEnabled": {"on"}}), "create client")
	settings := b.get(client)
	if strings.Contains(settings.body, `id="tab-authorization"`) {
		t.Fatal("the Authorization tab shows before authorization services are on")
	}
	if !strings.Contains(settings.body, `name="authorizationServicesEnabled"`) {
		t.Fatalf("no Authorization switch on a confidential client:\n%s", settings.body)
	}
	location(t, b.submit(settings, client, url.Values{"clientId": {"photos"}, "accessType": {"confidential"},
		"enabled": {"on"}, "standardFlowEnabled": {"on"}, "authorizationServicesEnabled": {"on"},
		"postLogoutRedirectUris": {""}, "backchannelLogoutUrl": {""}}), "enable authorization")
	settings = b.get(client)
	if !strings.Contains(settings.body, `id="tab-authorization"`) {
		t.Fatalf("no Authorization tab:\n%s", settings.body)
	}
	if !strings.Contains(settings.body, `name="serviceAccountsEnabled" value="on" checked`) {
		t.Error("authorization services did not turn the service account on")
	}
	authz := client + "/authorization"

	// Settings: enforcing by default; saved as permissive, then back.
	pg := b.get(authz)
	if pg.status != http.StatusOK || !strings.Contains(pg.body, `<option value="ENFORCING" selected>`) {
		t.Fatalf("settings: %d\n%s", pg.status, pg.body)
	}
	location(t, b.submit(pg, authz, url.Values{"policyEnforcementMode": {"PERMISSIVE"}, "decisionStrategy": {"AFFIRMATIVE"},
		"allowRemoteResourceManagement": {"on"}}), "save settings")
	pg = b.get(authz)
	for _, want := range []string{`<option value="PERMISSIVE" selected>`, `<option value="AFFIRMATIVE" selected>`,
		`name="allowRemoteResourceManagement" value="on" checked`} {
		if !strings.Contains(pg.body, want) {
			t.Errorf("saved settings lack %s", want)
		}
	}
	if p := b.submit(pg, authz, url.Values{"policyEnforcementMode": {"LAX"}, "decisionStrategy": {"UNANIMOUS"}}); p.status != http.StatusBadRequest {
		t.Errorf("unknown enforcement mode: %d", p.status)
	}
	location(t, b.submit(pg, authz, url.Values{"policyEnforcementMode": {"ENFORCING"}, "decisionStrategy": {"UNANIMOUS"}}), "save settings")

	// Scopes.
	pg = b.get(authz + "/scopes/new")
	for _, s := range []string{"view", "delete"} {
		location(t, b.submit(pg, authz+"/scopes/new", url.Values{"name": {s}, "displayName": {strings.ToUpper(s[:1]) + s[1:]}}), "create scope "+s)
	}
	if p := b.submit(pg, authz+"/scopes/new", url.Values{"name": {"view"}}); p.status != http.StatusConflict {
		t.Errorf("a second scope view: %d", p.status)
	}
	if list := b.get(authz + "/scopes"); !strings.Contains(list.body, ">view</a>") || !strings.Contains(list.body, ">delete</a>") {
		t.Errorf("scope list:\n%s", list.body)
	}

	// A resource with URIs, a type, both scopes and attributes.
	pg = b.get(authz + "/resources/new")
	photo := location(t, b.submit(pg, authz+"/resources/new", url.Values{"name": {"photo"}, "displayName": {"Photo album"},
		"type": {"urn:photos:resources:album"}, "uris": {"/albums/*\n/photos/*"}, "scopes": {"view", "delete"},
		"ownerManagedAccess": {"on"}, "attributes": {"color=red\ncolor=blue"}}), "create resource")
	pg = b.get(photo)
	for _, want := range []string{`value="photo"`, "/albums/*\n/photos/*", `<option value="view" selected>`, `<option value="delete" selected>`,
		`name="ownerManagedAccess" value="on" checked`, "color=red\ncolor=blue", `value="urn:photos:resources:album"`} {
		if !strings.Contains(pg.body, want) {
			t.Errorf("resource form lacks %q", want)
		}
	}
	// Edit: a new display name and only the view scope.
	location(t, b.submit(pg, photo, url.Values{"name": {"photo"}, "displayName": {"Photo albums"}, "type": {"urn:photos:resources:album"},
		"uris": {"/albums/*"}, "scopes": {"view"}, "ownerManagedAccess": {"on"}}), "edit resource")
	if pg := b.get(photo); !strings.Contains(pg.body, `value="Photo albums"`) || !strings.Contains(pg.body, `<option value="delete">`) {
		t.Errorf("edited resource:\n%s", pg.body)
	}
	location(t, b.submit(pg, photo, url.Values{"name": {"photo"}, "displayName": {"Photo album"}, "type": {"urn:photos:resources:album"},
		"uris": {"/albums/*\n/photos/*"}, "scopes": {"view", "delete"}, "ownerManagedAccess": {"on"}}), "edit resource back")
	if p := b.submit(pg, authz+"/resources/new", url.Values{"name": {"x"}, "attributes": {"no equals sign"}}); p.status != http.StatusBadRequest {
		t.Errorf("bad attributes: %d", p.status)
	}
	list := b.get(authz + "/resources?search=pho")
	if !strings.Contains(list.body, ">photo</a>") || !strings.Contains(list.body, "view") {
		t.Errorf("resource search:\n%s", list.body)
	}
	if list := b.get(authz + "/resources?search=nothing-like-it"); strings.Contains(list.body, ">photo</a>") {
		t.Error("the search does not filter")
	}

	// A policy of every type.
	policies := map[string]string{}
	create := func(typ, name string, form url.Values) {
		t.Helper()
		pg := b.get(authz + "/policies/new/" + typ)
		if pg.status != http.StatusOK {
			t.Fatalf("new %s policy: %d\n%s", typ, pg.status, pg.body)
		}
		form.Set("name", name)
		if form.Get("logic") == "" {
			form.Set("logic", "POSITIVE")
		}
		policies[name] = location(t, b.submit(pg, authz+"/policies/new/"+typ, form), "create "+typ+" policy")
	}
	pg = b.get(authz + "/policies/new/role")
	create("role", "photographers", url.Values{"use": {ro.ID}, "required": {ro.ID}})
	create("user", "just bob", url.Values{"users": {"bob"}})
	location(t, b.submit(home, r+"/groups", url.Values{"name": {"staff"}}), "create group")
	create("group", "staff", url.Values{"groups": {"/staff"}, "extendChildren": {"on"}})
	create("client", "from photos", url.Values{"clients": {lastPathSegment(client)}})
	create("time", "office years", url.Values{"year": {"2020"}, "yearEnd": {"2100"}})
	create("regex", "example mail", url.Values{"targetClaim": {"email"}, "pattern": {".*@example\\.com"}})
	clientScopes := b.get(authz + "/policies/new/client-scope")
	create("client-scope", "with profile", url.Values{"use": {optionlessID(t, clientScopes, "profile")}})
	create("aggregate", "either", url.Values{"policies": {lastPathSegment(policies["photographers"]), lastPathSegment(policies["just bob"])},
		"decisionStrategy": {"AFFIRMATIVE"}})
	pg = b.get(policies["photographers"])
	if !regexp.MustCompile(`name="use" value="` + ro.ID + `"[^>]*checked`).MatchString(pg.body) {
		t.Errorf("role policy does not show its role:\n%s", pg.body)
	}
	if pg := b.get(policies["staff"]); !strings.Contains(pg.body, ">/staff</textarea>") || !strings.Contains(pg.body, `name="extend" value="/staff" checked`) {
		t.Errorf("group policy does not show its group extended to its children:\n%s", pg.body)
	}
	// Each group has its own switch: /staff is unticked while /guests is
	// added extended.
	location(t, b.submit(home, r+"/groups", url.Values{"name": {"guests"}}), "create group")
	location(t, b.submit(pg, policies["staff"], url.Values{"name": {"staff"}, "logic": {"POSITIVE"}, "groups": {"/staff\n/guests"},
		"listed": {"/staff"}, "extendChildren": {"on"}}), "edit group policy")
	if pg := b.get(policies["staff"]); !strings.Contains(pg.body, `name="extend" value="/guests" checked`) ||
		!regexp.MustCompile(`name="extend" value="/staff">`).MatchString(pg.body) {
		t.Errorf("the groups' own switches were not saved:\n%s", pg.body)
	}
	if pg := b.get(policies["just bob"]); !strings.Contains(pg.body, ">bob</textarea>") {
		t.Errorf("user policy does not show bob:\n%s", pg.body)
	}
	if p := b.submit(pg, authz+"/policies/new/user", url.Values{"name": {"ghost"}, "logic": {"POSITIVE"}, "users": {"nobody-here"}}); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, "No user named nobody-here.") {
		t.Errorf("unknown user: %d", p.status)
	}
	if p := b.get(authz + "/policies/new/js"); p.status != http.StatusNotFound {
		t.Errorf("a JavaScript policy form: %d", p.status)
	}
	// Edit: the user policy turns negative.
	location(t, b.submit(pg, policies["just bob"], url.Values{"name": {"just bob"}, "logic": {"NEGATIVE"}, "users": {"bob"}}), "edit user policy")
	if pg := b.get(policies["just bob"]); !strings.Contains(pg.body, `<option value="NEGATIVE" selected>`) {
		t.Error("the user policy's logic was not saved")
	}
	if list := b.get(authz + "/policies"); !strings.Contains(list.body, ">photographers</a>") || strings.Contains(list.body, "Default Permission") {
		t.Errorf("policy list:\n%s", list.body)
	}

	// A resource permission for the photo by the role policy, and a scope
	// permission for delete by the user policy.
	pg = b.get(authz + "/permissions/new/resource")
	perm := location(t, b.submit(pg, authz+"/permissions/new/resource", url.Values{"name": {"photo access"},
		"resources": {lastPathSegment(photo)}, "policies": {lastPathSegment(policies["photographers"])}, "decisionStrategy": {"UNANIMOUS"}}), "create resource permission")
	pg = b.get(authz + "/permissions/new/scope")
	location(t, b.submit(pg, authz+"/permissions/new/scope", url.Values{"name": {"delete photos"},
		"scopes": {optionValue(t, pg, "Delete")}, "policies": {lastPathSegment(policies["just bob"])}, "decisionStrategy": {"UNANIMOUS"}}), "create scope permission")
	pg = b.get(authz + "/permissions/new/resource")
	location(t, b.submit(pg, authz+"/permissions/new/resource", url.Values{"name": {"every album"}, "applyToResourceType": {"on"},
		"resourceType": {"urn:photos:resources:album"}, "policies": {lastPathSegment(policies["photographers"])}, "decisionStrategy": {"UNANIMOUS"}}), "create typed permission")
	if pg := b.get(perm); !regexp.MustCompile(`<option value="` + lastPathSegment(photo) + `" selected>`).MatchString(pg.body) {
		t.Errorf("resource permission does not show its resource:\n%s", pg.body)
	}
	if list := b.get(authz + "/permissions"); !strings.Contains(list.body, ">photo access</a>") || !strings.Contains(list.body, ">delete photos</a>") ||
		strings.Contains(list.body, ">photographers</a>") {
		t.Errorf("permission list:\n%s", list.body)
	}

	// Evaluate for alice and bob.
	evaluate := func(user string) page {
		t.Helper()
		pg := b.get(authz + "/evaluate")
		p := b.submit(pg, authz+"/evaluate", url.Values{"clientId": {lastPathSegment(client)}, "user": {user},
			"resources": {lastPathSegment(photo)}, "scopes": {"view"}})
		if p.status != http.StatusOK {
			t.Fatalf("evaluate for %s: %d\n%s", user, p.status, p.body)
		}
		return p
	}
	status := regexp.MustCompile(`id="overall-status">([A-Z]+)<`)
	if m := status.FindStringSubmatch(evaluate("alice").body); m == nil || m[1] != "PERMIT" {
		t.Errorf("alice: %v", m)
	}
	res := evaluate("bob")
	if m := status.FindStringSubmatch(res.body); m == nil || m[1] != "DENY" {
		t.Errorf("bob: %v", m)
	}
	if !strings.Contains(res.body, "photo access: <strong>DENY</strong>") || !strings.Contains(res.body, "photographers: DENY") {
		t.Errorf("bob's result lacks the policies' outcomes:\n%s", res.body)
	}

	// Export, shown and downloaded.
	if pg := b.get(authz + "/export"); !strings.Contains(pg.body, "photo access") {
		t.Errorf("export page:\n%s", pg.body)
	}
	dl := b.get(authz + "/export?download")
	var exported struct {
		Resources []struct {
			Name string `json:"name"`
		} `json:"resources"`
		Policies []struct {
			Name string `json:"name"`
		} `json:"policies"`
		PolicyEnforcementMode string `json:"policyEnforcementMode"`
	}
	decode(t, dl.body, &exported)
	if !strings.Contains(dl.header.Get("Content-Disposition"), "photos-authz-config.json") || exported.PolicyEnforcementMode != "ENFORCING" ||
		!strings.Contains(dl.body, `"photo"`) || !strings.Contains(dl.body, `"photo access"`) {
		t.Errorf("export: %s\n%s", dl.header.Get("Content-Disposition"), dl.body)
	}

	// Import on the Settings section adds a file's scopes and resources.
	settingsPage := b.get(authz)
	if !strings.Contains(settingsPage.body, `id="authz-import-form"`) {
		t.Fatalf("no import form on the settings section:\n%s", settingsPage.body)
	}
	if p := b.upload(settingsPage, authz+"/import", nil, "x.json", "[1, 2]"); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="e-file"`) {
		t.Errorf("a file that is no settings: %d", p.status)
	}
	if p := b.upload(settingsPage, authz+"/import", nil, "", ""); p.status != http.StatusBadRequest || !strings.Contains(p.body, "Choose a file to import.") {
		t.Errorf("no file: %d", p.status)
	}
	imported := `{"scopes":[{"name":"print"}],"resources":[{"name":"poster","scopes":[{"name":"print"}]}]}`
	if p := b.upload(settingsPage, authz+"/import", nil, "poster.json", imported); p.status != http.StatusSeeOther {
		t.Fatalf("import: %d\n%s", p.status, p.body)
	}
	if list := b.get(authz + "/resources"); !strings.Contains(list.body, ">poster</a>") || !strings.Contains(list.body, ">photo</a>") {
		t.Errorf("after the import the resources are:\n%s", list.body)
	}

	// A view-only administrator of demo sees the tab without its buttons,
	// and a form forged with their own CSRF token is refused by the API.
	e.addUser(e.demo, "viewer", "viewer-pw", "view-clients", "query-clients")
	v := e.browser()
	v.signIn("/admin/demo/console/", "viewer", "viewer-pw")
	viewAuthz := strings.Replace(authz, "/admin/master/console/", "/admin/demo/console/", 1)
	vp := v.get(viewAuthz + "/resources")
	if vp.status != http.StatusOK || !strings.Contains(vp.body, ">photo</a>") || strings.Contains(vp.body, `id="create-resource"`) ||
		strings.Contains(vp.body, "aria-label=\"Delete photo\"") {
		t.Errorf("the viewer's resource list: %d\n%s", vp.status, vp.body)
	}
	if p := v.submit(vp, viewAuthz+"/resources/new", url.Values{"name": {"forged"}}); p.status != http.StatusForbidden {
		t.Errorf("the viewer created a resource: %d", p.status)
	}
	if p := v.get(viewAuthz); strings.Contains(p.body, `id="authz-import-form"`) {
		t.Error("the viewer is offered the import")
	}
	if p := v.upload(vp, viewAuthz+"/import", nil, "poster.json", `{"scopes":[{"name":"forged"}]}`); p.status != http.StatusForbidden {
		t.Errorf("the viewer imported: %d", p.status)
	}

	// Deletions.
	location(t, b.submit(pg, authz+"/permissions", url.Values{"action": {"delete"}, "id": {lastPathSegment(perm)}}), "delete permission")
	if list := b.get(authz + "/permissions"); strings.Contains(list.body, ">photo access</a>") {
		t.Error("the permission is still listed")
	}
	location(t, b.submit(pg, authz+"/policies", url.Values{"action": {"delete"}, "id": {lastPathSegment(policies["staff"])}}), "delete policy")
	location(t, b.submit(pg, authz+"/resources", url.Values{"action": {"delete"}, "id": {lastPathSegment(photo)}}), "delete resource")
	if list := b.get(authz + "/resources"); strings.Contains(list.body, ">photo</a>") {
		t.Error("the resource is still listed")
	}

	// A client without authorization services has no such tab.
	other := location(t, b.submit(home, r+"/clients/new", url.Values{"clientId": {"plain"}, "accessType": {"public"}, "standardFlowEnabled": {"on"}}), "create client")
	if p := b.get(other + "/authorization"); p.status != http.StatusNotFound {
		t.Errorf("authorization of a client without it: %d", p.status)
	}
	if p := b.get(other); strings.Contains(p.body, `name="authorizationServicesEnabled"`) {
		t.Error("a public client offers the Authorization switch")
	}
}

// lastPathSegment is the id at the end of a console path.
func lastPathSegment(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// optionlessID finds the id of the row labelled name of a role or client
// scope table.
func optionlessID(t *testing.T, p page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`<td>` + regexp.QuoteMeta(name) + `</td>\s*<td><input type="checkbox" name="use" value="([^"]*)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no row %q at %s", name, p.url)
	}
	return m[1]
}
