package browser_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// The admin console, as story 1 uses it: the bootstrap admin creates realm
// ldap-demo, tunes its sessions (SSO idle 1 minute, offline idle 60 days),
// creates the confidential client ldap-app and user1 with a password and
// offline_access; a script gets an offline token over HTTP; the admin
// revokes it in user1's consents tab and the script's next refresh is
// refused. Then a view-only administrator of ldap-demo signs in to the
// realm's own console, sees the realm, finds no save button, and a POST
// forged with their own CSRF token is refused. Every page is saved as
// test-output/screenshots/console-*.png.
func TestAdminConsole(t *testing.T) {
	ctx := newChromium(t)
	db := storetest.Open(t)
	if _, err := provision.Master(context.Background(), db, "admin", "admin-pw", time.Now()); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(t.TempDir(), "gatehouse.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	gh := httptest.NewServer(server.New(server.Options{Store: db,
		Log: slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))}))
	t.Cleanup(gh.Close)
	c := &consoleBrowser{t: t, ctx: ctx, base: gh.URL, db: db}

	// Sign in as the bootstrap admin and create the realm.
	// The console opens the master realm, as Keycloak's does; the list of
	// realms is a link away.
	c.open("/admin/master/console/")
	signIn(t, ctx, "admin", "admin-pw")
	c.waitFor("nav-realm-settings")
	if loc := c.location(); !strings.HasSuffix(loc, "/admin/master/console/master/realm-settings") {
		t.Errorf("admin landed at %s", loc)
	}
	c.open("/admin/master/console/realms")
	c.waitFor("realm-list")
	c.shot("console-realms")
	c.click("create-realm")
	c.waitFor("create-realm-form")
	c.set("f-realm", "ldap-demo")
	c.shot("console-create-realm")
	c.submit("save")
	c.notice("Created.")
	c.shot("console-realm-general")

	c.open("/admin/master/console/ldap-demo/realm-settings/login")
	c.shot("console-realm-login")

	// Events: the realm saves user events, and admin events with their
	// representations.
	c.open("/admin/master/console/ldap-demo/realm-settings/events")
	c.check("f-eventsEnabled", true)
	c.check("f-adminEventsEnabled", true)
	c.check("f-adminEventsDetailsEnabled", true)
	c.submit("save")
	c.notice("Your changes have been saved.")
	c.shot("console-realm-events")

	// Tokens: access tokens of 1 minute, as in the story.
	c.open("/admin/master/console/ldap-demo/realm-settings/tokens")
	c.set("f-accessTokenLifespan", "1")
	c.set("u-accessTokenLifespan", "60")
	c.submit("save")
	c.notice("Your changes have been saved.")
	c.shot("console-realm-tokens")

	// Sessions: SSO idle 1 minute, offline idle 60 days.
	c.open("/admin/master/console/ldap-demo/realm-settings/sessions")
	c.set("f-ssoSessionIdleTimeout", "1")
	c.set("u-ssoSessionIdleTimeout", "60")
	c.set("f-offlineSessionIdleTimeout", "60")
	c.set("u-offlineSessionIdleTimeout", "86400")
	c.submit("save")
	c.notice("Your changes have been saved.")
	c.shot("console-realm-sessions")
	// The same page on a phone: the navigation moves above the form.
	do(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844))
	c.shot("console-realm-sessions-mobile")
	do(t, ctx, "desktop viewport", chromedp.EmulateViewport(1100, 900))
	rl, err := db.GetRealmByName(context.Background(), "ldap-demo")
	if err != nil {
		t.Fatal(err)
	}
	if rl.SSOSessionIdleTimeout != 60 || rl.OfflineSessionIdleTimeout != 60*24*3600 || rl.AccessTokenLifespan != 60 {
		t.Fatalf("realm: SSO idle %d, offline idle %d, access token %d", rl.SSOSessionIdleTimeout, rl.OfflineSessionIdleTimeout, rl.AccessTokenLifespan)
	}
	if got := c.value("f-offlineSessionIdleTimeout"); got != "60" || c.value("u-offlineSessionIdleTimeout") != "86400" {
		t.Errorf("offline idle shown as %s in unit %s", got, c.value("u-offlineSessionIdleTimeout"))
	}

	c.open("/admin/master/console/ldap-demo/realm-settings/keys")
	c.waitFor("keys")
	c.shot("console-realm-keys")

	// A custom client scope "info", optional for clients that ask for it.
	c.open("/admin/master/console/ldap-demo/client-scopes")
	c.click("create-client-scope")
	c.waitFor("client-scope-form")
	c.set("f-name", "info")
	c.set("f-type", "optional")
	c.submit("save")
	c.notice("Created.")
	c.shot("console-client-scope")
	c.click("tab-mappers")
	c.waitFor("choose-mapper-type")
	c.set("f-mapper-type", "oidc-hardcoded-claim-mapper")
	c.submit("configure-mapper")
	c.waitFor("create-mapper-form")
	c.set("f-name", "info")
	c.set("f-claim.name", "info")
	c.set("f-claim.value", "ldap-demo")
	c.submit("create-mapper")
	c.notice("Created.")
	c.shot("console-client-scope-mappers")
	c.open("/admin/master/console/ldap-demo/client-scopes")
	c.shot("console-client-scopes")

	// The confidential client ldap-app with direct access grants.
	c.open("/admin/master/console/ldap-demo/clients")
	c.click("create-client")
	c.waitFor("client-form")
	c.set("f-clientId", "ldap-app")
	c.set("f-accessType", "confidential")
	c.check("f-directAccessGrantsEnabled", true)
	c.shot("console-client-create")
	c.submit("save")
	c.notice("Created.")
	c.shot("console-client-settings")
	c.click("tab-credentials")
	c.waitFor("client-secret")
	secret := c.value("client-secret")
	if len(secret) != 32 {
		t.Fatalf("client secret %q", secret)
	}
	c.shot("console-client-credentials")
	c.click("tab-client-scopes")
	c.waitFor("client-scopes")
	// info is an optional scope of every new client of the realm; take it
	// away and give it back.
	if !strings.Contains(c.text("client-scopes"), "info\tOptional") {
		t.Errorf("ldap-app did not get the realm's optional scope info:\n%s", c.text("client-scopes"))
	}
	c.clickButton("Remove info")
	c.notice("Removed.")
	c.selectByText("f-scope", "info")
	c.set("f-kind", "optional")
	c.submit("add-scope")
	c.notice("Assigned.")
	c.shot("console-client-client-scopes")
	c.click("tab-roles")
	c.waitFor("create-role-form")
	c.set("f-name", "reader")
	c.submit("create-role")
	c.notice("Created.")
	c.shot("console-client-roles")
	c.open("/admin/master/console/ldap-demo/clients")
	c.shot("console-clients")

	// A second client with a service account, for its roles tab.
	c.click("create-client")
	c.waitFor("client-form")
	c.set("f-clientId", "ldap-sync")
	c.set("f-accessType", "confidential")
	c.check("f-standardFlowEnabled", false)
	c.check("f-serviceAccountsEnabled", true)
	c.submit("save")
	c.notice("Created.")
	c.click("tab-service-account")
	c.waitFor("assign-realm-roles")
	c.shot("console-client-service-account")

	// user1 with a password and offline_access.
	c.open("/admin/master/console/ldap-demo/users")
	c.click("create-user")
	c.waitFor("user-form")
	c.set("f-username", "user1")
	c.set("f-email", "user1@example.com")
	c.set("f-firstName", "User")
	c.set("f-lastName", "One")
	c.submit("save")
	c.notice("Created.")
	c.shot("console-user-details")
	user1 := c.location()
	c.click("tab-credentials")
	c.waitFor("password-form")
	c.set("f-password", "password")
	c.set("f-passwordConfirm", "password")
	c.check("f-temporary", false)
	c.submit("set-password")
	c.notice("The password has been set.")
	c.shot("console-user-credentials")
	c.click("tab-role-mapping")
	c.waitFor("assign-realm-roles")
	c.selectByText("f-realm-role", "offline_access")
	c.submit("assign-realm")
	c.notice("Assigned.")
	if !strings.Contains(c.text("role-mappings"), "offline_access") {
		t.Fatalf("offline_access not assigned:\n%s", pageText(t, ctx))
	}
	c.shot("console-user-role-mapping")

	// A group with user1 in it, and a realm role.
	c.open("/admin/master/console/ldap-demo/groups")
	c.set("f-name", "ldap-users")
	c.submit("create-group")
	c.notice("Created.")
	c.set("f-username", "user1")
	c.submit("add-member")
	c.notice("Added to the group.")
	c.shot("console-group")
	c.click("tab-role-mapping")
	c.waitFor("assign-realm-roles")
	c.shot("console-group-role-mapping")
	c.open("/admin/master/console/ldap-demo/groups")
	c.shot("console-groups")
	c.open(strings.TrimPrefix(user1, c.base) + "/groups")
	c.waitFor("user-groups")
	c.shot("console-user-groups")
	c.open("/admin/master/console/ldap-demo/roles")
	c.set("f-name", "auditor")
	c.submit("create-role")
	c.notice("Created.")
	c.shot("console-roles")
	c.open("/admin/master/console/ldap-demo/roles/auditor")
	c.selectByText("f-composite", "offline_access")
	c.submit("add-composite")
	c.notice("Assigned.")
	c.shot("console-role")

	// The script of story 1: an offline token through the direct access
	// grant, which refreshes.
	tokenURL := gh.URL + "/realms/ldap-demo/protocol/openid-connect/token"
	tok := postToken(t, tokenURL, url.Values{"grant_type": {"password"}, "client_id": {"ldap-app"}, "client_secret": {secret},
		"username": {"user1"}, "password": {"password"}, "scope": {"openid info offline_access"}})
	offline, _ := tok["refresh_token"].(string)
	claims := jwtClaims(t, offline)
	if claims["typ"] != "Offline" || !strings.Contains(claims["scope"].(string), "info") {
		t.Fatalf("refresh token claims: %v", claims)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {"ldap-app"}, "client_secret": {secret}, "refresh_token": {offline}}
	postToken(t, tokenURL, refresh)

	// The script's login is on the Events page; the admin's changes are on
	// its Admin events tab.
	c.open("/admin/master/console/ldap-demo/events")
	c.waitFor("user-events")
	if got := c.text("user-events"); !strings.Contains(got, "LOGIN") || !strings.Contains(got, "ldap-app") {
		t.Errorf("user events:\n%s", got)
	}
	c.shot("console-events")
	// The search opens in place and narrows the table to the client.
	do(t, ctx, "open the search", chromedp.Click(chromedp.ID("event-search-toggle")))
	c.set("filter-client", "ldap-sync")
	c.submit("search-events")
	c.waitFor("no-events")
	c.shot("console-events-search")
	c.click("tab-admin-events")
	c.waitFor("admin-events")
	if got := c.text("admin-events"); !strings.Contains(got, "roles/auditor") || !strings.Contains(got, "CREATE") {
		t.Errorf("admin events:\n%s", got)
	}
	c.shot("console-admin-events")

	// The offline session shows in the sessions pages and the consents tab.
	c.open(strings.TrimPrefix(user1, c.base) + "/sessions")
	c.waitFor("sessions")
	if !strings.Contains(c.text("sessions"), "Offline") {
		t.Errorf("user1's sessions do not show the offline session:\n%s", pageText(t, ctx))
	}
	c.shot("console-user-sessions")
	c.open("/admin/master/console/ldap-demo/sessions")
	c.waitFor("sessions")
	c.shot("console-sessions")
	c.open("/admin/master/console/ldap-demo/clients")
	c.clickLink("ldap-app")
	c.click("tab-sessions")
	c.waitFor("sessions")
	c.shot("console-client-sessions")

	// Revoke the offline token in the consents tab; the script is refused.
	c.open(strings.TrimPrefix(user1, c.base) + "/consents")
	c.waitFor("consents")
	if !strings.Contains(c.text("consent-ldap-app"), "Offline Token") {
		t.Fatalf("consents tab:\n%s", pageText(t, ctx))
	}
	c.shot("console-user-consents")
	// console.js, allowed by the page's CSP, asks first: "no" sends nothing.
	do(t, ctx, "decline the revocation", chromedp.Evaluate[chromedp.Void](`window.confirm = () => false;
		window.__consoleTestOld = true; document.getElementById('revoke-ldap-app').click()`), chromedp.Sleep(300*time.Millisecond))
	if !c.exists("revoke-ldap-app") || !c.stillOld() {
		t.Fatal("a declined confirmation still revoked")
	}
	c.confirmDialogs()
	c.submit("revoke-ldap-app")
	c.notice("Access revoked.")
	c.waitFor("no-consents")
	c.shot("console-user-consents-revoked")
	status, body := postForm(t, tokenURL, refresh)
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("refresh after revocation: %d %v", status, body)
	}

	// A view-only administrator of ldap-demo, made in the console: a user
	// with view-realm, view-users and view-clients of realm-management.
	c.open("/admin/master/console/ldap-demo/users/new")
	c.set("f-username", "viewer")
	c.submit("save")
	c.notice("Created.")

	c.click("tab-credentials")
	c.waitFor("password-form")
	c.set("f-password", "viewer-pw")
	c.set("f-passwordConfirm", "viewer-pw")
	c.check("f-temporary", false)
	c.submit("set-password")
	c.notice("The password has been set.")
	c.click("tab-role-mapping")
	c.waitFor("choose-client")
	c.selectByText("f-client", "realm-management")
	c.submit("show-client-roles")
	c.waitFor("assign-client-roles")
	c.selectByText("f-client-role", "view-realm", "view-users", "view-clients")
	c.submit("assign-client")
	c.notice("Assigned.")
	c.shot("console-user-role-mapping-client")
	if got := c.text("role-mappings"); !strings.Contains(got, "view-realm") || !strings.Contains(got, "view-clients") {
		t.Fatalf("viewer's roles: %s", got)
	}

	c.submit("sign-out")
	c.waitFor("kc-form-login")

	c.open("/admin/ldap-demo/console/")
	signIn(t, ctx, "viewer", "viewer-pw")
	c.waitFor("read-only")
	if loc := c.location(); !strings.HasSuffix(loc, "/admin/ldap-demo/console/ldap-demo/realm-settings") {
		t.Errorf("viewer landed at %s", loc)
	}
	c.shot("console-view-only")
	c.open("/admin/ldap-demo/console/ldap-demo/realm-settings/sessions")
	c.waitFor("read-only")
	if c.exists("save") {
		t.Error("the view-only admin has a save button")
	}
	c.shot("console-view-only-sessions")
	// A forged POST, with the viewer's own valid CSRF token, is refused by
	// the admin API; one without the token by the console.
	for name, js := range map[string]string{
		"with token":    `document.querySelector('input[name=csrf]').value`,
		"without token": `''`,
	} {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(async () => {
			// The whole form as it would be sent, were it not disabled.
			const body = new URLSearchParams();
			for (const el of document.getElementById('settings-form').elements) {
				if (el.name && (el.type !== 'checkbox' || el.checked)) body.set(el.name, el.value);
			}
			body.set('csrf', `+js+`);
			body.set('ssoSessionIdleTimeout', '5');
			body.set('ssoSessionIdleTimeout.unit', '86400');
			const r = await fetch('/admin/ldap-demo/console/ldap-demo/realm-settings/sessions', {method: 'POST', body, redirect: 'manual'});
			return r.status;
		})()`, chromedp.EvalAwaitPromise))
		if err != nil || got != http.StatusForbidden {
			t.Errorf("forged POST %s: %d %v", name, got, err)
		}
	}
	if rl, _ := db.GetRealmByName(context.Background(), "ldap-demo"); rl.SSOSessionIdleTimeout != 60 {
		t.Errorf("the view-only admin changed SSO idle to %d", rl.SSOSessionIdleTimeout)
	}
	c.open("/admin/ldap-demo/console/ldap-demo/users")
	c.waitFor("users")
	if c.exists("create-user") {
		t.Error("the view-only admin may add users")
	}
	c.shot("console-view-only-users")
}

// consoleBrowser drives the console in chromium.
type consoleBrowser struct {
	t    *testing.T
	ctx  context.Context
	base string
	db   *store.DB
}

func (c *consoleBrowser) open(path string) {
	c.t.Helper()
	do(c.t, c.ctx, "open "+path, chromedp.Navigate(c.base+path))
	c.loaded()
}

func (c *consoleBrowser) waitFor(id string) {
	c.t.Helper()
	do(c.t, c.ctx, "wait for #"+id, chromedp.WaitReady(chromedp.ID(id)))
}

func (c *consoleBrowser) exists(id string) bool {
	c.t.Helper()
	ok, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](`document.getElementById(`+quoteJS(id)+`) !== null`))
	if err != nil {
		c.t.Fatal(err)
	}
	return ok
}

// click clicks an element that leads to another page and waits for it.
func (c *consoleBrowser) click(id string) {
	c.t.Helper()
	c.mark()
	do(c.t, c.ctx, "click #"+id, chromedp.Click(chromedp.ID(id)))
	c.loaded()
}

// clickLink follows the link with this text.
func (c *consoleBrowser) clickLink(text string) {
	c.t.Helper()
	c.mark()
	do(c.t, c.ctx, "follow "+text, chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('main a')].find(a => a.textContent.trim() === `+quoteJS(text)+`).click()`))
	c.loaded()
}

// clickButton presses the button with this accessible name (aria-label).
func (c *consoleBrowser) clickButton(label string) {
	c.t.Helper()
	c.mark()
	do(c.t, c.ctx, "press "+label, chromedp.Evaluate[chromedp.Void](`document.querySelector('button[aria-label='+`+quoteJS(quoteJS(label))+`+']').click()`))
	c.loaded()
}

// submit presses a form's button and waits for the page that answers.
func (c *consoleBrowser) submit(id string) { c.t.Helper(); c.click(id) }

// mark tags the current document, so that loaded can tell a new one.
func (c *consoleBrowser) mark() {
	c.t.Helper()
	do(c.t, c.ctx, "mark page", chromedp.Evaluate[chromedp.Void](`window.__consoleTestOld = true`))
}

// loaded waits for a new, complete document.
func (c *consoleBrowser) loaded() {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](`typeof window.__consoleTestOld === 'undefined' && document.readyState === 'complete'`))
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("no new page loaded, at %s\n%s", location(c.t, c.ctx), pageText(c.t, c.ctx))
}

// stillOld reports whether the document marked by mark is still shown.
func (c *consoleBrowser) stillOld() bool {
	c.t.Helper()
	old, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](`window.__consoleTestOld === true`))
	return err == nil && old
}

// notice checks the page says what the last action did.
func (c *consoleBrowser) notice(want string) {
	c.t.Helper()
	if !c.exists("notice") {
		c.t.Fatalf("no notice %q at %s\n%s", want, location(c.t, c.ctx), pageText(c.t, c.ctx))
	}
	if got := text(c.t, c.ctx, "notice"); got != want {
		c.t.Fatalf("notice %q, want %q, at %s\n%s", got, want, location(c.t, c.ctx), pageText(c.t, c.ctx))
	}
}

// set sets an input's or a select's value.
func (c *consoleBrowser) set(id, value string) {
	c.t.Helper()
	// By getElementById: the ids of mapper settings hold dots, which a CSS
	// selector would read as classes.
	ok, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](`(() => {
		const el = document.getElementById(`+quoteJS(id)+`);
		if (!el) return false;
		el.value = `+quoteJS(value)+`;
		return el.value === `+quoteJS(value)+`;
	})()`))
	if err != nil || !ok {
		c.t.Fatalf("set #%s to %q: %v\n%s", id, value, err, pageText(c.t, c.ctx))
	}
}

func (c *consoleBrowser) check(id string, on bool) {
	c.t.Helper()
	v := "false"
	if on {
		v = "true"
	}
	do(c.t, c.ctx, "check #"+id, chromedp.Evaluate[chromedp.Void](`document.getElementById(`+quoteJS(id)+`).checked = `+v))
}

// selectByText selects the options of a select with these texts.
func (c *consoleBrowser) selectByText(id string, texts ...string) {
	c.t.Helper()
	js, _ := json.Marshal(texts)
	n, err := chromedp.Run(c.ctx, chromedp.Evaluate[int](`(() => {
		const want = `+string(js)+`;
		const sel = document.getElementById(`+quoteJS(id)+`);
		const opts = [...sel.options];
		if (!sel.multiple) {
			const o = opts.find(o => want.includes(o.textContent.trim()));
			if (o) sel.value = o.value;
			return o ? 1 : 0;
		}
		let n = 0;
		for (const o of opts) {
			o.selected = want.includes(o.textContent.trim());
			if (o.selected) n++;
		}
		return n;
	})()`))
	if err != nil || n != len(texts) {
		c.t.Fatalf("select %v in #%s: %d selected, %v\n%s", texts, id, n, err, pageText(c.t, c.ctx))
	}
}

func (c *consoleBrowser) value(id string) string {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`document.getElementById(`+quoteJS(id)+`).value`))
	if err != nil {
		c.t.Fatalf("value of #%s: %v", id, err)
	}
	return v
}

func (c *consoleBrowser) text(id string) string { c.t.Helper(); return text(c.t, c.ctx, id) }

func (c *consoleBrowser) location() string {
	c.t.Helper()
	return strings.SplitN(location(c.t, c.ctx), "?", 2)[0]
}

// confirmDialogs answers the next page's "are you sure?" questions with yes.
func (c *consoleBrowser) confirmDialogs() {
	c.t.Helper()
	do(c.t, c.ctx, "accept confirmations", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`))
}

func (c *consoleBrowser) shot(name string) {
	c.t.Helper()
	screenshot(c.t, c.ctx, name)
}

func quoteJS(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// postForm posts to a token endpoint and decodes the JSON answer.
func postForm(t *testing.T, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	res, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("token answer: %v", err)
	}
	return res.StatusCode, body
}

func postToken(t *testing.T, u string, form url.Values) map[string]any {
	t.Helper()
	status, body := postForm(t, u, form)
	if status != http.StatusOK {
		t.Fatalf("token request (%s): %d %v", form.Get("grant_type"), status, body)
	}
	return body
}

// jwtClaims reads a JWT's payload without verifying it.
func jwtClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
