// Package keys owns realm keys: generating RSA signing and HMAC keys, choosing
// the active one, and publishing public keys as a JWKS and as the realm
// document's public_key.
package keys

// Key is one key of a realm, as stored.
type Key struct {
	ID          string // component id (Keycloak's key provider id)
	RealmID     string
	Kid         string
	ProviderID  string // "rsa-generated", "rsa", "hmac-generated"
	Algorithm   string // "RS256", "HS512"
	Use         string // "sig" or "enc"
	Priority    int64
	Enabled     bool
	Active      bool   // active keys sign; passive keys only verify
	Private     []byte // PKCS#8 DER for RSA; the raw secret for HMAC
	Certificate []byte // DER X.509 certificate for RSA; empty for HMAC
	CreatedAt   int64  // epoch milliseconds
}
