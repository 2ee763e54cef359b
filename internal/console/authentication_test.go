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

// TestConsoleWebAuthnPolicies: Authentication → Policies has the two
// WebAuthn policies' editors with every field under the realm
// representation's names. Saving goes through the admin API (a partial
// PUT of the realm); a value the console cannot offer (an unknown
// signature algorithm, an unknown attestation preference) is refused
// with the field marked and nothing stored. The passwordless editor also
// switches passkeys on the login forms.
func TestConsoleWebAuthnPolicies(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, web.URLs{}, open)
		b := e.browser()
		b.signIn("/admin/master/console/", "admin", "admin-pw")
		if p := b.get("/admin/master/console/demo/authentication/policies"); !strings.Contains(p.body, "/authentication/policies/webauthn-passwordless") {
			t.Fatalf("policies tab has no link to the WebAuthn policies: %s", p.body)
		}
		tab := "/admin/master/console/demo/authentication/policies/webauthn"
		p := b.get(tab)
		for _, want := range []string{`id="f-webAuthnPolicyRpEntityName" name="webAuthnPolicyRpEntityName" value="keycloak"`,
			`id="f-webAuthnPolicySignatureAlgorithms"`, "ES256\nRS256</textarea>", `id="f-webAuthnPolicyRpId"`,
			`id="f-webAuthnPolicyAttestationConveyancePreference"`, `id="f-webAuthnPolicyAuthenticatorAttachment"`,
			`id="f-webAuthnPolicyRequireResidentKey"`, `id="f-webAuthnPolicyUserVerificationRequirement"`,
			`id="f-webAuthnPolicyCreateTimeout"`, `id="f-webAuthnPolicyAvoidSameAuthenticatorRegister"`,
			`id="f-webAuthnPolicyAcceptableAaguids"`, `id="f-webAuthnPolicyExtraOrigins"`} {
			if !strings.Contains(p.body, want) {
				t.Fatalf("webauthn policy page lacks %s: %d %s", want, p.status, p.body)
			}
		}
		if strings.Contains(p.body, "PasskeysEnabled") {
			t.Error("the two-factor policy offers passkeys")
		}
		form := url.Values{"webAuthnPolicyRpEntityName": {"Demo"}, "webAuthnPolicySignatureAlgorithms": {"ES256\r\nEdDSA\r\n"},
			"webAuthnPolicyRpId": {"login.example.com"}, "webAuthnPolicyAttestationConveyancePreference": {"direct"},
			"webAuthnPolicyAuthenticatorAttachment": {"cross-platform"}, "webAuthnPolicyRequireResidentKey": {"No"},
			"webAuthnPolicyUserVerificationRequirement": {"preferred"}, "webAuthnPolicyCreateTimeout": {"120"},
			"webAuthnPolicyAvoidSameAuthenticatorRegister": {"on"},
			"webAuthnPolicyAcceptableAaguids":              {"cb69481e-8ff7-4039-93ec-0a2729a154a8\n  \nee882879-721c-4913-9775-3dfcce97072a"},
			"webAuthnPolicyExtraOrigins":                   {"android:apk-key-hash:abc"}}
		if res := b.submit(p, tab, form); res.status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", res.status, res.body)
		}
		w := e.realm("demo").WebAuthn()
		if w.RpEntityName != "Demo" || strings.Join(w.SignatureAlgorithms, ",") != "ES256,EdDSA" || w.RpID != "login.example.com" ||
			w.AttestationConveyancePreference != "direct" || w.AuthenticatorAttachment != "cross-platform" || w.RequireResidentKey != "No" ||
			w.UserVerificationRequirement != "preferred" || w.CreateTimeout != 120 || !w.AvoidSameAuthenticatorRegister ||
			strings.Join(w.AcceptableAaguids, ",") != "cb69481e-8ff7-4039-93ec-0a2729a154a8,ee882879-721c-4913-9775-3dfcce97072a" ||
			strings.Join(w.ExtraOrigins, ",") != "android:apk-key-hash:abc" {
			t.Errorf("stored two-factor policy: %+v", w)
		}
		if pl := e.realm("demo").WebAuthnPasswordless(); pl.RpEntityName != "keycloak" || pl.RequireResidentKey != "Yes" {
			t.Errorf("the passwordless policy changed with the two-factor one: %+v", pl)
		}
		p = b.get(tab)
		if !strings.Contains(p.body, "ES256\nEdDSA</textarea>") || !strings.Contains(p.body, `<option value="direct" selected>`) {
			t.Errorf("saved values not shown: %s", p.body)
		}
		for field, bad := range map[string]string{"webAuthnPolicySignatureAlgorithms": "ES256\nMD5",
			"webAuthnPolicyAttestationConveyancePreference": "sometimes", "webAuthnPolicyCreateTimeout": "-1"} {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set(field, bad)
			f.Set("webAuthnPolicyRpEntityName", "Changed")
			res := b.submit(p, tab, f)
			if res.status != http.StatusBadRequest || !strings.Contains(res.body, `id="e-`+field+`"`) {
				t.Errorf("%s=%q: %d %s", field, bad, res.status, res.body)
			}
			if w := e.realm("demo").WebAuthn(); w.RpEntityName != "Demo" {
				t.Errorf("%s=%q stored something: %+v", field, bad, w)
			}
		}

		tab = "/admin/master/console/demo/authentication/policies/webauthn-passwordless"
		p = b.get(tab)
		if !strings.Contains(p.body, `id="f-webAuthnPolicyPasswordlessPasskeysEnabled"`) || !strings.Contains(p.body, `<option value="Yes" selected>`) {
			t.Fatalf("passwordless policy page: %d %s", p.status, p.body)
		}
		form = url.Values{"webAuthnPolicyPasswordlessRpEntityName": {"Demo passkeys"}, "webAuthnPolicyPasswordlessSignatureAlgorithms": {"ES256"},
			"webAuthnPolicyPasswordlessRpId": {""}, "webAuthnPolicyPasswordlessAttestationConveyancePreference": {"not specified"},
			"webAuthnPolicyPasswordlessAuthenticatorAttachment": {"platform"}, "webAuthnPolicyPasswordlessRequireResidentKey": {"Yes"},
			"webAuthnPolicyPasswordlessUserVerificationRequirement": {"required"}, "webAuthnPolicyPasswordlessCreateTimeout": {"0"},
			"webAuthnPolicyPasswordlessAcceptableAaguids": {""}, "webAuthnPolicyPasswordlessExtraOrigins": {""},
			"webAuthnPolicyPasswordlessPasskeysEnabled": {"on"}}
		if res := b.submit(p, tab, form); res.status != http.StatusSeeOther {
			t.Fatalf("save passwordless: %d %s", res.status, res.body)
		}
		pl := e.realm("demo").WebAuthnPasswordless()
		if pl.RpEntityName != "Demo passkeys" || !pl.PasskeysEnabled || pl.AuthenticatorAttachment != "platform" || len(pl.ExtraOrigins) != 0 ||
			strings.Join(pl.SignatureAlgorithms, ",") != "ES256" {
			t.Errorf("stored passwordless policy: %+v", pl)
		}
		if w := e.realm("demo").WebAuthn(); w.RpEntityName != "Demo" {
			t.Errorf("the two-factor policy changed with the passwordless one: %+v", w)
		}
	})
}
