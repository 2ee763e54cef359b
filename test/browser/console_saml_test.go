package browser_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// TestAdminConsoleSAML drives the console in Chromium through a SAML
// client's life: created with the SAML client type, its SAML settings
// saved, an encryption certificate imported on its Keys tab, a SAML mapper
// added, and the realm's IdP metadata opened from the realm settings.
func TestAdminConsoleSAML(t *testing.T) {
	ctx := newChromium(t)
	db := storetest.Open(t)
	bg := context.Background()
	if _, err := provision.Master(bg, db, "admin", "admin-pw", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := provision.NewRealm(bg, db, realm.New(store.NewID(), "corp"), time.Now()); err != nil {
		t.Fatal(err)
	}
	gh := httptest.NewServer(server.New(server.Options{Store: db, Log: slog.New(slog.DiscardHandler)}))
	t.Cleanup(gh.Close)
	c := &consoleBrowser{t: t, ctx: ctx, base: gh.URL, db: db}
	c.open("/admin/master/console/")
	signIn(t, ctx, "admin", "admin-pw")
	c.waitFor("nav-realm-settings")
	c.confirmDialogs()

	// Create the client as SAML.
	c.open("/admin/master/console/corp/clients/new")
	c.selectByText("f-protocol", "SAML")
	c.set("f-clientId", "https://wiki.example/saml")
	c.set("f-name", "Wiki")
	c.set("f-redirectUris", "https://wiki.example/*")
	c.submit("save")
	c.notice("Created.")
	rl, err := db.GetRealmByName(bg, "corp")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := db.GetClientByClientID(bg, rl.ID, "https://wiki.example/saml")
	if err != nil || cl.Protocol != "saml" {
		t.Fatalf("created client: %+v %v", cl, err)
	}
	c.shot("console-saml-client-settings")

	// SAML settings: email NameID, signed assertions, the ACS and SLO URLs.
	c.selectByText("f-nameIdFormat", "email")
	c.check("f-signAssertions", true)
	c.selectByText("f-signatureAlgorithm", "RSA_SHA512")
	c.set("f-acsPost", "https://wiki.example/saml/acs")
	c.set("f-sloPost", "https://wiki.example/saml/slo")
	c.set("f-assertionLifespan", "300")
	c.submit("save")
	c.notice("Your changes have been saved.")
	cl, _ = db.GetClientByClientID(bg, rl.ID, "https://wiki.example/saml")
	for k, want := range map[string]string{saml.AttrNameIDFormat: "email", saml.AttrAssertionSignature: "true",
		saml.AttrSignatureAlgorithm: "RSA_SHA512", saml.AttrACSPost: "https://wiki.example/saml/acs",
		saml.AttrSLOPost: "https://wiki.example/saml/slo", saml.AttrAssertionLifespan: "300"} {
		if cl.Attributes[k] != want {
			t.Errorf("after save %s = %q, want %q", k, cl.Attributes[k], want)
		}
	}
	if c.value("f-nameIdFormat") != "email" {
		t.Errorf("the saved page shows name ID format %q", c.value("f-nameIdFormat"))
	}

	// Keys: the signing certificate made at creation is shown; an
	// encryption certificate is imported and encryption switched on.
	c.click("tab-keys")
	c.waitFor("cert-saml-signing")
	if got := c.value("cert-saml-signing"); got != cl.Attributes[saml.AttrSigningCertificate] || got == "" {
		t.Errorf("signing certificate shown %q", got)
	}
	cert := selfSigned(t)
	c.set("f-certificate-saml-encryption", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})))
	c.submit("import-saml-encryption")
	c.notice("Your changes have been saved.")
	c.check("f-saml-encryption", true)
	c.submit("save-saml-encryption")
	c.notice("Your changes have been saved.")
	c.shot("console-saml-client-keys")
	cl, _ = db.GetClientByClientID(bg, rl.ID, "https://wiki.example/saml")
	if cl.Attributes[saml.AttrEncryptionCertificate] != base64.StdEncoding.EncodeToString(cert.Raw) || cl.Attributes[saml.AttrEncrypt] != "true" {
		t.Errorf("encryption: %q %q", cl.Attributes[saml.AttrEncrypt], cl.Attributes[saml.AttrEncryptionCertificate])
	}

	// A SAML mapper on the client: the user's email as an attribute.
	c.click("tab-mappers")
	c.waitFor("choose-mapper-type")
	c.selectByText("f-mapper-type", "User Property")
	c.submit("configure-mapper")
	c.waitFor("create-mapper-form")
	c.set("f-name", "mail")
	c.set("f-user.attribute", "email")
	c.set("f-attribute.name", "mail")
	c.selectByText("f-attribute.nameformat", "Basic")
	c.submit("create-mapper")
	c.notice("Created.")
	cl, _ = db.GetClientByClientID(bg, rl.ID, "https://wiki.example/saml")
	if len(cl.ProtocolMappers) != 1 || cl.ProtocolMappers[0].ProtocolMapper != "saml-user-property-mapper" ||
		cl.ProtocolMappers[0].Protocol != "saml" || cl.ProtocolMappers[0].Config["attribute.name"] != "mail" {
		t.Errorf("mappers: %+v", cl.ProtocolMappers)
	}

	// Client scopes: the SAML defaults are linked.
	c.click("tab-client-scopes")
	if body := pageText(t, ctx); !strings.Contains(body, "role_list") || !strings.Contains(body, "saml_organization") {
		t.Errorf("client scopes tab:\n%s", body)
	}

	// Realm settings → Endpoints → SAML 2.0 Identity Provider Metadata.
	c.open("/admin/master/console/corp/realm-settings")
	c.waitFor("endpoints")
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#endpoints a')].find(a => a.textContent.trim() === 'SAML 2.0 Identity Provider Metadata').href`))
	if err != nil || href != gh.URL+"/realms/corp/protocol/saml/descriptor" {
		t.Fatalf("metadata link %q %v", href, err)
	}
	md, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(`+quoteJS(href)+`).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	idp, err := saml.ParseIdPMetadata([]byte(md))
	if err != nil || idp.EntityID != gh.URL+"/realms/corp" || len(idp.SigningCerts) == 0 {
		t.Errorf("metadata the link serves: %+v %v", idp, err)
	}
	c.shot("console-realm-endpoints")
}

// selfSigned is a fresh certificate, as an SP brings one.
func selfSigned(t *testing.T) *x509.Certificate {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "wiki"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}
