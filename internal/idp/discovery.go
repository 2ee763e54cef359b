package idp

import (
	"encoding/json"
	"errors"
)

// ConfigFromDiscovery reads an OpenID Connect discovery document (the JSON
// of /.well-known/openid-configuration) into the configuration keys of an
// OIDC provider: its endpoints, issuer and key set. A document without an
// authorization and a token endpoint is refused.
func ConfigFromDiscovery(doc []byte) (map[string]string, error) {
	var d struct {
		Issuer                string `json:"issuer"`
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
		UserinfoEndpoint      string `json:"userinfo_endpoint"`
		EndSessionEndpoint    string `json:"end_session_endpoint"`
		JWKSURI               string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, errors.New("the discovery document is not a JSON object")
	}
	if d.AuthorizationEndpoint == "" || d.TokenEndpoint == "" {
		return nil, errors.New("the discovery document has no authorization or token endpoint")
	}
	out := map[string]string{
		ConfigAuthorizationURL: d.AuthorizationEndpoint,
		ConfigTokenURL:         d.TokenEndpoint,
	}
	for k, v := range map[string]string{ConfigIssuer: d.Issuer, ConfigUserInfoURL: d.UserinfoEndpoint, ConfigLogoutURL: d.EndSessionEndpoint} {
		if v != "" {
			out[k] = v
		}
	}
	if d.JWKSURI != "" {
		out[ConfigJWKSURL], out[ConfigUseJWKSURL], out[ConfigValidateSignature] = d.JWKSURI, "true", "true"
	}
	return out, nil
}
