package account_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/profile"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// withProfile gives the realm a user profile with two custom attributes:
// employeeNumber (four digits, the user may edit it) and internalNote
// (administrators only); user1 holds an internal note.
func withProfile(t *testing.T, e *env) {
	t.Helper()
	cfg := profile.Default()
	cfg.Attributes = append(cfg.Attributes,
		profile.Attribute{Name: "employeeNumber", DisplayName: "Employee number",
			Validations: map[string]map[string]any{"pattern": {"pattern": "^[0-9]{4}$"}},
			Permissions: &profile.Permissions{View: []string{"admin", "user"}, Edit: []string{"admin", "user"}}},
		profile.Attribute{Name: "internalNote",
			Permissions: &profile.Permissions{View: []string{"admin"}, Edit: []string{"admin"}}})
	doc, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := profile.Parse(doc); err != nil {
		t.Fatal(err)
	}
	e.updateRealm(func(r *realm.Realm) { r.UserProfile = doc })
	if err := e.db.UpdateUser(context.Background(), e.realm.ID, user1ID, func(u *user.User) error {
		u.Attributes = map[string][]string{"internalNote": {"watch this one"}, "employeeNumber": {"0042"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// The user profile through the account API and the account console: a
// pattern validator refuses a value with Keycloak's message, an attribute
// kept for administrators is never shown nor changed.
func TestAccountUserProfile(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open)
		withProfile(t, e)
		tok := e.login("user1", "password", "openid")["access_token"].(string)

		// GET: the editable attribute and its metadata; the hidden one is
		// absent from the attributes and from the metadata.
		st, _, b := e.call("GET", "/account/", tok, nil)
		if st != 200 || strings.Contains(string(b), "internalNote") || strings.Contains(string(b), "watch this one") {
			t.Fatalf("GET /account: %d %s", st, b)
		}
		var got struct {
			Attributes map[string][]string `json:"attributes"`
			Metadata   profile.Metadata    `json:"userProfileMetadata"`
		}
		json.Unmarshal(b, &got)
		if v := got.Attributes["employeeNumber"]; len(v) != 1 || v[0] != "0042" {
			t.Errorf("employeeNumber: %v", got.Attributes)
		}
		var md *profile.AttributeMetadata
		for i, a := range got.Metadata.Attributes {
			if a.Name == "employeeNumber" {
				md = &got.Metadata.Attributes[i]
			}
		}
		if md == nil || md.ReadOnly || md.Validators["pattern"]["pattern"] != "^[0-9]{4}$" {
			t.Errorf("metadata: %+v", got.Metadata)
		}

		// POST: a value the pattern refuses, with Keycloak's error.
		st, _, b = e.call("POST", "/account/", tok, map[string]any{"firstName": "User",
			"attributes": map[string][]string{"employeeNumber": {"12ab"}}})
		var eb struct {
			Field, ErrorMessage string
			Params              []string
		}
		json.Unmarshal(b, &eb)
		if st != 400 || eb.Field != "employeeNumber" || eb.ErrorMessage != "error-pattern-no-match" ||
			len(eb.Params) != 2 || eb.Params[1] != "^[0-9]{4}$" {
			t.Errorf("bad employeeNumber: %d %s", st, b)
		}
		// A good value is stored; the hidden attribute, sent or not, stays.
		st, _, b = e.call("POST", "/account/", tok, map[string]any{
			"attributes": map[string][]string{"employeeNumber": {"1234"}, "internalNote": {"cleared by me"}}})
		if st != 204 {
			t.Fatalf("good employeeNumber: %d %s", st, b)
		}
		if u := e.user(user1ID); u.Attributes["employeeNumber"][0] != "1234" || u.Attributes["internalNote"][0] != "watch this one" {
			t.Errorf("stored: %v", u.Attributes)
		}
		st, _, b = e.call("POST", "/account/", tok, map[string]any{"attributes": map[string][]string{"employeeNumber": {"5678"}}})
		if u := e.user(user1ID); st != 204 || u.Attributes["internalNote"][0] != "watch this one" {
			t.Errorf("hidden attribute after an update without it: %d %s %v", st, b, u.Attributes)
		}

		// The console's personal info form: the field is shown, a bad value
		// refused with the message, nothing stored; the hidden one never shown.
		// The realm's own text of a key replaces the built-in one.
		e.updateRealm(func(r *realm.Realm) {
			r.Localization = map[string]map[string]string{"en": {"accountPersonalInfoDescription": "Your details at Widgets."}}
		})
		br := e.browser()
		csrf := br.signIn("user1", "password")
		_, page := br.do("GET", "/realms/ldap-demo/account/", nil)
		if !strings.Contains(page, "Your details at Widgets.") || strings.Contains(page, "Manage your basic information.") {
			t.Errorf("realm text not used:\n%s", page)
		}
		if !strings.Contains(page, `name="attributes.employeeNumber"`) || strings.Contains(page, "watch this one") {
			t.Errorf("personal info page:\n%s", page)
		}
		form := url.Values{"email": {"user1@example.com"}, "firstName": {"User"}, "lastName": {"One"},
			"attributes.employeeNumber": {"x1"}}
		resp, page := br.post("personal-info", csrf, form)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Invalid value.") ||
			!strings.Contains(page, `value="x1"`) {
			t.Errorf("console, bad value: %d\n%s", resp.StatusCode, page)
		}
		if u := e.user(user1ID); u.Attributes["employeeNumber"][0] != "5678" {
			t.Errorf("console stored a refused value: %v", u.Attributes)
		}
		form.Set("attributes.employeeNumber", "7777")
		if resp, _ := br.post("personal-info", csrf, form); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("console, good value: %d", resp.StatusCode)
		}
		if u := e.user(user1ID); u.Attributes["employeeNumber"][0] != "7777" || u.Attributes["internalNote"][0] != "watch this one" {
			t.Errorf("console stored: %v", u.Attributes)
		}
	})
}
