package browser_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A web app logs alice in through the form and gets tokens; a second app
// of the realm gets her in without the form (SSO); logging out of the first
// ends the SSO session, and the second app sees the form again.
// Needs the token endpoint's authorization_code grant.
func TestLoginSSOLogout(t *testing.T) {
	ctx := newChromium(t)
	s := newStack(t)
	s.requireCodeGrant(t)

	do(t, ctx, "open app one", chromedp.Navigate(s.rp.url("/app-one/login")), chromedp.WaitVisible(chromedp.ID("username")))
	if title, _ := chromedp.Run(ctx, chromedp.Title()); !strings.Contains(title, "Sign in to your account") {
		t.Errorf("login page title %q", title)
	}
	if realmName := text(t, ctx, "page-title"); realmName != "Sign in to your account" {
		t.Errorf("heading %q", realmName)
	}
	screenshot(t, ctx, "login-page")
	signIn(t, ctx, "alice", alicePassword)
	do(t, ctx, "back at app one", chromedp.WaitVisible(chromedp.ID("callback")))
	if got := text(t, ctx, "exchange"); got != "ok" {
		t.Fatalf("app one's code exchange: %s (error %q)", got, text(t, ctx, "error"))
	}
	if user, acr := text(t, ctx, "user"), text(t, ctx, "acr"); user != "alice" || acr != "1" {
		t.Errorf("app one: user %q acr %q", user, acr)
	}
	sid := text(t, ctx, "sid")

	do(t, ctx, "open app two", chromedp.Navigate(s.rp.url("/app-two/login")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got := text(t, ctx, "exchange"); got != "ok" {
		t.Fatalf("app two: %s", got)
	}
	if user, acr := text(t, ctx, "user"), text(t, ctx, "acr"); user != "alice" || acr != "0" || text(t, ctx, "sid") != sid {
		t.Errorf("SSO into app two: user %q acr %q sid %q (want %q)", user, acr, text(t, ctx, "sid"), sid)
	}

	do(t, ctx, "log out of app one", chromedp.Navigate(s.rp.url("/app-one/logout")), chromedp.WaitVisible(chromedp.ID("bye")))
	if got := text(t, ctx, "state"); got != "bye-app-one" {
		t.Errorf("post-logout state %q", got)
	}
	do(t, ctx, "app two after logout", chromedp.Navigate(s.rp.url("/app-two/login")), chromedp.WaitVisible(chromedp.ID("username")))
	if !strings.HasPrefix(location(t, ctx), s.gh.URL) {
		t.Errorf("not on the login page: %s", location(t, ctx))
	}
}

// A wrong password shows the error in the page, keeps the username, never
// the password; the right one then works.
func TestWrongPasswordShowsError(t *testing.T) {
	ctx := newChromium(t)
	s := newStack(t)
	do(t, ctx, "open app one", chromedp.Navigate(s.rp.url("/app-one/login")))
	signIn(t, ctx, "alice", "not-the-password")
	do(t, ctx, "error shown", chromedp.WaitVisible(chromedp.ID("alert")))
	if got := text(t, ctx, "alert"); got != "Invalid username or password." {
		t.Errorf("alert %q", got)
	}
	username, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("username")))
	password, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("password")))
	if username != "alice" || password != "" {
		t.Errorf("form after the error: username %q password %q", username, password)
	}
	invalid, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('password').getAttribute('aria-invalid')`))
	if invalid != "true" {
		t.Error("the password field is not marked invalid")
	}
	screenshot(t, ctx, "login-error")
	signIn(t, ctx, "alice", alicePassword)
	do(t, ctx, "back at app one", chromedp.WaitVisible(chromedp.ID("callback")))
	if got := text(t, ctx, "code"); got != "present" {
		t.Fatalf("no code after the right password (error %q)", text(t, ctx, "error"))
	}
}

// An app that requires consent shows the consent page; Decline returns
// access_denied, Accept a code, and a stored grant is not asked again.
func TestConsentFlow(t *testing.T) {
	ctx := newChromium(t)
	s := newStack(t)
	do(t, ctx, "open consent app", chromedp.Navigate(s.rp.url("/consent-app/login")))
	signIn(t, ctx, "alice", alicePassword)
	do(t, ctx, "consent page", chromedp.WaitVisible(chromedp.ID("kc-accept")))
	page := text(t, ctx, "page-title") + "\n" + pageText(t, ctx)
	for _, want := range []string{"Grant Access to Consent app", "User profile", "Email address", "User roles"} {
		if !strings.Contains(page, want) {
			t.Errorf("consent page lacks %q:\n%s", want, page)
		}
	}
	screenshot(t, ctx, "consent-page")
	do(t, ctx, "decline", chromedp.Click(chromedp.ID("kc-decline")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got := text(t, ctx, "error"); got != "access_denied" {
		t.Fatalf("decline: error %q", got)
	}

	// Declining ends the login: the form and the question come again.
	do(t, ctx, "again", chromedp.Navigate(s.rp.url("/consent-app/login")))
	signIn(t, ctx, "alice", alicePassword)
	do(t, ctx, "consent page again", chromedp.WaitVisible(chromedp.ID("kc-accept")))
	do(t, ctx, "accept", chromedp.Click(chromedp.ID("kc-accept")), chromedp.WaitVisible(chromedp.ID("callback")))
	if code, errText := text(t, ctx, "code"), text(t, ctx, "error"); code != "present" || errText != "" {
		t.Fatalf("accept: code %s error %q", code, errText)
	}
	// Signed in and consented: neither the form nor the question again.
	do(t, ctx, "third time", chromedp.Navigate(s.rp.url("/consent-app/login")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got := text(t, ctx, "code"); got != "present" {
		t.Fatalf("stored consent asked again or refused: %s", got)
	}
}

// The official JavaScript adapter works unchanged: login-required, tokens,
// the session-status iframe and third-party-cookie check, updateToken,
// check-sso in a hidden iframe, and logout back to the login form.
// Needs the token endpoint's authorization_code grant and `npm ci`.
func TestKeycloakJS(t *testing.T) {
	keycloakJSInstalled(t)
	ctx := newChromium(t)
	s := newStack(t)
	s.requireCodeGrant(t)

	do(t, ctx, "open the keycloak-js page", chromedp.Navigate(s.rp.url("/kc/")))
	signIn(t, ctx, "alice", alicePassword)
	waitStatus(t, ctx, "authenticated alice")

	// The iframes keycloak-js relies on answered as it expects: the
	// third-party-cookie check reported "supported" (else keycloak-js
	// would not have set up the session iframe) ...
	hasIframe, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('iframe[title="keycloak-session-iframe"]') !== null`))
	if err != nil || !hasIframe {
		t.Fatalf("keycloak-js did not set up the session iframe (third-party-cookie check failed?): %v", err)
	}
	// ... and the session iframe keeps saying "unchanged": keycloak-js asks
	// every second and would log in again on any other answer.
	time.Sleep(2500 * time.Millisecond)
	if still, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('status').textContent`)); still != "authenticated alice" {
		t.Fatalf("keycloak-js left its session: %q", still)
	}
	// A frame of our own asks the same iframe page about this session and
	// another one. (Asking keycloak-js's own frame about another session
	// would make keycloak-js log in again, as it should.)
	for session, want := range map[string]string{"kc.sessionId": "unchanged", "'not-the-session'": "changed"} {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`new Promise((resolve) => {
			const f = document.createElement('iframe');
			f.src = kc.authServerUrl + '/realms/demo/protocol/openid-connect/login-status-iframe.html';
			f.addEventListener('load', () => {
				window.addEventListener('message', (e) => { if (e.source === f.contentWindow) resolve(e.data); });
				f.contentWindow.postMessage('js-app ' + `+session+`, new URL(kc.authServerUrl).origin);
			});
			document.body.appendChild(f);
		})`, chromedp.EvalAwaitPromise))
		if err != nil || got != want {
			t.Errorf("session iframe for %s: %q (%v), want %q", session, got, err, want)
		}
	}
	// An application origin that is not one of the client's web origins
	// gets "error": here, the same page asking as a client without "+".
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`new Promise((resolve) => {
		const f = document.createElement('iframe');
		f.src = kc.authServerUrl + '/realms/demo/protocol/openid-connect/login-status-iframe.html';
		f.addEventListener('load', () => {
			window.addEventListener('message', (e) => { if (e.source === f.contentWindow) resolve(e.data); });
			f.contentWindow.postMessage('no-such-client ' + kc.sessionId, new URL(kc.authServerUrl).origin);
		});
		document.body.appendChild(f);
	})`, chromedp.EvalAwaitPromise))
	if err != nil || got != "error" {
		t.Errorf("session iframe for an unknown client: %q (%v), want error", got, err)
	}

	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(kc.tokenParsed)`))
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal([]byte(raw), &claims); err != nil {
		t.Fatalf("tokenParsed %q: %v", raw, err)
	}
	if claims["iss"] != s.issuer() || claims["azp"] != "js-app" || claims["preferred_username"] != "alice" || claims["typ"] != "Bearer" {
		t.Errorf("tokenParsed: %v", claims)
	}
	before, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`kc.token`))
	time.Sleep(1100 * time.Millisecond) // a new token has a new iat
	refreshed, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`kc.updateToken(-1)`, chromedp.EvalAwaitPromise))
	if err != nil || !refreshed {
		t.Fatalf("updateToken(-1): %v %v", refreshed, err)
	}
	after, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`kc.token`))
	if after == before || after == "" {
		t.Error("updateToken kept the old token")
	}
	if stillIn, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`kc.authenticated`)); !stillIn {
		t.Error("keycloak-js lost the session on refresh (the session iframe said changed?)")
	}

	// check-sso: a second page finds the session silently, in an iframe
	// running prompt=none.
	do(t, ctx, "check-sso page", chromedp.Navigate(s.rp.url("/kc/check-sso.html")))
	waitStatus(t, ctx, "authenticated alice")

	// logout: to the end_session_endpoint with the ID token and back, where
	// login-required shows the login form again.
	do(t, ctx, "back to the app", chromedp.Navigate(s.rp.url("/kc/")))
	waitStatus(t, ctx, "authenticated alice")
	do(t, ctx, "logout", chromedp.Evaluate[chromedp.Void](`kc.logout()`), chromedp.WaitVisible(chromedp.ID("username")))
	if loc := location(t, ctx); !strings.HasPrefix(loc, s.issuer()+"/protocol/openid-connect/auth") {
		t.Errorf("after logout the browser is at %s", loc)
	}
	do(t, ctx, "check-sso after logout", chromedp.Navigate(s.rp.url("/kc/check-sso.html")))
	waitStatus(t, ctx, "anonymous")
}

// waitStatus waits for the keycloak-js page's status line to settle. The
// page navigates on its own (to the login page, back with a code), so a
// check that meets a navigation is simply tried again.
func waitStatus(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	got := ""
	for time.Now().Before(deadline) {
		status, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
			const s = document.getElementById('status');
			return s && location.pathname.startsWith('/kc/') ? s.textContent : '';
		})()`))
		if err == nil && status != "" && status != "loading" {
			got = status
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got != want {
		t.Fatalf("keycloak-js status %q, want %q, at %s\n%s", got, want, location(t, ctx), pageText(t, ctx))
	}
}

func pageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return s
}
