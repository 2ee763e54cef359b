package admin_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/server"
)

// upstreamSAMLMetadata is a third-party identity provider's metadata
// (crewjam/saml's IdentityProvider) and its signing certificate.
func upstreamSAMLMetadata(t *testing.T) (string, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "upstream"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	meta, _ := url.Parse("https://idp.example/metadata")
	sso, _ := url.Parse("https://idp.example/sso")
	slo, _ := url.Parse("https://idp.example/slo")
	up := &crewjam.IdentityProvider{Key: key, Certificate: cert, MetadataURL: *meta, SSOURL: *sso, LogoutURL: *slo,
		WantAuthnRequestsSigned: true, NameIDFormats: []crewjam.NameIDFormat{crewjam.PersistentNameIDFormat}}
	b, err := xml.Marshal(up.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	return string(b), cert
}

// TestIdentityProviderSAMLImportConfig: SAML metadata, uploaded or
// fetched through the outbound client, gives a SAML provider's
// configuration under Keycloak's keys.
func TestIdentityProviderSAMLImportConfig(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		s.newRealm("idp")
		tok := s.adminToken()
		md, cert := upstreamSAMLMetadata(t)
		st, b := s.upload(t, tok, "saml", md)
		var cfg map[string]string
		json.Unmarshal(b, &cfg)
		if st != 200 || cfg["idpEntityId"] != "https://idp.example/metadata" || cfg["singleSignOnServiceUrl"] != "https://idp.example/sso" ||
			cfg["postBindingAuthnRequest"] != "true" || cfg["postBindingResponse"] != "true" || cfg["wantAuthnRequestsSigned"] != "true" ||
			cfg["validateSignature"] != "true" || cfg["signingCertificate"] != base64.StdEncoding.EncodeToString(cert.Raw) ||
			cfg["nameIDPolicyFormat"] != string(crewjam.PersistentNameIDFormat) || cfg["singleLogoutServiceUrl"] != "https://idp.example/slo" {
			t.Fatalf("file import: %d %s", st, b)
		}
		if st, b := s.upload(t, tok, "saml", "<not-metadata/>"); st != 400 || string(b) != `{"errorMessage":"Could not parse IdP SAML Metadata"}` {
			t.Errorf("bad metadata: %d %s", st, b)
		}
		if st, b := s.upload(t, tok, "saml", `<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>`); st != 400 {
			t.Errorf("metadata with entities: %d %s", st, b)
		}

		var fetched int
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fetched++
			w.Header().Set("Content-Type", "application/samlmetadata+xml")
			io.WriteString(w, md)
		}))
		defer up.Close()
		from := map[string]any{"providerId": "saml", "fromUrl": up.URL + "/metadata"}
		if st, _, b := s.do("POST", idpBase+"/import-config", tok, from); st != 400 || fetched != 0 {
			t.Errorf("loopback: %d %s (fetched %d)", st, b, fetched)
		}
		private := httptest.NewServer(server.New(server.Options{Store: s.DB, Outbound: outbound.New(outbound.Options{AllowPrivate: true})}))
		defer private.Close()
		ps := &testServer{t: t, URL: private.URL, DB: s.DB, Log: s.Log}
		st, _, b = ps.do("POST", idpBase+"/import-config", ps.adminToken(), from)
		cfg = nil
		json.Unmarshal(b, &cfg)
		if st != 200 || fetched != 1 || cfg["singleSignOnServiceUrl"] != "https://idp.example/sso" || cfg["metadataDescriptorUrl"] != from["fromUrl"] {
			t.Fatalf("allowed fetch: %d %s", st, b)
		}
	})
}

// TestIdentityProviderSAMLValidationAndMappers: a SAML provider's
// configuration is checked with Keycloak's messages, and its mapper types
// are the SAML ones plus those that apply to every provider.
func TestIdentityProviderSAMLValidationAndMappers(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		s.newRealm("idp")
		tok := s.adminToken()
		bad := map[string]any{"alias": "up", "providerId": "saml", "config": map[string]string{
			"nameIDPolicyFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:transient", "principalType": "SUBJECT"}}
		if st, _, b := s.do("POST", idpBase+"/instances", tok, bad); st != 400 ||
			string(b) != `{"errorMessage":"Can not have Transient NameID Policy Format together with SUBJECT Principal Type"}` {
			t.Errorf("transient SUBJECT: %d %s", st, b)
		}
		bad["config"] = map[string]string{"singleSignOnServiceUrl": "ftp://idp.example/sso"}
		if st, _, b := s.do("POST", idpBase+"/instances", tok, bad); st != 400 ||
			string(b) != `{"errorMessage":"Invalid protocol/scheme for url [singleSignOnServiceUrl]"}` {
			t.Errorf("bad SSO URL: %d %s", st, b)
		}
		good := map[string]any{"alias": "up", "providerId": "saml", "config": map[string]string{
			"singleSignOnServiceUrl": "https://idp.example/sso", "principalType": "ATTRIBUTE", "principalAttribute": "uid",
			"nameIDPolicyFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"}}
		if st, _, b := s.do("POST", idpBase+"/instances", tok, good); st != 201 {
			t.Fatalf("create: %d %s", st, b)
		}
		// Stored as given, but every login through it will be refused: the
		// server says so when it is saved.
		if !strings.Contains(s.Log.String(), `msg="SAML identity provider refuses logins as configured" realm=idp alias=up reason="signature validation is off"`) {
			t.Errorf("no warning for a provider without signature validation: %s", s.Log.String())
		}
		var types map[string]map[string]any
		s.get(idpBase+"/instances/up/mapper-types", tok, &types)
		for _, want := range []string{"saml-user-attribute-idp-mapper", "saml-advanced-role-idp-mapper", "saml-role-idp-mapper",
			"saml-username-idp-mapper", "oidc-hardcoded-role-idp-mapper", "hardcoded-attribute-idp-mapper"} {
			if _, ok := types[want]; !ok {
				t.Errorf("mapper type %s missing", want)
			}
		}
		for _, not := range []string{"oidc-user-attribute-idp-mapper", "oidc-advanced-role-idp-mapper", "oidc-username-idp-mapper"} {
			if _, ok := types[not]; ok {
				t.Errorf("mapper type %s offered for SAML", not)
			}
		}
		if st, _, b := s.do("POST", idpBase+"/instances/up/mappers", tok, map[string]any{"name": "mail", "identityProviderMapper": "saml-user-attribute-idp-mapper",
			"config": map[string]string{"attribute.friendly.name": "mail", "user.attribute": "email"}}); st != 201 {
			t.Errorf("SAML attribute importer: %d %s", st, b)
		}
		if st, _, _ := s.do("POST", idpBase+"/instances/up/mappers", tok, map[string]any{"name": "oidc", "identityProviderMapper": "oidc-user-attribute-idp-mapper",
			"config": map[string]string{"claim": "email", "user.attribute": "email"}}); st != 400 {
			t.Errorf("OIDC mapper on a SAML provider: %d", st)
		}
	})
}
