package rep

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/clientkeys"
)

// OIDCClient is the client metadata of OpenID Connect Dynamic Client
// Registration 1.0 (§2) as the registration service reads and answers it,
// with the registration response members of §3.2.
type OIDCClient struct {
	ClientID                          string          `json:"client_id,omitempty"`
	ClientSecret                      string          `json:"client_secret,omitempty"`
	ClientIDIssuedAt                  int64           `json:"client_id_issued_at,omitempty"`
	ClientSecretExpiresAt             *int64          `json:"client_secret_expires_at,omitempty"`
	RegistrationAccessToken           string          `json:"registration_access_token,omitempty"`
	RegistrationClientURI             string          `json:"registration_client_uri,omitempty"`
	RedirectURIs                      []string        `json:"redirect_uris,omitempty"`
	TokenEndpointAuthMethod           string          `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes                        []string        `json:"grant_types,omitempty"`
	ResponseTypes                     []string        `json:"response_types,omitempty"`
	ClientName                        string          `json:"client_name,omitempty"`
	ClientURI                         string          `json:"client_uri,omitempty"`
	LogoURI                           string          `json:"logo_uri,omitempty"`
	PolicyURI                         string          `json:"policy_uri,omitempty"`
	TOSURI                            string          `json:"tos_uri,omitempty"`
	Scope                             string          `json:"scope,omitempty"`
	JWKSURI                           string          `json:"jwks_uri,omitempty"`
	JWKS                              json.RawMessage `json:"jwks,omitempty"`
	PostLogoutRedirectURIs            []string        `json:"post_logout_redirect_uris,omitempty"`
	BackchannelLogoutURI              string          `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired  *bool           `json:"backchannel_logout_session_required,omitempty"`
	FrontchannelLogoutURI             string          `json:"frontchannel_logout_uri,omitempty"`
	FrontchannelLogoutSessionRequired *bool           `json:"frontchannel_logout_session_required,omitempty"`
	IDTokenSignedResponseAlg          string          `json:"id_token_signed_response_alg,omitempty"`
	UserinfoSignedResponseAlg         string          `json:"userinfo_signed_response_alg,omitempty"`
	TokenEndpointAuthSigningAlg       string          `json:"token_endpoint_auth_signing_alg,omitempty"`
}

// Client attributes the OIDC metadata maps onto.
const (
	attrJWKSURL             = clientkeys.JWKSURLAttr
	attrUseJWKSURL          = clientkeys.UseJWKSURLAttr
	attrJWKSString          = "jwks.string"
	attrUseJWKSString       = "use.jwks.string"
	attrPostLogoutRedirects = "post.logout.redirect.uris"
	attrBackchannelURL      = "backchannel.logout.url"
	attrBackchannelSession  = "backchannel.logout.session.required"
	attrFrontchannelURL     = "frontchannel.logout.url"
	attrFrontchannelSession = "frontchannel.logout.session.required"
	attrUseRefreshTokens    = "use.refresh.tokens"
	attrIDTokenAlg          = "id.token.signed.response.alg"
	attrUserinfoAlg         = "user.info.response.signature.alg"
	attrTokenAuthAlg        = "token.endpoint.auth.signing.alg"
	attrLogoURI             = "logoUri"
	attrPolicyURI           = "policyUri"
	attrTOSURI              = "tosUri"
)

// authenticators maps token_endpoint_auth_method to Keycloak's client
// authenticator; "none" makes a public client instead.
var authenticators = map[string]string{
	"client_secret_basic": "client-secret",
	"client_secret_post":  "client-secret",
	"client_secret_jwt":   "client-secret-jwt",
	"private_key_jwt":     "client-jwt",
	"tls_client_auth":     "client-x509",
}

// ToClient maps OIDC metadata onto a ClientRepresentation. Absent grant and
// response types mean the specification's defaults (authorization_code,
// "code"). A jwks_uri is stored as the client's key URL and not fetched
// here: keys are read from it when a client assertion needs them.
// unsupported names a value the service refuses (an unknown
// token_endpoint_auth_method, grant or response type), or is "".
func (o OIDCClient) ToClient() (x Client, unsupported string) {
	t, f := true, false
	x.ClientID = o.ClientID
	x.Protocol = new(OpenIDConnect)
	x.Attributes = map[string]string{}
	if o.ClientName != "" {
		x.Name = new(o.ClientName)
	}
	if o.ClientURI != "" {
		x.BaseURL = new(o.ClientURI)
	}
	x.RedirectURIs = slices.Clone(o.RedirectURIs)
	if x.RedirectURIs == nil {
		x.RedirectURIs = []string{}
	}
	switch m := o.TokenEndpointAuthMethod; {
	case m == "none":
		x.PublicClient = &t
	case m == "":
		x.PublicClient, x.ClientAuthenticatorType = &f, new("client-secret")
	case authenticators[m] != "":
		x.PublicClient, x.ClientAuthenticatorType = &f, new(authenticators[m])
	default:
		return x, "token_endpoint_auth_method"
	}
	grants := o.GrantTypes
	if len(grants) == 0 {
		grants = []string{"authorization_code"}
	}
	x.StandardFlowEnabled, x.ImplicitFlowEnabled, x.DirectAccessGrantsEnabled, x.ServiceAccountsEnabled = &f, &f, &f, &f
	x.Attributes[attrUseRefreshTokens] = "false"
	for _, g := range grants {
		switch g {
		case "authorization_code":
			x.StandardFlowEnabled = &t
		case "implicit":
			x.ImplicitFlowEnabled = &t
		case "password":
			x.DirectAccessGrantsEnabled = &t
		case "client_credentials":
			x.ServiceAccountsEnabled = &t
		case "refresh_token":
			x.Attributes[attrUseRefreshTokens] = "true"
		default:
			return x, "grant_types"
		}
	}
	for _, rt := range o.ResponseTypes {
		for part := range strings.FieldsSeq(rt) {
			switch part {
			case "code":
				x.StandardFlowEnabled = &t
			case "token", "id_token":
				x.ImplicitFlowEnabled = &t
			case "none":
			default:
				return x, "response_types"
			}
		}
	}
	// scope names the client's optional client scopes; naming any replaces
	// the realm's default links, as a representation naming scopes does.
	if o.Scope != "" {
		x.OptionalClientScopes = strings.Fields(o.Scope)
	}
	if o.JWKSURI != "" {
		x.Attributes[attrJWKSURL], x.Attributes[attrUseJWKSURL] = o.JWKSURI, "true"
	}
	if len(o.JWKS) > 0 && string(o.JWKS) != "null" {
		x.Attributes[attrJWKSString], x.Attributes[attrUseJWKSString] = string(o.JWKS), "true"
	}
	if len(o.PostLogoutRedirectURIs) > 0 {
		x.Attributes[attrPostLogoutRedirects] = strings.Join(o.PostLogoutRedirectURIs, "##")
	}
	for attr, v := range map[string]string{
		attrBackchannelURL: o.BackchannelLogoutURI, attrFrontchannelURL: o.FrontchannelLogoutURI,
		attrIDTokenAlg: o.IDTokenSignedResponseAlg, attrUserinfoAlg: o.UserinfoSignedResponseAlg,
		attrTokenAuthAlg: o.TokenEndpointAuthSigningAlg,
		attrLogoURI:      o.LogoURI, attrPolicyURI: o.PolicyURI, attrTOSURI: o.TOSURI,
	} {
		if v != "" {
			x.Attributes[attr] = v
		}
	}
	if o.BackchannelLogoutSessionRequired != nil {
		x.Attributes[attrBackchannelSession] = boolString(*o.BackchannelLogoutSessionRequired)
	}
	if o.FrontchannelLogoutURI != "" {
		x.FrontchannelLogout = &t
	}
	if o.FrontchannelLogoutSessionRequired != nil {
		x.Attributes[attrFrontchannelSession] = boolString(*o.FrontchannelLogoutSessionRequired)
	}
	return x, ""
}

// OIDCClientFromClient is the metadata the registration service answers
// for a stored client (without the registration members, which the caller
// adds).
func OIDCClientFromClient(x Client) OIDCClient {
	o := OIDCClient{ClientID: x.ClientID, RedirectURIs: x.RedirectURIs}
	a := x.Attributes
	if x.Name != nil {
		o.ClientName = *x.Name
	}
	if x.BaseURL != nil {
		o.ClientURI = *x.BaseURL
	}
	switch {
	case x.PublicClient != nil && *x.PublicClient:
		o.TokenEndpointAuthMethod = "none"
	case x.ClientAuthenticatorType != nil && *x.ClientAuthenticatorType != "client-secret":
		for m, auth := range authenticators {
			if auth == *x.ClientAuthenticatorType {
				o.TokenEndpointAuthMethod = m
			}
		}
	default:
		o.TokenEndpointAuthMethod = "client_secret_basic"
		if x.Secret != nil {
			o.ClientSecret = *x.Secret
		}
	}
	on := func(b *bool) bool { return b != nil && *b }
	o.GrantTypes, o.ResponseTypes = []string{}, []string{"none"}
	if on(x.StandardFlowEnabled) {
		o.GrantTypes = append(o.GrantTypes, "authorization_code")
		o.ResponseTypes = []string{"code"}
	}
	if on(x.ImplicitFlowEnabled) {
		o.GrantTypes = append(o.GrantTypes, "implicit")
		o.ResponseTypes = append(slices.DeleteFunc(o.ResponseTypes, func(s string) bool { return s == "none" }), "id_token", "token", "id_token token")
		if on(x.StandardFlowEnabled) {
			o.ResponseTypes = append(o.ResponseTypes, "code id_token", "code token", "code id_token token")
		}
	}
	if on(x.DirectAccessGrantsEnabled) {
		o.GrantTypes = append(o.GrantTypes, "password")
	}
	if on(x.ServiceAccountsEnabled) {
		o.GrantTypes = append(o.GrantTypes, "client_credentials")
	}
	if a[attrUseRefreshTokens] != "false" {
		o.GrantTypes = append(o.GrantTypes, "refresh_token")
	}
	o.Scope = strings.Join(x.OptionalClientScopes, " ")
	if a[attrUseJWKSURL] == "true" {
		o.JWKSURI = a[attrJWKSURL]
	}
	if a[attrUseJWKSString] == "true" && a[attrJWKSString] != "" {
		o.JWKS = json.RawMessage(a[attrJWKSString])
	}
	if p := a[attrPostLogoutRedirects]; p != "" {
		o.PostLogoutRedirectURIs = strings.Split(p, "##")
	}
	o.BackchannelLogoutURI, o.FrontchannelLogoutURI = a[attrBackchannelURL], a[attrFrontchannelURL]
	o.IDTokenSignedResponseAlg, o.UserinfoSignedResponseAlg, o.TokenEndpointAuthSigningAlg = a[attrIDTokenAlg], a[attrUserinfoAlg], a[attrTokenAuthAlg]
	o.LogoURI, o.PolicyURI, o.TOSURI = a[attrLogoURI], a[attrPolicyURI], a[attrTOSURI]
	if v, ok := a[attrBackchannelSession]; ok {
		b := v == "true"
		o.BackchannelLogoutSessionRequired = &b
	}
	if v, ok := a[attrFrontchannelSession]; ok {
		b := v == "true"
		o.FrontchannelLogoutSessionRequired = &b
	}
	return o
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
