package login_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// samlEnv is realm "demo" brokering to a third-party SAML identity
// provider: crewjam/saml's IdentityProvider over real HTTP, which reads
// demo's service provider metadata from its descriptor endpoint and
// vouches for ann.
type samlEnv struct {
	*env
	idp  *crewjam.IdentityProvider
	idpS *httptest.Server
	mu   sync.Mutex
	// session is who the identity provider says is signed in.
	session crewjam.Session
}

func newSAMLEnv(t *testing.T, open func(testing.TB) *store.DB, cfg map[string]string) *samlEnv {
	t.Helper()
	e := newEnvServer(t, open, web.URLs{}, func(o *server.Options) {
		o.Outbound = outbound.New(outbound.Options{AllowPrivate: true})
	})
	se := &samlEnv{env: e, session: crewjam.Session{ID: "up-session", Index: "up-session-index",
		NameID: "ann-persistent-id", NameIDFormat: string(crewjam.PersistentNameIDFormat),
		UserName: "ann", UserEmail: "ann@corp.example", UserGivenName: "Ann", UserSurname: "Upstream",
		Groups: []string{"staff", "pilots"}}}
	key, cert := samlKeyPair(t, "upstream idp")
	mux := http.NewServeMux()
	se.idpS = httptest.NewServer(mux)
	t.Cleanup(se.idpS.Close)
	base, _ := url.Parse(se.idpS.URL)
	se.idp = &crewjam.IdentityProvider{Key: key, Certificate: cert,
		MetadataURL: *base.JoinPath("metadata"), SSOURL: *base.JoinPath("sso"),
		ServiceProviderProvider: se, SessionProvider: se}
	mux.HandleFunc("/sso", se.idp.ServeSSO)
	ctx := context.Background()
	p := idp.New("samlcorp", "saml")
	p.DisplayName = "Corp SAML"
	p.SyncMode = idp.SyncImport
	p.Config = map[string]string{
		idp.SAMLSingleSignOnURL: se.idpS.URL + "/sso", idp.SAMLIdPEntityID: se.idpS.URL + "/metadata",
		idp.SAMLValidateSignature: "true", idp.SAMLSigningCertificate: base64.StdEncoding.EncodeToString(cert.Raw),
		idp.SAMLPostBindingResponse: "true", idp.SAMLNameIDPolicyFormat: string(crewjam.PersistentNameIDFormat),
	}
	for k, v := range cfg {
		p.Config[k] = v
	}
	if _, err := e.db.CreateIdentityProvider(ctx, e.realm.ID, p); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateRole(ctx, role.Role{ID: store.NewID(), RealmID: e.realm.ID, Name: "staff-member"}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []idp.Mapper{
		{Name: "username", IdentityProviderMapper: idp.MapperSAMLUsernameTemplate, Config: map[string]string{"template": "${ATTRIBUTE.uid}", "target": "LOCAL"}},
		{Name: "email", IdentityProviderMapper: idp.MapperSAMLAttributeImporter, Config: map[string]string{"attribute.friendly.name": "mail", "user.attribute": "email"}},
		{Name: "first", IdentityProviderMapper: idp.MapperSAMLAttributeImporter, Config: map[string]string{"attribute.name": "urn:oid:2.5.4.42", "user.attribute": "firstName"}},
		{Name: "last", IdentityProviderMapper: idp.MapperSAMLAttributeImporter, Config: map[string]string{"attribute.friendly.name": "sn", "user.attribute": "lastName"}},
		{Name: "affiliation", IdentityProviderMapper: idp.MapperSAMLAttributeImporter, Config: map[string]string{"attribute.friendly.name": "eduPersonAffiliation", "user.attribute": "affiliation"}},
		{Name: "staff", IdentityProviderMapper: idp.MapperSAMLAdvancedRole, Config: map[string]string{
			"attributes": `[{"key":"eduPersonAffiliation","value":"staff"}]`, "role": "staff-member"}},
	} {
		m.IdentityProviderAlias = "samlcorp"
		if _, err := e.db.CreateIdentityProviderMapper(ctx, e.realm.ID, m); err != nil {
			t.Fatal(err)
		}
	}
	return se
}

// GetServiceProvider reads demo's metadata from its descriptor endpoint,
// as an administrator configuring the upstream would.
func (se *samlEnv) GetServiceProvider(r *http.Request, id string) (*crewjam.EntityDescriptor, error) {
	res, err := http.Get(se.url("/broker/samlcorp/endpoint/descriptor"))
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	ed, err := samlsp.ParseMetadata(b)
	if err != nil {
		return nil, err
	}
	if ed.EntityID != id {
		return nil, os.ErrNotExist
	}
	return ed, nil
}

func (se *samlEnv) GetSession(w http.ResponseWriter, r *http.Request, req *crewjam.IdpAuthnRequest) *crewjam.Session {
	se.mu.Lock()
	defer se.mu.Unlock()
	s := se.session
	s.CreateTime, s.ExpireTime = time.Now(), time.Now().Add(time.Hour)
	return &s
}

func samlKeyPair(t *testing.T, cn string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return key, cert
}

var (
	samlButton     = regexp.MustCompile(`id="social-samlcorp"[^>]*href="([^"]*)"`)
	formInput      = regexp.MustCompile(`<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"`)
	samlFormAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
)

// start opens app's login page and follows the provider's button: the
// answer is the AuthnRequest on its way to the identity provider.
func (se *samlEnv) start(b *browser) response {
	t := se.t
	t.Helper()
	page := b.get(se.codeRequest(nil))
	m := samlButton.FindStringSubmatch(page.body)
	if page.status != http.StatusOK || m == nil {
		t.Fatalf("login page without the provider button (%d): %s", page.status, page.body)
	}
	return b.get(se.srv.URL + html.UnescapeString(m[1]))
}

// relayOf is the RelayState of the AuthnRequest start sent.
func relayOf(t *testing.T, res response) string {
	t.Helper()
	if res.status != http.StatusFound {
		t.Fatalf("broker login: %d %s", res.status, res.body)
	}
	return res.location(t).Query().Get("RelayState")
}

// toIdP sends the browser with the AuthnRequest to the identity provider
// and returns the Response form it answers with: where it posts and what.
func (se *samlEnv) toIdP(b *browser, res response) (string, url.Values) {
	t := se.t
	t.Helper()
	var up response
	switch res.status {
	case http.StatusFound:
		loc := res.location(t)
		if !strings.HasPrefix(loc.String(), se.idpS.URL+"/sso?") || loc.Query().Get("SAMLRequest") == "" {
			t.Fatalf("AuthnRequest went to %s", loc)
		}
		up = b.get(loc.String())
	case http.StatusOK:
		action, fields := postedForm(t, res)
		if action != se.idpS.URL+"/sso" || fields.Get("SAMLRequest") == "" {
			t.Fatalf("AuthnRequest form posts to %s: %v", action, fields)
		}
		up = b.post(action, fields)
	default:
		t.Fatalf("broker login: %d %s", res.status, res.body)
	}
	if up.status != http.StatusOK {
		t.Fatalf("identity provider: %d %s", up.status, up.body)
	}
	action, fields := postedForm(t, up)
	if action != se.url("/broker/samlcorp/endpoint") || fields.Get("SAMLResponse") == "" {
		t.Fatalf("identity provider answered to %s: %v", action, fields)
	}
	return action, fields
}

func postedForm(t *testing.T, res response) (string, url.Values) {
	t.Helper()
	a := samlFormAction.FindStringSubmatch(res.body)
	if a == nil {
		t.Fatalf("no form: %s", res.body)
	}
	fields := url.Values{}
	for _, m := range formInput.FindAllStringSubmatch(res.body, -1) {
		fields.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return html.UnescapeString(a[1]), fields
}

func TestBrokerSAMLFirstLoginCreatesMappedUser(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		se := newSAMLEnv(t, open, map[string]string{idp.SAMLWantAuthnSigned: "true"})
		se.idp.WantAuthnRequestsSigned = true // the identity provider checks demo's signature
		b := se.browser()
		acs, fields := se.toIdP(b, se.start(b))
		res := b.post(acs, fields)
		if res.status != http.StatusFound || !strings.HasPrefix(res.header.Get("Location"), "https://app.example/cb?") {
			t.Fatalf("endpoint: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
		}
		ctx := context.Background()
		u, err := se.db.FindUserByFederatedIdentity(ctx, se.realm.ID, "samlcorp", "ann-persistent-id")
		if err != nil {
			t.Fatalf("no user linked to the NameID: %v", err)
		}
		if u.Username != "ann" || u.Email != "ann@corp.example" || u.FirstName != "Ann" || u.LastName != "Upstream" {
			t.Errorf("user = %+v", u)
		}
		if got := u.Attributes["affiliation"]; len(got) != 2 || got[0] != "staff" {
			t.Errorf("affiliation = %v", got)
		}
		roles, _ := se.db.EffectiveRoles(ctx, se.realm.ID, u.ID)
		found := false
		for _, r := range roles {
			found = found || r.Name == "staff-member"
		}
		if !found {
			t.Error("the advanced attribute mapper did not grant staff-member")
		}
		ss := se.sessions("ann")
		if len(ss) != 1 || ss[0].Notes["identity_provider"] != "samlcorp" || ss[0].Notes["BROKER_SESSION_ID"] != "samlcorp.up-session-index" {
			t.Errorf("sessions = %+v", ss)
		}
		// The same Response again is refused: its login moved on.
		if res := b.post(acs, fields); res.status != http.StatusBadRequest {
			t.Errorf("replayed Response: %d", res.status)
		}
		// A second login finds the link.
		b2 := se.browser()
		acs, fields = se.toIdP(b2, se.start(b2))
		if res := b2.post(acs, fields); res.status != http.StatusFound || !strings.HasPrefix(res.header.Get("Location"), "https://app.example/cb?") {
			t.Fatalf("second login: %d %s", res.status, res.body)
		}
	})
}

func TestBrokerSAMLPostBindingRequest(t *testing.T) {
	se := newSAMLEnv(t, storetest.Open, map[string]string{idp.SAMLPostBindingAuthn: "true", idp.SAMLWantAuthnSigned: "true", idp.SAMLAllowCreate: "false"})
	se.idp.WantAuthnRequestsSigned = true
	b := se.browser()
	start := se.start(b)
	if start.status != http.StatusOK || !strings.Contains(start.header.Get("Content-Security-Policy"), "script-src") {
		t.Fatalf("POST binding page: %d %v", start.status, start.header)
	}
	acs, fields := se.toIdP(b, start)
	if res := b.post(acs, fields); res.status != http.StatusFound {
		t.Fatalf("endpoint: %d %s", res.status, res.body)
	}
}

func TestBrokerSAMLRefusals(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		se := newSAMLEnv(t, open, nil)
		ctx := context.Background()
		// noUser checks the refusal made no user, and that the log says
		// why it was refused.
		noUser := func(why string) {
			t.Helper()
			if _, err := se.db.GetUserByUsername(ctx, se.realm.ID, "ann"); err == nil {
				t.Fatalf("%s: a user was made", why)
			}
			if !strings.Contains(se.logs.String(), why) {
				t.Errorf("refused, but not for %q: %s", why, se.logs.String())
			}
		}

		t.Run("bad signature", func(t *testing.T) {
			// The assertion is signed by a key other than the one demo
			// trusts for this provider.
			_, other := samlKeyPair(t, "someone else")
			var trusted string
			if err := se.db.UpdateIdentityProvider(ctx, se.realm.ID, "samlcorp", func(p *idp.Provider) error {
				trusted, p.Config[idp.SAMLSigningCertificate] = p.Config[idp.SAMLSigningCertificate], base64.StdEncoding.EncodeToString(other.Raw)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			defer se.db.UpdateIdentityProvider(ctx, se.realm.ID, "samlcorp", func(p *idp.Provider) error {
				p.Config[idp.SAMLSigningCertificate] = trusted
				return nil
			})
			b := se.browser()
			acs, fields := se.toIdP(b, se.start(b))
			if res := b.post(acs, fields); res.status != http.StatusBadGateway {
				t.Fatalf("assertion signed by another key: %d %s", res.status, res.body)
			}
			noUser("cannot validate signature on Response")
		})

		t.Run("unknown InResponseTo", func(t *testing.T) {
			b := se.browser()
			acs, fields := se.toIdP(b, se.start(b))
			// The Response of the first request, sent to a second login of
			// the same browser (another request ID).
			fields.Set("RelayState", relayOf(t, se.start(b)))
			if res := b.post(acs, fields); res.status != http.StatusBadGateway {
				t.Fatalf("Response to another request: %d %s", res.status, res.body)
			}
			noUser("`InResponseTo` does not match")
		})

		t.Run("expired assertion", func(t *testing.T) {
			b := se.browser()
			acs, fields := se.toIdP(b, se.start(b))
			se.clock.Add(5 * time.Minute)
			defer se.clock.Add(-5 * time.Minute)
			if res := b.post(acs, fields); res.status != http.StatusBadGateway {
				t.Fatalf("expired assertion: %d %s", res.status, res.body)
			}
			noUser("expired at")
		})

		t.Run("wrong audience", func(t *testing.T) {
			b := se.browser()
			acs, fields := se.toIdP(b, se.start(b))
			// The assertion names demo's entity id; demo now expects another.
			if err := se.db.UpdateIdentityProvider(ctx, se.realm.ID, "samlcorp", func(p *idp.Provider) error {
				p.Config[idp.SAMLEntityID] = "urn:other-sp"
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			defer se.db.UpdateIdentityProvider(ctx, se.realm.ID, "samlcorp", func(p *idp.Provider) error {
				delete(p.Config, idp.SAMLEntityID)
				return nil
			})
			if res := b.post(acs, fields); res.status != http.StatusBadGateway {
				t.Fatalf("assertion for another audience: %d %s", res.status, res.body)
			}
			noUser(`AudienceRestriction does not contain \"urn:other-sp\"`)
		})

		t.Run("forged RelayState", func(t *testing.T) {
			b := se.browser()
			acs, fields := se.toIdP(b, se.start(b))
			loginID, _, _ := strings.Cut(fields.Get("RelayState"), ".")
			fields.Set("RelayState", loginID+".forged")
			if res := b.post(acs, fields); res.status != http.StatusBadRequest {
				t.Fatalf("forged RelayState: %d %s", res.status, res.body)
			}
			noUser("RelayState does not match")
		})

		t.Run("unsigned response when signatures are off", func(t *testing.T) {
			if err := se.db.UpdateIdentityProvider(ctx, se.realm.ID, "samlcorp", func(p *idp.Provider) error {
				p.Config[idp.SAMLValidateSignature] = "false"
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			defer se.db.UpdateIdentityProvider(ctx, se.realm.ID, "samlcorp", func(p *idp.Provider) error {
				p.Config[idp.SAMLValidateSignature] = "true"
				return nil
			})
			b := se.browser()
			acs, fields := se.toIdP(b, se.start(b))
			if res := b.post(acs, fields); res.status != http.StatusBadGateway {
				t.Fatalf("login with signature validation off: %d", res.status)
			}
			noUser("signature validation is off")
		})

		// After every refusal a genuine login still works.
		b := se.browser()
		acs, fields := se.toIdP(b, se.start(b))
		if res := b.post(acs, fields); res.status != http.StatusFound {
			t.Fatalf("genuine login after refusals: %d %s", res.status, res.body)
		}
	})
}

func TestBrokerSAMLDescriptor(t *testing.T) {
	se := newSAMLEnv(t, storetest.Open, map[string]string{idp.SAMLWantAuthnSigned: "true", idp.SAMLWantAssertionsSigned: "true"})
	res := se.browser().get(se.url("/broker/samlcorp/endpoint/descriptor"))
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "application/xml") {
		t.Fatalf("descriptor: %d %v", res.status, res.header)
	}
	ed, err := samlsp.ParseMetadata([]byte(res.body))
	if err != nil {
		t.Fatal(err)
	}
	if ed.EntityID != se.url("") || len(ed.SPSSODescriptors) != 1 {
		t.Fatalf("entity = %q %+v", ed.EntityID, ed)
	}
	d := ed.SPSSODescriptors[0]
	if len(d.AssertionConsumerServices) != 1 || d.AssertionConsumerServices[0].Location != se.url("/broker/samlcorp/endpoint") ||
		d.AssertionConsumerServices[0].Binding != crewjam.HTTPPostBinding {
		t.Errorf("ACS = %+v", d.AssertionConsumerServices)
	}
	if d.AuthnRequestsSigned == nil || !*d.AuthnRequestsSigned || d.WantAssertionsSigned == nil || !*d.WantAssertionsSigned {
		t.Errorf("signing flags = %v %v", d.AuthnRequestsSigned, d.WantAssertionsSigned)
	}
	uses := map[string]bool{}
	for _, kd := range d.KeyDescriptors {
		uses[kd.Use] = len(kd.KeyInfo.X509Data.X509Certificates) > 0
	}
	if !uses["signing"] || !uses["encryption"] {
		t.Errorf("key descriptors = %+v", d.KeyDescriptors)
	}
	if res := se.browser().get(se.url("/broker/nope/endpoint/descriptor")); res.status != http.StatusNotFound {
		t.Errorf("descriptor of no provider: %d", res.status)
	}
}

// requestID is the ID of the AuthnRequest a redirect carries.
func requestID(t *testing.T, res response) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, res.header.Get("Location"), nil)
	m, err := saml.ReadMessage(req)
	if err != nil {
		t.Fatal(err)
	}
	ar, err := m.AuthnRequest()
	if err != nil {
		t.Fatal(err)
	}
	return ar.ID
}

// TestBrokerSAMLRefusesReplayedIDs answers two logins with Responses the
// upstream's key signed: an assertion ID, or a Response ID, already
// accepted once is refused in a later login, whose request it does answer.
func TestBrokerSAMLRefusesReplayedIDs(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		se := newSAMLEnv(t, open, nil)
		answer := func(b *browser, responseID, assertionID string) response {
			t.Helper()
			return se.answer(b, responseID, assertionID, time.Minute, 0)
		}
		if res := answer(se.browser(), "_resp-1", "_assert-1"); res.status != http.StatusFound {
			t.Fatalf("first answer: %d %s", res.status, res.body)
		}
		if res := answer(se.browser(), "_resp-2", "_assert-1"); res.status != http.StatusBadGateway ||
			!strings.Contains(se.logs.String(), "assertion has already been used") {
			t.Errorf("replayed assertion ID: %d", res.status)
		}
		if res := answer(se.browser(), "_resp-1", "_assert-3"); res.status != http.StatusBadGateway ||
			!strings.Contains(se.logs.String(), `Response \"_resp-1\" was used before`) {
			t.Errorf("replayed Response ID: %d %s", res.status, se.logs.String())
		}
		if res := answer(se.browser(), "_resp-4", "_assert-4"); res.status != http.StatusFound {
			t.Errorf("fresh IDs: %d %s", res.status, res.body)
		}
	})
}

// TestBrokerSAMLClockSkew: an assertion past its NotOnOrAfter is refused,
// unless the provider's allowed clock skew covers the difference.
func TestBrokerSAMLClockSkew(t *testing.T) {
	se := newSAMLEnv(t, storetest.Open, nil)
	// Valid for 10s, presented 30s after issue.
	if res := se.answer(se.browser(), "_r1", "_a1", 10*time.Second, 30*time.Second); res.status != http.StatusBadGateway ||
		!strings.Contains(se.logs.String(), "the assertion expired at") {
		t.Fatalf("late assertion without skew: %d", res.status)
	}
	ctx := context.Background()
	if err := se.db.UpdateIdentityProvider(ctx, se.realm.ID, "samlcorp", func(p *idp.Provider) error {
		p.Config[idp.SAMLAllowedClockSkew] = "60"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if res := se.answer(se.browser(), "_r2", "_a2", 10*time.Second, 30*time.Second); res.status != http.StatusFound {
		t.Fatalf("late assertion within the skew: %d %s", res.status, res.body)
	}
}

// answer starts a login in b and answers it with a Response the
// upstream's key signs, valid for lifespan and presented late after issue.
func (se *samlEnv) answer(b *browser, responseID, assertionID string, lifespan, late time.Duration) response {
	t := se.t
	t.Helper()
	signer := &saml.Signer{Key: se.idp.Key.(*rsa.PrivateKey), Cert: se.idp.Certificate, Algorithm: saml.RSASHA256, KeyName: saml.KeyNameNone}
	start := se.start(b)
	doc, err := saml.BuildResponse(saml.ResponseInput{Issuer: se.idpS.URL + "/metadata", Destination: se.url("/broker/samlcorp/endpoint"),
		InResponseTo: requestID(t, start), Audience: se.url(""), NameID: "ann-persistent-id", NameIDFormat: saml.NameIDPersistent,
		SessionIndex: "s1", AuthnInstant: se.clock.Now(), Now: se.clock.Now(), Lifespan: lifespan, AuthnStatement: true,
		SignDocument: true, SignAssertion: true, Signer: signer, ID: responseID, AssertionID: assertionID,
		Attributes: []saml.Attribute{{Name: "urn:oid:0.9.2342.19200300.100.1.1", FriendlyName: "uid", Values: []string{"ann"}},
			{Name: "urn:oid:0.9.2342.19200300.100.1.3", FriendlyName: "mail", Values: []string{"ann@corp.example"}},
			{Name: "urn:oid:2.5.4.42", FriendlyName: "givenName", Values: []string{"Ann"}},
			{Name: "urn:oid:2.5.4.4", FriendlyName: "sn", Values: []string{"Upstream"}}}})
	if err != nil {
		t.Fatal(err)
	}
	se.clock.Add(late)
	defer se.clock.Add(-late)
	return b.post(se.url("/broker/samlcorp/endpoint"), url.Values{"SAMLResponse": {saml.PostValue(doc)}, "RelayState": {relayOf(t, start)}})
}

// TestBrokerSAMLUpstreamLogout: the upstream's signed LogoutRequest at the
// broker endpoint ends the session that signed in through it and is
// answered with a LogoutResponse at the upstream's single logout service;
// a forged or replayed one ends nothing, nor does one addressed to another
// service provider of the upstream, one without a Destination, one issued
// too long ago or too far ahead, or one past its NotOnOrAfter.
func TestBrokerSAMLUpstreamLogout(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		se := newSAMLEnv(t, open, map[string]string{idp.SAMLSingleLogoutURL: "https://idp.example/slo", idp.SAMLPostBindingLogout: "false"})
		b := se.browser()
		acs, fields := se.toIdP(b, se.start(b))
		if res := b.post(acs, fields); res.status != http.StatusFound {
			t.Fatalf("login: %d %s", res.status, res.body)
		}
		if n := len(se.sessions("ann")); n != 1 {
			t.Fatalf("sessions before logout: %d", n)
		}
		upKey, upCert := se.idp.Key.(*rsa.PrivateKey), se.idp.Certificate
		// request is a LogoutRequest for ann's upstream session, signed
		// with key; edit changes it before it is built.
		request := func(id string, key *rsa.PrivateKey, cert *x509.Certificate, edit func(*saml.LogoutRequestInput)) response {
			t.Helper()
			in := saml.LogoutRequestInput{ID: id, Issuer: se.idpS.URL + "/metadata",
				Destination: se.url("/broker/samlcorp/endpoint"), NameID: "ann-persistent-id", NameIDFormat: saml.NameIDPersistent,
				SessionIndexes: []string{"up-session-index"}, Now: se.clock.Now(),
				Signer: &saml.Signer{Key: key, Cert: cert, Algorithm: saml.RSASHA256, KeyName: saml.KeyNameNone}}
			if edit != nil {
				edit(&in)
			}
			doc, err := saml.BuildLogoutRequest(in)
			if err != nil {
				t.Fatal(err)
			}
			return se.browser().post(se.url("/broker/samlcorp/endpoint"), url.Values{"SAMLRequest": {saml.PostValue(doc)}, "RelayState": {"rs-1"}})
		}
		logout := func(id string, key *rsa.PrivateKey, cert *x509.Certificate) response {
			t.Helper()
			return request(id, key, cert, nil)
		}
		otherKey, otherCert := samlKeyPair(t, "forger")
		if res := logout("_lr-forged", otherKey, otherCert); res.status != http.StatusBadRequest || len(se.sessions("ann")) != 1 {
			t.Fatalf("forged LogoutRequest: %d, %d sessions", res.status, len(se.sessions("ann")))
		}
		// The default window is the realm's access code lifespan (60 s).
		for _, c := range []struct {
			name, log string
			edit      func(*saml.LogoutRequestInput)
		}{
			{"for another service provider", "LogoutRequest for another Destination", func(in *saml.LogoutRequestInput) {
				in.Destination = "https://other-sp.example/saml/slo"
			}},
			{"without Destination", "LogoutRequest without Destination", func(in *saml.LogoutRequestInput) { in.Destination = "" }},
			{"issued long ago", "LogoutRequest too old", func(in *saml.LogoutRequestInput) { in.Now = in.Now.Add(-25 * time.Hour) }},
			{"issued just outside the window", "LogoutRequest too old", func(in *saml.LogoutRequestInput) { in.Now = in.Now.Add(-61 * time.Second) }},
			{"issued in the future", "LogoutRequest issued ahead", func(in *saml.LogoutRequestInput) { in.Now = in.Now.Add(5 * time.Minute) }},
			{"past its NotOnOrAfter", "LogoutRequest expired at", func(in *saml.LogoutRequestInput) {
				in.NotOnOrAfter = in.Now.Add(-time.Second)
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				mark := len(se.logs.String())
				if res := request("_lr-"+strings.ReplaceAll(c.name, " ", "-"), upKey, upCert, c.edit); res.status != http.StatusBadRequest ||
					!strings.Contains(se.logs.String()[mark:], c.log) {
					t.Errorf("%d %s", res.status, res.body)
				}
				if n := len(se.sessions("ann")); n != 1 {
					t.Errorf("sessions after a refused LogoutRequest: %d", n)
				}
			})
		}
		res := request("_lr-1", upKey, upCert, func(in *saml.LogoutRequestInput) {
			// Issued within the window and valid a while yet.
			in.Now = in.Now.Add(-50 * time.Second)
			in.NotOnOrAfter = se.clock.Now().Add(time.Minute)
		})
		if res.status != http.StatusFound {
			t.Fatalf("LogoutRequest: %d %s", res.status, res.body)
		}
		if n := len(se.sessions("ann")); n != 0 {
			t.Errorf("sessions after the upstream's logout: %d", n)
		}
		loc := res.location(t)
		if !strings.HasPrefix(loc.String(), "https://idp.example/slo?") || loc.Query().Get("RelayState") != "rs-1" {
			t.Fatalf("LogoutResponse went to %s", loc)
		}
		req, _ := http.NewRequest(http.MethodGet, loc.String(), nil)
		m, err := saml.ReadMessage(req)
		if err != nil {
			t.Fatal(err)
		}
		lr, err := m.LogoutResponse()
		if err != nil || lr.InResponseTo != "_lr-1" || !strings.HasSuffix(lr.StatusCode, ":Success") || lr.Issuer != se.url("") {
			t.Errorf("LogoutResponse = %+v, %v", lr, err)
		}
		if res := logout("_lr-1", upKey, upCert); res.status != http.StatusBadRequest || !strings.Contains(se.logs.String(), `LogoutRequest \"_lr-1\" was used before`) {
			t.Errorf("replayed LogoutRequest: %d", res.status)
		}
	})
}

// TestBrokerSAMLUpstreamErrorStatus: an upstream that answers the request
// with an error status (the user cancelled, or could not sign in) sends
// the browser back to the login page with the reason; no one is signed in.
// An error status is checked as a success is: unsigned, signed by another
// key or addressed elsewhere, it is refused, not taken for the upstream's.
func TestBrokerSAMLUpstreamErrorStatus(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		se := newSAMLEnv(t, open, nil)
		otherKey, otherCert := samlKeyPair(t, "forger")
		upstream := &saml.Signer{Key: se.idp.Key.(*rsa.PrivateKey), Cert: se.idp.Certificate, Algorithm: saml.RSASHA256, KeyName: saml.KeyNameNone}
		forger := &saml.Signer{Key: otherKey, Cert: otherCert, Algorithm: saml.RSASHA256, KeyName: saml.KeyNameNone}
		answer := func(signer *saml.Signer, destination string) response {
			t.Helper()
			b := se.browser()
			start := se.start(b)
			doc, err := saml.BuildResponse(saml.ResponseInput{Issuer: se.idpS.URL + "/metadata", Destination: destination,
				InResponseTo: requestID(t, start), Now: se.clock.Now(), StatusCode: saml.StatusResponder,
				SignDocument: signer != nil, Signer: signer})
			if err != nil {
				t.Fatal(err)
			}
			return b.post(se.url("/broker/samlcorp/endpoint"), url.Values{"SAMLResponse": {saml.PostValue(doc)}, "RelayState": {relayOf(t, start)}})
		}
		endpoint := se.url("/broker/samlcorp/endpoint")
		for _, c := range []struct {
			name, log   string
			signer      *saml.Signer
			destination string
		}{
			{"unsigned", "error status is not signed", nil, endpoint},
			{"signed by another key", "error status: saml: invalid signature", forger, endpoint},
			{"for another endpoint", "error status for another Destination", upstream, "https://other-sp.example/acs"},
		} {
			t.Run(c.name, func(t *testing.T) {
				mark := len(se.logs.String())
				res := answer(c.signer, c.destination)
				if res.status != http.StatusBadGateway || strings.Contains(res.body, `id="kc-form-login"`) || !strings.Contains(se.logs.String()[mark:], c.log) {
					t.Errorf("%d %s", res.status, res.body)
				}
			})
		}
		res := answer(upstream, endpoint)
		if res.status != http.StatusOK || !strings.Contains(res.body, `id="kc-form-login"`) || !strings.Contains(res.body, `id="alert"`) {
			t.Fatalf("error status: %d %s", res.status, res.body)
		}
		if _, err := se.db.GetUserByUsername(context.Background(), se.realm.ID, "ann"); err == nil {
			t.Error("a user was made from an error status")
		}
	})
}

// Client-initiated account linking through a SAML provider: alice, signed
// in to app, links her account at the upstream through
// /broker/samlcorp/link; the Response comes back to the same endpoint and
// links the NameID to her rather than making a user.
func TestBrokerSAMLClientInitiatedLink(t *testing.T) {
	se := newSAMLEnv(t, storetest.Open, nil)
	ctx := context.Background()
	alice, err := se.db.GetUserByUsername(ctx, se.realm.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := se.db.AddUserRoles(ctx, alice.ID, se.realm.DefaultRoleID); err != nil {
		t.Fatal(err)
	}
	b := se.browser()
	if res := se.login(b, b.get(se.codeRequest(nil)), "alice", alicePassword); res.status != http.StatusFound {
		t.Fatalf("alice login: %d", res.status)
	}
	sid := se.sessions("alice")[0].ID
	sum := sha256.Sum256([]byte("n1" + sid + "app" + "samlcorp"))
	q := url.Values{"client_id": {"app"}, "redirect_uri": {"https://app.example/cb"}, "nonce": {"n1"},
		"hash": {base64.RawURLEncoding.EncodeToString(sum[:])}}
	acs, fields := se.toIdP(b, b.get(se.url("/broker/samlcorp/link")+"?"+q.Encode()))
	res := b.post(acs, fields)
	if res.status != http.StatusFound || res.header.Get("Location") != "https://app.example/cb" {
		t.Fatalf("back from the upstream: %d %s %s", res.status, res.header.Get("Location"), res.body)
	}
	u, err := se.db.FindUserByFederatedIdentity(ctx, se.realm.ID, "samlcorp", "ann-persistent-id")
	if err != nil || u.ID != alice.ID {
		t.Fatalf("linked to %v (%v), want alice", u.ID, err)
	}
	if _, err := se.db.GetUserByUsername(ctx, se.realm.ID, "ann"); err == nil {
		t.Error("the link made a user")
	}
}
