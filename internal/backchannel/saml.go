package backchannel

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// SAML clients are told by a LogoutRequest over the SOAP binding
// (saml-bindings §3.2, saml-profiles §4.4.3.3), sent to their
// saml_single_logout_service_url_soap and signed with the realm's key as
// the client asks, naming the NameID and SessionIndex their login gave
// (the client session's notes). A client without a SOAP URL is not told
// from the server: a browser binding needs the user's browser.

// Client session notes a SAML LogoutRequest repeats (package login writes
// them when the client logs in).
const (
	noteSAMLNameID       = "SAML_NAME_ID"
	noteSAMLNameIDFormat = "SAML_NAME_ID_FORMAT"
	noteSAMLSessionIndex = "SAML_SESSION_INDEX"
)

// soapAction is the SOAPAction header SAML's SOAP binding names.
const soapAction = "http://www.oasis-open.org/committees/security"

type browserKey struct{}

// WithBrowserLogout marks ctx as a logout the browser carries on (package
// login's single logout): the SAML clients it reaches with front-channel
// messages are not also sent a SOAP LogoutRequest.
func WithBrowserLogout(ctx context.Context) context.Context {
	return context.WithValue(ctx, browserKey{}, true)
}

func browserLogout(ctx context.Context) bool {
	b, _ := ctx.Value(browserKey{}).(bool)
	return b
}

// samlLogout builds the SOAP message that tells SAML client c its session
// in e ended, with the URL to post it to; ok is false when c is not told
// from the server.
func (s *Sender) samlLogout(rd *realmData, c client.Client, e store.EndedSession, base string, browser bool) (target string, body []byte, ok bool) {
	if !c.Enabled {
		return "", nil, false
	}
	cs, err := saml.Settings(c)
	if err != nil {
		s.log.Warn("SAML back-channel logout: client settings", "realm", rd.realm.Name, "client", c.ClientID, "err", err)
		return "", nil, false
	}
	cs.AuthBase = base
	target = c.ResolveURL(cs.SLOSOAP, base)
	notes := e.ClientNotes[c.ID]
	if target == "" || notes[noteSAMLNameID] == "" {
		return "", nil, false
	}
	if browser && c.FrontchannelLogout && (cs.SLOPost != "" || cs.SLORedirect != "") {
		return "", nil, false // the browser carries its LogoutRequest
	}
	signer, err := cs.Signer(rd.keys)
	if err != nil {
		s.log.Warn("SAML back-channel logout: signing key", "realm", rd.realm.Name, "client", c.ClientID, "err", err)
		return "", nil, false
	}
	if !cs.ServerSignature {
		signer = nil
	}
	in := saml.LogoutRequestInput{Issuer: base + "/realms/" + url.PathEscape(rd.realm.Name), Destination: target,
		NameID: notes[noteSAMLNameID], NameIDFormat: notes[noteSAMLNameIDFormat], Now: s.now(), Signer: signer}
	if idx := notes[noteSAMLSessionIndex]; idx != "" {
		in.SessionIndexes = []string{idx}
	}
	doc, err := saml.BuildLogoutRequest(in)
	if err != nil {
		s.log.Warn("SAML back-channel logout: build", "realm", rd.realm.Name, "client", c.ClientID, "err", err)
		return "", nil, false
	}
	return target, soapEnvelope(doc), true
}

// soapEnvelope wraps a signed document in a SOAP 1.1 envelope, byte for
// byte (re-serializing it could break its signature).
func soapEnvelope(doc []byte) []byte {
	doc = bytes.TrimSpace(doc)
	if bytes.HasPrefix(doc, []byte("<?xml")) {
		if i := bytes.Index(doc, []byte("?>")); i >= 0 {
			doc = bytes.TrimSpace(doc[i+2:])
		}
	}
	var b bytes.Buffer
	b.WriteString(`<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"><soap-env:Body>`)
	b.Write(doc)
	b.WriteString(`</soap-env:Body></soap-env:Envelope>`)
	return b.Bytes()
}

// postSOAP sends a SOAP message, as deliver retries it.
func (s *Sender) postSOAP(ctx context.Context, target string, body []byte) (int, error) {
	h := http.Header{"Content-Type": {"text/xml; charset=utf-8"}, "SOAPAction": {soapAction}}
	resp, err := s.client.Do(ctx, http.MethodPost, target, h, strings.NewReader(string(body)), maxResponse)
	if err != nil {
		return 0, err
	}
	return resp.Status, nil
}
