// Package keys owns realm keys: generating and importing the keys of every
// key provider a realm can have (RSA, RSA-OAEP, ECDSA, EdDSA, HMAC, AES),
// choosing the active one per algorithm, and publishing public keys as a
// JWKS and as the realm document's public_key.
package keys

// Key is one key of a realm, as stored.
type Key struct {
	ID          string // component id (Keycloak's key provider id)
	RealmID     string
	Name        string // the component's name; empty means the provider id
	Kid         string
	ProviderID  string // "rsa-generated", "rsa", "ecdsa-generated", "hmac-generated", …
	Algorithm   string // "RS256", "ES256", "EdDSA", "HS512", "RSA-OAEP", "AES"
	Use         string // "sig" or "enc"
	Priority    int64
	Enabled     bool
	Active      bool   // active keys sign; passive keys only verify
	Private     []byte // PKCS#8 DER for RSA, EC and Ed25519; the raw secret for HMAC and AES
	Certificate []byte // DER X.509 certificate; empty for secrets, EdDSA and EC keys without one
	// Config holds the provider's other, non-secret settings as its
	// component config names them (keySize, secretSize,
	// ecdsaEllipticCurveKey, ecGenerateCertificate, eddsaEllipticCurveKey),
	// so that the admin API and an export give back what was set.
	Config    map[string]string
	CreatedAt int64 // epoch milliseconds
}

// DisplayName is the component's name, or its provider id when it has none.
func (k Key) DisplayName() string {
	if k.Name != "" {
		return k.Name
	}
	return k.ProviderID
}
