package login_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewsaml "github.com/crewjam/saml"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

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

// A LogoutRequest from a browser without the SSO session (the SP's own
// session outlived the cookie, or it logs out from elsewhere) ends the
// session its SessionIndex names, only if the requesting SP took part in
// it, and is answered at once.
func TestSAMLLogoutBySessionIndex(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		one := e.newTestSP("https://one.example", nil)
		two := e.newTestSP("https://two.example", nil)
		b := e.browser()
		u, id := one.authnRequest(t, "", nil)
		_, fields := e.samlForm(e.login(b, b.get(u), "alice", alicePassword))
		a, err := one.assertion(t, fields, id)
		if err != nil {
			t.Fatal(errText(err))
		}
		idx := a.AuthnStatements[0].SessionIndex
		logout := func(sp *testSP) (*crewsaml.LogoutRequest, response) {
			lr, err := sp.sp.MakeLogoutRequest(sp.sp.GetSLOBindingLocation(crewsaml.HTTPRedirectBinding), "alice",
				crewsaml.WithSessionIndexes(idx))
			if err != nil {
				t.Fatal(err)
			}
			lu, err := sp.sp.RedirectLogoutRequestURL(lr, "")
			if err != nil {
				t.Fatal(err)
			}
			return lr, e.browser().get(lu.String())
		}
		// SP two never took part in the session: it cannot end it.
		if _, res := logout(two); res.status != http.StatusOK {
			t.Fatalf("SP two's logout: %d %s", res.status, res.body)
		}
		if n := len(e.sessions("alice")); n != 1 {
			t.Fatalf("SP two ended alice's session (%d left)", n)
		}
		lr, res := logout(one)
		action, fields := e.samlForm(res)
		req, _ := http.NewRequest(http.MethodPost, action, strings.NewReader(fields.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if _, err := one.sp.ParseLogoutResponse(req, []string{lr.ID}); err != nil {
			t.Errorf("SP one refuses the LogoutResponse: %v", errText(err))
		}
		if n := len(e.sessions("alice")); n != 0 {
			t.Errorf("%d sessions left", n)
		}
	})
}

// An SP may end a session without the browser: a signed LogoutRequest over
// the SOAP binding (crewjam/saml's SendSOAPLogoutRequest), answered with a
// signed LogoutResponse the SP validates; an unsigned one gets a SOAP Fault.
func TestSAMLSOAPLogoutFromSP(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		sp := e.newTestSP("https://sp.example", nil)
		sp.sp.AllowInsecureSOAPEndpoints = true
		b := e.browser()
		u, id := sp.authnRequest(t, "", nil)
		_, fields := e.samlForm(e.login(b, b.get(u), "alice", alicePassword))
		a, err := sp.assertion(t, fields, id)
		if err != nil {
			t.Fatal(errText(err))
		}
		req, err := sp.sp.MakeSOAPLogoutRequest(crewsaml.NameID{Value: "alice"},
			crewsaml.WithSessionIndexes(a.AuthnStatements[0].SessionIndex))
		if err != nil {
			t.Fatal(err)
		}
		unsigned := *req
		unsigned.Signature = nil
		doc := etree.NewDocument()
		doc.SetRoot(unsigned.Element())
		body, _ := doc.WriteToString()
		res, err := http.Post(e.url("/protocol/saml"), "text/xml", strings.NewReader(
			`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>`+body+`</soap:Body></soap:Envelope>`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || len(e.sessions("alice")) != 1 {
			t.Fatalf("unsigned SOAP LogoutRequest: %d, %d sessions", res.StatusCode, len(e.sessions("alice")))
		}
		if _, err := sp.sp.SendSOAPLogoutRequest(context.Background(), req); err != nil {
			t.Fatalf("SOAP logout: %v", errText(err))
		}
		if n := len(e.sessions("alice")); n != 0 {
			t.Errorf("%d sessions left", n)
		}
	})
}
