package keys

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
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
	N       string   `json:"n,omitempty"`        // RSA
	E       string   `json:"e,omitempty"`        // RSA
	Crv     string   `json:"crv,omitempty"`      // EC and OKP (RFC 8037)
	X       string   `json:"x,omitempty"`        // EC and OKP
	Y       string   `json:"y,omitempty"`        // EC
}

// JWKS publishes the public half of every enabled key pair (RSA signing
// and RSA-OAEP encryption keys, EC and Ed25519 keys), active or passive: a
// passive key still verifies tokens that clients hold, and an encryption
// key is published with use "enc" for clients that encrypt to the realm.
// Secret (HMAC, AES) keys and disabled keys are left out. Keys keep the
// order they were given in. A key whose private key does not parse is an
// error rather than a silent gap, since a gap would make tokens signed with
// it fail verification.
func JWKS(keys []Key) (JSONWebKeySet, error) {
	set := JSONWebKeySet{Keys: []JWK{}} // [] not null when empty
	for _, k := range keys {
		if !k.Enabled || k.Secret() {
			continue
		}
		signer, err := k.Signer()
		if err != nil {
			return JSONWebKeySet{}, err
		}
		use := k.Use
		if use == "" {
			use = UseSig
		}
		jwk := JWK{Kid: k.Kid, Alg: k.Algorithm, Use: use}
		switch pub := signer.Public().(type) {
		case *rsa.PublicKey:
			jwk.Kty = "RSA"
			jwk.N = base64.RawURLEncoding.EncodeToString(pub.N.Bytes())
			jwk.E = base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
		case *ecdsa.PublicKey:
			// RFC 7518 section 6.2.1.2: coordinates are left-padded to the
			// full size of the field.
			raw, err := pub.Bytes() // 0x04 || X || Y
			if err != nil {
				return JSONWebKeySet{}, fmt.Errorf("encode ec key %q: %w", k.Kid, err)
			}
			n := (len(raw) - 1) / 2
			jwk.Kty, jwk.Crv = "EC", pub.Curve.Params().Name
			jwk.X = base64.RawURLEncoding.EncodeToString(raw[1 : 1+n])
			jwk.Y = base64.RawURLEncoding.EncodeToString(raw[1+n:])
		case ed25519.PublicKey:
			jwk.Kty, jwk.Crv = "OKP", "Ed25519"
			jwk.X = base64.RawURLEncoding.EncodeToString(pub)
		default:
			return JSONWebKeySet{}, fmt.Errorf("key %q: unsupported public key %T", k.Kid, pub)
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
