package saml

import (
	"crypto/x509"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
)

// ClientSettings are a SAML client's settings, read from its attributes
// (Keycloak's attribute names) and its redirect URIs, URLs and
// front-channel logout switch.
type ClientSettings struct {
	// EntityID is the client's clientId, the SP's entity ID.
	EntityID string
	// AuthnStatement (saml.authnstatement, default true) includes an AuthnStatement.
	AuthnStatement bool
	// ServerSignature (saml.server.signature, default true) signs documents.
	ServerSignature bool
	// AssertionSignature (saml.assertion.signature) signs the assertion.
	AssertionSignature bool
	// SignatureAlgorithm (saml.signature.algorithm, default RSA_SHA256) is a
	// Keycloak algorithm name: RSA_SHA1, RSA_SHA256, RSA_SHA512,
	// ECDSA_SHA256, ECDSA_SHA384, ECDSA_SHA512.
	SignatureAlgorithm string
	// Canonicalization (saml_signature_canonicalization_method, default
	// exclusive c14n) is the signatures' canonicalization URI.
	Canonicalization string
	// KeyNameTransformer (saml.server.signature.keyinfo.xmlSigKeyInfoKeyNameTransformer,
	// default KEY_ID): KEY_ID, CERT_SUBJECT or NONE.
	KeyNameTransformer string
	// ClientSignature (saml.client.signature, default true) requires the
	// client's requests to be signed with one of SigningCerts.
	ClientSignature bool
	// SigningCerts are the client's certificates (saml.signing.certificate).
	SigningCerts []*x509.Certificate
	// Encrypt (saml.encrypt) encrypts assertions to EncryptionCert.
	Encrypt        bool
	EncryptionCert *x509.Certificate // saml.encryption.certificate
	// Encryption algorithms (saml.encryption.algorithm, saml.encryption.keyAlgorithm,
	// saml.encryption.digestMethod, saml.encryption.maskGenerationFunction);
	// empty means the defaults of BuildResponse.
	EncryptionAlgorithm    string
	KeyEncryptionAlgorithm string
	KeyEncryptionDigest    string
	KeyEncryptionMGF       string
	// NameIDFormat (saml_name_id_format: username, email, transient,
	// persistent) as a full URN; NameIDUnspecified when unset.
	NameIDFormat string
	// ForceNameIDFormat (saml_force_name_id_format) ignores the request's format.
	ForceNameIDFormat bool
	// ForcePostBinding (saml.force.post.binding, default true) answers by POST
	// whatever binding the request came with.
	ForcePostBinding bool
	// ArtifactBinding (saml.artifact.binding).
	ArtifactBinding bool
	// FrontchannelLogout is the client's front-channel logout switch.
	FrontchannelLogout bool
	// AssertionLifespan (saml.assertion.lifespan, seconds); 0 means the
	// realm's access code lifespan.
	AssertionLifespan time.Duration
	// Assertion consumer service URLs by binding.
	ACSPost, ACSRedirect, ACSArtifact string
	// Single logout service URLs by binding.
	SLOPost, SLORedirect, SLOArtifact, SLOSOAP string
	// IdP-initiated SSO (saml_idp_initiated_sso_url_name and _relay_state).
	IdPInitiatedSSOURLName    string
	IdPInitiatedSSORelayState string
	// Client is the client the settings were read from; ACS matches
	// requested URLs against its redirect URIs.
	Client client.Client
	// AuthBase is the server's public base URL, used to resolve relative
	// redirect URIs; callers set it when they know it.
	AuthBase string
}

// Settings reads a SAML client's settings. It fails when an attribute is
// malformed: a certificate that does not parse, an unknown signature
// algorithm, key name transformer or NameID format.
func Settings(c client.Client) (ClientSettings, error) {
	return ClientSettings{}, errNotImplemented
}

// ValidateClient checks a SAML client's attributes as the admin API and
// the importer must before storing it; a nil error for other protocols.
func ValidateClient(c client.Client) error {
	return errNotImplemented
}

// ACS chooses the assertion consumer URL and binding of a response: the
// requested URL only if registered (one of the client's ACS attributes or
// a match of its redirect URIs), else the client's URL for the binding
// (POST when ForcePostBinding), else its other ACS URL, else its single
// redirect URI / base URL. binding is the request's ProtocolBinding or
// the binding it arrived with; the returned bind is BindingPOST or
// BindingRedirect.
func (s ClientSettings) ACS(requested, binding string) (url, bind string, err error) {
	return "", "", errNotImplemented
}
