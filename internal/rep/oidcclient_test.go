package rep_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
)

func TestOIDCClientMapping(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		unsupported string
		check       func(t *testing.T, x rep.Client, back rep.OIDCClient)
	}{
		{name: "no grant or response type means authorization code", in: `{"redirect_uris":["https://a/cb"]}`,
			check: func(t *testing.T, x rep.Client, back rep.OIDCClient) {
				if !*x.StandardFlowEnabled || *x.ImplicitFlowEnabled || *x.PublicClient || *x.ClientAuthenticatorType != "client-secret" {
					t.Errorf("%+v", x)
				}
				if !slices.Equal(back.GrantTypes, []string{"authorization_code"}) || back.TokenEndpointAuthMethod != "client_secret_basic" {
					t.Errorf("back: %+v", back)
				}
			}},
		{name: "none makes a public client", in: `{"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}`,
			check: func(t *testing.T, x rep.Client, back rep.OIDCClient) {
				if !*x.PublicClient || back.TokenEndpointAuthMethod != "none" || !slices.Contains(back.GrantTypes, "refresh_token") {
					t.Errorf("%+v / %+v", x, back)
				}
			}},
		{name: "private_key_jwt with a key URL kept as given", in: `{"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://a/jwks","grant_types":["client_credentials"]}`,
			check: func(t *testing.T, x rep.Client, back rep.OIDCClient) {
				if *x.ClientAuthenticatorType != "client-jwt" || !*x.ServiceAccountsEnabled || *x.StandardFlowEnabled || x.Attributes["jwks.url"] != "https://a/jwks" {
					t.Errorf("%+v", x)
				}
				if back.TokenEndpointAuthMethod != "private_key_jwt" || back.JWKSURI != "https://a/jwks" || !slices.Equal(back.GrantTypes, []string{"client_credentials"}) {
					t.Errorf("back: %+v", back)
				}
			}},
		{name: "id_token response type turns on the implicit flow", in: `{"response_types":["code id_token"],"grant_types":["authorization_code","implicit"]}`,
			check: func(t *testing.T, x rep.Client, back rep.OIDCClient) {
				if !*x.ImplicitFlowEnabled || !*x.StandardFlowEnabled || !slices.Contains(back.ResponseTypes, "code id_token") {
					t.Errorf("%+v / %v", x, back.ResponseTypes)
				}
			}},
		{name: "inline keys and logout URIs", in: `{"jwks":{"keys":[]},"post_logout_redirect_uris":["https://a/1","https://a/2"],"backchannel_logout_uri":"https://a/bc","backchannel_logout_session_required":true}`,
			check: func(t *testing.T, x rep.Client, back rep.OIDCClient) {
				if x.Attributes["jwks.string"] != `{"keys":[]}` || x.Attributes["post.logout.redirect.uris"] != "https://a/1##https://a/2" || x.Attributes["backchannel.logout.session.required"] != "true" {
					t.Errorf("%v", x.Attributes)
				}
				if string(back.JWKS) != `{"keys":[]}` || len(back.PostLogoutRedirectURIs) != 2 || back.BackchannelLogoutURI != "https://a/bc" || !*back.BackchannelLogoutSessionRequired {
					t.Errorf("back: %+v", back)
				}
			}},
		{name: "an unknown auth method is refused", in: `{"token_endpoint_auth_method":"magic"}`, unsupported: "token_endpoint_auth_method"},
		{name: "an unknown grant is refused", in: `{"grant_types":["urn:x"]}`, unsupported: "grant_types"},
		{name: "an unknown response type is refused", in: `{"response_types":["code bogus"]}`, unsupported: "response_types"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o rep.OIDCClient
			if err := json.Unmarshal([]byte(tt.in), &o); err != nil {
				t.Fatal(err)
			}
			x, bad := o.ToClient()
			if bad != tt.unsupported {
				t.Fatalf("unsupported %q, want %q", bad, tt.unsupported)
			}
			if tt.check != nil {
				tt.check(t, x, rep.OIDCClientFromClient(x))
			}
		})
	}
}
