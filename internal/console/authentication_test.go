package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

func (e *env) authConfig() flow.Config {
	e.t.Helper()
	c, err := e.db.GetAuthConfig(context.Background(), e.demo.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// executionID finds the id of the execution of flow alias running
// authenticator (or naming sub-flow) name.
func executionID(t *testing.T, c flow.Config, alias, name string) string {
	t.Helper()
	f, ok := c.FlowByAlias(alias)
	if !ok {
		t.Fatalf("no flow %s", alias)
	}
	for _, x := range f.Executions {
		if x.Authenticator == name || x.FlowAlias == name {
			return x.ID
		}
	}
	t.Fatalf("no %s in %s", name, alias)
	return ""
}

var rowLevel = regexp.MustCompile(`data-level="(\d+)" data-execution="[^"]*">\s*<td><span class="step">(?:<strong>)?([^<]*)`)

func TestConsoleAuthenticationFlows(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, web.URLs{}, open)
		b := e.browser()
		base := "/admin/master/console/demo/authentication"
		b.signIn("/admin/master/console/", "admin", "admin-pw")

		list := b.get(base)
		if list.status != http.StatusOK || !strings.Contains(list.body, `data-flow="browser"`) {
			t.Fatalf("flows list: %d %s", list.status, list.body)
		}
		if !regexp.MustCompile(`data-flow="browser">[\s\S]*?<td class="used-by">Browser flow</td>`).MatchString(list.body) ||
			!regexp.MustCompile(`data-flow="direct grant">[\s\S]*?<td class="used-by">Direct grant flow</td>`).MatchString(list.body) {
			t.Errorf("bound-to column: %s", list.body)
		}

		// The browser flow's tree: the forms sub-flow one level down, its
		// conditional 2FA sub-flow two levels down.
		flowURL := base + "/flows/browser"
		p := b.get(flowURL)
		var levels []string
		for _, m := range rowLevel.FindAllStringSubmatch(p.body, -1) {
			levels = append(levels, m[1]+":"+m[2])
		}
		want := "0:Cookie 0:Kerberos 0:Identity Provider Redirector 0:forms 1:Username Password Form 1:Browser - Conditional 2FA 2:Condition - user configured 2:Condition - credential 2:OTP Form 2:WebAuthn Authenticator 2:Recovery Authentication Code Form"
		if got := strings.Join(levels, " "); got != want {
			t.Errorf("tree:\n got %s\nwant %s", got, want)
		}

		// A requirement changes, on a built-in flow too.
		cfg := e.authConfig()
		otp := executionID(t, cfg, "Browser - Conditional 2FA", "auth-otp-form")
		res := b.submit(p, flowURL, url.Values{"action": {"requirement"}, "execution": {otp}, "requirement": {"REQUIRED"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("requirement: %d %s", res.status, res.body)
		}
		f, _ := e.authConfig().FlowByAlias("Browser - Conditional 2FA")
		if f.Executions[2].Requirement != "REQUIRED" {
			t.Errorf("requirement not stored: %+v", f.Executions)
		}
		// Nothing else changes on a built-in flow.
		res = b.submit(p, flowURL, url.Values{"action": {"delete"}, "execution": {otp}})
		if f, _ := e.authConfig().FlowByAlias("Browser - Conditional 2FA"); res.status != http.StatusBadRequest || len(f.Executions) != 5 {
			t.Errorf("built-in flow changed: %d", res.status)
		}
		// A requirement that does not exist is refused, nothing stored.
		res = b.submit(p, flowURL, url.Values{"action": {"requirement"}, "execution": {otp}, "requirement": {"SOMETIMES"}})
		if f, _ := e.authConfig().FlowByAlias("Browser - Conditional 2FA"); res.status != http.StatusBadRequest || f.Executions[2].Requirement != "REQUIRED" {
			t.Errorf("unknown requirement: %d", res.status)
		}

		// Duplicate the browser flow, then edit the copy.
		res = b.submit(list, base, url.Values{"action": {"duplicate"}, "flow": {"browser"}, "newName": {"my browser"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("duplicate: %d %s", res.status, res.body)
		}
		cfg = e.authConfig()
		cp, ok := cfg.FlowByAlias("my browser")
		if !ok || cp.BuiltIn || !cp.TopLevel {
			t.Fatalf("copy: %+v", cp)
		}
		if _, ok := cfg.FlowByAlias("my browser forms"); !ok {
			t.Fatal("sub-flow not copied")
		}
		myURL := base + "/flows/" + url.PathEscape("my browser")
		p = b.get(myURL)
		for _, form := range []url.Values{
			{"action": {"add-execution"}, "parent": {"my browser forms"}, "authenticator": {"auth-otp-form"}},
			{"action": {"add-flow"}, "parent": {"my browser"}, "alias": {"extra steps"}, "provider": {"basic-flow"}},
		} {
			if res := b.submit(p, myURL, form); res.status != http.StatusSeeOther {
				t.Fatalf("%s: %d %s", form.Get("action"), res.status, res.body)
			}
		}
		cfg = e.authConfig()
		forms, _ := cfg.FlowByAlias("my browser forms")
		last := forms.Executions[len(forms.Executions)-1]
		if last.Authenticator != "auth-otp-form" || last.Requirement != "DISABLED" {
			t.Errorf("added step: %+v", last)
		}
		if _, ok := cfg.FlowByAlias("extra steps"); !ok {
			t.Error("sub-flow not added")
		}
		// Lower the cookie below Kerberos.
		cookie := executionID(t, cfg, "my browser", "auth-cookie")
		if res := b.submit(p, myURL, url.Values{"action": {"lower"}, "execution": {cookie}}); res.status != http.StatusSeeOther {
			t.Fatalf("lower: %d", res.status)
		}
		p = b.get(myURL)
		levels = nil
		for _, m := range rowLevel.FindAllStringSubmatch(p.body, -1) {
			levels = append(levels, m[2])
		}
		if len(levels) < 2 || levels[0] != "Kerberos" || levels[1] != "Cookie" {
			t.Errorf("after lowering: %v", levels)
		}
		// Delete the added sub-flow: its flow goes with it.
		extra := executionID(t, e.authConfig(), "my browser", "extra steps")
		if res := b.submit(p, myURL, url.Values{"action": {"delete"}, "execution": {extra}}); res.status != http.StatusSeeOther {
			t.Fatalf("delete: %d", res.status)
		}
		if _, ok := e.authConfig().FlowByAlias("extra steps"); ok {
			t.Error("deleted sub-flow's flow left behind")
		}

		// Bind the copy as the browser flow; a flow Gatehouse cannot run
		// is refused.
		if res := b.submit(list, base, url.Values{"action": {"bind"}, "flow": {"my browser"}, "binding": {"browserFlow"}}); res.status != http.StatusSeeOther {
			t.Fatalf("bind: %d %s", res.status, res.body)
		}
		if got := e.authConfig().Bindings.Browser; got != "my browser" {
			t.Errorf("browser binding: %q", got)
		}
		res = b.submit(list, base, url.Values{"action": {"bind"}, "flow": {"docker auth"}, "binding": {"browserFlow"}})
		if res.status != http.StatusBadRequest || e.authConfig().Bindings.Browser != "my browser" {
			t.Errorf("unrunnable flow bound: %d", res.status)
		}
		// A bound flow cannot be deleted; once unbound it can.
		res = b.submit(list, base, url.Values{"action": {"delete"}, "flow": {"my browser"}})
		if _, ok := e.authConfig().FlowByAlias("my browser"); res.status != http.StatusBadRequest || !ok {
			t.Errorf("bound flow deleted: %d", res.status)
		}
		b.submit(list, base, url.Values{"action": {"bind"}, "flow": {"browser"}, "binding": {"browserFlow"}})
		if res := b.submit(list, base, url.Values{"action": {"delete"}, "flow": {"my browser"}}); res.status != http.StatusSeeOther {
			t.Fatalf("delete flow: %d %s", res.status, res.body)
		}
		if _, ok := e.authConfig().FlowByAlias("my browser forms"); ok {
			t.Error("sub-flow of a deleted flow left behind")
		}

		// A view-only administrator sees the tree but cannot change it.
		e.addUser(e.demo, "viewer", "viewer-pw", "view-realm")
		v := e.browser()
		v.signIn("/admin/demo/console/", "viewer", "viewer-pw")
		vp := v.get("/admin/demo/console/demo/authentication/flows/browser")
		if vp.status != http.StatusOK || strings.Contains(vp.body, `name="requirement"`) {
			t.Fatalf("viewer's page: %d", vp.status)
		}
		before := e.authConfig()
		res = v.submit(vp, "/admin/demo/console/demo/authentication/flows/browser", url.Values{"action": {"requirement"}, "execution": {otp}, "requirement": {"DISABLED"}})
		if res.status != http.StatusForbidden {
			t.Errorf("viewer changed a flow: %d", res.status)
		}
		f, _ = e.authConfig().FlowByAlias("Browser - Conditional 2FA")
		g, _ := before.FlowByAlias("Browser - Conditional 2FA")
		if f.Executions[2].Requirement != g.Executions[2].Requirement {
			t.Error("viewer's change stored")
		}
		// Without the session's CSRF token, nothing.
		res = b.post(flowURL, url.Values{"action": {"requirement"}, "execution": {otp}, "requirement": {"REQUIRED"}})
		if res.status == http.StatusSeeOther {
			t.Error("POST without CSRF token accepted")
		}
	})
}

func TestConsoleRequiredActionsAndPolicies(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, web.URLs{}, open)
		b := e.browser()
		b.signIn("/admin/master/console/", "admin", "admin-pw")
		tab := "/admin/master/console/demo/authentication/required-actions"
		p := b.get(tab)
		if p.status != http.StatusOK || !strings.Contains(p.body, `data-alias="TERMS_AND_CONDITIONS"`) {
			t.Fatalf("required actions: %d %s", p.status, p.body)
		}
		for _, form := range []url.Values{
			{"action": {"enabled"}, "alias": {"TERMS_AND_CONDITIONS"}, "value": {"on"}},
			{"action": {"default"}, "alias": {"TERMS_AND_CONDITIONS"}, "value": {"on"}},
			{"action": {"raise"}, "alias": {"UPDATE_PASSWORD"}},
			{"action": {"enabled"}, "alias": {"UPDATE_PROFILE"}, "value": {"off"}},
		} {
			if res := b.submit(p, tab, form); res.status != http.StatusSeeOther {
				t.Fatalf("%v: %d %s", form, res.status, res.body)
			}
		}
		cfg := e.authConfig()
		terms, _ := authn.ActionSetting(cfg, "TERMS_AND_CONDITIONS")
		profile, _ := authn.ActionSetting(cfg, "UPDATE_PROFILE")
		if !terms.Enabled || !terms.DefaultAction || profile.Enabled {
			t.Errorf("switches: terms %+v profile %+v", terms, profile)
		}
		var order []string
		for _, a := range authn.RealmRequiredActions(cfg) {
			order = append(order, a.Alias)
		}
		if strings.Join(order[:3], " ") != "CONFIGURE_TOTP UPDATE_PASSWORD TERMS_AND_CONDITIONS" {
			t.Errorf("order after raising UPDATE_PASSWORD: %v", order)
		}
		// A user the admin API creates gets the default actions.
		b.submit(p, "/admin/master/console/demo/users/new", url.Values{"username": {"newbie"}, "email": {"newbie@example.com"},
			"firstName": {"New"}, "lastName": {"Bie"}})
		if u, err := e.db.GetUserByUsername(context.Background(), e.demo.ID, "newbie"); err != nil || strings.Join(u.RequiredActions, ",") != "TERMS_AND_CONDITIONS" {
			t.Errorf("new user's required actions: %v %v", u.RequiredActions, err)
		}
		// Policies: the password policy and the OTP policy, through the
		// admin API's validation.
		pol := "/admin/master/console/demo/authentication/policies"
		p = b.get(pol)
		if !strings.Contains(p.body, `id="f-otpPolicyPeriod"`) || !strings.Contains(p.body, `id="f-passwordPolicy"`) {
			t.Fatalf("policies: %d %s", p.status, p.body)
		}
		form := url.Values{"passwordPolicy": {"length(12) and digits(2)"}, "otpPolicyType": {"totp"}, "otpPolicyAlgorithm": {"HmacSHA256"},
			"otpPolicyDigits": {"8"}, "otpPolicyLookAheadWindow": {"1"}, "otpPolicyPeriod": {"60"}, "otpPolicyInitialCounter": {"0"}}
		if res := b.submit(p, pol, form); res.status != http.StatusSeeOther {
			t.Fatalf("save policies: %d %s", res.status, res.body)
		}
		rl := e.realm("demo")
		otp := rl.OTP()
		if rl.PasswordPolicy != "length(12) and digits(2)" || otp.Algorithm != "HmacSHA256" || otp.Digits != 8 || otp.Period != 60 {
			t.Errorf("stored: %q %+v", rl.PasswordPolicy, otp)
		}
		form.Set("passwordPolicy", "noSuchPolicy(3)")
		if res := b.submit(p, pol, form); res.status != http.StatusBadRequest || e.realm("demo").PasswordPolicy != "length(12) and digits(2)" {
			t.Errorf("bad policy: %d %q", res.status, e.realm("demo").PasswordPolicy)
		}
	})
}
