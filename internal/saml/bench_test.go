package saml

import (
	"crypto/x509"
	"testing"
	"time"
)

func BenchmarkBuildResponseSigned(b *testing.B) {
	ik, _, _ := realmKeys(b)
	s, err := SignerFromKey(ik, RSASHA256)
	if err != nil {
		b.Fatal(err)
	}
	in := baseInput(time.Now())
	in.SignDocument, in.SignAssertion, in.Signer = true, true, &s
	for b.Loop() {
		if _, err := BuildResponse(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadVerifyPOST(b *testing.B) {
	_, _, sk := realmKeys(b)
	s, err := SignerFromKey(sk, RSASHA256)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := BuildAuthnRequest(AuthnRequestInput{Issuer: spEntity, Destination: idpSSO, ACSURL: spACS, Now: time.Now(), Signer: &s})
	if err != nil {
		b.Fatal(err)
	}
	certs := []*x509.Certificate{s.Cert}
	for b.Loop() {
		m, err := ParseMessage("SAMLRequest", raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Verify(certs); err != nil {
			b.Fatal(err)
		}
		if _, err := m.AuthnRequest(); err != nil {
			b.Fatal(err)
		}
	}
}
