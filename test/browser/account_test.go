package browser_test

import (
	"context"
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
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// ldapDemo is Gatehouse serving story 1's realm, imported from the fixture
// the token tests use: ldap-demo, confidential client ldap-app (secret
// "password"), user1 / "password" with offline_access.
type ldapDemo struct {
	t  *testing.T
	gh *httptest.Server
	db *store.DB
}

func newLDAPDemo(t *testing.T) *ldapDemo {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t)
	now := time.Now()
	if _, err := provision.Master(ctx, db, "admin", "admin-pw", now); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "internal", "rep", "testdata", "ldap-demo-realm.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rep.ImportFile(ctx, db, data, rep.ImportOptions{Now: now}); err != nil {
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
	return &ldapDemo{t: t, gh: gh, db: db}
}

func (d *ldapDemo) url(path string) string { return d.gh.URL + "/realms/ldap-demo" + path }

// token posts to the token endpoint over HTTP, as story 1's script does;
// clientID with a secret authenticates with HTTP Basic, a public client
// sends client_id.
func (d *ldapDemo) token(form url.Values, clientID, secret string) (int, map[string]any) {
	d.t.Helper()
	if secret == "" {
		form.Set("client_id", clientID)
	}
	req, _ := http.NewRequest("POST", d.url("/protocol/openid-connect/token"), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(clientID, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// passwordGrant logs user1 in with the password grant and returns the tokens.
func (d *ldapDemo) passwordGrant(clientID, secret, password, scope string) map[string]any {
	d.t.Helper()
	st, m := d.token(url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {password}, "scope": {scope}}, clientID, secret)
	if st != 200 {
		d.t.Fatalf("password grant of %s: %d %v", clientID, st, m)
	}
	return m
}

// refresh uses a refresh token and returns the status and error.
func (d *ldapDemo) refresh(clientID, secret, rt string) (int, string) {
	d.t.Helper()
	st, m := d.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, clientID, secret)
	e, _ := m["error"].(string)
	return st, e
}

// Story 1's end: user1 holds an offline token of ldap-app, signs in to the
// account console, finds ldap-app under Applications with offline access
// and removes it; the offline token is refused from then on. user1 also
// signs out another session (a second password grant) on the device
// activity page, and changes the password, signing out the other devices.
func TestAccountConsole(t *testing.T) {
	ctx := newChromium(t)
	d := newLDAPDemo(t)

	offline := d.passwordGrant("ldap-app", "password", "password", "openid info offline_access")
	if st, e := d.refresh("ldap-app", "password", offline["refresh_token"].(string)); st != 200 {
		t.Fatalf("the offline token does not work to begin with: %d %s", st, e)
	}
	// Another session of user1, somewhere else: a password grant of the
	// realm's admin-cli.
	other := d.passwordGrant("admin-cli", "", "password", "openid")
	otherSID := other["session_state"].(string)

	do(t, ctx, "open the account console", chromedp.Navigate(d.url("/account/")), chromedp.WaitVisible(chromedp.ID("username")))
	if loc := location(t, ctx); !strings.HasPrefix(loc, d.url("/protocol/openid-connect/auth?")) || !strings.Contains(loc, "client_id=account-console") {
		t.Fatalf("the console did not send the browser to the login page: %s", loc)
	}
	signIn(t, ctx, "user1", "password")
	do(t, ctx, "personal info", chromedp.WaitVisible(chromedp.ID("personal-info-form")))
	if loc := location(t, ctx); loc != d.url("/account/") {
		t.Errorf("console address after login: %s", loc)
	}
	if h := text(t, ctx, "page-title"); h != "Personal info" {
		t.Errorf("heading %q", h)
	}
	if who := text(t, ctx, "signed-in-user"); who != "User One" {
		t.Errorf("signed in as %q", who)
	}
	if email, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("email"))); email != "user1@example.com" {
		t.Errorf("email field %q", email)
	}
	screenshot(t, ctx, "account-personal-info")

	// Applications: ldap-app holds offline access; remove it.
	do(t, ctx, "applications", chromedp.Click(chromedp.ID("nav-applications")), chromedp.WaitVisible(chromedp.ID("app-ldap-app")))
	if got := text(t, ctx, "offline-ldap-app"); got != "Offline access" {
		t.Fatalf("ldap-app's access: %q\n%s", got, pageText(t, ctx))
	}
	screenshot(t, ctx, "account-applications")
	do(t, ctx, "remove access", chromedp.Click(chromedp.ID("remove-ldap-app")), chromedp.WaitVisible(chromedp.ID("alert")))
	if got := text(t, ctx, "alert"); got != "Access was removed." {
		t.Errorf("after remove access: %q", got)
	}
	if gone, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('app-ldap-app') === null`)); !gone {
		t.Errorf("ldap-app is still listed:\n%s", pageText(t, ctx))
	}
	screenshot(t, ctx, "account-applications-removed")
	if st, e := d.refresh("ldap-app", "password", offline["refresh_token"].(string)); st != 400 || e != "invalid_grant" {
		t.Fatalf("the offline token still works after remove access: %d %q", st, e)
	}

	// Device activity: this browser and the other session; sign that out.
	do(t, ctx, "device activity", chromedp.Click(chromedp.ID("nav-device-activity")), chromedp.WaitVisible(chromedp.ID("session-"+otherSID)))
	page := pageText(t, ctx)
	for _, want := range []string{"This device", "Current session", "HeadlessChrome", "127.0.0.1", "Admin CLI", "Account Console"} {
		if !strings.Contains(page, want) {
			t.Errorf("device activity lacks %q:\n%s", want, page)
		}
	}
	screenshot(t, ctx, "account-device-activity")
	do(t, ctx, "sign out the other session", chromedp.Click(chromedp.ID("signout-"+otherSID)), chromedp.WaitVisible(chromedp.ID("alert")))
	if got := text(t, ctx, "alert"); got != "The session was signed out." {
		t.Errorf("after sign out: %q", got)
	}
	if gone, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('session-`+otherSID+`') === null`)); !gone {
		t.Errorf("the signed-out session is still listed")
	}
	if st, e := d.refresh("admin-cli", "", other["refresh_token"].(string)); st != 400 || e != "invalid_grant" {
		t.Errorf("the signed-out session still refreshes: %d %q", st, e)
	}

	// Signing in: change the password and sign out the other devices.
	third := d.passwordGrant("admin-cli", "", "password", "openid")
	do(t, ctx, "signing in", chromedp.Click(chromedp.ID("nav-signing-in")), chromedp.WaitVisible(chromedp.ID("change-password-form")))
	screenshot(t, ctx, "account-signing-in")
	do(t, ctx, "change the password",
		chromedp.SendKeys(chromedp.ID("password"), "password"),
		chromedp.SendKeys(chromedp.ID("password-new"), "a-brand-new-password"),
		chromedp.SendKeys(chromedp.ID("password-confirm"), "a-brand-new-password"),
		chromedp.Click(chromedp.ID("logout-sessions")),
		chromedp.Click(chromedp.ID("save-password")),
		chromedp.WaitVisible(chromedp.ID("alert")))
	if got := text(t, ctx, "alert"); got != "Your password has been updated." {
		t.Fatalf("after the password change: %q\n%s", got, pageText(t, ctx))
	}
	screenshot(t, ctx, "account-password-changed")
	if st, _ := d.token(url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {"password"}}, "ldap-app", "password"); st == 200 {
		t.Error("the old password still works")
	}
	d.passwordGrant("ldap-app", "password", "a-brand-new-password", "openid")
	if st, e := d.refresh("admin-cli", "", third["refresh_token"].(string)); st != 400 || e != "invalid_grant" {
		t.Errorf("\"sign out from other devices\" left a session: %d %q", st, e)
	}
	// The console's own session lives on, and the console fits a phone.
	do(t, ctx, "on a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Click(chromedp.ID("nav-device-activity")), chromedp.WaitVisible(chromedp.ID("signed-in-user")))
	if wide, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); wide {
		t.Error("the console scrolls sideways on a 390 px wide screen")
	}
	screenshot(t, ctx, "account-device-activity-mobile")
}
