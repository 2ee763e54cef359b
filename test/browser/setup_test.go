// Package browser holds the flows a person (or keycloak-js) runs in a real
// browser: Debian's headless chromium, driven with chromedp, against the
// whole server over HTTP and a tiny relying party served by the test.
//
// Without /usr/bin/chromium the tests skip, saying so; with
// GATEHOUSE_TEST_REQUIRE_ALL set (CI) they fail instead. The keycloak-js
// test also needs `npm ci` run in this directory.
package browser_test

import (
	"context"
	"encoding/json"
	"errors"
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

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

const (
	chromiumPath  = "/usr/bin/chromium"
	realmName     = "demo"
	alicePassword = "alice-browser-pw"
	clientSecret  = "rp-secret"
)

// required fails the test when CI demands every dependency, else skips it.
func required(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv(storetest.RequireEnv) != "" {
		t.Fatalf("%s, and %s requires the browser tests", msg, storetest.RequireEnv)
	}
	t.Skip(msg + "; skipping the browser test")
}

// newChromium starts a headless chromium with a fresh profile and returns a
// context whose actions drive its first tab.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		required(t, chromiumPath+" is missing (apt-get install chromium)")
	}
	profile, err := os.MkdirTemp("", "gatehouse-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1100, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc() // waits for the browser to exit
		// Chromium's helpers may still write for a moment after it exits.
		for range 20 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// stack is Gatehouse and a relying party, each on its own loopback port.
type stack struct {
	t     *testing.T
	db    *store.DB
	realm realm.Realm
	gh    *httptest.Server // Gatehouse
	rp    *relyingParty
}

func (s *stack) issuer() string { return s.gh.URL + "/realms/" + realmName }

// newStack provisions realm "demo" with user alice and the relying party's
// clients, and serves both.
func newStack(t *testing.T) *stack {
	t.Helper()
	return newStackWith(t, nil)
}

// newStackWith is newStack with Gatehouse's server options edited by opts.
func newStackWith(t *testing.T, opts func(*server.Options)) *stack {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t)
	now := time.Now()
	if _, err := provision.Master(ctx, db, "admin", "admin-pw", now); err != nil {
		t.Fatal(err)
	}
	rl := realm.New(store.NewID(), realmName)
	rl.DisplayName = "Gatehouse Demo"
	rl.RememberMe = true
	if err := provision.NewRealm(ctx, db, rl, now); err != nil {
		t.Fatal(err)
	}
	rl, _ = db.GetRealm(ctx, rl.ID)
	logDir := filepath.Join(t.TempDir(), "gatehouse.log")
	logFile, err := os.Create(logDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	so := server.Options{Store: db, Log: slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if opts != nil {
		opts(&so)
	}
	gh := httptest.NewServer(server.New(so))
	t.Cleanup(gh.Close)
	s := &stack{t: t, db: db, realm: rl, gh: gh}
	s.rp = newRelyingParty(t, s)

	u := user.User{ID: store.NewID(), RealmID: rl.ID, Username: "alice", Email: "alice@example.com",
		FirstName: "Alice", LastName: "Liddell", Enabled: true, EmailVerified: true, CreatedTimestamp: now.UnixMilli()}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := db.AddUserRoles(ctx, u.ID, rl.DefaultRoleID); err != nil {
		t.Fatal(err)
	}
	cred, err := user.NewPasswordCredential(store.NewID(), u.ID, alicePassword, now.UnixMilli(), user.HashPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCredential(ctx, cred); err != nil {
		t.Fatal(err)
	}
	for _, app := range []struct {
		id      string
		public  bool
		consent bool
	}{{"app-one", false, false}, {"app-two", false, false}, {"consent-app", false, true}, {"js-app", true, false}} {
		c := client.New(store.NewID(), rl.ID, app.id)
		c.Name = strings.ToUpper(app.id[:1]) + strings.ReplaceAll(app.id[1:], "-", " ")
		c.PublicClient, c.ConsentRequired = app.public, app.consent
		if !app.public {
			c.Secret = clientSecret
		}
		path := "/" + app.id + "/*"
		if app.id == "js-app" {
			path = "/kc/*"
			c.Attributes["pkce.code.challenge.method"] = "S256"
		}
		c.RedirectURIs = []string{s.rp.srv.URL + path}
		c.WebOrigins = []string{"+"}
		c.Attributes["post.logout.redirect.uris"] = "+"
		if err := provision.CreateClient(ctx, db, c, now); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// requireCodeGrant skips (or, in CI, fails) a test that exchanges codes
// while the token endpoint cannot yet redeem them: the authorization_code
// grant lands in package oidc separately from the login pages.
func (s *stack) requireCodeGrant(t *testing.T) {
	t.Helper()
	res, err := http.PostForm(s.issuer()+"/protocol/openid-connect/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {"probe"}, "client_id": {"app-one"},
		"client_secret": {clientSecret}, "redirect_uri": {s.rp.srv.URL + "/app-one/callback"}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("token endpoint probe: %v", err)
	}
	if body.Error == "unsupported_grant_type" {
		required(t, "the token endpoint does not redeem authorization codes yet (grant_type=authorization_code)")
	}
}

// screenshot saves the current page under test-output/screenshots.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "..", "test-output", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// do runs browser actions, failing the test with what the page showed.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("%s: %v\nat %s\n%s", what, err, loc, body)
	}
}

// text returns the text of the element with the given id.
func text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		t.Fatalf("text of #%s: %v", id, err)
	}
	return strings.TrimSpace(s)
}

// location is the URL of the current page.
func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// signIn fills and sends the login form the browser shows.
func signIn(t *testing.T, ctx context.Context, username, password string) {
	t.Helper()
	do(t, ctx, "sign in",
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('username').value = ''`),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("kc-login")),
	)
}
