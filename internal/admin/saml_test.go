package admin_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/gatehouse-iam/gatehouse/internal/saml"
)

// spKeyPair is an SP's key and self-signed certificate.
func spKeyPair(t *testing.T, cn string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return k, c
}

// spMetadata is the metadata crewjam/saml's service provider publishes.
func spMetadata(t *testing.T, entityID, base string) (string, *x509.Certificate) {
	t.Helper()
	key, cert := spKeyPair(t, "sp")
	acs, _ := url.Parse(base + "/saml/acs")
	slo, _ := url.Parse(base + "/saml/slo")
	sp := crewjam.ServiceProvider{EntityID: entityID, Key: key, Certificate: cert, AcsURL: *acs, SloURL: *slo,
		SignatureMethod: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", LogoutBindings: []string{crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding}}
	b, err := xml.MarshalIndent(sp.Metadata(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b), cert
}

// artifactID is the SAML artifact SourceID of an entity: its SHA-1.
func artifactID(entityID string) string {
	sum := sha1.Sum([]byte(entityID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func TestClientDescriptionConverter(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "conv")
		md, cert := spMetadata(t, "https://sp.example/metadata", "https://sp.example")
		_, body := e.want("POST", "/client-description-converter", e.tok, md, 200, "")
		var x struct {
			ClientID         string            `json:"clientId"`
			Protocol         string            `json:"protocol"`
			FullScopeAllowed bool              `json:"fullScopeAllowed"`
			RedirectURIs     []string          `json:"redirectUris"`
			Attributes       map[string]string `json:"attributes"`
		}
		if err := json.Unmarshal([]byte(body), &x); err != nil {
			t.Fatal(err)
		}
		certB64 := base64.StdEncoding.EncodeToString(cert.Raw)
		if x.ClientID != "https://sp.example/metadata" || x.Protocol != "saml" || !x.FullScopeAllowed {
			t.Errorf("converted client: %s", body)
		}
		if !slices.Equal(x.RedirectURIs, []string{"https://sp.example/saml/acs", "https://sp.example/saml/acs"}) {
			t.Errorf("redirect URIs (POST and Artifact consumers): %v", x.RedirectURIs)
		}
		for k, want := range map[string]string{
			"saml_assertion_consumer_url_post": "https://sp.example/saml/acs", "saml_assertion_consumer_url_artifact": "https://sp.example/saml/acs",
			"saml_single_logout_service_url_post": "https://sp.example/saml/slo", "saml_single_logout_service_url_redirect": "https://sp.example/saml/slo",
			"saml.server.signature": "true", "saml.signature.algorithm": "RSA_SHA256", "saml.authnstatement": "true",
			"saml.assertion.signature": "true", "saml.client.signature": "true", "saml.signing.certificate": certB64,
			"saml.encrypt": "true", "saml.encryption.certificate": certB64,
		} {
			if x.Attributes[k] != want {
				t.Errorf("attribute %s = %q, want %q", k, x.Attributes[k], want)
			}
		}
		// What the converter answers, create stores.
		var conv map[string]any
		json.Unmarshal([]byte(body), &conv)
		id := e.create("/clients", conv)
		got := e.obj("/clients/" + id)
		if got["protocol"] != "saml" || got["attributes"].(map[string]any)["saml.signing.certificate"] != certB64 {
			t.Errorf("created from metadata: %v", got)
		}

		// OpenID Connect client metadata, and Keycloak's own JSON.
		_, body = e.want("POST", "/client-description-converter", e.tok,
			`{"client_name":"My App","redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"none"}`, 200, "")
		var o map[string]any
		json.Unmarshal([]byte(body), &o)
		if o["name"] != "My App" || o["protocol"] != "openid-connect" || o["publicClient"] != true || !slices.Equal(crgStrs(o["redirectUris"]), []string{"https://app.example/cb"}) {
			t.Errorf("OpenID Connect metadata converted to %s", body)
		}
		_, body = e.want("POST", "/client-description-converter", e.tok, `{"clientId":"kc","protocol":"saml","attributes":{"saml.encrypt":"false"}}`, 200, "")
		json.Unmarshal([]byte(body), &o)
		if o["clientId"] != "kc" || o["protocol"] != "saml" {
			t.Errorf("Keycloak JSON converted to %s", body)
		}

		// Refusals: nothing recognisable, broken metadata, a DOCTYPE; and
		// the converter is for those who may create clients.
		e.want("POST", "/client-description-converter", e.tok, "hello", 400, `{"error":"Unsupported format"}`)
		st, _, b := s.do("POST", e.path("/client-description-converter"), e.tok, `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"></EntityDescriptor>`)
		if st != 400 || !strings.Contains(string(b), "invalid_request") {
			t.Errorf("metadata without an SP: %d %s", st, b)
		}
		doctype := `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&a;"/>`
		if st, _, b := s.do("POST", e.path("/client-description-converter"), e.tok, doctype); st != 400 {
			t.Errorf("metadata with a DOCTYPE: %d %s", st, b)
		}
		viewer := s.realmAdmin(e.realm, "viewer", "view-clients")
		e.want("POST", "/client-description-converter", viewer, md, 403, `{"error":"HTTP 403 Forbidden"}`)
	})
}

func TestSAMLClientCreateDefaults(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "sd")
		id := e.create("/clients", map[string]any{"clientId": "https://wiki.example/saml", "protocol": "saml"})
		c := e.obj("/clients/" + id)
		for k, want := range map[string]any{"protocol": "saml", "publicClient": false, "frontchannelLogout": true,
			"standardFlowEnabled": true, "fullScopeAllowed": true} {
			if c[k] != want {
				t.Errorf("%s = %v, want %v", k, c[k], want)
			}
		}
		attrs := c["attributes"].(map[string]any)
		for k, want := range saml.Defaults() {
			if attrs[k] != want {
				t.Errorf("attribute %s = %v, want %v", k, attrs[k], want)
			}
		}
		// It signs its requests by default, so it gets a key pair whose
		// certificate the SAML library reads.
		if _, err := saml.ParseCertificate(attrs["saml.signing.certificate"].(string)); err != nil {
			t.Errorf("generated signing certificate: %v", err)
		}
		if attrs["saml.signing.private.key"] == nil || attrs["saml.artifact.binding.identifier"] != artifactID("https://wiki.example/saml") {
			t.Errorf("private key or artifact identifier missing: %v", attrs)
		}
		if got := crgStrs(c["defaultClientScopes"]); !slices.Equal(got, []string{"role_list", "saml_organization"}) {
			t.Errorf("default scopes %v, want the realm's SAML ones", got)
		}
		if got := crgStrs(c["optionalClientScopes"]); len(got) != 0 {
			t.Errorf("optional scopes %v, want none (the realm's optional ones are OpenID Connect)", got)
		}
		// The private key is shown only to those who may manage clients.
		viewer := s.realmAdmin(e.realm, "viewer", "view-clients")
		var seen map[string]any
		s.get(e.path("/clients/"+id), viewer, &seen)
		if _, ok := seen["attributes"].(map[string]any)["saml.signing.private.key"]; ok {
			t.Error("view-clients sees the SAML signing key")
		}

		// Explicit settings win; one that signs nothing gets no key.
		id = e.create("/clients", map[string]any{"clientId": "plain-sp", "protocol": "saml", "frontchannelLogout": false,
			"attributes": map[string]string{"saml.client.signature": "false", "saml_name_id_format": "email"}})
		c = e.obj("/clients/" + id)
		attrs = c["attributes"].(map[string]any)
		if c["frontchannelLogout"] != false || attrs["saml_name_id_format"] != "email" || attrs["saml.signing.certificate"] != nil {
			t.Errorf("explicit settings: %v", c)
		}
	})
}

func TestSAMLClientValidation(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "sv")
		before := e.snapshot()
		for _, bad := range []map[string]string{
			{"saml.signature.algorithm": "RSA_MD5"},
			{"saml.signing.certificate": "not a certificate"},
			{"saml_assertion_consumer_url_post": "javascript:alert(1)"},
			{"saml_idp_initiated_sso_url_name": "a/b"},
		} {
			st, _, b := s.do("POST", e.path("/clients"), e.tok, map[string]any{"clientId": "bad", "protocol": "saml", "attributes": bad})
			if st != 400 || !strings.HasPrefix(string(b), `{"error":"invalid_input","error_description":"`) {
				t.Errorf("create with %v: %d %s", bad, st, b)
			}
		}
		if after := e.snapshot(); after != before {
			t.Fatalf("a refused create stored something:\n%s\n%s", before, after)
		}
		id := e.create("/clients", map[string]any{"clientId": "sp", "protocol": "saml", "attributes": map[string]string{"saml.client.signature": "false"}})
		st, _, b := s.do("PUT", e.path("/clients/"+id), e.tok, map[string]any{"attributes": map[string]string{"saml_name_id_format": "whatever"}})
		if st != 400 || !strings.Contains(string(b), "invalid_input") {
			t.Errorf("update with a bad name ID format: %d %s", st, b)
		}
		if a := e.obj("/clients/" + id)["attributes"].(map[string]any); a["saml_name_id_format"] != "username" {
			t.Errorf("refused update changed the client: %v", a)
		}
		// An OpenID Connect client's attributes are not SAML's business.
		e.create("/clients", map[string]any{"clientId": "oidc", "attributes": map[string]string{"saml.signature.algorithm": "RSA_MD5"}})
	})
}

func TestSAMLInstallations(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "si")
		id := e.create("/clients", map[string]any{"clientId": "sp", "protocol": "saml", "baseUrl": "https://sp.example/app"})
		key := e.obj("/clients/" + id)["attributes"].(map[string]any)["saml.signing.private.key"].(string)

		_, body := e.want("GET", "/clients/"+id+"/installation/providers/saml-idp-descriptor", e.tok, nil, 200, "")
		md, err := saml.ParseIdPMetadata([]byte(body))
		if err != nil {
			t.Fatalf("descriptor does not parse: %v\n%s", err, body)
		}
		endpoint := s.URL + "/realms/si/protocol/saml"
		if md.EntityID != s.URL+"/realms/si" || md.SSO[saml.BindingPOST] != endpoint || md.SLO[saml.BindingPOST] != endpoint ||
			md.SSO[saml.BindingRedirect] != "" || !md.WantAuthnRequestsSigned || len(md.SigningCerts) == 0 {
			t.Errorf("client-tailored descriptor: %+v", md)
		}
		// Without forced POST the Redirect binding is offered too.
		e.want("PUT", "/clients/"+id, e.tok, map[string]any{"attributes": map[string]string{"saml.force.post.binding": "false", "saml.client.signature": "true"}}, 204, "")
		_, body = e.want("GET", "/clients/"+id+"/installation/providers/saml-idp-descriptor", e.tok, nil, 200, "")
		if md, _ = saml.ParseIdPMetadata([]byte(body)); md.SSO[saml.BindingRedirect] != endpoint {
			t.Errorf("descriptor without forced POST: %+v", md)
		}

		_, body = e.want("GET", "/clients/"+id+"/installation/providers/keycloak-saml", e.tok, nil, 200, "")
		if !strings.HasPrefix(body, "<keycloak-saml-adapter>\n    <SP entityID=\"https://sp.example/app\"") || !strings.Contains(body, key) ||
			!strings.Contains(body, `bindingUrl="`+endpoint+`"`) || !strings.Contains(body, `sslPolicy="EXTERNAL"`) {
			t.Errorf("keycloak-saml.xml:\n%s", body)
		}
		var parsed struct{ XMLName xml.Name }
		if err := xml.Unmarshal([]byte(body), &parsed); err != nil || parsed.XMLName.Local != "keycloak-saml-adapter" {
			t.Errorf("keycloak-saml.xml is not XML: %v", err)
		}
		_, body = e.want("GET", "/clients/"+id+"/installation/providers/keycloak-saml-subsystem", e.tok, nil, 200, "")
		if !strings.HasPrefix(body, "<secure-deployment name=\"YOUR-WAR.war\">\n    <SP ") {
			t.Errorf("subsystem:\n%s", body)
		}
		e.want("GET", "/clients/"+id+"/installation/providers/keycloak-oidc-keycloak-json", e.tok, nil, 404, `{"error":"Unknown Provider"}`)
		// The adapter file holds the private key: view-clients may read the
		// descriptor but not it.
		viewer := s.realmAdmin(e.realm, "viewer", "view-clients")
		e.want("GET", "/clients/"+id+"/installation/providers/saml-idp-descriptor", viewer, nil, 200, "")
		e.want("GET", "/clients/"+id+"/installation/providers/keycloak-saml", viewer, nil, 403, "")

		// An imported client without the switches gets no creation
		// defaults: the login endpoint accepts its unsigned requests and
		// answers both bindings, and its files say so.
		rtImport(t, s, e.realm.Name, e.tok, map[string]any{"clients": []any{map[string]any{
			"clientId": "imported", "protocol": "saml", "attributes": map[string]string{"saml.server.signature": "true"}}}}, 200, "")
		imp := e.list("/clients?clientId=imported", e.tok)[0]["id"].(string)
		_, body = e.want("GET", "/clients/"+imp+"/installation/providers/saml-idp-descriptor", e.tok, nil, 200, "")
		if md, err = saml.ParseIdPMetadata([]byte(body)); err != nil || md.WantAuthnRequestsSigned || md.SSO[saml.BindingRedirect] != endpoint {
			t.Errorf("descriptor of a client without saml.client.signature and saml.force.post.binding: %v %+v", err, md)
		}
		// The same signing keys as the realm's descriptor.
		ks, err := s.DB.ListKeys(e.ctx(), e.realm.ID)
		if err != nil {
			t.Fatal(err)
		}
		realmXML, err := saml.DescriptorFromKeys(s.URL+"/realms/si", ks)
		if err != nil {
			t.Fatal(err)
		}
		realmMD, _ := saml.ParseIdPMetadata(realmXML)
		if len(md.SigningCerts) != len(realmMD.SigningCerts) || len(md.SigningCerts) == 0 || !md.SigningCerts[0].Equal(realmMD.SigningCerts[0]) {
			t.Errorf("descriptor certificates %d, realm's %d", len(md.SigningCerts), len(realmMD.SigningCerts))
		}
		_, body = e.want("GET", "/clients/"+imp+"/installation/providers/keycloak-saml", e.tok, nil, 200, "")
		if !strings.Contains(body, `<SingleSignOnService signRequest="false"`) || strings.Contains(body, "<Keys>") ||
			!strings.Contains(body, `validateResponseSignature="true"`) || !strings.Contains(body, `validateAssertionSignature="false"`) {
			t.Errorf("keycloak-saml.xml of a client without saml.client.signature:\n%s", body)
		}
	})
}
