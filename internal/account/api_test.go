package account_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// Every endpoint of the API, with a body where it takes one.
var endpoints = []struct{ method, path string }{
	{"GET", "/account/"},
	{"GET", "/account"},
	{"POST", "/account/"},
	{"GET", "/account/credentials"},
	{"DELETE", "/account/credentials/some-id"},
	{"GET", "/account/sessions"},
	{"GET", "/account/sessions/devices"},
	{"DELETE", "/account/sessions"},
	{"DELETE", "/account/sessions/some-id"},
	{"GET", "/account/applications"},
	{"DELETE", "/account/applications/ldap-app/consent"},
	{"GET", "/account/v1/sessions"},
	{"DELETE", "/account/v1/applications/ldap-app/consent"},
}

func TestAPIRefusesCallsWithoutAValidToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	master := e.srv.URL + "/realms/master/protocol/openid-connect/token"
	resp, err := http.PostForm(master, url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {"admin"}, "password": {"admin-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	var mt map[string]any
	json.NewDecoder(resp.Body).Decode(&mt)
	resp.Body.Close()
	masterToken, _ := mt["access_token"].(string)
	// admin-cli's tokens are lightweight: no audience, so not for the
	// account service.
	cliToken := e.publicLogin("admin-cli", "user1", "password")["access_token"].(string)
	user1 := e.login("user1", "password", "openid")
	for _, tc := range []struct{ name, token string }{
		{"no token", ""},
		{"garbage", "not-a-jwt"},
		{"another realm's token", masterToken},
		{"token without the account audience", cliToken},
		{"refresh token as bearer", user1["refresh_token"].(string)},
		{"ID token as bearer", user1["id_token"].(string)},
	} {
		for _, ep := range endpoints {
			var body any
			if ep.method == "POST" {
				body = map[string]any{"firstName": "Mallory"}
			}
			st, hdr, b := e.call(ep.method, ep.path, tc.token, body)
			if st != http.StatusUnauthorized || string(b) != `{"error":"HTTP 401 Unauthorized"}` {
				t.Errorf("%s: %s %s: %d %s", tc.name, ep.method, ep.path, st, b)
			}
			if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: %s %s: WWW-Authenticate %q", tc.name, ep.method, ep.path, hdr.Get("WWW-Authenticate"))
			}
		}
	}
	if u := e.user(user1ID); u.FirstName != "User" {
		t.Errorf("a refused call changed the user: %q", u.FirstName)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/realms/nope/account/", nil)
	req.Header.Set("Accept", "application/json")
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusNotFound {
		t.Errorf("unknown realm: %d", r2.StatusCode)
	}
}

// SECURITY.md C1: a caller without manage-account may read with
// view-profile but change nothing; without any account role, nothing.
func TestAPIRequiresTheAccountRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The account console's own tokens are accepted whatever their
	// audience; a direct grant gets one here.
	e.updateClient("account-console", func(c *client.Client) { c.DirectAccessGrantsEnabled = true })
	e.newUser("nobody")
	viewer := e.newUser("viewer", "view-profile")
	other := e.login("user1", "password", "openid")
	nobody := e.publicLogin("account-console", "nobody", "pw-nobody")["access_token"].(string)
	for _, ep := range endpoints {
		var body any
		if ep.method == "POST" {
			body = map[string]any{"firstName": "Mallory"}
		}
		if st, _, b := e.call(ep.method, ep.path, nobody, body); st != http.StatusForbidden || string(b) != `{"error":"HTTP 403 Forbidden"}` {
			t.Errorf("no account role: %s %s: %d %s", ep.method, ep.path, st, b)
		}
	}
	// A token of an ordinary client carries the account audience once the
	// user holds an account role.
	view := e.login("viewer", "pw-viewer", "openid")["access_token"].(string)
	for _, path := range []string{"/account/", "/account/credentials", "/account/sessions", "/account/sessions/devices"} {
		if st, _, b := e.call("GET", path, view, nil); st != 200 {
			t.Errorf("view-profile: GET %s: %d %s", path, st, b)
		}
	}
	for _, ep := range []struct{ method, path string }{
		{"POST", "/account/"}, {"DELETE", "/account/sessions"},
		{"DELETE", "/account/sessions/" + other["session_state"].(string)},
		{"DELETE", "/account/applications/ldap-app/consent"}, {"GET", "/account/applications"},
	} {
		if st, _, b := e.call(ep.method, ep.path, view, map[string]any{"firstName": "Mallory"}); st != http.StatusForbidden {
			t.Errorf("view-profile only: %s %s: %d %s", ep.method, ep.path, st, b)
		}
	}
	if u := e.user(viewer.ID); u.FirstName != "New" {
		t.Errorf("a refused update changed the user: %q", u.FirstName)
	}
	if st, _ := e.refresh(other["refresh_token"].(string)); st != 200 {
		t.Errorf("a refused delete ended user1's session: %d", st)
	}
	// The console's token of a user with the roles works.
	console := e.publicLogin("account-console", "user1", "password")["access_token"].(string)
	if st, _, b := e.call("GET", "/account/", console, nil); st != 200 {
		t.Errorf("account-console token: %d %s", st, b)
	}
}

func TestGetAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.login("user1", "password", "openid")["access_token"].(string)
	for _, path := range []string{"/account/", "/account", "/account/v1/"} {
		var got map[string]any
		e.get(path, tok, &got)
		if got["id"] != user1ID || got["username"] != "user1" || got["firstName"] != "User" || got["lastName"] != "One" ||
			got["email"] != "user1@example.com" || got["emailVerified"] != true {
			t.Errorf("%s: %v", path, got)
		}
		md, _ := got["userProfileMetadata"].(map[string]any)
		attrs, _ := md["attributes"].([]any)
		if len(attrs) != 4 || attrs[0].(map[string]any)["name"] != "username" || attrs[0].(map[string]any)["readOnly"] != true {
			t.Errorf("%s: userProfileMetadata %v", path, md)
		}
	}
	var brief map[string]any
	e.get("/account/?userProfileMetadata=false", tok, &brief)
	if _, ok := brief["userProfileMetadata"]; ok {
		t.Errorf("userProfileMetadata=false: %v", brief)
	}
	// User2 has an administrator's attribute (department): never shown.
	tok2 := e.login("User2", "password2", "openid")["access_token"].(string)
	st, _, b := e.call("GET", "/account/", tok2, nil)
	if st != 200 || strings.Contains(string(b), "research") || strings.Contains(string(b), "department") {
		t.Errorf("User2: %d %s", st, b)
	}
}

func TestUpdateAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.login("user1", "password", "openid")["access_token"].(string)
	type errBody struct {
		Field        string `json:"field"`
		ErrorMessage string `json:"errorMessage"`
		Errors       []struct {
			Field        string `json:"field"`
			ErrorMessage string `json:"errorMessage"`
		} `json:"errors"`
	}
	refused := func(name string, body any, status int, field, msg string) {
		t.Helper()
		before := e.user(user1ID)
		st, _, b := e.call("POST", "/account/", tok, body)
		var eb errBody
		json.Unmarshal(b, &eb)
		if st != status || eb.Field != field || eb.ErrorMessage != msg || len(eb.Errors) != 1 || eb.Errors[0].ErrorMessage != msg {
			t.Errorf("%s: %d %s", name, st, b)
		}
		if after := e.user(user1ID); after.FirstName != before.FirstName || after.LastName != before.LastName ||
			after.Email != before.Email || after.Username != before.Username || after.EmailVerified != before.EmailVerified {
			t.Errorf("%s: the refused update changed the user: %+v", name, after)
		}
	}

	if st, _, b := e.call("POST", "/account/", tok, map[string]any{"firstName": " Ursula ", "lastName": "Oneida"}); st != 204 {
		t.Fatalf("names: %d %s", st, b)
	}
	if u := e.user(user1ID); u.FirstName != "Ursula" || u.LastName != "Oneida" || u.Email != "user1@example.com" || !u.EmailVerified {
		t.Errorf("names: %+v", u)
	}

	refused("invalid email", map[string]any{"email": "not-an-address", "firstName": "Changed"}, 400, "email", "invalidEmailMessage")
	refused("email with two @", map[string]any{"email": "a@b@example.com"}, 400, "email", "invalidEmailMessage")
	refused("email with a space", map[string]any{"email": "a b@example.com"}, 400, "email", "invalidEmailMessage")
	refused("empty email", map[string]any{"email": ""}, 400, "email", "missingEmailMessage")
	refused("someone else's email", map[string]any{"email": "USER2@example.com"}, 409, "email", "emailExistsMessage")
	refused("markup in a name", map[string]any{"firstName": "<script>alert(1)</script>"}, 400, "firstName", "error-person-name-invalid-character")
	refused("empty last name", map[string]any{"lastName": "  "}, 400, "lastName", "missingLastNameMessage")
	refused("name too long", map[string]any{"lastName": strings.Repeat("x", 256)}, 400, "lastName", "error-invalid-length-too-long")
	// SECURITY.md C2: the username is read-only unless the realm allows
	// editing it.
	refused("username change", map[string]any{"username": "admin"}, 400, "username", "updateReadOnlyAttributesRejectedMessage")
	if st, _, b := e.call("POST", "/account/", tok, "{not json"); st != 400 {
		t.Errorf("bad JSON: %d %s", st, b)
	}

	// A new email is unverified, and the caller cannot verify it
	// (CVE-2026-27946); ids and attributes in the body change nothing.
	st, _, b := e.call("POST", "/account/", tok, map[string]any{"email": "New.Address@Example.org", "emailVerified": true,
		"id": user2ID, "username": "USER1", "attributes": map[string]any{"department": []string{"admins"}}})
	if st != 204 {
		t.Fatalf("email change: %d %s", st, b)
	}
	if u := e.user(user1ID); u.Email != "new.address@example.org" || u.EmailVerified || u.Username != "user1" || len(u.Attributes["department"]) != 0 {
		t.Errorf("email change: %+v", u)
	}
	if u := e.user(user2ID); u.Email != "user2@example.com" || u.Attributes["department"][0] != "research" {
		t.Errorf("User2 changed: %+v", u)
	}
	// Setting emailVerified alone does nothing.
	if st, _, _ := e.call("POST", "/account/", tok, map[string]any{"emailVerified": true}); st != 204 || e.user(user1ID).EmailVerified {
		t.Errorf("emailVerified set by the user: %d %v", st, e.user(user1ID).EmailVerified)
	}

	e.updateRealm(func(r *realm.Realm) { r.EditUsernameAllowed = true })
	refused("taken username", map[string]any{"username": "user2"}, 409, "username", "usernameExistsMessage")
	refused("bad username", map[string]any{"username": "a b"}, 400, "username", "error-username-invalid-character")
	if st, _, b := e.call("POST", "/account/", tok, map[string]any{"username": "first-user"}); st != 204 || e.user(user1ID).Username != "first-user" {
		t.Errorf("username change allowed: %d %s", st, b)
	}
}

func TestCredentialsNeverShowSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.login("user1", "password", "openid")["access_token"].(string)
	st, _, b := e.call("GET", "/account/credentials", tok, nil)
	var got []struct {
		Type                    string `json:"type"`
		Category                string `json:"category"`
		UpdateAction            string `json:"updateAction"`
		UserCredentialMetadatas []struct {
			Credential map[string]any `json:"credential"`
		} `json:"userCredentialMetadatas"`
	}
	if err := json.Unmarshal(b, &got); err != nil || st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	if len(got) != 2 || got[0].Type != "password" || got[0].Category != "basic-authentication" || got[0].UpdateAction != "UPDATE_PASSWORD" ||
		len(got[0].UserCredentialMetadatas) != 1 || got[0].UserCredentialMetadatas[0].Credential["id"] != "c1c1c1c1-6666-4e4e-8f8f-000000000001" ||
		got[0].UserCredentialMetadatas[0].Credential["userLabel"] != "My password" {
		t.Errorf("credentials: %s", b)
	}
	for _, secret := range []string{"secretData", "credentialData", "salt", "value", "hashIterations", "pbkdf2", "Z2F0ZWhvdXNl"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("credentials show %q: %s", secret, b)
		}
	}
	// OTP is offered to be set up (the realm's flows use it) but the
	// user has none.
	st, _, b = e.call("GET", "/account/credentials?type=otp", tok, nil)
	if st != 200 || !strings.Contains(string(b), `"createAction":"CONFIGURE_TOTP"`) || !strings.Contains(string(b), `"userCredentialMetadatas":[]`) {
		t.Errorf("?type=otp: %d %s", st, b)
	}
}

type sessionJSON struct {
	ID         string `json:"id"`
	IPAddress  string `json:"ipAddress"`
	Started    int64  `json:"started"`
	LastAccess int64  `json:"lastAccess"`
	Expires    int64  `json:"expires"`
	Browser    string `json:"browser"`
	Current    bool   `json:"current"`
	Clients    []struct {
		ClientID      string `json:"clientId"`
		ClientName    string `json:"clientName"`
		InUse         bool   `json:"inUse"`
		OfflineAccess bool   `json:"offlineAccess"`
	} `json:"clients"`
}

func TestSessionsAndDevices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.login("user1", "password", "openid")
	tok := first["access_token"].(string)
	e.login("user1", "password", "openid offline_access")
	third := e.publicLogin("admin-cli", "user1", "password")
	var got []sessionJSON
	e.get("/account/sessions", tok, &got)
	// The offline login keeps no online session (ROPC), so two remain.
	if len(got) != 2 {
		t.Fatalf("sessions: %+v", got)
	}
	byID := map[string]sessionJSON{}
	for _, s := range got {
		byID[s.ID] = s
	}
	cur, ok := byID[first["session_state"].(string)]
	if !ok || !cur.Current || cur.IPAddress != "127.0.0.1" || cur.Started == 0 || cur.LastAccess < cur.Started ||
		cur.Expires != cur.Started+int64(e.realm.SSOSessionMaxLifespan) || len(cur.Clients) != 1 || cur.Clients[0].ClientID != "ldap-app" ||
		cur.Clients[0].ClientName != "LDAP demo app" || !cur.Clients[0].InUse || !cur.Clients[0].OfflineAccess {
		t.Errorf("current session: %+v", cur)
	}
	if other := byID[third["session_state"].(string)]; other.Current || len(other.Clients) != 1 || other.Clients[0].ClientID != "admin-cli" {
		t.Errorf("admin-cli session: %+v", other)
	}

	var devs []struct {
		ID         string        `json:"id"`
		OS         string        `json:"os"`
		OSVersion  string        `json:"osVersion"`
		Browser    string        `json:"browser"`
		Device     string        `json:"device"`
		LastAccess int64         `json:"lastAccess"`
		Current    bool          `json:"current"`
		Sessions   []sessionJSON `json:"sessions"`
	}
	st, _, b := e.call("GET", "/account/sessions/devices", tok, nil,
		"User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15")
	if err := json.Unmarshal(b, &devs); err != nil || st != 200 {
		t.Fatalf("devices: %d %s", st, b)
	}
	// The current session is the caller's browser; the other one recorded
	// no user agent.
	if len(devs) != 2 || !devs[0].Current || devs[0].OS != "Mac OS X" || devs[0].OSVersion != "10.15.7" || devs[0].Device != "Mac" ||
		devs[0].Browser != "Safari/17.1" || len(devs[0].Sessions) != 1 || !devs[0].Sessions[0].Current ||
		devs[1].Current || devs[1].OS != "Other" || devs[1].Browser != "Other" || len(devs[1].Sessions) != 1 {
		t.Errorf("devices: %s", b)
	}
}

// SECURITY.md C5: a user cannot end another user's session by its id.
func TestDeleteSessionOnlyOwnSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mine := e.login("user1", "password", "openid")
	tok := mine["access_token"].(string)
	myOther := e.login("user1", "password", "openid")
	theirs := e.login("User2", "password2", "openid")
	offline := e.login("user1", "password", "openid offline_access")

	for _, id := range []string{theirs["session_state"].(string), "no-such-session", offline["session_state"].(string)} {
		st, _, b := e.call("DELETE", "/account/sessions/"+id, tok, nil)
		if st != http.StatusNotFound {
			t.Errorf("DELETE %s: %d %s", id, st, b)
		}
	}
	if st, m := e.refresh(theirs["refresh_token"].(string)); st != 200 {
		t.Fatalf("User2's session ended by user1: %d %v", st, m)
	}
	if _, err := e.db.GetUserSession(context.Background(), e.realm.ID, theirs["session_state"].(string)); err != nil {
		t.Errorf("User2's session: %v", err)
	}
	if st, _ := e.refresh(offline["refresh_token"].(string)); st != 200 {
		t.Errorf("the offline session was ended through the sessions API: %d", st)
	}

	if st, _, b := e.call("DELETE", "/account/sessions/"+myOther["session_state"].(string), tok, nil); st != 204 {
		t.Fatalf("own session: %d %s", st, b)
	}
	if st, m := e.refresh(myOther["refresh_token"].(string)); st != 400 || m["error"] != "invalid_grant" {
		t.Errorf("signed-out session still refreshes: %d %v", st, m)
	}

	// DELETE /sessions: every other session, never another user's.
	again := e.login("user1", "password", "openid")
	if st, _, b := e.call("DELETE", "/account/sessions", tok, nil); st != 204 {
		t.Fatalf("DELETE /sessions: %d %s", st, b)
	}
	if st, _ := e.refresh(again["refresh_token"].(string)); st != 400 {
		t.Errorf("other session survived DELETE /sessions: %d", st)
	}
	if st, _, _ := e.call("GET", "/account/", tok, nil); st != 200 {
		t.Errorf("DELETE /sessions ended the current session: %d", st)
	}
	if st, _ := e.refresh(theirs["refresh_token"].(string)); st != 200 {
		t.Errorf("DELETE /sessions ended User2's session: %d", st)
	}
	if st, _, _ := e.call("DELETE", "/account/sessions?current=true", tok, nil); st != 204 {
		t.Errorf("DELETE /sessions?current=true: %d", st)
	}
	if st, _, _ := e.call("GET", "/account/", tok, nil); st != 401 {
		t.Errorf("current session survived ?current=true: %d", st)
	}
}

type appJSON struct {
	ClientID            string `json:"clientId"`
	ClientName          string `json:"clientName"`
	UserConsentRequired bool   `json:"userConsentRequired"`
	InUse               bool   `json:"inUse"`
	OfflineAccess       bool   `json:"offlineAccess"`
	RootURL             string `json:"rootUrl"`
	BaseURL             string `json:"baseUrl"`
	EffectiveURL        string `json:"effectiveUrl"`
	Consent             *struct {
		GrantedScopes []struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			DisplayText string `json:"displayText"`
		} `json:"grantedScopes"`
		CreatedDate     int64 `json:"createdDate"`
		LastUpdatedDate int64 `json:"lastUpdatedDate"`
	} `json:"consent"`
}

func apps(e *env, tok string) map[string]appJSON {
	e.t.Helper()
	var list []appJSON
	e.get("/account/applications", tok, &list)
	out := map[string]appJSON{}
	for _, a := range list {
		out[a.ClientID] = a
	}
	return out
}

// Story 1: the user removes ldap-app's offline access, and the offline
// token is refused from then on.
func TestRevokeConsentRevokesOfflineToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	offline := e.login("user1", "password", "openid info offline_access")
	if st, m := e.refresh(offline["refresh_token"].(string)); st != 200 {
		t.Fatalf("offline token before: %d %v", st, m)
	}
	// ldap-app is also in use online; the caller is the account console.
	// (Revoking signs ldap-app out of the user's online sessions too, as
	// Keycloak does, so an ldap-app token could not ask afterwards.)
	inUse := e.login("user1", "password", "openid")
	e.updateClient("account-console", func(c *client.Client) { c.DirectAccessGrantsEnabled = true })
	tok := e.publicLogin("account-console", "user1", "password")["access_token"].(string)

	got := apps(e, tok)
	app, ok := got["ldap-app"]
	if !ok || !app.OfflineAccess || !app.InUse || app.ClientName != "LDAP demo app" || app.RootURL != "http://localhost:3000" ||
		app.EffectiveURL != "http://localhost:3000/" || app.Consent != nil {
		t.Fatalf("ldap-app: %+v (all: %v)", app, got)
	}
	if con := got["account-console"]; !con.InUse || con.OfflineAccess || con.ClientName != "${client_account-console}" ||
		con.EffectiveURL != e.srv.URL+"/realms/ldap-demo/account/" {
		t.Errorf("account-console: %+v", con)
	}

	// Another user's grant is not this user's to revoke, and stays.
	theirs := e.login("User2", "password2", "openid offline_access")

	if st, _, b := e.call("DELETE", "/account/applications/ldap-app/consent", tok, nil); st != 204 {
		t.Fatalf("revoke: %d %s", st, b)
	}
	if st, m := e.refresh(offline["refresh_token"].(string)); st != 400 || m["error"] != "invalid_grant" {
		t.Errorf("offline token after revocation: %d %v", st, m)
	}
	if st, _ := e.refresh(theirs["refresh_token"].(string)); st != 200 {
		t.Errorf("User2's offline token was revoked too: %d", st)
	}
	if st, _ := e.refresh(inUse["refresh_token"].(string)); st != 400 {
		t.Errorf("ldap-app's online session survived the revocation: %d", st)
	}
	if app, listed := apps(e, tok)["ldap-app"]; listed {
		t.Errorf("ldap-app after revocation: %+v", app)
	}
	// Keycloak answers 204 again for a client with nothing left to revoke,
	// and 404 for a client the realm does not have.
	if st, _, b := e.call("DELETE", "/account/v1/applications/ldap-app/consent", tok, nil); st != 204 {
		t.Errorf("second revoke: %d %s", st, b)
	}
	if st, _, b := e.call("DELETE", "/account/applications/no-such-app/consent", tok, nil); st != 404 ||
		string(b) != `{"errorMessage":"No client with clientId: no-such-app found."}` {
		t.Errorf("unknown client: %d %s", st, b)
	}
}

func TestApplicationsShowConsents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.updateClient("ldap-app", func(c *client.Client) { c.ConsentRequired = true })
	app, _ := e.db.GetClientByClientID(ctx, e.realm.ID, "ldap-app")
	info, _ := e.db.GetClientScopeByName(ctx, e.realm.ID, "info")
	offline, _ := e.db.GetClientScopeByName(ctx, e.realm.ID, "offline_access")
	if err := e.db.UpdateClientScope(ctx, e.realm.ID, offline.ID, func(s *client.Scope) error {
		s.Attributes["consent.screen.text"] = "${offlineAccessScopeConsentText}"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	granted := time.Now().UnixMilli()
	if err := e.db.GrantConsent(ctx, user1ID, app.ID, []string{info.ID, offline.ID}, granted); err != nil {
		t.Fatal(err)
	}
	e.updateClient("account-console", func(c *client.Client) { c.DirectAccessGrantsEnabled = true })
	tok := e.publicLogin("account-console", "user1", "password")["access_token"].(string)
	got := apps(e, tok)["ldap-app"]
	if got.Consent == nil || !got.UserConsentRequired || got.InUse || got.OfflineAccess || got.Consent.CreatedDate != granted ||
		len(got.Consent.GrantedScopes) != 2 {
		t.Fatalf("ldap-app with a consent: %+v", got)
	}
	names := []string{got.Consent.GrantedScopes[0].Name, got.Consent.GrantedScopes[1].Name}
	slices.Sort(names)
	texts := got.Consent.GrantedScopes[0].DisplayText + got.Consent.GrantedScopes[1].DisplayText
	if !slices.Equal(names, []string{"${offlineAccessScopeConsentText}", "info"}) || texts != "Offline Access" {
		t.Errorf("granted scopes: %+v", got.Consent.GrantedScopes)
	}
	if st, _, b := e.call("DELETE", "/account/applications/ldap-app/consent", tok, nil); st != 204 {
		t.Fatalf("revoke consent: %d %s", st, b)
	}
	if _, still := apps(e, tok)["ldap-app"]; still {
		t.Error("ldap-app still listed after its consent was revoked")
	}
	if _, err := e.db.GetConsent(ctx, user1ID, app.ID); err == nil {
		t.Error("consent still stored")
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.login("user1", "password", "openid")["access_token"].(string)
	for _, tc := range []struct {
		origin string
		allow  bool
	}{
		{e.srv.URL, true},               // the console's own origin
		{"http://localhost:3000", true}, // ldap-app's web origin, in the token
		{"https://evil.example", false}, // anyone else
		{"http://localhost:3000.evil", false},
	} {
		_, hdr, _ := e.call("GET", "/account/", tok, nil, "Origin", tc.origin)
		if got := hdr.Get("Access-Control-Allow-Origin"); (got == tc.origin) != tc.allow || (!tc.allow && got != "") {
			t.Errorf("origin %s: Access-Control-Allow-Origin %q", tc.origin, got)
		}
	}
	st, hdr, _ := e.call("OPTIONS", "/account/sessions", "", nil, "Origin", "http://localhost:3000", "Access-Control-Request-Method", "DELETE")
	if st != 200 || !strings.Contains(hdr.Get("Access-Control-Allow-Methods"), "DELETE") || !strings.Contains(hdr.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", st, hdr)
	}
}
