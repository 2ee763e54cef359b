package keys

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
)

// JSONWebKeySet is the document served at the realm's certs endpoint
// (RFC 7517 section 5).
type JSONWebKeySet struct {
	Keys []JWK `json:"keys"`
}

// JWK is one published RSA public key. The field order is Keycloak 26's:
// org.keycloak.jose.jwk.JWK declares kid, kty, alg, use, x5c, x5t and
// x5t#S256, and Jackson writes those superclass fields before RSAPublicJWK's
// own n and e. Keycloak before the x5c fields moved into JWK wrote n and e
// right after use; clients must not depend on either order, but golden-file
// comparisons do.
type JWK struct {
	Kid     string   `json:"kid"`
	Kty     string   `json:"kty"`
	Alg     string   `json:"alg"`
	Use     string   `json:"use"`
	X5c     []string `json:"x5c,omitempty"`      // standard base64 DER, leaf first
	X5t     string   `json:"x5t,omitempty"`      // base64url SHA-1 of the DER certificate
	X5tS256 string   `json:"x5t#S256,omitempty"` // base64url SHA-256 of the DER certificate
	N       string   `json:"n"`
	E       string   `json:"e"`
}

// rsaAlgorithms are the algorithms whose keys are RSA key pairs.
var rsaAlgorithms = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"RSA-OAEP": true, "RSA-OAEP-256": true, "RSA1_5": true,
}

// JWKS publishes the public half of every enabled RSA key, active or passive:
// a passive key still verifies tokens that clients hold. Secret (HMAC) keys
// and disabled keys are left out. Keys keep the order they were given in.
// A key whose private key does not parse is an error rather than a silent
// gap, since a gap would make tokens signed with it fail verification.
func JWKS(keys []Key) (JSONWebKeySet, error) {
	set := JSONWebKeySet{Keys: []JWK{}} // [] not null when empty
	for _, k := range keys {
		if !k.Enabled || !rsaAlgorithms[k.Algorithm] {
			continue
		}
		pub, err := k.RSAPublic()
		if err != nil {
			return JSONWebKeySet{}, err
		}
		use := k.Use
		if use == "" {
			use = UseSig
		}
		jwk := JWK{
			Kid: k.Kid,
			Kty: "RSA",
			Alg: k.Algorithm,
			Use: use,
			N:   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			E:   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}
		if len(k.Certificate) > 0 {
			s1 := sha1.Sum(k.Certificate)
			s256 := sha256.Sum256(k.Certificate)
			jwk.X5c = []string{k.CertificateBase64()}
			jwk.X5t = base64.RawURLEncoding.EncodeToString(s1[:])
			jwk.X5tS256 = base64.RawURLEncoding.EncodeToString(s256[:])
		}
		set.Keys = append(set.Keys, jwk)
	}
	return set, nil
}
