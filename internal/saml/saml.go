// Package saml is Gatehouse's SAML 2.0 protocol library: reading and
// verifying the messages a service provider sends (both bindings), building
// and signing the Responses, LogoutRequests and LogoutResponses the
// identity provider sends back, the metadata documents of both sides, the
// SAML protocol mappers and NameID rules, and a SAML client's settings as
// its attributes hold them. It stores nothing and serves no route.
//
// XML signatures are made and checked by goxmldsig, XML encryption by
// crewjam/saml's xmlenc; every document read from the network is parsed
// with DOCTYPEs refused, size-bounded, and read only from what a signature
// covers.
package saml

import (
	"crypto/rand"
	"encoding/hex"
)

// Bindings.
const (
	BindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	BindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	BindingArtifact = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"
	BindingSOAP     = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP"
)

// NameID formats.
const (
	NameIDUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	NameIDEmail       = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	NameIDPersistent  = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	NameIDTransient   = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
)

// Status codes.
const (
	StatusSuccess             = "urn:oasis:names:tc:SAML:2.0:status:Success"
	StatusRequester           = "urn:oasis:names:tc:SAML:2.0:status:Requester"
	StatusResponder           = "urn:oasis:names:tc:SAML:2.0:status:Responder"
	StatusAuthnFailed         = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
	StatusNoPassive           = "urn:oasis:names:tc:SAML:2.0:status:NoPassive"
	StatusRequestDenied       = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"
	StatusInvalidNameIDPolicy = "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"
	StatusPartialLogout       = "urn:oasis:names:tc:SAML:2.0:status:PartialLogout"
)

// Attribute name formats (Keycloak's attribute.nameformat options map to these).
const (
	AttrNameFormatBasic       = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
	AttrNameFormatURI         = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
	AttrNameFormatUnspecified = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"
)

// Namespaces.
const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	nsXSI       = "http://www.w3.org/2001/XMLSchema-instance"
	nsXS        = "http://www.w3.org/2001/XMLSchema"
)

// NewID is a fresh message or assertion ID: "ID_" and 32 random hex
// digits (an xs:ID must not start with a digit).
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "ID_" + hex.EncodeToString(b)
}
