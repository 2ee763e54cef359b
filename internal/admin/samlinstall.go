package admin

import (
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
)

// samlInstallations are the adapter configurations of SAML clients
// (clients/{id}/installation/providers/{id}).
var samlInstallations = []clientInstallation{
	{ID: "saml-idp-descriptor", Protocol: protocolSAML, DisplayType: "SAML Metadata IDPSSODescriptor",
		HelpText: "SAML Metadata IDPSSODescriptor tailored for the client.  This is special because not every client may require things like digital signatures",
		Filename: "client-tailored-saml-idp-metadata.xml", MediaType: "application/xml"},
	{ID: "keycloak-saml", Protocol: protocolSAML, DisplayType: "Keycloak SAML Adapter keycloak-saml.xml",
		HelpText: "Keycloak SAML adapter configuration file you must edit. Put this in WEB-INF directory of your WAR.",
		Filename: "keycloak-saml.xml", MediaType: "application/xml"},
	{ID: "keycloak-saml-subsystem", Protocol: protocolSAML, DisplayType: "Keycloak SAML Wildfly/JBoss Subsystem",
		HelpText: "Keycloak SAML adapter Wildfly/JBoss subsystem xml.  Put this <subsystem xmlns=\"urn:jboss:domain:keycloak-saml:1.1\"> element of your standalone.xml file.",
		Filename: "keycloak-saml-subsystem.xml", MediaType: "application/xml"},
}

// samlInstallation writes the SAML client's configuration file of
// provider; ok is false for a provider SAML clients do not have. Every
// switch is read through saml.Settings, as the login endpoint reads it.
func (a clientsAPI) samlInstallation(rq *Request, c client.Client, provider string) (body string, ok bool, err error) {
	base := rq.h.URLs.Base(rq.R)
	endpoint := base + "/realms/" + url.PathEscape(rq.Realm.Name) + "/protocol/saml"
	if provider != "saml-idp-descriptor" && provider != "keycloak-saml" && provider != "keycloak-saml-subsystem" {
		return "", false, nil
	}
	cs, err := saml.Settings(c)
	if err != nil {
		return "", true, badRequest(err.Error())
	}
	if provider == "saml-idp-descriptor" {
		ks, err := rq.h.Store.ListKeys(rq.R.Context(), rq.Realm.ID)
		if err != nil {
			return "", true, err
		}
		b, err := samlIdPDescriptor(base+"/realms/"+url.PathEscape(rq.Realm.Name), cs, ks)
		return string(b), true, err
	}
	// The file carries the client's private keys, which only those
	// who may change the client see (SECURITY.md M8).
	if c.Attributes[attrSAMLSigningKey] != "" || c.Attributes[attrSAMLEncryptionKey] != "" {
		if err := rq.Require("manage-clients"); err != nil {
			return "", true, err
		}
		if err := rq.requireClientTakeover(rq.R.Context(), c.ID); err != nil {
			return "", true, err
		}
	}
	sp := samlAdapterSP(c, cs, rq.Realm.SSLRequired, endpoint)
	if provider == "keycloak-saml" {
		return "<keycloak-saml-adapter>\n" + sp + "</keycloak-saml-adapter>\n", true, nil
	}
	return "<secure-deployment name=\"YOUR-WAR.war\">\n" + sp + "</secure-deployment>\n", true, nil
}

func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// samlIdPDescriptor is the realm's IdP descriptor (saml.DescriptorFromKeys:
// the same keys and services) as one client sees it: signed requests
// wanted only if the client must sign them, no Redirect binding when the
// client forces POST, and only the client's NameID format when it forces
// one.
func samlIdPDescriptor(realmURL string, cs saml.ClientSettings, ks []keys.Key) ([]byte, error) {
	b, err := saml.DescriptorFromKeys(realmURL, ks)
	if err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, err
	}
	idp := doc.FindElement("/EntityDescriptor/IDPSSODescriptor")
	if idp == nil {
		return nil, errors.New("the realm's descriptor has no IDPSSODescriptor")
	}
	idp.CreateAttr("WantAuthnRequestsSigned", strconv.FormatBool(cs.ClientSignature))
	for _, el := range slices.Clone(idp.ChildElements()) {
		switch el.Tag {
		case "SingleSignOnService", "SingleLogoutService":
			if cs.ForcePostBinding && el.SelectAttrValue("Binding", "") == saml.BindingRedirect {
				idp.RemoveChild(el)
			}
		case "NameIDFormat":
			if cs.ForceNameIDFormat && el.Text() != cs.NameIDFormat {
				idp.RemoveChild(el)
			}
		}
	}
	return doc.WriteToBytes()
}

// samlAdapterSP is the <SP> element of the Keycloak SAML adapter's
// configuration for the client, with the keys it signs requests and
// decrypts assertions with, and the realm's endpoint for both bindings.
func samlAdapterSP(c client.Client, cs saml.ClientSettings, sslRequired, endpoint string) string {
	a := c.Attributes
	clientSig, encrypt := cs.ClientSignature, cs.Encrypt
	entityID := c.BaseURL
	if entityID == "" {
		entityID = "SPECIFY YOUR entityID!"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "    <SP entityID=\"%s\"\n        sslPolicy=\"%s\"\n        logoutPage=\"SPECIFY YOUR LOGOUT PAGE!\">\n",
		xmlText(entityID), strings.ToUpper(cmp.Or(sslRequired, "external")))
	pem := func(v, missing string) string {
		if v == "" {
			return "                    " + missing + "\n"
		}
		return "                    " + v + "\n"
	}
	if clientSig || encrypt {
		b.WriteString("        <Keys>\n")
		if clientSig {
			b.WriteString("            <Key signing=\"true\">\n                <PrivateKeyPem>\n")
			b.WriteString(pem(a[attrSAMLSigningKey], "PRIVATE KEY NOT SET UP OR KNOWN"))
			b.WriteString("                </PrivateKeyPem>\n                <CertificatePem>\n")
			b.WriteString(pem(a[saml.AttrSigningCertificate], "YOU MUST CONFIGURE YOUR CLIENT's SIGNING CERTIFICATE"))
			b.WriteString("                </CertificatePem>\n            </Key>\n")
		}
		if encrypt {
			b.WriteString("            <Key encryption=\"true\">\n                <PrivateKeyPem>\n")
			b.WriteString(pem(a[attrSAMLEncryptionKey], "PRIVATE KEY NOT SET UP OR KNOWN"))
			b.WriteString("                </PrivateKeyPem>\n            </Key>\n")
		}
		b.WriteString("        </Keys>\n")
	}
	b.WriteString("        <IDP entityID=\"idp\"")
	if clientSig {
		fmt.Fprintf(&b, "\n             signatureAlgorithm=\"%s\"", xmlText(cs.SignatureAlgorithm))
		fmt.Fprintf(&b, "\n             signatureCanonicalizationMethod=\"%s\"", xmlText(cs.Canonicalization))
	}
	b.WriteString(">\n")
	tf := strconv.FormatBool
	ep := xmlText(endpoint)
	fmt.Fprintf(&b, "            <SingleSignOnService signRequest=\"%s\"\n", tf(clientSig))
	fmt.Fprintf(&b, "                                 validateResponseSignature=\"%s\"\n", tf(cs.ServerSignature))
	fmt.Fprintf(&b, "                                 validateAssertionSignature=\"%s\"\n", tf(cs.AssertionSignature))
	fmt.Fprintf(&b, "                                 requestBinding=\"POST\"\n                                 bindingUrl=\"%s\"/>\n", ep)
	fmt.Fprintf(&b, "            <SingleLogoutService signRequest=\"%s\"\n", tf(clientSig))
	fmt.Fprintf(&b, "                                 signResponse=\"%s\"\n", tf(clientSig))
	fmt.Fprintf(&b, "                                 validateRequestSignature=\"%s\"\n", tf(cs.ServerSignature))
	fmt.Fprintf(&b, "                                 validateResponseSignature=\"%s\"\n", tf(cs.ServerSignature))
	b.WriteString("                                 requestBinding=\"POST\"\n                                 responseBinding=\"POST\"\n")
	fmt.Fprintf(&b, "                                 postBindingUrl=\"%s\"\n                                 redirectBindingUrl=\"%s\"/>\n", ep, ep)
	b.WriteString("        </IDP>\n    </SP>\n")
	return b.String()
}
