package otp_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/otp"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// A realm file as Keycloak 26 exports it: a TOTP app with SHA-256 and
// eight digits, and an HOTP token whose counter has moved to 5.
const realmFile = `{
  "realm": "otpx", "enabled": true,
  "otpPolicyType": "totp", "otpPolicyAlgorithm": "HmacSHA1", "otpPolicyDigits": 6, "otpPolicyLookAheadWindow": 1,
  "otpPolicyPeriod": 30, "otpPolicyInitialCounter": 0, "otpPolicyCodeReusable": false,
  "users": [{
    "id": "0b5a1d2c-0000-4000-8000-000000000001", "username": "ines", "enabled": true, "createdTimestamp": 1700000000000,
    "totp": true,
    "credentials": [
      {"id": "0b5a1d2c-0000-4000-8000-0000000000a1", "type": "otp", "userLabel": "phone", "createdDate": 1700000000100,
       "secretData": "{\"value\":\"Gh7pQ2xLm9ZaT4vW1bNc\"}",
       "credentialData": "{\"subType\":\"totp\",\"digits\":8,\"counter\":0,\"period\":30,\"algorithm\":\"HmacSHA256\"}"},
      {"id": "0b5a1d2c-0000-4000-8000-0000000000a2", "type": "otp", "userLabel": "token", "createdDate": 1700000000200,
       "secretData": "{\"value\":\"Zq8rT1yUp3XcV5wN7mKd\"}",
       "credentialData": "{\"subType\":\"hotp\",\"digits\":6,\"counter\":5,\"period\":30,\"algorithm\":\"HmacSHA1\"}"}
    ]
  }]
}`

// TestImportExportRoundTrip: OTP credentials in Keycloak's format are
// imported as they are (their own digits, algorithm and counter), work
// with codes an app computes, leave in the export as they came (the HOTP
// counter as it stands), and work again after the export is imported
// elsewhere.
func TestImportExportRoundTrip(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := t.Context()
		a := open(t)
		if _, _, err := rep.ImportFile(ctx, a, []byte(realmFile), rep.ImportOptions{Now: t0}); err != nil {
			t.Fatal(err)
		}
		at := t0.Add(time.Hour)
		check := func(db *store.DB, code string, at time.Time) bool {
			t.Helper()
			rl, err := db.GetRealmByName(ctx, "otpx")
			if err != nil {
				t.Fatal(err)
			}
			u, err := db.GetUserByUsername(ctx, rl.ID, "ines")
			if err != nil {
				t.Fatal(err)
			}
			ok, err := otp.Check(ctx, db, rl, u, code, at)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		p256 := realm.OTPPolicy{Algorithm: "HmacSHA256", Digits: 8, Period: 30}
		hp := realm.OTPPolicy{Algorithm: "HmacSHA1", Digits: 6}
		if !check(a, totpCode(t, secret, p256, at), at) {
			t.Error("imported TOTP app: code refused")
		}
		if check(a, hotpCode(t, "Zq8rT1yUp3XcV5wN7mKd", hp, 4), at) || !check(a, hotpCode(t, "Zq8rT1yUp3XcV5wN7mKd", hp, 5), at) {
			t.Error("imported HOTP token: counter not kept")
		}
		out, err := rep.Export(ctx, a, "otpx")
		if err != nil {
			t.Fatal(err)
		}
		var x struct {
			Users []struct {
				Totp        bool `json:"totp"`
				Credentials []struct {
					ID, Type, UserLabel, SecretData, CredentialData string
					CreatedDate                                     int64
				} `json:"credentials"`
			} `json:"users"`
		}
		if err := json.Unmarshal(out, &x); err != nil || len(x.Users) != 1 || len(x.Users[0].Credentials) != 2 || !x.Users[0].Totp {
			t.Fatalf("export: %v %s", err, out)
		}
		c := x.Users[0].Credentials
		if c[0].ID != "0b5a1d2c-0000-4000-8000-0000000000a1" || c[0].Type != "otp" || c[0].UserLabel != "phone" || c[0].CreatedDate != 1700000000100 ||
			c[0].SecretData != `{"value":"Gh7pQ2xLm9ZaT4vW1bNc"}` ||
			c[0].CredentialData != `{"subType":"totp","digits":8,"counter":0,"period":30,"algorithm":"HmacSHA256"}` {
			t.Errorf("exported TOTP app: %+v", c[0])
		}
		if c[1].CredentialData != `{"subType":"hotp","digits":6,"counter":6,"period":30,"algorithm":"HmacSHA1"}` {
			t.Errorf("exported HOTP token: %+v", c[1])
		}

		b := open(t)
		if _, _, err := rep.ImportFile(ctx, b, out, rep.ImportOptions{Now: t0}); err != nil {
			t.Fatal(err)
		}
		if check(b, hotpCode(t, "Zq8rT1yUp3XcV5wN7mKd", hp, 5), at) || !check(b, hotpCode(t, "Zq8rT1yUp3XcV5wN7mKd", hp, 6), at) {
			t.Error("re-imported HOTP token")
		}
		later := at.Add(time.Minute)
		if !check(b, totpCode(t, secret, p256, later), later) {
			t.Error("re-imported TOTP app")
		}
		again, err := rep.Export(ctx, b, "otpx")
		if err != nil {
			t.Fatal(err)
		}
		if want := bytes.Replace(out, []byte(`\"counter\":6`), []byte(`\"counter\":7`), 1); !bytes.Equal(again, want) {
			t.Errorf("second export differs beyond the counter:\n%s\n%s", out, again)
		}
	})
}
