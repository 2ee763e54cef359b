package admin

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// clientConverterRoutes serves POST /client-description-converter: the
// console's "Import client" reads a file (SAML SP metadata, a Keycloak
// client, OpenID Connect client metadata) into the client it would
// create. Nothing is stored.
func (h *Handler) clientConverterRoutes(mux Mux) {
	h.handle(mux, "POST /admin/realms/{realm}/client-description-converter", "manage-clients", convertClientDescription)
}

// errUnsupportedDescription is Keycloak's answer to a description no
// converter recognises.
var errUnsupportedDescription = &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": "Unsupported format"}}

// convertClientDescription picks the converter by the description's shape,
// as Keycloak does: a JSON object naming "clientId" is a Keycloak client,
// one naming "redirect_uris" OpenID Connect client metadata, and markup
// naming EntityDescriptor SAML metadata.
func convertClientDescription(rq *Request) error {
	b, err := rq.body()
	if err != nil {
		return err
	}
	d := strings.TrimSpace(string(b))
	var x rep.Client
	switch {
	case strings.HasPrefix(d, "{") && strings.HasSuffix(d, "}") && strings.Contains(d, `"clientId"`):
		if err := json.Unmarshal([]byte(d), &x); err != nil {
			return errBadJSON
		}
	case strings.HasPrefix(d, "{") && strings.HasSuffix(d, "}") && strings.Contains(d, `"redirect_uris"`):
		var o rep.OIDCClient
		if err := json.Unmarshal([]byte(d), &o); err != nil {
			return errBadJSON
		}
		x, _ = o.ToClient()
	case strings.HasPrefix(d, "<") && strings.HasSuffix(d, ">") && strings.Contains(d, "EntityDescriptor"):
		if x, err = clientFromSPMetadata([]byte(d)); err != nil {
			return err
		}
	default:
		return errUnsupportedDescription
	}
	return rq.JSON(x)
}

// clientFromSPMetadata is the SAML client an SP's EntityDescriptor
// describes, with Keycloak's attributes: signed documents (RSA_SHA256) and
// an AuthnStatement; signed assertions when the SP wants them; the SP's
// assertion consumer and logout URLs per binding, the consumer URLs also
// as redirect URIs; its first NameID format Gatehouse knows; its signing
// certificate (which makes signed requests required) and encryption
// certificate (which turns encryption on).
func clientFromSPMetadata(b []byte) (rep.Client, error) {
	md, err := saml.ParseSPMetadata(b)
	if err != nil {
		msg := "Invalid SAML metadata"
		if errors.Is(err, saml.ErrMalformed) {
			msg = err.Error()
		}
		return rep.Client{}, &web.Error{Status: http.StatusBadRequest,
			Body: map[string]string{"error": "invalid_request", "error_description": msg}, Err: err}
	}
	t := true
	x := rep.Client{ClientID: md.EntityID, FullScopeAllowed: &t, Protocol: new("saml"), RedirectURIs: []string{}}
	a := map[string]string{
		saml.AttrServerSignature:            "true",
		"saml.server.signature.keyinfo.ext": "false",
		saml.AttrSignatureAlgorithm:         saml.RSASHA256,
		saml.AttrAuthnStatement:             "true",
	}
	if md.WantAssertionsSigned {
		a[saml.AttrAssertionSignature] = "true"
	}
	for binding, attr := range map[string]string{saml.BindingPOST: saml.AttrSLOPost, saml.BindingRedirect: saml.AttrSLORedirect} {
		if u := md.SLO[binding]; u != "" {
			a[attr] = u
		}
	}
	// Consumer URLs in Keycloak's order; SOAP and PAOS ones (ECP) are
	// redirect URIs only.
	for _, acs := range []struct{ binding, attr string }{
		{saml.BindingPOST, saml.AttrACSPost}, {saml.BindingRedirect, saml.AttrACSRedirect},
		{saml.BindingSOAP, ""}, {bindingPAOS, ""}, {saml.BindingArtifact, saml.AttrACSArtifact},
	} {
		u := md.ACS[acs.binding]
		if u == "" {
			continue
		}
		if acs.attr != "" {
			a[acs.attr] = u
		}
		x.RedirectURIs = append(x.RedirectURIs, u)
	}
	if f := saml.NameIDFormatAttribute(md.NameIDFormat); f != "" {
		a[saml.AttrNameIDFormat] = f
	}
	if n := len(md.SigningCerts); n > 0 {
		a[saml.AttrClientSignature] = "true"
		a[saml.AttrSigningCertificate] = base64.StdEncoding.EncodeToString(md.SigningCerts[n-1].Raw)
	}
	if n := len(md.EncryptionCerts); n > 0 {
		a[saml.AttrEncrypt] = "true"
		a[saml.AttrEncryptionCertificate] = base64.StdEncoding.EncodeToString(md.EncryptionCerts[n-1].Raw)
	}
	x.Attributes = a
	return x, nil
}

// bindingPAOS is the reverse SOAP binding of the ECP profile.
const bindingPAOS = "urn:oasis:names:tc:SAML:2.0:bindings:PAOS"
