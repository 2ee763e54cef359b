package login_test

import (
	"context"
	"encoding/base32"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	potp "github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

var manualKey = regexp.MustCompile(`<code id="kc-totp-secret-key">([A-Z2-7 ]+)</code>`)

// TestConfigureTOTPRequiredAction walks Keycloak's login-config-totp page:
// the QR code, the manual key, refusals that keep the secret, and a valid
// code that stores the credential and lets the login finish.
func TestConfigureTOTPRequiredAction(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		e.addUser("dora", "dora-pw", func(u *realmUser) { u.RequiredActions = []string{"CONFIGURE_TOTP"} })
		b := e.browser()
		page := e.login(b, b.get(e.codeRequest(nil)), "dora", "dora-pw")
		if page.status != http.StatusOK || !strings.Contains(page.body, "Mobile Authenticator Setup") ||
			!strings.Contains(page.body, `src="data:image/png;base64,`) || !strings.Contains(page.body, "Google Authenticator") {
			t.Fatalf("setup page: %d %s", page.status, page.body)
		}
		if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data:") {
			t.Errorf("the QR code is not allowed by %q", csp)
		}
		if n := len(e.sessions("dora")); n != 0 {
			t.Fatal("a session exists before the action is done")
		}
		// "Unable to scan?" shows the key and the policy.
		m := regexp.MustCompile(`<a href="([^"]*)" id="mode-manual">`).FindStringSubmatch(page.body)
		if m == nil {
			t.Fatal("no link to the manual key")
		}
		manual := b.get(e.srv.URL + html.UnescapeString(m[1]))
		km := manualKey.FindStringSubmatch(manual.body)
		if km == nil || !strings.Contains(manual.body, "Time-based") || !strings.Contains(manual.body, "SHA1") || !strings.Contains(manual.body, "Interval: 30") {
			t.Fatalf("manual page: %d %s", manual.status, manual.body)
		}
		key := strings.ReplaceAll(km[1], " ", "")
		action, fields := e.form(manual)
		if raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key); err != nil || string(raw) != fields.Get("totpSecret") {
			t.Fatalf("the key shown is not the secret posted: %v", err)
		}
		try := func(code, label string) response {
			f := url.Values{}
			for k, v := range fields {
				f[k] = v
			}
			f.Set("totp", code)
			f.Set("userLabel", label)
			return b.post(action, f)
		}
		now := e.clock.Now()
		code, err := totp.GenerateCodeCustom(key, now, totp.ValidateOpts{Period: 30, Digits: potp.DigitsSix, Algorithm: potp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for _, tt := range []struct{ code, want string }{
			{"", "Please specify authenticator code."},
			{wrong, "Invalid authenticator code."},
		} {
			res := try(tt.code, "phone")
			if res.status != http.StatusOK || !strings.Contains(res.body, tt.want) || !strings.Contains(res.body, `value="`+fields.Get("totpSecret")+`"`) ||
				manualKey.FindStringSubmatch(res.body) == nil {
				t.Errorf("code %q: %d, want %q with the same secret in manual mode: %s", tt.code, res.status, tt.want, res.body)
			}
		}
		if cs, _ := e.db.ListCredentials(context.Background(), e.user("dora").ID); len(cs) != 1 {
			t.Fatalf("a refused code stored a credential: %d credentials", len(cs))
		}
		res := try(code, "phone")
		if res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
			t.Fatalf("after a valid code: %d %s", res.status, res.body)
		}
		u := e.user("dora")
		if len(u.RequiredActions) != 0 {
			t.Errorf("required actions left: %v", u.RequiredActions)
		}
		cs, _ := e.db.ListCredentials(context.Background(), u.ID)
		if len(cs) != 2 || cs[1].Type != "otp" || cs[1].UserLabel != "phone" || cs[1].SecretData != `{"value":"`+fields.Get("totpSecret")+`"}` ||
			cs[1].CredentialData != `{"subType":"totp","digits":6,"counter":0,"period":30,"algorithm":"HmacSHA1"}` {
			t.Errorf("credentials: %+v", cs)
		}
		if logs := e.logs.String(); strings.Contains(logs, fields.Get("totpSecret")) || strings.Contains(logs, key) || strings.Contains(logs, "totp="+code) {
			t.Error("the secret or the code reached the log")
		}
	})
}

// TestConfigureTOTPByApplication is the account console's "Set up
// authenticator application": kc_action=CONFIGURE_TOTP on a signed-in
// browser shows the setup page; a second device needs a name; the answer
// says kc_action_status=success, or cancelled when the user declines.
func TestConfigureTOTPByApplication(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		b := e.browser()
		if res := e.login(b, b.get(e.codeRequest(nil)), "alice", alicePassword); res.status != http.StatusFound {
			t.Fatalf("login: %d %s", res.status, res.body)
		}
		setUp := func(label string) response {
			t.Helper()
			page := b.get(e.codeRequest(map[string]string{"kc_action": "CONFIGURE_TOTP"}))
			if page.status != http.StatusOK || !strings.Contains(page.body, `id="kc-totp-secret-qr-code"`) || !strings.Contains(page.body, `id="kc-cancel-aia"`) {
				t.Fatalf("setup page: %d %s", page.status, page.body)
			}
			action, fields := e.form(page)
			key := base32.StdEncoding.EncodeToString([]byte(fields.Get("totpSecret")))
			code, _ := totp.GenerateCodeCustom(key, e.clock.Now(), totp.ValidateOpts{Period: 30, Digits: potp.DigitsSix, Algorithm: potp.AlgorithmSHA1})
			fields.Set("totp", code)
			fields.Set("userLabel", label)
			return b.post(action, fields)
		}
		res := setUp("")
		if res.status != http.StatusFound || res.location(t).Query().Get("kc_action_status") != "success" || res.location(t).Query().Get("code") == "" {
			t.Fatalf("first device: %d %s %s", res.status, res.header.Get("Location"), res.body)
		}
		if res := setUp(""); res.status != http.StatusOK || !strings.Contains(res.body, "Please specify device name.") {
			t.Errorf("unnamed second device: %d %s", res.status, res.body)
		}
		if res := setUp("laptop"); res.status != http.StatusFound || res.location(t).Query().Get("kc_action_status") != "success" {
			t.Errorf("second device: %d %s", res.status, res.header.Get("Location"))
		}
		page := b.get(e.codeRequest(map[string]string{"kc_action": "CONFIGURE_TOTP"}))
		action, fields := e.form(page)
		fields.Set("cancel-aia", "true")
		if res := b.post(action, fields); res.status != http.StatusFound || res.location(t).Query().Get("kc_action_status") != "cancelled" {
			t.Errorf("cancel: %d %s", res.status, res.header.Get("Location"))
		}
		cs, _ := e.db.ListCredentials(context.Background(), e.user("alice").ID)
		var labels []string
		for _, c := range cs {
			labels = append(labels, c.Type+":"+c.UserLabel)
		}
		if strings.Join(labels, ",") != "password:,otp:,otp:laptop" {
			t.Errorf("credentials: %v", labels)
		}
	})
}

// TestConfigureHOTP: under an HOTP policy the page names a counter-based
// app and its first counter, the first code is the one at that counter,
// and UPDATE_TOTP is recorded with no secret or code in its details.
func TestConfigureHOTP(t *testing.T) {
	e := newEnv(t, func(r *realm.Realm) {
		r.EventsEnabled = true
		r.OTPPolicy = &realm.OTPPolicy{Type: "hotp", Algorithm: "HmacSHA256", Digits: 8, InitialCounter: 4, LookAheadWindow: 1, Period: 30}
	})
	e.addUser("hana", "hana-pw", func(u *realmUser) { u.RequiredActions = []string{"CONFIGURE_TOTP"} })
	b := e.browser()
	page := e.login(b, b.get(e.codeRequest(nil)), "hana", "hana-pw")
	m := regexp.MustCompile(`<a href="([^"]*)" id="mode-manual">`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("setup page: %s", page.body)
	}
	manual := b.get(e.srv.URL + html.UnescapeString(m[1]))
	for _, want := range []string{"Counter-based", "SHA256", "Digits: 8", "Counter: 4", "FreeOTP"} {
		if !strings.Contains(manual.body, want) {
			t.Errorf("manual page lacks %q", want)
		}
	}
	if strings.Contains(manual.body, "Google Authenticator") {
		t.Error("an app without counters is suggested")
	}
	action, fields := e.form(manual)
	key := base32.StdEncoding.EncodeToString([]byte(fields.Get("totpSecret")))
	code, err := hotp.GenerateCodeCustom(key, 4, hotp.ValidateOpts{Digits: potp.DigitsEight, Algorithm: potp.AlgorithmSHA256})
	if err != nil {
		t.Fatal(err)
	}
	fields.Set("totp", code)
	if res := b.post(action, fields); res.status != http.StatusFound {
		t.Fatalf("HOTP setup: %d %s", res.status, res.body)
	}
	cs, _ := e.db.ListCredentials(context.Background(), e.user("hana").ID)
	if len(cs) != 2 || cs[1].CredentialData != `{"subType":"hotp","digits":8,"counter":5,"period":30,"algorithm":"HmacSHA256"}` {
		t.Errorf("credentials: %+v", cs)
	}
	evs, err := e.db.ListEvents(context.Background(), e.realm.ID, store.EventQuery{Types: []string{"UPDATE_TOTP"}, Max: -1})
	if err != nil || len(evs) != 1 || evs[0].UserID != e.user("hana").ID || len(evs[0].Details) != 2 || evs[0].Details["credential_type"] != "otp" {
		t.Fatalf("UPDATE_TOTP events: %+v %v", evs, err)
	}
}

// TestTOTPSetupCodeIsSpent: the code that proved the app at setup is spent
// like a login code, so it cannot sign in again within its time step; the
// next step's code can.
func TestTOTPSetupCodeIsSpent(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		b := e.browser()
		if res := e.login(b, b.get(e.codeRequest(nil)), "alice", alicePassword); res.status != http.StatusFound {
			t.Fatalf("login: %d %s", res.status, res.body)
		}
		page := b.get(e.codeRequest(map[string]string{"kc_action": "CONFIGURE_TOTP"}))
		action, fields := e.form(page)
		key := base32.StdEncoding.EncodeToString([]byte(fields.Get("totpSecret")))
		gen := func() string {
			code, err := totp.GenerateCodeCustom(key, e.clock.Now(), totp.ValidateOpts{Period: 30, Digits: potp.DigitsSix, Algorithm: potp.AlgorithmSHA1})
			if err != nil {
				t.Fatal(err)
			}
			return code
		}
		code := gen()
		fields.Set("totp", code)
		if res := b.post(action, fields); res.status != http.StatusFound || res.location(t).Query().Get("kc_action_status") != "success" {
			t.Fatalf("setup: %d %s", res.status, res.header.Get("Location"))
		}
		fresh := e.browser()
		otpPage := e.login(fresh, fresh.get(e.codeRequest(nil)), "alice", alicePassword)
		if otpPage.status != http.StatusOK || !strings.Contains(otpPage.body, `name="otp"`) {
			t.Fatalf("OTP page: %d %s", otpPage.status, otpPage.body)
		}
		again := e.postForm(fresh, otpPage, map[string]string{"otp": code})
		if again.status != http.StatusOK || !strings.Contains(again.body, `aria-invalid="true"`) {
			t.Fatalf("the setup code signed in again: %d %s", again.status, again.header.Get("Location"))
		}
		e.clock.Add(90 * time.Second)
		if res := e.postForm(fresh, again, map[string]string{"otp": gen()}); res.status != http.StatusFound {
			t.Errorf("next code: %d %s", res.status, res.body)
		}
	})
}
