package login_test

import (
	"context"
	"encoding/base32"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	potp "github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/otp"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

const otpSecret = "12345678901234567890"

// totpAt is the code an authenticator app shows at t (the realm's default
// policy: SHA1, 6 digits, 30 s), computed with the library directly.
func totpAt(t *testing.T, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(base32.StdEncoding.EncodeToString([]byte(otpSecret)), at,
		totp.ValidateOpts{Period: 30, Digits: potp.DigitsSix, Algorithm: potp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFlowOTP: the realm's default flows ask users with an authenticator
// app for a code after the password, in the browser and in the password
// grant; a REQUIRED OTP step sends a user without one to set one up.
func TestFlowOTP(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		ctx := context.Background()
		if _, err := otp.Setup(ctx, e.db, e.realm, e.user("alice"), otpSecret, totpAt(t, e.clock.Now()), "phone", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(30 * time.Second) // the setup's code is spent

		b := e.browser()
		res := e.login(b, b.get(e.codeRequest(nil)), "alice", alicePassword)
		if res.status != http.StatusOK || !strings.Contains(res.body, `name="otp"`) || !strings.Contains(res.body, `<h1 id="page-title">Sign In</h1>`) {
			t.Fatalf("OTP page: %d %s", res.status, res.body)
		}
		if again := e.postForm(b, res, map[string]string{"otp": "000000"}); again.status != http.StatusOK || !strings.Contains(again.body, `aria-invalid="true"`) {
			t.Fatalf("wrong code: %d %s", again.status, again.body)
		}
		if res := e.postForm(b, res, map[string]string{"otp": totpAt(t, e.clock.Now())}); res.status != http.StatusFound {
			t.Fatalf("right code: %d %s", res.status, res.body)
		}

		// The password grant's flow asks it too.
		app := e.client("app")
		if err := e.db.UpdateClient(ctx, e.realm.ID, app.ID, func(c *client.Client) error { c.DirectAccessGrantsEnabled = true; return nil }); err != nil {
			t.Fatal(err)
		}
		grant := func(code string) int {
			form := url.Values{"grant_type": {"password"}, "client_id": {"app"}, "client_secret": {appSecret}, "username": {"alice"}, "password": {alicePassword}}
			if code != "" {
				form.Set("otp", code)
			}
			res, err := http.PostForm(e.url("/protocol/openid-connect/token"), form)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		e.clock.Add(30 * time.Second)
		if code := grant(""); code != http.StatusUnauthorized {
			t.Errorf("grant without otp: %d", code)
		}
		if code := grant(totpAt(t, e.clock.Now())); code != http.StatusOK {
			t.Errorf("grant with otp: %d", code)
		}

		// REQUIRED for everyone: bob, without an app, must set one up.
		e.addUser("bob", "bob-secret-pw", nil)
		e.bindBrowser(cookieThenForms("otp for all", "otp forms"), innerFlow("otp forms",
			step("upf", "auth-username-password-form", flow.Required, 10),
			step("otp", "auth-otp-form", flow.Required, 20)))
		b = e.browser()
		if res := e.login(b, b.get(e.codeRequest(nil)), "bob", "bob-secret-pw"); res.status == http.StatusFound {
			t.Fatalf("bob logged in without setting up an app")
		}
		if ra := e.user("bob").RequiredActions; !slices.Contains(ra, otp.RequiredAction) {
			t.Errorf("bob's required actions: %v", ra)
		}
	})
}
