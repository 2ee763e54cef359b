package account_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

func TestConsoleSendsBrowsersToTheLoginPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	for page, back := range map[string]string{
		"/realms/ldap-demo/account/":                                 e.url("/account/"),
		"/realms/ldap-demo/account/applications":                     e.url("/account/applications"),
		"/realms/ldap-demo/account/account-security/device-activity": e.url("/account/account-security/device-activity"),
	} {
		resp, _ := b.do("GET", page, nil)
		loc, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || err != nil || loc.Path != "/realms/ldap-demo/protocol/openid-connect/auth" {
			t.Fatalf("%s: %d to %q", page, resp.StatusCode, resp.Header.Get("Location"))
		}
		q := loc.Query()
		if q.Get("client_id") != "account-console" || q.Get("redirect_uri") != back || q.Get("response_type") != "code" ||
			q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Get("state") == "" {
			t.Errorf("%s: authorization request %v", page, q)
		}
	}
	// The realm document's account-service address leads there too.
	if resp, _ := b.do("GET", "/realms/ldap-demo/account", nil); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/realms/ldap-demo/account/" {
		t.Errorf("account-service URL: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Back from the login without a session (cookies refused): a message,
	// not another round trip.
	resp, page := b.do("GET", "/realms/ldap-demo/account/?state=x&code=y", nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "cookies") {
		t.Errorf("return without a session: %d\n%s", resp.StatusCode, page)
	}
	if resp, _ := b.do("GET", "/realms/no-such-realm/account/", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown realm: %d", resp.StatusCode)
	}
}

func TestConsolePagesAfterLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.login("user1", "password", "openid info offline_access")
	b := e.browser()
	b.signIn("user1", "password")
	for path, want := range map[string][]string{
		"/realms/ldap-demo/account/": {"Personal info", `value="user1@example.com"`, `value="User"`, `value="One"`, "Verified",
			`aria-current="page"`, "User One"},
		"/realms/ldap-demo/account/account-security/signing-in":      {"Signing in", "Password", "Current password", "Sign out from other devices"},
		"/realms/ldap-demo/account/account-security/device-activity": {"Device activity", "Linux", "Chrome/130.0.6723", "127.0.0.1", "Current session", "Account Console"},
		"/realms/ldap-demo/account/applications":                     {"LDAP demo app", "Offline access", `id="remove-ldap-app"`, "Account Console", "In use"},
	} {
		resp, page := b.do("GET", path, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d\n%s", path, resp.StatusCode, page)
		}
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("%s lacks %q", path, w)
			}
		}
		h := resp.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" ||
			h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Cache-Control"), "no-store") ||
			h.Get("Referrer-Policy") != "same-origin" || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Errorf("%s: headers %v", path, h)
		}
	}
	// "Sign out" is the realm's RP-initiated logout, which accepts the
	// console as where to come back to and asks for confirmation.
	_, page := b.do("GET", "/realms/ldap-demo/account/", nil)
	m := regexp.MustCompile(`id="sign-out" href="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no sign-out link:\n%s", page)
	}
	if resp, page := b.do("GET", html.UnescapeString(m[1]), nil); resp.StatusCode != 200 || !strings.Contains(page, "Do you want to log out?") {
		t.Errorf("sign out: %d\n%s", resp.StatusCode, page)
	}
	// The API does not take the console's cookies (SECURITY.md C4).
	req, _ := http.NewRequest("GET", e.url("/account/sessions"), nil)
	req.Header.Set("Accept", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API with the console's cookies only: %d", resp.StatusCode)
	}
}

func TestConsolePersonalInfo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	csrf := b.signIn("user1", "password")
	form := url.Values{"email": {"user1@example.com"}, "firstName": {"Ursula"}, "lastName": {"One"}}
	// A token one character off. Its first character is changed to one it
	// is not: a fixed "x" was the token itself whenever it began with "x".
	wrong := "x" + csrf[1:]
	if csrf[0] == 'x' {
		wrong = "y" + csrf[1:]
	}

	// Refused before anything changes: no CSRF token, a wrong one, another
	// origin, another site.
	for name, tc := range map[string]struct {
		csrf string
		hdr  []string
	}{
		"no CSRF token":    {"", nil},
		"wrong CSRF token": {wrong, nil},
		"other origin":     {csrf, []string{"Origin", "https://evil.example"}},
		"null origin":      {csrf, []string{"Origin", "null"}},
		"cross-site fetch": {csrf, []string{"Origin", "", "Sec-Fetch-Site", "cross-site"}},
	} {
		resp, _ := b.post("personal-info", tc.csrf, url.Values{"email": {"user1@example.com"}, "firstName": {"Mallory"}, "lastName": {"One"}}, tc.hdr...)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
	}
	if u := e.user(user1ID); u.FirstName != "User" {
		t.Fatalf("a refused form changed the user: %q", u.FirstName)
	}
	// Another browser's valid-looking form without the session cookie.
	if resp, _ := e.browser().post("personal-info", csrf, form); resp.StatusCode != http.StatusSeeOther ||
		resp.Header.Get("Location") != "/realms/ldap-demo/account/" || e.user(user1ID).FirstName != "User" {
		t.Errorf("form without a session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	resp, page := b.post("personal-info", csrf, url.Values{"email": {"not an address"}, "firstName": {"Ursula"}, "lastName": {"One"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Invalid email address.") || !strings.Contains(page, `value="not an address"`) ||
		!strings.Contains(page, `aria-invalid="true"`) {
		t.Errorf("invalid email: %d\n%s", resp.StatusCode, page)
	}
	if u := e.user(user1ID); u.FirstName != "User" || u.Email != "user1@example.com" {
		t.Errorf("an invalid form changed the user: %+v", u)
	}
	// The username field is read-only; a crafted one is refused.
	resp, page = b.post("personal-info", csrf, url.Values{"username": {"admin"}, "email": {"user1@example.com"}, "firstName": {"Ursula"}, "lastName": {"One"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Update of read-only attribute rejected") || e.user(user1ID).Username != "user1" {
		t.Errorf("crafted username: %d", resp.StatusCode)
	}

	resp, _ = b.post("personal-info", csrf, url.Values{"email": {"ursula@example.org"}, "firstName": {"Ursula"}, "lastName": {"One"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/realms/ldap-demo/account/?done=profile" {
		t.Fatalf("save: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if u := e.user(user1ID); u.FirstName != "Ursula" || u.Email != "ursula@example.org" || u.EmailVerified {
		t.Errorf("saved: %+v", u)
	}
	_, page = b.do("GET", "/realms/ldap-demo/account/?done=profile", nil)
	if !strings.Contains(page, "Your account has been updated.") || !strings.Contains(page, "Not verified") {
		t.Errorf("after save:\n%s", page)
	}
	// ?done= shows only messages of its own.
	if _, page = b.do("GET", "/realms/ldap-demo/account/?done=<b>hi</b>", nil); strings.Contains(page, "<b>hi") || strings.Contains(page, `id="alert"`) {
		t.Errorf("?done= with text of its own:\n%s", page)
	}
}

func TestConsolePasswordChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Without brute-force detection here; TestConsolePasswordGuessesCount
	// has it on.
	e.updateRealm(func(r *realm.Realm) { r.BruteForceProtected = false; r.PasswordPolicy = "length(12) and notUsername" })
	b := e.browser()
	b.signIn("user1", "password")
	csrf := b.csrf("/realms/ldap-demo/account/account-security/signing-in")
	other := e.login("user1", "password", "openid")

	for name, tc := range map[string]struct {
		form url.Values
		want string
	}{
		"no current password":    {url.Values{"password-new": {"a-new-password-1"}, "password-confirm": {"a-new-password-1"}}, "Please specify password."},
		"wrong current password": {url.Values{"password": {"wrong"}, "password-new": {"a-new-password-1"}, "password-confirm": {"a-new-password-1"}}, "Invalid existing password."},
		"no new password":        {url.Values{"password": {"password"}, "password-new": {""}, "password-confirm": {""}}, "Please specify password."},
		"confirmation differs":   {url.Values{"password": {"password"}, "password-new": {"a-new-password-1"}, "password-confirm": {"a-new-password-2"}}, "Passwords don&#39;t match."},
		"policy: too short":      {url.Values{"password": {"password"}, "password-new": {"short"}, "password-confirm": {"short"}}, "minimum length 12"},
	} {
		resp, page := b.post("password", csrf, tc.form)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, tc.want) {
			t.Errorf("%s: %d\n%s", name, resp.StatusCode, page)
		}
	}
	if st, _ := e.tokenRequest(url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {"password"}}, "ldap-app", "password"); st != 200 {
		t.Fatalf("a refused change changed the password: %d", st)
	}

	resp, _ := b.post("password", csrf, url.Values{"password": {"password"}, "password-new": {"a-new-password-1"},
		"password-confirm": {"a-new-password-1"}, "logout-sessions": {"on"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/realms/ldap-demo/account/account-security/signing-in?done=password" {
		t.Fatalf("change: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if st, _ := e.tokenRequest(url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {"password"}}, "ldap-app", "password"); st == 200 {
		t.Errorf("old password still works")
	}
	e.login("user1", "a-new-password-1", "openid")
	if st, _ := e.refresh(other["refresh_token"].(string)); st != 400 {
		t.Errorf("\"sign out from other devices\" left a session: %d", st)
	}
	if resp, page := b.do("GET", "/realms/ldap-demo/account/account-security/signing-in?done=password", nil); resp.StatusCode != 200 ||
		!strings.Contains(page, "Your password has been updated.") {
		t.Errorf("the console's own session ended: %d", resp.StatusCode)
	}
}

// SECURITY.md C6: guesses of the current password count toward the
// realm's brute-force lockout, exactly as guesses at the login page do.
func TestConsolePasswordGuessesCount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.updateRealm(func(r *realm.Realm) { r.BruteForceProtected, r.PermanentLockout, r.FailureFactor = true, true, 3 })
	b := e.browser()
	b.signIn("user1", "password")
	csrf := b.csrf("/realms/ldap-demo/account/account-security/signing-in")
	for range 3 {
		resp, _ := b.post("password", csrf, url.Values{"password": {"guess"}, "password-new": {"a-new-password-1"}, "password-confirm": {"a-new-password-1"}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("guess: %d", resp.StatusCode)
		}
	}
	if st, m := e.tokenRequest(url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {"password"}}, "ldap-app", "password"); st == 200 {
		t.Fatalf("after 3 wrong current passwords the user can still log in: %v", m)
	}
}

func TestConsoleDeviceActivity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.signIn("user1", "password")
	mine := e.login("user1", "password", "openid")
	theirs := e.login("User2", "password2", "openid")
	csrf := b.csrf("/realms/ldap-demo/account/account-security/device-activity")

	resp, page := b.post("sessions/sign-out", csrf, url.Values{"session_id": {theirs["session_state"].(string)}})
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "That session was not found.") {
		t.Errorf("another user's session: %d", resp.StatusCode)
	}
	if st, _ := e.refresh(theirs["refresh_token"].(string)); st != 200 {
		t.Fatalf("User2's session ended through user1's console: %d", st)
	}
	_, page = b.do("GET", "/realms/ldap-demo/account/account-security/device-activity", nil)
	if !strings.Contains(page, `id="signout-`+mine["session_state"].(string)+`"`) || strings.Contains(page, theirs["session_state"].(string)) {
		t.Errorf("device activity:\n%s", page)
	}
	resp, _ = b.post("sessions/sign-out", csrf, url.Values{"session_id": {mine["session_state"].(string)}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "?done=session") {
		t.Fatalf("sign out: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if st, _ := e.refresh(mine["refresh_token"].(string)); st != 400 {
		t.Errorf("signed-out session still refreshes: %d", st)
	}

	more := e.login("user1", "password", "openid")
	if resp, _ := b.post("sessions/sign-out-others", csrf, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out others: %d", resp.StatusCode)
	}
	if st, _ := e.refresh(more["refresh_token"].(string)); st != 400 {
		t.Errorf("other session survived: %d", st)
	}
	if st, _ := e.refresh(theirs["refresh_token"].(string)); st != 200 {
		t.Errorf("User2's session ended: %d", st)
	}
	if resp, _ := b.do("GET", "/realms/ldap-demo/account/account-security/device-activity", nil); resp.StatusCode != 200 {
		t.Errorf("the console's own session ended: %d", resp.StatusCode)
	}
}

func TestConsoleRemoveAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	offline := e.login("user1", "password", "openid info offline_access")
	theirs := e.login("User2", "password2", "openid offline_access")
	b := e.browser()
	b.signIn("user1", "password")
	csrf := b.csrf("/realms/ldap-demo/account/applications")
	resp, _ := b.post("applications/remove-access", csrf, url.Values{"client_id": {"ldap-app"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "/applications?done=access") {
		t.Fatalf("remove access: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if st, m := e.refresh(offline["refresh_token"].(string)); st != 400 || m["error"] != "invalid_grant" {
		t.Errorf("offline token after remove access: %d %v", st, m)
	}
	if st, _ := e.refresh(theirs["refresh_token"].(string)); st != 200 {
		t.Errorf("User2's offline token was revoked: %d", st)
	}
	_, page := b.do("GET", "/realms/ldap-demo/account/applications?done=access", nil)
	if strings.Contains(page, "LDAP demo app") || !strings.Contains(page, "Access was removed.") {
		t.Errorf("applications after removal:\n%s", page)
	}
	if resp, _ := b.post("applications/remove-access", csrf, url.Values{"client_id": {"no-such-app"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown client: %d", resp.StatusCode)
	}
	if _, err := e.db.GetUserSession(context.Background(), e.realm.ID, theirs["session_state"].(string)); err != nil {
		t.Errorf("User2's offline session: %v", err)
	}
}

// Regression (issue 13): a browser-like Accept: */* (or none) on
// /account/ got the API's 401, and Keycloak's own console paths a raw JSON
// 405. As in Keycloak, only a request whose Accept names application/json
// reaches the API; the others get the console, and a console path we have
// no page for leads to the nearest one.
func TestConsoleAnswersWhateverTheBrowserAccepts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	for _, accept := range []string{"*/*", "", "text/plain, */*"} {
		resp, body := b.do("GET", "/realms/ldap-demo/account/", nil, "Accept", accept)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc == nil || loc.Path != "/realms/ldap-demo/protocol/openid-connect/auth" {
			t.Errorf("Accept %q: %d %q %.100s, want the console's login redirect", accept, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
	for _, accept := range []string{"application/json", "application/json, text/plain, */*", "text/html;q=0.5, application/json"} {
		resp, _ := b.do("GET", "/realms/ldap-demo/account/", nil, "Accept", accept)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("Accept %q: %d %s, want the API's 401", accept, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}

	// The Resources pages exist in a realm that allows user-managed access.
	e.updateRealm(func(r *realm.Realm) { r.UserManagedAccessAllowed = true })
	b.signIn("user1", "password")
	for path, want := range map[string]string{
		"/realms/ldap-demo/account/account-security/authorization": "/realms/ldap-demo/account/account-security/signing-in",
		"/realms/ldap-demo/account/account-security/x/y":           "/realms/ldap-demo/account/account-security/signing-in",
		"/realms/ldap-demo/account/groups":                         "/realms/ldap-demo/account/",
		"/realms/ldap-demo/account/resources/shared":               "/realms/ldap-demo/account/resources",
		"/realms/ldap-demo/account/resources/x/permissions":        "/realms/ldap-demo/account/resources",
	} {
		resp, body := b.do("GET", path, nil, "Accept", "*/*")
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
			t.Errorf("%s: %d %q %.100s, want a redirect to %s", path, resp.StatusCode, resp.Header.Get("Location"), body, want)
			continue
		}
		if resp, page := b.do("GET", want, nil); resp.StatusCode != http.StatusOK || !strings.Contains(page, "<html") {
			t.Errorf("%s → %s: %d", path, want, resp.StatusCode)
		}
	}
	// The API's unknown paths stay the API's.
	req, _ := http.NewRequest("GET", e.url("/account/groups"), nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("API GET /account/groups: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
