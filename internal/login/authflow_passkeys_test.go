package login_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
	"github.com/gatehouse-iam/gatehouse/internal/webauthn"
	"github.com/gatehouse-iam/gatehouse/internal/webauthn/webauthntest"
)

// passkeyRealm sets the passwordless policy the passkey tests share: the
// relying party is "localhost" (the test servers listen on an IP
// address, which is none), and passkeys are offered on the login forms
// when offer is set.
func passkeyRealm(offer bool) func(*realm.Realm) {
	return func(r *realm.Realm) {
		r.EventsEnabled = true
		p := realm.DefaultWebAuthnPasswordlessPolicy()
		p.RpID = "localhost"
		p.PasskeysEnabled = offer
		r.WebAuthnPasswordlessPolicy = &p
	}
}

// registerKey stores a credential of typ for u made by a new software
// authenticator, through the same ceremony the required action runs.
func registerKey(t *testing.T, e *env, typ string, u user.User) *webauthntest.Key {
	t.Helper()
	ctx := context.Background()
	k := webauthntest.NewKey(t)
	cer, err := webauthn.BeginRegistration(ctx, e.db, e.realm, typ, e.srv.URL, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := webauthn.FinishRegistration(ctx, e.db, e.realm, typ, e.srv.URL, u, cer.State,
		k.Create(t, cer.Options, e.srv.URL, "localhost"), "laptop", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	return k
}

// bindBrowserFlow binds a browser flow of the steps given, in order, with
// their requirements (pairs of authenticator and requirement).
func bindBrowserFlow(t *testing.T, e *env, alias string, steps ...string) {
	t.Helper()
	var execs []flow.Execution
	for i := 0; i+1 < len(steps); i += 2 {
		execs = append(execs, flow.Execution{Authenticator: steps[i], Requirement: steps[i+1], Priority: 10 * (i/2 + 1)})
	}
	err := e.db.UpdateAuthConfig(context.Background(), e.realm.ID, func(c *flow.Config) error {
		c.Flows = append(c.Flows, flow.Flow{Alias: alias, ProviderID: flow.BasicFlow, TopLevel: true, Executions: execs})
		c.Bindings.Browser = alias
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// passkeyFlow binds a browser flow of the SSO cookie or a passkey.
func passkeyFlow(t *testing.T, e *env) {
	t.Helper()
	bindBrowserFlow(t, e, "passkey", "auth-cookie", flow.Alternative, "webauthn-authenticator-passwordless", flow.Alternative)
}

// storedKey is u's stored credential data of typ.
func storedKey(t *testing.T, e *env, u user.User, typ string) string {
	t.Helper()
	cs, err := e.db.ListCredentials(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Type == typ {
			return c.CredentialData
		}
	}
	t.Fatalf("no %s credential stored", typ)
	return ""
}

// postAnswer posts a WebAuthn answer to the form of page.
func postAnswer(e *env, b *browser, page response, answer string) response {
	e.t.Helper()
	action, fields := e.form(page)
	fields.Set("webauthnResponse", answer)
	return b.post(action, fields)
}

// TestPasskeyOnLoginForm: with the passwordless policy's passkeys on, the
// username and password page marks its username field for the browser's
// passkey autofill and carries a conditional assertion. Its answer, posted
// to the same login action, logs alice in without a password; a refused
// one (another origin) shows the login page with the error and a new
// offer, records LOGIN_ERROR and changes nothing. With passkeys off the
// page offers none, and a posted answer is no login.
func TestPasskeyOnLoginForm(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{}, passkeyRealm(true))
		alice := e.user("alice")
		k := registerKey(t, e, webauthn.TypePasswordless, alice)
		before := storedKey(t, e, alice, webauthn.TypePasswordless)
		e.takeEvents()

		b := e.browser()
		page := b.get(e.codeRequest(nil))
		if page.status != http.StatusOK || !strings.Contains(page.body, `autocomplete="username webauthn"`) ||
			!strings.Contains(page.body, `data-webauthn-mode="conditional"`) || !strings.Contains(page.body, `id="password"`) {
			t.Fatalf("login page without the passkey offer: %d %s", page.status, page.body)
		}
		if opts := ceremonyOptions(t, page); !strings.Contains(opts, `"mediation":"conditional"`) || strings.Contains(opts, "allowCredentials") {
			t.Errorf("conditional options: %s", opts)
		}
		k.Counter = 1
		res := postAnswer(e, b, page, k.Get(t, ceremonyOptions(t, page), "https://evil.example", "localhost", []byte(alice.ID)))
		if res.status != http.StatusOK || !strings.Contains(res.body, "Security key authentication result is invalid.") ||
			!strings.Contains(res.body, `id="password"`) || ceremonyOptions(t, res) == ceremonyOptions(t, page) {
			t.Fatalf("another origin: %d %s", res.status, res.body)
		}
		if evs := e.takeEvents(); len(evs) != 1 || evs[0].Type != "LOGIN_ERROR" || evs[0].Error != "invalid_user_credentials" || evs[0].UserID != alice.ID {
			t.Errorf("events: %v", eventTypes(evs))
		}
		if after := storedKey(t, e, alice, webauthn.TypePasswordless); after != before {
			t.Errorf("a refused answer changed the passkey: %s", after)
		}
		// The browser's refusal (the user cancelled the passkey prompt).
		action, fields := e.form(res)
		fields.Set("error", "NotAllowedError")
		cancelled := b.post(action, fields)
		if cancelled.status != http.StatusOK || !strings.Contains(cancelled.body, "Failed to authenticate by the Security key.") ||
			!strings.Contains(cancelled.body, `data-webauthn-mode="conditional"`) {
			t.Fatalf("browser refusal: %d %s", cancelled.status, cancelled.body)
		}
		if evs := e.takeEvents(); len(evs) != 1 || evs[0].Type != "LOGIN_ERROR" || evs[0].Error != "not_allowed" {
			t.Errorf("events: %v", eventTypes(evs))
		}
		res = postAnswer(e, b, cancelled, k.Get(t, ceremonyOptions(t, cancelled), e.srv.URL, "localhost", []byte(alice.ID)))
		if res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
			t.Fatalf("passkey from the login page: %d %s", res.status, res.body)
		}
		if evs := e.takeEvents(); len(evs) != 1 || evs[0].Type != "LOGIN" || evs[0].UserID != alice.ID {
			t.Errorf("events: %v", eventTypes(evs))
		}
		if after := storedKey(t, e, alice, webauthn.TypePasswordless); !strings.Contains(after, `"counter":1`) {
			t.Errorf("counter after the login: %s", after)
		}

		// Passkeys off: no offer, and an answer is no login.
		if err := e.db.UpdateRealm(context.Background(), e.realm.ID, func(r *realm.Realm) error {
			p := r.WebAuthnPasswordless()
			p.PasskeysEnabled = false
			r.WebAuthnPasswordlessPolicy = &p
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		b = e.browser()
		page = b.get(e.codeRequest(nil))
		if page.status != http.StatusOK || strings.Contains(page.body, "webauthn") {
			t.Fatalf("passkeys off, the login page still offers one: %d %s", page.status, page.body)
		}
		k.Counter = 2
		res = postAnswer(e, b, page, k.Get(t, `{"publicKey":{"challenge":"AAAA"}}`, e.srv.URL, "localhost", []byte(alice.ID)))
		if res.status != http.StatusOK || !strings.Contains(res.body, "Invalid username or password.") {
			t.Fatalf("answer with passkeys off: %d %s", res.status, res.body)
		}
	})
}

// TestPasskeyOnUsernameForm: in a flow of a username form then a
// password form, the username page offers the passkey; its answer logs
// alice in and the password form asks nothing.
func TestPasskeyOnUsernameForm(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{}, passkeyRealm(true))
		bindBrowserFlow(t, e, "username first", "auth-cookie", flow.Alternative, "auth-username-form", flow.Required,
			"auth-password-form", flow.Required)
		alice := e.user("alice")
		k := registerKey(t, e, webauthn.TypePasswordless, alice)
		b := e.browser()
		page := b.get(e.codeRequest(nil))
		if page.status != http.StatusOK || !strings.Contains(page.body, `autocomplete="username webauthn"`) || strings.Contains(page.body, `id="password"`) {
			t.Fatalf("username page: %d %s", page.status, page.body)
		}
		k.Counter = 1
		res := postAnswer(e, b, page, k.Get(t, ceremonyOptions(t, page), e.srv.URL, "localhost", []byte(alice.ID)))
		if res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
			t.Fatalf("passkey from the username page: %d %s", res.status, res.body)
		}
	})
}

// TestPasskeyThenUsernamePasswordForm: a username-password form after a
// passkey step asks nothing once the passkey logged alice in (passkeys on
// the login forms enabled), as the password form after the username form.
func TestPasskeyThenUsernamePasswordForm(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{}, passkeyRealm(true))
		bindBrowserFlow(t, e, "passkey first", "webauthn-authenticator-passwordless", flow.Required, "auth-username-password-form", flow.Required)
		alice := e.user("alice")
		k := registerKey(t, e, webauthn.TypePasswordless, alice)
		b := e.browser()
		page := b.get(e.codeRequest(nil))
		k.Counter = 1
		res := postAnswer(e, b, page, k.Get(t, ceremonyOptions(t, page), e.srv.URL, "localhost", []byte(alice.ID)))
		if res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
			t.Fatalf("after the passkey: %d %s", res.status, res.body)
		}
	})
}

// TestPasskeyBruteForce: refused passkey answers of a known user (named
// by the answer's user handle) count toward the realm's brute-force
// lockout, as wrong passwords do; a locked user's good answer is refused
// and changes nothing, and once the lock ends the passkey works.
func TestPasskeyBruteForce(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{}, passkeyRealm(true), func(r *realm.Realm) {
			r.BruteForceProtected = true
			r.FailureFactor = 2
			r.WaitIncrementSeconds = 60
			r.MaxFailureWaitSeconds = 900
			r.MaxDeltaTimeSeconds = 43200
			r.QuickLoginCheckMilliSeconds = 0
		})
		passkeyFlow(t, e)
		alice := e.user("alice")
		k := registerKey(t, e, webauthn.TypePasswordless, alice)
		b := e.browser()
		page := b.get(e.codeRequest(nil))
		k.Counter = 1
		for i := range 2 {
			page = postAnswer(e, b, page, k.Get(t, ceremonyOptions(t, page), "https://evil.example", "localhost", []byte(alice.ID)))
			if page.status != http.StatusOK || !strings.Contains(page.body, "Security key authentication result is invalid.") {
				t.Fatalf("refused answer %d: %d %s", i, page.status, page.body)
			}
		}
		f, err := e.db.GetLoginFailure(context.Background(), e.realm.ID, alice.ID)
		if err != nil || f.NumFailures != 2 || f.LockedUntil <= e.clock.Now().UnixMilli() {
			t.Fatalf("failure record after two refused answers: %+v %v", f, err)
		}
		before := storedKey(t, e, alice, webauthn.TypePasswordless)
		e.takeEvents()
		res := postAnswer(e, b, page, k.Get(t, ceremonyOptions(t, page), e.srv.URL, "localhost", []byte(alice.ID)))
		if res.status != http.StatusOK || !strings.Contains(res.body, "Security key authentication result is invalid.") {
			t.Fatalf("locked user's passkey: %d %s", res.status, res.body)
		}
		if evs := e.takeEvents(); len(evs) != 1 || evs[0].Type != "LOGIN_ERROR" || evs[0].UserID != alice.ID {
			t.Errorf("events: %v", eventTypes(evs))
		}
		if after := storedKey(t, e, alice, webauthn.TypePasswordless); after != before {
			t.Errorf("a locked user's answer changed the passkey: %s", after)
		}
		if f, _ := e.db.GetLoginFailure(context.Background(), e.realm.ID, alice.ID); f.NumFailures != 2 {
			t.Errorf("a failure during the lock was counted: %+v", f)
		}
		e.clock.Add(2 * time.Minute)
		res = postAnswer(e, b, res, k.Get(t, ceremonyOptions(t, res), e.srv.URL, "localhost", []byte(alice.ID)))
		if res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
			t.Fatalf("passkey after the lock: %d %s", res.status, res.body)
		}
		if _, err := e.db.GetLoginFailure(context.Background(), e.realm.ID, alice.ID); err == nil {
			if f, _ := e.db.GetLoginFailure(context.Background(), e.realm.ID, alice.ID); !f.Empty() {
				t.Errorf("a passkey login left the failures: %+v", f)
			}
		}
	})
}

// TestPasskeyWithoutRelyingParty: a realm served at an IP address, with
// no relying party id in its policies, cannot run a WebAuthn ceremony (an
// address is no relying party id). The passkey step shows the login
// page's error without a button and records LOGIN_ERROR; the
// registration page says the same; the username and password page goes
// without its passkey offer and the password still logs in. Never a 500.
func TestPasskeyWithoutRelyingParty(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{}, func(r *realm.Realm) {
			r.EventsEnabled = true
			p := realm.DefaultWebAuthnPasswordlessPolicy()
			p.PasskeysEnabled = true
			r.WebAuthnPasswordlessPolicy = &p
		})
		const unavailable = "Security keys and passkeys cannot be used at this address"
		b := e.browser()
		page := b.get(e.codeRequest(nil))
		if page.status != http.StatusOK || strings.Contains(page.body, "webauthn") {
			t.Fatalf("login page at an IP address: %d %s", page.status, page.body)
		}
		if res := e.login(b, page, "alice", alicePassword); res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
			t.Fatalf("password login at an IP address: %d %s", res.status, res.body)
		}

		e.addUser("dora", "dora-pw", func(u *user.User) { u.RequiredActions = []string{"webauthn-register-passwordless"} })
		b = e.browser()
		res := e.login(b, b.get(e.codeRequest(nil)), "dora", "dora-pw")
		if res.status != http.StatusOK || !strings.Contains(res.body, unavailable) || strings.Contains(res.body, `id="registerWebAuthn"`) {
			t.Fatalf("registration page at an IP address: %d %s", res.status, res.body)
		}

		passkeyFlow(t, e)
		e.takeEvents()
		b = e.browser()
		page = b.get(e.codeRequest(nil))
		if page.status != http.StatusOK || !strings.Contains(page.body, unavailable) || strings.Contains(page.body, `id="authenticateWebAuthnButton"`) {
			t.Fatalf("passkey step at an IP address: %d %s", page.status, page.body)
		}
		if evs := e.takeEvents(); len(evs) != 1 || evs[0].Type != "LOGIN_ERROR" || evs[0].Error != "not_allowed" {
			t.Errorf("events: %v", eventTypes(evs))
		}
	})
}

// TestPasskeyRefusals: after a good passkey login (counter 5), each bad
// answer on the passkey page — the good answer replayed, a counter that
// goes backwards or stands still, another origin, another relying party,
// an unknown credential — shows the login page's error with a new
// challenge, records one LOGIN_ERROR invalid_user_credentials for alice,
// and leaves the stored passkey as it was. A good answer then still logs
// in.
func TestPasskeyRefusals(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{}, passkeyRealm(false))
		passkeyFlow(t, e)
		alice := e.user("alice")
		k := registerKey(t, e, webauthn.TypePasswordless, alice)
		other := webauthntest.NewKey(t)
		origin := e.srv.URL
		b := e.browser()
		page := b.get(e.codeRequest(nil))
		k.Counter = 5
		good := k.Get(t, ceremonyOptions(t, page), origin, "localhost", []byte(alice.ID))
		if res := postAnswer(e, b, page, good); res.status != http.StatusFound {
			t.Fatalf("good answer: %d %s", res.status, res.body)
		}
		stored := storedKey(t, e, alice, webauthn.TypePasswordless)
		if !strings.Contains(stored, `"counter":5`) {
			t.Fatalf("counter after the login: %s", stored)
		}
		e.takeEvents()

		b = e.browser()
		page = b.get(e.codeRequest(nil))
		var res response
		for _, bad := range []struct {
			what   string
			answer func(options string) string
		}{
			{"the good answer replayed", func(string) string { return good }},
			{"a counter going backwards", func(o string) string { k.Counter = 3; return k.Get(t, o, origin, "localhost", []byte(alice.ID)) }},
			{"a counter standing still", func(o string) string { k.Counter = 5; return k.Get(t, o, origin, "localhost", []byte(alice.ID)) }},
			{"another origin", func(o string) string {
				k.Counter = 6
				return k.Get(t, o, "https://evil.example", "localhost", []byte(alice.ID))
			}},
			{"another relying party", func(o string) string { k.Counter = 6; return k.Get(t, o, origin, "evil.example", []byte(alice.ID)) }},
			{"an unknown credential", func(o string) string { return other.Get(t, o, origin, "localhost", []byte(alice.ID)) }},
		} {
			res = postAnswer(e, b, page, bad.answer(ceremonyOptions(t, page)))
			if res.status != http.StatusOK || !strings.Contains(res.body, "Security key authentication result is invalid.") ||
				ceremonyOptions(t, res) == ceremonyOptions(t, page) {
				t.Fatalf("%s: %d %s", bad.what, res.status, res.body)
			}
			if evs := e.takeEvents(); len(evs) != 1 || evs[0].Type != "LOGIN_ERROR" || evs[0].Error != "invalid_user_credentials" || evs[0].UserID != alice.ID {
				t.Errorf("%s: events %v", bad.what, eventTypes(evs))
			}
			if after := storedKey(t, e, alice, webauthn.TypePasswordless); after != stored {
				t.Errorf("%s changed the passkey: %s", bad.what, after)
			}
			page = res
		}
		k.Counter = 6
		res = postAnswer(e, b, page, k.Get(t, ceremonyOptions(t, page), origin, "localhost", []byte(alice.ID)))
		if res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
			t.Fatalf("good answer after the refusals: %d %s", res.status, res.body)
		}
	})
}

// TestPasskeyTwoNodes: two Gatehouse servers, each with its own
// connection to one database (a PostgreSQL schema; a SQLite file), serve
// the same public address. The login page and its passkey challenge come
// from the first; the passkey's answer is posted to the second, which
// logs alice in; the first redeems the code. Then the other way round
// with the passkey step's page: the ceremony's state lives in the
// database, not in a node.
func TestPasskeyTwoNodes(t *testing.T) {
	for _, d := range []struct {
		name    string
		dialect store.Dialect
		dsn     func(testing.TB) string
	}{
		{"sqlite", store.SQLite, func(t testing.TB) string { return filepath.Join(t.TempDir(), "gatehouse.db") }},
		{"postgres", store.Postgres, storetest.PostgresURL},
	} {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			connect := func(t testing.TB) *store.DB {
				db, err := store.Open(context.Background(), d.dialect, dsn)
				if err != nil {
					t.Fatalf("open %s: %v", d.name, err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			}
			e := newEnvOn(t, connect, web.URLs{}, passkeyRealm(true))
			public, err := web.ParseHostname(e.srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			node2 := httptest.NewServer(server.New(server.Options{Store: connect(t), Now: e.clock.Now, URLs: web.URLs{Hostname: public},
				Log: slog.New(slog.NewTextHandler(&syncWriter{}, nil))}))
			t.Cleanup(node2.Close)
			on := func(node *httptest.Server, page response) (string, url.Values) {
				action, fields := e.form(page)
				return strings.Replace(action, e.srv.URL, node.URL, 1), fields
			}
			alice := e.user("alice")
			k := registerKey(t, e, webauthn.TypePasswordless, alice)

			b := e.browser()
			page := b.get(e.codeRequest(nil))
			k.Counter = 1
			action, fields := on(node2, page)
			fields.Set("webauthnResponse", k.Get(t, ceremonyOptions(t, page), e.srv.URL, "localhost", []byte(alice.ID)))
			res := b.post(action, fields)
			if res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
				t.Fatalf("login page on node 1, passkey on node 2: %d %s", res.status, res.body)
			}
			tokens := e.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {res.location(t).Query().Get("code")},
				"redirect_uri": {"https://app.example/cb"}})
			if claimOf(t, tokens["access_token"], "sub") != alice.ID {
				t.Errorf("tokens of node 1 for node 2's login: %v", tokens)
			}

			passkeyFlow(t, e)
			b = e.browser()
			u, _ := url.Parse(e.codeRequest(nil))
			u.Host = strings.TrimPrefix(node2.URL, "http://")
			page = b.get(u.String())
			if page.status != http.StatusOK || !strings.Contains(page.body, `id="authenticateWebAuthnButton"`) {
				t.Fatalf("passkey page on node 2: %d %s", page.status, page.body)
			}
			k.Counter = 2
			// Node 2 names the public address (node 1) in its form.
			action, fields = e.form(page)
			if !strings.HasPrefix(action, e.srv.URL) {
				t.Fatalf("node 2's form posts to %s", action)
			}
			fields.Set("webauthnResponse", k.Get(t, ceremonyOptions(t, page), e.srv.URL, "localhost", []byte(alice.ID)))
			if res := b.post(action, fields); res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
				t.Fatalf("passkey page on node 2, answer on node 1: %d %s", res.status, res.body)
			}
			if got := storedKey(t, e, alice, webauthn.TypePasswordless); !strings.Contains(got, `"counter":2`) {
				t.Errorf("counter after two logins: %s", got)
			}
		})
	}
}
