package idp

import (
	"strconv"
	"strings"
)

// Configuration keys of a SAML 2.0 identity provider (ProviderID "saml"),
// as the admin API and a realm export name them. Gatehouse is the service
// provider; the upstream is the identity provider.
const (
	// SAMLEntityID is Gatehouse's own (service provider) entity id; unset,
	// the realm's URL.
	SAMLEntityID              = "entityId"
	SAMLIdPEntityID           = "idpEntityId"
	SAMLSingleSignOnURL       = "singleSignOnServiceUrl"
	SAMLSingleLogoutURL       = "singleLogoutServiceUrl"
	SAMLArtifactResolutionURL = "artifactResolutionServiceUrl"
	SAMLNameIDPolicyFormat    = "nameIDPolicyFormat"
	SAMLPrincipalType         = "principalType"
	SAMLPrincipalAttribute    = "principalAttribute"
	SAMLPostBindingAuthn      = "postBindingAuthnRequest"
	SAMLPostBindingResponse   = "postBindingResponse"
	SAMLPostBindingLogout     = "postBindingLogout"
	SAMLWantAuthnSigned       = "wantAuthnRequestsSigned"
	SAMLSignatureAlgorithm    = "signatureAlgorithm"
	SAMLKeyNameTransformer    = "xmlSigKeyInfoKeyNameTransformer"
	SAMLWantAssertionsSigned  = "wantAssertionsSigned"
	SAMLWantAssertionsEncrypt = "wantAssertionsEncrypted"
	SAMLEncryptionAlgorithm   = "encryptionAlgorithm"
	SAMLValidateSignature     = "validateSignature"
	SAMLSigningCertificate    = "signingCertificate"
	SAMLForceAuthn            = "forceAuthn"
	SAMLAllowCreate           = "allowCreate"
	SAMLAllowedClockSkew      = "allowedClockSkew"
	SAMLAttributeConsumingIdx = "attributeConsumingServiceIndex"
	SAMLAttributeConsumingNam = "attributeConsumingServiceName"
	SAMLBackchannelSupported  = "backchannelSupported"
	SAMLUseMetadataURL        = "useMetadataDescriptorUrl"
	SAMLEnabledFromMetadata   = "enabledFromMetadata"
	SAMLSignSPMetadata        = "signSpMetadata"
	SAMLLoginHint             = "loginHint"
)

// Principal types: what names the user at the upstream (the federated
// user id): the assertion's Subject NameID, or an attribute found by its
// Name or its FriendlyName.
const (
	PrincipalSubject           = "SUBJECT"
	PrincipalAttribute         = "ATTRIBUTE"
	PrincipalFriendlyAttribute = "FRIENDLY_ATTRIBUTE"
)

// NameIDTransient is the transient NameID format, a fresh name at every
// login, which cannot identify a returning user.
const NameIDTransient = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"

// SAMLSignatureAlgorithms are the signature algorithms a SAML provider's
// requests may be signed with, by their configuration names.
var SAMLSignatureAlgorithms = []string{"RSA_SHA1", "RSA_SHA256", "RSA_SHA256_MGF1", "RSA_SHA512", "RSA_SHA512_MGF1", "DSA_SHA1"}

// SAMLKeyNameTransformers are the values of xmlSigKeyInfoKeyNameTransformer.
var SAMLKeyNameTransformers = []string{"NONE", "KEY_ID", "CERT_SUBJECT"}

// validateSAML checks a SAML provider's configuration: its URLs, and a
// NameID policy that can name a returning user when the NameID is the
// principal.
func validateSAML(cfg map[string]string, secureRequired func(string) bool) error {
	for _, key := range []string{SAMLSingleLogoutURL, SAMLSingleSignOnURL, ConfigMetadataDescriptorURL, SAMLArtifactResolutionURL} {
		if err := checkURL(cfg[key], key, secureRequired); err != nil {
			return err
		}
	}
	if cfg[SAMLUseMetadataURL] == "true" && strings.TrimSpace(cfg[ConfigMetadataDescriptorURL]) == "" {
		return invalid(SAMLUseMetadataURL + " needs a non-empty URL for " + ConfigMetadataDescriptorURL)
	}
	if cfg[SAMLNameIDPolicyFormat] == NameIDTransient && SAMLPrincipal(cfg) == PrincipalSubject {
		return invalid("Can not have Transient NameID Policy Format together with SUBJECT Principal Type")
	}
	return nil
}

// SAMLPrincipal is the provider's principal type, SUBJECT unless another
// known type is configured.
func SAMLPrincipal(cfg map[string]string) string {
	switch v := cfg[SAMLPrincipalType]; v {
	case PrincipalAttribute, PrincipalFriendlyAttribute:
		return v
	}
	return PrincipalSubject
}

// SAMLClockSkew is the configured allowed clock skew in seconds; a missing,
// malformed or negative value is 0.
func SAMLClockSkew(cfg map[string]string) int {
	n, err := strconv.Atoi(strings.TrimSpace(cfg[SAMLAllowedClockSkew]))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// SAMLLoginsRefused says why logins through a SAML provider configured
// with cfg are refused, "" when they are not: Gatehouse accepts only a
// Response whose signature it checks with a configured certificate, as an
// unsigned one proves nothing about who sent it.
func SAMLLoginsRefused(cfg map[string]string) string {
	if cfg[SAMLValidateSignature] != "true" {
		return "signature validation is off"
	}
	if len(SAMLSigningCertificates(cfg)) == 0 {
		return "no signing certificate to validate the upstream's signature with"
	}
	return ""
}

// SAMLSigningCertificates are the upstream's signing certificates, as
// configured: base64 DER (or PEM) certificates separated by commas.
func SAMLSigningCertificates(cfg map[string]string) []string {
	var out []string
	for c := range strings.SplitSeq(cfg[SAMLSigningCertificate], ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}
