package token

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

// VerifySigned accepts a token signed with any algorithm the realm has an
// enabled key for, HMAC included under the HMAC key's own kid, and nothing
// else: no "none", no alg that differs from the kid's key, no HMAC whose
// header names a public key's kid.
func TestVerifySigned(t *testing.T) {
	ec, err := keys.Fallback(keys.ES256, "r", testNow)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := keys.Fallback(keys.EdDSA, "r", testNow)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := keys.GenerateHMAC(testNow)
	if err != nil {
		t.Fatal(err)
	}
	disabled, err := keys.Fallback(keys.ES384, "r", testNow)
	if err != nil {
		t.Fatal(err)
	}
	disabled.Enabled = false
	ks := []keys.Key{ec, ed, hs, disabled}
	claims := map[string]any{"sub": "u"}
	sign := func(k keys.Key) string {
		k.Enabled = true
		s, err := Sign(claims, k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// An ES256 signature under a header that claims ES384 and the EC kid.
	esToken := sign(ec)
	parts := strings.Split(esToken, ".")
	relabelled := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES384","kid":"`+ec.Kid+`","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2]
	// An HMAC under the HMAC secret, whose header names the EC key.
	hsToken := sign(hs)
	hsParts := strings.Split(hsToken, ".")
	hsAsEC := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS512","kid":"`+ec.Kid+`","typ":"JWT"}`)) + "." + hsParts[1] + "." + hsParts[2]
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"`+ec.Kid+`"}`)) + "." + parts[1] + "."

	for name, tt := range map[string]struct {
		raw string
		ok  bool
	}{
		"ES256":                  {esToken, true},
		"EdDSA":                  {sign(ed), true},
		"HMAC under its own kid": {hsToken, true},
		"HMAC under an EC kid":   {hsAsEC, false},
		"disabled key":           {sign(disabled), false},
		"alg relabelled":         {relabelled, false},
		"alg none":               {none, false},
		"not a JWS":              {"abc", false},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := VerifySigned(tt.raw, ks)
			if tt.ok {
				if err != nil || got["sub"] != "u" {
					t.Fatalf("VerifySigned: %v %v", got, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("VerifySigned accepted it (err %v)", err)
			}
		})
	}
}
