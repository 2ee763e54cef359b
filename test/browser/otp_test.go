package browser_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// TestSetUpAuthenticatorApp: from the account console's Signing in page,
// user1 sets up an authenticator app. The test reads the key the page
// shows under "Unable to scan?", computes the code as an app would, and
// submits it after a wrong one was refused; the credential is stored and
// listed, and then removed again from the same page.
func TestSetUpAuthenticatorApp(t *testing.T) {
	ctx := newChromium(t)
	d := newLDAPDemo(t)

	do(t, ctx, "open the account console", chromedp.Navigate(d.url("/account/account-security/signing-in")), chromedp.WaitVisible(chromedp.ID("username")))
	signIn(t, ctx, "user1", "password")
	do(t, ctx, "signing in", chromedp.WaitVisible(chromedp.ID("otp-set-up")))
	if got := text(t, ctx, "otp-none"); got != "Authenticator application is not set up." {
		t.Errorf("before: %q", got)
	}
	do(t, ctx, "set up an authenticator app", chromedp.Click(chromedp.ID("otp-set-up")), chromedp.WaitVisible(chromedp.ID("kc-totp-secret-qr-code")))
	if loaded, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('kc-totp-secret-qr-code').naturalWidth > 0`)); !loaded {
		t.Error("the QR code image did not load")
	}
	screenshot(t, ctx, "otp-setup-qr")
	do(t, ctx, "unable to scan", chromedp.Click(chromedp.ID("mode-manual")), chromedp.WaitVisible(chromedp.ID("kc-totp-secret-key")))
	key := strings.ReplaceAll(text(t, ctx, "kc-totp-secret-key"), " ", "")
	if len(key) != 32 {
		t.Fatalf("manual key %q", key)
	}
	for _, want := range []string{"Time-based", "SHA1", "Digits: 6", "Interval: 30"} {
		if !strings.Contains(pageText(t, ctx), want) {
			t.Errorf("the manual page lacks %q", want)
		}
	}
	screenshot(t, ctx, "otp-setup-manual")

	code, err := totp.GenerateCode(key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	do(t, ctx, "a wrong code",
		chromedp.SendKeys(chromedp.ID("totp"), wrong),
		chromedp.SendKeys(chromedp.ID("userLabel"), "Pixel"),
		chromedp.Click(chromedp.ID("saveTOTPBtn")),
		chromedp.WaitVisible(chromedp.ID("alert")))
	if got := text(t, ctx, "alert"); got != "Invalid authenticator code." {
		t.Fatalf("after a wrong code: %q", got)
	}
	if again := strings.ReplaceAll(text(t, ctx, "kc-totp-secret-key"), " ", ""); again != key {
		t.Fatalf("the key changed after a refused code: %s, was %s", again, key)
	}
	if n := d.otpCount(); n != 0 {
		t.Fatalf("a wrong code stored %d credentials", n)
	}
	screenshot(t, ctx, "otp-setup-refused")
	code, _ = totp.GenerateCode(key, time.Now())
	do(t, ctx, "the right code",
		chromedp.Evaluate[chromedp.Void](`document.getElementById('totp').value = ''`),
		chromedp.SendKeys(chromedp.ID("totp"), code),
		chromedp.Click(chromedp.ID("saveTOTPBtn")),
		chromedp.WaitVisible(chromedp.ID("otp-list")))
	if loc := location(t, ctx); !strings.HasPrefix(loc, d.url("/account/account-security/signing-in")) {
		t.Errorf("back at %s", loc)
	}
	if !strings.Contains(text(t, ctx, "otp-list"), "Pixel") {
		t.Errorf("the app is not listed:\n%s", pageText(t, ctx))
	}
	if n := d.otpCount(); n != 1 {
		t.Fatalf("%d OTP credentials stored, want 1", n)
	}
	screenshot(t, ctx, "otp-listed")

	do(t, ctx, "remove it", chromedp.Click(chromedp.CSS(".otp-remove")), chromedp.WaitVisible(chromedp.ID("kc-accept")))
	do(t, ctx, "confirm", chromedp.Click(chromedp.ID("kc-accept")), chromedp.WaitVisible(chromedp.ID("otp-none")))
	if n := d.otpCount(); n != 0 {
		t.Errorf("%d OTP credentials left after removal", n)
	}
}

// otpCount is how many OTP credentials user1 has in the store.
func (d *ldapDemo) otpCount() int {
	d.t.Helper()
	rl, err := d.db.GetRealmByName(context.Background(), "ldap-demo")
	if err != nil {
		d.t.Fatal(err)
	}
	u, err := d.db.GetUserByUsername(context.Background(), rl.ID, "user1")
	if err != nil {
		d.t.Fatal(err)
	}
	cs, err := d.db.ListCredentials(context.Background(), u.ID)
	if err != nil {
		d.t.Fatal(err)
	}
	n := 0
	for _, c := range cs {
		if c.Type == "otp" {
			n++
		}
	}
	return n
}
