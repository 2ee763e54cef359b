package saml

import (
	"crypto/x509"
	"encoding/xml"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
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
		{"extra audience", descriptor, func(in *ResponseInput) {
			in.ExtraAudiences = []string{"urn:other", spEntity}
			in.SignAssertion, in.Signer = true, signer(t, ik, RSASHA256)
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
