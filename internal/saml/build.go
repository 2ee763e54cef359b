package saml

import (
	"crypto/x509"
	"time"
)

// Attribute is one saml:Attribute of an assertion.
type Attribute struct {
	Name, FriendlyName, NameFormat string
	Values                         []string
}

// ResponseInput is what a samlp:Response says.
type ResponseInput struct {
	Issuer, Destination, InResponseTo, Audience string
	NameID, NameIDFormat, SessionIndex          string
	AuthnInstant, Now                           time.Time
	Lifespan                                    time.Duration
	SessionNotOnOrAfter                         time.Time
	Attributes                                  []Attribute
	AuthnStatement, SignDocument, SignAssertion bool
	Signer                                      *Signer           // nil when neither signature is asked
	EncryptTo                                   *x509.Certificate // non-nil: encrypt the assertion
	// Encryption algorithms; empty means AES-128-CBC content encryption and
	// RSA-OAEP (MGF1 SHA-1) key transport.
	EncryptionAlgorithm, KeyEncryptionAlgorithm, KeyEncryptionDigest, KeyEncryptionMGF string
	StatusCode                                                                         string // "" = Success
	// StatusMessage is an optional samlp:StatusMessage of an error response.
	StatusMessage string
	// ID and AssertionID are fresh when empty.
	ID, AssertionID string
}

// BuildResponse builds (and signs, encrypts as asked) a samlp:Response.
// An error status carries no assertion. For the Redirect binding leave
// SignDocument off and sign the query (RedirectURL).
func BuildResponse(in ResponseInput) ([]byte, error) { return nil, errNotImplemented }

// LogoutRequestInput is what a samlp:LogoutRequest says.
type LogoutRequestInput struct {
	ID                   string // fresh when empty
	Issuer, Destination  string
	NameID, NameIDFormat string
	SessionIndexes       []string
	Now                  time.Time
	NotOnOrAfter         time.Time // zero: none
	Signer               *Signer   // enveloped signature (POST); nil for none
}

// BuildLogoutRequest builds a samlp:LogoutRequest.
func BuildLogoutRequest(in LogoutRequestInput) ([]byte, error) { return nil, errNotImplemented }

// LogoutResponseInput is what a samlp:LogoutResponse says.
type LogoutResponseInput struct {
	ID                                string // fresh when empty
	Issuer, Destination, InResponseTo string
	StatusCode                        string // "" = Success
	Now                               time.Time
	Signer                            *Signer // enveloped signature (POST); nil for none
}

// BuildLogoutResponse builds a samlp:LogoutResponse.
func BuildLogoutResponse(in LogoutResponseInput) ([]byte, error) { return nil, errNotImplemented }

// AuthnRequestInput is what a samlp:AuthnRequest says (the SP side, for
// brokering).
type AuthnRequestInput struct {
	ID                                           string // fresh when empty
	Issuer, Destination, ACSURL, ProtocolBinding string
	NameIDFormat                                 string
	AllowCreate, ForceAuthn, IsPassive           bool
	Now                                          time.Time
	Signer                                       *Signer // enveloped signature (POST); nil for none
}

// BuildAuthnRequest builds a samlp:AuthnRequest.
func BuildAuthnRequest(in AuthnRequestInput) ([]byte, error) { return nil, errNotImplemented }

// PostValue is the base64 of a message, the value of a POST form's
// SAMLRequest or SAMLResponse.
func PostValue(xml []byte) string { return "" }

// RedirectURL is dest with the message DEFLATEd and base64'd in param
// (SAMLRequest or SAMLResponse), RelayState when given, and SigAlg and
// Signature when s is non-nil. The XML itself must carry no signature.
func RedirectURL(dest, param string, xml []byte, relayState string, s *Signer) (string, error) {
	return "", errNotImplemented
}
