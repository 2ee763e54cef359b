package saml

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
)

const nsSOAP = "http://schemas.xmlsoap.org/soap/envelope/"

// ReadSOAP reads a SAML message sent by the SOAP binding (a back-channel
// LogoutRequest): the one element of the envelope's Body. It is verified
// like a POST message (enveloped signature).
func ReadSOAP(r *http.Request) (*Message, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxMessageSize+1))
	if err != nil {
		return nil, fmt.Errorf("saml: read SOAP body: %w", err)
	}
	return ParseSOAP(body)
}

// ParseSOAP reads the SAML message in a SOAP envelope, such as a service
// provider's answer to a back-channel LogoutRequest. Param is
// "SAMLResponse" for responses, "SAMLRequest" otherwise.
func ParseSOAP(b []byte) (*Message, error) {
	doc, err := parseXML(b, MaxMessageSize)
	if err != nil {
		return nil, err
	}
	env := doc.Root()
	if !is(env, nsSOAP, "Envelope") {
		return nil, fmt.Errorf("%w: not a SOAP envelope", ErrMalformed)
	}
	body := child(env, nsSOAP, "Body")
	if body == nil || len(body.ChildElements()) != 1 {
		return nil, fmt.Errorf("%w: SOAP Body must hold one message", ErrMalformed)
	}
	msg := body.ChildElements()[0].Copy()
	// The message keeps the namespaces it had in scope, so that it reads
	// and canonicalizes as it did inside the envelope.
	declared := map[string]bool{}
	for _, a := range msg.Attr {
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			declared[a.FullKey()] = true
		}
	}
	for anc := body; anc != nil; anc = anc.Parent() {
		for _, a := range anc.Attr {
			if (a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns")) && !declared[a.FullKey()] {
				declared[a.FullKey()] = true
				msg.CreateAttr(a.FullKey(), a.Value)
			}
		}
	}
	raw, err := serialize(msg)
	if err != nil {
		return nil, err
	}
	param := "SAMLRequest"
	if strings.HasSuffix(msg.Tag, "Response") {
		param = "SAMLResponse"
	}
	m := &Message{Binding: BindingSOAP, Param: param}
	return m.parse(raw)
}

// SOAPEnvelope wraps a message for the SOAP binding.
func SOAPEnvelope(xml []byte) []byte {
	var buf bytes.Buffer
	buf.WriteString(`<soap:Envelope xmlns:soap="` + nsSOAP + `"><soap:Body>`)
	buf.Write(bytes.TrimSpace(stripDeclaration(xml)))
	buf.WriteString(`</soap:Body></soap:Envelope>`)
	return buf.Bytes()
}

// stripDeclaration drops a leading XML declaration.
func stripDeclaration(b []byte) []byte {
	t := bytes.TrimSpace(b)
	if bytes.HasPrefix(t, []byte("<?xml")) {
		if i := bytes.Index(t, []byte("?>")); i >= 0 {
			return t[i+2:]
		}
	}
	return t
}
