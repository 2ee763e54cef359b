package login_test

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
	"github.com/gatehouse-iam/gatehouse/internal/webauthn"
	"github.com/gatehouse-iam/gatehouse/internal/webauthn/webauthntest"
)

var webauthnOptions = regexp.MustCompile(`data-webauthn-options="([^"]*)"`)

// ceremonyOptions reads the options a WebAuthn page hands to the browser.
func ceremonyOptions(t *testing.T, r response) string {
	t.Helper()
	m := webauthnOptions.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no WebAuthn ceremony in page (%d): %s", r.status, r.body)
	}
	return html.UnescapeString(m[1])
}

// TestFlowPasskey: a browser flow that starts with a passkey. Refused
// answers (another origin, another relying party, an unknown credential,
// an answer replayed on a new challenge) show the page's error with a new
// challenge, record LOGIN_ERROR and leave the credential as it was. The
// good answer, posted to a second node sharing the database, logs alice
// in: the challenge lives in the database, not in the node.
func TestFlowPasskey(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{}, func(r *realm.Realm) {
			r.EventsEnabled = true
			p := realm.DefaultWebAuthnPasswordlessPolicy()
			p.RpID = "localhost" // the test servers listen on an IP address, which is no relying party id
			r.WebAuthnPasswordlessPolicy = &p
		})
		ctx := context.Background()
		passkeyFlow(t, e)
		alice := e.user("alice")
		origin := e.srv.URL
		k := webauthntest.NewKey(t)
		cer, err := webauthn.BeginRegistration(ctx, e.db, e.realm, webauthn.TypePasswordless, origin, alice)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := webauthn.FinishRegistration(ctx, e.db, e.realm, webauthn.TypePasswordless, origin, alice, cer.State,
			k.Create(t, cer.Options, origin, "localhost"), "laptop", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		stored := func() string {
			t.Helper()
			cs, err := e.db.ListCredentials(ctx, alice.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				if c.Type == webauthn.TypePasswordless {
					return c.CredentialData
				}
			}
			t.Fatal("no passkey stored")
			return ""
		}
		before := stored()
		e.takeEvents()

		b := e.browser()
		page := b.get(e.codeRequest(nil))
		if page.status != http.StatusOK || !strings.Contains(page.body, `id="authenticateWebAuthnButton"`) {
			t.Fatalf("passkey page: %d %s", page.status, page.body)
		}
		if strings.Contains(page.body, "tryAnotherWay") {
			t.Error("the passkey page offers another way, and the SSO cookie is none")
		}
		post := func(page response, answer string) response {
			t.Helper()
			action, fields := e.form(page)
			fields.Set("webauthnResponse", answer)
			return b.post(action, fields)
		}
		answer := func(page response, k *webauthntest.Key, origin, rpID string) (string, response) {
			t.Helper()
			a := k.Get(t, ceremonyOptions(t, page), origin, rpID, []byte(alice.ID))
			return a, post(page, a)
		}
		k.Counter = 1
		var replay string
		for _, bad := range []struct {
			what, origin, rpID string
			k                  *webauthntest.Key
		}{
			{"another origin", "https://evil.example", "localhost", k},
			{"another relying party", origin, "evil.example", k},
			{"an unknown credential", origin, "localhost", webauthntest.NewKey(t)},
		} {
			var res response
			replay, res = answer(page, bad.k, bad.origin, bad.rpID)
			if res.status != http.StatusOK || !strings.Contains(res.body, "Security key authentication result is invalid.") ||
				ceremonyOptions(t, res) == ceremonyOptions(t, page) {
				t.Fatalf("%s: %d %s", bad.what, res.status, res.body)
			}
			page = res
		}
		// An answer to an earlier challenge does not pass on this one.
		res := post(page, replay)
		if res.status != http.StatusOK || !strings.Contains(res.body, "Security key authentication result is invalid.") {
			t.Fatalf("replayed answer: %d %s", res.status, res.body)
		}
		page = res
		if evs := e.takeEvents(); len(evs) != 4 || evs[0].Type != "LOGIN_ERROR" || evs[0].Error != "invalid_user_credentials" {
			t.Errorf("events: %v", eventTypes(evs))
		}
		if after := stored(); after != before {
			t.Errorf("refused answers changed the passkey: %s, was %s", after, before)
		}

		// The second node, serving the same public address, finishes what
		// the first started.
		public, err := web.ParseHostname(e.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		node2 := httptest.NewServer(server.New(server.Options{Store: e.db, Now: e.clock.Now, URLs: web.URLs{Hostname: public},
			Log: slog.New(slog.NewTextHandler(&syncWriter{}, nil))}))
		t.Cleanup(node2.Close)
		action, fields := e.form(page)
		fields.Set("webauthnResponse", k.Get(t, ceremonyOptions(t, page), origin, "localhost", []byte(alice.ID)))
		res = b.post(strings.Replace(action, e.srv.URL, node2.URL, 1), fields)
		if res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
			t.Fatalf("good answer on node 2: %d %s", res.status, res.body)
		}
		if after := stored(); after == before || !strings.Contains(after, `"counter":1`) {
			t.Errorf("counter after the login: %s", after)
		}
		if evs := e.takeEvents(); len(evs) != 1 || evs[0].Type != "LOGIN" || evs[0].UserID != alice.ID {
			t.Errorf("events: %v", eventTypes(evs))
		}
	})
}

// TestWebAuthnRegisterRequiredAction: a user owing webauthn-register gets
// the registration page after the password. An answer from another
// origin, or one replaying the refused answer's challenge, shows the page
// again with Keycloak's message and a new challenge, records
// CUSTOM_REQUIRED_ACTION_ERROR and stores nothing; a good one stores the
// security key with its label, records CUSTOM_REQUIRED_ACTION and lets the
// login finish.
func TestWebAuthnRegisterRequiredAction(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{}, func(r *realm.Realm) {
			r.EventsEnabled = true
			p := realm.DefaultWebAuthnPolicy()
			p.RpID = "localhost"
			r.WebAuthnPolicy = &p
		})
		e.addUser("dora", "dora-pw", func(u *realmUser) { u.RequiredActions = []string{"webauthn-register"} })
		b := e.browser()
		page := e.login(b, b.get(e.codeRequest(nil)), "dora", "dora-pw")
		if page.status != http.StatusOK || !strings.Contains(page.body, "Security Key Registration") || !strings.Contains(page.body, `id="registerWebAuthn"`) {
			t.Fatalf("registration page: %d %s", page.status, page.body)
		}
		e.takeEvents()
		k := webauthntest.NewKey(t)
		post := func(page response, answer, label string) response {
			t.Helper()
			action, fields := e.form(page)
			fields.Set("webauthnResponse", answer)
			fields.Set("authenticatorLabel", label)
			return b.post(action, fields)
		}
		first := k.Create(t, ceremonyOptions(t, page), "https://evil.example", "localhost")
		res := post(page, first, "YubiKey")
		if res.status != http.StatusOK || !strings.Contains(res.body, "Failed to register your Security key.") || ceremonyOptions(t, res) == ceremonyOptions(t, page) {
			t.Fatalf("another origin: %d %s", res.status, res.body)
		}
		// The refused answer, with its spent challenge, again.
		res = post(res, first, "YubiKey")
		if res.status != http.StatusOK || !strings.Contains(res.body, "Failed to register your Security key.") {
			t.Fatalf("replayed answer: %d %s", res.status, res.body)
		}
		dora := e.user("dora")
		if cs, _ := e.db.ListCredentials(context.Background(), dora.ID); len(cs) != 1 {
			t.Fatalf("refused registrations stored: %+v", cs)
		}
		res = post(res, k.Create(t, ceremonyOptions(t, res), e.srv.URL, "localhost"), "YubiKey")
		if res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
			t.Fatalf("good answer: %d %s", res.status, res.body)
		}
		cs, _ := e.db.ListCredentials(context.Background(), dora.ID)
		if len(cs) != 2 || cs[1].Type != "webauthn" || cs[1].UserLabel != "YubiKey" {
			t.Fatalf("stored: %+v", cs)
		}
		if u := e.user("dora"); len(u.RequiredActions) != 0 {
			t.Errorf("required actions left: %v", u.RequiredActions)
		}
		evs := e.takeEvents()
		if got := eventTypes(evs); len(got) != 4 || got[0] != "CUSTOM_REQUIRED_ACTION_ERROR/invalid_registration" || got[1] != got[0] ||
			got[2] != "CUSTOM_REQUIRED_ACTION/" || got[3] != "LOGIN/" {
			t.Errorf("events: %v", got)
		}
	})
}
