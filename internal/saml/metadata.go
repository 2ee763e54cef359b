package saml

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/beevik/etree"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

// maxMetadataSize bounds a metadata document read from an administrator
// or a URL: one entity's metadata is a few kilobytes.
const maxMetadataSize = 2 << 20

// descriptorNameIDFormats are the NameID formats an IdP descriptor lists.
var descriptorNameIDFormats = []string{NameIDPersistent, NameIDTransient, NameIDUnspecified, NameIDEmail}

// IdPDescriptor is an IdP EntityDescriptor: the certificates for signing,
// single sign-on and logout services at ssoURL and sloURL for the POST,
// Redirect, SOAP and Artifact bindings, and the NameID formats.
func IdPDescriptor(entityID, ssoURL, sloURL string, certs []*x509.Certificate) ([]byte, error) {
	named := make([]namedCert, len(certs))
	for i, c := range certs {
		named[i] = namedCert{cert: c}
	}
	return idpDescriptor(entityID, ssoURL, sloURL, named)
}

type namedCert struct {
	name string
	cert *x509.Certificate
}

func idpDescriptor(entityID, ssoURL, sloURL string, certs []namedCert) ([]byte, error) {
	ed := etree.NewElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns", nsMetadata)
	ed.CreateAttr("xmlns:md", nsMetadata)
	ed.CreateAttr("xmlns:saml", nsAssertion)
	ed.CreateAttr("xmlns:ds", nsDSig)
	ed.CreateAttr("entityID", entityID)
	idp := ed.CreateElement("md:IDPSSODescriptor")
	idp.CreateAttr("WantAuthnRequestsSigned", "true")
	idp.CreateAttr("protocolSupportEnumeration", nsProtocol)
	for _, c := range certs {
		kd := idp.CreateElement("md:KeyDescriptor")
		kd.CreateAttr("use", "signing")
		ki := kd.CreateElement("ds:KeyInfo")
		if c.name != "" {
			ki.CreateElement("ds:KeyName").SetText(c.name)
		}
		ki.CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
			SetText(base64.StdEncoding.EncodeToString(c.cert.Raw))
	}
	bindings := []string{BindingPOST, BindingRedirect, BindingArtifact, BindingSOAP}
	for _, b := range bindings {
		slo := idp.CreateElement("md:SingleLogoutService")
		slo.CreateAttr("Binding", b)
		slo.CreateAttr("Location", sloURL)
	}
	for _, f := range descriptorNameIDFormats {
		idp.CreateElement("md:NameIDFormat").SetText(f)
	}
	for _, b := range []string{BindingPOST, BindingRedirect, BindingSOAP, BindingArtifact} {
		sso := idp.CreateElement("md:SingleSignOnService")
		sso.CreateAttr("Binding", b)
		sso.CreateAttr("Location", ssoURL)
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(ed)
	doc.Indent(2)
	return doc.WriteToBytes()
}

// DescriptorFromKeys is a realm's IdP descriptor (what
// /realms/{realm}/protocol/saml/descriptor serves): entity ID realmURL,
// services at realmURL + "/protocol/saml", and the certificate of every
// enabled RS256 signing key (active ones first), named by its kid.
func DescriptorFromKeys(realmURL string, ks []keys.Key) ([]byte, error) {
	var active, passive []namedCert
	for _, k := range ks {
		if !k.Enabled || k.Use != keys.UseSig || k.Algorithm != keys.RS256 || len(k.Certificate) == 0 {
			continue
		}
		cert, err := x509.ParseCertificate(k.Certificate)
		if err != nil {
			return nil, fmt.Errorf("certificate of key %q: %w", k.Kid, err)
		}
		if k.Active {
			active = append(active, namedCert{k.Kid, cert})
		} else {
			passive = append(passive, namedCert{k.Kid, cert})
		}
	}
	endpoint := strings.TrimSuffix(realmURL, "/") + "/protocol/saml"
	return idpDescriptor(realmURL, endpoint, endpoint, append(active, passive...))
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
func ParseSPMetadata(b []byte) (SPMetadata, error) {
	ed, role, err := findRole(b, "SPSSODescriptor")
	if err != nil {
		return SPMetadata{}, err
	}
	md := SPMetadata{
		EntityID:             attr(ed, "entityID"),
		ACS:                  endpoints(role, "AssertionConsumerService"),
		SLO:                  endpoints(role, "SingleLogoutService"),
		AuthnRequestsSigned:  boolAttr(role, "AuthnRequestsSigned"),
		WantAssertionsSigned: boolAttr(role, "WantAssertionsSigned"),
	}
	if md.SigningCerts, md.EncryptionCerts, err = keyDescriptors(role); err != nil {
		return SPMetadata{}, err
	}
	if f := children(role, nsMetadata, "NameIDFormat"); len(f) > 0 {
		md.NameIDFormat = text(f[0])
	}
	return md, nil
}

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
func ParseIdPMetadata(b []byte) (IdPMetadata, error) {
	ed, role, err := findRole(b, "IDPSSODescriptor")
	if err != nil {
		return IdPMetadata{}, err
	}
	md := IdPMetadata{
		EntityID:                attr(ed, "entityID"),
		SSO:                     endpoints(role, "SingleSignOnService"),
		SLO:                     endpoints(role, "SingleLogoutService"),
		WantAuthnRequestsSigned: boolAttr(role, "WantAuthnRequestsSigned"),
	}
	if md.SigningCerts, md.EncryptionCerts, err = keyDescriptors(role); err != nil {
		return IdPMetadata{}, err
	}
	for _, f := range children(role, nsMetadata, "NameIDFormat") {
		md.NameIDFormats = append(md.NameIDFormats, text(f))
	}
	return md, nil
}

// findRole finds the first EntityDescriptor with a role descriptor local
// supporting SAML 2.0.
func findRole(b []byte, local string) (ed, role *etree.Element, err error) {
	doc, err := parseXML(b, maxMetadataSize)
	if err != nil {
		return nil, nil, err
	}
	var entities []*etree.Element
	switch root := doc.Root(); {
	case is(root, nsMetadata, "EntityDescriptor"):
		entities = []*etree.Element{root}
	case is(root, nsMetadata, "EntitiesDescriptor"):
		var walk func(el *etree.Element)
		walk = func(el *etree.Element) {
			entities = append(entities, children(el, nsMetadata, "EntityDescriptor")...)
			for _, c := range children(el, nsMetadata, "EntitiesDescriptor") {
				walk(c)
			}
		}
		walk(root)
	default:
		return nil, nil, fmt.Errorf("%w: not SAML metadata (root %s)", ErrMalformed, root.Tag)
	}
	for _, e := range entities {
		for _, r := range children(e, nsMetadata, local) {
			if strings.Contains(attr(r, "protocolSupportEnumeration"), nsProtocol) {
				if attr(e, "entityID") == "" {
					return nil, nil, fmt.Errorf("%w: EntityDescriptor has no entityID", ErrMalformed)
				}
				return e, r, nil
			}
		}
	}
	return nil, nil, fmt.Errorf("%w: no %s for SAML 2.0", ErrMalformed, local)
}

// endpoints maps each binding to its endpoint's Location: the one marked
// isDefault, else the first listed.
func endpoints(role *etree.Element, local string) map[string]string {
	out := map[string]string{}
	isDefault := map[string]bool{}
	for _, e := range children(role, nsMetadata, local) {
		b, loc := attr(e, "Binding"), strings.TrimSpace(attr(e, "Location"))
		if b == "" || loc == "" || isDefault[b] {
			continue
		}
		if _, seen := out[b]; !seen || boolAttr(e, "isDefault") {
			out[b] = loc
			isDefault[b] = boolAttr(e, "isDefault")
		}
	}
	return out
}

// keyDescriptors reads the certificates of a role: use="signing" ones for
// signing, use="encryption" for encryption, and unmarked ones for both.
func keyDescriptors(role *etree.Element) (signing, encryption []*x509.Certificate, err error) {
	for _, kd := range children(role, nsMetadata, "KeyDescriptor") {
		for _, x := range children(child(kd, nsDSig, "KeyInfo"), nsDSig, "X509Data") {
			for _, c := range children(x, nsDSig, "X509Certificate") {
				cert, err := ParseCertificate(text(c))
				if err != nil {
					return nil, nil, fmt.Errorf("%w: KeyDescriptor: %v", ErrMalformed, err)
				}
				use := attr(kd, "use")
				if use == "" || use == "signing" {
					signing = append(signing, cert)
				}
				if use == "" || use == "encryption" {
					encryption = append(encryption, cert)
				}
			}
		}
	}
	return signing, encryption, nil
}
