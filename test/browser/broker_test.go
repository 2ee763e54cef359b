package browser_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	execpkg "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// The upstream identity provider of the brokering stories is another
// Gatehouse: the binary built from this tree, run as its own process on
// its own port with realm "corp" imported, reached over real HTTP.
const (
	upstreamSecret   = "corp-broker-secret-0123456789abcdef"
	upstreamPassword = "ann-upstream-pw"
)

var (
	buildOnce   sync.Once
	builtBinary string
	buildErr    error
)

// gatehouseBinary builds cmd/gatehouse once per test run.
func gatehouseBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gatehouse-browser-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBinary = filepath.Join(dir, "gatehouse")
		cmd := execpkg.Command("go", "build", "-o", builtBinary, "github.com/gatehouse-iam/gatehouse/cmd/gatehouse")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = err
			t.Logf("go build: %s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build gatehouse: %v", buildErr)
	}
	return builtBinary
}

// upstream is the second Gatehouse process.
type upstream struct {
	base string // http://127.0.0.1:port
	logs *strings.Builder
}

func (u *upstream) issuer() string { return u.base + "/realms/corp" }

// startUpstream imports realm corp (user ann, client gatehouse-demo whose
// redirect URI is the broker endpoint at downstream) and serves it.
func startUpstream(t *testing.T, downstream string) *upstream {
	t.Helper()
	return startUpstreamRealm(t, map[string]any{
		"realm": "corp", "enabled": true,
		"clients": []any{map[string]any{"clientId": "gatehouse-demo", "secret": upstreamSecret, "publicClient": false,
			"standardFlowEnabled": true, "redirectUris": []string{downstream + "/realms/demo/broker/corp/endpoint"}}},
		"users": []any{upstreamAnn()},
	})
}

// upstreamAnn is ann as realm corp's file holds her.
func upstreamAnn() map[string]any {
	return map[string]any{"username": "ann", "enabled": true, "email": "ann@corp.example", "emailVerified": true,
		"firstName": "Ann", "lastName": "Upstream",
		"credentials": []any{map[string]any{"type": "password", "value": upstreamPassword}}}
}

// startUpstreamRealm imports the realm document doc (realm "corp") into a
// second Gatehouse process and serves it.
func startUpstreamRealm(t *testing.T, doc map[string]any) *upstream {
	t.Helper()
	bin := gatehouseBinary(t)
	dir := t.TempDir()
	dbFile := filepath.Join(dir, "corp.db")
	realmFile := filepath.Join(dir, "corp.json")
	rj, _ := json.Marshal(doc)
	if err := os.WriteFile(realmFile, rj, 0o600); err != nil {
		t.Fatal(err)
	}
	dbArgs := []string{"--db", "sqlite", "--db-url", dbFile}
	imp := execpkg.Command(bin, append([]string{"import", "--file", realmFile}, dbArgs...)...)
	imp.Dir = dir
	imp.Env = cleanEnv()
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("import corp: %v\n%s", err, out)
	}
	port, mgmt := freePort(t), freePort(t)
	u := &upstream{base: "http://127.0.0.1:" + strconv.Itoa(port), logs: &strings.Builder{}}
	cmd := execpkg.Command(bin, append([]string{"start-dev", "--http-port", strconv.Itoa(port),
		"--http-management-port", strconv.Itoa(mgmt), "--rate-limit", "false"}, dbArgs...)...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	var mu sync.Mutex
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return u.logs.Write(p) })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			mu.Lock()
			t.Logf("upstream gatehouse stderr:\n%s", u.logs)
			mu.Unlock()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get("http://127.0.0.1:" + strconv.Itoa(mgmt) + "/health/ready")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return u
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("upstream gatehouse not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// cleanEnv is the environment without GATEHOUSE_ and KC_ variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEHOUSE_") && !strings.HasPrefix(kv, "KC_") {
			env = append(env, kv)
		}
	}
	return env
}

// brokerStack is the usual stack (realm demo, its relying party) whose
// realm signs in through corp at the upstream process, with the review
// profile page always shown and a mapper granting the role "partner".
func brokerStack(t *testing.T) (*stack, *upstream) {
	t.Helper()
	s := newStackWith(t, func(o *server.Options) {
		// The upstream listens on loopback, as the relying party does.
		o.Outbound = outbound.New(outbound.Options{AllowPrivate: true})
	})
	up := startUpstream(t, s.gh.URL)
	ctx := context.Background()
	p := idp.New("corp", "oidc")
	p.DisplayName = "Corp SSO"
	p.Config = map[string]string{
		"authorizationUrl": up.issuer() + "/protocol/openid-connect/auth", "tokenUrl": up.issuer() + "/protocol/openid-connect/token",
		"userInfoUrl": up.issuer() + "/protocol/openid-connect/userinfo", "jwksUrl": up.issuer() + "/protocol/openid-connect/certs",
		"issuer": up.issuer(), "clientId": "gatehouse-demo", "clientSecret": upstreamSecret, "clientAuthMethod": "client_secret_basic",
		"pkceEnabled": "true", "validateSignature": "true", "useJwksUrl": "true", "defaultScope": "openid profile email",
	}
	if _, err := s.db.CreateIdentityProvider(ctx, s.realm.ID, p); err != nil {
		t.Fatal(err)
	}
	hidden := idp.New("hidden", "oidc")
	hidden.HideOnLogin = true
	hidden.Config = map[string]string{"authorizationUrl": up.issuer() + "/protocol/openid-connect/auth", "clientId": "x"}
	if _, err := s.db.CreateIdentityProvider(ctx, s.realm.ID, hidden); err != nil {
		t.Fatal(err)
	}
	if err := s.db.CreateRole(ctx, role.Role{ID: store.NewID(), RealmID: s.realm.ID, Name: "partner"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.CreateIdentityProviderMapper(ctx, s.realm.ID, idp.Mapper{Name: "partners", IdentityProviderAlias: "corp",
		IdentityProviderMapper: idp.MapperHardcodedRole, Config: map[string]string{"role": "partner"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.UpdateAuthConfig(ctx, s.realm.ID, func(c *flow.Config) error {
		for i := range c.Configs {
			if c.Configs[i].Alias == "review profile config" {
				c.Configs[i].Config["update.profile.on.first.login"] = "on"
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return s, up
}

// A person signs in to app-one with their corporate account: the login
// page's "Corp SSO" button, the corp login page served by the other
// Gatehouse process, the profile review, and back at the application with
// tokens for a new local user who carries the federated identity and the
// role the provider's mapper grants.
func TestBrokerLoginThroughUpstreamGatehouse(t *testing.T) {
	ctx := newChromium(t)
	s, up := brokerStack(t)
	s.requireCodeGrant(t)

	do(t, ctx, "the login page", chromedp.Navigate(s.rp.url("/app-one/login")), chromedp.WaitVisible(chromedp.ID("social-corp")))
	if hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('social-hidden') !== null`)); err != nil || hidden {
		t.Fatalf("a provider hidden on the login page has a button (err %v)", err)
	}
	do(t, ctx, "the provider button", chromedp.Click(chromedp.ID("social-corp")), chromedp.WaitVisible(chromedp.ID("username")))
	if loc := location(t, ctx); !strings.HasPrefix(loc, up.issuer()+"/") {
		t.Fatalf("not at the upstream process: %s", loc)
	}
	signIn(t, ctx, "ann", upstreamPassword)
	do(t, ctx, "the profile review", chromedp.WaitVisible(chromedp.ID("kc-update-profile-form")))
	if loc := location(t, ctx); !strings.HasPrefix(loc, s.issuer()+"/") {
		t.Fatalf("review profile not at the downstream realm: %s", loc)
	}
	do(t, ctx, "correct the first name",
		chromedp.Evaluate[chromedp.Void](`document.getElementById('firstName').value = ''`),
		fill("firstName", "Annie"), chromedp.Click(chromedp.ID("kc-submit")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got := text(t, ctx, "exchange"); got != "ok" {
		t.Fatalf("exchange: %s (error %s)", got, text(t, ctx, "error"))
	}
	if got := text(t, ctx, "user"); got != "ann" {
		t.Errorf("user = %q", got)
	}
	if roles := strings.Fields(text(t, ctx, "roles")); !contains(roles, "partner") {
		t.Errorf("access token roles %v lack the mapped role", roles)
	}
	bctx := context.Background()
	u, err := s.db.GetUserByUsername(bctx, s.realm.ID, "ann")
	if err != nil {
		t.Fatal(err)
	}
	if u.FirstName != "Annie" || u.LastName != "Upstream" || !strings.EqualFold(u.Email, "ann@corp.example") {
		t.Errorf("user = %+v", u)
	}
	links, err := s.db.ListFederatedIdentities(bctx, s.realm.ID, u.ID)
	if err != nil || len(links) != 1 || links[0].Alias != "corp" || links[0].FederatedUsername != "ann" {
		t.Fatalf("federated identities = %+v (%v)", links, err)
	}
	screenshot(t, ctx, "broker-login")

	// kc_idp_hint: straight to the provider, whose SSO session signs the
	// user in without a page; the link now exists, so no review either.
	do(t, ctx, "log out", chromedp.Navigate(s.rp.url("/app-one/logout")), chromedp.WaitVisible(chromedp.ID("bye")))
	do(t, ctx, "kc_idp_hint", chromedp.Navigate(s.rp.url("/app-one/login?kc_idp_hint=corp")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got := text(t, ctx, "exchange"); got != "ok" || text(t, ctx, "user") != "ann" {
		t.Fatalf("kc_idp_hint login: %s as %s", got, text(t, ctx, "user"))
	}
}

// A person who already has a local account signs in through corp for the
// first time: the account with the same email is found, they confirm the
// link, prove the account is theirs with its password, and arrive signed in
// as that account, now linked.
func TestBrokerLinksExistingAccountByReauthentication(t *testing.T) {
	ctx := newChromium(t)
	s, _ := brokerStack(t)
	s.requireCodeGrant(t)
	bctx := context.Background()
	local := user.User{ID: store.NewID(), RealmID: s.realm.ID, Username: "annlocal", Email: "ann@corp.example", FirstName: "Ann",
		LastName: "Local", Enabled: true, EmailVerified: true, CreatedTimestamp: time.Now().UnixMilli()}
	if err := s.db.CreateUser(bctx, local); err != nil {
		t.Fatal(err)
	}
	cred, _ := user.NewPasswordCredential(store.NewID(), local.ID, "local-ann-pw", time.Now().UnixMilli(), user.HashPolicy{})
	if err := s.db.CreateCredential(bctx, cred); err != nil {
		t.Fatal(err)
	}

	do(t, ctx, "the login page", chromedp.Navigate(s.rp.url("/app-one/login")), chromedp.WaitVisible(chromedp.ID("social-corp")))
	do(t, ctx, "the provider button", chromedp.Click(chromedp.ID("social-corp")), chromedp.WaitVisible(chromedp.ID("username")))
	signIn(t, ctx, "ann", upstreamPassword)
	do(t, ctx, "the profile review", chromedp.WaitVisible(chromedp.ID("kc-update-profile-form")), chromedp.Click(chromedp.ID("kc-submit")))
	do(t, ctx, "the account exists", chromedp.WaitVisible(chromedp.ID("linkAccount")), chromedp.Click(chromedp.ID("linkAccount")))
	do(t, ctx, "re-authenticate", chromedp.WaitVisible(chromedp.ID("password")),
		fill("password", "local-ann-pw"), chromedp.Click(chromedp.ID("kc-login")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got := text(t, ctx, "exchange"); got != "ok" {
		t.Fatalf("exchange: %s", got)
	}
	if got := text(t, ctx, "user"); got != "annlocal" {
		t.Errorf("signed in as %q, want the existing account", got)
	}
	linked, err := s.db.FindUserByFederatedIdentity(bctx, s.realm.ID, "corp", upstreamSubject(t, s, local.ID))
	if err != nil || linked.ID != local.ID {
		t.Fatalf("link: %v %v", linked.ID, err)
	}
}

func upstreamSubject(t *testing.T, s *stack, userID string) string {
	t.Helper()
	f, err := s.db.GetFederatedIdentity(context.Background(), s.realm.ID, userID, "corp")
	if err != nil {
		t.Fatalf("no federated identity: %v", err)
	}
	return f.FederatedUserID
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// alice, signed in to the account console of realm demo, links her corp
// account from "Linked accounts": the Link button takes her through the
// broker to the corp login page of the upstream process and back to the
// account console, where corp is shown as linked; having a password, she
// may unlink it again and sees it offered for linking once more.
func TestAccountConsoleLinksUpstreamAccount(t *testing.T) {
	ctx := newChromium(t)
	s, up := brokerStack(t)
	bctx := context.Background()
	alice, err := s.db.GetUserByUsername(bctx, s.realm.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	page := s.issuer() + "/account/account-security/linked-accounts"

	do(t, ctx, "open the linked accounts", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("username")))
	signIn(t, ctx, "alice", alicePassword)
	do(t, ctx, "corp offered for linking", chromedp.WaitVisible(chromedp.ID("link-corp")))
	do(t, ctx, "link corp", chromedp.Click(chromedp.ID("link-corp")), chromedp.WaitVisible(chromedp.ID("username")))
	if loc := location(t, ctx); !strings.HasPrefix(loc, up.issuer()+"/") {
		t.Fatalf("not at the upstream process: %s", loc)
	}
	signIn(t, ctx, "ann", upstreamPassword)
	do(t, ctx, "back at linked accounts", chromedp.WaitVisible(chromedp.ID("linked-corp")))
	if loc := location(t, ctx); !strings.HasPrefix(loc, page) {
		t.Errorf("after linking at %s, want the account console", loc)
	}
	if got := text(t, ctx, "linked-corp"); !strings.Contains(got, "Corp SSO") || !strings.Contains(got, "ann") {
		t.Errorf("corp card: %q", got)
	}
	links, err := s.db.ListFederatedIdentities(bctx, s.realm.ID, alice.ID)
	if err != nil || len(links) != 1 || links[0].Alias != "corp" || links[0].FederatedUsername != "ann" {
		t.Fatalf("federated identities of alice = %+v (%v)", links, err)
	}
	screenshot(t, ctx, "account-linked-upstream")

	do(t, ctx, "accept confirmations", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`))
	do(t, ctx, "unlink corp", chromedp.Click(chromedp.ID("unlink-corp")), chromedp.WaitVisible(chromedp.ID("alert")),
		chromedp.WaitVisible(chromedp.ID("link-corp")))
	if got := text(t, ctx, "alert"); got != "The account was unlinked." {
		t.Errorf("after unlink: %q", got)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#linked-corp').length`)); err != nil || n != 0 {
		t.Errorf("corp still shown as linked (%d, %v)", n, err)
	}
	if links, err := s.db.ListFederatedIdentities(bctx, s.realm.ID, alice.ID); err != nil || len(links) != 0 {
		t.Errorf("federated identities after unlink: %+v (%v)", links, err)
	}
}
