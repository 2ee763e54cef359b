package saml

import (
	"bytes"
	"compress/flate"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"
)

// MaxMessageSize bounds an incoming message, decoded and inflated; no real
// request or logout message comes near it.
const MaxMessageSize = 256 << 10

// maxRelayState bounds RelayState. The bindings ask senders to keep it to
// 80 bytes; real service providers send longer ones, none this long.
const maxRelayState = 4096

// maxForm bounds a POST binding's form body: the base64 of the largest
// message, percent-encoded, and its RelayState.
const maxForm = 4*MaxMessageSize + 4*maxRelayState

// Errors a message can fail with.
var (
	ErrNoMessage    = errors.New("saml: no SAMLRequest or SAMLResponse")
	ErrUnsigned     = errors.New("saml: message is not signed")
	ErrBadSignature = errors.New("saml: invalid signature")
	ErrWrongType    = errors.New("saml: unexpected message type")
)

// Message is a SAML protocol message as it arrived by the Redirect or POST
// binding.
type Message struct {
	Binding    string // BindingRedirect | BindingPOST
	Param      string // "SAMLRequest" | "SAMLResponse"
	RelayState string
	Raw        []byte // the decoded XML

	doc *etree.Document
	// verified is the root as the signature covers it, once Verify passed;
	// the parsers read from it rather than from doc.
	verified *etree.Element

	// Redirect binding: the query values exactly as they were sent, which
	// the query signature covers.
	rawMessage, rawRelayState, rawSigAlg, rawSignature string
	hasRelayState                                      bool
}

// ReadMessage reads the SAMLRequest or SAMLResponse of a request: from the
// query for GET (Redirect binding: base64, then DEFLATE), from the form
// for POST (base64). The decoded XML is bounded by MaxMessageSize and must
// be well-formed without a DOCTYPE.
func ReadMessage(r *http.Request) (*Message, error) {
	switch r.Method {
	case http.MethodGet:
		return readRedirect(r.URL.RawQuery)
	case http.MethodPost:
		return readPost(r)
	}
	return nil, fmt.Errorf("saml: method %s carries no message", r.Method)
}

func readRedirect(rawQuery string) (*Message, error) {
	m := &Message{Binding: BindingRedirect}
	seen := map[string]bool{}
	for _, pair := range strings.Split(rawQuery, "&") {
		if pair == "" {
			continue
		}
		rawKey, rawVal, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, fmt.Errorf("%w: bad query", ErrMalformed)
		}
		switch key {
		case "SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature":
		default:
			continue
		}
		if seen[key] {
			return nil, fmt.Errorf("%w: %s given twice", ErrMalformed, key)
		}
		seen[key] = true
		switch key {
		case "SAMLRequest", "SAMLResponse":
			if m.Param != "" {
				return nil, fmt.Errorf("%w: both SAMLRequest and SAMLResponse", ErrMalformed)
			}
			m.Param, m.rawMessage = key, rawVal
		case "RelayState":
			m.rawRelayState, m.hasRelayState = rawVal, true
		case "SigAlg":
			m.rawSigAlg = rawVal
		case "Signature":
			m.rawSignature = rawVal
		}
	}
	if m.Param == "" {
		return nil, ErrNoMessage
	}
	if m.hasRelayState {
		rs, err := url.QueryUnescape(m.rawRelayState)
		if err != nil || len(rs) > maxRelayState {
			return nil, fmt.Errorf("%w: bad RelayState", ErrMalformed)
		}
		m.RelayState = rs
	}
	enc, err := url.QueryUnescape(m.rawMessage)
	if err != nil {
		return nil, fmt.Errorf("%w: bad %s encoding", ErrMalformed, m.Param)
	}
	compressed, err := decodeBase64(enc)
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(compressed)), MaxMessageSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not DEFLATE-compressed: %v", ErrMalformed, m.Param, err)
	}
	if len(raw) > MaxMessageSize {
		return nil, fmt.Errorf("%w: message larger than %d bytes", ErrMalformed, MaxMessageSize)
	}
	return m.parse(raw)
}

func readPost(r *http.Request) (*Message, error) {
	if r.PostForm == nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxForm+1))
		if err != nil {
			return nil, fmt.Errorf("saml: read form: %w", err)
		}
		if len(body) > maxForm {
			return nil, fmt.Errorf("%w: form larger than %d bytes", ErrMalformed, maxForm)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	}
	m := &Message{Binding: BindingPOST}
	req, resp := r.PostForm["SAMLRequest"], r.PostForm["SAMLResponse"]
	switch {
	case len(req)+len(resp) == 0:
		return nil, ErrNoMessage
	case len(req)+len(resp) > 1:
		return nil, fmt.Errorf("%w: more than one message in the form", ErrMalformed)
	case len(req) == 1:
		m.Param = "SAMLRequest"
	default:
		m.Param = "SAMLResponse"
	}
	if rs := r.PostForm["RelayState"]; len(rs) > 0 {
		if len(rs) > 1 || len(rs[0]) > maxRelayState {
			return nil, fmt.Errorf("%w: bad RelayState", ErrMalformed)
		}
		m.RelayState = rs[0]
	}
	raw, err := decodeBase64(r.PostForm.Get(m.Param))
	if err != nil {
		return nil, err
	}
	return m.parse(raw)
}

// decodeBase64 decodes standard base64, ignoring the line breaks and
// blanks some senders insert.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if base64.StdEncoding.DecodedLen(len(s)) > MaxMessageSize {
		return nil, fmt.Errorf("%w: message larger than %d bytes", ErrMalformed, MaxMessageSize)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: message is not base64", ErrMalformed)
	}
	return b, nil
}

func (m *Message) parse(raw []byte) (*Message, error) {
	doc, err := parseXML(raw, MaxMessageSize)
	if err != nil {
		return nil, err
	}
	m.Raw, m.doc = raw, doc
	return m, nil
}

// ParseMessage reads a message that arrived some other way (a SOAP body,
// a test) as if posted.
func ParseMessage(param string, raw []byte) (*Message, error) {
	return (&Message{Binding: BindingPOST, Param: param}).parse(raw)
}

// root is the element the parsers read: the signed one once verified.
func (m *Message) root() *etree.Element {
	if m.verified != nil {
		return m.verified
	}
	return m.doc.Root()
}

// Signed reports whether the message carries a signature: a query
// signature for the Redirect binding, a ds:Signature child of the root
// for POST.
func (m *Message) Signed() bool {
	if m.Binding == BindingRedirect {
		return m.rawSignature != "" || m.rawSigAlg != ""
	}
	return child(m.doc.Root(), nsDSig, "Signature") != nil
}

// Verify checks the message's signature against certs: for the Redirect
// binding the Signature parameter over SAMLRequest|SAMLResponse,
// RelayState and SigAlg as sent; for POST the enveloped signature of the
// root element, which must reference the root itself. An unsigned message
// fails. The certificates are the client's own, configured by an
// administrator: they are trusted as keys, whatever their validity dates.
func (m *Message) Verify(certs []*x509.Certificate) error {
	if !m.Signed() {
		return ErrUnsigned
	}
	if len(certs) == 0 {
		return fmt.Errorf("%w: no certificate to check it with", ErrBadSignature)
	}
	if m.Binding == BindingRedirect {
		return m.verifyQuery(certs)
	}
	return m.verifyEnveloped(certs)
}

func (m *Message) verifyQuery(certs []*x509.Certificate) error {
	sigAlg, err := url.QueryUnescape(m.rawSigAlg)
	if err != nil {
		return fmt.Errorf("%w: bad SigAlg", ErrBadSignature)
	}
	alg, ok := x509Algorithms[sigAlg]
	if !ok {
		return fmt.Errorf("%w: unsupported SigAlg %q", ErrBadSignature, sigAlg)
	}
	sigText, err := url.QueryUnescape(m.rawSignature)
	if err != nil {
		return fmt.Errorf("%w: bad Signature encoding", ErrBadSignature)
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sigText))
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%w: Signature is not base64", ErrBadSignature)
	}
	signed := m.Param + "=" + m.rawMessage
	if m.hasRelayState {
		signed += "&RelayState=" + m.rawRelayState
	}
	signed += "&SigAlg=" + m.rawSigAlg
	for _, c := range certs {
		if checkSignature(c, alg, []byte(signed), sig) == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: query signature matches no certificate of the client", ErrBadSignature)
}

// checkSignature checks a signature made with c's key; an ECDSA signature
// is accepted both DER-encoded and as XML Signature's r||s.
func checkSignature(c *x509.Certificate, alg x509.SignatureAlgorithm, signed, sig []byte) error {
	err := c.CheckSignature(alg, signed, sig)
	if err != nil && isECDSA(alg) {
		if der, ok := rsToDER(sig); ok {
			return c.CheckSignature(alg, signed, der)
		}
	}
	return err
}

func isECDSA(alg x509.SignatureAlgorithm) bool {
	return alg == x509.ECDSAWithSHA1 || alg == x509.ECDSAWithSHA256 || alg == x509.ECDSAWithSHA384 || alg == x509.ECDSAWithSHA512
}

// rsToDER turns XML Signature's ECDSA value (r and s, each as long as the
// curve's order, concatenated) into the DER form Go verifies.
func rsToDER(sig []byte) ([]byte, bool) {
	var probe struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &probe); err == nil && len(rest) == 0 {
		return nil, false // already DER
	}
	if len(sig) == 0 || len(sig)%2 != 0 {
		return nil, false
	}
	half := len(sig) / 2
	der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:half]), new(big.Int).SetBytes(sig[half:])})
	return der, err == nil
}

func (m *Message) verifyEnveloped(certs []*x509.Certificate) error {
	root := m.doc.Root()
	sigs := children(root, nsDSig, "Signature")
	if len(sigs) != 1 {
		return fmt.Errorf("%w: want one signature on the message, found %d", ErrBadSignature, len(sigs))
	}
	id := attr(root, "ID")
	refs := sigs[0].FindElements("./SignedInfo/Reference")
	if id == "" || len(refs) != 1 || refs[0].SelectAttrValue("URI", "") != "#"+id {
		return fmt.Errorf("%w: the signature must reference the message itself", ErrBadSignature)
	}
	if n := countID(root, id); n != 1 {
		return fmt.Errorf("%w: ID %q appears %d times", ErrBadSignature, id, n)
	}
	var last error
	for _, c := range certs {
		el, err := validateEnveloped(root, c)
		if err == nil {
			m.verified = el
			return nil
		}
		last = err
	}
	return fmt.Errorf("%w: %v", ErrBadSignature, last)
}

// validateEnveloped checks el's enveloped signature against one trusted
// certificate and returns el as the signature covers it. The signature's
// KeyInfo is only a hint and is dropped (the client's certificate is the
// key), and an ECDSA value in XML Signature's r||s form is re-encoded for
// goxmldsig; neither is covered by the signature.
func validateEnveloped(el *etree.Element, c *x509.Certificate) (*etree.Element, error) {
	el = el.Copy()
	sig := child(el, nsDSig, "Signature")
	if ki := child(sig, nsDSig, "KeyInfo"); ki != nil {
		sig.RemoveChild(ki)
	}
	if method := sig.FindElement("./SignedInfo/SignatureMethod"); method != nil {
		if alg, ok := x509Algorithms[method.SelectAttrValue("Algorithm", "")]; ok && isECDSA(alg) {
			if v := child(sig, nsDSig, "SignatureValue"); v != nil {
				if raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v.Text()), "")); err == nil {
					if der, ok := rsToDER(raw); ok {
						v.SetText(base64.StdEncoding.EncodeToString(der))
					}
				}
			}
		}
	}
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{c}})
	now := time.Now()
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		ctx.Clock = dsig.NewFakeClock(clockwork.NewFakeClockAt(c.NotBefore.Add(time.Second)))
	}
	return ctx.Validate(el)
}

// countID counts the elements of the tree carrying ID id.
func countID(el *etree.Element, id string) int {
	n := 0
	if attr(el, "ID") == id {
		n++
	}
	for _, c := range el.ChildElements() {
		n += countID(c, id)
	}
	return n
}

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
	NotOnOrAfter                                  time.Time // zero when absent
}

// Response is what Gatehouse reads of a samlp:Response's envelope; the
// assertion itself is for a service provider library to check.
type Response struct {
	ID, InResponseTo, Issuer, Destination string
	// StatusCode is the top-level status, SubStatusCode the second-level
	// one ("" when none), StatusMessage the optional message.
	StatusCode, SubStatusCode, StatusMessage string
}

// Response parses the message as a Response.
func (m *Message) Response() (Response, error) {
	root, err := m.protocolRoot("Response")
	if err != nil {
		return Response{}, err
	}
	st := child(root, nsProtocol, "Status")
	code := child(st, nsProtocol, "StatusCode")
	return Response{
		ID:            attr(root, "ID"),
		InResponseTo:  attr(root, "InResponseTo"),
		Issuer:        text(child(root, nsAssertion, "Issuer")),
		Destination:   attr(root, "Destination"),
		StatusCode:    attr(code, "Value"),
		SubStatusCode: attr(child(code, nsProtocol, "StatusCode"), "Value"),
		StatusMessage: text(child(st, nsProtocol, "StatusMessage")),
	}, nil
}

// LogoutResponse is what Gatehouse reads of a samlp:LogoutResponse.
type LogoutResponse struct {
	ID, InResponseTo, Issuer, Destination, StatusCode string
}

// protocolRoot checks the root is samlp:<local>, version 2.0, with an ID.
func (m *Message) protocolRoot(local string) (*etree.Element, error) {
	root := m.root()
	if !is(root, nsProtocol, local) {
		return nil, fmt.Errorf("%w: want %s, got %s", ErrWrongType, local, root.Tag)
	}
	if v := attr(root, "Version"); v != "2.0" {
		return nil, fmt.Errorf("%w: %s version %q is not 2.0", ErrMalformed, local, v)
	}
	if attr(root, "ID") == "" {
		return nil, fmt.Errorf("%w: %s has no ID", ErrMalformed, local)
	}
	return root, nil
}

// AuthnRequest parses the message as an AuthnRequest.
func (m *Message) AuthnRequest() (AuthnRequest, error) {
	root, err := m.protocolRoot("AuthnRequest")
	if err != nil {
		return AuthnRequest{}, err
	}
	ar := AuthnRequest{
		ID:              attr(root, "ID"),
		Issuer:          text(child(root, nsAssertion, "Issuer")),
		Destination:     attr(root, "Destination"),
		ACSURL:          attr(root, "AssertionConsumerServiceURL"),
		ProtocolBinding: attr(root, "ProtocolBinding"),
		ForceAuthn:      boolAttr(root, "ForceAuthn"),
		IsPassive:       boolAttr(root, "IsPassive"),
		IssueInstant:    timeAttr(root, "IssueInstant"),
		ACSIndex:        -1,
	}
	if v := attr(root, "AssertionConsumerServiceIndex"); v != "" {
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			return AuthnRequest{}, fmt.Errorf("%w: bad AssertionConsumerServiceIndex", ErrMalformed)
		}
		ar.ACSIndex = i
	}
	if p := child(root, nsProtocol, "NameIDPolicy"); p != nil {
		ar.NameIDFormat = attr(p, "Format")
		ar.AllowCreate = boolAttr(p, "AllowCreate")
	}
	return ar, nil
}

// LogoutRequest parses the message as a LogoutRequest.
func (m *Message) LogoutRequest() (LogoutRequest, error) {
	root, err := m.protocolRoot("LogoutRequest")
	if err != nil {
		return LogoutRequest{}, err
	}
	lr := LogoutRequest{
		ID:           attr(root, "ID"),
		Issuer:       text(child(root, nsAssertion, "Issuer")),
		Destination:  attr(root, "Destination"),
		IssueInstant: timeAttr(root, "IssueInstant"),
		NotOnOrAfter: timeAttr(root, "NotOnOrAfter"),
	}
	nameID := child(root, nsAssertion, "NameID")
	if nameID == nil {
		if child(root, nsAssertion, "EncryptedID") != nil {
			return LogoutRequest{}, fmt.Errorf("%w: an encrypted NameID is not supported", ErrMalformed)
		}
		return LogoutRequest{}, fmt.Errorf("%w: LogoutRequest has no NameID", ErrMalformed)
	}
	lr.NameID, lr.NameIDFormat = text(nameID), attr(nameID, "Format")
	for _, si := range children(root, nsProtocol, "SessionIndex") {
		lr.SessionIndexes = append(lr.SessionIndexes, text(si))
	}
	return lr, nil
}

// LogoutResponse parses the message as a LogoutResponse.
func (m *Message) LogoutResponse() (LogoutResponse, error) {
	root, err := m.protocolRoot("LogoutResponse")
	if err != nil {
		return LogoutResponse{}, err
	}
	return LogoutResponse{
		ID:           attr(root, "ID"),
		InResponseTo: attr(root, "InResponseTo"),
		Issuer:       text(child(root, nsAssertion, "Issuer")),
		Destination:  attr(root, "Destination"),
		StatusCode:   attr(child(child(root, nsProtocol, "Status"), nsProtocol, "StatusCode"), "Value"),
	}, nil
}
