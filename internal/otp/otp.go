// Package otp owns one-time-password credentials as Keycloak keeps them:
// TOTP (RFC 6238) and HOTP (RFC 4226) codes checked against a user's
// credentials of type "otp" under the realm's OTP policy, each code usable
// once, and the setting up of a new authenticator app. The codes
// themselves come from github.com/pquerna/otp.
//
// A credential is stored in Keycloak's layout, so that exports move between
// Keycloak and Gatehouse unchanged: secretData {"value":"<secret>"} and
// credentialData {"subType":"totp","digits":6,"counter":0,"period":30,
// "algorithm":"HmacSHA1"}. The secret is the HMAC key as text (its UTF-8
// bytes are the key), which is what authenticator apps receive base32
// encoded.
package otp

import (
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	potp "github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Type is the credential type of OTP credentials.
const Type = "otp"

// Sub-types of an OTP credential, as in the realm's otpPolicyType.
const (
	TOTP = "totp"
	HOTP = "hotp"
)

// CredentialData is Keycloak's OTPCredentialData: how the codes of one
// credential are made. Each credential keeps the policy it was made with;
// only the look-ahead window is the realm's current one.
type CredentialData struct {
	SubType   string `json:"subType"`
	Digits    int    `json:"digits"`
	Counter   int    `json:"counter"`
	Period    int    `json:"period"`
	Algorithm string `json:"algorithm"`
	// SecretEncoding is "BASE32" when secretData's value is the key base32
	// encoded (credentials Keycloak imports in that form); empty means the
	// value's bytes are the key.
	SecretEncoding string `json:"secretEncoding,omitempty"`
}

type secretData struct {
	Value string `json:"value"`
}

// algorithms maps Keycloak's algorithm names to the library's.
var algorithms = map[string]potp.Algorithm{
	"HmacSHA1":   potp.AlgorithmSHA1,
	"HmacSHA256": potp.AlgorithmSHA256,
	"HmacSHA512": potp.AlgorithmSHA512,
}

// URIAlgorithm is the algorithm as a key URI and the setup page name it
// (Google Authenticator's key URI format: SHA1, SHA256, SHA512).
func URIAlgorithm(alg string) string {
	if a, ok := algorithms[alg]; ok {
		return a.String()
	}
	return potp.AlgorithmSHA1.String()
}

// credential is a stored OTP credential decoded for checking.
type credential struct {
	user.Credential
	key  []byte
	data CredentialData
}

var errMalformed = errors.New("malformed OTP credential")

// decode reads a stored credential. A credential that cannot be read is an
// error that names the credential, never its secret.
func decode(c user.Credential) (credential, error) {
	var (
		sd secretData
		cd CredentialData
	)
	if err := json.Unmarshal([]byte(c.SecretData), &sd); err != nil || sd.Value == "" {
		return credential{}, fmt.Errorf("credential %s: %w: secret", c.ID, errMalformed)
	}
	if err := json.Unmarshal([]byte(c.CredentialData), &cd); err != nil {
		return credential{}, fmt.Errorf("credential %s: %w: credential data", c.ID, errMalformed)
	}
	key := []byte(sd.Value)
	if strings.EqualFold(cd.SecretEncoding, "BASE32") {
		b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(sd.Value, "=")))
		if err != nil {
			return credential{}, fmt.Errorf("credential %s: %w: base32 secret", c.ID, errMalformed)
		}
		key = b
	}
	// Keycloak's defaults for what an old export leaves out.
	if cd.SubType == "" {
		cd.SubType = TOTP
	}
	if cd.Digits == 0 {
		cd.Digits = 6
	}
	if cd.Period == 0 {
		cd.Period = 30
	}
	if cd.Algorithm == "" {
		cd.Algorithm = "HmacSHA1"
	}
	if _, ok := algorithms[cd.Algorithm]; !ok || cd.Digits < 1 || cd.Digits > 9 || cd.Period < 1 || cd.Counter < 0 {
		return credential{}, fmt.Errorf("credential %s: %w: parameters", c.ID, errMalformed)
	}
	return credential{Credential: c, key: key, data: cd}, nil
}

// valid reports whether code is the credential's code for counter (a TOTP
// time step or an HOTP counter), comparing in constant time.
func (c credential) valid(code string, counter int64) bool {
	if counter < 0 {
		return false
	}
	ok, err := hotp.ValidateCustom(code, uint64(counter), base32.StdEncoding.EncodeToString(c.key), hotp.ValidateOpts{
		Digits: potp.Digits(c.data.Digits), Algorithm: algorithms[c.data.Algorithm]})
	return err == nil && ok
}

// match finds the time step or counter at which code is valid: for TOTP the
// steps from window before now to window after it (clock skew both ways, as
// Keycloak's look-around), for HOTP the stored counter and window more
// (codes the app made but nobody used).
func (c credential) match(code string, window int, now time.Time) (int64, bool) {
	window = max(window, 0)
	if c.data.SubType == HOTP {
		for n := int64(c.data.Counter); n <= int64(c.data.Counter+window); n++ {
			if c.valid(code, n) {
				return n, true
			}
		}
		return 0, false
	}
	step := now.Unix() / int64(c.data.Period)
	if c.valid(code, step) {
		return step, true
	}
	for d := int64(1); d <= int64(window); d++ {
		if c.valid(code, step-d) {
			return step - d, true
		}
		if c.valid(code, step+d) {
			return step + d, true
		}
	}
	return 0, false
}

// dataFor is the credentialData a new credential gets under policy p.
func dataFor(p realm.OTPPolicy) CredentialData {
	d := CredentialData{SubType: p.Type, Digits: p.Digits, Period: p.Period, Algorithm: p.Algorithm}
	if d.SubType != HOTP {
		d.SubType = TOTP
	}
	if d.SubType == HOTP {
		d.Counter = p.InitialCounter
	}
	return d
}

func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs of strings and ints
	}
	return string(b)
}
