package saml

import (
	"crypto/x509"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

// IdPDescriptor is an IdP EntityDescriptor: the certificates for signing,
// single sign-on and logout services at ssoURL and sloURL for the POST,
// Redirect, SOAP and Artifact bindings, and the NameID formats.
func IdPDescriptor(entityID, ssoURL, sloURL string, certs []*x509.Certificate) ([]byte, error) {
	return nil, errNotImplemented
}

// DescriptorFromKeys is a realm's IdP descriptor (what
// /realms/{realm}/protocol/saml/descriptor serves): entity ID realmURL,
// services at realmURL + "/protocol/saml", and the certificate of every
// enabled RSA signing key.
func DescriptorFromKeys(realmURL string, ks []keys.Key) ([]byte, error) {
	return nil, errNotImplemented
}

// SPMetadata is what Gatehouse reads of an SP EntityDescriptor.
type SPMetadata struct {
	EntityID                                  string
	ACS, SLO                                  map[string]string // binding → URL
	SigningCerts, EncryptionCerts             []*x509.Certificate
	NameIDFormat                              string
	AuthnRequestsSigned, WantAssertionsSigned bool
}

// ParseSPMetadata reads an SP EntityDescriptor (or the first SP of an
// EntitiesDescriptor).
func ParseSPMetadata(b []byte) (SPMetadata, error) { return SPMetadata{}, errNotImplemented }

// IdPMetadata is what Gatehouse reads of an IdP EntityDescriptor.
type IdPMetadata struct {
	EntityID                string
	SSO, SLO                map[string]string // binding → URL
	SigningCerts            []*x509.Certificate
	EncryptionCerts         []*x509.Certificate
	NameIDFormats           []string
	WantAuthnRequestsSigned bool
}

// ParseIdPMetadata reads an IdP EntityDescriptor (or the first IdP of an
// EntitiesDescriptor).
func ParseIdPMetadata(b []byte) (IdPMetadata, error) { return IdPMetadata{}, errNotImplemented }
