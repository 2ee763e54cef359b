package saml

import (
	"crypto/x509"
	"testing"
)

// FuzzParse feeds arbitrary bytes to every reader of untrusted XML: none
// may panic, and what parses must stay within the bounds.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="a" Version="2.0"/>`))
	f.Add([]byte(`<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="a" Version="2.0"><saml:NameID>x<!---->y</saml:NameID><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:Reference URI="#a"/></ds:SignedInfo></ds:Signature></samlp:LogoutRequest>`))
	f.Add([]byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="e"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`))
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x/></s:Body></s:Envelope>`))
	_, _, sk := realmKeys(f)
	c, err := x509.ParseCertificate(sk.Certificate)
	if err != nil {
		f.Fatal(err)
	}
	certs := []*x509.Certificate{c}
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseMessage("SAMLRequest", b); err == nil {
			_, _ = m.AuthnRequest()
			_, _ = m.LogoutRequest()
			_, _ = m.LogoutResponse()
			_, _ = m.Response()
			_ = m.Signed()
			if m.Verify(certs) == nil {
				t.Fatal("random bytes verified")
			}
		}
		_, _ = ParseSPMetadata(b)
		_, _ = ParseIdPMetadata(b)
		_, _ = ParseSOAP(b)
	})
}
