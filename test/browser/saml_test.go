package browser_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	crewsaml "github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// serviceProvider is a SAML application as people deploy them: crewjam/saml's
// samlsp middleware in front of a page, with its own key. The middleware
// does everything a real SP does with Gatehouse's messages: it signs its
// AuthnRequests and LogoutRequests, and checks the Response's signature,
// audience, recipient, validity and InResponseTo before it opens a session.
type serviceProvider struct {
	srv *httptest.Server
	m   *samlsp.Middleware
}

// newServiceProvider serves an SP whose /app page requires a SAML login and
// shows the session's attributes, whose /logout starts single logout, and
// registers it with Gatehouse from its own metadata, as an administrator
// would: clientId its entity ID, ACS and SLO URLs and signing certificate
// from the document; IdP-initiated logins under the URL name "sp-app".
func (s *stack) newServiceProvider(t *testing.T) *serviceProvider {
	t.Helper()
	sp := &serviceProvider{}
	mux := http.NewServeMux()
	sp.srv = httptest.NewServer(mux)
	t.Cleanup(sp.srv.Close)

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "saml sp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	md, err := samlsp.FetchMetadata(context.Background(), http.DefaultClient, *mustParse(t, s.issuer()+"/protocol/saml/descriptor"))
	if err != nil {
		t.Fatalf("fetch Gatehouse's IdP metadata: %v", err)
	}
	sp.m, err = samlsp.New(samlsp.Options{URL: *mustParse(t, sp.srv.URL), Key: key, Certificate: cert, IDPMetadata: md,
		SignRequest: true, AllowIDPInitiated: true, DefaultRedirectURI: "/app",
		LogoutBindings: []string{crewsaml.HTTPPostBinding, crewsaml.HTTPRedirectBinding}})
	if err != nil {
		t.Fatal(err)
	}
	sp.m.OnError = func(w http.ResponseWriter, r *http.Request, err error) {
		msg := err.Error()
		if ire, ok := err.(*crewsaml.InvalidResponseError); ok && ire.PrivateErr != nil {
			msg = ire.PrivateErr.Error()
		}
		t.Logf("SP refused %s: %s", r.URL.Path, msg)
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<!doctype html><p id="sp-error">%s</p>`, template.HTMLEscapeString(msg))
	}
	mux.Handle("/saml/", sp.m)
	mux.Handle("GET /app", sp.m.RequireAccount(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := samlsp.SessionFromContext(r.Context()).(samlsp.SessionWithAttributes)
		attrs := sess.GetAttributes()
		roles := slices.Clone(attrs["Role"])
		slices.Sort(roles)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, `<!doctype html><title>saml app</title><p id="sp-user">%s</p><p id="sp-email">%s</p><p id="sp-roles">%s</p>`,
			template.HTMLEscapeString(sess.(samlsp.SessionWithNameID).GetNameID()),
			template.HTMLEscapeString(attrs.Get("email")), template.HTMLEscapeString(strings.Join(roles, " ")))
	})))
	mux.HandleFunc("GET /logout", sp.m.HandleStartLogout)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>saml app</title><p id="sp-home">signed out</p>`)
	})

	res, err := http.Get(sp.srv.URL + "/saml/metadata")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	meta, err := saml.ParseSPMetadata(body)
	if err != nil {
		t.Fatalf("parse the SP's metadata: %v", err)
	}
	c := client.New(store.NewID(), s.realm.ID, meta.EntityID)
	c.Protocol, c.Name = "saml", "SAML app"
	c.Attributes = map[string]string{
		"saml_assertion_consumer_url_post":        meta.ACS[saml.BindingPOST],
		"saml_single_logout_service_url_post":     meta.SLO[saml.BindingPOST],
		"saml_single_logout_service_url_redirect": meta.SLO[saml.BindingRedirect],
		"saml.signing.certificate":                base64.StdEncoding.EncodeToString(meta.SigningCerts[0].Raw),
		"saml.client.signature":                   "true",
		"saml.server.signature":                   "true",
		"saml.assertion.signature":                "true",
		"saml.authnstatement":                     "true",
		"saml.force.post.binding":                 "true",
		"saml_name_id_format":                     "username",
		"saml_force_name_id_format":               "true",
		"saml_idp_initiated_sso_url_name":         "sp-app",
	}
	c.ProtocolMappers = []client.ProtocolMapper{
		{ID: store.NewID(), Name: "email", Protocol: "saml", ProtocolMapper: "saml-user-property-mapper",
			Config: map[string]string{"user.attribute": "email", "attribute.name": "email", "friendly.name": "email",
				"attribute.nameformat": "Basic"}},
		{ID: store.NewID(), Name: "roles", Protocol: "saml", ProtocolMapper: "saml-role-list-mapper",
			Config: map[string]string{"attribute.name": "Role", "attribute.nameformat": "Basic", "single": "false"}},
	}
	if err := provision.CreateClient(context.Background(), s.db, c, time.Now()); err != nil {
		t.Fatal(err)
	}
	return sp
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (sp *serviceProvider) url(path string) string { return sp.srv.URL + path }

// A SAML application and an OpenID Connect application in one browser: the
// SAML login (Redirect binding in, POST back) shows the SP the user and the
// attributes it checked; the OIDC app then gets in through the same SSO
// session; single logout started at the SAML app ends the session for the
// OIDC app too; an IdP-initiated login then signs the user in to the SAML
// app again.
func TestSAMLServiceProvider(t *testing.T) {
	ctx := newChromium(t)
	s := newStack(t)
	s.requireCodeGrant(t)
	sp := s.newServiceProvider(t)

	step(t, ctx, "open the SAML app", chromedp.Navigate(sp.url("/app")), chromedp.WaitVisible(chromedp.ID("username")))
	if !strings.HasPrefix(location(t, ctx), s.issuer()+"/") {
		t.Errorf("not on Gatehouse's login page: %s", location(t, ctx))
	}
	signIn(t, ctx, "alice", alicePassword)
	step(t, ctx, "back at the SAML app", chromedp.WaitVisible(chromedp.ID("sp-user")))
	if got := text(t, ctx, "sp-user"); got != "alice" {
		t.Errorf("SP user %q", got)
	}
	if got := text(t, ctx, "sp-email"); got != "alice@example.com" {
		t.Errorf("SP email attribute %q", got)
	}
	if got := text(t, ctx, "sp-roles"); !strings.Contains(got, "default-roles-demo") {
		t.Errorf("SP Role attribute %q", got)
	}
	screenshot(t, ctx, "saml-app")

	step(t, ctx, "SSO into the OIDC app", chromedp.Navigate(s.rp.url("/app-one/login")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got, acr := text(t, ctx, "exchange"), text(t, ctx, "acr"); got != "ok" || acr != "0" {
		t.Fatalf("OIDC app after the SAML login: exchange %s acr %q", got, acr)
	}

	step(t, ctx, "single logout from the SAML app", chromedp.Navigate(sp.url("/logout")), chromedp.WaitVisible(chromedp.ID("sp-home")))
	step(t, ctx, "the OIDC app must sign in again", chromedp.Navigate(s.rp.url("/app-one/login")), chromedp.WaitVisible(chromedp.ID("username")))
	step(t, ctx, "so must the SAML app", chromedp.Navigate(sp.url("/app")), chromedp.WaitVisible(chromedp.ID("username")))

	step(t, ctx, "IdP-initiated login", chromedp.Navigate(s.issuer()+"/protocol/saml/clients/sp-app"), chromedp.WaitVisible(chromedp.ID("username")))
	signIn(t, ctx, "alice", alicePassword)
	step(t, ctx, "at the SAML app", chromedp.WaitVisible(chromedp.ID("sp-user")))
	if got := text(t, ctx, "sp-user"); got != "alice" {
		t.Errorf("SP user after the IdP-initiated login %q", got)
	}
}

// OpenID Connect RP-initiated logout ends the SAML app's session too: the
// browser carries Gatehouse's LogoutRequest to the SP, which ends its own
// session and answers, and then lands on the OIDC app's post-logout page.
func TestOIDCLogoutEndsSAMLSession(t *testing.T) {
	ctx := newChromium(t)
	s := newStack(t)
	s.requireCodeGrant(t)
	sp := s.newServiceProvider(t)

	step(t, ctx, "log in to the OIDC app", chromedp.Navigate(s.rp.url("/app-one/login")), chromedp.WaitVisible(chromedp.ID("username")))
	signIn(t, ctx, "alice", alicePassword)
	step(t, ctx, "back at the OIDC app", chromedp.WaitVisible(chromedp.ID("callback")))
	step(t, ctx, "SSO into the SAML app", chromedp.Navigate(sp.url("/app")), chromedp.WaitVisible(chromedp.ID("sp-user")))

	step(t, ctx, "log out of the OIDC app", chromedp.Navigate(s.rp.url("/app-one/logout")), chromedp.WaitVisible(chromedp.ID("bye")))
	if got := text(t, ctx, "state"); got != "bye-app-one" {
		t.Errorf("post-logout state %q", got)
	}
	step(t, ctx, "the SAML app's session is gone", chromedp.Navigate(sp.url("/app")), chromedp.WaitVisible(chromedp.ID("username")))
}
