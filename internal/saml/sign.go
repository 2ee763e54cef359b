package saml

import (
	"crypto"
	"crypto/x509"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

// Keycloak's signature algorithm names (saml.signature.algorithm).
const (
	RSASHA1     = "RSA_SHA1"
	RSASHA256   = "RSA_SHA256"
	RSASHA512   = "RSA_SHA512"
	ECDSASHA256 = "ECDSA_SHA256"
	ECDSASHA384 = "ECDSA_SHA384"
	ECDSASHA512 = "ECDSA_SHA512"
	DSASHA1     = "DSA_SHA1" // named by Keycloak, refused by Gatehouse
)

// Key name transformers (saml.server.signature.keyinfo.xmlSigKeyInfoKeyNameTransformer).
const (
	KeyNameKeyID       = "KEY_ID"
	KeyNameCertSubject = "CERT_SUBJECT"
	KeyNameNone        = "NONE"
)

// Canonicalization methods.
const (
	CanonExclusive             = "http://www.w3.org/2001/10/xml-exc-c14n#"
	CanonExclusiveWithComments = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
	CanonInclusive             = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
	CanonInclusiveWithComments = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
)

// Signer signs outgoing documents and redirect-binding queries.
type Signer struct {
	Key       crypto.Signer
	Cert      *x509.Certificate
	Algorithm string // Keycloak names: RSA_SHA256 ...
	// KeyName is what ds:KeyInfo/ds:KeyName holds: KEY_ID (KeyID),
	// CERT_SUBJECT (the certificate's subject) or NONE (no KeyName).
	KeyName          string
	KeyID            string
	Canonicalization string // "" = exclusive c14n
}

// SignerFromKey is a Signer for a realm key: an RSA key for the RSA_*
// algorithms, an EC key of any curve for ECDSA_*. KeyName defaults to
// KEY_ID with the key's kid.
func SignerFromKey(k keys.Key, algorithm string) (Signer, error) {
	return Signer{}, errNotImplemented
}
