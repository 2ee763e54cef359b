package console_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"html"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// A SAML v2.0 provider added from the console: its SAML settings, filled
// from the identity provider's metadata pasted into the form, stored under
// Keycloak's keys, and the settings page's link to the service provider
// metadata.
func TestIdentityProviderSAMLSettings(t *testing.T) {
	e := newEnvOn(t, web.URLs{}, storetest.Open)
	b := e.browser()
	b.signIn(masterConsole, "admin", "admin-pw")

	if p := b.get(idpsPath); !strings.Contains(p.body, `id="add-saml"`) {
		t.Fatalf("no way to add a SAML provider: %s", p.body)
	}
	add := idpsPath + "/saml/add"
	p := b.get(add)
	for _, w := range []string{`name="config.singleSignOnServiceUrl"`, `name="config.idpEntityId"`, `name="config.entityId" value="` + e.srv.URL + `/realms/demo"`,
		`name="config.principalType"`, `name="config.nameIDPolicyFormat"`, `name="config.wantAuthnRequestsSigned"`, `name="config.signingCertificate"`,
		`name="config.validateSignature" value="on" checked`, `name="config.postBindingResponse" value="on" checked`, `SAML entity descriptor`} {
		if !strings.Contains(p.body, w) {
			t.Errorf("saml form lacks %s", w)
		}
	}
	for _, not := range []string{`name="config.clientId"`, `name="config.filteredByClaim"`} {
		if strings.Contains(p.body, not) {
			t.Errorf("saml form has %s", not)
		}
	}

	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "upstream"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	meta, _ := url.Parse("https://idp.example/metadata")
	sso, _ := url.Parse("https://idp.example/sso")
	md, _ := xml.Marshal((&crewjam.IdentityProvider{Key: key, Certificate: cert, MetadataURL: *meta, SSOURL: *sso}).Metadata())

	p = b.submit(p, add, url.Values{"action": {"import"}, "alias": {"corp-saml"}, "discoveryDocument": {string(md)},
		"config.entityId": {regexpValue(p.body, "config.entityId")}})
	if p.status != http.StatusOK || !strings.Contains(p.body, `name="config.singleSignOnServiceUrl" value="https://idp.example/sso"`) ||
		!strings.Contains(p.body, `name="config.idpEntityId" value="https://idp.example/metadata"`) {
		t.Fatalf("import: %d %s", p.status, p.body)
	}
	if _, err := e.provider("corp-saml"); err == nil {
		t.Fatal("the import stored a provider")
	}
	form := url.Values{"action": {"save"}, "alias": {"corp-saml"}, "displayName": {"Corp SAML"}, "config.syncMode": {"IMPORT"},
		"config.showInAccountConsole": {"ALWAYS"}, "config.principalType": {"SUBJECT"}, "config.signatureAlgorithm": {"RSA_SHA256"},
		"config.xmlSigKeyInfoKeyNameTransformer": {"KEY_ID"}, "config.validateSignature": {"on"}, "config.postBindingResponse": {"on"},
		"config.wantAssertionsSigned": {"on"}}
	for _, f := range []string{"config.singleSignOnServiceUrl", "config.idpEntityId", "config.signingCertificate", "config.nameIDPolicyFormat", "config.entityId"} {
		m := regexpValue(p.body, f)
		form.Set(f, m)
	}
	// The metadata lists transient first, which cannot name a returning
	// user by the subject.
	if form.Get("config.nameIDPolicyFormat") != "urn:oasis:names:tc:SAML:2.0:nameid-format:transient" {
		t.Errorf("imported NameID format = %q", form.Get("config.nameIDPolicyFormat"))
	}
	form.Set("config.nameIDPolicyFormat", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
	p = b.submit(p, add, form)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != idpsPath+"/saml/corp-saml/settings?notice=created" {
		t.Fatalf("add: %d %q %s", p.status, p.header.Get("Location"), p.body)
	}
	x, err := e.provider("corp-saml")
	if err != nil || x.Config["singleSignOnServiceUrl"] != "https://idp.example/sso" || x.Config["signingCertificate"] != base64.StdEncoding.EncodeToString(cert.Raw) ||
		x.Config["wantAssertionsSigned"] != "true" || x.Config["validateSignature"] != "true" || x.Config["entityId"] != e.srv.URL+"/realms/demo" {
		t.Fatalf("stored: %v %+v", err, x.Config)
	}
	p = b.get(idpsPath + "/saml/corp-saml/settings")
	if !strings.Contains(p.body, `id="sp-descriptor"`) || !strings.Contains(p.body, e.srv.URL+"/realms/demo/broker/corp-saml/endpoint/descriptor") {
		t.Errorf("settings page without the descriptor link: %s", p.body)
	}
	if strings.Contains(p.body, `id="idp-logins-refused"`) {
		t.Errorf("a provider that validates signatures is said to refuse logins")
	}
	// Without signature validation (as an imported realm may have it) the
	// provider refuses every login: the settings page says so.
	if err := e.db.UpdateIdentityProvider(context.Background(), e.demo.ID, "corp-saml", func(x *idp.Provider) error {
		x.Config["validateSignature"] = "false"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if p = b.get(idpsPath + "/saml/corp-saml/settings"); !strings.Contains(p.body, `id="idp-logins-refused"`) ||
		!strings.Contains(p.body, "Logins through this provider are refused") {
		t.Errorf("no warning for a provider without signature validation: %s", p.body)
	}
	// A setting the API refuses comes back as the API's message.
	p = b.submit(p, idpsPath+"/saml/corp-saml/settings", url.Values{"action": {"save"}, "config.singleSignOnServiceUrl": {"ftp://idp.example/sso"},
		"config.principalType": {"SUBJECT"}, "config.syncMode": {"IMPORT"}})
	if p.status < 400 || !strings.Contains(p.body, "Invalid protocol/scheme for url [singleSignOnServiceUrl]") {
		t.Errorf("bad URL: %d %s", p.status, p.body)
	}
}

// regexpValue is the value attribute of the input named name.
func regexpValue(body, name string) string {
	i := strings.Index(body, `name="`+name+`"`)
	if i < 0 {
		return ""
	}
	rest := body[i:]
	if j := strings.Index(rest, `value="`); j >= 0 && j < strings.Index(rest, ">") {
		rest = rest[j+len(`value="`):]
		return html.UnescapeString(rest[:strings.IndexByte(rest, '"')])
	}
	// a select: the selected option
	if j := strings.Index(rest, `" selected>`); j >= 0 {
		k := strings.LastIndex(rest[:j], `value="`)
		return html.UnescapeString(rest[k+len(`value="`) : j])
	}
	return ""
}
