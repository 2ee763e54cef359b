package browser_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// addAuthenticator plugs a virtual CTAP2 authenticator into the tab
// (Chromium's DevTools WebAuthn domain): internal transport, resident keys
// and user verification, presence given at once.
func addAuthenticator(t *testing.T, ctx context.Context) webauthn.AuthenticatorID {
	t.Helper()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true}})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return res.AuthenticatorID
}

// newWebAuthnStack is newStack served to the browser as localhost: a
// WebAuthn relying party id is a domain, never an IP address.
func newWebAuthnStack(t *testing.T) *stack {
	s := newStack(t)
	s.gh.URL = strings.Replace(s.gh.URL, "127.0.0.1", "localhost", 1)
	s.rp.srv.URL = strings.Replace(s.rp.srv.URL, "127.0.0.1", "localhost", 1)
	ctx := context.Background()
	c, err := s.db.GetClientByClientID(ctx, s.realm.ID, "app-one")
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.UpdateClient(ctx, s.realm.ID, c.ID, func(c *client.Client) error {
		c.RedirectURIs = []string{s.rp.srv.URL + "/app-one/*"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.requireCodeGrant(t)
	return s
}

// step is do with a deadline of its own, so a page that never comes
// fails the step with what the browser shows instead of the whole test's
// deadline.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("%s: %v\nat %s\n%s", what, err, loc, body)
	}
}

// setBrowserFlow binds a browser flow made of the given executions (after
// the SSO cookie) to the demo realm.
func (s *stack) setBrowserFlow(t *testing.T, flows ...flow.Flow) {
	t.Helper()
	err := s.db.UpdateAuthConfig(context.Background(), s.realm.ID, func(c *flow.Config) error {
		c.Flows = append(c.Flows, flows...)
		c.Bindings.Browser = flows[0].Alias
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func exec(id, req string, prio int) flow.Execution {
	return flow.Execution{Authenticator: id, Requirement: req, Priority: prio}
}

func subflow(alias, req string, prio int) flow.Execution {
	return flow.Execution{AuthenticatorFlow: true, FlowAlias: alias, Requirement: req, Priority: prio}
}

// credentialsOf is alice's stored credentials of typ.
func (s *stack) credentialsOf(t *testing.T, typ string) []user.Credential {
	t.Helper()
	u, err := s.db.GetUserByUsername(context.Background(), s.realm.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := s.db.ListCredentials(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []user.Credential
	for _, c := range cs {
		if c.Type == typ {
			out = append(out, c)
		}
	}
	return out
}

func (s *stack) requireAction(t *testing.T, action string) {
	t.Helper()
	u, err := s.db.GetUserByUsername(context.Background(), s.realm.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.UpdateUser(context.Background(), s.realm.ID, u.ID, func(x *user.User) error {
		x.RequiredActions = append(x.RequiredActions, action)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPasskeyLogin: alice owes webauthn-register-passwordless; after her
// password she registers a passkey on Chromium's virtual authenticator.
// Logged out, she types her username and signs in with the passkey alone:
// the flow offers the passkey before the password, and no password is
// typed.
func TestPasskeyLogin(t *testing.T) {
	ctx := newChromium(t)
	s := newWebAuthnStack(t)
	addAuthenticator(t, ctx)
	s.setBrowserFlow(t,
		flow.Flow{Alias: "passkeys", ProviderID: flow.BasicFlow, TopLevel: true, Executions: []flow.Execution{
			exec("auth-cookie", flow.Alternative, 10), subflow("passkeys forms", flow.Alternative, 20)}},
		flow.Flow{Alias: "passkeys forms", ProviderID: flow.BasicFlow, Executions: []flow.Execution{
			exec("auth-username-form", flow.Required, 10), subflow("passkey or password", flow.Required, 20)}},
		flow.Flow{Alias: "passkey or password", ProviderID: flow.BasicFlow, Executions: []flow.Execution{
			exec("webauthn-authenticator-passwordless", flow.Alternative, 10), exec("auth-password-form", flow.Alternative, 20)}})
	s.requireAction(t, "webauthn-register-passwordless")

	step(t, ctx, "open app one", chromedp.Navigate(s.rp.url("/app-one/login")), chromedp.WaitVisible(chromedp.ID("username")))
	step(t, ctx, "username", chromedp.SendKeys(chromedp.ID("username"), "alice"), chromedp.Submit(chromedp.ID("username")),
		chromedp.WaitVisible(chromedp.ID("password")))
	step(t, ctx, "password (no passkey yet)", chromedp.SendKeys(chromedp.ID("password"), alicePassword), chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("registerWebAuthn")))
	screenshot(t, ctx, "passkey-register")
	if got := text(t, ctx, "page-title"); got != "Passkey Registration" {
		t.Errorf("registration page title %q", got)
	}
	step(t, ctx, "register a passkey", chromedp.SendKeys(chromedp.ID("authenticatorLabel"), "Laptop"),
		chromedp.WaitEnabled(chromedp.ID("registerWebAuthn")), chromedp.Click(chromedp.ID("registerWebAuthn")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got := text(t, ctx, "exchange"); got != "ok" {
		t.Fatalf("code exchange after registration: %s (error %q)", got, text(t, ctx, "error"))
	}
	creds := s.credentialsOf(t, "webauthn-passwordless")
	if len(creds) != 1 || creds[0].UserLabel != "Laptop" || !strings.Contains(creds[0].CredentialData, `"credentialPublicKey"`) || creds[0].SecretData != "{}" {
		t.Fatalf("stored passkeys: %+v", creds)
	}

	step(t, ctx, "log out", chromedp.Navigate(s.rp.url("/app-one/logout")), chromedp.WaitVisible(chromedp.ID("bye")))
	step(t, ctx, "log in again", chromedp.Navigate(s.rp.url("/app-one/login")), chromedp.WaitVisible(chromedp.ID("username")))
	step(t, ctx, "username", chromedp.SendKeys(chromedp.ID("username"), "alice"), chromedp.Submit(chromedp.ID("username")),
		chromedp.WaitVisible(chromedp.ID("authenticateWebAuthnButton")))
	screenshot(t, ctx, "passkey-login")
	step(t, ctx, "sign in with the passkey", chromedp.WaitEnabled(chromedp.ID("authenticateWebAuthnButton")), chromedp.Click(chromedp.ID("authenticateWebAuthnButton")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got, user := text(t, ctx, "exchange"), text(t, ctx, "user"); got != "ok" || user != "alice" {
		t.Fatalf("passkey login: exchange %s user %q (error %q)", got, user, text(t, ctx, "error"))
	}
	if again := s.credentialsOf(t, "webauthn-passwordless"); len(again) != 1 || again[0].CredentialData == creds[0].CredentialData {
		t.Errorf("the signature counter was not advanced: %+v", again)
	}
}

// TestSecurityKeySecondFactor: the realm's browser flow asks for a
// password and a security key. Alice has none, so the REQUIRED step sends
// her to register one (webauthn-register) after her password; logged out,
// she signs in with password and key. A bogus signature from the key is
// refused with the login page's error, and nothing changes.
func TestSecurityKeySecondFactor(t *testing.T) {
	ctx := newChromium(t)
	s := newWebAuthnStack(t)
	auth := addAuthenticator(t, ctx)
	s.setBrowserFlow(t,
		flow.Flow{Alias: "two factor", ProviderID: flow.BasicFlow, TopLevel: true, Executions: []flow.Execution{
			exec("auth-cookie", flow.Alternative, 10), subflow("two factor forms", flow.Alternative, 20)}},
		flow.Flow{Alias: "two factor forms", ProviderID: flow.BasicFlow, Executions: []flow.Execution{
			exec("auth-username-password-form", flow.Required, 10), exec("webauthn-authenticator", flow.Required, 20)}})

	step(t, ctx, "open app one", chromedp.Navigate(s.rp.url("/app-one/login")), chromedp.WaitVisible(chromedp.ID("username")))
	signIn(t, ctx, "alice", alicePassword)
	step(t, ctx, "register page", chromedp.WaitVisible(chromedp.ID("registerWebAuthn")))
	if got := text(t, ctx, "page-title"); got != "Security Key Registration" {
		t.Errorf("registration page title %q", got)
	}
	step(t, ctx, "register a key", chromedp.WaitEnabled(chromedp.ID("registerWebAuthn")), chromedp.Click(chromedp.ID("registerWebAuthn")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got := text(t, ctx, "exchange"); got != "ok" {
		t.Fatalf("code exchange after registration: %s (error %q)", got, text(t, ctx, "error"))
	}
	if n := len(s.credentialsOf(t, "webauthn")); n != 1 {
		t.Fatalf("%d security keys stored", n)
	}
	step(t, ctx, "log out", chromedp.Navigate(s.rp.url("/app-one/logout")), chromedp.WaitVisible(chromedp.ID("bye")))

	step(t, ctx, "log in again", chromedp.Navigate(s.rp.url("/app-one/login")), chromedp.WaitVisible(chromedp.ID("username")))
	signIn(t, ctx, "alice", alicePassword)
	step(t, ctx, "key page", chromedp.WaitVisible(chromedp.ID("authenticateWebAuthnButton")))
	before := s.credentialsOf(t, "webauthn")[0].CredentialData
	bogus := true
	if _, err := chromedp.Call(ctx, webauthn.SetResponseOverrideBits, webauthn.SetResponseOverrideBitsParams{AuthenticatorID: auth, IsBogusSignature: &bogus}); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "a bogus signature", chromedp.WaitEnabled(chromedp.ID("authenticateWebAuthnButton")), chromedp.Click(chromedp.ID("authenticateWebAuthnButton")), chromedp.WaitVisible(chromedp.ID("alert")))
	if got := text(t, ctx, "alert"); got != "Security key authentication result is invalid." {
		t.Errorf("after a bogus signature: %q", got)
	}
	if after := s.credentialsOf(t, "webauthn")[0].CredentialData; after != before {
		t.Errorf("a refused assertion changed the credential: %s", after)
	}
	screenshot(t, ctx, "security-key-refused")
	if _, err := chromedp.Call(ctx, webauthn.SetResponseOverrideBits, webauthn.SetResponseOverrideBitsParams{AuthenticatorID: auth}); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "sign in with the key", chromedp.WaitEnabled(chromedp.ID("authenticateWebAuthnButton")), chromedp.Click(chromedp.ID("authenticateWebAuthnButton")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got, user := text(t, ctx, "exchange"), text(t, ctx, "user"); got != "ok" || user != "alice" {
		t.Fatalf("password and key: exchange %s user %q (error %q)", got, user, text(t, ctx, "error"))
	}
}

// TestSecurityKeyFromAccountConsole: the realm turns on the security key
// in its built-in browser flow's 2FA step. Alice registers a key from the
// account console's Signing in page; her next login asks for password and
// key. She removes the key on the same page, and the login after that asks
// for the password alone.
func TestSecurityKeyFromAccountConsole(t *testing.T) {
	ctx := newChromium(t)
	s := newWebAuthnStack(t)
	addAuthenticator(t, ctx)
	err := s.db.UpdateAuthConfig(context.Background(), s.realm.ID, func(c *flow.Config) error {
		for i, f := range c.Flows {
			for j, e := range f.Executions {
				if f.Alias == "Browser - Conditional 2FA" && e.Authenticator == "webauthn-authenticator" {
					c.Flows[i].Executions[j].Requirement = flow.Alternative
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	signingIn := s.gh.URL + "/realms/" + realmName + "/account/account-security/signing-in"
	logOut := func() {
		t.Helper()
		if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
	}

	step(t, ctx, "open the account console", chromedp.Navigate(signingIn), chromedp.WaitVisible(chromedp.ID("username")))
	signIn(t, ctx, "alice", alicePassword)
	step(t, ctx, "signing in", chromedp.WaitVisible(chromedp.ID("webauthn-set-up")))
	if got := text(t, ctx, "webauthn-none"); got != "Not set up." {
		t.Errorf("before: %q", got)
	}
	step(t, ctx, "set up a security key", chromedp.Click(chromedp.ID("webauthn-set-up")), chromedp.WaitVisible(chromedp.ID("registerWebAuthn")))
	step(t, ctx, "register it", chromedp.SendKeys(chromedp.ID("authenticatorLabel"), "YubiKey"),
		chromedp.WaitEnabled(chromedp.ID("registerWebAuthn")), chromedp.Click(chromedp.ID("registerWebAuthn")), chromedp.WaitVisible(chromedp.ID("webauthn-list")))
	if !strings.Contains(text(t, ctx, "webauthn-list"), "YubiKey") {
		t.Errorf("the key is not listed:\n%s", pageText(t, ctx))
	}
	screenshot(t, ctx, "security-key-listed")

	logOut()
	step(t, ctx, "open app one", chromedp.Navigate(s.rp.url("/app-one/login")), chromedp.WaitVisible(chromedp.ID("username")))
	signIn(t, ctx, "alice", alicePassword)
	step(t, ctx, "the key is asked for", chromedp.WaitEnabled(chromedp.ID("authenticateWebAuthnButton")), chromedp.Click(chromedp.ID("authenticateWebAuthnButton")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got, user := text(t, ctx, "exchange"), text(t, ctx, "user"); got != "ok" || user != "alice" {
		t.Fatalf("password and key: exchange %s user %q (error %q)", got, user, text(t, ctx, "error"))
	}

	step(t, ctx, "back to signing in", chromedp.Navigate(signingIn), chromedp.WaitVisible(chromedp.ID("webauthn-list")))
	step(t, ctx, "remove the key", chromedp.Click(chromedp.CSS(".key-remove")), chromedp.WaitVisible(chromedp.ID("kc-accept")))
	step(t, ctx, "confirm", chromedp.Click(chromedp.ID("kc-accept")), chromedp.WaitVisible(chromedp.ID("webauthn-none")))
	if n := len(s.credentialsOf(t, "webauthn")); n != 0 {
		t.Fatalf("%d security keys left after removal", n)
	}

	logOut()
	step(t, ctx, "open app one", chromedp.Navigate(s.rp.url("/app-one/login")), chromedp.WaitVisible(chromedp.ID("username")))
	signIn(t, ctx, "alice", alicePassword)
	step(t, ctx, "the password alone", chromedp.WaitVisible(chromedp.ID("callback")))
	if got := text(t, ctx, "exchange"); got != "ok" {
		t.Fatalf("password only: %s (error %q)", got, text(t, ctx, "error"))
	}
}

// loaded waits until the page's scripts have run (a button is bound to
// its ceremony only then).
func loaded(t *testing.T, ctx context.Context) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(sctx, chromedp.Poll[bool](`document.readyState === "complete"`)); err != nil {
		t.Fatalf("page scripts: %v", err)
	}
}

// TestPasskeyAutofill: the realm offers passkeys on its login form
// (webAuthnPolicyPasswordlessPasskeysEnabled). Alice owes
// webauthn-register-passwordless and registers a passkey on Chromium's
// virtual authenticator after her password. Logged out, the username and
// password page's username field carries the passkey autofill
// (autocomplete "username webauthn", a conditional navigator.credentials
// request), and the passkey signs her in from that page: no password
// typed, no other page.
func TestPasskeyAutofill(t *testing.T) {
	ctx := newChromium(t)
	s := newWebAuthnStack(t)
	addAuthenticator(t, ctx)
	err := s.db.UpdateRealm(context.Background(), s.realm.ID, func(r *realm.Realm) error {
		p := r.WebAuthnPasswordless()
		p.PasskeysEnabled = true
		r.WebAuthnPasswordlessPolicy = &p
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.requireAction(t, "webauthn-register-passwordless")

	step(t, ctx, "open app one", chromedp.Navigate(s.rp.url("/app-one/login")), chromedp.WaitVisible(chromedp.ID("password")))
	ac, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('username').getAttribute('autocomplete')`))
	if err != nil || ac != "username webauthn" {
		t.Fatalf("username field autocomplete %q (%v)", ac, err)
	}
	screenshot(t, ctx, "passkey-autofill")
	signIn(t, ctx, "alice", alicePassword)
	step(t, ctx, "registration page", chromedp.WaitVisible(chromedp.ID("registerWebAuthn")))
	loaded(t, ctx)
	step(t, ctx, "register a passkey", chromedp.SendKeys(chromedp.ID("authenticatorLabel"), "Laptop"),
		chromedp.WaitEnabled(chromedp.ID("registerWebAuthn")), chromedp.Click(chromedp.ID("registerWebAuthn")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got := text(t, ctx, "exchange"); got != "ok" {
		t.Fatalf("code exchange after registration: %s (error %q)", got, text(t, ctx, "error"))
	}
	creds := s.credentialsOf(t, "webauthn-passwordless")
	if len(creds) != 1 {
		t.Fatalf("stored passkeys: %+v", creds)
	}
	step(t, ctx, "log out", chromedp.Navigate(s.rp.url("/app-one/logout")), chromedp.WaitVisible(chromedp.ID("bye")))

	// What the browser posts to Gatehouse from here on: the login page's
	// passkey answer, and no password.
	var (
		mu    sync.Mutex
		posts []string
	)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	if err := chromedp.Listen(lctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Request.Method == "POST" && strings.HasPrefix(e.Request.URL, s.gh.URL) {
			var body []byte
			for _, d := range e.Request.PostDataEntries {
				body = append(body, d.Bytes...)
			}
			mu.Lock()
			posts = append(posts, string(body))
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	// The virtual authenticator answers a conditional request at once,
	// as a user picking the passkey from the username field's autofill.
	step(t, ctx, "log in again: the passkey from the login page", chromedp.Navigate(s.rp.url("/app-one/login")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got, user := text(t, ctx, "exchange"), text(t, ctx, "user"); got != "ok" || user != "alice" {
		t.Fatalf("passkey login: exchange %s user %q (error %q)", got, user, text(t, ctx, "error"))
	}
	mu.Lock()
	sent := slices.Clone(posts)
	mu.Unlock()
	if len(sent) != 1 || !strings.Contains(sent[0], "webauthnResponse=%7B") || strings.Contains(sent[0], "password=") {
		t.Fatalf("posted to Gatehouse: %q", sent)
	}
	if again := s.credentialsOf(t, "webauthn-passwordless"); len(again) != 1 || again[0].CredentialData == creds[0].CredentialData {
		t.Errorf("the signature counter was not advanced: %+v", again)
	}
}
