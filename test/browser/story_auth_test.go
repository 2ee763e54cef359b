package browser_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// The authentication story end to end, in a browser against the whole
// server over HTTP:
//
//  1. bob registers, verifies his email through the mailed link, logs out,
//     resets his password through the mailed link and signs in with it;
//  2. the application asks for CONFIGURE_TOTP (kc_action): bob reads the
//     manual key off the page, his "app" (the test) computes the code, and
//     from then on the realm's browser flow asks him for a code after the
//     password; a wrong code is refused with the page's error. alice,
//     given CONFIGURE_TOTP as a required action through the admin API, sets
//     up her app at her next sign-in;
//  3. an administrator, through the admin REST API, copies the browser
//     flow, makes its OTP sub-flow conditional on the realm role
//     otp-required as well (conditional-user-role and its config) and binds
//     the copy as the realm's browser flow: alice and bob, with their OTP
//     credentials but without the role, sign in with the password alone;
//     bob, once granted the role, is asked for the code again.
func TestAuthenticationStory(t *testing.T) {
	ctx := newChromium(t)
	s := newStack(t)
	s.requireCodeGrant(t)

	// 1. Registration, email verification, forgotten password.
	registerVerifyAndReset(t, ctx, s, s.openSelfService(t))

	// 2. An authenticator app, asked for by the application.
	do(t, ctx, "the application asks for an authenticator app",
		chromedp.Navigate(s.rp.url("/app-one/login?kc_action=CONFIGURE_TOTP")),
		chromedp.WaitVisible(chromedp.ID("kc-totp-settings-form")))
	key := manualTOTPKey(t, ctx)
	bobApp := &authenticatorApp{key: key}
	code := bobApp.next(t)
	do(t, ctx, "the app's code", fill("totp", code), fill("userLabel", "Phone"),
		chromedp.Click(chromedp.ID("saveTOTPBtn")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got, user := text(t, ctx, "exchange"), text(t, ctx, "user"); got != "ok" || user != "bob" {
		t.Fatalf("after setting up the app: exchange %q user %q", got, user)
	}
	if n := credentialCount(t, s.db, s.realm.ID, "bob", "otp"); n != 1 {
		t.Fatalf("bob has %d OTP credentials, want 1", n)
	}

	do(t, ctx, "log out", chromedp.Navigate(s.rp.url("/app-one/logout")), chromedp.WaitVisible(chromedp.ID("bye")))
	do(t, ctx, "the login form", chromedp.Navigate(s.rp.url("/app-one/login")))
	signIn(t, ctx, "bob", bobPassword)
	do(t, ctx, "asked for a code", chromedp.WaitVisible(chromedp.ID("kc-otp-login-form")))
	// Signing in, not setting up an app: the heading says so.
	if got := text(t, ctx, "page-title"); got != "Sign In" {
		t.Errorf("the code page's heading: %q", got)
	}
	screenshot(t, ctx, "story-otp-login")
	_, wrong := totpCodes(t, key, time.Now())
	do(t, ctx, "a wrong code", fill("otp", wrong), chromedp.Click(chromedp.ID("kc-login")), chromedp.WaitVisible(chromedp.ID("alert")))
	if got := text(t, ctx, "alert"); got != "Invalid authenticator code." {
		t.Fatalf("after a wrong code: %q", got)
	}
	if loc := location(t, ctx); !strings.HasPrefix(loc, s.gh.URL) {
		t.Fatalf("a wrong code left the login pages: %s", loc)
	}
	screenshot(t, ctx, "story-otp-refused")
	// The code is computed right before it is sent, from a time step not
	// used yet: the one typed at setup is spent.
	code = bobApp.next(t)
	do(t, ctx, "the right code", chromedp.Evaluate[chromedp.Void](`document.getElementById('otp').value = ''`),
		fill("otp", code), chromedp.Click(chromedp.ID("kc-login")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got, user := text(t, ctx, "exchange"), text(t, ctx, "user"); got != "ok" || user != "bob" {
		t.Fatalf("password and code: exchange %q user %q", got, user)
	}
	do(t, ctx, "log out", chromedp.Navigate(s.rp.url("/app-one/logout")), chromedp.WaitVisible(chromedp.ID("bye")))

	// alice is made to set up an app as a required action, through the
	// admin API, and does so at her next sign-in.
	admin := s.adminAPI(t)
	realmPath := "/admin/realms/" + realmName
	admin.call(http.MethodPut, realmPath+"/users/"+admin.userID(realmName, "alice"),
		map[string]any{"requiredActions": []string{"CONFIGURE_TOTP"}}, http.StatusNoContent, nil)
	do(t, ctx, "the login form", chromedp.Navigate(s.rp.url("/app-one/login")))
	signIn(t, ctx, "alice", alicePassword)
	do(t, ctx, "alice must set up an app", chromedp.WaitVisible(chromedp.ID("kc-totp-settings-form")))
	aliceKey := manualTOTPKey(t, ctx)
	if aliceKey == key {
		t.Fatal("alice is shown bob's key")
	}
	code = (&authenticatorApp{key: aliceKey}).next(t)
	do(t, ctx, "alice's code", fill("totp", code), chromedp.Click(chromedp.ID("saveTOTPBtn")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got, user := text(t, ctx, "exchange"), text(t, ctx, "user"); got != "ok" || user != "alice" {
		t.Fatalf("after alice's setup: exchange %q user %q", got, user)
	}
	if n := credentialCount(t, s.db, s.realm.ID, "alice", "otp"); n != 1 {
		t.Fatalf("alice has %d OTP credentials, want 1", n)
	}
	do(t, ctx, "log out", chromedp.Navigate(s.rp.url("/app-one/logout")), chromedp.WaitVisible(chromedp.ID("bye")))

	// 3. The administrator's flow: OTP only for holders of otp-required.
	admin.call(http.MethodPost, realmPath+"/roles", map[string]any{"name": "otp-required"}, http.StatusCreated, nil)
	admin.call(http.MethodPost, realmPath+"/authentication/flows/browser/copy", map[string]any{"newName": "browser-by-role"}, http.StatusCreated, nil)
	flowPath := realmPath + "/authentication/flows/"
	var execs []map[string]any
	admin.call(http.MethodGet, flowPath+"browser-by-role/executions", nil, http.StatusOK, &execs)
	otpFlow := ""
	for _, e := range execs {
		if e["authenticationFlow"] == true && strings.HasSuffix(e["displayName"].(string), "Conditional 2FA") {
			otpFlow = e["displayName"].(string)
		}
	}
	if otpFlow == "" {
		t.Fatalf("the copy has no OTP sub-flow: %v", execs)
	}
	loc := admin.call(http.MethodPost, flowPath+url.PathEscape(otpFlow)+"/executions/execution",
		map[string]any{"provider": "conditional-user-role"}, http.StatusCreated, nil)
	condID := loc[strings.LastIndex(loc, "/")+1:]
	admin.call(http.MethodGet, flowPath+"browser-by-role/executions", nil, http.StatusOK, &execs)
	var cond map[string]any
	for _, e := range execs {
		if e["id"] == condID {
			cond = e
		}
	}
	if cond == nil || cond["providerId"] != "conditional-user-role" {
		t.Fatalf("the role condition %s is not in the flow: %v", condID, execs)
	}
	cond["requirement"] = "REQUIRED"
	admin.call(http.MethodPut, flowPath+"browser-by-role/executions", cond, http.StatusAccepted, nil)
	admin.call(http.MethodPost, realmPath+"/authentication/executions/"+condID+"/config",
		map[string]any{"alias": "otp-required-role", "config": map[string]string{"condUserRole": "otp-required"}}, http.StatusCreated, nil)
	admin.call(http.MethodGet, flowPath+"browser-by-role/executions", nil, http.StatusOK, &execs)
	for _, e := range execs {
		if e["id"] == condID && (e["requirement"] != "REQUIRED" || e["authenticationConfig"] == nil) {
			t.Fatalf("the role condition after the changes: %v", e)
		}
	}
	admin.call(http.MethodGet, flowPath+"browser/executions", nil, http.StatusOK, &execs)
	for _, e := range execs {
		if e["providerId"] == "conditional-user-role" {
			t.Fatalf("the copy's change reached the built-in browser flow: %v", execs)
		}
	}
	admin.call(http.MethodPut, realmPath, map[string]any{"browserFlow": "browser-by-role"}, http.StatusNoContent, nil)

	// alice and bob have an OTP credential, neither the role: the password
	// is enough.
	for _, u := range []struct{ name, password string }{{"alice", alicePassword}, {"bob", bobPassword}} {
		do(t, ctx, "the login form", chromedp.Navigate(s.rp.url("/app-one/login")))
		signIn(t, ctx, u.name, u.password)
		do(t, ctx, u.name+" signed in without a code", chromedp.WaitVisible(chromedp.ID("callback")))
		if got, user := text(t, ctx, "exchange"), text(t, ctx, "user"); got != "ok" || user != u.name {
			t.Fatalf("%s without the role: exchange %q user %q", u.name, got, user)
		}
		do(t, ctx, "log out", chromedp.Navigate(s.rp.url("/app-one/logout")), chromedp.WaitVisible(chromedp.ID("bye")))
	}

	// Granted the role, bob is asked for the code.
	var role map[string]any
	admin.call(http.MethodGet, realmPath+"/roles/otp-required", nil, http.StatusOK, &role)
	admin.call(http.MethodPost, realmPath+"/users/"+admin.userID(realmName, "bob")+"/role-mappings/realm",
		[]map[string]any{{"id": role["id"], "name": role["name"]}}, http.StatusNoContent, nil)
	do(t, ctx, "the login form", chromedp.Navigate(s.rp.url("/app-one/login")))
	signIn(t, ctx, "bob", bobPassword)
	do(t, ctx, "asked for a code with the role", chromedp.WaitVisible(chromedp.ID("kc-otp-login-form")))
	// A time step not used yet: the ones used above are spent.
	code = bobApp.next(t)
	do(t, ctx, "the code", fill("otp", code), chromedp.Click(chromedp.ID("kc-login")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got, user := text(t, ctx, "exchange"), text(t, ctx, "user"); got != "ok" || user != "bob" {
		t.Fatalf("with the role: exchange %q user %q", got, user)
	}
}

// credentialCount is how many credentials of type typ the user named
// username of realm realmID has in the store.
func credentialCount(t *testing.T, db *store.DB, realmID, username, typ string) int {
	t.Helper()
	u, err := db.GetUserByUsername(context.Background(), realmID, username)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := db.ListCredentials(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cs {
		if c.Type == typ {
			n++
		}
	}
	return n
}

// adminClient calls Gatehouse's admin REST API with the master realm
// admin's token, as a script would.
type adminClient struct {
	t     *testing.T
	base  string
	token string
}

func (s *stack) adminAPI(t *testing.T) *adminClient {
	t.Helper()
	tok := postToken(t, s.gh.URL+"/realms/master/protocol/openid-connect/token", url.Values{
		"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {"admin"}, "password": {"admin-pw"}})
	access, _ := tok["access_token"].(string)
	if access == "" {
		t.Fatalf("no admin token: %v", tok)
	}
	return &adminClient{t: t, base: s.gh.URL, token: access}
}

// call sends body as JSON, fails the test unless the answer has status
// want, decodes the answer into out (when not nil) and returns its
// Location header.
func (a *adminClient) call(method, path string, body any, want int, out any) string {
	a.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, r)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	if res.StatusCode != want {
		a.t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			a.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return res.Header.Get("Location")
}

// userID is the id of the user named username in realm rl.
func (a *adminClient) userID(rl, username string) string {
	a.t.Helper()
	var users []map[string]any
	a.call(http.MethodGet, "/admin/realms/"+rl+"/users?exact=true&username="+url.QueryEscape(username), nil, http.StatusOK, &users)
	if len(users) != 1 {
		a.t.Fatalf("users named %s: %v", username, users)
	}
	id, _ := users[0]["id"].(string)
	return id
}

// authenticatorApp hands out the codes of an app holding key as its user
// types them: each from a 30-second time step not used before, since the
// server takes a code once. The server accepts the step after the current
// one (the realm's look-around window of one); when that is used too, next
// waits for the clock to reach the following step.
type authenticatorApp struct {
	key  string
	last int64 // the last step handed out
}

func (a *authenticatorApp) next(t *testing.T) string {
	t.Helper()
	for {
		now := time.Now().Unix() / 30
		step := max(now, a.last+1)
		if step <= now+1 {
			a.last = step
			code, _ := totpCodes(t, a.key, time.Unix(step*30, 0))
			return code
		}
		time.Sleep(time.Until(time.Unix((now+1)*30, 0)))
	}
}
