package login_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// onBoth runs fn against a server on SQLite and one on PostgreSQL.
func onBoth(t *testing.T, fn func(t *testing.T, e *env), edit ...func(*realm.Realm)) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		fn(t, newEnvOn(t, open, web.URLs{}, edit...))
	})
}

// enableAction switches a required action on or off in the realm.
func (e *env) enableAction(alias string, on bool) {
	e.t.Helper()
	err := e.db.UpdateAuthConfig(context.Background(), e.realm.ID, func(c *flow.Config) error {
		for i := range c.RequiredActions {
			if c.RequiredActions[i].Alias == alias {
				c.RequiredActions[i].Enabled = on
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// submit posts page's form with its hidden fields and extra.
func (e *env) submit(b *browser, page response, extra map[string]string) response {
	e.t.Helper()
	action, fields := e.form(page)
	for k, v := range extra {
		fields.Set(k, v)
	}
	return b.post(action, fields)
}

// passwordGrant asks the token endpoint for tokens with a password.
func (e *env) passwordGrant(username, password string) (int, map[string]any) {
	e.t.Helper()
	res, err := http.PostForm(e.url("/protocol/openid-connect/token"), url.Values{"grant_type": {"password"},
		"client_id": {"app"}, "client_secret": {appSecret}, "username": {username}, "password": {password}})
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out map[string]any
	json.Unmarshal(b, &out)
	return res.StatusCode, out
}

func directGrants(e *env) {
	e.t.Helper()
	err := e.db.UpdateClient(context.Background(), e.realm.ID, e.client("app").ID, func(c *client.Client) error {
		c.DirectAccessGrantsEnabled = true
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func TestRequiredActionsRunInPriorityOrder(t *testing.T) {
	onBoth(t, func(t *testing.T, e *env) {
		directGrants(e)
		// Listed profile first, but the realm's priorities put the
		// password (30) before the profile (40).
		e.addUser("olga", "olga-old-pw", func(u *realmUser) {
			u.RequiredActions = []string{"UPDATE_PROFILE", "UPDATE_PASSWORD", "TERMS_AND_CONDITIONS"}
		})
		if code, body := e.passwordGrant("olga", "olga-old-pw"); code != http.StatusBadRequest ||
			body["error"] != "invalid_grant" || body["error_description"] != "Account is not fully set up" {
			t.Fatalf("password grant with pending actions: %d %v", code, body)
		}
		b := e.browser()
		page := e.login(b, b.get(e.codeRequest(nil)), "olga", "olga-old-pw")
		if !strings.Contains(page.body, "Update password") || strings.Contains(page.body, "kc-cancel-aia") {
			t.Fatalf("first action: %d %s", page.status, page.body)
		}
		page = e.submit(b, page, map[string]string{"password-new": "olga-new-pw", "password-confirm": "olga-new-pw"})
		if !strings.Contains(page.body, "Update Account Information") || !strings.Contains(page.body, `value="olga@example.com"`) {
			t.Fatalf("second action: %d %s", page.status, page.body)
		}
		res := e.submit(b, page, map[string]string{"email": "olga@example.com", "firstName": "Olga", "lastName": "Ortiz"})
		// TERMS_AND_CONDITIONS is disabled in a new realm: not run, and
		// left on the user.
		if res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
			t.Fatalf("after the actions: %d %s", res.status, res.body)
		}
		if res.location(t).Query().Has("kc_action_status") {
			t.Error("kc_action_status without kc_action")
		}
		u := e.user("olga")
		if !slices.Equal(u.RequiredActions, []string{"TERMS_AND_CONDITIONS"}) || u.LastName != "Ortiz" {
			t.Errorf("user after the login: %v %q", u.RequiredActions, u.LastName)
		}
		// Any action left on the user still stops the password grant,
		// as in Keycloak.
		if code, _ := e.passwordGrant("olga", "olga-new-pw"); code != http.StatusBadRequest {
			t.Errorf("password grant with a disabled action left: %d", code)
		}
		if code, body := e.passwordGrant("alice", alicePassword); code != http.StatusOK {
			t.Errorf("password grant of a set-up user: %d %v", code, body)
		}
	})
}

func TestVerifyEmailTrigger(t *testing.T) {
	onBoth(t, func(t *testing.T, e *env) {
		directGrants(e)
		if code, body := e.passwordGrant("alice", alicePassword); code != http.StatusBadRequest || body["error_description"] != "Account is not fully set up" {
			t.Fatalf("unverified email in a realm that verifies: %d %v", code, body)
		}
		if u := e.user("alice"); !slices.Equal(u.RequiredActions, []string{"VERIFY_EMAIL"}) {
			t.Errorf("trigger did not add VERIFY_EMAIL: %v", u.RequiredActions)
		}
	}, func(r *realm.Realm) { r.VerifyEmail = true })
}

func TestUpdateProfileAction(t *testing.T) {
	onBoth(t, func(t *testing.T, e *env) {
		e.addUser("pia", "pia-pw-123", func(u *realmUser) { u.RequiredActions = []string{"UPDATE_PROFILE"} })
		b := e.browser()
		page := e.login(b, b.get(e.codeRequest(nil)), "pia", "pia-pw-123")
		if page.status != http.StatusOK || !strings.Contains(page.body, `name="lastName"`) {
			t.Fatalf("update profile page: %d %s", page.status, page.body)
		}
		for _, tt := range []struct {
			name  string
			form  map[string]string
			want  string
			state int
		}{
			{"missing last name", map[string]string{"email": "pia@example.com", "firstName": "Pia", "lastName": ""}, "Please specify last name.", 200},
			{"bad email", map[string]string{"email": "not-an-email", "firstName": "Pia", "lastName": "P"}, "Invalid email address.", 200},
			{"email of someone else", map[string]string{"email": "alice@example.com", "firstName": "Pia", "lastName": "P"}, "Email already exists.", 200},
		} {
			res := e.submit(b, page, tt.form)
			if res.status != tt.state || !strings.Contains(res.body, tt.want) {
				t.Errorf("%s: %d, want %q in %s", tt.name, res.status, tt.want, res.body)
			}
			if u := e.user("pia"); u.LastName != "" || u.Email != "pia@example.com" {
				t.Errorf("%s: stored %q %q", tt.name, u.LastName, u.Email)
			}
		}
		res := e.submit(b, page, map[string]string{"email": "pia2@example.com", "firstName": "Pia", "lastName": "Pérez"})
		if res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
			t.Fatalf("after the update: %d %s", res.status, res.body)
		}
		u := e.user("pia")
		if u.LastName != "Pérez" || u.Email != "pia2@example.com" || u.EmailVerified || len(u.RequiredActions) != 0 {
			t.Errorf("stored: %+v", u)
		}
	})
}

func TestTermsAndConditionsAction(t *testing.T) {
	onBoth(t, func(t *testing.T, e *env) {
		e.enableAction("TERMS_AND_CONDITIONS", true)
		for _, name := range []string{"tess", "ted"} {
			e.addUser(name, name+"-pw-123", func(u *realmUser) { u.RequiredActions = []string{"TERMS_AND_CONDITIONS"} })
		}
		b := e.browser()
		page := e.login(b, b.get(e.codeRequest(nil)), "tess", "tess-pw-123")
		if !strings.Contains(page.body, "Terms and Conditions") {
			t.Fatalf("terms page: %d %s", page.status, page.body)
		}
		res := e.submit(b, page, map[string]string{"accept": "yes"})
		if res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
			t.Fatalf("accept: %d %s", res.status, res.body)
		}
		if u := e.user("tess"); len(u.Attributes["terms_and_conditions"]) != 1 || len(u.RequiredActions) != 0 {
			t.Errorf("after accepting: %v %v", u.Attributes, u.RequiredActions)
		}

		b = e.browser()
		page = e.login(b, b.get(e.codeRequest(nil)), "ted", "ted-pw-123")
		res = e.submit(b, page, map[string]string{"cancel": "yes"})
		q := res.location(t).Query()
		if q.Get("error") != "access_denied" || q.Get("error_description") != "termsAndConditionsDeclined" || q.Get("state") != "st-123" || q.Has("code") {
			t.Fatalf("decline: %s", res.location(t))
		}
		if len(e.sessions("ted")) != 0 {
			t.Error("a session after declining")
		}
		if u := e.user("ted"); !slices.Equal(u.RequiredActions, []string{"TERMS_AND_CONDITIONS"}) || u.Attributes["terms_and_conditions"] != nil {
			t.Errorf("after declining: %v %v", u.RequiredActions, u.Attributes)
		}
		// The login is over: its form cannot be posted again.
		if again := e.submit(b, page, map[string]string{"accept": "yes"}); again.status != http.StatusBadRequest {
			t.Errorf("declined login reused: %d", again.status)
		}
	})
}

func TestApplicationInitiatedPasswordUpdate(t *testing.T) {
	onBoth(t, func(t *testing.T, e *env) {
		b := e.browser()
		if res := e.login(b, b.get(e.codeRequest(nil)), "alice", alicePassword); res.status != http.StatusFound {
			t.Fatalf("login: %d", res.status)
		}
		aia := func(action string) response { return b.get(e.codeRequest(map[string]string{"kc_action": action})) }

		// Within max_auth_age (300 s): the action's page at once, with a
		// cancel button.
		e.clock.Add(time.Minute)
		page := aia("UPDATE_PASSWORD")
		if !strings.Contains(page.body, "Update password") || !strings.Contains(page.body, `name="cancel-aia"`) {
			t.Fatalf("kc_action page: %d %s", page.status, page.body)
		}
		res := e.submit(b, page, map[string]string{"cancel-aia": "true"})
		q := res.location(t).Query()
		if q.Get("kc_action") != "UPDATE_PASSWORD" || q.Get("kc_action_status") != "cancelled" || q.Get("code") == "" {
			t.Fatalf("cancelled: %s", res.location(t))
		}

		// Older than max_auth_age: the login form first.
		e.clock.Add(10 * time.Minute)
		page = aia("UPDATE_PASSWORD")
		if !strings.Contains(page.body, `name="password"`) || !strings.Contains(page.body, `value="alice"`) {
			t.Fatalf("no re-authentication: %d %s", page.status, page.body)
		}
		page = e.login(b, page, "alice", alicePassword)
		if !strings.Contains(page.body, "Update password") {
			t.Fatalf("after re-authentication: %d %s", page.status, page.body)
		}
		res = e.submit(b, page, map[string]string{"password-new": "alice-new-pw", "password-confirm": "alice-new-pw"})
		q = res.location(t).Query()
		if q.Get("kc_action_status") != "success" || q.Get("code") == "" {
			t.Fatalf("success: %s", res.location(t))
		}
		b2 := e.browser()
		if res := e.login(b2, b2.get(e.codeRequest(nil)), "alice", "alice-new-pw"); res.status != http.StatusFound {
			t.Errorf("new password refused: %d", res.status)
		}

		// prompt=none cannot show the action's page.
		res = b.get(e.codeRequest(map[string]string{"kc_action": "UPDATE_PROFILE", "prompt": "none"}))
		if q := res.location(t).Query(); q.Get("error") != "interaction_required" || q.Has("code") {
			t.Errorf("kc_action with prompt=none: %s", res.location(t))
		}
		// Actions the realm does not offer end the login with an error
		// status, without a page.
		for _, action := range []string{"NO_SUCH_ACTION", "TERMS_AND_CONDITIONS", "update_user_locale"} {
			res := aia(action)
			q := res.location(t).Query()
			if q.Get("kc_action_status") != "error" || q.Get("kc_action") != action || q.Get("code") == "" {
				t.Errorf("%s: %s", action, res.location(t))
			}
		}
		// An action the user owes cannot be cancelled.
		if err := e.db.UpdateUser(context.Background(), e.realm.ID, e.user("alice").ID, func(u *user.User) error {
			u.RequiredActions = []string{"UPDATE_PROFILE"}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		page = aia("UPDATE_PROFILE")
		if !strings.Contains(page.body, "Update Account Information") || strings.Contains(page.body, "cancel-aia") {
			t.Fatalf("owed action offered a cancel: %s", page.body)
		}
		res = e.submit(b, page, map[string]string{"cancel-aia": "true", "email": "alice@example.com", "firstName": "Alice", "lastName": "A"})
		if q := res.location(t).Query(); q.Get("kc_action_status") != "success" {
			t.Errorf("owed action: %s", res.location(t))
		}
	})
}

func TestDeleteAccountAction(t *testing.T) {
	onBoth(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.enableAction("delete_account", true)
		dora := e.addUser("dora", "dora-pw-123", nil)
		b := e.browser()
		req := e.codeRequest(map[string]string{"kc_action": "delete_account"})
		page := e.login(b, b.get(req), "dora", "dora-pw-123")
		if !strings.Contains(page.body, "You do not have enough permissions to delete your own account") {
			t.Fatalf("without delete-account: %d %s", page.status, page.body)
		}
		acc := e.client("account")
		role, err := e.db.GetClientRole(ctx, e.realm.ID, acc.ID, "delete-account")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.db.AddUserRoles(ctx, dora.ID, role.ID); err != nil {
			t.Fatal(err)
		}
		// An SSO session is not recent enough for deleting an account.
		b = e.browser()
		if res := e.login(b, b.get(e.codeRequest(nil)), "dora", "dora-pw-123"); res.status != http.StatusFound {
			t.Fatal(res.status)
		}
		e.clock.Add(5 * time.Second)
		page = b.get(req)
		if !strings.Contains(page.body, `name="password"`) {
			t.Fatalf("no re-authentication: %s", page.body)
		}
		page = e.login(b, page, "dora", "dora-pw-123")
		if !strings.Contains(page.body, "Delete account confirmation") || !strings.Contains(page.body, "cancel-aia") {
			t.Fatalf("confirmation page: %d %s", page.status, page.body)
		}
		res := e.submit(b, page, nil)
		if res.status != http.StatusOK || !strings.Contains(res.body, "User deleted successfully") {
			t.Fatalf("delete: %d %s", res.status, res.body)
		}
		if _, err := e.db.GetUserByUsername(ctx, e.realm.ID, "dora"); err != store.ErrNotFound {
			t.Errorf("user still there: %v", err)
		}
		if again := e.submit(b, page, nil); again.status != http.StatusBadRequest {
			t.Errorf("deleted login reused: %d", again.status)
		}
	})
}

func TestDeleteCredentialAction(t *testing.T) {
	onBoth(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		alice := e.user("alice")
		otp := user.Credential{ID: store.NewID(), UserID: alice.ID, Type: "otp", UserLabel: "My phone",
			CreatedDate: e.clock.Now().UnixMilli(), SecretData: `{"value":"x"}`, CredentialData: `{}`}
		creds, _ := e.db.ListCredentials(ctx, alice.ID)
		var password string
		for _, c := range creds {
			if c.Type == user.CredentialPassword {
				password = c.ID
			}
		}
		b := e.browser()
		if res := e.login(b, b.get(e.codeRequest(nil)), "alice", alicePassword); res.status != http.StatusFound {
			t.Fatal(res.status)
		}
		// The app is added once she is signed in: with it from the start,
		// the browser flow would ask for its code.
		if err := e.db.CreateCredential(ctx, otp); err != nil {
			t.Fatal(err)
		}
		aia := func(v string) response { return b.get(e.codeRequest(map[string]string{"kc_action": v})) }

		// Not a credential of hers: ignored, no status.
		res := aia("delete_credential:" + store.NewID())
		if q := res.location(t).Query(); q.Has("kc_action_status") || q.Get("code") == "" {
			t.Errorf("unknown credential: %s", res.location(t))
		}
		// The password cannot be removed.
		page := aia("delete_credential:" + password)
		if !strings.Contains(page.body, "Delete password") {
			t.Fatalf("password page: %d %s", page.status, page.body)
		}
		if res := e.submit(b, page, nil); res.status != http.StatusBadRequest || !strings.Contains(res.body, "Credential type cannot be removed") {
			t.Errorf("password removed? %d %s", res.status, res.body)
		}
		page = aia("delete_credential:" + otp.ID)
		if !strings.Contains(page.body, "Do you want to delete My phone?") {
			t.Fatalf("otp page: %d %s", page.status, page.body)
		}
		res = e.submit(b, page, nil)
		if q := res.location(t).Query(); q.Get("kc_action") != "delete_credential" || q.Get("kc_action_status") != "success" {
			t.Fatalf("deleted: %s", res.location(t))
		}
		creds, _ = e.db.ListCredentials(ctx, alice.ID)
		if len(creds) != 1 || creds[0].ID != password {
			t.Errorf("credentials left: %+v", creds)
		}
	})
}

func TestUpdateUserLocale(t *testing.T) {
	onBoth(t, func(t *testing.T, e *env) {
		b := e.browser()
		page := b.get(e.codeRequest(map[string]string{"kc_locale": "de"}))
		if !strings.Contains(page.body, `lang="de"`) {
			t.Fatalf("page not in German: %s", page.body)
		}
		if res := e.login(b, page, "alice", alicePassword); res.status != http.StatusFound {
			t.Fatal(res.status)
		}
		if got := e.user("alice").Attributes["locale"]; !slices.Equal(got, []string{"de"}) {
			t.Errorf("locale attribute: %v", got)
		}
	}, func(r *realm.Realm) {
		r.InternationalizationEnabled = true
		r.SupportedLocales = []string{"en", "de"}
	})
}

func TestVerifyProfileAction(t *testing.T) {
	onBoth(t, func(t *testing.T, e *env) {
		e.addUser("vic", "vic-pw-1234", func(u *realmUser) { u.RequiredActions = []string{"VERIFY_PROFILE"} })
		b := e.browser()
		page := e.login(b, b.get(e.codeRequest(nil)), "vic", "vic-pw-1234")
		if !strings.Contains(page.body, "Update Account Information") || !strings.Contains(page.body, `value="Vic"`) {
			t.Fatalf("verify profile page: %d %s", page.status, page.body)
		}
		res := e.submit(b, page, map[string]string{"email": "vic@example.com", "firstName": "Vic", "lastName": "Vance"})
		if res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
			t.Fatalf("after verifying: %d %s", res.status, res.body)
		}
		if u := e.user("vic"); u.LastName != "Vance" || len(u.RequiredActions) != 0 {
			t.Errorf("stored: %q %v", u.LastName, u.RequiredActions)
		}
	})
}

// An action the realm no longer registers (the admin API deleted it) is not
// run: a user carrying it signs in without its page, keeping it, and an
// application cannot ask for it, as in Keycloak.
func TestUnregisteredActionNotRun(t *testing.T) {
	onBoth(t, func(t *testing.T, e *env) {
		err := e.db.UpdateAuthConfig(context.Background(), e.realm.ID, func(c *flow.Config) error {
			c.RequiredActions = slices.DeleteFunc(c.RequiredActions, func(a flow.RequiredAction) bool { return a.Alias == "CONFIGURE_TOTP" })
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		e.addUser("tom", "tom-pw", func(u *realmUser) { u.RequiredActions = []string{"CONFIGURE_TOTP"} })
		b := e.browser()
		res := e.login(b, b.get(e.codeRequest(nil)), "tom", "tom-pw")
		if res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
			t.Fatalf("login with an unregistered action: %d %s", res.status, res.body)
		}
		if got := e.user("tom").RequiredActions; !slices.Equal(got, []string{"CONFIGURE_TOTP"}) {
			t.Errorf("user's actions after the login: %v", got)
		}
		res = b.get(e.codeRequest(map[string]string{"kc_action": "CONFIGURE_TOTP"}))
		if res.status != http.StatusFound || res.location(t).Query().Get("kc_action_status") != "error" {
			t.Fatalf("kc_action of an unregistered action: %d %s %s", res.status, res.header.Get("Location"), res.body)
		}
	})
}
