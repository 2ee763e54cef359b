package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

const profileWithNumber = `{"attributes":[
 {"name":"username","permissions":{"view":["admin","user"],"edit":["admin","user"]}},
 {"name":"email","validations":{"email":{}},"permissions":{"view":["admin","user"],"edit":["admin","user"]}},
 {"name":"employeeNumber","displayName":"Employee number","validations":{"pattern":{"pattern":"^[0-9]{4}$"}},
  "permissions":{"view":["admin"],"edit":["admin"]}}],
 "unmanagedAttributePolicy":"ADMIN_EDIT"}`

// The realm's User profile tab (JSON editor), a user's Attributes tab
// validated through it, the Localization tab, and impersonation.
func TestConsoleUserProfileLocalizationImpersonation(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, web.URLs{}, open)
		b := e.browser()
		home := b.signIn("/admin/master/console/", "admin", "admin-pw")
		base := "/admin/master/console/demo"

		// User profile: a document the API refuses is shown with its
		// message; a good one is stored.
		p := b.get(base + "/realm-settings/user-profile")
		if p.status != 200 || !strings.Contains(p.body, "firstName") || !strings.Contains(p.body, "JSON editor") {
			t.Fatalf("user profile tab: %d %s", p.status, p.body)
		}
		bad := b.submit(p, base+"/realm-settings/user-profile", url.Values{"profile": {`{"attributes":[{"name":"username"}]}`}})
		if bad.status != 400 || !strings.Contains(bad.body, "The attribute &#39;email&#39; can not be removed") {
			t.Errorf("bad profile: %d %s", bad.status, bad.body)
		}
		if r := b.submit(p, base+"/realm-settings/user-profile", url.Values{"profile": {profileWithNumber}}); r.status != http.StatusSeeOther {
			t.Fatalf("save profile: %d %s", r.status, r.body)
		}
		if rl := e.realm("demo"); !strings.Contains(string(rl.UserProfile), "employeeNumber") {
			t.Fatalf("stored profile: %s", rl.UserProfile)
		}

		// Attributes tab: the pattern refuses with the catalogue's text.
		u := e.addUser(e.demo, "frank", "frank-pw")
		attrs := base + "/users/" + u.ID + "/attributes"
		p = b.get(attrs)
		if p.status != 200 || !strings.Contains(p.body, `name="attr.employeeNumber"`) {
			t.Fatalf("attributes tab: %d %s", p.status, p.body)
		}
		r := b.submit(p, attrs, url.Values{"attr.employeeNumber": {"12ab"}, "unmanaged": {"dept=research"}})
		if r.status != 400 || !strings.Contains(r.body, "Invalid value.") || !strings.Contains(r.body, `id="e-attr-employeeNumber"`) {
			t.Errorf("bad value: %d %s", r.status, r.body)
		}
		got, _ := e.db.GetUser(context.Background(), e.demo.ID, u.ID)
		if len(got.Attributes) != 0 {
			t.Errorf("refused form stored: %v", got.Attributes)
		}
		if r := b.submit(p, attrs, url.Values{"attr.employeeNumber": {"1234"}, "unmanaged": {"dept=research"}}); r.status != http.StatusSeeOther {
			t.Fatalf("good value: %d %s", r.status, r.body)
		}
		got, _ = e.db.GetUser(context.Background(), e.demo.ID, u.ID)
		if got.Attributes["employeeNumber"][0] != "1234" || got.Attributes["dept"][0] != "research" {
			t.Errorf("stored: %v", got.Attributes)
		}

		// Localization: add a text, see it, delete it.
		loc := base + "/realm-settings/localization"
		p = b.get(loc + "?locale=en")
		if p.status != 200 || !strings.Contains(p.body, "no-texts") {
			t.Fatalf("localization tab: %d %s", p.status, p.body)
		}
		if r := b.submit(p, loc, url.Values{"action": {"add"}, "locale": {"en"}, "key": {""}, "value": {"x"}}); r.status != 400 {
			t.Errorf("empty key: %d", r.status)
		}
		if r := b.submit(p, loc, url.Values{"action": {"add"}, "locale": {"en"}, "key": {"loginAccountTitle"}, "value": {"Hello demo"}}); r.status != http.StatusSeeOther {
			t.Fatalf("add text: %d %s", r.status, r.body)
		}
		p = b.get(loc + "?locale=en")
		if !strings.Contains(p.body, "Hello demo") {
			t.Errorf("text not listed: %s", p.body)
		}
		if r := b.submit(p, loc, url.Values{"action": {"delete"}, "locale": {"en"}, "key": {"loginAccountTitle"}}); r.status != http.StatusSeeOther {
			t.Errorf("delete text: %d %s", r.status, r.body)
		}
		if rl := e.realm("demo"); len(rl.Localization) != 0 {
			t.Errorf("after delete: %v", rl.Localization)
		}

		// Impersonation: the button, then the user's SSO cookie and the
		// account console.
		p = b.get(base + "/users/" + u.ID)
		if !strings.Contains(p.body, `id="impersonate"`) {
			t.Fatalf("no impersonate button: %s", p.body)
		}
		r = b.submit(p, base+"/users/"+u.ID+"/impersonate", url.Values{})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != e.srv.URL+"/realms/demo/account" {
			t.Fatalf("impersonate: %d %q %s", r.status, r.header.Get("Location"), r.body)
		}
		found := false
		for _, c := range r.header.Values("Set-Cookie") {
			found = found || strings.HasPrefix(c, "KEYCLOAK_IDENTITY=") && strings.Contains(c, "Path=/realms/demo/")
		}
		if !found {
			t.Errorf("no identity cookie: %v", r.header.Values("Set-Cookie"))
		}
		_ = home
	})
}
