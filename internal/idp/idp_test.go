package idp

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/secret"
)

func TestValidate(t *testing.T) {
	secure := func(host string) bool { return host != "localhost" }
	good := New("corp", "oidc")
	good.Config = map[string]string{ConfigAuthorizationURL: "https://up.example/auth", ConfigTokenURL: "http://localhost:8080/token"}
	if err := good.Validate(secure); err != nil {
		t.Fatalf("good provider refused: %v", err)
	}
	for name, c := range map[string]struct {
		p    Provider
		want string
	}{
		"no alias":       {Provider{ProviderID: "oidc"}, "Identity provider alias is missing"},
		"space":          {Provider{Alias: "a b", ProviderID: "oidc"}, "Empty Space not allowed."},
		"slash":          {Provider{Alias: "a/b", ProviderID: "oidc"}, "Character '/' not allowed."},
		"unknown kind":   {Provider{Alias: "a", ProviderID: "saml2"}, "Invalid identity provider id [saml2]"},
		"saml url":       {Provider{Alias: "a", ProviderID: "saml", Config: map[string]string{SAMLSingleSignOnURL: "ftp://x/y"}}, "Invalid protocol/scheme for url [singleSignOnServiceUrl]"},
		"saml transient": {Provider{Alias: "a", ProviderID: "saml", Config: map[string]string{SAMLNameIDPolicyFormat: NameIDTransient}}, "Can not have Transient NameID Policy Format together with SUBJECT Principal Type"},
		"sync mode":      {Provider{Alias: "a", ProviderID: "oidc", SyncMode: "x"}, "Invalid sync mode [x]"},
		"bad scheme":     {Provider{Alias: "a", ProviderID: "oidc", Config: map[string]string{ConfigTokenURL: "ftp://x/y"}}, "Invalid protocol/scheme for url [token_url]"},
		"malformed":      {Provider{Alias: "a", ProviderID: "oidc", Config: map[string]string{ConfigJWKSURL: "::"}}, "The url [jwks_url] is malformed"},
		"insecure":       {Provider{Alias: "a", ProviderID: "oidc", Config: map[string]string{ConfigUserInfoURL: "http://up.example/u"}}, "The url [userinfo_url] requires secure connections"},
		"auth method":    {Provider{Alias: "a", ProviderID: "keycloak-oidc", Config: map[string]string{ConfigClientAuthMethod: "none"}}, "Invalid client authentication method [none]"},
	} {
		err := c.p.Validate(secure)
		if err == nil || err.Error() != c.want || !IsValidationError(err) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
}

func TestSecrets(t *testing.T) {
	stored := map[string]string{ConfigClientSecret: "s3cret", ConfigClientID: "c"}
	m := Masked(stored)
	if m[ConfigClientSecret] != secret.Mask || m[ConfigClientID] != "c" || stored[ConfigClientSecret] != "s3cret" {
		t.Fatalf("masked: %v (stored %v)", m, stored)
	}
	if v := Masked(map[string]string{ConfigClientSecret: "${vault.x}"}); v[ConfigClientSecret] != "${vault.x}" {
		t.Errorf("vault reference masked: %v", v)
	}
	sent := map[string]string{ConfigClientSecret: secret.Mask, ConfigClientID: "d"}
	KeepMaskedSecrets(sent, stored)
	if sent[ConfigClientSecret] != "s3cret" || sent[ConfigClientID] != "d" {
		t.Errorf("kept: %v", sent)
	}
	sent = map[string]string{ConfigClientSecret: secret.Mask}
	KeepMaskedSecrets(sent, map[string]string{})
	if _, ok := sent[ConfigClientSecret]; ok {
		t.Errorf("the mask was stored as a secret: %v", sent)
	}
}
