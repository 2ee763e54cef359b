package login_test

import (
	"bytes"
	"compress/flate"
	"context"
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
	"slices"
	"strings"
	"testing"
	"time"

	crewsaml "github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// testSP is a SAML service provider played by crewjam/saml's
// ServiceProvider: it makes the requests Gatehouse reads and checks the
// responses Gatehouse sends (signature, audience, recipient, validity,
// InResponseTo), as a real application would.
type testSP struct {
	sp     crewsaml.ServiceProvider
	client client.Client
}

// newTestSP registers a SAML client for an SP at base ("https://sp.example")
// whose requests are signed with a key of its own, and returns the SP set up
// with the realm's IdP metadata, read from the descriptor endpoint.
func (e *env) newTestSP(base string, edit func(*client.Client)) *testSP {
	e.t.Helper()
	key, cert := spKey(e.t, base)
	mustURL := func(s string) url.URL { u, _ := url.Parse(s); return *u }
	sp := crewsaml.ServiceProvider{
		EntityID: base + "/saml/metadata", Key: key, Certificate: cert,
		MetadataURL: mustURL(base + "/saml/metadata"), AcsURL: mustURL(base + "/saml/acs"), SloURL: mustURL(base + "/saml/slo"),
		IDPMetadata: e.idpMetadata(), SignatureMethod: dsig.RSASHA256SignatureMethod, AllowIDPInitiated: true,
	}
	c := e.addClient(sp.EntityID, func(c *client.Client) {
		c.Protocol = "saml"
		c.Attributes = map[string]string{
			"saml_assertion_consumer_url_post":        base + "/saml/acs",
			"saml_single_logout_service_url_post":     base + "/saml/slo",
			"saml_single_logout_service_url_redirect": base + "/saml/slo",
			"saml.signing.certificate":                base64.StdEncoding.EncodeToString(cert.Raw),
			"saml.client.signature":                   "true",
			"saml.server.signature":                   "true",
			"saml.assertion.signature":                "false",
			"saml.authnstatement":                     "true",
			"saml_name_id_format":                     "username",
			"saml_force_name_id_format":               "true",
			"saml.force.post.binding":                 "true",
		}
		c.ProtocolMappers = []client.ProtocolMapper{
			{ID: store.NewID(), Name: "email", Protocol: "saml", ProtocolMapper: "saml-user-property-mapper",
				Config: map[string]string{"user.attribute": "email", "attribute.name": "email", "friendly.name": "email",
					"attribute.nameformat": "Basic"}},
			{ID: store.NewID(), Name: "roles", Protocol: "saml", ProtocolMapper: "saml-role-list-mapper",
				Config: map[string]string{"attribute.name": "Role", "attribute.nameformat": "Basic", "single": "false"}},
		}
		if edit != nil {
			edit(c)
		}
	})
	return &testSP{sp: sp, client: c}
}

// spKey is an RSA key and a self-signed certificate for an SP.
func spKey(t *testing.T, cn string) (*rsa.PrivateKey, *x509.Certificate) {
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
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// idpMetadata reads the realm's IdP descriptor as an SP would.
func (e *env) idpMetadata() *crewsaml.EntityDescriptor {
	e.t.Helper()
	res, err := http.Get(e.url("/protocol/saml/descriptor"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("descriptor: %d %s", res.StatusCode, body)
	}
	md, err := samlsp.ParseMetadata(body)
	if err != nil {
		e.t.Fatalf("parse descriptor: %v\n%s", err, body)
	}
	return md
}

// authnRequest is a signed Redirect-binding AuthnRequest URL and its ID.
func (s *testSP) authnRequest(t *testing.T, relayState string, edit func(*crewsaml.AuthnRequest)) (string, string) {
	t.Helper()
	req, err := s.sp.MakeAuthenticationRequest(s.sp.GetSSOBindingLocation(crewsaml.HTTPRedirectBinding),
		crewsaml.HTTPRedirectBinding, crewsaml.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(req)
	}
	u, err := req.Redirect(relayState, &s.sp)
	if err != nil {
		t.Fatal(err)
	}
	return u.String(), req.ID
}

// samlForm reads the auto-posting form of a SAML POST-binding answer.
func (e *env) samlForm(r response) (string, url.Values) {
	e.t.Helper()
	if r.status != http.StatusOK {
		e.t.Fatalf("no SAML form: %d %s", r.status, r.body)
	}
	return e.form(r)
}

// assertion checks a posted Response as the SP does and returns its assertion.
func (s *testSP) assertion(t *testing.T, fields url.Values, requestIDs ...string) (*crewsaml.Assertion, error) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(fields.Get("SAMLResponse"))
	if err != nil {
		t.Fatalf("SAMLResponse is not base64: %v", err)
	}
	return s.sp.ParseXMLResponse(raw, requestIDs, s.sp.AcsURL)
}

func attrValues(a *crewsaml.Assertion, name string) []string {
	var out []string
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			if at.Name == name {
				for _, v := range at.Values {
					out = append(out, v.Value)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// The descriptor is the realm's IdP metadata: its entity ID is the realm's
// issuer, its services the SAML endpoint, its signing certificate the
// realm's RSA key.
func TestSAMLDescriptor(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		md := e.idpMetadata()
		if md.EntityID != e.issuer() {
			t.Errorf("entityID %q, want %q", md.EntityID, e.issuer())
		}
		if len(md.IDPSSODescriptors) != 1 {
			t.Fatalf("%d IDPSSODescriptors", len(md.IDPSSODescriptors))
		}
		idp := md.IDPSSODescriptors[0]
		found := map[string]string{}
		for _, s := range idp.SingleSignOnServices {
			found[s.Binding] = s.Location
		}
		for _, b := range []string{crewsaml.HTTPRedirectBinding, crewsaml.HTTPPostBinding} {
			if found[b] != e.url("/protocol/saml") {
				t.Errorf("SSO %s at %q", b, found[b])
			}
		}
		ks, err := e.db.ListKeys(context.Background(), e.realm.ID)
		if err != nil {
			t.Fatal(err)
		}
		k, ok := keys.Active(ks, keys.RS256)
		if !ok || len(k.Certificate) == 0 {
			t.Fatal("no RS256 key with a certificate")
		}
		var certs []string
		for _, kd := range idp.KeyDescriptors {
			for _, c := range kd.KeyInfo.X509Data.X509Certificates {
				certs = append(certs, strings.Join(strings.Fields(c.Data), ""))
			}
		}
		if !slices.Contains(certs, base64.StdEncoding.EncodeToString(k.Certificate)) {
			t.Errorf("the realm's signing certificate is not published: %d certificates", len(certs))
		}
	})
}

// An SP-initiated login by the Redirect binding: the login form, then a
// signed Response posted to the ACS that the SP accepts, with the NameID,
// the attributes of the client's SAML mappers and the RelayState; the SSO
// session then serves a second request without the form; IsPassive without
// a session is answered NoPassive; ForceAuthn shows the form again.
func TestSAMLLogin(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{}, func(rl *realm.Realm) { rl.EventsEnabled = true })
		if err := e.db.AddUserRoles(context.Background(), e.user("alice").ID, e.realm.DefaultRoleID); err != nil {
			t.Fatal(err)
		}
		sp := e.newTestSP("https://sp.example", nil)
		b := e.browser()
		u, id := sp.authnRequest(t, "relay-1", nil)
		page := b.get(u)
		if page.status != http.StatusOK || !strings.Contains(page.body, `name="password"`) {
			t.Fatalf("no login form: %d %s", page.status, page.body)
		}
		action, fields := e.samlForm(e.login(b, page, "alice", alicePassword))
		if action != "https://sp.example/saml/acs" {
			t.Errorf("posted to %q", action)
		}
		if fields.Get("RelayState") != "relay-1" {
			t.Errorf("RelayState %q", fields.Get("RelayState"))
		}
		a, err := sp.assertion(t, fields, id)
		if err != nil {
			t.Fatalf("the SP refuses the response: %v", err)
		}
		if a.Subject.NameID.Value != "alice" {
			t.Errorf("NameID %q", a.Subject.NameID.Value)
		}
		if got := attrValues(a, "email"); !slices.Equal(got, []string{"alice@example.com"}) {
			t.Errorf("email attribute %v", got)
		}
		if got := attrValues(a, "Role"); !slices.Contains(got, "default-roles-demo") {
			t.Errorf("Role attribute %v lacks the realm's default roles", got)
		}
		ss := e.sessions("alice")
		if len(ss) != 1 {
			t.Fatalf("%d sessions", len(ss))
		}
		cs, err := e.db.GetClientSession(context.Background(), ss[0].ID, sp.client.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cs.Notes["SAML_NAME_ID"] != "alice" || cs.Notes["SAML_SESSION_INDEX"] != ss[0].ID+"::"+cs.ID {
			t.Errorf("client session notes %v", cs.Notes)
		}
		if idx := a.AuthnStatements; len(idx) != 1 || idx[0].SessionIndex != cs.Notes["SAML_SESSION_INDEX"] {
			t.Errorf("AuthnStatements %+v", idx)
		}
		evs, err := e.db.ListEvents(context.Background(), e.realm.ID, store.EventQuery{Types: []string{events.Login}, Max: -1})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].ClientID != sp.client.ClientID || evs[0].Details[events.DetailAuthMethod] != "saml" {
			t.Errorf("LOGIN events %+v", evs)
		}

		// SSO: the next request is answered at once.
		u, id = sp.authnRequest(t, "relay-2", nil)
		_, fields = e.samlForm(b.get(u))
		if _, err := sp.assertion(t, fields, id); err != nil {
			t.Fatalf("SSO response refused: %v", err)
		}
		if n := len(e.sessions("alice")); n != 1 {
			t.Errorf("%d sessions after SSO", n)
		}

		// ForceAuthn: the form again, whatever the session.
		u, _ = sp.authnRequest(t, "", func(r *crewsaml.AuthnRequest) { r.ForceAuthn = ptr(true) })
		if page := b.get(u); !strings.Contains(page.body, `name="password"`) {
			t.Errorf("ForceAuthn: no login form: %d", page.status)
		}

		// IsPassive in a browser without a session: NoPassive, no page.
		u, id = sp.authnRequest(t, "", func(r *crewsaml.AuthnRequest) { r.IsPassive = ptr(true) })
		_, fields = e.samlForm(e.browser().get(u))
		if _, err = sp.assertion(t, fields, id); err == nil {
			t.Error("the SP accepts the IsPassive answer of a browser without a session")
		}
		raw, _ := base64.StdEncoding.DecodeString(fields.Get("SAMLResponse"))
		var resp crewsaml.Response
		if err := xml.Unmarshal(raw, &resp); err != nil {
			t.Fatal(err)
		}
		top := resp.Status.StatusCode
		if top.Value != "urn:oasis:names:tc:SAML:2.0:status:Responder" || top.StatusCode == nil ||
			top.StatusCode.Value != "urn:oasis:names:tc:SAML:2.0:status:NoPassive" || resp.InResponseTo != id {
			t.Errorf("IsPassive without a session: status %+v in response to %q", top, resp.InResponseTo)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// errText is an SP error with its private cause, which says why.
func errText(err error) string {
	if err == nil {
		return ""
	}
	if ire, ok := err.(*crewsaml.InvalidResponseError); ok && ire.PrivateErr != nil {
		return ire.PrivateErr.Error()
	}
	return err.Error()
}

// Requests Gatehouse refuses, each with Keycloak's page and status, and
// nothing started: no login in progress, no session.
func TestSAMLRefusals(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		sp := e.newTestSP("https://sp.example", nil)
		other := e.newTestSP("https://other.example", nil)
		e.addClient("https://disabled.example/saml/metadata", func(c *client.Client) {
			c.Protocol, c.Enabled = "saml", false
		})
		unsigned := func(u string) string {
			q, _ := url.Parse(u)
			v := q.Query()
			v.Del("Signature")
			v.Del("SigAlg")
			q.RawQuery = v.Encode()
			return q.String()
		}
		tamper := func(param string) func(string) string {
			return func(u string) string {
				q, _ := url.Parse(u)
				v := q.Query()
				s := []byte(v.Get(param))
				s[len(s)/2] ^= 1
				v.Set(param, string(s))
				q.RawQuery = v.Encode()
				return q.String()
			}
		}
		good, _ := sp.authnRequest(t, "r", nil)
		cases := []struct {
			name string
			url  string
			want string
		}{
			{"unsigned request where the client requires signatures", unsigned(good), "Invalid requester"},
			{"altered signature", tamper("Signature")(good), "Invalid requester"},
			{"RelayState changed after signing", strings.Replace(good, "RelayState=r", "RelayState=x", 1), "Invalid requester"},
			{"signed by another SP's key", func() string {
				u, _ := other.authnRequest(t, "", func(r *crewsaml.AuthnRequest) { r.Issuer.Value = sp.sp.EntityID })
				return u
			}(), "Invalid requester"},
			{"ACS URL not registered", func() string {
				u, _ := sp.authnRequest(t, "", func(r *crewsaml.AuthnRequest) { r.AssertionConsumerServiceURL = "https://evil.example/acs" })
				return u
			}(), "Invalid redirect uri"},
			{"another Destination", func() string {
				u, _ := sp.authnRequest(t, "", func(r *crewsaml.AuthnRequest) { r.Destination = "https://idp.example/saml" })
				return strings.Replace(u, "https://idp.example/saml", e.url("/protocol/saml"), 1)
			}(), "Invalid Request"},
			{"unknown issuer", func() string {
				u, _ := sp.authnRequest(t, "", func(r *crewsaml.AuthnRequest) { r.Issuer.Value = "https://nobody.example" })
				return u
			}(), "Invalid Request"},
			{"disabled client", rawRequest(e, "https://disabled.example/saml/metadata", ""), "Login requester not enabled"},
			{"OpenID Connect client as issuer", rawRequest(e, "app", ""), "Wrong client protocol."},
			{"DOCTYPE in the request", rawRequest(e, sp.sp.EntityID, `<!DOCTYPE x [<!ENTITY e "boom">]>`), "Invalid Request"},
			{"neither SAMLRequest nor SAMLResponse", e.url("/protocol/saml"), "Invalid Request"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				b := e.browser()
				res := b.get(tc.url)
				if res.status != http.StatusBadRequest || !strings.Contains(res.body, tc.want) {
					t.Errorf("%d, want 400 %q:\n%s", res.status, tc.want, res.body)
				}
				if b.cookie(e, cookieAuthSession) != "" {
					t.Error("a login was started")
				}
			})
		}
		if n := len(e.sessions("alice")); n != 0 {
			t.Errorf("%d sessions", n)
		}
	})
}

// rawRequest is a Redirect-binding URL carrying an unsigned AuthnRequest
// written by hand, with prolog before its root (for a DOCTYPE).
func rawRequest(e *env, issuer, prolog string) string {
	e.t.Helper()
	doc := prolog + `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"` +
		` ID="id-raw" Version="2.0" IssueInstant="` + time.Now().UTC().Format(time.RFC3339) + `"><saml:Issuer>` + issuer +
		`</saml:Issuer></samlp:AuthnRequest>`
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	w.Write([]byte(doc))
	w.Close()
	return e.url("/protocol/saml") + "?" + url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(buf.Bytes())}}.Encode()
}

// An IdP-initiated login: the client's URL name starts it, the Response
// answers no request and carries the client's default RelayState.
func TestSAMLIdPInitiated(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		sp := e.newTestSP("https://sp.example", func(c *client.Client) {
			c.Attributes["saml_idp_initiated_sso_url_name"] = "wiki"
			c.Attributes["saml_idp_initiated_sso_relay_state"] = "/start"
		})
		b := e.browser()
		page := b.get(e.url("/protocol/saml/clients/wiki"))
		action, fields := e.samlForm(e.login(b, page, "alice", alicePassword))
		if action != "https://sp.example/saml/acs" || fields.Get("RelayState") != "/start" {
			t.Errorf("posted to %q with RelayState %q", action, fields.Get("RelayState"))
		}
		a, err := sp.assertion(t, fields)
		if err != nil {
			t.Fatalf("the SP refuses the IdP-initiated response: %v", errText(err))
		}
		if a.Subject.NameID.Value != "alice" {
			t.Errorf("NameID %q", a.Subject.NameID.Value)
		}
		if res := b.get(e.url("/protocol/saml/clients/nothing")); res.status != http.StatusBadRequest ||
			!strings.Contains(res.body, "Client not found.") {
			t.Errorf("unknown URL name: %d", res.status)
		}
	})
}

// Single logout started by one SAML SP: the SSO session ends, the other SAML
// SP of the session gets a signed LogoutRequest through the browser, and
// once it answers, the first SP gets its LogoutResponse with its RelayState.
func TestSAMLSingleLogout(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		one := e.newTestSP("https://one.example", nil)
		two := e.newTestSP("https://two.example", nil)
		b := e.browser()
		u, id := one.authnRequest(t, "", nil)
		_, fields := e.samlForm(e.login(b, b.get(u), "alice", alicePassword))
		a1, err := one.assertion(t, fields, id)
		if err != nil {
			t.Fatal(errText(err))
		}
		u, id = two.authnRequest(t, "", nil)
		_, fields = e.samlForm(b.get(u))
		if _, err := two.assertion(t, fields, id); err != nil {
			t.Fatal(errText(err))
		}

		lr, err := one.sp.MakeLogoutRequest(one.sp.GetSLOBindingLocation(crewsaml.HTTPRedirectBinding), a1.Subject.NameID.Value,
			crewsaml.WithSessionIndexes(a1.AuthnStatements[0].SessionIndex))
		if err != nil {
			t.Fatal(err)
		}
		lu, err := one.sp.RedirectLogoutRequestURL(lr, "one-relay")
		if err != nil {
			t.Fatal(err)
		}
		// To SP two by POST (its client forces the POST binding).
		action, fields := e.samlForm(b.get(lu.String()))
		if action != "https://two.example/saml/slo" {
			t.Fatalf("LogoutRequest posted to %q", action)
		}
		if n := len(e.sessions("alice")); n != 0 {
			t.Errorf("%d sessions during the logout", n)
		}
		req, _ := http.NewRequest(http.MethodPost, action, strings.NewReader(fields.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		got, err := two.sp.ValidateLogoutRequest(req)
		if err != nil {
			t.Fatalf("SP two refuses the LogoutRequest: %v", errText(err))
		}
		if got.NameID == nil || got.NameID.Value != "alice" {
			t.Errorf("LogoutRequest NameID %+v", got.NameID)
		}
		back, err := two.sp.MakeRedirectLogoutResponse(got.ID, fields.Get("RelayState"))
		if err != nil {
			t.Fatal(err)
		}
		// Then to SP one, the initiator, by POST.
		action, fields = e.samlForm(b.get(back.String()))
		if action != "https://one.example/saml/slo" || fields.Get("RelayState") != "one-relay" {
			t.Errorf("LogoutResponse posted to %q with RelayState %q", action, fields.Get("RelayState"))
		}
		req, _ = http.NewRequest(http.MethodPost, action, strings.NewReader(fields.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if _, err := one.sp.ParseLogoutResponse(req, []string{lr.ID}); err != nil {
			t.Errorf("SP one refuses the LogoutResponse: %v", errText(err))
		}
		// The chain's step is spent: the same LogoutResponse again is refused.
		if res := b.get(back.String()); res.status != http.StatusBadRequest {
			t.Errorf("replayed LogoutResponse: %d", res.status)
		}
	})
}

// OpenID Connect RP-initiated logout reaches the session's SAML clients too:
// the browser carries a LogoutRequest to the SAML SP, and its answer leads
// on to the post-logout redirect.
func TestOIDCLogoutReachesSAMLClients(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		sp := e.newTestSP("https://sp.example", nil)
		b := e.browser()
		u, id := sp.authnRequest(t, "", nil)
		_, fields := e.samlForm(e.login(b, b.get(u), "alice", alicePassword))
		if _, err := sp.assertion(t, fields, id); err != nil {
			t.Fatal(errText(err))
		}
		sid := e.sessions("alice")[0].ID
		q := url.Values{"id_token_hint": {e.idToken("app", e.user("alice").ID, sid)},
			"post_logout_redirect_uri": {"https://app.example/bye"}, "state": {"s1"}}
		action, fields := e.samlForm(b.get(e.url("/protocol/openid-connect/logout?" + q.Encode())))
		if action != "https://sp.example/saml/slo" {
			t.Fatalf("LogoutRequest posted to %q", action)
		}
		req, _ := http.NewRequest(http.MethodPost, action, strings.NewReader(fields.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		got, err := sp.sp.ValidateLogoutRequest(req)
		if err != nil {
			t.Fatalf("the SP refuses the LogoutRequest: %v", errText(err))
		}
		back, err := sp.sp.MakeRedirectLogoutResponse(got.ID, fields.Get("RelayState"))
		if err != nil {
			t.Fatal(err)
		}
		res := b.get(back.String())
		if loc := res.header.Get("Location"); loc != "https://app.example/bye?state=s1" {
			t.Errorf("after the SAML client: %d %q", res.status, loc)
		}
		if n := len(e.sessions("alice")); n != 0 {
			t.Errorf("%d sessions", n)
		}
	})
}

// A SAML login takes its attributes from the client's default SAML client
// scopes too (never from its OpenID Connect ones), with the user's groups
// when a group list mapper is among them, and asks for consent when the
// client requires it.
func TestSAMLScopesGroupsAndConsent(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		ctx := context.Background()
		sp := e.newTestSP("https://sp.example", func(c *client.Client) {
			c.ConsentRequired = true
			c.ProtocolMappers = nil
		})
		groups := client.Scope{ID: store.NewID(), RealmID: e.realm.ID, Name: "saml_groups", Protocol: "saml",
			Attributes: map[string]string{"display.on.consent.screen": "true", "consent.screen.text": "Your groups"},
			ProtocolMappers: []client.ProtocolMapper{{ID: store.NewID(), Name: "groups", Protocol: "saml",
				ProtocolMapper: "saml-group-membership-mapper",
				Config:         map[string]string{"attribute.name": "member", "full.path": "true", "single": "false"}}}}
		oidc := client.Scope{ID: store.NewID(), RealmID: e.realm.ID, Name: "oidc_only", Protocol: "openid-connect",
			ProtocolMappers: []client.ProtocolMapper{{ID: store.NewID(), Name: "hard", Protocol: "saml",
				ProtocolMapper: "saml-hardcode-attribute-mapper",
				Config:         map[string]string{"attribute.name": "leak", "attribute.value": "x"}}}}
		for _, sc := range []client.Scope{groups, oidc} {
			if err := e.db.CreateClientScope(ctx, sc); err != nil {
				t.Fatal(err)
			}
			if err := e.db.LinkClientScope(ctx, e.realm.ID, sp.client.ID, sc.ID, true); err != nil {
				t.Fatal(err)
			}
		}
		staff := role.Group{ID: store.NewID(), RealmID: e.realm.ID, Name: "staff"}
		ops := role.Group{ID: store.NewID(), RealmID: e.realm.ID, Name: "ops", ParentID: staff.ID}
		for _, g := range []role.Group{staff, ops} {
			if err := e.db.CreateGroup(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.db.AddGroupMember(ctx, ops.ID, e.user("alice").ID); err != nil {
			t.Fatal(err)
		}

		b := e.browser()
		u, id := sp.authnRequest(t, "", nil)
		consent := e.login(b, b.get(u), "alice", alicePassword)
		if !strings.Contains(consent.body, "Your groups") {
			t.Fatalf("no consent page naming the SAML scope: %d %s", consent.status, consent.body)
		}
		action, fields := e.form(consent)
		fields.Set("accept", "Yes")
		_, fields = e.samlForm(b.post(action, fields))
		a, err := sp.assertion(t, fields, id)
		if err != nil {
			t.Fatal(errText(err))
		}
		if got := attrValues(a, "member"); !slices.Equal(got, []string{"/staff/ops"}) {
			t.Errorf("member attribute %v", got)
		}
		if got := attrValues(a, "leak"); got != nil {
			t.Errorf("a mapper of an OpenID Connect scope applied: %v", got)
		}
	})
}

// An administrator ending a session reaches its SAML clients without the
// browser: a signed LogoutRequest over the SOAP binding to the client's
// SOAP logout URL, naming the NameID and SessionIndex of its login, which
// the SP (crewjam/saml) validates.
func TestSAMLBackchannelLogout(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvServer(t, open, web.URLs{}, func(o *server.Options) {
			o.Outbound = outbound.New(outbound.Options{AllowPrivate: true, Timeout: 5 * time.Second})
		})
		got := make(chan *crewsaml.LogoutRequest, 4)
		var sp *testSP
		soap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			lr, err := sp.sp.ValidateSOAPLogoutRequest(r)
			if err != nil {
				t.Errorf("the SP refuses the SOAP LogoutRequest: %v", errText(err))
				http.Error(w, "refused", http.StatusBadRequest)
				return
			}
			got <- lr
			w.Header().Set("Content-Type", "text/xml")
		}))
		t.Cleanup(soap.Close)
		sp = e.newTestSP(soap.URL, func(c *client.Client) {
			c.FrontchannelLogout = false
			c.Attributes["saml_single_logout_service_url_soap"] = soap.URL + "/saml/slo"
		})
		b := e.browser()
		u, id := sp.authnRequest(t, "", nil)
		_, fields := e.samlForm(e.login(b, b.get(u), "alice", alicePassword))
		a, err := sp.assertion(t, fields, id)
		if err != nil {
			t.Fatal(errText(err))
		}
		sid := e.sessions("alice")[0].ID

		tok := e.adminToken()
		req, _ := http.NewRequest(http.MethodDelete, e.base+"/admin/realms/demo/sessions/"+sid, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("admin session delete: %d", res.StatusCode)
		}
		select {
		case lr := <-got:
			if lr.NameID == nil || lr.NameID.Value != "alice" {
				t.Errorf("NameID %+v", lr.NameID)
			}
			if idx := lr.AllSessionIndexes(); len(idx) != 1 || idx[0].Value != a.AuthnStatements[0].SessionIndex {
				t.Errorf("SessionIndexes %+v, want %q", idx, a.AuthnStatements[0].SessionIndex)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no SOAP LogoutRequest reached the SP")
		}
	})
}

// adminToken is an access token of the master realm's admin.
func (e *env) adminToken() string {
	e.t.Helper()
	res, err := http.PostForm(e.base+"/realms/master/protocol/openid-connect/token", url.Values{"grant_type": {"password"},
		"client_id": {"admin-cli"}, "username": {"admin"}, "password": {"admin-pw"}})
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		e.t.Fatalf("admin token: %d %v", res.StatusCode, err)
	}
	return tok.AccessToken
}
