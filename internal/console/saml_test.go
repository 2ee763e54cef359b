package console_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"html"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// spCertificate is a fresh self-signed certificate, as an SP brings one.
func spCertificate(t *testing.T) *x509.Certificate {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "wiki"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestSAMLClientPages(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, web.URLs{}, open)
		ctx := context.Background()
		b := e.browser()
		home := b.signIn(masterConsole, "admin", "admin-pw")
		r := "/admin/master/console/demo"
		post := func(path string, form url.Values) page {
			t.Helper()
			p := b.submit(home, r+path, form)
			if p.status != http.StatusSeeOther {
				t.Fatalf("POST %s %v: %d %s", path, form, p.status, p.body)
			}
			return p
		}

		// Create: the client type SAML gives a SAML client with SAML's defaults.
		p := post("/clients/new", url.Values{"protocol": {"saml"}, "clientId": {"https://wiki.example/saml"}, "name": {"Wiki"},
			"redirectUris": {"https://wiki.example/*"}, "accessType": {"public"}})
		loc := strings.SplitN(p.header.Get("Location"), "?", 2)[0]
		id := loc[strings.LastIndexByte(loc, '/')+1:]
		c, err := e.db.GetClient(ctx, e.demo.ID, id)
		if err != nil || c.Protocol != "saml" || c.PublicClient || c.Attributes[saml.AttrSignatureAlgorithm] != "RSA_SHA256" ||
			c.RedirectURIs[0] != "https://wiki.example/*" || c.Name != "Wiki" {
			t.Fatalf("created SAML client: %+v %v", c, err)
		}

		// Settings: the SAML tab shows the client's attributes and saves them.
		page := b.get(r + "/clients/" + id)
		for _, want := range []string{`id="f-signatureAlgorithm"`, `<option value="RSA_SHA256" selected>`, `id="f-nameIdFormat"`,
			`id="f-forcePostBinding" name="forcePostBinding" value="on" checked`, `href="` + r + `/clients/` + id + `/keys"`,
			`Assertion Consumer Service POST Binding URL`, `adapter-config?provider=saml-idp-descriptor`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("SAML settings page lacks %s", want)
			}
		}
		if strings.Contains(page.body, `id="f-accessType"`) || strings.Contains(page.body, "/credentials\"") {
			t.Error("SAML settings page shows OpenID Connect's access type or credentials")
		}
		form := url.Values{"clientId": {"https://wiki.example/saml"}, "name": {"Wiki"}, "enabled": {"on"},
			"redirectUris": {"https://wiki.example/*"}, "nameIdFormat": {"email"}, "forceNameIdFormat": {"on"},
			"includeAuthnStatement": {"on"}, "signDocuments": {"on"}, "signAssertions": {"on"}, "signatureAlgorithm": {"RSA_SHA512"},
			"keyNameTransformer": {"CERT_SUBJECT"}, "canonicalization": {saml.CanonExclusive}, "assertionLifespan": {"120"},
			"frontchannelLogout": {"on"}, "acsPost": {"https://wiki.example/saml/acs"}, "sloRedirect": {"https://wiki.example/saml/slo"},
			"idpInitiatedSsoUrlName": {"wiki"}}
		post("/clients/"+id, form)
		c, _ = e.db.GetClient(ctx, e.demo.ID, id)
		for k, want := range map[string]string{saml.AttrNameIDFormat: "email", saml.AttrForceNameIDFormat: "true",
			saml.AttrAssertionSignature: "true", saml.AttrSignatureAlgorithm: "RSA_SHA512", saml.AttrKeyNameTransformer: "CERT_SUBJECT",
			saml.AttrAssertionLifespan: "120", saml.AttrForcePostBinding: "false", saml.AttrACSPost: "https://wiki.example/saml/acs",
			saml.AttrSLORedirect: "https://wiki.example/saml/slo", saml.AttrIdPInitiatedURLName: "wiki"} {
			if c.Attributes[k] != want {
				t.Errorf("saved %s = %q, want %q", k, c.Attributes[k], want)
			}
		}
		// A refused value is shown with the API's reason, and nothing changes.
		form.Set("acsPost", "javascript:alert(1)")
		p = b.submit(home, r+"/clients/"+id, form)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Invalid URL in saml_assertion_consumer_url_post") {
			t.Errorf("bad ACS URL: %d %s", p.status, p.body)
		}
		if c2, _ := e.db.GetClient(ctx, e.demo.ID, id); c2.Attributes[saml.AttrACSPost] != "https://wiki.example/saml/acs" {
			t.Error("the refused form changed the client")
		}

		// Keys: the generated certificate at creation, a new pair whose
		// private key is shown once, and an imported certificate.
		keys := b.get(r + "/clients/" + id + "/keys")
		keys.body = html.UnescapeString(keys.body)
		if !strings.Contains(keys.body, c.Attributes[saml.AttrSigningCertificate]) || !strings.Contains(keys.body, `id="f-saml-signing" name="saml-signing" value="on" checked`) {
			t.Errorf("keys tab: %s", keys.body)
		}
		p = b.submit(home, r+"/clients/"+id+"/keys", url.Values{"key": {"saml.signing"}, "action": {"generate"}})
		p.body = html.UnescapeString(p.body)
		c2, _ := e.db.GetClient(ctx, e.demo.ID, id)
		if p.status != http.StatusOK || c2.Attributes[saml.AttrSigningCertificate] == c.Attributes[saml.AttrSigningCertificate] ||
			!strings.Contains(p.body, `id="newkey-saml-signing"`) || !strings.Contains(p.body, c2.Attributes[saml.AttrSigningCertificate]) {
			t.Errorf("regenerate: %d, certificate changed %v", p.status, c2.Attributes[saml.AttrSigningCertificate] != c.Attributes[saml.AttrSigningCertificate])
		}
		if c2.Attributes["saml.signing.private.key"] != "" {
			t.Error("the stale private key stayed with the new certificate")
		}
		cert := spCertificate(t)
		pemText := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
		post("/clients/"+id+"/keys", url.Values{"key": {"saml.encryption"}, "action": {"import"}, "certificate-saml-encryption": {pemText}})
		post("/clients/"+id+"/keys", url.Values{"key": {"saml.encryption"}, "action": {"switch"}, "saml-encryption": {"on"}})
		c2, _ = e.db.GetClient(ctx, e.demo.ID, id)
		if c2.Attributes[saml.AttrEncryptionCertificate] != base64.StdEncoding.EncodeToString(cert.Raw) || c2.Attributes[saml.AttrEncrypt] != "true" {
			t.Errorf("imported encryption certificate: %v", c2.Attributes)
		}
		p = b.submit(home, r+"/clients/"+id+"/keys", url.Values{"key": {"saml.encryption"}, "action": {"import"}, "certificate-saml-encryption": {"nonsense"}})
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Invalid certificate") {
			t.Errorf("import of nonsense: %d", p.status)
		}

		// The adapter configuration downloads.
		p = b.get(r + "/clients/" + id + "/adapter-config?provider=saml-idp-descriptor")
		if p.status != 200 || !strings.Contains(p.header.Get("Content-Disposition"), "client-tailored-saml-idp-metadata.xml") {
			t.Errorf("IdP descriptor download: %d %v", p.status, p.header)
		} else if _, err := saml.ParseIdPMetadata([]byte(p.body)); err != nil {
			t.Errorf("downloaded descriptor: %v", err)
		}

		// Client scopes: only SAML ones are offered, role_list is linked.
		p = b.get(r + "/clients/" + id + "/client-scopes")
		if !strings.Contains(p.body, "role_list") || strings.Contains(p.body, ">profile<") {
			t.Errorf("SAML client's scopes tab: %s", p.body)
		}

		// A SAML client scope's mappers: role_list's role list mapper by its
		// type's name, and SAML's mapper types to add.
		rl, err := e.db.GetClientScopeByName(ctx, e.demo.ID, "role_list")
		if err != nil {
			t.Fatal(err)
		}
		p = b.get(r + "/client-scopes/" + rl.ID + "/mappers")
		if !strings.Contains(p.body, "<td>role list</td><td>Role list</td>") || !strings.Contains(p.body, `<option value="saml-user-attribute-mapper">`) ||
			strings.Contains(p.body, `<option value="oidc-usermodel-attribute-mapper">`) {
			t.Errorf("role_list mappers page: %s", p.body)
		}
		p = b.submit(home, r+"/client-scopes/"+rl.ID+"/mappers", url.Values{"action": {"create"}, "type": {"saml-hardcode-attribute-mapper"},
			"name": {"dept"}, "attribute.name": {"department"}, "attribute.value": {"it"}, "attribute.nameformat": {"Basic"}})
		if p.status != http.StatusSeeOther {
			t.Errorf("add a SAML mapper to role_list: %d", p.status)
		}
		if rl, _ = e.db.GetClientScope(ctx, e.demo.ID, rl.ID); len(rl.ProtocolMappers) != 2 {
			t.Errorf("role_list mappers: %+v", rl.ProtocolMappers)
		}

		// The client list names the client type.
		p = b.get(r + "/clients")
		if !strings.Contains(p.body, "<td>SAML</td>") {
			t.Errorf("client list does not show the SAML client's type")
		}

		// Realm settings link the SAML IdP metadata.
		p = b.get(r + "/realm-settings")
		if !strings.Contains(p.body, `href="/realms/demo/protocol/saml/descriptor"`) || !strings.Contains(p.body, "SAML 2.0 Identity Provider Metadata") {
			t.Errorf("realm settings lack the SAML metadata link")
		}
	})
}

// An imported SAML client without the switches has them off, as the login
// endpoint reads them (saml.Settings): the settings and keys tabs do not
// show them on.
func TestSAMLClientPagesMissingSwitches(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, web.URLs{}, open)
		c := client.Client{ID: store.NewID(), RealmID: e.demo.ID, ClientID: "imported-sp", Protocol: "saml", Enabled: true,
			Attributes: map[string]string{saml.AttrAuthnStatement: "true"}}
		if err := e.db.CreateClient(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.signIn(masterConsole, "admin", "admin-pw")
		r := "/admin/master/console/demo"
		page := b.get(r + "/clients/" + c.ID)
		if page.status != http.StatusOK || !strings.Contains(page.body, `id="f-includeAuthnStatement" name="includeAuthnStatement" value="on" checked`) {
			t.Fatalf("settings page: %d %s", page.status, page.body)
		}
		for _, name := range []string{"forcePostBinding", "signDocuments"} {
			if strings.Contains(page.body, `id="f-`+name+`" name="`+name+`" value="on" checked`) {
				t.Errorf("settings page shows the missing %s on", name)
			}
		}
		if !strings.Contains(page.body, `<option value="RSA_SHA256" selected>`) {
			t.Error("settings page does not show the default signature algorithm")
		}
		keys := b.get(r + "/clients/" + c.ID + "/keys")
		if keys.status != http.StatusOK || !strings.Contains(keys.body, `id="f-saml-signing" name="saml-signing" value="on"`) ||
			strings.Contains(keys.body, `id="f-saml-signing" name="saml-signing" value="on" checked`) {
			t.Errorf("keys tab shows the missing saml.client.signature on: %d %s", keys.status, keys.body)
		}
	})
}
