package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The identity providers section: the realm's providers, adding an OpenID
// Connect, Keycloak OpenID Connect or social provider, its settings, and
// turning it on and off or deleting it, all through the admin API's
// /identity-provider endpoints.

// idpRep is the admin API's IdentityProviderRepresentation.
type idpRep = rep.IdentityProvider

// idpType is a kind of provider the console can add.
type idpType struct {
	ID, Name string
	Social   bool
	SAML     bool
}

// idpTypes are the provider kinds the "Add provider" menu offers: the
// user-defined (OpenID Connect) ones first, then the social networks, each
// group by name as Keycloak's console lists them.
func idpTypes() []idpType {
	var out []idpType
	for _, id := range idp.KindIDs() {
		k := idp.Kinds[id]
		out = append(out, idpType{ID: k.ID, Name: k.Name, Social: k.Social, SAML: k.SAML})
	}
	slices.SortStableFunc(out, func(a, b idpType) int {
		if a.Social != b.Social {
			if a.Social {
				return 1
			}
			return -1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

func idpTypeOf(id string) (idpType, bool) {
	k, ok := idp.Kinds[id]
	if !ok {
		return idpType{ID: id, Name: id}, false
	}
	return idpType{ID: k.ID, Name: k.Name, Social: k.Social, SAML: k.SAML}, true
}

// idpField is one input of a provider's settings form. Name is the
// representation's field ("trustEmail") or a config key ("config.clientId"),
// and the form field's name.
type idpField struct {
	Kind, Name, Label, Help string
	Options                 []option
	Default                 string // of a config value the representation lacks
	Required                bool
	Secret                  bool // shown empty; left empty keeps the stored value
}

// Kinds of field beside those of settings.go.
const kindSecret = "secret"

// idpBoolFields are the representation's own booleans.
var idpBoolFields = []string{"enabled", "trustEmail", "storeToken", "addReadTokenRoleOnCreate", "linkOnly", "hideOnLogin"}

// idpGet is the value of field name of x as the form shows it ("true" for
// a boolean that is on).
func idpGet(x *idpRep, name string) string {
	if k, ok := strings.CutPrefix(name, "config."); ok {
		return x.Config[k]
	}
	switch name {
	case "alias":
		return x.Alias
	case "displayName":
		return x.DisplayName
	case "firstBrokerLoginFlowAlias":
		return x.FirstBrokerLoginFlowAlias
	case "postBrokerLoginFlowAlias":
		return x.PostBrokerLoginFlowAlias
	}
	on := map[string]bool{"enabled": idpEnabled(*x), "trustEmail": x.TrustEmail, "storeToken": x.StoreToken,
		"addReadTokenRoleOnCreate": x.AddReadTokenRoleOnCreate, "linkOnly": x.LinkOnly, "hideOnLogin": x.HideOnLogin}
	if v, ok := on[name]; ok {
		return strconv.FormatBool(v)
	}
	return ""
}

// idpEnabled reports whether x is on: a representation without enabled is.
func idpEnabled(x idpRep) bool { return x.Enabled == nil || *x.Enabled }

// idpSet stores a form value into x; an empty config value is removed.
func idpSet(x *idpRep, name, v string) {
	if k, ok := strings.CutPrefix(name, "config."); ok {
		if x.Config == nil {
			x.Config = map[string]string{}
		}
		if v == "" {
			delete(x.Config, k)
		} else {
			x.Config[k] = v
		}
		return
	}
	b := v == "true"
	switch name {
	case "alias":
		x.Alias = v
	case "displayName":
		x.DisplayName = v
	case "firstBrokerLoginFlowAlias":
		x.FirstBrokerLoginFlowAlias = v
	case "postBrokerLoginFlowAlias":
		x.PostBrokerLoginFlowAlias = v
	case "enabled":
		x.Enabled = &b
	case "trustEmail":
		x.TrustEmail = b
	case "storeToken":
		x.StoreToken = b
	case "addReadTokenRoleOnCreate":
		x.AddReadTokenRoleOnCreate = b
	case "linkOnly":
		x.LinkOnly = b
	case "hideOnLogin":
		x.HideOnLogin = b
	}
}

var (
	clientAuthOptions = []option{
		{Value: "client_secret_post", Label: "Client secret sent as post"},
		{Value: "client_secret_basic", Label: "Client secret as basic auth"},
		{Value: "client_secret_jwt", Label: "JWT signed with client secret"},
		{Value: "private_key_jwt", Label: "JWT signed with private key"},
	}
	assertionAlgOptions = []option{{Value: "", Label: "Algorithm not specified"},
		{Value: "RS256", Label: "RS256"}, {Value: "RS384", Label: "RS384"}, {Value: "RS512", Label: "RS512"},
		{Value: "PS256", Label: "PS256"}, {Value: "PS384", Label: "PS384"}, {Value: "PS512", Label: "PS512"},
		{Value: "ES256", Label: "ES256"}, {Value: "ES384", Label: "ES384"}, {Value: "ES512", Label: "ES512"},
		{Value: "EdDSA", Label: "EdDSA"},
		{Value: "HS256", Label: "HS256"}, {Value: "HS384", Label: "HS384"}, {Value: "HS512", Label: "HS512"}}
	promptOptions = []option{{Value: "", Label: "Unspecified"}, {Value: "none", Label: "None"},
		{Value: "consent", Label: "Consent"}, {Value: "login", Label: "Login"}, {Value: "select_account", Label: "Select account"}}
	syncModeOptions      = []option{{Value: "IMPORT", Label: "Import"}, {Value: "LEGACY", Label: "Legacy"}, {Value: "FORCE", Label: "Force"}}
	showInAccountOptions = []option{{Value: "ALWAYS", Label: "Always"}, {Value: "WHEN_LINKED", Label: "When linked"},
		{Value: "NEVER", Label: "Never"}}
)

// idpGeneralFields open every provider's form, after the redirect URI.
func idpGeneralFields(social bool) []idpField {
	f := []idpField{{Kind: kindSection, Label: "General settings"},
		{Kind: kindText, Name: "alias", Label: "Alias", Required: true,
			Help: "The alias uniquely identifies an identity provider and it is also used to build the redirect uri."}}
	if !social {
		f = append(f, idpField{Kind: kindText, Name: "displayName", Label: "Display name",
			Help: "Friendly name for Identity Providers."})
	}
	return append(f, idpField{Kind: kindNumber, Name: "config.guiOrder", Label: "Display order",
		Help: "Number defining the order of the providers in GUI (for example, on the Login page). The lowest number will be applied first."})
}

// oidcFields are the OpenID Connect settings of oidc and keycloak-oidc,
// grouped as Keycloak's console groups them.
var oidcFields = []idpField{
	{Kind: kindSection, Label: "OpenID Connect settings"},
	{Kind: kindText, Name: "config.authorizationUrl", Label: "Authorization URL", Required: true, Help: "The Authorization Url."},
	{Kind: kindText, Name: "config.tokenUrl", Label: "Token URL", Required: true, Help: "The Token URL."},
	{Kind: kindText, Name: "config.logoutUrl", Label: "Logout URL", Help: "End session endpoint to use to logout user from external IDP."},
	{Kind: kindText, Name: "config.userInfoUrl", Label: "User Info URL", Help: "The User Info Url. This is optional."},
	{Kind: kindText, Name: "config.issuer", Label: "Issuer", Help: "The issuer identifier for the issuer of the response. If not provided, no validation will be performed."},
	{Kind: kindBool, Name: "config.validateSignature", Label: "Validate Signatures", Help: "Enable/disable signature validation of external IDP signatures."},
	{Kind: kindBool, Name: "config.useJwksUrl", Label: "Use JWKS URL", Help: "If the switch is on, identity provider public keys will be downloaded from given JWKS URL."},
	{Kind: kindText, Name: "config.jwksUrl", Label: "JWKS URL", Help: "URL where identity provider keys in JWK format are stored."},
	{Kind: kindText, Name: "config.publicKeySignatureVerifier", Label: "Validating public key", Help: "The public key in PEM format that must be used to verify external IDP signatures (when Use JWKS URL is off)."},
	{Kind: kindText, Name: "config.publicKeySignatureVerifierKeyId", Label: "Validating public key id", Help: "Explicit ID of the validating public key given above if the key ID."},
	{Kind: kindBool, Name: "config.pkceEnabled", Label: "Use PKCE", Help: "Use PKCE (Proof of Key-code exchange) for IdP Brokering."},
	{Kind: kindSelect, Name: "config.pkceMethod", Label: "PKCE Method", Default: "plain", Help: "PKCE Method to use.",
		Options: []option{{Value: "plain", Label: "plain"}, {Value: "S256", Label: "S256"}}},
	{Kind: kindSelect, Name: "config.clientAuthMethod", Label: "Client authentication", Default: "client_secret_post",
		Help:    "The client authentication method (cfr. https://openid.net/specs/openid-connect-core-1_0.html#ClientAuthentication). In case of JWT signed with private key, the realm private key is used.",
		Options: clientAuthOptions},
	{Kind: kindText, Name: "config.clientId", Label: "Client ID", Required: true, Help: "The client identifier registered with the identity provider."},
	{Kind: kindSecret, Name: "config.clientSecret", Label: "Client Secret", Secret: true, Help: "The client secret registered with the identity provider. Leave empty to keep the current secret."},
	{Kind: kindSelect, Name: "config.clientAssertionSigningAlg", Label: "Client assertion signature algorithm",
		Help:    "Signature algorithm to create JWT assertion as client authentication. In the case of JWT signed with private key or Client secret as jwt it is required. If no algorithm is specified, the following algorithm is adapted. RS256 is adapted in the case of JWT signed with private key. HS256 is adapted in the case of Client secret as jwt.",
		Options: assertionAlgOptions},
	{Kind: kindText, Name: "config.clientAssertionAudience", Label: "Client assertion audience", Help: "The audience to use for the client assertion. The default value is the IDP token endpoint URL."},
	{Kind: kindBool, Name: "config.jwtX509HeadersEnabled", Label: "Add X.509 Headers to the JWT", Help: "If enabled, the x5t (X.509 Certificate SHA-1 Thumbprint) header will be added to reference the certificate used to sign the JWT."},

	{Kind: kindSection, Label: "Advanced"},
	{Kind: kindBool, Name: "config.loginHint", Label: "Pass login_hint", Help: "Pass login_hint to identity provider."},
	{Kind: kindBool, Name: "config.passMaxAge", Label: "Pass max_age", Help: "Pass max_age to identity provider."},
	{Kind: kindBool, Name: "config.uiLocales", Label: "Pass current locale", Help: "Pass the current locale to the identity provider as a ui_locales parameter."},
	{Kind: kindBool, Name: "config.backchannelSupported", Label: "Backchannel logout", Help: "Does the external IDP support backchannel logout?"},
	{Kind: kindBool, Name: "config.sendIdTokenOnLogout", Label: "Send 'id_token_hint' in logout requests", Default: "true", Help: "If enabled, the id_token_hint parameter is sent in logout requests to the identity provider."},
	{Kind: kindBool, Name: "config.sendClientIdOnLogout", Label: "Send 'client_id' in logout requests", Help: "If enabled, the client_id parameter is sent in logout requests to the identity provider."},
	{Kind: kindBool, Name: "config.disableUserInfo", Label: "Disable user info", Help: "Disable usage of User Info service to obtain additional user information?"},
	{Kind: kindBool, Name: "config.disableNonce", Label: "Disable nonce", Help: "Do not send the nonce parameter in the authentication request. The nonce parameter is sent and verified by default."},
	{Kind: kindBool, Name: "config.disableTypeClaimCheck", Label: "Disable type claim check", Help: "Do not check the typ claim of the ID token."},
	{Kind: kindText, Name: "config.defaultScope", Label: "Scopes", Help: "The scopes to be sent when asking for authorization. It can be a space-separated list of scopes. Defaults to 'openid'."},
	{Kind: kindSelect, Name: "config.prompt", Label: "Prompt", Help: "Specifies whether the Authorization Server prompts the End-User for reauthentication and consent.", Options: promptOptions},
	{Kind: kindBool, Name: "config.acceptsPromptNoneForwardFromClient", Label: "Accepts prompt=none forward from client", Help: "This is just used together with Identity Provider Authenticator or when kc_idp_hint points to this identity provider. In case that client sends a request with prompt=none and user is not yet authenticated, the error will not be directly returned to client, but the request with prompt=none will be forwarded to this identity provider."},
	{Kind: kindNumber, Name: "config.allowedClockSkew", Label: "Allowed clock skew", Help: "Clock skew in seconds that is tolerated when validating identity provider tokens. Default value is zero."},
	{Kind: kindText, Name: "config.forwardParameters", Label: "Forwarded query parameters", Help: "Non OpenID Connect/OAuth standard query parameters to be forwarded to external IDP from the initial application request to Authorization Endpoint. Multiple parameters can be entered, separated by comma (,)."},
}

var (
	nameIDFormatOptions = []option{
		{Value: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", Label: "Persistent"},
		{Value: "urn:oasis:names:tc:SAML:2.0:nameid-format:transient", Label: "Transient"},
		{Value: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress", Label: "Email"},
		{Value: "urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos", Label: "Kerberos"},
		{Value: "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName", Label: "X.509 Subject Name"},
		{Value: "urn:oasis:names:tc:SAML:1.1:nameid-format:WindowsDomainQualifiedName", Label: "Windows Domain Qualified Name"},
		{Value: "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified", Label: "Unspecified"}}
	principalTypeOptions = []option{{Value: "SUBJECT", Label: "Subject NameID"}, {Value: "ATTRIBUTE", Label: "Attribute [Name]"},
		{Value: "FRIENDLY_ATTRIBUTE", Label: "Attribute [Friendly Name]"}}
	samlSignatureOptions = []option{{Value: "RSA_SHA256", Label: "RSA_SHA256"}, {Value: "RSA_SHA1", Label: "RSA_SHA1"},
		{Value: "RSA_SHA512", Label: "RSA_SHA512"}}
	keyNameOptions = []option{{Value: "NONE", Label: "NONE"}, {Value: "KEY_ID", Label: "KEY_ID"}, {Value: "CERT_SUBJECT", Label: "CERT_SUBJECT"}}
)

// samlIDPFields are the SAML settings of a SAML v2.0 provider, grouped as
// Keycloak's console groups them.
var samlIDPFields = []idpField{
	{Kind: kindSection, Label: "SAML settings"},
	{Kind: kindText, Name: "config.entityId", Label: "Service provider entity ID", Help: "The Entity ID that will be used to uniquely identify this SAML Service Provider. Empty means the realm's URL."},
	{Kind: kindText, Name: "config.idpEntityId", Label: "Identity provider entity ID", Help: "The Entity ID used to validate the Issuer for received SAML assertions. If empty, no Issuer validation is performed."},
	{Kind: kindText, Name: "config.singleSignOnServiceUrl", Label: "Single Sign-On service URL", Required: true, Help: "The Url that must be used to send authentication requests (SAML AuthnRequest)."},
	{Kind: kindText, Name: "config.singleLogoutServiceUrl", Label: "Single logout service URL", Help: "The Url that must be used to send logout requests."},
	{Kind: kindBool, Name: "config.backchannelSupported", Label: "Backchannel logout", Help: "Does the external IDP support backchannel logout?"},
	{Kind: kindSelect, Name: "config.nameIDPolicyFormat", Label: "NameID policy format", Default: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
		Help: "Specifies the URI reference corresponding to a name identifier format.", Options: nameIDFormatOptions},
	{Kind: kindSelect, Name: "config.principalType", Label: "Principal type", Default: "SUBJECT", Options: principalTypeOptions,
		Help: "Way to identify and track external users from the assertion. Default is using Subject NameID, alternatively you can set up identifying attribute."},
	{Kind: kindText, Name: "config.principalAttribute", Label: "Principal attribute", Help: "Name or Friendly Name of the attribute used to identify external users."},
	{Kind: kindBool, Name: "config.allowCreate", Label: "Allow create", Default: "true", Help: "Allow the external identity provider to create a new identifier to represent the principal."},
	{Kind: kindBool, Name: "config.postBindingResponse", Label: "HTTP-POST binding response", Help: "Indicates whether to respond to requests using HTTP-POST binding. If false, HTTP-REDIRECT binding will be used."},
	{Kind: kindBool, Name: "config.postBindingAuthnRequest", Label: "HTTP-POST binding for AuthnRequest", Help: "Indicates whether the AuthnRequest must be sent using HTTP-POST binding. If false, HTTP-REDIRECT binding will be used."},
	{Kind: kindBool, Name: "config.postBindingLogout", Label: "HTTP-POST binding logout", Help: "Indicates whether to respond to requests using HTTP-POST binding. If false, HTTP-REDIRECT binding will be used."},
	{Kind: kindBool, Name: "config.wantAuthnRequestsSigned", Label: "Want AuthnRequests signed", Help: "Indicates whether the identity provider expects a signed AuthnRequest."},
	{Kind: kindSelect, Name: "config.signatureAlgorithm", Label: "Signature algorithm", Default: "RSA_SHA256", Options: samlSignatureOptions,
		Help: "The signature algorithm to use to sign documents. Note that 'SHA1' based algorithms are deprecated and can be removed in the future."},
	{Kind: kindSelect, Name: "config.xmlSigKeyInfoKeyNameTransformer", Label: "SAML signature key name", Default: "KEY_ID", Options: keyNameOptions,
		Help: "Signed SAML documents contain identification of signing key in KeyName element. For Keycloak / RH-SSO counter-party, use KEY_ID, for MS AD FS use CERT_SUBJECT, for others check and use NONE if no other option works."},
	{Kind: kindBool, Name: "config.wantAssertionsSigned", Label: "Want Assertions signed", Help: "Indicates whether this service provider expects a signed Assertion."},
	{Kind: kindBool, Name: "config.wantAssertionsEncrypted", Label: "Want Assertions encrypted", Help: "Indicates whether this service provider expects an encrypted Assertion."},
	{Kind: kindBool, Name: "config.forceAuthn", Label: "Force authentication", Help: "Indicates whether the identity provider must authenticate the presenter directly rather than rely on a previous security context."},
	{Kind: kindBool, Name: "config.validateSignature", Label: "Validate Signatures", Help: "Enable/disable signature validation of SAML responses. Logins through the provider need it on."},
	{Kind: kindText, Name: "config.signingCertificate", Label: "Validating X509 certificates", Help: "The certificates in PEM format (or base64 DER) that must be used to check for signatures. Multiple certificates can be entered, separated by comma (,)."},
	{Kind: kindBool, Name: "config.signSpMetadata", Label: "Sign service provider metadata", Help: "Enable/disable signature of the provider SAML metadata."},
	{Kind: kindBool, Name: "config.loginHint", Label: "Pass subject", Help: "During login phase, forward an optional login_hint query parameter to SAML AuthnRequest's Subject."},
	{Kind: kindNumber, Name: "config.allowedClockSkew", Label: "Allowed clock skew", Help: "Clock skew in seconds that is tolerated when validating identity provider tokens. Default value is zero."},
	{Kind: kindNumber, Name: "config.attributeConsumingServiceIndex", Label: "Attribute Consuming Service Index", Help: "Index of the Attribute Consuming Service profile to request during authentication."},
	{Kind: kindText, Name: "config.attributeConsumingServiceName", Label: "Attribute Consuming Service Name", Help: "Name of the Attribute Consuming Service profile to advertise in the SP metadata."},
}

// socialFields are the client settings of a social provider, with the
// fields some of them add.
func socialFields(providerID string) []idpField {
	f := []idpField{
		{Kind: kindText, Name: "config.clientId", Label: "Client ID", Required: true, Help: "The client identifier registered with the identity provider."},
		{Kind: kindSecret, Name: "config.clientSecret", Label: "Client Secret", Secret: true, Help: "The client secret registered with the identity provider. Leave empty to keep the current secret."},
	}
	switch providerID {
	case "google":
		f = append(f,
			idpField{Kind: kindText, Name: "config.hostedDomain", Label: "Hosted domain", Help: "Set 'hd' query parameter when logging in with Google. Google will list accounts only for this domain. Keycloak validates that the returned identity token has a claim for this domain. When '*' is entered, any hosted account can be used. Comma ',' separated list of domains is supported."},
			idpField{Kind: kindBool, Name: "config.userIp", Label: "Use userIp param", Help: "Set 'userIp' query parameter when invoking on Google's User Info service. This will use the user's IP address. Useful if Google is throttling access to the User Info service."},
			idpField{Kind: kindBool, Name: "config.offlineAccess", Label: "Request refresh token", Help: "Set 'access_type' query parameter to 'offline' when redirecting to google authorization endpoint, to get a refresh token back. Useful if planning to use Token Exchange to retrieve Google token to access Google APIs when the user is not at the browser."})
	case "github":
		f = append(f,
			idpField{Kind: kindText, Name: "config.baseUrl", Label: "Base URL", Help: "Override the default Base URL for this identity provider."},
			idpField{Kind: kindText, Name: "config.apiUrl", Label: "API URL", Help: "Override the default API URL for this identity provider."})
	case "facebook":
		f = append(f, idpField{Kind: kindText, Name: "config.fetchedFields", Label: "Additional user's profile fields", Help: "Provide additional fields which would be fetched using the profile request. This will be appended to the default set of 'id,name,email,first_name,last_name'."})
	case "microsoft":
		f = append(f, idpField{Kind: kindText, Name: "config.tenantId", Label: "Tenant ID", Help: "Using a tenant ID limits access to the specified tenant. If left empty, any Microsoft account can sign in."})
	}
	return f
}

// idpAdvancedFields close every provider's form; flows are the realm's
// top-level flows to choose from.
func idpAdvancedFields(t idpType, flows []string) []idpField {
	f := []idpField{{Kind: kindSection, Label: "Advanced settings"}}
	if t.Social {
		f = append(f,
			idpField{Kind: kindText, Name: "config.defaultScope", Label: "Scopes", Help: "The scopes to be sent when asking for authorization. See the documentation for the possible values, separator and default value."},
		)
	}
	f = append(f,
		idpField{Kind: kindBool, Name: "storeToken", Label: "Store tokens", Help: "Enable/disable if tokens must be stored after authenticating users."},
		idpField{Kind: kindBool, Name: "addReadTokenRoleOnCreate", Label: "Stored tokens readable", Help: "Enable/disable if new users can read any stored tokens. This assigns the broker.read-token role."})
	if t.Social {
		f = append(f,
			idpField{Kind: kindBool, Name: "config.acceptsPromptNoneForwardFromClient", Label: "Accepts prompt=none forward from client", Help: "This is just used together with Identity Provider Authenticator or when kc_idp_hint points to this identity provider."},
			idpField{Kind: kindBool, Name: "config.disableUserInfo", Label: "Disable user info", Help: "Disable usage of User Info service to obtain additional user information?"})
	}
	if t.ID == "oidc" {
		f = append(f, idpField{Kind: kindBool, Name: "config.isAccessTokenJWT", Label: "Access Token is JWT", Help: "The Access Token received from Identity Provider is a JWT."})
	}
	claims := []idpField{
		{Kind: kindBool, Name: "config.filteredByClaim", Label: "Verify essential claim", Help: "If true, ID tokens issued by the identity provider must have a specific claim, otherwise, the user can not authenticate through this broker."},
		{Kind: kindText, Name: "config.claimFilterName", Label: "Essential claim", Help: "Name of the essential token claim."},
		{Kind: kindText, Name: "config.claimFilterValue", Label: "Essential claim value", Help: "Value of the essential token claim (with regular expression support)."}}
	if t.SAML {
		claims = nil // a SAML assertion has attributes, not claims
	}
	flowOpts := []option{{Value: "", Label: "None"}}
	for _, a := range flows {
		flowOpts = append(flowOpts, option{Value: a, Label: a})
	}
	f = append(f,
		idpField{Kind: kindBool, Name: "trustEmail", Label: "Trust Email", Help: "If enabled, email provided by this provider is not verified even if verification is enabled for the realm."},
		idpField{Kind: kindBool, Name: "linkOnly", Label: "Account linking only", Help: "If true, users cannot log in through this provider. They can only link to this provider. This is useful if you don't want to allow login from the provider, but want to integrate with a provider."},
		idpField{Kind: kindBool, Name: "hideOnLogin", Label: "Hide on login page", Help: "If hidden, login with this provider is possible only if requested explicitly, for example using the 'kc_idp_hint' parameter."},
		idpField{Kind: kindSelect, Name: "config.showInAccountConsole", Label: "Show in Account console", Default: "ALWAYS", Options: showInAccountOptions,
			Help: "Whether the provider is shown in the account console's linked accounts: always, only once the user linked it, or never."},
	)
	f = append(f, claims...)
	f = append(f,
		idpField{Kind: kindSelect, Name: "firstBrokerLoginFlowAlias", Label: "First login flow override", Options: flowOpts,
			Help: "Alias of authentication flow, which is triggered after first login with this identity provider. Term 'First Login' means that no Keycloak account is currently linked to the authenticated identity provider account. None means the realm's first broker login flow."},
		idpField{Kind: kindSelect, Name: "postBrokerLoginFlowAlias", Label: "Post login flow", Options: flowOpts,
			Help: "Alias of authentication flow, which is triggered after each login with this identity provider. Useful if you want additional verification of each user authenticated with this identity provider (for example OTP). Leave this to \"None\" if you need no any additional authenticators to be triggered after login with this identity provider."},
		idpField{Kind: kindSelect, Name: "config.syncMode", Label: "Sync mode", Default: "LEGACY", Options: syncModeOptions,
			Help: "Default sync mode for all mappers. The sync mode determines when user data will be synced using the mappers. Possible values are: 'legacy' to keep the behaviour before this option was introduced, 'import' to only import the user once during first login of the user with this identity provider, 'force' to always update the user during every login with this identity provider."},
		idpField{Kind: kindBool, Name: "config.caseSensitiveOriginalUsername", Label: "Case-sensitive username", Help: "If enabled, the original username from the identity provider is kept as is when federating users. Otherwise, the username from the identity provider is lower-cased and might not match the original value if it is case-sensitive."},
	)
	return f
}

// idpFields is the whole settings form of a provider of type t.
func idpFields(t idpType, flows []string) []idpField {
	f := idpGeneralFields(t.Social)
	switch {
	case t.Social:
		f = append(f, socialFields(t.ID)...)
	case t.SAML:
		f = append(f, samlIDPFields...)
	default:
		f = append(f, oidcFields...)
	}
	return append(f, idpAdvancedFields(t, flows)...)
}

// idpValue is a field with its value, as the form shows it.
type idpValue struct {
	idpField
	Text     string
	On       bool
	ReadOnly bool
	Error    string
	HasValue bool // a secret is stored
}

// values fills fields with x's values.
func idpValues(fields []idpField, x *idpRep, v *view, aliasFixed bool) []idpValue {
	out := make([]idpValue, 0, len(fields))
	for _, f := range fields {
		val := idpGet(x, f.Name)
		if k, ok := strings.CutPrefix(f.Name, "config."); ok {
			if _, set := x.Config[k]; !set {
				val = f.Default
			}
		}
		iv := idpValue{idpField: f, Text: val, On: val == "true", Error: v.FieldError(f.Name)}
		switch f.Kind {
		case kindSelect:
			iv.Options = selectOptions(f.Options, val)
		case kindSecret:
			iv.Text, iv.HasValue = "", val != ""
		}
		iv.ReadOnly = f.Name == "alias" && aliasFixed
		out = append(out, iv)
	}
	return out
}

// readIDPForm copies the submitted fields into x. A secret left empty keeps
// x's value, which is the API's mask when x was read from it: the API keeps
// the stored secret for the mask.
func (q *rq) readIDPForm(fields []idpField, x *idpRep, aliasFixed bool) error {
	for _, f := range fields {
		switch {
		case f.Kind == kindSection || (f.Name == "alias" && aliasFixed):
		case f.Kind == kindBool:
			idpSet(x, f.Name, strconv.FormatBool(q.checked(f.Name)))
		case f.Kind == kindSecret && q.form(f.Name) == "":
		case f.Kind == kindNumber && q.form(f.Name) != "":
			if _, err := strconv.Atoi(q.form(f.Name)); err != nil {
				return &fieldError{f.Name, "Enter a whole number."}
			}
			idpSet(x, f.Name, q.form(f.Name))
		default:
			idpSet(x, f.Name, q.form(f.Name))
		}
	}
	return nil
}

// idpPage is the data of a provider's settings page.
type idpPage struct {
	Type        idpType
	New         bool
	Action      string
	Back        string
	RedirectURI string
	Descriptor  string // a SAML provider's service provider metadata
	Discovery   string // the discovery endpoint to import from
	Document    string // or the discovery document itself
	Enabled     bool
	Fields      []idpValue
	Editable    bool
	// Refused says why a SAML provider refuses every login as configured.
	Refused string
}

// idpRow is one provider of the list.
type idpRow struct {
	rep.IdentityProvider
	Type  idpType
	On    bool
	Order string
	URL   string
}

// idpListPage is the list of the realm's providers.
type idpListPage struct {
	Rows     []idpRow
	Types    []idpType
	Editable bool
	Action   string
}

// idpPath is the admin API path of the realm's providers, or of one.
func (q *rq) idpPath(alias string) string {
	p := q.adminPath("/identity-provider/instances")
	if alias != "" {
		p += "/" + seg(alias)
	}
	return p
}

// idpURL is the console path of a provider's tab.
func (q *rq) idpURL(x idpRep, tab string) string {
	return q.realmURL("/identity-providers/" + seg(x.ProviderID) + "/" + seg(x.Alias) + "/" + tab)
}

// idpList lists the realm's providers, offers the types to add, and turns
// a provider on or off or deletes it.
func (h *Handler) idpList(q *rq) error {
	if !q.perms.can("view-identity-providers") {
		return errPage(http.StatusForbidden, "You do not have permission to view identity providers.")
	}
	v := q.view("Identity providers", "identity-providers", "")
	action := q.realmURL("/identity-providers")
	d := &idpListPage{Types: idpTypes(), Editable: q.perms.can("manage-identity-providers"), Action: action}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		alias := q.form("alias")
		var err error
		switch q.form("action") {
		case "enable", "disable":
			var x idpRep
			if err = q.get(q.idpPath(alias), &x); err == nil {
				x.Enabled = ptr(q.form("action") == "enable")
				_, err = q.api(http.MethodPut, q.idpPath(alias), x, nil)
			}
			if err == nil {
				return q.redirect(action, "saved")
			}
		case "delete":
			if _, err = q.api(http.MethodDelete, q.idpPath(alias), nil, nil); err == nil {
				return q.redirect(action, "deleted")
			}
		default:
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	var xs []idpRep
	if err := q.get(q.idpPath(""), &xs); err != nil {
		return err
	}
	for _, x := range xs {
		t, _ := idpTypeOf(x.ProviderID)
		d.Rows = append(d.Rows, idpRow{IdentityProvider: x, Type: t, On: idpEnabled(x), Order: x.Config["guiOrder"], URL: q.idpURL(x, "settings")})
	}
	slices.SortStableFunc(d.Rows, func(a, b idpRow) int { return strings.Compare(a.Alias, b.Alias) })
	return q.render(status, "identity-providers.html", v)
}

// idpView starts a page of a provider's tabs.
func (q *rq) idpView(x idpRep, t idpType, tab string) *view {
	v := q.view("Identity provider", "identity-providers", tab)
	v.Heading = t.Name
	if x.Alias != "" {
		v.Heading = x.Alias
		if x.DisplayName != "" {
			v.Heading = x.DisplayName
		}
	}
	v.Back = &link{"Identity providers", q.realmURL("/identity-providers")}
	if x.Alias != "" {
		v.Tabs = tabs(q.realmURL("/identity-providers/"+seg(x.ProviderID)+"/"+seg(x.Alias)), tab,
			"settings", "/settings", "Settings", "mappers", "/mappers", "Mappers", "permissions", "/permissions", "Permissions")
	}
	return v
}

// basicFlows are the aliases of the realm's top-level flows, which a
// provider may run after its logins. Reading them needs view-realm; an
// administrator of identity providers only gets no choices beside the
// provider's current flows.
func (q *rq) basicFlows() ([]string, error) {
	if !q.perms.can("view-realm") {
		return nil, nil
	}
	var flows []struct {
		Alias      string `json:"alias"`
		ProviderID string `json:"providerId"`
		TopLevel   bool   `json:"topLevel"`
	}
	if err := q.get(q.adminPath("/authentication/flows"), &flows); err != nil {
		return nil, err
	}
	var out []string
	for _, f := range flows {
		if f.ProviderID == "basic-flow" {
			out = append(out, f.Alias)
		}
	}
	slices.Sort(out)
	return out, nil
}

// redirectURI is the address the provider sends its answers to: what an
// administrator registers at the provider.
func (q *rq) redirectURI(alias string) string {
	if alias == "" {
		return ""
	}
	return strings.TrimSuffix(q.h.URLs.Base(q.r), "/") + "/realms/" + url.PathEscape(q.target) + "/broker/" + url.PathEscape(alias) + "/endpoint"
}

// idpCreate adds a provider of the type in the path
// (/identity-providers/{provider}/add). OpenID Connect providers can be
// filled from the provider's discovery document first.
func (h *Handler) idpCreate(q *rq) error {
	t, ok := idpTypeOf(q.r.PathValue("provider"))
	if !ok {
		return errPage(http.StatusNotFound, "Unknown identity provider type.")
	}
	if !q.perms.can("manage-identity-providers") {
		return errPage(http.StatusForbidden, "You do not have permission to manage identity providers.")
	}
	flows, err := q.basicFlows()
	if err != nil {
		return err
	}
	// The alias starts as the provider's type, as in Keycloak's console.
	x := idpRep{Alias: t.ID, ProviderID: t.ID, Enabled: ptr(true), Config: map[string]string{}}
	if t.SAML {
		x.Config["entityId"] = strings.TrimSuffix(q.h.URLs.Base(q.r), "/") + "/realms/" + url.PathEscape(q.target)
		x.Config["validateSignature"], x.Config["postBindingResponse"] = "true", "true"
	} else if !t.Social {
		x.Config["validateSignature"], x.Config["useJwksUrl"] = "true", "true"
		x.Config["pkceEnabled"], x.Config["pkceMethod"] = "true", "S256"
	}
	fields := idpFields(t, flows)
	v := q.idpView(idpRep{}, t, "settings")
	v.Title = "Add " + t.Name + " provider"
	v.Heading = v.Title
	d := &idpPage{Type: t, New: true, Action: q.r.URL.RequestURI(), Back: q.realmURL("/identity-providers"), Editable: true, Enabled: true}
	v.Data = d
	show := func(status int) error {
		d.RedirectURI = q.redirectURI(x.Alias)
		d.Fields = idpValues(fields, &x, v, false)
		return q.render(status, "identity-provider.html", v)
	}
	if !q.post() {
		return show(http.StatusOK)
	}
	if err := q.readIDPForm(fields, &x, false); err != nil {
		status, err := failed(v, err)
		if err != nil {
			return err
		}
		return show(status)
	}
	if q.form("action") == "import" {
		status, err := q.importDiscovery(v, t, d, &x)
		if err != nil {
			return err
		}
		return show(status)
	}
	if _, err := q.api(http.MethodPost, q.idpPath(""), x, nil); err != nil {
		status, err := failed(v, err)
		if err != nil {
			return err
		}
		return show(status)
	}
	return q.redirect(q.idpURL(x, "settings"), "created")
}

// importDiscovery fills x's endpoints from the provider's OpenID Provider
// metadata: fetched by the admin API from the discovery endpoint (through
// its outbound rules, not the console's), or, when no endpoint is given,
// read from the document pasted into the form (sent to the API as the file
// upload it takes).
func (q *rq) importDiscovery(v *view, t idpType, d *idpPage, x *idpRep) (int, error) {
	d.Discovery, d.Document = q.form("discoveryEndpoint"), q.form("discoveryDocument")
	var cfg map[string]string
	var err error
	field := "discoveryEndpoint"
	switch {
	case d.Discovery != "":
		_, err = q.api(http.MethodPost, q.adminPath("/identity-provider/import-config"),
			map[string]string{"providerId": t.ID, "fromUrl": d.Discovery}, &cfg)
	case d.Document != "":
		field = "discoveryDocument"
		err = q.importDocument(t.ID, d.Document, &cfg)
	case t.SAML:
		return failed(v, &fieldError{"discoveryEndpoint", "Enter the address of the provider's SAML metadata, or paste the metadata."})
	default:
		return failed(v, &fieldError{"discoveryEndpoint", "Enter the address of the provider's discovery document, or paste the document."})
	}
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Field == "" {
			ae.Field = field
		}
		return failed(v, err)
	}
	for k, val := range cfg {
		if val != "" {
			x.Config[k] = val
		}
	}
	v.Notice = "The provider's metadata was imported. Check the settings and save."
	return http.StatusOK, nil
}

// importDocument posts a discovery document to import-config as the
// multipart file upload the admin API takes.
func (q *rq) importDocument(providerID, doc string, out *map[string]string) error {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("providerId", providerID)
	name := "openid-configuration.json"
	if idp.Kinds[providerID].SAML {
		name = "descriptor.xml"
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		return err
	}
	fw.Write([]byte(doc))
	if err := mw.Close(); err != nil {
		return err
	}
	res, err := q.h.call(q.r, http.MethodPost, q.adminPath("/identity-provider/import-config"), q.sess.Access,
		mw.FormDataContentType(), body.Bytes())
	if err != nil {
		return err
	}
	if res.status < 200 || res.status > 299 {
		return readError(res)
	}
	if err := json.Unmarshal(res.body.Bytes(), out); err != nil {
		return fmt.Errorf("decode import-config: %w", err)
	}
	return nil
}

// idpLoad reads the provider of the page's path, for an administrator who
// may view identity providers; its type must be the path's.
func (q *rq) idpLoad() (idpRep, idpType, error) {
	var x idpRep
	if !q.perms.can("view-identity-providers") {
		return x, idpType{}, errPage(http.StatusForbidden, "You do not have permission to view identity providers.")
	}
	if err := q.get(q.idpPath(q.r.PathValue("alias")), &x); err != nil {
		return x, idpType{}, err
	}
	if x.ProviderID != q.r.PathValue("provider") {
		return x, idpType{}, errPage(http.StatusNotFound, "Identity provider not found.")
	}
	if x.Config == nil {
		x.Config = map[string]string{}
	}
	t, _ := idpTypeOf(x.ProviderID)
	return x, t, nil
}

// idpSettings shows and saves a provider's settings; the header's switch
// turns it on or off and its action menu deletes it.
func (h *Handler) idpSettings(q *rq) error {
	x, t, err := q.idpLoad()
	if err != nil {
		return err
	}
	flows, err := q.basicFlows()
	if err != nil {
		return err
	}
	fields := idpFields(t, flows)
	v := q.idpView(x, t, "settings")
	d := &idpPage{Type: t, Action: q.r.URL.RequestURI(), Back: q.realmURL("/identity-providers"),
		Editable: q.perms.can("manage-identity-providers"), Enabled: idpEnabled(x), RedirectURI: q.redirectURI(x.Alias)}
	if t.SAML {
		d.Descriptor = d.RedirectURI + "/descriptor"
	}
	v.Data = d
	show := func(status int) error {
		d.Fields = idpValues(fields, &x, v, true)
		return q.render(status, "identity-provider.html", v)
	}
	if !q.post() {
		if t.SAML {
			d.Refused = idp.SAMLLoginsRefused(x.Config)
		}
		return show(http.StatusOK)
	}
	var perr error
	switch q.form("action") {
	case "delete":
		if _, perr = q.api(http.MethodDelete, q.idpPath(x.Alias), nil, nil); perr == nil {
			return q.redirect(q.realmURL("/identity-providers"), "deleted")
		}
	case "enable", "disable":
		x.Enabled = ptr(q.form("action") == "enable")
		if _, perr = q.api(http.MethodPut, q.idpPath(x.Alias), x, nil); perr == nil {
			return q.redirect(q.idpURL(x, "settings"), "saved")
		}
	case "", "save":
		if perr = q.readIDPForm(fields, &x, true); perr == nil {
			if _, perr = q.api(http.MethodPut, q.idpPath(x.Alias), x, nil); perr == nil {
				return q.redirect(q.idpURL(x, "settings"), "saved")
			}
		}
	case "import":
		if perr = q.readIDPForm(fields, &x, true); perr == nil {
			status, err := q.importDiscovery(v, t, d, &x)
			if err != nil {
				return err
			}
			return show(status)
		}
	default:
		return errPage(http.StatusBadRequest, "Unknown action.")
	}
	status, err := failed(v, perr)
	if err != nil {
		return err
	}
	return show(status)
}
