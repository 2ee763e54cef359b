package otp_test

import (
	"bytes"
	"encoding/base32"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/otp"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

func TestSetupRefusals(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		p := realm.DefaultOTPPolicy()
		f := setup(t, open(t), p, nil)
		refused := func(code, label, key string) {
			t.Helper()
			_, err := otp.Setup(t.Context(), f.db, f.rl, f.u, secret, code, label, t0)
			var se *otp.SetupError
			if !errors.As(err, &se) || se.Key != key {
				t.Errorf("setup with %q %q: %v, want %s", code, label, err, key)
			}
		}
		refused("", "", "missingTotpMessage")
		refused("123", "", "invalidTotpMessage")
		refused(totpCode(t, secret, p, t0.Add(-5*60e9)), "", "invalidTotpMessage")
		if cs, _ := f.db.ListCredentials(t.Context(), f.u.ID); len(cs) != 0 {
			t.Fatalf("a refused setup stored %v", cs)
		}
		f.enroll(t, secret, "", t0)
		// A second device must be named, to tell them apart.
		refused(totpCode(t, secret, p, t0), " ", "missingTotpDeviceNameMessage")
		refused(totpCode(t, secret, p, t0), strings.Repeat("x", 256), "invalidTotpDeviceNameMessage")
		c := f.enroll(t, otp.NewSecret(), "tablet", t0)
		cs, _ := f.db.ListCredentials(t.Context(), f.u.ID)
		if len(cs) != 2 || cs[1].ID != c.ID || cs[1].UserLabel != "tablet" || cs[1].Priority <= cs[0].Priority {
			t.Errorf("credentials: %+v", cs)
		}
	})
}

func TestKeyURIAndQRCode(t *testing.T) {
	s := otp.NewSecret()
	if len(s) != 20 || s == otp.NewSecret() {
		t.Fatalf("secret %q", s)
	}
	key := otp.ManualKey("12345678901234567890")
	if key != "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ" {
		t.Errorf("manual key %q", key)
	}
	raw, err := base32.StdEncoding.DecodeString(strings.ReplaceAll(otp.ManualKey(s), " ", ""))
	if err != nil || string(raw) != s {
		t.Errorf("manual key does not decode to the secret: %q %v", raw, err)
	}
	rl := realm.New("r1", "acme")
	rl.DisplayName = "Acme Corp"
	u := f0user("jane")
	uri, err := url.Parse(otp.KeyURI(rl, u, "12345678901234567890"))
	if err != nil {
		t.Fatal(err)
	}
	q := uri.Query()
	if uri.Scheme != "otpauth" || uri.Host != "totp" || uri.Path != "/Acme Corp:jane" || q.Get("secret") != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" ||
		q.Get("digits") != "6" || q.Get("algorithm") != "SHA1" || q.Get("period") != "30" || q.Get("issuer") != "Acme Corp" {
		t.Errorf("key URI %s", uri)
	}
	rl.OTPPolicy = &realm.OTPPolicy{Type: "hotp", Algorithm: "HmacSHA512", Digits: 8, InitialCounter: 7, LookAheadWindow: 1, Period: 30}
	uri, _ = url.Parse(otp.KeyURI(rl, u, s))
	if q := uri.Query(); uri.Host != "hotp" || q.Get("counter") != "7" || q.Get("algorithm") != "SHA512" || q.Get("digits") != "8" || q.Has("period") {
		t.Errorf("HOTP key URI %s", uri)
	}
	png, err := otp.QRCode(uri.String())
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("QR code: %v", err)
	}
}

func f0user(name string) user.User { return user.User{ID: "u1", Username: name} }
