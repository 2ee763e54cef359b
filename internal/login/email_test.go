package login_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// link finds the href of the element with id in a page.
func link(t *testing.T, e *env, r response, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + id + `" href="([^"]*)"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no %s link in page (%d): %s", id, r.status, r.body)
	}
	u := html.UnescapeString(m[1])
	if strings.HasPrefix(u, "/") {
		u = e.srv.URL + u
	}
	return u
}

// postForm fills the page's form with fields and posts it.
func postForm(e *env, b *browser, page response, fields map[string]string) response {
	e.t.Helper()
	action, form := e.form(page)
	for k, v := range fields {
		form.Set(k, v)
	}
	return b.post(action, form)
}

func storedEventTypes(t *testing.T, e *env) []string {
	t.Helper()
	es, err := e.db.ListEvents(context.Background(), e.realm.ID, store.EventQuery{Max: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range es {
		out = append(out, ev.Type)
	}
	return out
}

// waitEvent waits for an event the server records after a background send
// (an SMTP round trip, slow on a loaded machine).
func waitEvent(t *testing.T, e *env, typ string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if slices.Contains(storedEventTypes(t, e), typ) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s event; have %v", typ, storedEventTypes(t, e))
}

func TestForgotPassword(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		smtp := mailtest.Start(t)
		e := newEnvOn(t, open, web.URLs{}, func(rl *realm.Realm) {
			rl.ResetPasswordAllowed = true
			rl.SMTPServer = smtp.Settings()
			rl.EventsEnabled = true
		})
		b := e.browser()
		page := b.get(e.codeRequest(nil))
		reset := b.get(link(t, e, page, "kc-forgot-password"))
		if reset.status != 200 || !strings.Contains(reset.body, "kc-reset-password-form") {
			t.Fatalf("reset page: %d %s", reset.status, reset.body)
		}
		// An unknown account gets the very same answer as a known one.
		unknown := postForm(e, b, reset, map[string]string{"username": "nobody"})
		reset = b.get(link(t, e, unknown, "kc-forgot-password"))
		known := postForm(e, b, reset, map[string]string{"username": "alice@example.com"})
		for _, r := range []response{unknown, known} {
			if r.status != 200 || !strings.Contains(r.body, "You should receive an email shortly") || !strings.Contains(r.body, "kc-form-login") {
				t.Fatalf("after the reset form: %d %s", r.status, r.body)
			}
		}
		m := smtp.Wait(t, "alice@example.com", 1)
		if m.Subject != "Choose a new password" || !strings.Contains(m.Text, "5 minutes") {
			t.Errorf("reset mail: %q\n%s", m.Subject, m.Text)
		}
		actionLink := m.Link(t, "/login-actions/action-token")
		if q, _ := url.Parse(actionLink); q.Query().Get("client_id") != "app" || q.Query().Get("tab_id") == "" {
			t.Errorf("link parameters: %s", actionLink)
		}
		// In the browser that asked, the link opens the new-password page
		// and then finishes the login at the client.
		upd := b.get(actionLink)
		if upd.status != 200 || !strings.Contains(upd.body, "kc-passwd-update-form") {
			t.Fatalf("link: %d %s", upd.status, upd.body)
		}
		short := postForm(e, b, upd, map[string]string{"password-new": "new-pw-1", "password-confirm": "other"})
		if !strings.Contains(short.body, "Passwords don&#39;t match.") {
			t.Fatalf("mismatch: %s", short.body)
		}
		done := postForm(e, b, short, map[string]string{"password-new": "brand-new-pw", "password-confirm": "brand-new-pw"})
		if loc := done.location(t); loc.Host != "app.example" || loc.Query().Get("code") == "" {
			t.Fatalf("after the new password: %s", loc)
		}
		// The old password is gone, the new one signs in.
		b2 := e.browser()
		if r := e.login(b2, b2.get(e.codeRequest(nil)), "alice", alicePassword); r.status != 200 {
			t.Fatalf("old password: %d", r.status)
		}
		b3 := e.browser()
		if r := e.login(b3, b3.get(e.codeRequest(nil)), "alice", "brand-new-pw"); r.status != 302 {
			t.Fatalf("new password: %d %s", r.status, r.body)
		}
		// The link is used up: confirming it again is refused.
		ob := e.browser()
		again := postForm(e, ob, ob.get(actionLink), nil)
		if again.status != 400 || !strings.Contains(again.body, "Action expired. Please continue with login now.") {
			t.Fatalf("second use: %d %s", again.status, again.body)
		}
		waitEvent(t, e, events.SendResetPassword)
		got := storedEventTypes(t, e)
		for _, want := range []string{events.SendResetPasswordError, events.ResetPassword, events.UpdatePassword, events.ExecuteActionToken} {
			if !slices.Contains(got, want) {
				t.Errorf("no %s event in %v", want, got)
			}
		}
		if smtp.Count("alice@example.com") != 1 || len(smtp.Mails()) != 1 {
			t.Errorf("mails sent: %d", len(smtp.Mails()))
		}
		if strings.Contains(e.logs.String(), "alice@example.com") || strings.Contains(e.logs.String(), "key=") {
			t.Error("an address or a token reached the log")
		}
	})
}

func TestActionLinkInAnotherBrowserAndExpiry(t *testing.T) {
	smtp := mailtest.Start(t)
	e := newEnvOn(t, storetest.Open, web.URLs{}, func(rl *realm.Realm) {
		rl.ResetPasswordAllowed = true
		rl.SMTPServer = smtp.Settings()
	})
	ask := func(n int) string {
		b := e.browser()
		reset := b.get(link(t, e, b.get(e.codeRequest(nil)), "kc-forgot-password"))
		postForm(e, b, reset, map[string]string{"username": "alice"})
		return smtp.Wait(t, "alice@example.com", n).Link(t, "action-token")
	}
	// Another browser: the confirm page, the password page, then a page of its own.
	other := e.browser()
	upd := postForm(e, other, other.get(ask(1)), nil)
	done := postForm(e, other, upd, map[string]string{"password-new": "pw-from-elsewhere", "password-confirm": "pw-from-elsewhere"})
	if done.status != 200 || !strings.Contains(done.body, "Your account has been updated.") {
		t.Fatalf("standalone reset: %d %s", done.status, done.body)
	}
	// Past actionTokenGeneratedByUserLifespan (300 s) the link is refused.
	l := ask(2)
	e.clock.Add(301 * time.Second)
	if r := e.browser().get(l); r.status != 400 || !strings.Contains(r.body, "Action expired.") {
		t.Fatalf("expired link: %d %s", r.status, r.body)
	}
	// A token whose signature does not check out is refused.
	tampered := strings.Replace(l, "key=", "key=x", 1)
	if r := e.browser().get(tampered); r.status != 400 || !strings.Contains(r.body, "An error occurred, please login again") {
		t.Fatalf("tampered link: %d %s", r.status, r.body)
	}
	// With reset off the page is refused.
	rl := e.realm
	rl.ResetPasswordAllowed = false
	if err := e.db.UpdateRealm(context.Background(), rl.ID, func(r *realm.Realm) error { r.ResetPasswordAllowed = false; return nil }); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	page := b.get(e.codeRequest(nil))
	if strings.Contains(page.body, "kc-forgot-password") {
		t.Error("the login page links to a reset the realm does not allow")
	}
}

func TestRegisterThenVerifyEmail(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		smtp := mailtest.Start(t)
		e := newEnvOn(t, open, web.URLs{}, func(rl *realm.Realm) {
			rl.RegistrationAllowed = true
			rl.VerifyEmail = true
			rl.SMTPServer = smtp.Settings()
			rl.EventsEnabled = true
			rl.PasswordPolicy = "length(8)"
		})
		b := e.browser()
		form := b.get(link(t, e, b.get(e.codeRequest(nil)), "kc-register-link"))
		if form.status != 200 || !strings.Contains(form.body, "kc-register-form") {
			t.Fatalf("register page: %d %s", form.status, form.body)
		}
		fields := map[string]string{"firstName": "Bob", "lastName": "Builder", "email": "bob@example.com", "username": "alice",
			"password": "bob-secret-pw", "password-confirm": "bob-secret-pw"}
		r := postForm(e, b, form, fields)
		if r.status != 200 || !strings.Contains(r.body, "Username already exists.") || !strings.Contains(r.body, `value="bob@example.com"`) {
			t.Fatalf("duplicate username: %d %s", r.status, r.body)
		}
		if strings.Contains(r.body, "bob-secret-pw") {
			t.Error("the password was sent back")
		}
		fields["username"], fields["email"] = "bob", "alice@example.com"
		if r = postForm(e, b, r, fields); !strings.Contains(r.body, "Email already exists.") {
			t.Fatalf("duplicate email: %s", r.body)
		}
		fields["email"], fields["password"], fields["password-confirm"] = "bob@example.com", "short", "short"
		if r = postForm(e, b, r, fields); !strings.Contains(r.body, "Invalid password: minimum length 8.") {
			t.Fatalf("policy: %s", r.body)
		}
		fields["password"], fields["password-confirm"] = "bob-secret-pw", "bob-secret-pw"
		r = postForm(e, b, r, fields)
		if r.status != 200 || !strings.Contains(r.body, "kc-verify-email-form") || !strings.Contains(r.body, "bob@example.com") {
			t.Fatalf("after registering: %d %s", r.status, r.body)
		}
		bob := e.user("bob")
		if bob.EmailVerified || !slices.Contains(bob.RequiredActions, "VERIFY_EMAIL") || bob.FirstName != "Bob" {
			t.Fatalf("registered user: %+v", bob)
		}
		m := smtp.Wait(t, "bob@example.com", 1)
		if m.Subject != "Confirm your email address" {
			t.Errorf("subject %q", m.Subject)
		}
		// Re-send: a second mail.
		postForm(e, b, r, map[string]string{"resend": "true"})
		smtp.Wait(t, "bob@example.com", 2)
		done := b.get(m.Link(t, "action-token"))
		if loc := done.location(t); loc.Host != "app.example" || loc.Query().Get("code") == "" {
			t.Fatalf("after the link: %s", loc)
		}
		bob = e.user("bob")
		if !bob.EmailVerified || slices.Contains(bob.RequiredActions, "VERIFY_EMAIL") {
			t.Fatalf("after verification: %+v", bob)
		}
		waitEvent(t, e, events.SendVerifyEmail)
		got := storedEventTypes(t, e)
		for _, want := range []string{events.Register, events.RegisterError, events.VerifyEmail, events.Login} {
			if !slices.Contains(got, want) {
				t.Errorf("no %s event in %v", want, got)
			}
		}
	})
}

func TestRegistrationRules(t *testing.T) {
	e := newEnvOn(t, storetest.Open, web.URLs{}, func(rl *realm.Realm) {
		rl.RegistrationAllowed = true
		rl.RegistrationEmailAsUsername = true
	})
	b := e.browser()
	form := b.get(link(t, e, b.get(e.codeRequest(nil)), "kc-register-link"))
	if strings.Contains(form.body, `name="username"`) {
		t.Error("the form asks for a username although the email is the username")
	}
	r := postForm(e, b, form, map[string]string{"firstName": "C", "lastName": "D", "email": "not-an-email", "password": "pw-pw-pw-pw", "password-confirm": "pw-pw-pw-pw"})
	if !strings.Contains(r.body, "Invalid email address.") {
		t.Fatalf("bad email: %s", r.body)
	}
	r = postForm(e, b, r, map[string]string{"firstName": "C", "lastName": "D", "email": "carol@example.com", "password": "pw-pw-pw-pw", "password-confirm": "pw-pw-pw-pw"})
	if loc := r.location(t); loc.Query().Get("code") == "" {
		t.Fatalf("registered: %s", loc)
	}
	if u := e.user("carol@example.com"); u.Email != "carol@example.com" || !u.Enabled {
		t.Fatalf("user %+v", u)
	}
	// Registration off: no link, and the page refuses.
	if err := e.db.UpdateRealm(context.Background(), e.realm.ID, func(r *realm.Realm) error { r.RegistrationAllowed = false; return nil }); err != nil {
		t.Fatal(err)
	}
	b = e.browser()
	page := b.get(e.codeRequest(nil))
	if strings.Contains(page.body, "kc-register-link") {
		t.Error("register link shown")
	}
	action, _ := e.form(page)
	reg := strings.Replace(action, "/authenticate?", "/registration?", 1)
	if r := b.get(reg); r.status != http.StatusBadRequest || !strings.Contains(r.body, "Registration not allowed") {
		t.Fatalf("registration off: %d %s", r.status, r.body)
	}
}

// The registration form's optional parts follow the realm's registration
// flow: terms and conditions when enabled; a configured reCAPTCHA, which
// Gatehouse does not call, refuses registration plainly.
func TestRegistrationTermsAndRecaptcha(t *testing.T) {
	e := newEnvOn(t, storetest.Open, web.URLs{}, func(rl *realm.Realm) { rl.RegistrationAllowed = true })
	ctx := context.Background()
	setRequirement := func(authenticator, requirement, config string) {
		t.Helper()
		err := e.db.UpdateAuthConfig(ctx, e.realm.ID, func(cfg *flow.Config) error {
			for i := range cfg.Flows {
				for j, x := range cfg.Flows[i].Executions {
					if x.Authenticator == authenticator {
						cfg.Flows[i].Executions[j].Requirement = requirement
						cfg.Flows[i].Executions[j].AuthenticatorConfig = config
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setRequirement("registration-terms-and-conditions", flow.Required, "")
	b := e.browser()
	form := b.get(link(t, e, b.get(e.codeRequest(nil)), "kc-register-link"))
	if !strings.Contains(form.body, `name="termsAccepted"`) {
		t.Fatalf("no terms checkbox: %s", form.body)
	}
	fields := map[string]string{"firstName": "Tom", "lastName": "T", "email": "tom@example.com", "username": "tom",
		"password": "tom-secret-pw", "password-confirm": "tom-secret-pw"}
	r := postForm(e, b, form, fields)
	if !strings.Contains(r.body, "You must agree to our terms and conditions.") {
		t.Fatalf("terms not accepted: %s", r.body)
	}
	if _, err := e.db.GetUserByUsername(ctx, e.realm.ID, "tom"); err == nil {
		t.Fatal("a user was stored without accepting the terms")
	}
	fields["termsAccepted"] = "on"
	if r = postForm(e, b, r, fields); r.status != http.StatusFound {
		t.Fatalf("with terms accepted: %d %s", r.status, r.body)
	}
	if tom := e.user("tom"); len(tom.Attributes["terms_and_conditions"]) != 1 {
		t.Errorf("acceptance not recorded: %v", tom.Attributes)
	}

	// reCAPTCHA enabled without a configuration: nothing to check.
	setRequirement("registration-recaptcha-action", flow.Required, "")
	b = e.browser()
	if p := b.get(link(t, e, b.get(e.codeRequest(nil)), "kc-register-link")); p.status != 200 {
		t.Fatalf("recaptcha without configuration: %d", p.status)
	}
	setRequirement("registration-recaptcha-action", flow.Required, "recaptcha-cfg")
	b = e.browser()
	if p := b.get(link(t, e, b.get(e.codeRequest(nil)), "kc-register-link")); p.status != 400 || !strings.Contains(p.body, "reCAPTCHA") {
		t.Fatalf("configured recaptcha: %d %s", p.status, p.body)
	}
}
