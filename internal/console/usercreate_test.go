package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

const profileForCreate = `{"attributes":[
 {"name":"username","permissions":{"view":["admin","user"],"edit":["admin","user"]}},
 {"name":"email","validations":{"email":{}},"permissions":{"view":["admin","user"],"edit":["admin","user"]}},
 {"name":"firstName","required":{"roles":["admin","user"]},"permissions":{"view":["admin","user"],"edit":["admin","user"]}},
 {"name":"lastName","permissions":{"view":["admin","user"],"edit":["admin","user"]}},
 {"name":"employeeNumber","displayName":"Employee number","required":{"roles":["admin"]},
  "validations":{"pattern":{"pattern":"^[0-9]{4}$"}},"permissions":{"view":["admin"],"edit":["admin"]}},
 {"name":"team","displayName":"Team","validations":{"length":{"max":5}},"permissions":{"view":["admin"],"edit":["admin"]}}]}`

// fieldError finds the message shown under a field of a console page.
func fieldError(body, id string) string {
	m := regexp.MustCompile(`<p class="field-error" id="` + regexp.QuoteMeta(id) + `">([^<]*)</p>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// The "Create user" form shows the attributes the realm's user profile
// declares, each required one marked, and puts the profile's message under
// every field the API refuses; nothing is stored until the form passes.
func TestConsoleCreateUserShowsProfile(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, web.URLs{}, open)
		b := e.browser()
		b.signIn("/admin/master/console/", "admin", "admin-pw")
		base := "/admin/master/console/demo"
		p := b.get(base + "/realm-settings/user-profile")
		if r := b.submit(p, base+"/realm-settings/user-profile", url.Values{"profile": {profileForCreate}}); r.status != http.StatusSeeOther {
			t.Fatalf("save profile: %d %s", r.status, r.body)
		}

		p = b.get(base + "/users/new")
		if p.status != 200 {
			t.Fatalf("create form: %d %s", p.status, p.body)
		}
		for _, want := range []string{
			`<label for="f-attr-employeeNumber">Employee number <span aria-hidden="true">*</span></label>`,
			`<label for="f-attr-team">Team</label>`,
			`<label for="f-firstName">First name <span aria-hidden="true">*</span></label>`,
			`<label for="f-lastName">Last name</label>`,
			`name="attr.employeeNumber"`,
		} {
			if !strings.Contains(p.body, want) {
				t.Errorf("create form lacks %s", want)
			}
		}

		r := b.submit(p, base+"/users/new", url.Values{"username": {"gina"}, "firstName": {""},
			"attr.employeeNumber": {"12ab"}, "attr.team": {"research"}, "enabled": {"on"}})
		if r.status != 400 {
			t.Fatalf("bad values: %d %s", r.status, r.body)
		}
		if msg := fieldError(r.body, "e-attr-employeeNumber"); msg != "Invalid value." {
			t.Errorf("employee number's message: %q", msg)
		}
		if msg := fieldError(r.body, "e-attr-team"); msg == "" || !strings.Contains(msg, "5") {
			t.Errorf("team's message: %q", msg)
		}
		if msg := fieldError(r.body, "e-firstName"); msg == "" {
			t.Errorf("no message under the required first name: %s", r.body)
		}
		if !strings.Contains(r.body, `value="12ab"`) {
			t.Errorf("the refused form lost its values")
		}
		if _, err := e.db.GetUserByUsername(context.Background(), e.demo.ID, "gina"); err == nil {
			t.Fatal("a refused form stored the user")
		}

		r = b.submit(p, base+"/users/new", url.Values{"username": {"gina"}, "firstName": {"Gina"},
			"attr.employeeNumber": {"1234"}, "attr.team": {"ops"}, "enabled": {"on"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("good values: %d %s", r.status, r.body)
		}
		u, err := e.db.GetUserByUsername(context.Background(), e.demo.ID, "gina")
		if err != nil {
			t.Fatal(err)
		}
		if d := b.get(base + "/users/" + u.ID); !strings.Contains(d.body, `<label for="f-firstName">First name <span aria-hidden="true">*</span></label>`) ||
			strings.Contains(d.body, `name="attr.employeeNumber"`) {
			t.Errorf("details tab: the required mark, and no profile fields (the Attributes tab has them): %s", d.body)
		}
		if u.FirstName != "Gina" || len(u.Attributes["employeeNumber"]) != 1 || u.Attributes["employeeNumber"][0] != "1234" || u.Attributes["team"][0] != "ops" {
			t.Errorf("stored: %+v", u)
		}
	})
}
