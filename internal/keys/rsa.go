package keys

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Keycloak's key provider ids, stored in Key.ProviderID.
const (
	ProviderRSAGenerated    = "rsa-generated"
	ProviderRSA             = "rsa" // an imported RSA key pair
	ProviderRSAEncGenerated = "rsa-enc-generated"
	ProviderRSAEnc          = "rsa-enc"
	ProviderHMACGenerated   = "hmac-generated"
	ProviderECDSAGenerated  = "ecdsa-generated"
	ProviderEdDSAGenerated  = "eddsa-generated"
	ProviderAESGenerated    = "aes-generated"
)

// Algorithms and uses Gatehouse generates keys for.
const (
	RS256      = "RS256"
	RS384      = "RS384"
	RS512      = "RS512"
	PS256      = "PS256"
	PS384      = "PS384"
	PS512      = "PS512"
	ES256      = "ES256"
	ES384      = "ES384"
	ES512      = "ES512"
	EdDSA      = "EdDSA"
	RSAOAEP    = "RSA-OAEP"
	RSAOAEP256 = "RSA-OAEP-256"
	HS256      = "HS256"
	HS384      = "HS384"
	HS512      = "HS512"
	AES        = "AES"
	UseSig     = "sig"
	UseEnc     = "enc"
	// DefaultPriority is Keycloak's priority for the keys of a new realm.
	DefaultPriority = 100
)

const (
	rsaBits = 2048
	// minRSABits is the smallest key crypto/rsa will use at all. Keycloak
	// accepts 1024-bit keys, which old realms still carry, so Gatehouse
	// does too and flags them (Weakness) instead of refusing the realm.
	minRSABits = 1024
	// strongRSABits is the size below which a key is reported as weak:
	// 1024-bit RSA has been disallowed by NIST since 2013.
	strongRSABits = 2048
	// certBackdate mirrors Keycloak's CertificateUtils, which starts validity
	// 100 seconds in the past so a verifier whose clock is slightly behind
	// still accepts a brand-new certificate.
	certBackdate = 100 * time.Second
	certYears    = 10
	// maxCNLength is RFC 5280's ub-common-name; Keycloak truncates the realm
	// name to it before building the certificate subject.
	maxCNLength = 64
)

// GenerateRSA makes a realm's RS256 signing key the way Keycloak's
// rsa-generated provider does: a 2048-bit key and a self-signed certificate
// with subject and issuer CN=<realmName>, valid for ten years.
//
// The kid is Keycloak's KeyUtils.createKeyId: base64url, without padding, of
// the SHA-256 of the DER SubjectPublicKeyInfo. A key moved between Keycloak
// and Gatehouse therefore keeps its kid, and tokens signed by either verify.
func GenerateRSA(realmName string, now time.Time) (Key, error) {
	return Generate(Params{ProviderID: ProviderRSAGenerated, Name: ProviderRSAGenerated}, realmName, now)
}

// setRSAPrivate stores priv as PKCS#8 and derives the kid from it.
func (k *Key) setRSAPrivate(priv *rsa.PrivateKey) error { return k.setPrivate(priv) }

// selfSignedCertificate returns the DER of a certificate like the one Keycloak
// publishes in x5c. Keycloak issues X.509 v1 certificates; crypto/x509 only
// writes v3, and without extensions the two carry the same information.
// The serial number is left to crypto/x509, which draws a random RFC 5280
// compliant one.
//
// crypto/x509 picks the signature algorithm from the key: SHA256WithRSA for
// RSA, ECDSA with the hash that matches the curve for EC keys.
func selfSignedCertificate(priv crypto.Signer, realmName string, now time.Time) ([]byte, error) {
	name := pkix.Name{CommonName: truncateRunes(realmName, maxCNLength)}
	tmpl := &x509.Certificate{
		Subject:   name,
		Issuer:    name,
		NotBefore: now.Add(-certBackdate),
		NotAfter:  now.AddDate(certYears, 0, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		return nil, fmt.Errorf("create certificate for realm %q: %w", realmName, err)
	}
	return der, nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// RSAPrivate parses the key's PKCS#8 private key.
func (k Key) RSAPrivate() (*rsa.PrivateKey, error) {
	signer, err := k.Signer()
	if err != nil {
		return nil, err
	}
	priv, ok := signer.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key %q is a %T, not an RSA key", k.Kid, signer)
	}
	return priv, nil
}

// RSAPublic returns the public half of the key, for verifying signatures.
func (k Key) RSAPublic() (*rsa.PublicKey, error) {
	priv, err := k.RSAPrivate()
	if err != nil {
		return nil, err
	}
	return &priv.PublicKey, nil
}

// PublicKeyBase64 is the standard base64 of the DER SubjectPublicKeyInfo, with
// no PEM header: the realm document's public_key and the admin key list's
// publicKey. Secret keys have none.
func (k Key) PublicKeyBase64() (string, error) {
	signer, err := k.Signer()
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return "", fmt.Errorf("encode public key of %q: %w", k.Kid, err)
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// CertificateBase64 is the standard base64 of the DER certificate, as in x5c
// and in the admin API's key metadata; empty when the key has none.
func (k Key) CertificateBase64() string {
	if len(k.Certificate) == 0 {
		return ""
	}
	return base64.StdEncoding.EncodeToString(k.Certificate)
}

// ExportRSA returns the privateKey and certificate values of the key's
// component config in a Keycloak realm export: Keycloak writes the private
// key with BouncyCastle's PEM writer, which emits a PKCS#1 "RSA PRIVATE KEY",
// and then strips the PEM armour and line breaks, leaving one line of
// standard base64; the certificate is the base64 DER the same way.
//
// A key without a certificate is an error: on import Keycloak's rsa-generated
// provider discards a private key that comes without a certificate and
// generates a new pair, which would silently change the realm's keys.
func ExportRSA(k Key) (privateKeyB64, certificateB64 string, err error) {
	priv, err := k.RSAPrivate()
	if err != nil {
		return "", "", err
	}
	if len(k.Certificate) == 0 {
		return "", "", fmt.Errorf("export key %q: no certificate", k.Kid)
	}
	return base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(priv)), k.CertificateBase64(), nil
}

// ImportRSA builds a key from the privateKey and certificate of an rsa or
// rsa-generated component in a Keycloak realm export. The private key may be
// PKCS#1 (what Keycloak writes) or PKCS#8, as bare base64 or full PEM. An empty
// certificate gets a new self-signed one for realmName, as Keycloak's imported
// RSA provider does; a given certificate must carry the same public key.
//
// The rsa-enc and rsa-enc-generated providers give an RSA-OAEP encryption key;
// every other provider an RS256 signing key. A caller that read another
// algorithm from the component config sets Key.Algorithm afterwards.
func ImportRSA(id, realmID, providerID string, privateKeyB64, certificateB64 string,
	priority int64, enabled, active bool, realmName string, now time.Time) (Key, error) {
	der, err := decodeBase64Body(privateKeyB64)
	if err != nil {
		return Key{}, fmt.Errorf("import rsa key: decode private key: %w", err)
	}
	priv, err := parseRSAPrivate(der)
	if err != nil {
		return Key{}, fmt.Errorf("import rsa key: %w", err)
	}
	if bits := priv.N.BitLen(); bits < minRSABits {
		return Key{}, fmt.Errorf("import rsa key: %d-bit key is too small, need at least %d", bits, minRSABits)
	}
	if err := priv.Validate(); err != nil {
		return Key{}, fmt.Errorf("import rsa key: %w", err)
	}

	var cert []byte
	if strings.TrimSpace(certificateB64) == "" {
		cert, err = selfSignedCertificate(priv, realmName, now)
		if err != nil {
			return Key{}, fmt.Errorf("import rsa key: %w", err)
		}
	} else {
		cert, err = decodeBase64Body(certificateB64)
		if err != nil {
			return Key{}, fmt.Errorf("import rsa key: decode certificate: %w", err)
		}
		parsed, err := x509.ParseCertificate(cert)
		if err != nil {
			return Key{}, fmt.Errorf("import rsa key: %w", err)
		}
		if !priv.PublicKey.Equal(parsed.PublicKey) {
			return Key{}, errors.New("import rsa key: certificate does not match private key")
		}
	}

	if id == "" {
		id = newID()
	}
	if providerID == "" {
		providerID = ProviderRSA
	}
	alg, use := RS256, UseSig
	if isEncProvider(providerID) {
		alg, use = RSAOAEP, UseEnc
	}
	k := Key{
		ID:          id,
		RealmID:     realmID,
		ProviderID:  providerID,
		Algorithm:   alg,
		Use:         use,
		Priority:    priority,
		Enabled:     enabled,
		Active:      active,
		Certificate: cert,
		CreatedAt:   now.UnixMilli(),
	}
	if err := k.setRSAPrivate(priv); err != nil {
		return Key{}, err
	}
	return k, nil
}

// decodeBase64Body accepts what Keycloak's PemUtils.pemToDer accepts: standard
// base64, optionally wrapped in PEM armour and broken into lines.
func decodeBase64Body(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		block, _ := pem.Decode([]byte(s))
		if block == nil {
			return nil, errors.New("malformed PEM")
		}
		return block.Bytes, nil
	}
	return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
}

func parseRSAPrivate(der []byte) (*rsa.PrivateKey, error) {
	if priv, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return priv, nil
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errors.New("private key is neither PKCS#1 nor PKCS#8")
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is a %T, not an RSA key", parsed)
	}
	return priv, nil
}
