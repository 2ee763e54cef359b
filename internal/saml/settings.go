package saml

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
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
	// OneTimeUse (saml.onetimeuse.condition) adds a OneTimeUse condition.
	OneTimeUse bool
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

// Client attribute names.
const (
	AttrAuthnStatement        = "saml.authnstatement"
	AttrServerSignature       = "saml.server.signature"
	AttrAssertionSignature    = "saml.assertion.signature"
	AttrSignatureAlgorithm    = "saml.signature.algorithm"
	AttrCanonicalization      = "saml_signature_canonicalization_method"
	AttrKeyNameTransformer    = "saml.server.signature.keyinfo.xmlSigKeyInfoKeyNameTransformer"
	AttrClientSignature       = "saml.client.signature"
	AttrSigningCertificate    = "saml.signing.certificate"
	AttrEncrypt               = "saml.encrypt"
	AttrEncryptionCertificate = "saml.encryption.certificate"
	AttrEncryptionAlgorithm   = "saml.encryption.algorithm"
	AttrEncryptionKeyAlg      = "saml.encryption.keyAlgorithm"
	AttrEncryptionDigest      = "saml.encryption.digestMethod"
	AttrEncryptionMGF         = "saml.encryption.maskGenerationFunction"
	AttrNameIDFormat          = "saml_name_id_format"
	AttrForceNameIDFormat     = "saml_force_name_id_format"
	AttrForcePostBinding      = "saml.force.post.binding"
	AttrArtifactBinding       = "saml.artifact.binding"
	AttrAssertionLifespan     = "saml.assertion.lifespan"
	AttrOneTimeUse            = "saml.onetimeuse.condition"
	AttrACSPost               = "saml_assertion_consumer_url_post"
	AttrACSRedirect           = "saml_assertion_consumer_url_redirect"
	AttrACSArtifact           = "saml_assertion_consumer_url_artifact"
	AttrSLOPost               = "saml_single_logout_service_url_post"
	AttrSLORedirect           = "saml_single_logout_service_url_redirect"
	AttrSLOArtifact           = "saml_single_logout_service_url_artifact"
	AttrSLOSOAP               = "saml_single_logout_service_url_soap"
	AttrIdPInitiatedURLName   = "saml_idp_initiated_sso_url_name"
	AttrIdPInitiatedRelay     = "saml_idp_initiated_sso_relay_state"
)

// Defaults are the attributes a SAML client created through the admin API
// gets when its representation does not set them (an imported client gets
// none): signed documents with RSA_SHA256 and
// exclusive canonicalization, signed requests expected, an AuthnStatement,
// POST responses, the username as NameID.
func Defaults() map[string]string {
	return map[string]string{
		AttrCanonicalization:   CanonExclusive,
		AttrSignatureAlgorithm: RSASHA256,
		AttrNameIDFormat:       "username",
		AttrAuthnStatement:     "true",
		AttrForceNameIDFormat:  "false",
		"saml.allow.ecp.flow":  "false",
		AttrServerSignature:    "true",
		AttrForcePostBinding:   "true",
		AttrClientSignature:    "true",
	}
}

// ApplyDefaults sets the Defaults a SAML client created through the admin
// API lacks.
func ApplyDefaults(c *client.Client) {
	if c.Attributes == nil {
		c.Attributes = map[string]string{}
	}
	for k, v := range Defaults() {
		if _, ok := c.Attributes[k]; !ok {
			c.Attributes[k] = v
		}
	}
}

// nameIDFormats maps saml_name_id_format values to NameID formats.
var nameIDFormats = map[string]string{
	"username":   NameIDUnspecified,
	"email":      NameIDEmail,
	"transient":  NameIDTransient,
	"persistent": NameIDPersistent,
}

// NameIDFormatAttribute is the saml_name_id_format value of a NameID
// format URN ("username" for unspecified), "" for other formats.
func NameIDFormatAttribute(format string) string {
	for k, v := range nameIDFormats {
		if v == format {
			return k
		}
	}
	return ""
}

// Settings reads a SAML client's settings. A switch is on only when its
// attribute is "true": a client the admin API created got Defaults then,
// and an imported one keeps what its export says (a realm file that
// leaves saml.client.signature out means unsigned requests). It fails when an attribute is malformed: a certificate
// that does not parse, a signature algorithm Gatehouse cannot sign with
// (when signing is on), an unknown canonicalization method or encryption
// algorithm.
func Settings(c client.Client) (ClientSettings, error) {
	a := c.Attributes
	flag := func(name string) bool { return a[name] == "true" }
	s := ClientSettings{
		EntityID:                  c.ClientID,
		AuthnStatement:            flag(AttrAuthnStatement),
		ServerSignature:           flag(AttrServerSignature),
		AssertionSignature:        flag(AttrAssertionSignature),
		SignatureAlgorithm:        a[AttrSignatureAlgorithm],
		Canonicalization:          a[AttrCanonicalization],
		KeyNameTransformer:        a[AttrKeyNameTransformer],
		ClientSignature:           flag(AttrClientSignature),
		Encrypt:                   flag(AttrEncrypt),
		EncryptionAlgorithm:       a[AttrEncryptionAlgorithm],
		KeyEncryptionAlgorithm:    a[AttrEncryptionKeyAlg],
		KeyEncryptionDigest:       a[AttrEncryptionDigest],
		KeyEncryptionMGF:          a[AttrEncryptionMGF],
		NameIDFormat:              NameIDUnspecified,
		ForceNameIDFormat:         flag(AttrForceNameIDFormat),
		ForcePostBinding:          flag(AttrForcePostBinding),
		ArtifactBinding:           flag(AttrArtifactBinding),
		OneTimeUse:                flag(AttrOneTimeUse),
		FrontchannelLogout:        c.FrontchannelLogout,
		ACSPost:                   strings.TrimSpace(a[AttrACSPost]),
		ACSRedirect:               strings.TrimSpace(a[AttrACSRedirect]),
		ACSArtifact:               strings.TrimSpace(a[AttrACSArtifact]),
		SLOPost:                   strings.TrimSpace(a[AttrSLOPost]),
		SLORedirect:               strings.TrimSpace(a[AttrSLORedirect]),
		SLOArtifact:               strings.TrimSpace(a[AttrSLOArtifact]),
		SLOSOAP:                   strings.TrimSpace(a[AttrSLOSOAP]),
		IdPInitiatedSSOURLName:    a[AttrIdPInitiatedURLName],
		IdPInitiatedSSORelayState: a[AttrIdPInitiatedRelay],
		Client:                    c,
	}
	if s.SignatureAlgorithm == "" {
		s.SignatureAlgorithm = RSASHA256
	}
	if (s.ServerSignature || s.AssertionSignature) && CheckAlgorithm(s.SignatureAlgorithm) != nil {
		return ClientSettings{}, fmt.Errorf("%s: %w", AttrSignatureAlgorithm, CheckAlgorithm(s.SignatureAlgorithm))
	}
	if s.Canonicalization == "" {
		s.Canonicalization = CanonExclusive
	}
	switch s.Canonicalization {
	case CanonExclusive, CanonExclusiveWithComments, CanonInclusive, CanonInclusiveWithComments:
	default:
		return ClientSettings{}, fmt.Errorf("%s: unknown canonicalization method %q", AttrCanonicalization, s.Canonicalization)
	}
	switch s.KeyNameTransformer {
	case KeyNameKeyID, KeyNameCertSubject, KeyNameNone:
	default:
		s.KeyNameTransformer = KeyNameKeyID
	}
	if f := a[AttrNameIDFormat]; f != "" {
		if v, ok := nameIDFormats[f]; ok {
			s.NameIDFormat = v
		} else if NameIDFormatAttribute(f) != "" {
			s.NameIDFormat = f
		}
	}
	// Keycloak's older attribute spelling of the force switch.
	if v, ok := a["saml.force.name.id.format"]; ok && a[AttrForceNameIDFormat] == "" {
		s.ForceNameIDFormat = v == "true"
	}
	if v := strings.TrimSpace(a[AttrAssertionLifespan]); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			s.AssertionLifespan = time.Duration(n) * time.Second
		}
	}
	var err error
	if v := a[AttrSigningCertificate]; strings.TrimSpace(v) != "" {
		cert, perr := ParseCertificate(v)
		if perr != nil {
			return ClientSettings{}, fmt.Errorf("%s: %w", AttrSigningCertificate, perr)
		}
		s.SigningCerts = []*x509.Certificate{cert}
	}
	if v := a[AttrEncryptionCertificate]; strings.TrimSpace(v) != "" {
		if s.EncryptionCert, err = ParseCertificate(v); err != nil {
			return ClientSettings{}, fmt.Errorf("%s: %w", AttrEncryptionCertificate, err)
		}
	}
	if s.Encrypt {
		if s.EncryptionCert == nil {
			return ClientSettings{}, fmt.Errorf("%s is on but the client has no %s", AttrEncrypt, AttrEncryptionCertificate)
		}
		if _, ok := s.EncryptionCert.PublicKey.(*rsa.PublicKey); !ok {
			return ClientSettings{}, fmt.Errorf("%s: assertions are encrypted to RSA keys only", AttrEncryptionCertificate)
		}
		if _, err := Encrypter(s.EncryptionAlgorithm, s.KeyEncryptionAlgorithm, s.KeyEncryptionDigest, s.KeyEncryptionMGF); err != nil {
			return ClientSettings{}, err
		}
	}
	return s, nil
}

// ParseCertificate reads a certificate as client attributes and metadata
// hold it: the base64 of its DER, with or without PEM armour and line
// breaks.
func ParseCertificate(v string) (*x509.Certificate, error) {
	v = strings.TrimSpace(v)
	if block, _ := pem.Decode([]byte(v)); block != nil {
		return x509.ParseCertificate(block.Bytes)
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), ""))
	if err != nil {
		return nil, errors.New("certificate is not base64")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certificate does not parse: %v", err)
	}
	return cert, nil
}

// ValidationError is a client attribute ValidateClient refuses, with the
// message the admin API shows.
type ValidationError struct {
	Attribute string
	Msg       string
}

func (e *ValidationError) Error() string { return e.Msg }

// ValidateClient checks a SAML client's attributes as the admin API and
// the importer must before storing it; nil for other protocols.
func ValidateClient(c client.Client) error {
	if c.Protocol != "saml" {
		return nil
	}
	a := c.Attributes
	bad := func(attr, format string, args ...any) error {
		return &ValidationError{Attribute: attr, Msg: fmt.Sprintf(format, args...)}
	}
	if v := a[AttrSignatureAlgorithm]; v != "" {
		if err := CheckAlgorithm(v); err != nil {
			return bad(AttrSignatureAlgorithm, "Invalid signature algorithm: %v", err)
		}
	}
	if v := a[AttrCanonicalization]; v != "" {
		switch v {
		case CanonExclusive, CanonExclusiveWithComments, CanonInclusive, CanonInclusiveWithComments:
		default:
			return bad(AttrCanonicalization, "Invalid canonicalization method: %s", v)
		}
	}
	if v := a[AttrKeyNameTransformer]; v != "" && v != KeyNameKeyID && v != KeyNameCertSubject && v != KeyNameNone {
		return bad(AttrKeyNameTransformer, "Invalid key name transformer: %s", v)
	}
	if v := a[AttrNameIDFormat]; v != "" {
		if _, ok := nameIDFormats[v]; !ok && NameIDFormatAttribute(v) == "" {
			return bad(AttrNameIDFormat, "Invalid name ID format: %s", v)
		}
	}
	if v := strings.TrimSpace(a[AttrAssertionLifespan]); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 0 {
			return bad(AttrAssertionLifespan, "Invalid assertion lifespan: %s", v)
		}
	}
	for _, name := range []string{AttrSigningCertificate, AttrEncryptionCertificate} {
		if v := a[name]; strings.TrimSpace(v) != "" {
			if _, err := ParseCertificate(v); err != nil {
				return bad(name, "Invalid certificate in %s: %v", name, err)
			}
		}
	}
	if _, err := Encrypter(a[AttrEncryptionAlgorithm], a[AttrEncryptionKeyAlg], a[AttrEncryptionDigest], a[AttrEncryptionMGF]); err != nil {
		return bad(AttrEncryptionAlgorithm, "Invalid encryption settings: %v", err)
	}
	for _, name := range []string{AttrACSPost, AttrACSRedirect, AttrACSArtifact, AttrSLOPost, AttrSLORedirect, AttrSLOArtifact, AttrSLOSOAP} {
		if v := strings.TrimSpace(a[name]); v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return bad(name, "Invalid URL in %s: %s", name, v)
			}
		}
	}
	if v := a[AttrIdPInitiatedURLName]; v != "" && !urlNameRE.MatchString(v) {
		return bad(AttrIdPInitiatedURLName, "Invalid IDP Initiated SSO URL Name: %s", v)
	}
	return nil
}

// urlNameRE is what an IdP-initiated SSO URL name may be: one path segment.
var urlNameRE = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

// ACS chooses the assertion consumer URL and binding of a response: the
// requested URL only if registered (one of the client's ACS attributes or
// a match of its redirect URIs), else the client's URL for the binding,
// else its other ACS URL, else its admin URL. binding is the request's
// ProtocolBinding, or the binding it arrived with when it names none. The
// response goes by POST when ForcePostBinding or binding is POST (or
// Artifact, which Gatehouse answers by POST), else by Redirect.
func (s ClientSettings) ACS(requested, binding string) (url, bind string, err error) {
	bind = BindingRedirect
	if s.ForcePostBinding || binding != BindingRedirect {
		bind = BindingPOST
	}
	if requested = strings.TrimSpace(requested); requested != "" {
		// The artifact URL is not a target: Gatehouse sends no artifacts.
		for _, u := range []string{s.ACSPost, s.ACSRedirect} {
			if u != "" && u == requested {
				return requested, bind, nil
			}
		}
		if got, ok := s.Client.RedirectRules(s.AuthBase).Match(requested); ok {
			return got, bind, nil
		}
		return "", "", fmt.Errorf("saml: assertion consumer URL %q is not registered for client %q", requested, s.EntityID)
	}
	first, other := s.ACSPost, s.ACSRedirect
	otherBind := BindingRedirect
	if bind == BindingRedirect {
		first, other, otherBind = s.ACSRedirect, s.ACSPost, BindingPOST
	}
	switch {
	case first != "":
		return first, bind, nil
	case other != "":
		return other, otherBind, nil
	case s.Client.AdminURL != "":
		return s.Client.ResolveURL(s.Client.AdminURL, s.AuthBase), bind, nil
	}
	return "", "", fmt.Errorf("saml: client %q has no assertion consumer URL", s.EntityID)
}

// Fill sets what the client's settings decide in a Response: the
// AuthnStatement, which signatures, the OneTimeUse condition, the audience (the client's entity
// ID, when in has none), the assertion lifespan (when the client sets
// one), and encryption to the client's certificate with its algorithms.
func (s ClientSettings) Fill(in *ResponseInput) {
	in.AuthnStatement = s.AuthnStatement
	in.SignDocument, in.SignAssertion = s.ServerSignature, s.AssertionSignature
	in.OneTimeUse = s.OneTimeUse
	if in.Audience == "" {
		in.Audience = s.EntityID
	}
	if s.AssertionLifespan > 0 {
		in.Lifespan = s.AssertionLifespan
	}
	in.EncryptTo = nil
	if s.Encrypt {
		in.EncryptTo = s.EncryptionCert
		in.EncryptionAlgorithm, in.KeyEncryptionAlgorithm = s.EncryptionAlgorithm, s.KeyEncryptionAlgorithm
		in.KeyEncryptionDigest, in.KeyEncryptionMGF = s.KeyEncryptionDigest, s.KeyEncryptionMGF
	}
}
