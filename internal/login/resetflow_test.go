package login_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-iam/gatehouse/internal/otp"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// copyResetFlow copies the built-in reset-credentials flow and its OTP
// sub-flow under new aliases, with the sub-flow's requirement set to req,
// and binds the copy as the realm's reset-credentials flow.
func copyResetFlow(t *testing.T, e *env, req string) {
	t.Helper()
	err := e.db.UpdateAuthConfig(context.Background(), e.realm.ID, func(c *flow.Config) error {
		top, ok := c.FlowByAlias(flow.ResetCredentialsFlow)
		if !ok {
			t.Fatal("no reset credentials flow")
		}
		var copies []flow.Flow
		for _, f := range []flow.Flow{top} {
			f.ID, f.Alias, f.BuiltIn = "", "my reset", false
			f.Executions = slices.Clone(f.Executions)
			for i, x := range f.Executions {
				f.Executions[i].ID = ""
				if x.AuthenticatorFlow {
					sub, ok := c.FlowByAlias(x.FlowAlias)
					if !ok {
						t.Fatalf("no sub-flow %s", x.FlowAlias)
					}
					sub.ID, sub.Alias, sub.BuiltIn = "", "my reset otp", false
					sub.Executions = slices.Clone(sub.Executions)
					for j := range sub.Executions {
						sub.Executions[j].ID = ""
					}
					f.Executions[i].FlowAlias, f.Executions[i].Requirement = sub.Alias, req
					copies = append(copies, sub)
				}
			}
			copies = append(copies, f)
		}
		c.Flows = append(c.Flows, copies...)
		c.Bindings.ResetCredentials = "my reset"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestResetCredentialsFlow: "forgot password" walks the realm's bound
// reset-credentials flow. By default its conditional OTP sub-flow asks a
// user with an authenticator app for a new one after the new password; a
// copy whose sub-flow is REQUIRED refuses a user without one, as Keycloak
// does (reset-otp cannot be set up by the user).
func TestResetCredentialsFlow(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		smtp := mailtest.Start(t)
		e := newEnvOn(t, open, web.URLs{}, func(rl *realm.Realm) {
			rl.ResetPasswordAllowed = true
			rl.SMTPServer = smtp.Settings()
		})
		resetLink := func(name string, n int) (*browser, string) {
			b := e.browser()
			reset := b.get(link(t, e, b.get(e.codeRequest(nil)), "kc-forgot-password"))
			if reset.status != http.StatusOK || !strings.Contains(reset.body, "kc-reset-password-form") {
				t.Fatalf("reset page: %d %s", reset.status, reset.body)
			}
			if r := postForm(e, b, reset, map[string]string{"username": name}); !strings.Contains(r.body, "You should receive an email shortly") {
				t.Fatalf("after the reset form: %d %s", r.status, r.body)
			}
			return b, smtp.Wait(t, "alice@example.com", n).Link(t, "action-token")
		}
		newPassword := func(b *browser, l, pw string) response {
			upd := b.get(l)
			if upd.status != http.StatusOK || !strings.Contains(upd.body, "kc-passwd-update-form") {
				t.Fatalf("link: %d %s", upd.status, upd.body)
			}
			return postForm(e, b, upd, map[string]string{"password-new": pw, "password-confirm": pw})
		}

		// Alice has an authenticator app: the default flow's conditional
		// OTP sub-flow asks her for a new one once the password is set.
		ctx := context.Background()
		if _, err := otp.Setup(ctx, e.db, e.realm, e.user("alice"), otpSecret, totpAt(t, e.clock.Now()), "phone", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(30 * time.Second)
		b, l := resetLink("alice", 1)
		if r := newPassword(b, l, "first-new-pw"); r.status != http.StatusOK || !strings.Contains(r.body, "kc-totp-settings-form") {
			t.Fatalf("after the new password, with an app: %d %s", r.status, r.body)
		}

		// Without an app, the default flow ends at the client.
		if err := e.db.DeleteCredentialsOfType(ctx, e.user("alice").ID, otp.Type); err != nil {
			t.Fatal(err)
		}
		b, l = resetLink("alice", 2)
		if r := newPassword(b, l, "second-new-pw"); r.status != http.StatusFound || r.location(t).Query().Get("code") == "" {
			t.Fatalf("default flow without an app: %d %s", r.status, r.body)
		}

		// "Remove one": the user picks the authenticator app to remove.
		if _, err := otp.Setup(ctx, e.db, e.realm, e.user("alice"), otpSecret, totpAt(t, e.clock.Now()), "phone", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(30 * time.Second)
		setOTPReset(t, e, "Remove one")
		b, l = resetLink("alice", 3)
		pick := b.get(l)
		if pick.status != http.StatusOK || !strings.Contains(pick.body, "kc-otp-reset-form") || !strings.Contains(pick.body, "phone") {
			t.Fatalf("remove one: %d %s", pick.status, pick.body)
		}
		if r := postForm(e, b, pick, map[string]string{"selectedCredentialId": ""}); !strings.Contains(r.body, "An OTP configuration must be selected.") {
			t.Fatalf("nothing picked: %d %s", r.status, r.body)
		}
		creds, err := e.db.ListCredentials(ctx, e.user("alice").ID)
		i := slices.IndexFunc(creds, func(c user.Credential) bool { return c.Type == otp.Type })
		if err != nil || i < 0 {
			t.Fatalf("credentials: %v %v", creds, err)
		}
		if r := postForm(e, b, pick, map[string]string{"selectedCredentialId": creds[i].ID}); r.status != http.StatusOK || !strings.Contains(r.body, "kc-passwd-update-form") {
			t.Fatalf("after picking: %d %s", r.status, r.body)
		}
		if creds, err := e.db.ListCredentials(ctx, e.user("alice").ID); err != nil || slices.ContainsFunc(creds, func(c user.Credential) bool { return c.Type == otp.Type }) {
			t.Fatalf("the picked app is still there: %v %v", creds, err)
		}

		// A copy whose OTP sub-flow is REQUIRED: the same user is refused
		// once the link is opened, and keeps the password she had.
		copyResetFlow(t, e, flow.Required)
		b, l = resetLink("alice", 4)
		r := b.get(l)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Cannot login, credential setup required.") {
			t.Fatalf("REQUIRED OTP sub-flow: %d %s", r.status, r.body)
		}
		b2 := e.browser()
		if r := e.login(b2, b2.get(e.codeRequest(nil)), "alice", "second-new-pw"); r.status != http.StatusFound {
			t.Fatalf("password after the refused reset: %d %s", r.status, r.body)
		}
	})
}

// TestResetLinkPrefetchConsumesNothing: a reset-credentials link opened
// outside the login that asked for it (a mail scanner's prefetch, another
// browser) shows the confirm page and spends nothing, not even under
// reset-otp "Remove all"; the link works once the user confirms.
func TestResetLinkPrefetchConsumesNothing(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		smtp := mailtest.Start(t)
		e := newEnvOn(t, open, web.URLs{}, func(rl *realm.Realm) {
			rl.ResetPasswordAllowed = true
			rl.SMTPServer = smtp.Settings()
		})
		ctx := context.Background()
		if _, err := otp.Setup(ctx, e.db, e.realm, e.user("alice"), otpSecret, totpAt(t, e.clock.Now()), "phone", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		setOTPReset(t, e, "Remove all")
		b := e.browser()
		reset := b.get(link(t, e, b.get(e.codeRequest(nil)), "kc-forgot-password"))
		postForm(e, b, reset, map[string]string{"username": "alice"})
		l := smtp.Wait(t, "alice@example.com", 1).Link(t, "action-token")
		hasOTP := func() bool {
			cs, err := e.db.ListCredentials(ctx, e.user("alice").ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				if c.Type == otp.Type {
					return true
				}
			}
			return false
		}
		for range 2 {
			scan := e.browser().get(l)
			if scan.status != http.StatusOK || !strings.Contains(scan.body, "Update Password") || strings.Contains(scan.body, "kc-passwd-update-form") {
				t.Fatalf("prefetch: %d %s", scan.status, scan.body)
			}
			if !hasOTP() {
				t.Fatal("a prefetch removed the authenticator app")
			}
		}
		other := e.browser()
		confirm := other.get(l)
		upd := postForm(e, other, confirm, nil)
		if upd.status != http.StatusOK || !strings.Contains(upd.body, "kc-passwd-update-form") {
			t.Fatalf("after confirming: %d %s", upd.status, upd.body)
		}
		if hasOTP() {
			t.Error("Remove all kept the authenticator app once the user confirmed")
		}
		if again := postForm(e, e.browser(), confirm, nil); again.status != http.StatusBadRequest {
			t.Errorf("the link worked twice: %d", again.status)
		}
	})
}

// setOTPReset gives the realm's reset-otp step the action flag (Keycloak's
// action_on_otp_reset_flag).
func setOTPReset(t *testing.T, e *env, flag string) {
	t.Helper()
	err := e.db.UpdateAuthConfig(context.Background(), e.realm.ID, func(c *flow.Config) error {
		c.Configs = append(c.Configs, flow.AuthenticatorConfig{Alias: "otp reset", Config: map[string]string{"action_on_otp_reset_flag": flag}})
		for i := range c.Flows {
			for j, x := range c.Flows[i].Executions {
				if x.Authenticator == "reset-otp" {
					c.Flows[i].Executions[j].AuthenticatorConfig = "otp reset"
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
