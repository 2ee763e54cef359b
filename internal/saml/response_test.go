package saml

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

const (
	realmURL = "https://idp.example/realms/demo"
	spEntity = "https://sp.example/saml/metadata"
	spACS    = "https://sp.example/saml/acs"
)

// serviceProvider is crewjam/saml's service provider trusting the realm's
// descriptor, the judge of what Gatehouse sends.
func serviceProvider(t *testing.T, descriptor []byte) *crewjam.ServiceProvider {
	t.Helper()
	_, _, sk := realmKeys(t)
	md, err := samlsp.ParseMetadata(descriptor)
	if err != nil {
		t.Fatalf("the SP cannot read the descriptor: %v", err)
	}
	acs, _ := url.Parse(spACS)
	meta, _ := url.Parse(spEntity)
	return &crewjam.ServiceProvider{
		EntityID:    spEntity,
		Key:         rsaPriv(t, sk),
		Certificate: cert(t, sk),
		AcsURL:      *acs,
		MetadataURL: *meta,
		IDPMetadata: md,
	}
}

func baseInput(now time.Time) ResponseInput {
	return ResponseInput{
		Issuer: realmURL, Destination: spACS, InResponseTo: "ID_req1", Audience: spEntity,
		NameID: "alice", NameIDFormat: NameIDUnspecified, SessionIndex: "sess1::cs1",
		AuthnInstant: now.Add(-time.Minute), Now: now, Lifespan: 5 * time.Minute,
		SessionNotOnOrAfter: now.Add(10 * time.Hour), AuthnStatement: true,
		Attributes: []Attribute{
			{Name: "Role", NameFormat: AttrNameFormatBasic, Values: []string{"admin", "user"}},
			{Name: "urn:oid:0.9.2342.19200300.100.1.3", FriendlyName: "email", NameFormat: AttrNameFormatURI, Values: []string{"alice@example.com"}},
		},
	}
}

func TestResponseAcceptedByServiceProvider(t *testing.T) {
	ik, _, sk := realmKeys(t)
	descriptor, err := DescriptorFromKeys(realmURL, []keys.Key{ik})
	if err != nil {
		t.Fatal(err)
	}
	ec := ecKey(t, "P-256")
	ecDescriptor, err := IdPDescriptor(realmURL, realmURL+"/protocol/saml", realmURL+"/protocol/saml", []*x509.Certificate{cert(t, ec)})
	if err != nil {
		t.Fatal(err)
	}
	spCert := cert(t, sk)
	cases := []struct {
		name       string
		descriptor []byte
		edit       func(*ResponseInput)
	}{
		{"signed assertion", descriptor, func(in *ResponseInput) { in.SignAssertion = true; in.Signer = signer(t, ik, RSASHA256) }},
		{"signed document", descriptor, func(in *ResponseInput) { in.SignDocument = true; in.Signer = signer(t, ik, RSASHA256) }},
		{"both signed, RSA_SHA512", descriptor, func(in *ResponseInput) {
			in.SignDocument, in.SignAssertion = true, true
			in.Signer = signer(t, ik, RSASHA512)
		}},
		{"RSA_SHA1, inclusive c14n, subject key name", descriptor, func(in *ResponseInput) {
			in.SignDocument = true
			s := signer(t, ik, RSASHA1)
			s.Canonicalization, s.KeyName = CanonInclusive, KeyNameCertSubject
			in.Signer = s
		}},
		{"IdP-initiated (no InResponseTo)", descriptor, func(in *ResponseInput) {
			in.InResponseTo, in.SignDocument, in.Signer = "", true, signer(t, ik, RSASHA256)
		}},
		{"one-time use", descriptor, func(in *ResponseInput) {
			in.OneTimeUse, in.SignDocument, in.Signer = true, true, signer(t, ik, RSASHA256)
		}},
		{"extra audience", descriptor, func(in *ResponseInput) {
			in.ExtraAudiences = []string{"urn:other", spEntity}
			in.SignAssertion, in.Signer = true, signer(t, ik, RSASHA256)
		}},
		{"inclusive c14n with comments, signed assertion and document", descriptor, func(in *ResponseInput) {
			in.SignAssertion, in.SignDocument = true, true
			s := signer(t, ik, RSASHA256)
			s.Canonicalization = CanonInclusiveWithComments
			in.Signer = s
		}},
		{"inclusive c14n, encrypted signed assertion", descriptor, func(in *ResponseInput) {
			in.SignAssertion, in.EncryptTo = true, spCert
			s := signer(t, ik, RSASHA256)
			s.Canonicalization = CanonInclusive
			in.Signer = s
		}},
		{"exclusive c14n with comments, signed assertion", descriptor, func(in *ResponseInput) {
			in.SignAssertion = true
			s := signer(t, ik, RSASHA256)
			s.Canonicalization = CanonExclusiveWithComments
			in.Signer = s
		}},
		{"ECDSA_SHA256 document", ecDescriptor, func(in *ResponseInput) { in.SignDocument = true; in.Signer = signer(t, ec, ECDSASHA256) }},
		{"encrypted default (AES-256-GCM), signed document", descriptor, func(in *ResponseInput) {
			in.SignDocument, in.EncryptTo = true, spCert
			in.Signer = signer(t, ik, RSASHA256)
		}},
		{"encrypted AES-128-CBC, signed assertion and document", descriptor, func(in *ResponseInput) {
			in.SignDocument, in.SignAssertion, in.EncryptTo = true, true, spCert
			in.EncryptionAlgorithm = EncAES128CBC
			in.Signer = signer(t, ik, RSASHA256)
		}},
		{"encrypted AES-256-CBC with RSA-OAEP 1.1 SHA-256, signed assertion", descriptor, func(in *ResponseInput) {
			in.SignAssertion, in.EncryptTo = true, spCert
			in.EncryptionAlgorithm, in.KeyEncryptionAlgorithm, in.KeyEncryptionDigest = EncAES256CBC, KeyRSAOAEP11, DigestSHA256
			in.Signer = signer(t, ik, RSASHA256)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sp := serviceProvider(t, tc.descriptor)
			now := time.Now()
			in := baseInput(now)
			tc.edit(&in)
			sp.AllowIDPInitiated = in.InResponseTo == ""
			requestIDs := []string{"ID_req1"}
			if in.InResponseTo == "" {
				requestIDs = nil
			}
			out, err := BuildResponse(in)
			if err != nil {
				t.Fatal(err)
			}
			if in.OneTimeUse != strings.Contains(string(out), "<saml:OneTimeUse") {
				t.Errorf("OneTimeUse %v not as asked", in.OneTimeUse)
			}
			if in.EncryptTo != nil && strings.Contains(string(out), "alice@example.com") {
				t.Fatal("encrypted response shows an attribute in the clear")
			}
			a, err := sp.ParseXMLResponse(out, requestIDs, sp.AcsURL)
			if err != nil {
				t.Fatalf("SP refused the response: %v\n%s", err, out)
			}
			if a.Subject.NameID.Value != "alice" || a.Subject.NameID.Format != NameIDUnspecified {
				t.Errorf("NameID = %+v", a.Subject.NameID)
			}
			sc := a.Subject.SubjectConfirmations[0].SubjectConfirmationData
			if sc.Recipient != spACS || sc.InResponseTo != in.InResponseTo || !sc.NotOnOrAfter.Equal(now.Add(5*time.Minute).Truncate(time.Millisecond)) {
				t.Errorf("SubjectConfirmationData = %+v", sc)
			}
			if len(a.AuthnStatements) != 1 || a.AuthnStatements[0].SessionIndex != "sess1::cs1" {
				t.Errorf("AuthnStatements = %+v", a.AuthnStatements)
			}
			var roles, mails []string
			for _, st := range a.AttributeStatements {
				for _, at := range st.Attributes {
					for _, v := range at.Values {
						switch at.Name {
						case "Role":
							roles = append(roles, v.Value)
						case "urn:oid:0.9.2342.19200300.100.1.3":
							mails = append(mails, v.Value)
							if at.FriendlyName != "email" || at.NameFormat != AttrNameFormatURI {
								t.Errorf("email attribute = %+v", at)
							}
						}
					}
				}
			}
			if !slices.Equal(roles, []string{"admin", "user"}) || !slices.Equal(mails, []string{"alice@example.com"}) {
				t.Errorf("roles %v, mails %v", roles, mails)
			}
		})
	}
}

// TestResponseRefusedByServiceProvider shows the judge refuses what it
// should, so that its acceptance above means something.
func TestResponseRefusedByServiceProvider(t *testing.T) {
	ik, ik2, _ := realmKeys(t)
	descriptor, err := DescriptorFromKeys(realmURL, []keys.Key{ik})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(*ResponseInput){
		"unsigned":             func(in *ResponseInput) {},
		"other key":            func(in *ResponseInput) { in.SignDocument = true; in.Signer = signer(t, ik2, RSASHA256) },
		"wrong audience":       func(in *ResponseInput) { in.SignDocument = true; in.Audience = "https://other.example" },
		"expired":              func(in *ResponseInput) { in.SignDocument = true; in.Now = in.Now.Add(-time.Hour) },
		"wrong in-response-to": func(in *ResponseInput) { in.SignDocument = true; in.InResponseTo = "ID_other" },
		"wrong destination": func(in *ResponseInput) {
			in.SignDocument = true
			in.Destination = "https://evil.example/acs"
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			sp := serviceProvider(t, descriptor)
			in := baseInput(time.Now())
			in.Signer = signer(t, ik, RSASHA256)
			edit(&in)
			if !in.SignDocument {
				in.Signer = nil
			}
			out, err := BuildResponse(in)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sp.ParseXMLResponse(out, []string{"ID_req1"}, sp.AcsURL); err == nil {
				t.Fatal("the SP accepted it")
			}
		})
	}
}

func TestErrorResponse(t *testing.T) {
	ik, _, _ := realmKeys(t)
	in := baseInput(time.Now())
	in.StatusCode, in.StatusMessage = StatusNoPassive, "not logged in"
	in.SignDocument, in.Signer = true, signer(t, ik, RSASHA256)
	out, err := BuildResponse(in)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseMessage("SAMLResponse", out)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify([]*x509.Certificate{cert(t, ik)}); err != nil {
		t.Fatal(err)
	}
	if r, err := m.Response(); err != nil || r.StatusCode != StatusResponder || r.SubStatusCode != StatusNoPassive ||
		r.StatusMessage != "not logged in" || r.InResponseTo != "ID_req1" || r.Issuer != realmURL {
		t.Errorf("Response = %+v, %v", r, err)
	}
	var resp crewjam.Response
	if err := xml.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Assertion != nil || resp.EncryptedAssertion != nil {
		t.Error("an error response carries an assertion")
	}
	if resp.Status.StatusCode.Value != StatusResponder || resp.Status.StatusCode.StatusCode == nil ||
		resp.Status.StatusCode.StatusCode.Value != StatusNoPassive {
		t.Errorf("status = %+v", resp.Status.StatusCode)
	}
}

func TestSignerRefusals(t *testing.T) {
	ik, _, _ := realmKeys(t)
	ec := ecKey(t, "P-384")
	if _, err := SignerFromKey(ik, DSASHA1); err == nil || !strings.Contains(err.Error(), "DSA_SHA1 is not supported") {
		t.Errorf("DSA_SHA1: %v", err)
	}
	if _, err := SignerFromKey(ik, ECDSASHA256); err == nil {
		t.Error("an RSA key signed ECDSA")
	}
	if _, err := SignerFromKey(ec, RSASHA256); err == nil {
		t.Error("an EC key signed RSA")
	}
	if _, err := SignerFromKey(ik, "RSA_MD5"); err == nil {
		t.Error("unknown algorithm accepted")
	}
	s, err := SignerFor([]keys.Key{ik, ec}, ECDSASHA384)
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID != ec.Kid {
		t.Errorf("SignerFor picked %q", s.KeyID)
	}
}

// TestResponseFromClientSettings goes from a client's attributes to a
// Response the service provider accepts, through Settings, Fill and Signer.
func TestResponseFromClientSettings(t *testing.T) {
	ik, _, sk := realmKeys(t)
	descriptor, err := DescriptorFromKeys(realmURL, []keys.Key{ik})
	if err != nil {
		t.Fatal(err)
	}
	c := samlClient(map[string]string{
		AttrServerSignature: "false", AttrAssertionSignature: "true", AttrSignatureAlgorithm: RSASHA512,
		AttrKeyNameTransformer: KeyNameNone, AttrEncrypt: "true", AttrAssertionLifespan: "90",
		AttrEncryptionCertificate: base64.StdEncoding.EncodeToString(sk.Certificate),
		AttrEncryptionAlgorithm:   EncAES128CBC,
	})
	s, err := Settings(c)
	if err != nil {
		t.Fatal(err)
	}
	sg, err := s.Signer([]keys.Key{ecKey(t, "P-256"), ik})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	in := baseInput(now)
	in.Audience, in.Lifespan = "", time.Hour
	s.Fill(&in)
	in.Signer = sg
	out, err := BuildResponse(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), EncAES128CBC) || strings.Contains(string(out), "KeyName") {
		t.Errorf("client's encryption algorithm or key name not applied:\n%s", out)
	}
	sp := serviceProvider(t, descriptor)
	a, err := sp.ParseXMLResponse(out, []string{"ID_req1"}, sp.AcsURL)
	if err != nil {
		t.Fatalf("SP refused: %v", err)
	}
	if a.Signature == nil || !a.Conditions.NotOnOrAfter.Equal(now.Add(90*time.Second).Truncate(time.Millisecond)) {
		t.Errorf("assertion signature %v, NotOnOrAfter %v", a.Signature != nil, a.Conditions.NotOnOrAfter)
	}
	// A client that signs nothing gets no signer.
	c.Attributes[AttrAssertionSignature] = "false"
	if s, _ = Settings(c); s.AssertionSignature {
		t.Fatal("setting ignored")
	}
	if sg, err := s.Signer([]keys.Key{ik}); sg != nil || err != nil {
		t.Errorf("Signer = %v, %v", sg, err)
	}
}

// TestLogoutAcceptedByServiceProvider: the LogoutRequests and
// LogoutResponses the IdP sends, by Redirect, POST and SOAP, are what
// crewjam/saml's service provider accepts.
func TestLogoutAcceptedByServiceProvider(t *testing.T) {
	ik, ik2, _ := realmKeys(t)
	descriptor, err := DescriptorFromKeys(realmURL, []keys.Key{ik})
	if err != nil {
		t.Fatal(err)
	}
	slo := "https://sp.example/saml/slo"
	for _, tc := range []struct {
		name    string
		key     keys.Key
		binding string
		ok      bool
	}{
		{"redirect", ik, BindingRedirect, true},
		{"post", ik, BindingPOST, true},
		{"soap", ik, BindingSOAP, true},
		{"redirect, other key", ik2, BindingRedirect, false},
		{"post, other key", ik2, BindingPOST, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := serviceProvider(t, descriptor)
			sp.SloURL = mustURL(t, slo)
			s := signer(t, tc.key, RSASHA256)
			in := LogoutRequestInput{ID: NewID(), Issuer: realmURL, Destination: slo, NameID: "alice",
				NameIDFormat: NameIDUnspecified, SessionIndexes: []string{"s1::c1"}, Now: time.Now()}
			// Signed as for POST: RedirectURL drops that signature for the
			// query's.
			in.Signer = s
			doc, err := BuildLogoutRequest(in)
			if err != nil {
				t.Fatal(err)
			}
			var lr *crewjam.LogoutRequest
			switch tc.binding {
			case BindingRedirect:
				var u string
				if u, err = RedirectURL(slo, "SAMLRequest", doc, "rs", s); err != nil {
					t.Fatal(err)
				}
				if m := mustRead(t, httptest.NewRequest(http.MethodGet, u, nil)); strings.Contains(string(m.Raw), "Signature") {
					t.Errorf("the redirect binding carries an XML signature:\n%s", m.Raw)
				}
				lr, err = sp.ValidateLogoutRequest(httptest.NewRequest(http.MethodGet, u, nil))
			case BindingPOST:
				lr, err = sp.ValidateLogoutRequest(postRequest("SAMLRequest", doc, "rs"))
			case BindingSOAP:
				lr, err = sp.ParseXMLSOAPLogoutRequest(SOAPEnvelope(doc))
			}
			if !tc.ok {
				if err == nil {
					t.Fatal("SP accepted a LogoutRequest signed by another key")
				}
				return
			}
			if err != nil {
				t.Fatalf("SP refused: %v\n%s", err, doc)
			}
			if lr.NameID == nil || lr.NameID.Value != "alice" || lr.SessionIndex == nil || lr.SessionIndex.Value != "s1::c1" {
				t.Errorf("LogoutRequest = %+v", lr)
			}

			// The IdP's answer to the SP's own LogoutRequest.
			resp, err := BuildLogoutResponse(LogoutResponseInput{Issuer: realmURL, Destination: slo, InResponseTo: "ID_spreq", Now: time.Now(),
				Signer: map[bool]*Signer{true: s, false: nil}[tc.binding == BindingPOST]})
			if err != nil {
				t.Fatal(err)
			}
			switch tc.binding {
			case BindingRedirect:
				u, err := RedirectURL(slo, "SAMLResponse", resp, "", s)
				if err != nil {
					t.Fatal(err)
				}
				_, err = sp.ParseLogoutResponse(httptest.NewRequest(http.MethodGet, u, nil), []string{"ID_spreq"})
				if err != nil {
					t.Errorf("SP refused the redirect LogoutResponse: %v", err)
				}
			case BindingPOST:
				if _, err := sp.ParseLogoutResponse(postRequest("SAMLResponse", resp, ""), []string{"ID_spreq"}); err != nil {
					t.Errorf("SP refused the POST LogoutResponse: %v", err)
				}
			}
		})
	}
}

func mustURL(t *testing.T, s string) url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return *u
}

// TestRedirectResponse: a Response sent by the Redirect binding keeps its
// assertion's signature, loses the document's for the query's, and the
// service provider accepts it.
func TestRedirectResponse(t *testing.T) {
	ik, _, _ := realmKeys(t)
	descriptor, err := DescriptorFromKeys(realmURL, []keys.Key{ik})
	if err != nil {
		t.Fatal(err)
	}
	in := baseInput(time.Now())
	in.SignDocument, in.SignAssertion, in.Signer = true, true, signer(t, ik, RSASHA256)
	out, err := BuildResponse(in)
	if err != nil {
		t.Fatal(err)
	}
	u, err := RedirectURL(spACS, "SAMLResponse", out, "rs", in.Signer)
	if err != nil {
		t.Fatal(err)
	}
	m := mustRead(t, httptest.NewRequest(http.MethodGet, u, nil))
	if err := m.Verify([]*x509.Certificate{cert(t, ik)}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(m.Raw), "<ds:Signature "); n != 1 || child(m.doc.Root(), nsDSig, "Signature") != nil {
		t.Fatalf("%d signatures, root signed %v", n, child(m.doc.Root(), nsDSig, "Signature") != nil)
	}
	sp := serviceProvider(t, descriptor)
	if _, err := sp.ParseXMLResponse(m.Raw, []string{"ID_req1"}, sp.AcsURL); err != nil {
		t.Fatalf("SP refused: %v", err)
	}
}

// TestServiceProviderRoundTrip runs a whole SP-initiated login at the
// protocol level: crewjam/saml's service provider sends a signed
// AuthnRequest by the Redirect binding; the client is registered from the
// SP's metadata; the request is verified, its ACS checked, the NameID and
// attributes made from the client's settings and mappers; the Response is
// posted back and the SP's ParseResponse accepts it.
func TestServiceProviderRoundTrip(t *testing.T) {
	ik, _, sk := realmKeys(t)
	descriptor, err := DescriptorFromKeys(realmURL, []keys.Key{ik})
	if err != nil {
		t.Fatal(err)
	}
	sp := serviceProvider(t, descriptor)
	sp.SignatureMethod = dsig.RSASHA256SignatureMethod
	sp.EncryptionCertificate = cert(t, sk)
	sp.AuthnNameIDFormat = crewjam.EmailAddressNameIDFormat

	// Registration from the SP's metadata.
	spXML, err := xml.Marshal(sp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	md, err := ParseSPMetadata(spXML)
	if err != nil {
		t.Fatal(err)
	}
	c := samlClient(map[string]string{
		AttrACSPost:               md.ACS[BindingPOST],
		AttrSigningCertificate:    base64.StdEncoding.EncodeToString(md.SigningCerts[0].Raw),
		AttrEncryptionCertificate: base64.StdEncoding.EncodeToString(md.EncryptionCerts[0].Raw),
		AttrEncrypt:               "true",
		AttrAssertionSignature:    "true",
		AttrNameIDFormat:          "username",
	})
	c.ClientID = md.EntityID
	c.ProtocolMappers = []client.ProtocolMapper{
		{Name: "email", Protocol: "saml", ProtocolMapper: MapperUserProperty,
			Config: map[string]string{"user.attribute": "email", "attribute.name": "email"}},
		{Name: "roles", Protocol: "saml", ProtocolMapper: MapperRoleList,
			Config: map[string]string{"attribute.name": "Role", "single": "true"}},
	}
	if err := ValidateClient(c); err != nil {
		t.Fatal(err)
	}
	settings, err := Settings(c)
	if err != nil {
		t.Fatal(err)
	}

	// The request.
	u, err := sp.MakeRedirectAuthenticationRequest("relay-42")
	if err != nil {
		t.Fatal(err)
	}
	m := mustRead(t, httptest.NewRequest(http.MethodGet, u.String(), nil))
	if !settings.ClientSignature || m.Verify(settings.SigningCerts) != nil {
		t.Fatal("request signature")
	}
	ar, err := m.AuthnRequest()
	if err != nil || ar.Issuer != c.ClientID {
		t.Fatalf("AuthnRequest = %+v, %v", ar, err)
	}
	binding := ar.ProtocolBinding
	if binding == "" {
		binding = m.Binding
	}
	acs, bind, err := settings.ACS(ar.ACSURL, binding)
	if err != nil || bind != BindingPOST {
		t.Fatalf("ACS = %q %q %v", acs, bind, err)
	}

	// The answer.
	u1 := user.User{ID: "u1", RealmID: "r1", Username: "alice", Email: "alice@example.com"}
	nameID, format, err := NameID(settings, ar.NameIDFormat, u1)
	if err != nil || format != NameIDEmail {
		t.Fatalf("NameID = %q %q %v", nameID, format, err)
	}
	in := ResponseInput{Issuer: realmURL, Destination: acs, InResponseTo: ar.ID, NameID: nameID, NameIDFormat: format,
		SessionIndex: "us::cs", Now: time.Now(), Lifespan: time.Minute,
		Attributes: MapAttributes(c.ProtocolMappers, Subject{User: u1, RealmRoles: []string{"admin"}})}
	settings.Fill(&in)
	if in.Signer, err = settings.Signer([]keys.Key{ik}); err != nil {
		t.Fatal(err)
	}
	out, err := BuildResponse(in)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"SAMLResponse": {PostValue(out)}, "RelayState": {m.RelayState}}
	post := httptest.NewRequest(http.MethodPost, acs, strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := post.ParseForm(); err != nil {
		t.Fatal(err)
	}
	a, err := sp.ParseResponse(post, []string{ar.ID})
	if err != nil {
		var ire *crewjam.InvalidResponseError
		if errors.As(err, &ire) {
			err = ire.PrivateErr
		}
		t.Fatalf("SP refused: %v", err)
	}
	if a.Subject.NameID.Value != "alice@example.com" {
		t.Errorf("NameID %q", a.Subject.NameID.Value)
	}
	got := map[string]string{}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			got[at.Name] = at.Values[0].Value
		}
	}
	if got["email"] != "alice@example.com" || got["Role"] != "admin" {
		t.Errorf("attributes %v", got)
	}
}

// TestResponseWrappingRefused: an unsigned assertion slipped into a signed
// Response, before or instead of the signed one, is refused by Verify and
// by the service provider.
func TestResponseWrappingRefused(t *testing.T) {
	ik, _, _ := realmKeys(t)
	descriptor, err := DescriptorFromKeys(realmURL, []keys.Key{ik})
	if err != nil {
		t.Fatal(err)
	}
	build := func(signDoc bool) *etree.Document {
		in := baseInput(time.Now())
		in.SignDocument, in.SignAssertion, in.Signer = signDoc, !signDoc, signer(t, ik, RSASHA256)
		out, err := BuildResponse(in)
		if err != nil {
			t.Fatal(err)
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(out); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	evilAssertion := func(a *etree.Element) *etree.Element {
		e := a.Copy()
		if sig := child(e, nsDSig, "Signature"); sig != nil {
			e.RemoveChild(sig)
		}
		e.SelectAttr("ID").Value = "ID_evil"
		e.FindElement(".//NameID").SetText("admin")
		return e
	}
	attacks := map[string]func() []byte{
		"second assertion before the signed one (signed document)": func() []byte {
			doc := build(true)
			a := child(doc.Root(), nsAssertion, "Assertion")
			doc.Root().InsertChildAt(a.Index(), evilAssertion(a))
			return docBytes(t, doc)
		},
		"unsigned assertion first, signed one moved into its Extensions (signed assertion)": func() []byte {
			doc := build(false)
			a := child(doc.Root(), nsAssertion, "Assertion")
			evil := evilAssertion(a)
			doc.Root().RemoveChild(a)
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(a)
			doc.Root().InsertChildAt(1, ext)
			doc.Root().AddChild(evil)
			return docBytes(t, doc)
		},
		"signed assertion's NameID changed (signed assertion)": func() []byte {
			doc := build(false)
			doc.Root().FindElement(".//NameID").SetText("admin")
			return docBytes(t, doc)
		},
	}
	for name, attack := range attacks {
		t.Run(name, func(t *testing.T) {
			raw := attack()
			if m, err := ParseMessage("SAMLResponse", raw); err == nil && m.Verify([]*x509.Certificate{cert(t, ik)}) == nil {
				t.Error("Verify accepted it")
			}
			sp := serviceProvider(t, descriptor)
			if a, err := sp.ParseXMLResponse(raw, []string{"ID_req1"}, sp.AcsURL); err == nil {
				t.Errorf("the SP accepted it for %q", a.Subject.NameID.Value)
			}
		})
	}
}
