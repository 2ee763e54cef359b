package login_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
)

func TestConsent(t *testing.T) {
	e := newEnv(t)
	c := e.addClient("needs-consent", func(c *client.Client) {
		c.Name = "Photo Printer"
		c.ConsentRequired = true
		c.RedirectURIs = []string{"https://photos.example/cb"}
	})
	request := func(over map[string]string) string {
		p := map[string]string{"client_id": "needs-consent", "redirect_uri": "https://photos.example/cb",
			"response_type": "code", "scope": "openid offline_access", "state": "c1"}
		for k, v := range over {
			p[k] = v
		}
		return e.authURL(p)
	}
	b := e.browser()
	page := e.login(b, b.get(request(nil)), "alice", alicePassword)
	if page.status != http.StatusOK || !strings.Contains(page.body, "Grant Access to Photo Printer") {
		t.Fatalf("consent page: %d %s", page.status, page.body)
	}
	// The page title rendered as "Grant Access to {0}": the layout's
	// <title> formatted the message without the client's name.
	if !strings.Contains(page.body, "<title>Grant Access to Photo Printer – ") {
		t.Errorf("consent page title does not name the client: %s", page.body)
	}
	for _, want := range []string{"<li>User profile</li>", "<li>Email address</li>", "<li>Offline Access</li>", "User roles"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	if strings.Contains(page.body, "web-origins") || strings.Contains(page.body, "<li>acr</li>") {
		t.Error("scopes hidden from the consent screen are listed")
	}
	if n := len(e.sessions("alice")); n != 0 {
		t.Fatal("session created before consent")
	}
	action, fields := e.form(page)

	// A forged decision is refused.
	if res := b.post(action, url.Values{"accept": {"yes"}}); res.status != http.StatusBadRequest {
		t.Fatalf("consent without CSRF token: %d", res.status)
	}

	// Decline: access_denied to the client, nothing stored.
	decline := url.Values{"cancel": {"yes"}}
	for k, v := range fields {
		decline[k] = v
	}
	res := b.post(action, decline)
	loc := res.location(t)
	if loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "c1" || loc.Query().Has("code") {
		t.Fatalf("decline: %s", loc)
	}
	if _, err := e.db.GetConsent(context.Background(), e.user("alice").ID, c.ID); err == nil {
		t.Fatal("declined consent stored")
	}

	// Accept: the grant is stored and the code issued.
	b = e.browser()
	page = e.login(b, b.get(request(nil)), "alice", alicePassword)
	action, fields = e.form(page)
	fields.Set("accept", "yes")
	res = b.post(action, fields)
	if res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
		t.Fatalf("accept: %d %s", res.status, res.body)
	}
	grant, err := e.db.GetConsent(context.Background(), e.user("alice").ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	offline, _ := e.db.GetClientScopeByName(context.Background(), e.realm.ID, "offline_access")
	profile, _ := e.db.GetClientScopeByName(context.Background(), e.realm.ID, "profile")
	if !slices.Contains(grant.ScopeIDs, offline.ID) || !slices.Contains(grant.ScopeIDs, profile.ID) {
		t.Errorf("grant %v lacks offline_access or profile", grant.ScopeIDs)
	}

	// Granted scopes are not asked again, through SSO or a new login.
	if res := b.get(request(map[string]string{"state": "c2"})); res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
		t.Errorf("SSO asked for consent again: %d", res.status)
	}
	b2 := e.browser()
	if res := e.login(b2, b2.get(request(nil)), "alice", alicePassword); res.status != http.StatusFound {
		t.Errorf("new login asked for consent again: %d", res.status)
	}
	// A scope not yet granted is asked for, alone.
	page = b.get(request(map[string]string{"scope": "openid offline_access phone"}))
	if page.status != http.StatusOK || !strings.Contains(page.body, "<li>Phone number</li>") || strings.Contains(page.body, "User profile") {
		t.Errorf("new scope: %d %s", page.status, page.body)
	}
	// Accepting it on the SSO path reuses the session (acr 0) and extends the grant.
	action, fields = e.form(page)
	fields.Set("accept", "yes")
	res = b.post(action, fields)
	if res.status != http.StatusFound {
		t.Fatalf("accept on the SSO path: %d %s", res.status, res.body)
	}
	if _, d := e.codeData(res.location(t).Query().Get("code")); d.ACR != "0" {
		t.Errorf("consent after SSO: acr %q", d.ACR)
	}
	phone, _ := e.db.GetClientScopeByName(context.Background(), e.realm.ID, "phone")
	if grant, _ := e.db.GetConsent(context.Background(), e.user("alice").ID, c.ID); !slices.Contains(grant.ScopeIDs, phone.ID) ||
		!slices.Contains(grant.ScopeIDs, profile.ID) {
		t.Errorf("grant not extended: %v", grant.ScopeIDs)
	}
	// prompt=consent asks again for everything.
	page = b.get(request(map[string]string{"prompt": "consent"}))
	if page.status != http.StatusOK || !strings.Contains(page.body, "User profile") {
		t.Errorf("prompt=consent: %d", page.status)
	}
	// prompt=none cannot show the page.
	res = b.get(request(map[string]string{"scope": "openid address", "prompt": "none"}))
	if res.location(t).Query().Get("error") != "consent_required" {
		t.Errorf("prompt=none needing consent: %s", res.location(t))
	}
}
