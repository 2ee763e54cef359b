package admin

import (
	"cmp"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

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
// provider; ok is false for a provider SAML clients do not have.
func (a clientsAPI) samlInstallation(rq *Request, c client.Client, provider string) (body string, ok bool, err error) {
	base := rq.h.URLs.Base(rq.R)
	endpoint := base + "/realms/" + url.PathEscape(rq.Realm.Name) + "/protocol/saml"
	switch provider {
	case "saml-idp-descriptor":
		ks, err := rq.h.Store.ListKeys(rq.R.Context(), rq.Realm.ID)
		if err != nil {
			return "", true, err
		}
		return samlIdPDescriptor(base+"/realms/"+url.PathEscape(rq.Realm.Name), endpoint, c, ks), true, nil
	case "keycloak-saml", "keycloak-saml-subsystem":
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
		sp := samlAdapterSP(c, rq.Realm.SSLRequired, endpoint)
		if provider == "keycloak-saml" {
			return "<keycloak-saml-adapter>\n" + sp + "</keycloak-saml-adapter>\n", true, nil
		}
		return "<secure-deployment name=\"YOUR-WAR.war\">\n" + sp + "</secure-deployment>\n", true, nil
	}
	return "", false, nil
}

func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// samlIdPDescriptor is the realm's IdP metadata as one client sees it:
// signed requests wanted only if the client signs them, the Redirect
// binding only without forced POST, only the client's NameID format when
// it forces one, and every enabled RSA signing key, active ones first.
func samlIdPDescriptor(entityID, endpoint string, c client.Client, ks []keys.Key) string {
	a := c.Attributes
	flag := func(name string) bool {
		if v, ok := a[name]; ok {
			return v == "true"
		}
		return saml.Defaults()[name] == "true"
	}
	forcePost := flag(saml.AttrForcePostBinding)
	var b strings.Builder
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<EntityDescriptor entityID=\"%s\"\n", xmlText(entityID))
	b.WriteString("                   xmlns=\"urn:oasis:names:tc:SAML:2.0:metadata\"\n")
	b.WriteString("                   xmlns:dsig=\"http://www.w3.org/2000/09/xmldsig#\"\n")
	b.WriteString("                   xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n")
	fmt.Fprintf(&b, "   <IDPSSODescriptor WantAuthnRequestsSigned=\"%t\"\n      protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n",
		flag(saml.AttrClientSignature))
	service := func(kind, binding string) {
		fmt.Fprintf(&b, "      <%s\n         Binding=\"%s\"\n         Location=\"%s\" />\n", kind, binding, xmlText(endpoint))
	}
	service("SingleLogoutService", saml.BindingPOST)
	if !forcePost {
		service("SingleLogoutService", saml.BindingRedirect)
	}
	if cs, err := saml.Settings(c); err == nil && flag(saml.AttrForceNameIDFormat) && a[saml.AttrNameIDFormat] != "" {
		fmt.Fprintf(&b, "   <NameIDFormat>%s</NameIDFormat>\n", cs.NameIDFormat)
	} else {
		for _, f := range []string{saml.NameIDPersistent, saml.NameIDTransient, saml.NameIDUnspecified, saml.NameIDEmail} {
			fmt.Fprintf(&b, "   <NameIDFormat>%s</NameIDFormat>\n", f)
		}
	}
	b.WriteString("\n      <SingleSignOnService Binding=\"" + saml.BindingPOST + "\"\n         Location=\"" + xmlText(endpoint) + "\" />\n")
	if !forcePost {
		b.WriteString("      <SingleSignOnService Binding=\"" + saml.BindingRedirect + "\"\n         Location=\"" + xmlText(endpoint) + "\" />\n")
	}
	var rsa []keys.Key
	for _, k := range ks {
		if k.Enabled && k.Use == keys.UseSig && strings.HasPrefix(k.Algorithm, "RS") && len(k.Certificate) > 0 {
			rsa = append(rsa, k)
		}
	}
	slices.SortStableFunc(rsa, func(x, y keys.Key) int {
		if x.Active != y.Active {
			if x.Active {
				return -1
			}
			return 1
		}
		return cmp.Compare(y.Priority, x.Priority)
	})
	for _, k := range rsa {
		b.WriteString("      <KeyDescriptor use=\"signing\">\n        <dsig:KeyInfo>\n")
		fmt.Fprintf(&b, "          <dsig:KeyName>%s</dsig:KeyName>\n", xmlText(k.Kid))
		fmt.Fprintf(&b, "          <dsig:X509Data>\n            <dsig:X509Certificate>%s</dsig:X509Certificate>\n          </dsig:X509Data>\n",
			base64.StdEncoding.EncodeToString(k.Certificate))
		b.WriteString("        </dsig:KeyInfo>\n      </KeyDescriptor>\n")
	}
	b.WriteString("   </IDPSSODescriptor>\n</EntityDescriptor>\n")
	return b.String()
}

// samlAdapterSP is the <SP> element of the Keycloak SAML adapter's
// configuration for the client, with the keys it signs requests and
// decrypts assertions with, and the realm's endpoint for both bindings.
func samlAdapterSP(c client.Client, sslRequired, endpoint string) string {
	a := c.Attributes
	flag := func(name string) bool {
		if v, ok := a[name]; ok {
			return v == "true"
		}
		return saml.Defaults()[name] == "true"
	}
	clientSig, encrypt := flag(saml.AttrClientSignature), flag(saml.AttrEncrypt)
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
		fmt.Fprintf(&b, "\n             signatureAlgorithm=\"%s\"", cmp.Or(a[saml.AttrSignatureAlgorithm], saml.RSASHA256))
		fmt.Fprintf(&b, "\n             signatureCanonicalizationMethod=\"%s\"", cmp.Or(a[saml.AttrCanonicalization], saml.CanonExclusive))
	}
	b.WriteString(">\n")
	tf := strconv.FormatBool
	ep := xmlText(endpoint)
	fmt.Fprintf(&b, "            <SingleSignOnService signRequest=\"%s\"\n", tf(clientSig))
	fmt.Fprintf(&b, "                                 validateResponseSignature=\"%s\"\n", tf(flag(saml.AttrServerSignature)))
	fmt.Fprintf(&b, "                                 validateAssertionSignature=\"%s\"\n", tf(flag(saml.AttrAssertionSignature)))
	fmt.Fprintf(&b, "                                 requestBinding=\"POST\"\n                                 bindingUrl=\"%s\"/>\n", ep)
	fmt.Fprintf(&b, "            <SingleLogoutService signRequest=\"%s\"\n", tf(clientSig))
	fmt.Fprintf(&b, "                                 signResponse=\"%s\"\n", tf(clientSig))
	fmt.Fprintf(&b, "                                 validateRequestSignature=\"%s\"\n", tf(flag(saml.AttrServerSignature)))
	fmt.Fprintf(&b, "                                 validateResponseSignature=\"%s\"\n", tf(flag(saml.AttrServerSignature)))
	b.WriteString("                                 requestBinding=\"POST\"\n                                 responseBinding=\"POST\"\n")
	fmt.Fprintf(&b, "                                 postBindingUrl=\"%s\"\n                                 redirectBindingUrl=\"%s\"/>\n", ep, ep)
	b.WriteString("        </IDP>\n    </SP>\n")
	return b.String()
}
