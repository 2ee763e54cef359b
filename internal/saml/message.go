package saml

import (
	"crypto/x509"
	"net/http"
	"time"
)

// MaxMessageSize bounds an incoming message, decoded and inflated; no real
// request or logout message comes near it.
const MaxMessageSize = 256 << 10

// Message is a SAML protocol message as it arrived by the Redirect or POST
// binding.
type Message struct {
	Binding    string // BindingRedirect | BindingPOST
	Param      string // "SAMLRequest" | "SAMLResponse"
	RelayState string
	Raw        []byte // the decoded XML

	// Redirect binding: the query values exactly as they were sent, which
	// the query signature covers.
	rawMessage, rawRelayState, rawSigAlg string
	hasRelayState                        bool
	sigAlg                               string
	signature                            []byte
}

// ReadMessage reads the SAMLRequest or SAMLResponse of a request: from the
// query for GET (Redirect binding: base64, then DEFLATE), from the form
// for POST (base64). The decoded XML is bounded by MaxMessageSize and must
// be well-formed without a DOCTYPE.
func ReadMessage(r *http.Request) (*Message, error) {
	return nil, errNotImplemented
}

// Signed reports whether the message carries a signature: a query
// signature for the Redirect binding, a ds:Signature child of the root
// for POST.
func (m *Message) Signed() bool { return false }

// Verify checks the message's signature against certs: for the Redirect
// binding the Signature parameter over SAMLRequest|SAMLResponse,
// RelayState and SigAlg as sent; for POST the enveloped signature of the
// root element, which must reference the root itself. An unsigned message
// fails.
func (m *Message) Verify(certs []*x509.Certificate) error { return errNotImplemented }

// AuthnRequest is what Gatehouse reads of a samlp:AuthnRequest.
type AuthnRequest struct {
	ID, Issuer, Destination, ACSURL, ProtocolBinding, NameIDFormat string
	// AllowCreate is the NameIDPolicy's AllowCreate.
	AllowCreate bool
	// ACSIndex is AssertionConsumerServiceIndex, -1 when absent.
	ACSIndex     int
	ForceAuthn   bool
	IsPassive    bool
	IssueInstant time.Time
}

// LogoutRequest is what Gatehouse reads of a samlp:LogoutRequest.
type LogoutRequest struct {
	ID, Issuer, Destination, NameID, NameIDFormat string
	SessionIndexes                                []string
	IssueInstant                                  time.Time
}

// LogoutResponse is what Gatehouse reads of a samlp:LogoutResponse.
type LogoutResponse struct {
	ID, InResponseTo, Issuer, Destination, StatusCode string
}

// AuthnRequest parses the message as an AuthnRequest.
func (m *Message) AuthnRequest() (AuthnRequest, error) { return AuthnRequest{}, errNotImplemented }

// LogoutRequest parses the message as a LogoutRequest.
func (m *Message) LogoutRequest() (LogoutRequest, error) { return LogoutRequest{}, errNotImplemented }

// LogoutResponse parses the message as a LogoutResponse.
func (m *Message) LogoutResponse() (LogoutResponse, error) {
	return LogoutResponse{}, errNotImplemented
}
