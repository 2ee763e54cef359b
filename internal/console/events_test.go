package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// tokenLogin asks demo's token endpoint for a token with a password, as
// admin-cli; it answers the status.
func (e *env) tokenLogin(username, password string) int {
	e.t.Helper()
	res, err := http.PostForm(e.srv.URL+"/realms/demo/protocol/openid-connect/token", url.Values{
		"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {username}, "password": {password}})
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

var (
	userEventRow  = regexp.MustCompile(`<tr class="user-event">`)
	adminEventRow = regexp.MustCompile(`<tr class="admin-event">`)
)

// The realm settings' Events tab turns saving on; a failed and a successful
// login then show on the Events page, whose filters narrow the rows and
// whose pages split them; admin events show with their representation; a
// view-only administrator sees no clear button and cannot clear.
func TestEventsPages(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		testEventsPages(t, newEnvOn(t, web.URLs{}, open))
	})
}

func testEventsPages(t *testing.T, e *env) {
	ctx := context.Background()
	alice := e.addUser(e.demo, "alice", "alice-pw")
	b := e.browser()
	home := b.signIn(masterConsole, "admin", "admin-pw")
	r := "/admin/master/console/demo"

	cfg := b.get(r + "/realm-settings/events")
	if cfg.status != http.StatusOK || !strings.Contains(cfg.body, `id="events-config-form"`) || !strings.Contains(cfg.body, `value="LOGIN_ERROR" checked`) {
		t.Fatalf("events settings: %d\n%s", cfg.status, cfg.body)
	}
	if !strings.Contains(b.get(r+"/realm-settings").body, `id="nav-events"`) {
		t.Error("no Events link in the realm's navigation")
	}
	p := b.submit(cfg, r+"/realm-settings/events", url.Values{"action": {"save"}, "eventsEnabled": {"on"},
		"eventsExpiration": {"-1"}, "eventsExpiration.unit": {"86400"}, "enabledEventTypes": {"LOGIN", "LOGIN_ERROR"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="e-eventsExpiration"`) || !strings.Contains(p.body, `value="-1"`) ||
		!strings.Contains(p.body, `value="LOGIN" checked`) || strings.Contains(p.body, `value="LOGOUT" checked`) {
		t.Fatalf("negative expiration: %d", p.status)
	}
	p = b.submit(cfg, r+"/realm-settings/events", url.Values{"action": {"save"}, "eventsEnabled": {"on"},
		"eventsExpiration": {"2"}, "eventsExpiration.unit": {"86400"}, "enabledEventTypes": {"LOGIN", "LOGIN_ERROR"},
		"adminEventsEnabled": {"on"}, "adminEventsDetailsEnabled": {"on"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("save event settings: %d %s", p.status, p.body)
	}
	rl := e.realm("demo")
	if !rl.EventsEnabled || rl.EventsExpiration != 2*86400 || !rl.AdminEventsEnabled || !rl.AdminEventsDetails ||
		strings.Join(rl.EnabledEventTypes, ",") != "LOGIN,LOGIN_ERROR" {
		t.Fatalf("stored settings: %v %d %v %v %v", rl.EventsEnabled, rl.EventsExpiration, rl.AdminEventsEnabled, rl.AdminEventsDetails, rl.EnabledEventTypes)
	}
	cfg = b.follow(p)
	if !strings.Contains(cfg.body, `value="LOGIN" checked`) || strings.Contains(cfg.body, `value="LOGOUT" checked`) ||
		!strings.Contains(cfg.body, `id="f-eventsExpiration" name="eventsExpiration" value="2"`) {
		t.Errorf("saved settings not shown:\n%s", cfg.body)
	}

	// One failed and two successful logins.
	if s := e.tokenLogin("alice", "wrong"); s != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", s)
	}
	for range 2 {
		if s := e.tokenLogin("alice", "alice-pw"); s != http.StatusOK {
			t.Fatalf("login: %d", s)
		}
	}
	p = b.get(r + "/events")
	if p.status != http.StatusOK || len(userEventRow.FindAllString(p.body, -1)) != 3 || !strings.Contains(p.body, "invalid_user_credentials") ||
		!strings.Contains(p.body, `id="clear-events"`) || !strings.Contains(p.body, `id="tab-admin-events"`) {
		t.Fatalf("user events: %d\n%s", p.status, p.body)
	}
	for q, want := range map[string]int{
		"type=LOGIN_ERROR":                    1,
		"type=LOGIN":                          2,
		"type=LOGIN&type=LOGIN_ERROR":         3,
		"user=" + alice.ID:                    3,
		"user=nobody":                         0,
		"client=admin-cli":                    3,
		"client=account":                      0,
		"ipAddress=127.0.0.1":                 3,
		"ipAddress=10.0.0.1":                  0,
		"dateFrom=2000-01-01&dateTo=2999-1-1": -1,
		"dateFrom=2000-01-01":                 3,
		"dateTo=2000-01-01":                   0,
	} {
		p := b.get(r + "/events?" + q)
		if want < 0 {
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Date(To)") {
				t.Errorf("%s: %d", q, p.status)
			}
			continue
		}
		if got := len(userEventRow.FindAllString(p.body, -1)); got != want || p.status != http.StatusOK {
			t.Errorf("%s: %d rows (%d), want %d", q, got, p.status, want)
		}
	}
	// Paging: 12 failed logins are a page of ten and a page of two; the
	// filter stays on the page links.
	if p := b.get(r + "/events?max=10"); strings.Contains(p.body, `id="next-page"`) {
		t.Error("a next page of three events at ten a page")
	}
	e.addUser(e.demo, "bob", "bob-pw")
	for range 11 {
		e.tokenLogin("bob", "bad")
	}
	p = b.get(r + "/events?max=10&type=LOGIN_ERROR")
	next := regexp.MustCompile(`href="([^"]*)" rel="next"`).FindStringSubmatch(p.body)
	if len(userEventRow.FindAllString(p.body, -1)) != 10 || next == nil || strings.Contains(p.body, `id="prev-page"`) {
		t.Fatalf("first page: %d rows, next %v", len(userEventRow.FindAllString(p.body, -1)), next)
	}
	p = b.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	if got := len(userEventRow.FindAllString(p.body, -1)); got != 2 || !strings.Contains(p.body, `id="prev-page"`) || strings.Contains(p.body, `id="next-page"`) {
		t.Errorf("second page: %d rows\n%s", got, p.body)
	}

	// Admin events: made by admin API calls through the console.
	if p := b.submit(home, r+"/roles", url.Values{"action": {"create"}, "name": {"auditor"}}); p.status != http.StatusSeeOther {
		t.Fatalf("create role: %d %s", p.status, p.body)
	}
	if p := b.submit(home, r+"/users/new", url.Values{"username": {"carol"}, "enabled": {"on"}}); p.status != http.StatusSeeOther {
		t.Fatalf("create user: %d %s", p.status, p.body)
	}
	p = b.get(r + "/events/admin-events")
	rows := len(adminEventRow.FindAllString(p.body, -1))
	if p.status != http.StatusOK || rows < 2 || !strings.Contains(p.body, "REALM_ROLE") || !strings.Contains(p.body, `class="representation"`) ||
		!strings.Contains(p.body, "&#34;auditor&#34;") {
		t.Fatalf("admin events (%d rows): %d\n%s", rows, p.status, p.body)
	}
	for q, want := range map[string]int{
		"resourceTypes=REALM_ROLE":                    1,
		"resourceTypes=USER":                          1,
		"resourceTypes=REALM_ROLE&resourceTypes=USER": 2,
		"operationTypes=DELETE":                       0,
		"resourcePath=roles/*":                        1,
		"resourcePath=users/*":                        1,
		"authRealm=" + e.realm("master").ID:           rows,
		"authRealm=" + e.demo.ID:                      0,
		"authIpAddress=10.9.9.9":                      0,
	} {
		p := b.get(r + "/events/admin-events?" + q)
		if got := len(adminEventRow.FindAllString(p.body, -1)); got != want || p.status != http.StatusOK {
			t.Errorf("%s: %d rows (%d), want %d", q, got, p.status, want)
		}
	}

	// A view-only administrator sees the events but no clear button, and
	// cannot clear them.
	e.addUser(e.realm("master"), "watcher", "watcher-pw")
	viewOnly(t, e, "watcher")
	w := e.browser()
	wp := w.signIn("/admin/master/console/demo/events", "watcher", "watcher-pw")
	if wp.status != http.StatusOK || strings.Contains(wp.body, `id="clear-events"`) || len(userEventRow.FindAllString(wp.body, -1)) == 0 {
		t.Fatalf("viewer's events page: %d\n%s", wp.status, wp.body)
	}
	cfgv := w.get(r + "/realm-settings/events")
	if strings.Contains(cfgv.body, `id="clear-user-events"`) || strings.Contains(cfgv.body, `id="save"`) || !strings.Contains(cfgv.body, `id="read-only"`) {
		t.Errorf("viewer's event settings offer to write")
	}
	for _, post := range []struct{ path, action string }{{"/events", "clear"}, {"/events/admin-events", "clear"}, {"/realm-settings/events", "clear-user"}} {
		if p := w.submit(wp, r+post.path, url.Values{"action": {post.action}}); p.status != http.StatusForbidden {
			t.Errorf("viewer cleared %s: %d", post.path, p.status)
		}
	}
	if p := w.submit(wp, r+"/realm-settings/events", url.Values{"action": {"save"}, "eventsExpiration": {"1"}, "eventsExpiration.unit": {"60"}}); p.status != http.StatusForbidden {
		t.Errorf("viewer saved event settings: %d", p.status)
	}
	if rl := e.realm("demo"); !rl.EventsEnabled {
		t.Error("viewer turned events off")
	}

	// The admin clears both.
	p = b.submit(home, r+"/events", url.Values{"action": {"clear"}})
	if p = b.follow(p); !strings.Contains(p.body, "The user events have been cleared.") || userEventRow.MatchString(p.body) {
		t.Errorf("clear user events: %d", p.status)
	}
	p = b.submit(home, r+"/realm-settings/events", url.Values{"action": {"clear-admin"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("clear admin events: %d", p.status)
	}
	es, err := e.db.ListAdminEvents(ctx, e.demo.ID, store.AdminEventQuery{Max: 100})
	if err != nil || len(es) != 0 {
		t.Errorf("admin events left: %d %v", len(es), err)
	}
}

// viewOnly gives master user username the view-realm, view-users and
// view-events roles of demo's admin client in master.
func viewOnly(t *testing.T, e *env, username string) {
	t.Helper()
	ctx := context.Background()
	master := e.realm("master")
	u, err := e.db.GetUserByUsername(ctx, master.ID, username)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.db.GetClientByClientID(ctx, master.ID, "demo-realm")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"view-realm", "view-users", "view-events"} {
		ro, err := e.db.GetClientRole(ctx, master.ID, c.ID, name)
		if err != nil {
			t.Fatalf("role %s: %v", name, err)
		}
		if err := e.db.AddUserRoles(ctx, u.ID, ro.ID); err != nil {
			t.Fatal(err)
		}
	}
}

// Realm settings → Action → Partial export downloads the admin API's
// export with secrets masked; Partial import uploads a file, imports the
// chosen resources with the chosen policy and shows the counts, the lines
// and the members not stored. A view-only administrator has neither.
func TestPartialExportImportPages(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		testPartialExportImport(t, newEnvOn(t, web.URLs{}, open))
	})
}

func testPartialExportImport(t *testing.T, e *env) {
	ctx := context.Background()
	b := e.browser()
	home := b.signIn(masterConsole, "admin", "admin-pw")
	r := "/admin/master/console/demo"
	if p := b.submit(home, r+"/clients/new", url.Values{"clientId": {"app"}, "accessType": {"confidential"},
		"standardFlowEnabled": {"on"}, "redirectUris": {"http://localhost/*"}}); p.status != http.StatusSeeOther {
		t.Fatalf("create client: %d %s", p.status, p.body)
	}
	app, err := e.db.GetClientByClientID(ctx, e.demo.ID, "app")
	if err != nil || app.Secret == "" {
		t.Fatalf("client app: %v", err)
	}
	settings := b.get(r + "/realm-settings")
	if !strings.Contains(settings.body, `id="action-partial-export"`) || !strings.Contains(settings.body, `id="action-partial-import"`) {
		t.Fatal("no partial export/import in the Action menu")
	}
	form := b.get(r + "/realm-settings/partial-export")
	if form.status != http.StatusOK || !strings.Contains(form.body, `name="exportClients"`) {
		t.Fatalf("export form: %d", form.status)
	}
	p := b.submit(form, r+"/realm-settings/partial-export", url.Values{"exportClients": {"on"}})
	if p.status != http.StatusOK || !strings.Contains(p.header.Get("Content-Disposition"), "realm-export.json") {
		t.Fatalf("export: %d %v", p.status, p.header)
	}
	if strings.Contains(p.body, app.Secret) {
		t.Fatal("the export shows the client secret")
	}
	var x struct {
		Realm   string `json:"realm"`
		Clients []struct {
			ClientID string `json:"clientId"`
			Secret   string `json:"secret"`
		} `json:"clients"`
		Roles *json.RawMessage `json:"roles"`
	}
	decode(t, p.body, &x)
	masked := false
	for _, c := range x.Clients {
		masked = masked || (c.ClientID == "app" && c.Secret == "**********")
	}
	if x.Realm != "demo" || !masked || x.Roles != nil {
		t.Fatalf("export: realm %q, app masked %v, roles %v", x.Realm, masked, x.Roles != nil)
	}
	p = b.submit(form, r+"/realm-settings/partial-export", url.Values{"exportGroupsAndRoles": {"on"}})
	x.Clients, x.Roles = nil, nil
	decode(t, p.body, &x)
	if len(x.Clients) != 0 || x.Roles == nil {
		t.Errorf("roles only export: %d clients, roles %v", len(x.Clients), x.Roles != nil)
	}

	imp := b.get(r + "/realm-settings/partial-import")
	if imp.status != http.StatusOK || !strings.Contains(imp.body, `enctype="multipart/form-data"`) {
		t.Fatalf("import form: %d", imp.status)
	}
	file := `{"realm":"demo","authenticationFlows":[{"alias":"x"}],
		"users":[{"username":"dave","enabled":true}],
		"groups":[{"name":"staff"}],
		"roles":{"realm":[{"name":"editor"}]},
		"clients":[{"clientId":"app","publicClient":true}]}`
	upload := func(b *browser, from page, fields url.Values, content string) page {
		t.Helper()
		return b.upload(from, r+"/realm-settings/partial-import", fields, "realm.json", content)
	}
	all := url.Values{"users": {"on"}, "clients": {"on"}, "groups": {"on"}, "realmRoles": {"on"}, "clientRoles": {"on"}}
	if p := upload(b, imp, url.Values{"users": {"on"}}, ""); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="e-file"`) {
		t.Errorf("no file: %d", p.status)
	}
	// FAIL: app exists, nothing is stored.
	all.Set("ifResourceExists", "FAIL")
	p = upload(b, imp, all, file)
	if p.status != http.StatusConflict {
		t.Fatalf("FAIL on an existing client: %d\n%s", p.status, p.body)
	}
	if _, err := e.db.GetUserByUsername(ctx, e.demo.ID, "dave"); err == nil {
		t.Fatal("a failed import stored a user")
	}
	// SKIP, without groups: app is skipped, the rest added.
	skip := url.Values{"users": {"on"}, "clients": {"on"}, "realmRoles": {"on"}, "ifResourceExists": {"SKIP"}}
	p = upload(b, imp, skip, file)
	if p.status != http.StatusOK || !strings.Contains(p.body, `<span id="count-added">2 records added</span>`) ||
		!strings.Contains(p.body, `<span id="count-skipped">1 records skipped</span>`) ||
		!strings.Contains(p.body, "$.authenticationFlows") || !strings.Contains(p.body, ">dave<") || !strings.Contains(p.body, ">editor<") {
		t.Fatalf("SKIP import: %d\n%s", p.status, p.body)
	}
	if _, err := e.db.GetUserByUsername(ctx, e.demo.ID, "dave"); err != nil {
		t.Errorf("dave not imported: %v", err)
	}
	if gs, _ := e.db.ListGroups(ctx, e.demo.ID); len(gs) != 0 {
		t.Errorf("groups imported though not chosen: %d", len(gs))
	}
	if c, _ := e.db.GetClientByClientID(ctx, e.demo.ID, "app"); c.PublicClient {
		t.Error("SKIP changed app")
	}
	if p := upload(b, imp, all, "{not json"); p.status != http.StatusBadRequest {
		t.Errorf("bad file: %d", p.status)
	}

	// A view-only administrator has no Action menu and cannot import or export.
	e.addUser(e.realm("master"), "watcher", "watcher-pw")
	viewOnly(t, e, "watcher")
	w := e.browser()
	wp := w.signIn("/admin/master/console/demo/realm-settings", "watcher", "watcher-pw")
	if wp.status != http.StatusOK || strings.Contains(wp.body, `id="realm-actions"`) {
		t.Fatalf("viewer's realm settings: %d", wp.status)
	}
	if p := w.get(r + "/realm-settings/partial-import"); p.status != http.StatusForbidden {
		t.Errorf("viewer's import page: %d", p.status)
	}
	if p := upload(w, wp, all, `{"users":[{"username":"eve"}]}`); p.status != http.StatusForbidden {
		t.Errorf("viewer imported: %d", p.status)
	}
	if _, err := e.db.GetUserByUsername(ctx, e.demo.ID, "eve"); err == nil {
		t.Error("viewer's import stored a user")
	}
	if p := w.submit(wp, r+"/realm-settings/partial-export", url.Values{"exportClients": {"on"}}); p.status != http.StatusForbidden {
		t.Errorf("viewer exported: %d", p.status)
	}
}
