package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

const masterConsole = "/admin/master/console/"

// A browser without a session is sent to the master realm's login page as
// security-admin-console, with PKCE (S256) and a state, and comes back to
// the page it asked for.
func TestSignInThroughTheLoginPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	p := b.get("/admin/master/console/demo/clients?search=acc")
	if p.status != http.StatusFound {
		t.Fatalf("status %d, want a redirect to the login page", p.status)
	}
	loc, _ := url.Parse(p.header.Get("Location"))
	q := loc.Query()
	if loc.Path != "/realms/master/protocol/openid-connect/auth" || q.Get("client_id") != "security-admin-console" ||
		q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 ||
		q.Get("state") == "" || q.Get("redirect_uri") != e.srv.URL+"/admin/master/console/callback" {
		t.Fatalf("login redirect %s", loc)
	}
	p = b.signIn("/admin/master/console/demo/clients?search=acc", "admin", "admin-pw")
	if p.status != http.StatusOK || !strings.Contains(p.url, "/admin/master/console/demo/clients?search=acc") {
		t.Fatalf("after sign-in: %d at %s", p.status, p.url)
	}
	if !strings.Contains(p.body, `id="signed-in-user"`) || !strings.Contains(p.body, ">account<") {
		t.Errorf("the clients page does not show the search result or the user:\n%s", p.body)
	}
	for h, want := range map[string]string{
		"X-Frame-Options": "DENY", "Cache-Control": "no-store, must-revalidate, max-age=0", "X-Content-Type-Options": "nosniff",
	} {
		if got := p.header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	// The session cookie is HttpOnly, scoped to the console, and small
	// enough for every browser.
	for _, c := range setCookies(t, b, "/admin/master/console/") {
		if c.Name == "GATEHOUSE_CONSOLE" && len(c.Value) > 3500 {
			t.Errorf("session cookie of %d bytes", len(c.Value))
		}
	}
	// Signing out ends the SSO session: the console asks for the password again.
	p = b.follow(b.submit(p, "/admin/master/console/logout", url.Values{}))
	if !strings.Contains(p.body, "kc-form-login") {
		t.Fatalf("after sign-out: %d at %s", p.status, p.url)
	}
}

func setCookies(t *testing.T, b *browser, path string) []*http.Cookie {
	u, _ := url.Parse(b.e.srv.URL + path)
	return b.c.Jar.Cookies(u)
}

// A callback whose state is not the one the console sent (login CSRF, or a
// stale tab) is refused, and no session starts.
func TestCallbackChecksState(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.get(masterConsole) // sets the login cookie
	p := b.get("/admin/master/console/callback?code=x&state=not-the-state")
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "another window") {
		t.Fatalf("forged state: %d %s", p.status, p.body)
	}
	fresh := e.browser()
	if p := fresh.get("/admin/master/console/callback?code=x&state=y"); p.status != http.StatusBadRequest {
		t.Fatalf("callback without a login in progress: %d", p.status)
	}
	if p := b.get(masterConsole); p.status != http.StatusFound {
		t.Fatalf("a refused callback started a session: %d", p.status)
	}
}

// Every form needs the session's CSRF token: a POST without it, or with
// another session's, changes nothing.
func TestFormsNeedTheCSRFToken(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(masterConsole, "admin", "admin-pw")
	form := url.Values{"ssoSessionIdleTimeout": {"1"}, "ssoSessionIdleTimeout.unit": {"60"}}
	for name, token := range map[string]string{"no token": "", "wrong token": "forged"} {
		f := url.Values{"csrf": {token}}
		for k, v := range form {
			f[k] = v
		}
		p := b.post("/admin/master/console/demo/realm-settings/sessions", f)
		if p.status != http.StatusForbidden {
			t.Errorf("%s: status %d", name, p.status)
		}
	}
	// A browser that says the form came from another site is refused even
	// with the token.
	page := b.get("/admin/master/console/demo/realm-settings/sessions")
	f := url.Values{"csrf": {csrf(t, page)}}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/admin/master/console/demo/realm-settings/sessions", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := b.do(req); p.status != http.StatusForbidden {
		t.Errorf("cross-site POST: %d", p.status)
	}
	if rl := e.realm("demo"); rl.SSOSessionIdleTimeout != 1800 {
		t.Errorf("SSO idle changed to %d", rl.SSOSessionIdleTimeout)
	}
}

// The sessions tab shows lifespans as a number and a unit and stores
// seconds: 1 minute, 60 days, offline max off.
func TestSessionLifespansInUnits(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(masterConsole, "admin", "admin-pw")
	p := b.get("/admin/master/console/demo/realm-settings/sessions")
	if p.status != http.StatusOK {
		t.Fatalf("sessions tab: %d", p.status)
	}
	// Keycloak's defaults: 30 minutes idle, 10 hours max, 30 days offline idle.
	for _, want := range []string{
		`name="ssoSessionIdleTimeout" value="30"`, `name="ssoSessionMaxLifespan" value="10"`, `name="offlineSessionIdleTimeout" value="30"`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("sessions tab lacks %s", want)
		}
	}
	if !selected(p.body, "u-ssoSessionMaxLifespan", "3600") || !selected(p.body, "u-offlineSessionIdleTimeout", "86400") {
		t.Error("units not shown as hours and days")
	}
	form := formValues(p.body, "settings-form")
	form.Set("ssoSessionIdleTimeout", "1")
	form.Set("ssoSessionIdleTimeout.unit", "60")
	form.Set("offlineSessionIdleTimeout", "60")
	form.Set("offlineSessionIdleTimeout.unit", "86400")
	p = b.follow(b.post("/admin/master/console/demo/realm-settings/sessions", form))
	if p.status != http.StatusOK || !strings.Contains(p.body, "Your changes have been saved.") {
		t.Fatalf("save: %d %s", p.status, p.body)
	}
	rl := e.realm("demo")
	if rl.SSOSessionIdleTimeout != 60 || rl.OfflineSessionIdleTimeout != 60*86400 || rl.SSOSessionMaxLifespan != 36000 {
		t.Errorf("stored: idle %d, offline idle %d, max %d", rl.SSOSessionIdleTimeout, rl.OfflineSessionIdleTimeout, rl.SSOSessionMaxLifespan)
	}
	if !strings.Contains(p.body, `name="ssoSessionIdleTimeout" value="1"`) || !selected(p.body, "u-ssoSessionIdleTimeout", "60") {
		t.Error("1 minute not shown back as 1 minute")
	}

	// A number that is not one shows an error next to its field, and
	// nothing is saved.
	form.Set("accessTokenLifespan", "x")
	form.Set("ssoSessionMaxLifespan", "-2")
	p = b.post("/admin/master/console/demo/realm-settings/sessions", form)
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="e-ssoSessionMaxLifespan"`) ||
		!strings.Contains(p.body, `aria-invalid="true"`) || !strings.Contains(p.body, `id="form-error"`) {
		t.Fatalf("bad duration: %d %s", p.status, p.body)
	}
	if rl := e.realm("demo"); rl.SSOSessionMaxLifespan != 36000 {
		t.Errorf("a refused form changed SSO max to %d", rl.SSOSessionMaxLifespan)
	}
}

// selected reports whether the select with id has value selected.
func selected(body, id, value string) bool {
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		return false
	}
	end := strings.Index(body[i:], "</select>")
	return strings.Contains(body[i:i+end], `value="`+value+`" selected`)
}

var (
	inputRe  = regexp.MustCompile(`<input type="(?:text|number|hidden)"[^>]*?name="([^"]+)" value="([^"]*)"`)
	inputRe2 = regexp.MustCompile(`<input type="(?:text|number)"[^>]*?id="[^"]*" name="([^"]+)" value="([^"]*)"`)
	checkRe  = regexp.MustCompile(`<input type="checkbox" id="[^"]*" name="([^"]+)" value="on" checked`)
	selectRe = regexp.MustCompile(`(?s)<select id="[^"]*" name="([^"]+)"[^>]*>(.*?)</select>`)
	optRe    = regexp.MustCompile(`<option value="([^"]*)" selected`)
)

// formValues reads the current values of the form with id, as a browser
// would submit it unchanged.
func formValues(body, id string) url.Values {
	i := strings.Index(body, `id="`+id+`"`)
	body = body[i:]
	body = body[:strings.Index(body, "</form>")]
	v := url.Values{}
	for _, re := range []*regexp.Regexp{inputRe, inputRe2} {
		for _, m := range re.FindAllStringSubmatch(body, -1) {
			v.Set(m[1], unescape(m[2]))
		}
	}
	for _, m := range checkRe.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], "on")
	}
	for _, m := range selectRe.FindAllStringSubmatch(body, -1) {
		if o := optRe.FindStringSubmatch(m[2]); o != nil {
			v.Set(m[1], unescape(o[1]))
		}
	}
	return v
}

func unescape(s string) string {
	return strings.NewReplacer("&#34;", `"`, "&#39;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(s)
}

// A realm administrator with view roles only signs in to the realm's own
// console, sees the realm's settings without a save button, and a POST
// forged with its own valid CSRF token is refused by the admin API.
func TestViewOnlyAdministrator(t *testing.T) {
	e := newEnv(t)
	e.addUser(e.demo, "viewer", "viewer-pw", "view-realm", "view-users", "view-clients")
	b := e.browser()
	p := b.signIn("/admin/demo/console/", "viewer", "viewer-pw")
	if p.status != http.StatusOK || !strings.HasSuffix(p.url, "/admin/demo/console/demo/realm-settings") {
		t.Fatalf("viewer lands at %s (%d)", p.url, p.status)
	}
	for _, path := range []string{"/realm-settings", "/realm-settings/sessions", "/realm-settings/tokens", "/clients/new", "/users"} {
		p = b.get("/admin/demo/console/demo" + path)
		if strings.Contains(p.body, `id="save"`) || strings.Contains(p.body, `id="create-client"`) || strings.Contains(p.body, `id="create-user"`) {
			t.Errorf("%s offers to save or create to a view-only admin", path)
		}
	}
	p = b.get("/admin/demo/console/demo/realm-settings/sessions")
	if !strings.Contains(p.body, `<fieldset disabled>`) || !strings.Contains(p.body, `id="read-only"`) {
		t.Errorf("sessions tab not read-only:\n%s", p.body)
	}
	form := formValues(p.body, "settings-form")
	form.Set("ssoSessionIdleTimeout", "1")
	form.Set("csrf", csrf(t, p))
	p = b.post("/admin/demo/console/demo/realm-settings/sessions", form)
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "You do not have permission to do this.") {
		t.Fatalf("forged save: %d %s", p.status, p.body)
	}
	if rl := e.realm("demo"); rl.SSOSessionIdleTimeout != 1800 {
		t.Errorf("view-only admin changed SSO idle to %d", rl.SSOSessionIdleTimeout)
	}
	// Another realm is not theirs, in the console as in the API.
	if p := b.get("/admin/demo/console/master/realm-settings"); p.status != http.StatusForbidden {
		t.Errorf("viewer opened master: %d", p.status)
	}
	// A user who administers nothing sees no realm.
	e.addUser(e.demo, "nobody", "nobody-pw")
	other := e.browser()
	p = other.signIn("/admin/demo/console/", "nobody", "nobody-pw")
	if !strings.Contains(p.body, "You administer no realm.") {
		t.Errorf("non-admin: %d %s", p.status, p.body)
	}
	if p := other.get("/admin/demo/console/demo/users"); p.status != http.StatusForbidden {
		t.Errorf("non-admin opened users: %d", p.status)
	}
}

// The API's validation errors are shown next to the form that caused them.
func TestValidationErrorsInline(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	home := b.signIn(masterConsole, "admin", "admin-pw")
	p := b.submit(home, "/admin/master/console/demo/clients/new", url.Values{"clientId": {""}, "accessType": {"public"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="e-clientId"`) {
		t.Errorf("empty client id: %d", p.status)
	}
	p = b.submit(home, "/admin/master/console/demo/clients/new", url.Values{"clientId": {"account"}, "accessType": {"public"}})
	if p.status != http.StatusConflict || !strings.Contains(p.body, "Client account already exists") || !strings.Contains(p.body, `id="e-clientId"`) {
		t.Errorf("duplicate client: %d %s", p.status, p.body)
	}
	p = b.submit(home, "/admin/master/console/demo/clients/new", url.Values{"clientId": {"bad"}, "accessType": {"public"},
		"redirectUris": {"javascript:alert(1)"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "A redirect URI uses an illegal scheme") {
		t.Errorf("bad redirect URI: %d", p.status)
	}
	p = b.submit(home, "/admin/master/console/create-realm", url.Values{"realm": {"demo"}, "enabled": {"on"}})
	if p.status != http.StatusConflict || !strings.Contains(p.body, "A realm named demo already exists.") {
		t.Errorf("duplicate realm: %d %s", p.status, p.body)
	}
	p = b.submit(home, "/admin/master/console/demo/users/new", url.Values{"username": {"u1"}, "email": {"not-an-address"}, "enabled": {"on"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="e-email"`) {
		t.Errorf("bad email: %d %s", p.status, p.body)
	}
	// The refused values are shown again.
	if !strings.Contains(p.body, `value="not-an-address"`) {
		t.Error("the refused email is not shown back")
	}
}

// Paths that are not the console's get the server's own 404 and 405
// answers, as before the console existed.
func TestOtherPathsFallThrough(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	p := b.get("/admin/nothing")
	if p.status != http.StatusNotFound || !strings.Contains(p.body, "Unable to find matching target resource method") {
		t.Errorf("unknown path: %d %s", p.status, p.body)
	}
	p = b.post("/admin/realms/demo/keys", url.Values{})
	if p.status != http.StatusMethodNotAllowed {
		t.Errorf("wrong method: %d %s", p.status, p.body)
	}
	if p := b.get("/admin/nope/console/"); p.status != http.StatusNotFound {
		t.Errorf("console of an unknown realm: %d", p.status)
	}
	if p := b.get("/admin/master/console"); p.status != http.StatusFound || p.header.Get("Location") != "/admin/master/console/" {
		t.Errorf("console without its slash: %d %s", p.status, p.header.Get("Location"))
	}
}

// Every page of the console renders for the master administrator.
func TestEveryPageRenders(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	home := b.signIn(masterConsole, "admin", "admin-pw")
	r := "/admin/master/console/demo"
	// Make one of everything through the console.
	mk := func(path string, form url.Values) string {
		t.Helper()
		p := b.submit(home, r+path, form)
		if p.status != http.StatusSeeOther {
			t.Fatalf("create at %s: %d %s", path, p.status, p.body)
		}
		return p.header.Get("Location")
	}
	client := strings.TrimSuffix(mk("/clients/new", url.Values{"clientId": {"app"}, "accessType": {"confidential"},
		"standardFlowEnabled": {"on"}, "serviceAccountsEnabled": {"on"}, "redirectUris": {"http://localhost/*"}}), "?notice=created")
	scope := strings.TrimSuffix(mk("/client-scopes/new", url.Values{"name": {"info"}, "protocol": {"openid-connect"}, "type": {"optional"}}), "?notice=created")
	userPage := strings.TrimSuffix(mk("/users/new", url.Values{"username": {"user1"}, "enabled": {"on"}}), "?notice=created")
	mk("/roles", url.Values{"action": {"create"}, "name": {"reader"}})
	group := strings.TrimSuffix(mk("/groups", url.Values{"name": {"staff"}}), "?notice=created")
	pages := []string{"/admin/master/console/realms", "/admin/master/console/master/realm-settings", "/admin/master/console/create-realm", r + "/realm-settings", r + "/realm-settings/login",
		r + "/realm-settings/tokens", r + "/realm-settings/sessions", r + "/realm-settings/keys", r + "/clients", r + "/clients?search=app",
		r + "/clients/new", client, client + "/credentials", client + "/client-scopes", client + "/scope", client + "/roles", client + "/sessions",
		client + "/service-account", r + "/client-scopes", r + "/client-scopes/new", scope, scope + "/mappers", scope + "/scope",
		scope + "/mappers?type=oidc-usermodel-attribute-mapper", r + "/roles", r + "/roles/reader", r + "/groups", group,
		group + "/role-mapping", r + "/users", r + "/users?search=user", r + "/users/new", userPage, userPage + "/credentials",
		userPage + "/role-mapping", userPage + "/role-mapping?client=" + e.clientUUID("demo", "realm-management"),
		userPage + "/groups", userPage + "/sessions", userPage + "/consents", r + "/sessions"}
	for _, path := range pages {
		p := b.get(path)
		if p.status != http.StatusOK || !strings.Contains(p.body, "</html>") {
			t.Errorf("%s: %d\n%s", path, p.status, p.body)
		}
	}
}

func (e *env) clientUUID(realmName, clientID string) string {
	e.t.Helper()
	c, err := e.db.GetClientByClientID(context.Background(), e.realm(realmName).ID, clientID)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.ID
}

// The console's other forms do what they say, through the admin API.
func TestWriteForms(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.browser()
	home := b.signIn(masterConsole, "admin", "admin-pw")
	r := "/admin/master/console/demo"
	post := func(path string, form url.Values) page {
		t.Helper()
		p := b.submit(home, r+path, form)
		if p.status != http.StatusSeeOther {
			t.Fatalf("POST %s %v: %d %s", path, form, p.status, p.body)
		}
		return p
	}
	id := func(p page) string {
		loc := strings.SplitN(p.header.Get("Location"), "?", 2)[0]
		return loc[strings.LastIndexByte(loc, '/')+1:]
	}

	// Clients: create, secret regeneration, settings, client scopes, delete.
	app := id(post("/clients/new", url.Values{"clientId": {"app"}, "accessType": {"confidential"}, "standardFlowEnabled": {"on"},
		"rootUrl": {"https://app.example"}}))
	c, err := e.db.GetClient(ctx, e.demo.ID, app)
	if err != nil || c.PublicClient || c.Secret == "" || c.AdminURL != "https://app.example" {
		t.Fatalf("created client: %+v %v", c, err)
	}
	post("/clients/"+app+"/credentials", url.Values{})
	if c2, _ := e.db.GetClient(ctx, e.demo.ID, app); c2.Secret == c.Secret {
		t.Error("secret not regenerated")
	}
	post("/clients/"+app, url.Values{"clientId": {"app"}, "accessType": {"public"}, "enabled": {"on"}, "directAccessGrantsEnabled": {"on"},
		"redirectUris": {"https://app.example/cb\n https://app.example/other "}, "postLogoutRedirectUris": {"+"}, "dpopBound": {"on"}})
	c, _ = e.db.GetClient(ctx, e.demo.ID, app)
	if !c.PublicClient || c.StandardFlowEnabled || !c.DirectAccessGrantsEnabled || len(c.RedirectURIs) != 2 ||
		c.RedirectURIs[1] != "https://app.example/other" || c.Attributes["post.logout.redirect.uris"] != "+" ||
		c.Attributes["dpop.bound.access.tokens"] != "true" {
		t.Errorf("client after save: %+v", c)
	}
	post("/clients/"+app, url.Values{"clientId": {"app"}, "accessType": {"public"}, "enabled": {"on"}, "postLogoutRedirectUris": {"+"}})
	if c, _ = e.db.GetClient(ctx, e.demo.ID, app); c.Attributes["dpop.bound.access.tokens"] != "false" {
		t.Errorf("DPoP switch not turned off: %q", c.Attributes["dpop.bound.access.tokens"])
	}
	// Logout settings: the front- and back-channel fields are client attributes.
	post("/clients/"+app, url.Values{"clientId": {"app"}, "accessType": {"public"}, "enabled": {"on"}, "directAccessGrantsEnabled": {"on"},
		"redirectUris": {"https://app.example/cb"}, "postLogoutRedirectUris": {"+"},
		"frontchannelLogoutUrl": {"https://app.example/fc"}, "frontchannelLogoutSessionRequired": {"on"},
		"backchannelLogoutUrl": {"https://app.example/bc"}, "backchannelLogoutRevokeOfflineTokens": {"on"}})
	c, _ = e.db.GetClient(ctx, e.demo.ID, app)
	if c.FrontchannelLogout || c.Attributes["frontchannel.logout.url"] != "https://app.example/fc" ||
		c.Attributes["frontchannel.logout.session.required"] != "true" || c.Attributes["backchannel.logout.url"] != "https://app.example/bc" ||
		c.Attributes["backchannel.logout.session.required"] != "false" || c.Attributes["backchannel.logout.revoke.offline.tokens"] != "true" {
		t.Errorf("logout settings after save: %v %v", c.FrontchannelLogout, c.Attributes)
	}
	if p := b.get(e.srv.URL + r + "/clients/" + app); !strings.Contains(p.body, `value="https://app.example/bc"`) ||
		!strings.Contains(p.body, `name="backchannelLogoutRevokeOfflineTokens"`) {
		t.Errorf("client page lacks the logout settings: %s", p.body)
	}
	email, err := e.db.GetClientScopeByName(ctx, e.demo.ID, "email")
	if err != nil {
		t.Fatal(err)
	}
	post("/clients/"+app+"/client-scopes", url.Values{"action": {"remove"}, "scope": {email.ID}})
	post("/clients/"+app+"/client-scopes", url.Values{"action": {"add"}, "scope": {email.ID}, "kind": {"optional"}})
	links, _ := e.db.ClientScopeLinks(ctx, e.demo.ID, app)
	for _, l := range links {
		if l.ScopeID == email.ID && l.Default {
			t.Error("email still a default scope")
		}
	}
	post("/clients/"+app+"/delete", url.Values{})
	if _, err := e.db.GetClient(ctx, e.demo.ID, app); err == nil {
		t.Error("client not deleted")
	}

	// Realm roles and composites.
	post("/roles", url.Values{"action": {"create"}, "name": {"reader"}, "description": {"Reads"}})
	offline, _ := e.db.GetRealmRole(ctx, e.demo.ID, "offline_access")
	post("/roles/reader", url.Values{"action": {"add"}, "role": {offline.ID}})
	reader, _ := e.db.GetRealmRole(ctx, e.demo.ID, "reader")
	if kids, _ := e.db.ListComposites(ctx, reader.ID); len(kids) != 1 || kids[0].ID != offline.ID {
		t.Errorf("composites: %v", kids)
	}
	post("/roles/reader", url.Values{"action": {"remove"}, "role": {offline.ID}})
	post("/roles/reader", url.Values{"action": {"save"}, "description": {"Reads things"}})
	if ro, _ := e.db.GetRealmRole(ctx, e.demo.ID, "reader"); ro.Description != "Reads things" {
		t.Errorf("role after save: %+v", ro)
	}
	if kids, _ := e.db.ListComposites(ctx, reader.ID); len(kids) != 0 {
		t.Errorf("composite not removed: %v", kids)
	}

	// Users: role mapping, groups, password, sessions.
	u := id(post("/users/new", url.Values{"username": {"user1"}, "enabled": {"on"}}))
	post("/users/"+u+"/role-mapping", url.Values{"action": {"assign"}, "role": {reader.ID}})
	post("/users/"+u+"/credentials", url.Values{"action": {"password"}, "password": {"pw-user1"}, "passwordConfirm": {"pw-user1"}, "temporary": {"on"}})
	if got, _ := e.db.GetUser(ctx, e.demo.ID, u); len(got.RequiredActions) != 1 || got.RequiredActions[0] != "UPDATE_PASSWORD" {
		t.Errorf("temporary password: %v", got.RequiredActions)
	}
	p := b.submit(home, r+"/users/"+u+"/credentials", url.Values{"action": {"password"}, "password": {"a"}, "passwordConfirm": {"b"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="e-passwordConfirm"`) {
		t.Errorf("mismatched passwords: %d", p.status)
	}
	g := id(post("/groups", url.Values{"name": {"staff"}}))
	post("/groups/"+g, url.Values{"action": {"child"}, "name": {"admins"}})
	post("/groups/"+g, url.Values{"action": {"add-member"}, "username": {"user1"}})
	p = b.submit(home, r+"/groups/"+g, url.Values{"action": {"add-member"}, "username": {"nobody"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "No user has this username.") {
		t.Errorf("unknown member: %d", p.status)
	}
	if gs, _ := e.db.ListUserGroups(ctx, u); len(gs) != 1 {
		t.Errorf("user1's groups: %v", gs)
	}
	p = b.get(r + "/users/" + u + "/groups")
	if !strings.Contains(p.body, "/staff/admins") {
		t.Error("the join list lacks the child group")
	}
	post("/users/"+u+"/groups", url.Values{"action": {"leave"}, "group": {g}})
	post("/groups/"+g+"/role-mapping", url.Values{"action": {"assign"}, "role": {reader.ID}})
	if rs, _ := e.db.ListGroupRoles(ctx, g); len(rs) != 1 {
		t.Errorf("group roles: %v", rs)
	}

	// Sessions: user1 signs in with the password grant; the admin signs
	// the session out from the user's tab, then everyone from the realm's.
	e.db.UpdateUser(ctx, e.demo.ID, u, func(x *user.User) error { x.RequiredActions = nil; return nil })
	signInDirect(t, e, "demo", "user1", "pw-user1")
	ss, _ := e.db.ListUserSessions(ctx, e.demo.ID, u, false)
	if len(ss) != 1 {
		t.Fatalf("sessions: %v", ss)
	}
	p = b.get(r + "/users/" + u + "/sessions")
	if !strings.Contains(p.body, ss[0].ID) {
		t.Error("the session is not listed")
	}
	post("/users/"+u+"/sessions", url.Values{"action": {"end"}, "session": {ss[0].ID}, "offline": {"false"}})
	if ss, _ := e.db.ListUserSessions(ctx, e.demo.ID, u, false); len(ss) != 0 {
		t.Errorf("session not ended: %v", ss)
	}
	signInDirect(t, e, "demo", "user1", "pw-user1")
	post("/sessions", url.Values{"action": {"all"}})
	if ss, _ := e.db.ListUserSessions(ctx, e.demo.ID, u, false); len(ss) != 0 {
		t.Errorf("logout-all left %v", ss)
	}

	// Client scopes: the realm default type, a mapper, delete.
	s := id(post("/client-scopes/new", url.Values{"name": {"info"}, "protocol": {"openid-connect"}, "type": {"none"}}))
	post("/client-scopes/"+s, url.Values{"action": {"type"}, "type": {"default"}})
	if ls, _ := e.db.ClientScopeLinks(ctx, e.demo.ID, store.RealmDefaults); !containsScope(ls, s) {
		t.Error("scope not a realm default")
	}
	if p := b.get(r + "/client-scopes"); !selected(p.body, "type-"+s, "default") {
		t.Error("scope type not shown as default")
	}
	post("/client-scopes/"+s+"/mappers", url.Values{"action": {"create"}, "type": {"oidc-hardcoded-claim-mapper"}, "name": {"tenant"},
		"claim.name": {"tenant"}, "claim.value": {"demo"}, "jsonType.label": {"String"}, "access.token.claim": {"on"}})
	sc, _ := e.db.GetClientScope(ctx, e.demo.ID, s)
	if len(sc.ProtocolMappers) != 1 || sc.ProtocolMappers[0].Config["claim.value"] != "demo" || sc.ProtocolMappers[0].Config["id.token.claim"] != "false" {
		t.Fatalf("mapper: %+v", sc.ProtocolMappers)
	}
	post("/client-scopes/"+s+"/mappers", url.Values{"action": {"delete"}, "mapper": {sc.ProtocolMappers[0].ID}})
	post("/client-scopes/"+s+"/delete", url.Values{})
	if _, err := e.db.GetClientScope(ctx, e.demo.ID, s); err == nil {
		t.Error("scope not deleted")
	}

	// A realm: create, then delete.
	p = b.submit(home, "/admin/master/console/create-realm", url.Values{"realm": {"temp"}, "enabled": {"on"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("create realm: %d %s", p.status, p.body)
	}
	if p := b.submit(home, "/admin/master/console/temp/realm-settings/delete", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("delete realm: %d", p.status)
	}
	if _, err := e.db.GetRealmByName(ctx, "temp"); err == nil {
		t.Error("realm not deleted")
	}
}

func containsScope(ls []client.ScopeLink, id string) bool {
	for _, l := range ls {
		if l.ScopeID == id {
			return true
		}
	}
	return false
}

// signInDirect starts a session for a user with the password grant of
// admin-cli.
func signInDirect(t *testing.T, e *env, realmName, username, password string) {
	t.Helper()
	res, err := http.PostForm(e.srv.URL+"/realms/"+realmName+"/protocol/openid-connect/token", url.Values{
		"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("password grant for %s: %d", username, res.StatusCode)
	}
}

// Under Keycloak's old relative path (/auth) the console, its links and its
// sign-in live under the prefix too.
func TestRelativePath(t *testing.T) {
	e := newEnvURLs(t, web.URLs{RelativePath: "/auth"})
	b := e.browser()
	p := b.get("/auth/admin/master/console/")
	if loc := p.header.Get("Location"); !strings.HasPrefix(loc, e.srv.URL+"/auth/realms/master/protocol/openid-connect/auth?") ||
		!strings.Contains(loc, url.QueryEscape(e.srv.URL+"/auth/admin/master/console/callback")) {
		t.Fatalf("login redirect %q", loc)
	}
	p = b.signIn("/auth/admin/master/console/", "admin", "admin-pw")
	if p.status != http.StatusOK || !strings.Contains(p.body, `href="/auth/admin/master/console/demo/"`) ||
		!strings.Contains(p.body, `href="/auth/resources/`) {
		t.Fatalf("realm list under /auth: %d %s", p.status, p.body)
	}
	if p := b.get("/auth/admin/master/console/demo/clients"); p.status != http.StatusOK || !strings.Contains(p.body, `href="/auth/admin/master/console/demo/clients/`) {
		t.Errorf("clients under /auth: %d", p.status)
	}
	if p := b.get("/admin/master/console/"); p.status != http.StatusNotFound {
		t.Errorf("console outside the relative path: %d", p.status)
	}
}

var submitButton = regexp.MustCompile(`<button type="submit"[^>]*>`)

// A view-only administrator meets no button that would write: the only
// submit buttons left are signing out and the forms that only read (search,
// choosing a client or a mapper type).
func TestViewOnlyPagesHaveNoWriteButtons(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	home := admin.signIn(masterConsole, "admin", "admin-pw")
	r := "/admin/master/console/demo"
	mk := func(path string, form url.Values) string {
		t.Helper()
		p := admin.submit(home, r+path, form)
		loc := strings.SplitN(p.header.Get("Location"), "?", 2)[0]
		return loc[strings.LastIndexByte(loc, '/')+1:]
	}
	client := mk("/clients/new", url.Values{"clientId": {"app"}, "accessType": {"confidential"}, "serviceAccountsEnabled": {"on"}})
	scope := mk("/client-scopes/new", url.Values{"name": {"info"}, "protocol": {"openid-connect"}, "type": {"none"}})
	u := mk("/users/new", url.Values{"username": {"user1"}, "enabled": {"on"}})
	g := mk("/groups", url.Values{"name": {"staff"}})
	mk("/roles", url.Values{"action": {"create"}, "name": {"reader"}})

	e.addUser(e.demo, "viewer", "viewer-pw", "view-realm", "view-users", "view-clients", "view-events")
	b := e.browser()
	b.signIn("/admin/demo/console/", "viewer", "viewer-pw")
	v := "/admin/demo/console/demo"
	for _, path := range []string{"/realm-settings", "/realm-settings/login", "/realm-settings/tokens", "/realm-settings/sessions",
		"/realm-settings/keys", "/clients", "/clients/" + client, "/clients/" + client + "/client-scopes", "/clients/" + client + "/roles",
		"/clients/" + client + "/scope", "/client-scopes/" + scope + "/scope", "/clients/" + client + "/sessions", "/clients/" + client + "/service-account", "/client-scopes", "/client-scopes/" + scope,
		"/client-scopes/" + scope + "/mappers", "/roles", "/roles/reader", "/groups", "/groups/" + g, "/groups/" + g + "/role-mapping",
		"/users", "/users/" + u, "/users/" + u + "/credentials", "/users/" + u + "/role-mapping", "/users/" + u + "/groups",
		"/users/" + u + "/sessions", "/users/" + u + "/consents", "/sessions", "/realm-settings/events", "/events", "/events/admin-events"} {
		p := b.get(v + path)
		if p.status != http.StatusOK {
			t.Errorf("%s: %d", path, p.status)
			continue
		}
		for _, btn := range submitButton.FindAllString(p.body, -1) {
			if !strings.Contains(btn, `id="sign-out"`) && !strings.Contains(btn, `id="search-button"`) && !strings.Contains(btn, `id="search-events"`) {
				t.Errorf("%s offers %s", path, btn)
			}
		}
	}
}

// The console refreshes the access token before it expires, for as long as
// the SSO session lives; after that, the login page asks again.
func TestSessionRefreshAndExpiry(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(masterConsole, "admin", "admin-pw")
	before := cookieValue(b, "GATEHOUSE_CONSOLE")
	for range 3 {
		e.clock.Add(4 * time.Minute) // past the access token's lifespan, within SSO idle
		p := b.get("/admin/master/console/demo/users")
		if p.status != http.StatusOK {
			t.Fatalf("after %v: %d", e.clock.Now(), p.status)
		}
	}
	if cookieValue(b, "GATEHOUSE_CONSOLE") == before {
		t.Error("the tokens were not refreshed")
	}
	e.clock.Add(31 * time.Minute) // past SSO session idle
	p := b.get("/admin/master/console/demo/users")
	if p.status != http.StatusFound || !strings.Contains(p.header.Get("Location"), "/protocol/openid-connect/auth?") {
		t.Fatalf("after SSO idle: %d %s", p.status, p.header.Get("Location"))
	}
	if p := b.follow(p); !strings.Contains(p.body, "kc-form-login") {
		t.Error("no login form after the session expired")
	}
}

func cookieValue(b *browser, name string) string {
	for _, c := range setCookies(b.t, b, masterConsole) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// Regression (issue 13): /admin/master/console/ showed a list of realms
// where Keycloak's console lands the administrator in the master realm with
// its sections; and a console path we have no page for answered the API's
// JSON 404. The realm picker stays in the header, and the list of realms a
// link away.
func TestConsoleLandsInItsRealm(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	p := b.signIn("/admin/master/console/", "admin", "admin-pw")
	if p.status != http.StatusOK || !strings.HasPrefix(p.url, e.srv.URL+"/admin/master/console/master/") {
		t.Fatalf("after sign-in: %d at %s, want a page of the master realm", p.status, p.url)
	}
	for _, want := range []string{`id="nav-realm-settings"`, `id="nav-clients"`, `id="nav-users"`, `id="realm-switch"`,
		`href="/admin/master/console/demo/"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the landing page lacks %s", want)
		}
	}
	all := b.get("/admin/master/console/realms")
	if all.status != http.StatusOK || !strings.Contains(all.body, `id="realm-list"`) || !strings.Contains(all.body, ">demo<") {
		t.Errorf("the list of realms: %d\n%s", all.status, all.body)
	}
	if !strings.Contains(p.body, `href="/admin/master/console/realms"`) {
		t.Errorf("the realm picker does not lead to the list of realms")
	}

	for _, path := range []string{"/admin/master/console/master/organizations", "/admin/master/console/demo/identity-providers/x",
		"/admin/master/console/no/such/page"} {
		p := b.get(path)
		if p.status != http.StatusNotFound || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") ||
			!strings.Contains(p.body, `id="page-title"`) {
			t.Errorf("%s: %d %s %.200s, want a console page", path, p.status, p.header.Get("Content-Type"), p.body)
		}
	}
	// Not signed in, the same paths lead to the login page first.
	if p := e.browser().get("/admin/master/console/master/organizations"); p.status != http.StatusFound {
		t.Errorf("unknown console path without a session: %d", p.status)
	}
}

// The realm's General tab turns user-managed access on and off (the
// account console's Resources page follows it).
func TestRealmUserManagedAccessSwitch(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	home := b.signIn(masterConsole, "admin", "admin-pw")
	const path = "/admin/master/console/demo/realm-settings"
	if p := b.get(path); p.status != http.StatusOK || !strings.Contains(p.body, `name="userManagedAccessAllowed"`) {
		t.Fatalf("general tab: %d, switch shown: %v", p.status, strings.Contains(p.body, `name="userManagedAccessAllowed"`))
	}
	for _, on := range []bool{true, false} {
		form := url.Values{"displayName": {"Demo"}, "enabled": {"on"}, "sslRequired": {"external"}}
		if on {
			form.Set("userManagedAccessAllowed", "on")
		}
		if p := b.submit(home, path, form); p.status != http.StatusSeeOther {
			t.Fatalf("save (on=%v): %d\n%s", on, p.status, p.body)
		}
		rl, err := e.db.GetRealm(context.Background(), e.demo.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rl.UserManagedAccessAllowed != on {
			t.Errorf("userManagedAccessAllowed = %v after saving %v", rl.UserManagedAccessAllowed, on)
		}
	}
}
