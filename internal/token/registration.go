package token

import (
	"errors"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

// Token types of dynamic client registration. Both are internal tokens,
// MACed with the realm's HS512 key: only the realm that made them reads them.
const (
	// TypeInitialAccess lets its holder register clients; its jti names the
	// stored record that counts the registrations it still allows.
	TypeInitialAccess = "InitialAccessToken"
	// TypeRegistrationAccess lets its holder read, update and delete one
	// registered client; its jti must equal the id the client stores, so a
	// new token (issued on every update) retires the previous one.
	TypeRegistrationAccess = "RegistrationAccessToken"
	// RegistrationAlg signs both.
	RegistrationAlg = keys.HS512
)

// Registration auth values carried by a registration access token: whether
// the client was registered with a token (authenticated) or without.
const (
	RegistrationAuthenticated = "authenticated"
	RegistrationAnonymous     = "anonymous"
)

// InitialAccess returns the claims of an initial access token for record
// id, issued at iat (epoch seconds), expiring expiration seconds later (0:
// no exp claim, the token lives as long as its record).
func InitialAccess(id, issuer string, iat int64, expiration int) map[string]any {
	m := map[string]any{"jti": id, "typ": TypeInitialAccess, "iat": iat, "iss": issuer, "aud": issuer}
	if expiration > 0 {
		m["exp"] = iat + int64(expiration)
	}
	return m
}

// RegistrationAccess returns the claims of a registration access token
// whose jti is id. It carries no expiry: it lives until the next one is
// issued for the client.
func RegistrationAccess(id, issuer, auth string, iat int64) map[string]any {
	return map[string]any{"jti": id, "typ": TypeRegistrationAccess, "iat": iat, "iss": issuer, "aud": issuer, "registration_auth": auth}
}

// errRegistrationToken is every reason VerifyRegistration refuses a token.
var errRegistrationToken = errors.New("invalid registration token")

// VerifyRegistration checks raw as a registration-service token of realm
// keys ks and issuer: HS512 signature, issuer, and one of the two types
// above. Expiry is the caller's to judge against the stored record.
func VerifyRegistration(raw string, ks []keys.Key, issuer string) (Parsed, error) {
	claims, err := Verify(raw, ks, RegistrationAlg)
	if err != nil {
		return Parsed{}, fmt.Errorf("%w: %w", errRegistrationToken, err)
	}
	p, err := Parse(claims)
	if err != nil {
		return Parsed{}, fmt.Errorf("%w: %w", errRegistrationToken, err)
	}
	if p.Iss != issuer || p.Jti == "" || (p.Typ != TypeInitialAccess && p.Typ != TypeRegistrationAccess) {
		return Parsed{}, errRegistrationToken
	}
	return p, nil
}
