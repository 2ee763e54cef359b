package saml

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

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

// sigAlgs maps Keycloak's names to the XML Signature method URIs.
var sigAlgs = map[string]string{
	RSASHA1:     dsig.RSASHA1SignatureMethod,
	RSASHA256:   dsig.RSASHA256SignatureMethod,
	RSASHA512:   dsig.RSASHA512SignatureMethod,
	ECDSASHA256: dsig.ECDSASHA256SignatureMethod,
	ECDSASHA384: dsig.ECDSASHA384SignatureMethod,
	ECDSASHA512: dsig.ECDSASHA512SignatureMethod,
}

// SignatureAlgorithms are the saml.signature.algorithm values Gatehouse
// signs with, in the admin console's order.
var SignatureAlgorithms = []string{RSASHA1, RSASHA256, RSASHA512, ECDSASHA256, ECDSASHA384, ECDSASHA512}

// x509Algorithms maps the signature method URIs a message may name to
// what crypto/x509 checks.
var x509Algorithms = map[string]x509.SignatureAlgorithm{
	dsig.RSASHA1SignatureMethod:     x509.SHA1WithRSA,
	dsig.RSASHA256SignatureMethod:   x509.SHA256WithRSA,
	dsig.RSASHA384SignatureMethod:   x509.SHA384WithRSA,
	dsig.RSASHA512SignatureMethod:   x509.SHA512WithRSA,
	dsig.ECDSASHA1SignatureMethod:   x509.ECDSAWithSHA1,
	dsig.ECDSASHA256SignatureMethod: x509.ECDSAWithSHA256,
	dsig.ECDSASHA384SignatureMethod: x509.ECDSAWithSHA384,
	dsig.ECDSASHA512SignatureMethod: x509.ECDSAWithSHA512,
}

// CheckAlgorithm says why Gatehouse cannot sign with a
// saml.signature.algorithm value, nil when it can.
func CheckAlgorithm(name string) error {
	if _, ok := sigAlgs[name]; ok {
		return nil
	}
	if name == DSASHA1 {
		return errors.New("signature algorithm DSA_SHA1 is not supported: realms have no DSA keys; use RSA_SHA256")
	}
	return fmt.Errorf("unknown signature algorithm %q", name)
}

// Signer signs outgoing documents and redirect-binding queries.
type Signer struct {
	Key       crypto.Signer
	Cert      *x509.Certificate // nil: no certificate in KeyInfo
	Algorithm string            // Keycloak names: RSA_SHA256 ...
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
	if err := CheckAlgorithm(algorithm); err != nil {
		return Signer{}, err
	}
	priv, err := k.Signer()
	if err != nil {
		return Signer{}, err
	}
	s := Signer{Key: priv, Algorithm: algorithm, KeyName: KeyNameKeyID, KeyID: k.Kid}
	if len(k.Certificate) > 0 {
		if s.Cert, err = x509.ParseCertificate(k.Certificate); err != nil {
			return Signer{}, fmt.Errorf("certificate of key %q: %w", k.Kid, err)
		}
	}
	if _, err := s.context(); err != nil {
		return Signer{}, err
	}
	return s, nil
}

// SignerFor picks the realm key for a signature algorithm: the active RSA
// signing key (RS256) for RSA_*, the active EC key of the matching curve
// (ES256, ES384, ES512) for ECDSA_*.
func SignerFor(ks []keys.Key, algorithm string) (Signer, error) {
	if err := CheckAlgorithm(algorithm); err != nil {
		return Signer{}, err
	}
	jwa := map[string]string{RSASHA1: keys.RS256, RSASHA256: keys.RS256, RSASHA512: keys.RS256,
		ECDSASHA256: keys.ES256, ECDSASHA384: keys.ES384, ECDSASHA512: keys.ES512}[algorithm]
	k, ok := keys.Active(ks, jwa)
	if !ok {
		return Signer{}, fmt.Errorf("the realm has no active %s key for %s", jwa, algorithm)
	}
	return SignerFromKey(k, algorithm)
}

// context is the goxmldsig signing context of s.
func (s Signer) context() (*dsig.SigningContext, error) {
	if s.Key == nil {
		return nil, errors.New("saml: signer without a key")
	}
	uri, ok := sigAlgs[s.Algorithm]
	if !ok {
		return nil, CheckAlgorithm(s.Algorithm)
	}
	switch s.Key.Public().(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
	default:
		return nil, fmt.Errorf("saml: cannot sign with a %T key", s.Key.Public())
	}
	var certs [][]byte
	if s.Cert != nil {
		certs = [][]byte{s.Cert.Raw}
	}
	ctx, err := dsig.NewSigningContext(s.Key, certs)
	if err != nil {
		return nil, err
	}
	if err := ctx.SetSignatureMethod(uri); err != nil {
		return nil, fmt.Errorf("saml: %s does not fit the key: %w", s.Algorithm, err)
	}
	switch s.Canonicalization {
	case "", CanonExclusive:
		ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	case CanonExclusiveWithComments:
		ctx.Canonicalizer = dsig.MakeC14N10ExclusiveWithCommentsCanonicalizerWithPrefixList("")
	case CanonInclusive:
		ctx.Canonicalizer = dsig.MakeC14N10RecCanonicalizer()
	case CanonInclusiveWithComments:
		ctx.Canonicalizer = dsig.MakeC14N10WithCommentsCanonicalizer()
	default:
		return nil, fmt.Errorf("saml: unknown canonicalization method %q", s.Canonicalization)
	}
	return ctx, nil
}

// keyName is the ds:KeyName text, "" for none.
func (s Signer) keyName() string {
	switch s.KeyName {
	case KeyNameNone:
		return ""
	case KeyNameCertSubject:
		if s.Cert != nil {
			return s.Cert.Subject.String()
		}
		return ""
	}
	return s.KeyID
}

// sign adds an enveloped signature to el (which has an ID), placed after
// its saml:Issuer as the schema wants.
func (s Signer) sign(el *etree.Element) error {
	ctx, err := s.context()
	if err != nil {
		return err
	}
	sig, err := ctx.ConstructSignature(el, true)
	if err != nil {
		return fmt.Errorf("saml: sign: %w", err)
	}
	if name := s.keyName(); name != "" {
		if ki := child(sig, nsDSig, "KeyInfo"); ki != nil {
			kn := etree.NewElement("ds:KeyName")
			kn.SetText(name)
			ki.InsertChildAt(0, kn)
		}
	}
	if s.Cert == nil {
		// No certificate: KeyInfo holds the KeyName alone, or nothing.
		if ki := child(sig, nsDSig, "KeyInfo"); ki != nil {
			if x := child(ki, nsDSig, "X509Data"); x != nil {
				ki.RemoveChild(x)
			}
			if len(ki.ChildElements()) == 0 {
				sig.RemoveChild(ki)
			}
		}
	}
	at := 0
	if iss := child(el, nsAssertion, "Issuer"); iss != nil {
		at = iss.Index() + 1
	}
	el.InsertChildAt(at, sig)
	return nil
}

// signString signs a redirect-binding query and returns the SigAlg URI.
func (s Signer) signString(content string) (sigAlg string, sig []byte, err error) {
	ctx, err := s.context()
	if err != nil {
		return "", nil, err
	}
	sig, err = ctx.SignString(content)
	return sigAlgs[s.Algorithm], sig, err
}
