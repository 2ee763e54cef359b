package otp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"image/png"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	potp "github.com/pquerna/otp"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// RequiredAction is the required action that sets up an authenticator app.
const RequiredAction = authn.ActionConfigureTOTP

// secretLength and secretAlphabet make secrets shaped like Keycloak's: 20
// letters and digits, whose bytes are the HMAC key (about 119 bits).
const (
	secretLength   = 20
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// NewSecret returns a fresh secret for a new credential.
func NewSecret() string {
	var b strings.Builder
	n := big.NewInt(int64(len(secretAlphabet)))
	for range secretLength {
		i, err := rand.Int(rand.Reader, n)
		if err != nil {
			panic(err) // crypto/rand does not fail
		}
		b.WriteByte(secretAlphabet[i.Int64()])
	}
	return b.String()
}

// ManualKey is the secret as a person types it into an app: base32 in
// groups of four, as Keycloak shows it under "Unable to scan?".
func ManualKey(secret string) string {
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(secret))
	var b strings.Builder
	for i := 0; i < len(enc); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(enc[i:min(i+4, len(enc))])
	}
	return b.String()
}

// issuer is how apps name the realm: its display name, else its name.
func issuer(rl realm.Realm) string {
	if rl.DisplayName != "" {
		return rl.DisplayName
	}
	return rl.Name
}

// KeyURI is the otpauth:// URI a QR code carries (the key URI format of
// Google Authenticator, which every app reads): the realm as issuer, the
// username as account, and the policy's parameters.
func KeyURI(rl realm.Realm, u user.User, secret string) string {
	p := rl.OTP()
	d := dataFor(p)
	q := url.Values{}
	q.Set("secret", base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(secret)))
	q.Set("digits", strconv.Itoa(d.Digits))
	q.Set("algorithm", URIAlgorithm(d.Algorithm))
	q.Set("issuer", issuer(rl))
	if d.SubType == HOTP {
		q.Set("counter", strconv.Itoa(d.Counter))
	} else {
		q.Set("period", strconv.Itoa(d.Period))
	}
	label := url.PathEscape(issuer(rl)) + ":" + url.PathEscape(u.Username)
	return "otpauth://" + d.SubType + "/" + label + "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
}

// QRCode is the PNG image of a key URI, for the setup page.
func QRCode(uri string) ([]byte, error) {
	k, err := potp.NewKeyFromURL(uri)
	if err != nil {
		return nil, fmt.Errorf("key URI: %w", err)
	}
	img, err := k.Image(246, 246)
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// SetupError is a refused setup: Key is Keycloak's message key, Field the
// form field it is about ("totp", "userLabel").
type SetupError struct {
	Key   string
	Field string
}

func (e *SetupError) Error() string { return "OTP setup refused: " + e.Key }

// Limits of what a setup form may carry.
const (
	maxSecret = 512
	maxLabel  = 255
)

// Setup stores a new OTP credential for u with secret, once the user has
// proven the app works: code must be valid for the credential the realm's
// policy makes of secret, and a user who has an OTP credential already must
// name the new one (label, Keycloak's device name), so that the list tells
// them apart. A refusal is a *SetupError and stores nothing. For HOTP the
// stored counter starts past the code just used; for TOTP the code's time
// step is spent as Check spends it.
//
// db may be a transaction, so that the caller clears the required action
// in the same one. The secret and the code are never part of an error.
func Setup(ctx context.Context, db *store.DB, rl realm.Realm, u user.User, secret, code, label string, now time.Time) (user.Credential, error) {
	code, label = strings.TrimSpace(code), strings.TrimSpace(label)
	if code == "" {
		return user.Credential{}, &SetupError{Key: "missingTotpMessage", Field: "totp"}
	}
	if secret == "" || len(secret) > maxSecret || !utf8.ValidString(secret) || len(code) > maxCode {
		return user.Credential{}, &SetupError{Key: "invalidTotpMessage", Field: "totp"}
	}
	p := rl.OTP()
	data := dataFor(p)
	c := credential{key: []byte(secret), data: data}
	n, ok := c.match(code, p.LookAheadWindow, now)
	if !ok {
		return user.Credential{}, &SetupError{Key: "invalidTotpMessage", Field: "totp"}
	}
	if data.SubType == HOTP {
		data.Counter = int(n) + 1
	}
	if utf8.RuneCountInString(label) > maxLabel {
		return user.Credential{}, &SetupError{Key: "invalidTotpDeviceNameMessage", Field: "userLabel"}
	}
	creds, err := db.ListCredentials(ctx, u.ID)
	if err != nil {
		return user.Credential{}, err
	}
	priority, has := 0, false
	for _, sc := range creds {
		priority = max(priority, sc.Priority)
		has = has || sc.Type == Type
	}
	if has && label == "" {
		return user.Credential{}, &SetupError{Key: "missingTotpDeviceNameMessage", Field: "userLabel"}
	}
	nc := user.Credential{ID: store.NewID(), UserID: u.ID, Type: Type, UserLabel: label, CreatedDate: now.UnixMilli(),
		SecretData: marshal(secretData{Value: secret}), CredentialData: marshal(data), Priority: priority + 10}
	if err := db.CreateCredential(ctx, nc); err != nil {
		return user.Credential{}, fmt.Errorf("store OTP credential of user %s: %w", u.ID, err)
	}
	if data.SubType != HOTP {
		// The setup code is spent as a login code would be.
		if _, err := spendStep(ctx, db, rl, nc.ID, data.Period, n); err != nil {
			return user.Credential{}, err
		}
	}
	return nc, nil
}
