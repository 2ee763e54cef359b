package saml

import (
	"bytes"
	"compress/flate"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

const idpSSO = realmURL + "/protocol/saml"

func spSigner(t *testing.T) *Signer {
	_, _, sk := realmKeys(t)
	return signer(t, sk, RSASHA256)
}

func spCerts(t *testing.T) []*x509.Certificate {
	_, _, sk := realmKeys(t)
	return []*x509.Certificate{cert(t, sk)}
}

func authnRequestXML(t *testing.T, s *Signer) []byte {
	t.Helper()
	out, err := BuildAuthnRequest(AuthnRequestInput{ID: "ID_a1", Issuer: spEntity, Destination: idpSSO, ACSURL: spACS,
		ProtocolBinding: BindingPOST, NameIDFormat: NameIDEmail, AllowCreate: true, ForceAuthn: true,
		Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAuthnRequestPOSTRoundTrip(t *testing.T) {
	m := mustRead(t, postRequest("SAMLRequest", authnRequestXML(t, spSigner(t)), "rs-1"))
	if m.Binding != BindingPOST || m.Param != "SAMLRequest" || m.RelayState != "rs-1" || !m.Signed() {
		t.Fatalf("message = %+v", m)
	}
	if err := m.Verify(spCerts(t)); err != nil {
		t.Fatal(err)
	}
	ik, _, _ := realmKeys(t)
	if err := m.Verify([]*x509.Certificate{cert(t, ik)}); !errors.Is(err, ErrBadSignature) {
		t.Errorf("verified with another certificate: %v", err)
	}
	ar, err := m.AuthnRequest()
	if err != nil {
		t.Fatal(err)
	}
	want := AuthnRequest{ID: "ID_a1", Issuer: spEntity, Destination: idpSSO, ACSURL: spACS, ProtocolBinding: BindingPOST,
		NameIDFormat: NameIDEmail, AllowCreate: true, ACSIndex: -1, ForceAuthn: true, IssueInstant: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if ar != want {
		t.Errorf("AuthnRequest = %+v, want %+v", ar, want)
	}
	if _, err := m.LogoutRequest(); !errors.Is(err, ErrWrongType) {
		t.Errorf("read as a LogoutRequest: %v", err)
	}
}

func TestRedirectRoundTrip(t *testing.T) {
	unsigned := authnRequestXML(t, nil)
	for _, s := range []*Signer{spSigner(t), signer(t, ecKey(t, "P-256"), ECDSASHA256)} {
		u, err := RedirectURL(idpSSO+"?kc_idp_hint=x", "SAMLRequest", unsigned, "state with spaces&=", s)
		if err != nil {
			t.Fatal(err)
		}
		m := mustRead(t, httptest.NewRequest(http.MethodGet, u, nil))
		if m.Binding != BindingRedirect || m.RelayState != "state with spaces&=" || !m.Signed() {
			t.Fatalf("message = %+v", m)
		}
		certs := []*x509.Certificate{s.Cert}
		if err := m.Verify(certs); err != nil {
			t.Fatalf("%s: %v", s.Algorithm, err)
		}
		// The signature covers RelayState and the message.
		for _, tamper := range []func(string) string{
			func(u string) string { return strings.Replace(u, "RelayState=state", "RelayState=other", 1) },
			func(u string) string { return strings.Replace(u, "&RelayState=state+with+spaces%26%3D", "", 1) },
			func(u string) string { return strings.Replace(u, "SigAlg=", "SigAlg=x", 1) },
		} {
			tm, err := ReadMessage(httptest.NewRequest(http.MethodGet, tamper(u), nil))
			if err != nil {
				continue
			}
			if err := tm.Verify(certs); err == nil {
				t.Errorf("tampered query verified: %s", tamper(u))
			}
		}
	}
	// Unsigned: readable, not verifiable.
	u, err := RedirectURL(idpSSO, "SAMLRequest", unsigned, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	m := mustRead(t, httptest.NewRequest(http.MethodGet, u, nil))
	if m.Signed() || !errors.Is(m.Verify(spCerts(t)), ErrUnsigned) {
		t.Error("unsigned redirect message verified")
	}
	if ar, err := m.AuthnRequest(); err != nil || ar.ID != "ID_a1" {
		t.Errorf("AuthnRequest = %+v, %v", ar, err)
	}
}

// TestCrewjamRequestsVerify reads and verifies what crewjam/saml's service
// provider sends, by both bindings.
func TestCrewjamRequestsVerify(t *testing.T) {
	ik, _, _ := realmKeys(t)
	descriptor, err := DescriptorFromKeys(realmURL, []keys.Key{ik})
	if err != nil {
		t.Fatal(err)
	}
	sp := serviceProvider(t, descriptor)
	sp.SignatureMethod = dsig.RSASHA256SignatureMethod
	u, err := sp.MakeRedirectAuthenticationRequest("relay-1")
	if err != nil {
		t.Fatal(err)
	}
	m := mustRead(t, httptest.NewRequest(http.MethodGet, u.String(), nil))
	if err := m.Verify(spCerts(t)); err != nil {
		t.Fatalf("crewjam redirect request: %v", err)
	}
	ar, err := m.AuthnRequest()
	if err != nil || ar.Issuer != spEntity || ar.ACSURL != spACS || m.RelayState != "relay-1" {
		t.Fatalf("AuthnRequest = %+v, %v", ar, err)
	}

	req, err := sp.MakeAuthenticationRequest(idpSSO, crewjam.HTTPPostBinding, crewjam.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.Element())
	raw, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	m = mustRead(t, postRequest("SAMLRequest", raw, ""))
	if err := m.Verify(spCerts(t)); err != nil {
		t.Fatalf("crewjam POST request: %v", err)
	}
	if ar, err := m.AuthnRequest(); err != nil || ar.ID != req.ID {
		t.Fatalf("AuthnRequest = %+v, %v", ar, err)
	}
}

func TestLogoutMessages(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	lr, err := BuildLogoutRequest(LogoutRequestInput{ID: "ID_l1", Issuer: realmURL, Destination: "https://sp.example/slo",
		NameID: "alice", NameIDFormat: NameIDPersistent, SessionIndexes: []string{"s1", "s2"}, Now: now, Signer: spSigner(t)})
	if err != nil {
		t.Fatal(err)
	}
	m := mustRead(t, postRequest("SAMLRequest", lr, ""))
	if err := m.Verify(spCerts(t)); err != nil {
		t.Fatal(err)
	}
	got, err := m.LogoutRequest()
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "ID_l1" || got.NameID != "alice" || got.NameIDFormat != NameIDPersistent ||
		strings.Join(got.SessionIndexes, ",") != "s1,s2" || !got.IssueInstant.Equal(now) || got.Issuer != realmURL {
		t.Errorf("LogoutRequest = %+v", got)
	}
	resp, err := BuildLogoutResponse(LogoutResponseInput{Issuer: realmURL, Destination: "https://sp.example/slo", InResponseTo: "ID_l1", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	u, err := RedirectURL("https://sp.example/slo", "SAMLResponse", resp, "", spSigner(t))
	if err != nil {
		t.Fatal(err)
	}
	m = mustRead(t, httptest.NewRequest(http.MethodGet, u, nil))
	if err := m.Verify(spCerts(t)); err != nil {
		t.Fatal(err)
	}
	lresp, err := m.LogoutResponse()
	if err != nil || lresp.InResponseTo != "ID_l1" || lresp.StatusCode != StatusSuccess || m.Param != "SAMLResponse" {
		t.Errorf("LogoutResponse = %+v, %v", lresp, err)
	}
}

// signedLogoutRequest is a LogoutRequest for "alice" signed by the SP.
func signedLogoutRequest(t *testing.T, nameID string) *etree.Document {
	t.Helper()
	raw, err := BuildLogoutRequest(LogoutRequestInput{ID: "ID_orig", Issuer: spEntity, Destination: idpSSO,
		NameID: nameID, Now: time.Now(), Signer: spSigner(t)})
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	return doc
}

func docBytes(t *testing.T, doc *etree.Document) []byte {
	t.Helper()
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSignatureWrappingRefused moves a signed message around so that an
// unsigned one is read, in the ways XML signature wrapping attacks do.
func TestSignatureWrappingRefused(t *testing.T) {
	// The genuine message verifies.
	genuine := signedLogoutRequest(t, "alice")
	if err := mustRead(t, postRequest("SAMLRequest", docBytes(t, genuine), "")).Verify(spCerts(t)); err != nil {
		t.Fatal(err)
	}
	attacks := map[string]func() []byte{
		"signed message wrapped in an unsigned root": func() []byte {
			doc := signedLogoutRequest(t, "alice")
			orig := doc.Root()
			evil := orig.Copy()
			evil.RemoveChild(child(evil, nsDSig, "Signature"))
			evil.SelectAttr("ID").Value = "ID_evil"
			child(evil, nsAssertion, "NameID").SetText("admin")
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(orig)
			evil.InsertChildAt(1, ext)
			d := etree.NewDocument()
			d.SetRoot(evil)
			return docBytes(t, d)
		},
		"signature moved to an unsigned root with the same ID": func() []byte {
			doc := signedLogoutRequest(t, "alice")
			orig := doc.Root()
			evil := orig.Copy()
			child(evil, nsAssertion, "NameID").SetText("admin")
			// The genuine element hides inside, carrying the same ID.
			inner := orig.Copy()
			inner.RemoveChild(child(inner, nsDSig, "Signature"))
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(inner)
			evil.AddChild(ext)
			d := etree.NewDocument()
			d.SetRoot(evil)
			return docBytes(t, d)
		},
		"second NameID inserted before the signed one": func() []byte {
			doc := signedLogoutRequest(t, "alice")
			n := etree.NewElement("saml:NameID")
			n.SetText("admin")
			doc.Root().InsertChildAt(0, n)
			return docBytes(t, doc)
		},
		"altered NameID": func() []byte {
			doc := signedLogoutRequest(t, "alice")
			child(doc.Root(), nsAssertion, "NameID").SetText("admin")
			return docBytes(t, doc)
		},
		"altered attribute": func() []byte {
			doc := signedLogoutRequest(t, "alice")
			doc.Root().SelectAttr("Destination").Value = "https://evil.example/"
			return docBytes(t, doc)
		},
		"signature referencing another element": func() []byte {
			doc := signedLogoutRequest(t, "alice")
			ref := doc.Root().FindElement(".//Reference")
			ref.SelectAttr("URI").Value = "#ID_other"
			return docBytes(t, doc)
		},
		"two signatures": func() []byte {
			doc := signedLogoutRequest(t, "alice")
			sig := child(doc.Root(), nsDSig, "Signature")
			doc.Root().AddChild(sig.Copy())
			return docBytes(t, doc)
		},
	}
	for name, build := range attacks {
		t.Run(name, func(t *testing.T) {
			m, err := ReadMessage(postRequest("SAMLRequest", build(), ""))
			if err != nil {
				return // refused on reading is refused
			}
			if err := m.Verify(spCerts(t)); err == nil {
				lr, _ := m.LogoutRequest()
				t.Fatalf("verified; would log out %q", lr.NameID)
			}
		})
	}
}

// TestCommentInNameID: a comment inside a NameID does not cut the value
// short (the class of CVE-2017-11427), signed or not.
func TestCommentInNameID(t *testing.T) {
	unsigned := `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="ID_c" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>x</saml:Issuer><saml:NameID>admin@example.com<!-- x -->.evil.com</saml:NameID></samlp:LogoutRequest>`
	m := mustRead(t, postRequest("SAMLRequest", []byte(unsigned), ""))
	lr, err := m.LogoutRequest()
	if err != nil {
		t.Fatal(err)
	}
	if lr.NameID != "admin@example.com.evil.com" {
		t.Errorf("unsigned NameID = %q", lr.NameID)
	}

	// Signed, then a comment inserted: the signature still holds (comments
	// are outside exclusive canonicalization) and the value read is whole.
	doc := signedLogoutRequest(t, "admin@example.com.evil.com")
	nameID := child(doc.Root(), nsAssertion, "NameID")
	nameID.SetText("admin@example.com")
	nameID.AddChild(etree.NewComment(" x "))
	nameID.CreateText(".evil.com")
	m = mustRead(t, postRequest("SAMLRequest", docBytes(t, doc), ""))
	if err := m.Verify(spCerts(t)); err != nil {
		t.Fatal(err)
	}
	if lr, err = m.LogoutRequest(); err != nil || lr.NameID != "admin@example.com.evil.com" {
		t.Errorf("signed NameID = %q, %v", lr.NameID, err)
	}
}

func TestHostileXMLRefused(t *testing.T) {
	body := `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="ID_h" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:NameID>%s</saml:NameID></samlp:LogoutRequest>`
	cases := map[string]string{
		"DOCTYPE":                `<!DOCTYPE samlp:LogoutRequest>` + strings.Replace(body, "%s", "a", 1),
		"entity expansion":       `<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>` + strings.Replace(body, "%s", "&b;&b;&b;", 1),
		"external entity":        `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + strings.Replace(body, "%s", "&x;", 1),
		"undeclared entity":      strings.Replace(body, "%s", "&x;", 1),
		"processing instruction": `<?xml-stylesheet href="x"?>` + strings.Replace(body, "%s", "a", 1),
		"two roots":              strings.Replace(body, "%s", "a", 1) + `<x/>`,
		"not XML":                "hello",
		"too deep":               strings.Replace(body, "%s", strings.Repeat("<a>", 100)+strings.Repeat("</a>", 100), 1),
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ReadMessage(postRequest("SAMLRequest", []byte(doc), "")); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	// The same document without the hostile part reads.
	if _, err := ReadMessage(postRequest("SAMLRequest", []byte(strings.Replace(body, "%s", "a", 1)), "")); err != nil {
		t.Fatal(err)
	}
}

func TestOversizeRefused(t *testing.T) {
	big := []byte(`<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" Version="2.0">` +
		strings.Repeat(" ", MaxMessageSize) + `</samlp:LogoutRequest>`)
	if _, err := ReadMessage(postRequest("SAMLRequest", big, "")); !errors.Is(err, ErrMalformed) {
		t.Errorf("POST: %v", err)
	}
	// A DEFLATE bomb: a few kilobytes that inflate past the bound.
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(big)
	w.Close()
	if buf.Len() > 64<<10 {
		t.Fatalf("bomb is %d bytes", buf.Len())
	}
	q := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes()))
	if _, err := ReadMessage(httptest.NewRequest(http.MethodGet, idpSSO+"?"+q, nil)); !errors.Is(err, ErrMalformed) {
		t.Errorf("redirect: %v", err)
	}
	// A form body beyond the bound is not read whole.
	r := httptest.NewRequest(http.MethodPost, idpSSO, strings.NewReader("SAMLRequest="+strings.Repeat("A", maxForm+10)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := ReadMessage(r); !errors.Is(err, ErrMalformed) {
		t.Errorf("form: %v", err)
	}
	// Long RelayState.
	small := authnRequestXML(t, nil)
	if _, err := ReadMessage(postRequest("SAMLRequest", small, strings.Repeat("r", maxRelayState+1))); !errors.Is(err, ErrMalformed) {
		t.Errorf("RelayState: %v", err)
	}
}

func TestReadMessageShapes(t *testing.T) {
	small := PostValue(authnRequestXML(t, nil))
	cases := map[string]*http.Request{
		"no message":   httptest.NewRequest(http.MethodGet, idpSSO+"?RelayState=x", nil),
		"two messages": httptest.NewRequest(http.MethodGet, idpSSO+"?SAMLRequest=a&SAMLRequest=b", nil),
		"not deflate":  httptest.NewRequest(http.MethodGet, idpSSO+"?SAMLRequest="+url.QueryEscape(small), nil),
		"not base64":   postRequestRaw("SAMLRequest=%%%%"),
		"both params":  postRequestRaw("SAMLRequest=" + url.QueryEscape(small) + "&SAMLResponse=" + url.QueryEscape(small)),
		"PUT":          httptest.NewRequest(http.MethodPut, idpSSO, nil),
	}
	for name, r := range cases {
		if _, err := ReadMessage(r); err == nil {
			t.Errorf("%s: read", name)
		}
	}
}

func postRequestRaw(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, idpSSO, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func TestSOAP(t *testing.T) {
	lr, err := BuildLogoutRequest(LogoutRequestInput{ID: "ID_s1", Issuer: spEntity, Destination: idpSSO,
		NameID: "alice", SessionIndexes: []string{"s1"}, Now: time.Now(), Signer: spSigner(t)})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, idpSSO, bytes.NewReader(SOAPEnvelope(lr)))
	r.Header.Set("Content-Type", "text/xml")
	m, err := ReadSOAP(r)
	if err != nil {
		t.Fatal(err)
	}
	if m.Binding != BindingSOAP || m.Param != "SAMLRequest" {
		t.Errorf("message = %+v", m)
	}
	if err := m.Verify(spCerts(t)); err != nil {
		t.Fatal(err)
	}
	if got, err := m.LogoutRequest(); err != nil || got.NameID != "alice" || got.SessionIndexes[0] != "s1" {
		t.Errorf("LogoutRequest = %+v, %v", got, err)
	}
	// A message using prefixes the envelope declares reads as it would inside it.
	env := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:p="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:a="urn:oasis:names:tc:SAML:2.0:assertion"><s:Body>` +
		`<p:LogoutResponse ID="ID_r" Version="2.0" InResponseTo="ID_s1"><a:Issuer>sp</a:Issuer><p:Status><p:StatusCode Value="` + StatusSuccess + `"/></p:Status></p:LogoutResponse></s:Body></s:Envelope>`
	m, err = ParseSOAP([]byte(env))
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := m.LogoutResponse(); err != nil || m.Param != "SAMLResponse" || resp.Issuer != "sp" || resp.StatusCode != StatusSuccess {
		t.Errorf("LogoutResponse = %+v, %v", resp, err)
	}
	for _, bad := range []string{`<x/>`, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>`,
		`<!DOCTYPE s>` + env} {
		if _, err := ParseSOAP([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestVerifyCertificateChoice: the client's certificates are keys an
// administrator pinned. The message's KeyInfo (a KeyName only, or another
// certificate) does not choose among them, any of them may be the signer's,
// and an expired one still verifies, as it does for Keycloak clients.
func TestVerifyCertificateChoice(t *testing.T) {
	ik, _, sk := realmKeys(t)
	old, err := keys.GenerateRSA("old-sp", time.Now().AddDate(-30, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if c := cert(t, old); time.Now().Before(c.NotAfter) {
		t.Fatalf("certificate not expired: %v", c.NotAfter)
	}
	keyNameOnly := signer(t, sk, RSASHA256)
	keyNameOnly.Cert = nil
	for name, tc := range map[string]struct {
		s     *Signer
		certs []*x509.Certificate
	}{
		"KeyName only, second certificate": {keyNameOnly, []*x509.Certificate{cert(t, ik), cert(t, sk)}},
		"expired certificate":              {signer(t, old, RSASHA256), []*x509.Certificate{cert(t, old)}},
	} {
		t.Run(name, func(t *testing.T) {
			raw := authnRequestXML(t, tc.s)
			if tc.s.Cert == nil && strings.Contains(string(raw), "X509Certificate") {
				t.Fatal("certificate sent though the signer has none")
			}
			if err := mustRead(t, postRequest("SAMLRequest", raw, "")).Verify(tc.certs); err != nil {
				t.Fatalf("POST: %v", err)
			}
			u, err := RedirectURL(idpSSO, "SAMLRequest", authnRequestXML(t, nil), "", tc.s)
			if err != nil {
				t.Fatal(err)
			}
			if err := mustRead(t, httptest.NewRequest(http.MethodGet, u, nil)).Verify(tc.certs); err != nil {
				t.Fatalf("redirect: %v", err)
			}
		})
	}
}

// derToRS is XML Signature's form of a DER ECDSA signature: r and s, each
// padded to the curve's size, concatenated.
func derToRS(t *testing.T, der []byte, size int) []byte {
	t.Helper()
	var v struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &v); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 2*size)
	v.R.FillBytes(out[:size])
	v.S.FillBytes(out[size:])
	return out
}

// TestECDSARawSignatures: ECDSA signatures in XML Signature's r||s form
// (what Java and PHP service providers send) verify, by both bindings.
func TestECDSARawSignatures(t *testing.T) {
	for curve, size := range map[string]int{"P-256": 32, "P-384": 48, "P-521": 66} {
		k := ecKey(t, curve)
		alg := map[string]string{"P-256": ECDSASHA256, "P-384": ECDSASHA384, "P-521": ECDSASHA512}[curve]
		s := signer(t, k, alg)
		certs := []*x509.Certificate{cert(t, k)}

		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(authnRequestXML(t, s)); err != nil {
			t.Fatal(err)
		}
		sv := doc.Root().FindElement(".//SignatureValue")
		der, _ := base64.StdEncoding.DecodeString(sv.Text())
		sv.SetText(base64.StdEncoding.EncodeToString(derToRS(t, der, size)))
		m := mustRead(t, postRequest("SAMLRequest", docBytes(t, doc), ""))
		if err := m.Verify(certs); err != nil {
			t.Errorf("%s POST r||s: %v", curve, err)
		}
		// The same value over altered content fails.
		child(doc.Root(), nsAssertion, "Issuer").SetText("evil")
		if err := mustRead(t, postRequest("SAMLRequest", docBytes(t, doc), "")).Verify(certs); err == nil {
			t.Errorf("%s POST r||s: altered content verified", curve)
		}

		u, err := RedirectURL(idpSSO, "SAMLRequest", authnRequestXML(t, nil), "rs", s)
		if err != nil {
			t.Fatal(err)
		}
		base, sig, _ := strings.Cut(u, "&Signature=")
		sig, _ = url.QueryUnescape(sig)
		der, _ = base64.StdEncoding.DecodeString(sig)
		raw := base + "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(derToRS(t, der, size)))
		if err := mustRead(t, httptest.NewRequest(http.MethodGet, raw, nil)).Verify(certs); err != nil {
			t.Errorf("%s redirect r||s: %v", curve, err)
		}
	}
}
