package admin

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// protocolSAML is the protocol name of SAML clients and client scopes.
const protocolSAML = "saml"

// SAML client attributes Keycloak keeps beside the ones internal/saml reads.
const (
	// attrSAMLSigningKey is the private key of the client's signing
	// certificate when Gatehouse generated the pair at creation: the SP's
	// adapter configuration (keycloak-saml) hands it to the SP.
	attrSAMLSigningKey    = "saml.signing.private.key"
	attrSAMLEncryptionKey = "saml.encryption.private.key"
	// attrArtifactID identifies the client in SAML artifacts: the base64
	// SHA-1 of its clientId (SAML 2.0 bindings, 3.6.4 SourceID).
	attrArtifactID = "saml.artifact.binding.identifier"
)

// samlCreateDefaults gives a new SAML client what Keycloak's admin create
// gives one whose representation is silent: standard flow and front-channel
// logout on, the attribute defaults of saml.Defaults, the artifact source
// id, and, when it must sign its requests but brings no certificate, a
// fresh key pair so that its adapter can.
func samlCreateDefaults(rq *Request, x rep.Client, c *client.Client) error {
	if x.FrontchannelLogout == nil {
		c.FrontchannelLogout = true
	}
	saml.ApplyDefaults(c)
	sum := sha1.Sum([]byte(c.ClientID))
	c.Attributes[attrArtifactID] = base64.StdEncoding.EncodeToString(sum[:])
	if c.Attributes[saml.AttrClientSignature] == "true" && c.Attributes[saml.AttrSigningCertificate] == "" {
		k, err := keys.GenerateRSA(c.ClientID, rq.Now())
		if err != nil {
			return err
		}
		c.Attributes[saml.AttrSigningCertificate] = base64.StdEncoding.EncodeToString(k.Certificate)
		c.Attributes[attrSAMLSigningKey] = base64.StdEncoding.EncodeToString(k.Private)
	}
	return nil
}

// validateSAML refuses a SAML client whose attributes Gatehouse could not
// act on (saml.ValidateClient), with the admin API's validation body.
func validateSAML(c client.Client) error {
	err := saml.ValidateClient(c)
	if err == nil {
		return nil
	}
	var ve *saml.ValidationError
	msg := err.Error()
	if errors.As(err, &ve) {
		msg = ve.Msg
	}
	return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": "invalid_input", "error_description": msg}, Err: err}
}

// samlPrivateAttrs are client attributes only those who may manage clients
// see, as the client secret (SECURITY.md M8).
var samlPrivateAttrs = []string{attrSAMLSigningKey, attrSAMLEncryptionKey}

// samlMapperTypes are the SAML protocol mapper types internal/saml applies,
// in the admin API's shape.
func samlMapperTypes() []mapperType {
	out := make([]mapperType, 0, len(saml.MapperTypes))
	for _, t := range saml.MapperTypes {
		m := mapperType{ID: t.ID, Name: t.Name, Category: t.Category, HelpText: t.HelpText, Priority: t.Priority,
			Properties: make([]configProperty, 0, len(t.Properties))}
		for _, p := range t.Properties {
			m.Properties = append(m.Properties, configProperty(p))
		}
		out = append(out, m)
	}
	return out
}

// samlBuiltinMappers are the console's "Add predefined mapper" choices for
// SAML clients: the X.500 name attributes and the role list.
func samlBuiltinMappers() []rep.ProtocolMapper {
	x500 := func(name, property, oid, friendly string) rep.ProtocolMapper {
		return rep.ProtocolMapper{Name: name, Protocol: protocolSAML, ProtocolMapper: "saml-user-property-mapper",
			Config: map[string]string{"user.attribute": property, "attribute.name": oid,
				"attribute.nameformat": "URI Reference", "friendly.name": friendly}}
	}
	return []rep.ProtocolMapper{
		{Name: "role list", Protocol: protocolSAML, ProtocolMapper: "saml-role-list-mapper",
			Config: map[string]string{"single": "false", "attribute.nameformat": "Basic", "attribute.name": "Role"}},
		x500("X500 email", "email", "urn:oid:1.2.840.113549.1.9.1", "email"),
		x500("X500 givenName", "firstName", "urn:oid:2.5.4.42", "givenName"),
		x500("X500 surname", "lastName", "urn:oid:2.5.4.4", "surname"),
	}
}
