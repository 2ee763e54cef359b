package saml

import (
	"bytes"
	"compress/flate"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
)

// Attribute is one saml:Attribute of an assertion.
type Attribute struct {
	Name, FriendlyName, NameFormat string
	Values                         []string
}

// ResponseInput is what a samlp:Response says.
type ResponseInput struct {
	Issuer, Destination, InResponseTo, Audience string
	// ExtraAudiences join Audience in the AudienceRestriction (MapAudiences).
	ExtraAudiences                              []string
	NameID, NameIDFormat, SessionIndex          string
	AuthnInstant, Now                           time.Time
	Lifespan                                    time.Duration
	SessionNotOnOrAfter                         time.Time
	Attributes                                  []Attribute
	AuthnStatement, SignDocument, SignAssertion bool
	// OneTimeUse adds the OneTimeUse condition.
	OneTimeUse bool
	Signer     *Signer           // nil when neither signature is asked
	EncryptTo  *x509.Certificate // non-nil: encrypt the assertion
	// Encryption algorithms as the client's saml.encryption.* attributes
	// name them (URIs); empty means AES-256-GCM content encryption and
	// RSA-OAEP (rsa-oaep-mgf1p, SHA-1 digest) key transport.
	EncryptionAlgorithm, KeyEncryptionAlgorithm, KeyEncryptionDigest, KeyEncryptionMGF string
	StatusCode                                                                         string // "" = Success
	// StatusMessage is an optional samlp:StatusMessage of an error response.
	StatusMessage string
	// ID and AssertionID are fresh when empty.
	ID, AssertionID string
}

// Encryption algorithm URIs Gatehouse accepts in the saml.encryption.*
// attributes.
const (
	EncAES128CBC       = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
	EncAES256CBC       = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
	EncAES128GCM       = "http://www.w3.org/2009/xmlenc11#aes128-gcm"
	EncAES256GCM       = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
	KeyRSAOAEPMGF1P    = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
	KeyRSAOAEP11       = "http://www.w3.org/2009/xmlenc11#rsa-oaep"
	DigestSHA1         = "http://www.w3.org/2000/09/xmldsig#sha1"
	DigestSHA256       = "http://www.w3.org/2001/04/xmlenc#sha256"
	DigestSHA512       = "http://www.w3.org/2001/04/xmlenc#sha512"
	mgfPrefix          = "http://www.w3.org/2009/xmlenc11#mgf1"
	encryptedElementTy = "http://www.w3.org/2001/04/xmlenc#Element"
)

// Encrypter is the XML encryption of an assertion for the given
// saml.encryption.* values; empty ones take the defaults (see
// ResponseInput). The mask generation function of RSA-OAEP 1.1 is MGF1
// with the digest's hash; another one is refused.
func Encrypter(dataAlg, keyAlg, digest, mgf string) (xmlenc.Encrypter, error) {
	var block xmlenc.BlockCipher
	switch dataAlg {
	case "", EncAES256GCM:
		block = xmlenc.AES256GCM
	case EncAES128GCM:
		block = xmlenc.AES128GCM
	case EncAES128CBC:
		block = xmlenc.AES128CBC
	case EncAES256CBC:
		block = xmlenc.AES256CBC
	default:
		return nil, fmt.Errorf("unsupported encryption algorithm %q", dataAlg)
	}
	var dm xmlenc.DigestMethod
	switch digest {
	case "", DigestSHA1:
		dm = &xmlenc.SHA1
	case DigestSHA256:
		dm = &xmlenc.SHA256
	case DigestSHA512:
		dm = &xmlenc.SHA512
	default:
		return nil, fmt.Errorf("unsupported encryption digest method %q", digest)
	}
	var e xmlenc.RSA
	switch keyAlg {
	case "", KeyRSAOAEPMGF1P:
		if mgf != "" && mgf != mgfPrefix+"sha1" {
			return nil, fmt.Errorf("key transport %s uses MGF1 with SHA-1, not %q", KeyRSAOAEPMGF1P, mgf)
		}
		e = xmlenc.OAEP()
	case KeyRSAOAEP11:
		e = xmlenc.OAEP_SHA256()
		want := mgfPrefix + strings.TrimPrefix(strings.TrimPrefix(dm.Algorithm(), "http://www.w3.org/2001/04/xmlenc#"), "http://www.w3.org/2000/09/xmldsig#")
		if mgf != "" && mgf != want {
			return nil, fmt.Errorf("mask generation function %q must match the digest method (%s)", mgf, want)
		}
	default:
		return nil, fmt.Errorf("unsupported key transport algorithm %q", keyAlg)
	}
	e.BlockCipher, e.DigestMethod = block, dm
	return e, nil
}

// BuildResponse builds (and signs, encrypts as asked) a samlp:Response.
// An error status carries no assertion. For the Redirect binding leave
// SignDocument off and sign the query (RedirectURL).
func BuildResponse(in ResponseInput) ([]byte, error) {
	if (in.SignDocument || in.SignAssertion) && in.Signer == nil {
		return nil, errors.New("saml: a signature is asked but there is no signer")
	}
	if in.ID == "" {
		in.ID = NewID()
	}
	if in.AssertionID == "" {
		in.AssertionID = NewID()
	}
	status := in.StatusCode
	if status == "" {
		status = StatusSuccess
	}
	resp := protocolElement("samlp:Response", in.ID, in.Now, in.Destination)
	if in.InResponseTo != "" {
		resp.CreateAttr("InResponseTo", in.InResponseTo)
	}
	resp.AddChild(issuer(in.Issuer))
	st := resp.CreateElement("samlp:Status")
	code := st.CreateElement("samlp:StatusCode")
	if status == StatusSuccess || status == StatusRequester || status == StatusResponder || status == "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch" {
		code.CreateAttr("Value", status)
	} else {
		// Second-level codes go inside a top-level Responder.
		code.CreateAttr("Value", StatusResponder)
		code.CreateElement("samlp:StatusCode").CreateAttr("Value", status)
	}
	if in.StatusMessage != "" {
		st.CreateElement("samlp:StatusMessage").SetText(in.StatusMessage)
	}
	if status == StatusSuccess {
		a, err := assertion(in)
		if err != nil {
			return nil, err
		}
		// The assertion is signed where the service provider will check
		// it: inside the Response, or on its own once decrypted. Inclusive
		// canonicalization sees the namespaces in scope, so it matters.
		if in.EncryptTo != nil {
			if in.SignAssertion {
				if err := in.Signer.sign(a); err != nil {
					return nil, err
				}
			}
			if a, err = encryptAssertion(a, in); err != nil {
				return nil, err
			}
			resp.AddChild(a)
		} else {
			resp.AddChild(a)
			if in.SignAssertion {
				if err := in.Signer.sign(a); err != nil {
					return nil, err
				}
			}
		}
	}
	if in.SignDocument {
		if err := in.Signer.sign(resp); err != nil {
			return nil, err
		}
	}
	return serialize(resp)
}

// protocolElement starts a samlp message with the namespaces, ID, version,
// instant and destination.
func protocolElement(tag, id string, now time.Time, destination string) *etree.Element {
	el := etree.NewElement(tag)
	el.CreateAttr("xmlns:samlp", nsProtocol)
	el.CreateAttr("xmlns:saml", nsAssertion)
	el.CreateAttr("ID", id)
	el.CreateAttr("Version", "2.0")
	el.CreateAttr("IssueInstant", xmlTime(now))
	if destination != "" {
		el.CreateAttr("Destination", destination)
	}
	return el
}

func issuer(v string) *etree.Element {
	el := etree.NewElement("saml:Issuer")
	el.SetText(v)
	return el
}

// assertion builds the saml:Assertion of a successful response.
func assertion(in ResponseInput) (*etree.Element, error) {
	if in.Lifespan <= 0 {
		return nil, errors.New("saml: assertion lifespan must be positive")
	}
	notOnOrAfter := xmlTime(in.Now.Add(in.Lifespan))
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", nsAssertion)
	a.CreateAttr("ID", in.AssertionID)
	a.CreateAttr("IssueInstant", xmlTime(in.Now))
	a.CreateAttr("Version", "2.0")
	a.AddChild(issuer(in.Issuer))

	subject := a.CreateElement("saml:Subject")
	nameID := subject.CreateElement("saml:NameID")
	if in.NameIDFormat != "" {
		nameID.CreateAttr("Format", in.NameIDFormat)
	}
	nameID.SetText(in.NameID)
	sc := subject.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	if in.InResponseTo != "" {
		scd.CreateAttr("InResponseTo", in.InResponseTo)
	}
	scd.CreateAttr("NotOnOrAfter", notOnOrAfter)
	if in.Destination != "" {
		scd.CreateAttr("Recipient", in.Destination)
	}

	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", xmlTime(in.Now))
	cond.CreateAttr("NotOnOrAfter", notOnOrAfter)
	if auds := audiences(in); len(auds) > 0 {
		ar := cond.CreateElement("saml:AudienceRestriction")
		for _, a := range auds {
			ar.CreateElement("saml:Audience").SetText(a)
		}
	}
	if in.OneTimeUse {
		cond.CreateElement("saml:OneTimeUse")
	}

	if in.AuthnStatement {
		as := a.CreateElement("saml:AuthnStatement")
		instant := in.AuthnInstant
		if instant.IsZero() {
			instant = in.Now
		}
		as.CreateAttr("AuthnInstant", xmlTime(instant))
		if in.SessionIndex != "" {
			as.CreateAttr("SessionIndex", in.SessionIndex)
		}
		if !in.SessionNotOnOrAfter.IsZero() {
			as.CreateAttr("SessionNotOnOrAfter", xmlTime(in.SessionNotOnOrAfter))
		}
		as.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").
			SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified")
	}

	if len(in.Attributes) > 0 {
		stmt := a.CreateElement("saml:AttributeStatement")
		for _, at := range in.Attributes {
			el := stmt.CreateElement("saml:Attribute")
			el.CreateAttr("Name", at.Name)
			if at.FriendlyName != "" {
				el.CreateAttr("FriendlyName", at.FriendlyName)
			}
			format := at.NameFormat
			if format == "" {
				format = AttrNameFormatBasic
			}
			el.CreateAttr("NameFormat", format)
			for _, v := range at.Values {
				av := el.CreateElement("saml:AttributeValue")
				av.CreateAttr("xmlns:xs", nsXS)
				av.CreateAttr("xmlns:xsi", nsXSI)
				av.CreateAttr("xsi:type", "xs:string")
				av.SetText(v)
			}
		}
	}
	return a, nil
}

// audiences is Audience then the ExtraAudiences, without repeats.
func audiences(in ResponseInput) []string {
	var out []string
	for _, a := range append([]string{in.Audience}, in.ExtraAudiences...) {
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// encryptAssertion replaces a (signed or not) by a saml:EncryptedAssertion
// to the client's certificate.
func encryptAssertion(a *etree.Element, in ResponseInput) (*etree.Element, error) {
	enc, err := Encrypter(in.EncryptionAlgorithm, in.KeyEncryptionAlgorithm, in.KeyEncryptionDigest, in.KeyEncryptionMGF)
	if err != nil {
		return nil, err
	}
	plain, err := serialize(a)
	if err != nil {
		return nil, err
	}
	data, err := enc.Encrypt(in.EncryptTo, plain, nil)
	if err != nil {
		return nil, fmt.Errorf("saml: encrypt assertion: %w", err)
	}
	data.CreateAttr("Type", encryptedElementTy)
	out := etree.NewElement("saml:EncryptedAssertion")
	out.AddChild(data)
	return out, nil
}

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
func BuildLogoutRequest(in LogoutRequestInput) ([]byte, error) {
	if in.ID == "" {
		in.ID = NewID()
	}
	el := protocolElement("samlp:LogoutRequest", in.ID, in.Now, in.Destination)
	if !in.NotOnOrAfter.IsZero() {
		el.CreateAttr("NotOnOrAfter", xmlTime(in.NotOnOrAfter))
	}
	el.AddChild(issuer(in.Issuer))
	nameID := el.CreateElement("saml:NameID")
	if in.NameIDFormat != "" {
		nameID.CreateAttr("Format", in.NameIDFormat)
	}
	nameID.SetText(in.NameID)
	for _, si := range in.SessionIndexes {
		el.CreateElement("samlp:SessionIndex").SetText(si)
	}
	return finish(el, in.Signer)
}

// LogoutResponseInput is what a samlp:LogoutResponse says.
type LogoutResponseInput struct {
	ID                                string // fresh when empty
	Issuer, Destination, InResponseTo string
	StatusCode                        string // "" = Success
	Now                               time.Time
	Signer                            *Signer // enveloped signature (POST); nil for none
}

// BuildLogoutResponse builds a samlp:LogoutResponse.
func BuildLogoutResponse(in LogoutResponseInput) ([]byte, error) {
	if in.ID == "" {
		in.ID = NewID()
	}
	el := protocolElement("samlp:LogoutResponse", in.ID, in.Now, in.Destination)
	if in.InResponseTo != "" {
		el.CreateAttr("InResponseTo", in.InResponseTo)
	}
	el.AddChild(issuer(in.Issuer))
	status := in.StatusCode
	if status == "" {
		status = StatusSuccess
	}
	el.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", status)
	return finish(el, in.Signer)
}

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
func BuildAuthnRequest(in AuthnRequestInput) ([]byte, error) {
	if in.ID == "" {
		in.ID = NewID()
	}
	el := protocolElement("samlp:AuthnRequest", in.ID, in.Now, in.Destination)
	if in.ACSURL != "" {
		el.CreateAttr("AssertionConsumerServiceURL", in.ACSURL)
	}
	if in.ProtocolBinding != "" {
		el.CreateAttr("ProtocolBinding", in.ProtocolBinding)
	}
	if in.ForceAuthn {
		el.CreateAttr("ForceAuthn", "true")
	}
	if in.IsPassive {
		el.CreateAttr("IsPassive", "true")
	}
	el.AddChild(issuer(in.Issuer))
	policy := el.CreateElement("samlp:NameIDPolicy")
	if in.NameIDFormat != "" {
		policy.CreateAttr("Format", in.NameIDFormat)
	}
	policy.CreateAttr("AllowCreate", fmt.Sprint(in.AllowCreate))
	return finish(el, in.Signer)
}

func finish(el *etree.Element, s *Signer) ([]byte, error) {
	if s != nil {
		if err := s.sign(el); err != nil {
			return nil, err
		}
	}
	return serialize(el)
}

// PostValue is the base64 of a message, the value of a POST form's
// SAMLRequest or SAMLResponse.
func PostValue(xml []byte) string { return base64.StdEncoding.EncodeToString(xml) }

// RedirectURL is dest with the message DEFLATEd and base64'd in param
// (SAMLRequest or SAMLResponse), RelayState when given, and SigAlg and
// Signature when s is non-nil. With s, an enveloped signature of the
// message itself is dropped first, as the binding requires (the query
// signature replaces it); an assertion's own signature stays.
func RedirectURL(dest, param string, xml []byte, relayState string, s *Signer) (string, error) {
	if param != "SAMLRequest" && param != "SAMLResponse" {
		return "", fmt.Errorf("saml: bad parameter %q", param)
	}
	if s != nil {
		var err error
		if xml, err = withoutRootSignature(xml); err != nil {
			return "", err
		}
	}
	u, err := url.Parse(dest)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("saml: bad destination %q", dest)
	}
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	if _, err := w.Write(xml); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	q := param + "=" + url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes()))
	if relayState != "" {
		q += "&RelayState=" + url.QueryEscape(relayState)
	}
	if s != nil {
		alg, ok := sigAlgs[s.Algorithm]
		if !ok {
			return "", CheckAlgorithm(s.Algorithm)
		}
		q += "&SigAlg=" + url.QueryEscape(alg)
		_, sig, err := s.signString(q)
		if err != nil {
			return "", fmt.Errorf("saml: sign query: %w", err)
		}
		q += "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
	}
	if u.RawQuery != "" {
		return dest + "&" + q, nil
	}
	return strings.TrimSuffix(dest, "?") + "?" + q, nil
}

// withoutRootSignature is a message without the ds:Signature of its root
// element, unchanged when it has none.
func withoutRootSignature(xml []byte) ([]byte, error) {
	if !bytes.Contains(xml, []byte("Signature")) {
		return xml, nil
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(xml); err != nil || doc.Root() == nil {
		return nil, fmt.Errorf("saml: message to send is not XML: %v", err)
	}
	sig := child(doc.Root(), nsDSig, "Signature")
	if sig == nil {
		return xml, nil
	}
	doc.Root().RemoveChild(sig)
	return serialize(doc.Root())
}
