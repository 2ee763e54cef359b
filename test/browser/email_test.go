package browser_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-iam/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// fill types value into the input with id, replacing what it holds.
func fill(id, value string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.ID(id), value)
}

// A person registers, receives the verification mail, follows its link and
// arrives at the application verified; logs out; forgets the password,
// receives the reset mail, follows it, sets a new password, and later signs
// in with it. The mail goes through a real SMTP server on a loopback port.
func TestRegisterVerifyAndResetPassword(t *testing.T) {
	ctx := newChromium(t)
	s := newStack(t)
	s.requireCodeGrant(t)
	smtp := mailtest.Start(t)
	err := s.db.UpdateRealm(context.Background(), s.realm.ID, func(r *realm.Realm) error {
		r.RegistrationAllowed, r.VerifyEmail, r.ResetPasswordAllowed = true, true, true
		r.SMTPServer = smtp.Settings()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	do(t, ctx, "open the registration page", chromedp.Navigate(s.rp.url("/app-one/login")),
		chromedp.WaitVisible(chromedp.ID("kc-register-link")), chromedp.Click(chromedp.ID("kc-register-link")),
		chromedp.WaitVisible(chromedp.ID("kc-register-form")))
	do(t, ctx, "register", fill("firstName", "Bob"), fill("lastName", "Builder"), fill("email", "bob@example.com"),
		fill("username", "bob"), fill("password", "bob-first-pw"), fill("password-confirm", "bob-first-pw"),
		chromedp.Click(chromedp.ID("kc-register")), chromedp.WaitVisible(chromedp.ID("kc-verify-email-form")))
	screenshot(t, ctx, "verify-email")
	verify := smtp.Wait(t, "bob@example.com", 1)
	do(t, ctx, "follow the verification link", chromedp.Navigate(verify.Link(t, "action-token")),
		chromedp.WaitVisible(chromedp.ID("callback")))
	if got, user := text(t, ctx, "exchange"), text(t, ctx, "user"); got != "ok" || user != "bob" {
		t.Fatalf("after verification: exchange %q user %q", got, user)
	}
	bob, err := s.db.GetUserByUsername(context.Background(), s.realm.ID, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if !bob.EmailVerified || slices.Contains(bob.RequiredActions, "VERIFY_EMAIL") {
		t.Fatalf("bob after verification: verified %v actions %v", bob.EmailVerified, bob.RequiredActions)
	}

	do(t, ctx, "log out", chromedp.Navigate(s.rp.url("/app-one/logout")), chromedp.WaitVisible(chromedp.ID("bye")))

	do(t, ctx, "open forgot password", chromedp.Navigate(s.rp.url("/app-one/login")),
		chromedp.WaitVisible(chromedp.ID("kc-forgot-password")), chromedp.Click(chromedp.ID("kc-forgot-password")),
		chromedp.WaitVisible(chromedp.ID("kc-reset-password-form")))
	do(t, ctx, "ask for a reset", fill("username", "bob"), chromedp.Click(chromedp.ID("kc-submit")),
		chromedp.WaitVisible(chromedp.ID("kc-form-login")))
	if got := text(t, ctx, "alert"); !strings.Contains(got, "You should receive an email shortly") {
		t.Errorf("after asking for a reset: %q", got)
	}
	reset := smtp.Wait(t, "bob@example.com", 1+1)
	do(t, ctx, "follow the reset link", chromedp.Navigate(reset.Link(t, "action-token")),
		chromedp.WaitVisible(chromedp.ID("kc-passwd-update-form")))
	screenshot(t, ctx, "reset-password")
	do(t, ctx, "set a new password", fill("password-new", "bob-second-pw"), fill("password-confirm", "bob-second-pw"),
		chromedp.Click(chromedp.ID("kc-submit")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got := text(t, ctx, "exchange"); got != "ok" {
		t.Fatalf("after the reset: %q", got)
	}

	do(t, ctx, "log out again", chromedp.Navigate(s.rp.url("/app-one/logout")), chromedp.WaitVisible(chromedp.ID("bye")))
	do(t, ctx, "back to the login form", chromedp.Navigate(s.rp.url("/app-one/login")))
	signIn(t, ctx, "bob", "bob-second-pw")
	do(t, ctx, "signed in with the new password", chromedp.WaitVisible(chromedp.ID("callback")))
	if got, user := text(t, ctx, "exchange"), text(t, ctx, "user"); got != "ok" || user != "bob" {
		t.Fatalf("sign-in with the new password: exchange %q user %q", got, user)
	}
}
