package browser_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// The console's identity providers section in a real browser: a GitHub
// provider added through the "Add provider" menu, an OpenID Connect one
// whose form Enter saves (the hidden default button, not Import), and a
// mapper added on its Mappers tab. Screenshots: console-identity-providers,
// console-identity-provider-oidc, console-identity-provider-mapper.
func TestConsoleIdentityProviders(t *testing.T) {
	ctx := newChromium(t)
	db := storetest.Open(t)
	if _, err := provision.Master(context.Background(), db, "admin", "admin-pw", time.Now()); err != nil {
		t.Fatal(err)
	}
	master, err := db.GetRealmByName(context.Background(), "master")
	if err != nil {
		t.Fatal(err)
	}
	gh := httptest.NewServer(server.New(server.Options{Store: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(gh.Close)
	c := &consoleBrowser{t: t, ctx: ctx, base: gh.URL, db: db}

	c.open("/admin/master/console/master/identity-providers")
	signIn(t, ctx, "admin", "admin-pw")
	c.waitFor("no-providers")
	do(t, ctx, "open the add menu", chromedp.Evaluate[chromedp.Void](`document.querySelector('#add-provider-menu summary').click()`))
	c.click("add-github")
	c.set("f-config.clientId", "gh-client")
	c.set("f-config.clientSecret", "gh-secret")
	c.set("f-config.guiOrder", "2")
	c.submit("save-provider")
	c.notice("Created.")
	if got := c.value("f-redirectUri"); got != gh.URL+"/realms/master/broker/github/endpoint" {
		t.Errorf("redirect URI %q", got)
	}
	if c.value("f-config.clientSecret") != "" {
		t.Error("the secret is shown")
	}
	p, err := db.GetIdentityProvider(context.Background(), master.ID, "github")
	if err != nil || p.Config["clientSecret"] != "gh-secret" || p.Config["guiOrder"] != "2" {
		t.Fatalf("github stored: %v %+v", err, p)
	}

	// Enter in a field of the OpenID Connect form saves it.
	c.open("/admin/master/console/master/identity-providers/oidc/add")
	c.set("f-alias", "corp")
	c.set("f-config.authorizationUrl", "https://idp.example.com/auth")
	c.set("f-config.tokenUrl", "https://idp.example.com/token")
	c.set("f-config.jwksUrl", "https://idp.example.com/jwks")
	c.shot("console-identity-provider-oidc")
	c.mark()
	do(t, ctx, "type the client id and press Enter", chromedp.SendKeys(chromedp.CSS(`[id="f-config.clientId"]`), "corp-client"+kb.Enter))
	c.loaded()
	c.notice("Created.")
	if p, err := db.GetIdentityProvider(context.Background(), master.ID, "corp"); err != nil || p.Config["clientId"] != "corp-client" {
		t.Fatalf("corp stored: %v %+v", err, p)
	}

	// A mapper on the Mappers tab.
	c.click("tab-mappers")
	c.click("add-mapper")
	c.selectByText("f-type", "Hardcoded Attribute")
	c.click("choose-type")
	c.set("f-name", "department")
	c.set("f-attribute", "department")
	c.set("f-attribute.value", "sales")
	c.shot("console-identity-provider-mapper")
	c.submit("save-mapper")
	c.notice("Created.")
	ms, err := db.ListIdentityProviderMappers(context.Background(), master.ID, "corp")
	if err != nil || len(ms) != 1 || ms[0].Config["attribute.value"] != "sales" {
		t.Fatalf("mappers: %v %+v", err, ms)
	}

	c.open("/admin/master/console/master/identity-providers")
	c.waitFor("identity-providers")
	c.shot("console-identity-providers")
	c.confirmDialogs()
	c.click("delete-corp")
	c.notice("Deleted.")
	if _, err := db.GetIdentityProvider(context.Background(), master.ID, "corp"); err == nil {
		t.Error("corp not deleted")
	}
}

// The account console's linked accounts in a real browser: the user's link
// to GitHub with its username, the corporate provider offered for linking
// through the broker, and unlinking GitHub. Screenshot:
// account-linked-accounts.
func TestAccountLinkedAccounts(t *testing.T) {
	ctx := newChromium(t)
	d := newLDAPDemo(t)
	bg := context.Background()
	rl, err := d.db.GetRealmByName(bg, "ldap-demo")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []idp.Provider{idp.New("github", "github"), idp.New("corp", "oidc")} {
		p.Config = map[string]string{"clientId": "c", "clientSecret": "s"}
		if p.Alias == "corp" {
			p.DisplayName = "Corporate"
			p.Config["authorizationUrl"], p.Config["tokenUrl"] = "https://idp.example.com/auth", "https://idp.example.com/token"
		}
		if _, err := d.db.CreateIdentityProvider(bg, rl.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	const user1 = "a1a1a1a1-5555-4d4d-8e8e-000000000001"
	if err := d.db.AddFederatedIdentity(bg, rl.ID, idp.FederatedIdentity{UserID: user1, Alias: "github", FederatedUserID: "gh-1",
		FederatedUsername: "octocat"}); err != nil {
		t.Fatal(err)
	}

	do(t, ctx, "open the linked accounts", chromedp.Navigate(d.url("/account/account-security/linked-accounts")), chromedp.WaitVisible(chromedp.ID("username")))
	signIn(t, ctx, "user1", "password")
	do(t, ctx, "linked accounts", chromedp.WaitVisible(chromedp.ID("linked-github")))
	if got := text(t, ctx, "linked-github"); !strings.Contains(got, "GitHub") || !strings.Contains(got, "Linked as octocat") {
		t.Errorf("github card: %q", got)
	}
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('link-corp').href`))
	if err != nil || !strings.HasPrefix(href, d.url("/broker/corp/link?nonce=")) || !strings.Contains(href, "client_id=account-console") {
		t.Errorf("link of corp: %q %v", href, err)
	}
	screenshot(t, ctx, "account-linked-accounts")
	do(t, ctx, "accept confirmations", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`))
	do(t, ctx, "unlink github", chromedp.Click(chromedp.ID("unlink-github")), chromedp.WaitVisible(chromedp.ID("alert")))
	if got := text(t, ctx, "alert"); got != "The account was unlinked." {
		t.Errorf("after unlink: %q", got)
	}
	if fs, err := d.db.ListFederatedIdentities(bg, rl.ID, user1); err != nil || len(fs) != 0 {
		t.Errorf("links after unlink: %v %+v", err, fs)
	}
}
