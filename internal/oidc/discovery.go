package oidc

import (
	"context"
	"github.com/gatehouse-iam/gatehouse/internal/authflow"
	"net/http"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/device"
	"github.com/gatehouse-iam/gatehouse/internal/jar"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/uma"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// discoveryDoc is the OpenID provider metadata. It lists only what Gatehouse
// implements: a client that reads it never tries a grant, response type or
// authentication method that would then fail.
type discoveryDoc struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	CheckSessionIframe                         string   `json:"check_session_iframe"`
	RegistrationEndpoint                       string   `json:"registration_endpoint"`
	DeviceAuthorizationEndpoint                string   `json:"device_authorization_endpoint"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	AuthorizationSigningAlgValuesSupported     []string `json:"authorization_signing_alg_values_supported"`
	SubjectTypesSupported                      []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	UserinfoSigningAlgValuesSupported          []string `json:"userinfo_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	ClaimsSupported                            []string `json:"claims_supported"`
	ClaimTypesSupported                        []string `json:"claim_types_supported"`
	ClaimsParameterSupported                   bool     `json:"claims_parameter_supported"`
	ACRValuesSupported                         []string `json:"acr_values_supported"`
	ScopesSupported                            []string `json:"scopes_supported"`
	PromptValuesSupported                      []string `json:"prompt_values_supported"`
	RequestParameterSupported                  bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported               bool     `json:"request_uri_parameter_supported"`
	RequestObjectSigningAlgValuesSupported     []string `json:"request_object_signing_alg_values_supported"`
	PushedAuthorizationRequestEndpoint         string   `json:"pushed_authorization_request_endpoint"`
	RequirePushedAuthorizationRequests         bool     `json:"require_pushed_authorization_requests"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	TLSClientCertificateBoundAccessTokens      bool     `json:"tls_client_certificate_bound_access_tokens"`
	TokenEndpointAuthSigningAlgs               []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	IntrospectionEndpointAuthSigningAlgs       []string `json:"introspection_endpoint_auth_signing_alg_values_supported"`
	RevocationEndpointAuthSigningAlgs          []string `json:"revocation_endpoint_auth_signing_alg_values_supported"`
	BackchannelLogoutSupported                 bool     `json:"backchannel_logout_supported"`
	BackchannelLogoutSessionSupported          bool     `json:"backchannel_logout_session_supported"`
	FrontchannelLogoutSupported                bool     `json:"frontchannel_logout_supported"`
	FrontchannelLogoutSessionSupported         bool     `json:"frontchannel_logout_session_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	DPoPSigningAlgValuesSupported              []string `json:"dpop_signing_alg_values_supported"`
}

func (h *Handler) discovery(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	doc, err := h.discoveryDocument(r, rl)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-cache")
	return web.WriteJSON(w, http.StatusOK, doc)
}

// discoveryDocument is the realm's OpenID provider metadata, which the UMA
// document repeats in part.
func (h *Handler) discoveryDocument(r *http.Request, rl realm.Realm) (discoveryDoc, error) {
	scopes, err := h.publishedScopes(r.Context(), rl)
	if err != nil {
		return discoveryDoc{}, err
	}
	model, err := h.Store.GetAuthConfig(r.Context(), rl.ID)
	if err != nil {
		return discoveryDoc{}, err
	}
	iss := h.URLs.RealmURL(r, rl.Name)
	oidc := iss + "/protocol/openid-connect"
	// Every public-key algorithm: a realm without a key for one makes a
	// fallback key on first use (see signingKey), so each is available.
	signingAlgs := keys.AsymmetricAlgorithms
	// The JWT modes are JARM (internal/login/jarm.go): responses signed
	// with any public-key algorithm, never encrypted.
	responseModes := []string{"query", "fragment", "form_post", "query.jwt", "fragment.jwt", "form_post.jwt", "jwt"}
	secretMethods := []string{"private_key_jwt", "client_secret_basic", "client_secret_post", "client_secret_jwt"}
	doc := discoveryDoc{
		Issuer:                                    iss,
		AuthorizationEndpoint:                     oidc + "/auth",
		TokenEndpoint:                             oidc + "/token",
		IntrospectionEndpoint:                     oidc + "/token/introspect",
		UserinfoEndpoint:                          oidc + "/userinfo",
		EndSessionEndpoint:                        oidc + "/logout",
		JWKSURI:                                   oidc + "/certs",
		RevocationEndpoint:                        oidc + "/revoke",
		CheckSessionIframe:                        oidc + "/login-status-iframe.html",
		RegistrationEndpoint:                      iss + "/clients-registrations/openid-connect",
		DeviceAuthorizationEndpoint:               oidc + "/auth/device",
		PromptValuesSupported:                     []string{"none", "login", "consent"},
		GrantTypesSupported:                       []string{"authorization_code", "client_credentials", "password", "refresh_token", grantTokenExchange, device.GrantType, uma.GrantType},
		ResponseTypesSupported:                    client.ResponseTypes,
		ResponseModesSupported:                    responseModes,
		AuthorizationSigningAlgValuesSupported:    signingAlgs,
		SubjectTypesSupported:                     []string{"public"},
		IDTokenSigningAlgValuesSupported:          signingAlgs,
		UserinfoSigningAlgValuesSupported:         append(slices.Clone(signingAlgs), "none"),
		TokenEndpointAuthSigningAlgs:              assertionAlgs,
		IntrospectionEndpointAuthSigningAlgs:      assertionAlgs,
		RevocationEndpointAuthSigningAlgs:         assertionAlgs,
		TokenEndpointAuthMethodsSupported:         secretMethods,
		IntrospectionEndpointAuthMethodsSupported: secretMethods,
		RevocationEndpointAuthMethodsSupported:    secretMethods,
		ClaimsSupported: []string{"aud", "sub", "iss", "auth_time", "name", "given_name", "family_name",
			"preferred_username", "email", "acr", "azp", "nonce", "exp", "iat"},
		ClaimTypesSupported:                        []string{"normal"},
		ACRValuesSupported:                         authflow.ACRValuesSupported(rl, model),
		ScopesSupported:                            scopes,
		CodeChallengeMethodsSupported:              []string{"plain", "S256"},
		AuthorizationResponseIssParameterSupported: true,
		// A DPoP proof may use any public-key algorithm (token.VerifyProof).
		DPoPSigningAlgValuesSupported: keys.AsymmetricAlgorithms,
		// request_uri is served for the PAR endpoint's own URNs only.
		RequestParameterSupported:              true,
		RequestURIParameterSupported:           true,
		RequestObjectSigningAlgValuesSupported: jar.Algorithms,
		PushedAuthorizationRequestEndpoint:     oidc + "/ext/par/request",
		// Back-channel logout tokens are sent (internal/backchannel),
		// with sid for clients that ask for it.
		BackchannelLogoutSupported:        true,
		BackchannelLogoutSessionSupported: true,
		// The logout page frames each client's frontchannel.logout.url
		// (internal/login/frontchannel.go), with iss and sid on request.
		FrontchannelLogoutSupported:        true,
		FrontchannelLogoutSessionSupported: true,
	}
	return doc, nil
}

// umaDoc is the UMA 2.0 authorization server metadata (UMA 2.0 Grant §2),
// in Keycloak's field order: the OpenID provider's endpoints and
// capabilities, and the protection API's three endpoints.
type umaDoc struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	RegistrationEndpoint              string   `json:"registration_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgs      []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResourceRegistrationEndpoint      string   `json:"resource_registration_endpoint"`
	PermissionEndpoint                string   `json:"permission_endpoint"`
	PolicyEndpoint                    string   `json:"policy_endpoint"`
}

// umaConfiguration serves GET /realms/{realm}/.well-known/uma2-configuration.
func (h *Handler) umaConfiguration(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	d, err := h.discoveryDocument(r, rl)
	if err != nil {
		return err
	}
	protection := d.Issuer + "/authz/protection"
	doc := umaDoc{
		Issuer:                            d.Issuer,
		AuthorizationEndpoint:             d.AuthorizationEndpoint,
		TokenEndpoint:                     d.TokenEndpoint,
		IntrospectionEndpoint:             d.IntrospectionEndpoint,
		EndSessionEndpoint:                d.EndSessionEndpoint,
		JWKSURI:                           d.JWKSURI,
		GrantTypesSupported:               d.GrantTypesSupported,
		ResponseTypesSupported:            d.ResponseTypesSupported,
		ResponseModesSupported:            d.ResponseModesSupported,
		RegistrationEndpoint:              d.RegistrationEndpoint,
		TokenEndpointAuthMethodsSupported: d.TokenEndpointAuthMethodsSupported,
		TokenEndpointAuthSigningAlgs:      d.TokenEndpointAuthSigningAlgs,
		ScopesSupported:                   d.ScopesSupported,
		ResourceRegistrationEndpoint:      protection + "/resource_set",
		PermissionEndpoint:                protection + "/permission",
		PolicyEndpoint:                    protection + "/uma-policy",
	}
	w.Header().Set("Cache-Control", "no-cache")
	return web.WriteJSON(w, http.StatusOK, doc)
}

// publishedScopes is "openid" and every OpenID Connect client scope whose
// "include in OpenID provider metadata" flag is not off.
func (h *Handler) publishedScopes(ctx context.Context, rl realm.Realm) ([]string, error) {
	all, err := h.Store.ListClientScopes(ctx, rl.ID)
	if err != nil {
		return nil, err
	}
	out := []string{"openid"}
	for _, s := range all {
		if (s.Protocol == "" || s.Protocol == "openid-connect") && s.Attributes["include.in.openid.provider.metadata"] != "false" {
			out = append(out, s.Name)
		}
	}
	return out, nil
}
