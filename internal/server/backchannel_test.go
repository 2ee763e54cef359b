package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// relyingParty is a back-channel logout endpoint written as the
// specification asks an RP to write it: it checks each logout token's
// signature against the realm's JWKS, its typ header, issuer, audience
// and claims, and keeps the claims of the tokens it accepted.
type relyingParty struct {
	t      *testing.T
	srv    *httptest.Server
	issuer string
	hang   time.Duration // sleep before answering, to outlast the sender's timeout

	mu     sync.Mutex
	got    []map[string]any
	errs   []string
	notify chan struct{}
}

func newRelyingParty(t *testing.T) *relyingParty {
	rp := &relyingParty{t: t, notify: make(chan struct{}, 16)}
	rp.srv = httptest.NewServer(http.HandlerFunc(rp.serve))
	t.Cleanup(rp.srv.Close)
	return rp
}

func (rp *relyingParty) fail(msg string, w http.ResponseWriter) {
	rp.mu.Lock()
	rp.errs = append(rp.errs, msg)
	rp.mu.Unlock()
	http.Error(w, msg, http.StatusBadRequest)
}

func (rp *relyingParty) serve(w http.ResponseWriter, r *http.Request) {
	if rp.hang > 0 {
		time.Sleep(rp.hang)
	}
	defer func() { rp.notify <- struct{}{} }()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		rp.fail("not a form POST", w)
		return
	}
	if err := r.ParseForm(); err != nil {
		rp.fail(err.Error(), w)
		return
	}
	raw := r.PostForm.Get("logout_token")
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		rp.fail("parse: "+err.Error(), w)
		return
	}
	if typ := jws.Signatures[0].Header.ExtraHeaders["typ"]; typ != "logout+jwt" {
		rp.fail("typ header "+typ.(string), w)
		return
	}
	// The realm's published keys, fetched as an RP would.
	res, err := http.Get(rp.issuer + "/protocol/openid-connect/certs")
	if err != nil {
		rp.fail(err.Error(), w)
		return
	}
	defer res.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		rp.fail(err.Error(), w)
		return
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) == 0 {
		rp.fail("unknown kid", w)
		return
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		rp.fail("signature: "+err.Error(), w)
		return
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		rp.fail(err.Error(), w)
		return
	}
	events, _ := c["events"].(map[string]any)
	iat, _ := c["iat"].(float64)
	exp, _ := c["exp"].(float64)
	switch {
	case c["iss"] != rp.issuer:
		rp.fail("iss", w)
	case events == nil || events["http://schemas.openid.net/event/backchannel-logout"] == nil:
		rp.fail("events", w)
	case c["jti"] == nil || c["jti"] == "":
		rp.fail("jti", w)
	case c["nonce"] != nil:
		rp.fail("nonce", w)
	case iat == 0 || exp <= iat || exp > iat+120:
		rp.fail("iat/exp", w)
	case c["sub"] == nil && c["sid"] == nil:
		rp.fail("sub and sid", w)
	default:
		rp.mu.Lock()
		rp.got = append(rp.got, c)
		rp.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}
}

// wait waits for n deliveries (accepted or not) and returns the accepted.
func (rp *relyingParty) wait(n int) []map[string]any {
	rp.t.Helper()
	for range n {
		select {
		case <-rp.notify:
		case <-time.After(10 * time.Second):
			rp.t.Fatalf("relying party got no logout token")
		}
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if len(rp.errs) > 0 {
		rp.t.Fatalf("relying party refused tokens: %v", rp.errs)
	}
	out := rp.got
	rp.got = nil
	return out
}

// quiet asserts the relying party gets nothing for a while.
func (rp *relyingParty) quiet(d time.Duration) {
	rp.t.Helper()
	select {
	case <-rp.notify:
		rp.t.Fatalf("relying party was called: %v %v", rp.got, rp.errs)
	case <-time.After(d):
	}
}

// logBuffer collects the server's log, written by background goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type bcEnv struct {
	t     *testing.T
	logs  *logBuffer
	db    *store.DB
	srv   *httptest.Server
	realm realm.Realm
	rp    *relyingParty
	alice user.User
}

const bcPassword = "alice-pw-123"

func newBCEnv(t *testing.T, open func(testing.TB) *store.DB, out *outbound.Client) *bcEnv {
	t.Helper()
	ctx := context.Background()
	db := open(t)
	clock := time.Now()
	if _, err := provision.Master(ctx, db, "admin", "admin-pw", clock); err != nil {
		t.Fatal(err)
	}
	rl := realm.New(store.NewID(), "demo")
	if err := provision.NewRealm(ctx, db, rl, clock); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	srv := httptest.NewServer(server.New(server.Options{Store: db, Outbound: out,
		Log: slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), logs), nil))}))
	t.Cleanup(srv.Close)
	e := &bcEnv{t: t, logs: logs, db: db, srv: srv, realm: rl, rp: newRelyingParty(t)}
	e.rp.issuer = srv.URL + "/realms/demo"
	u := user.User{ID: store.NewID(), RealmID: rl.ID, Username: "alice", Email: "alice@example.com", FirstName: "Alice",
		LastName: "A", EmailVerified: true, Enabled: true, CreatedTimestamp: clock.UnixMilli()}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	cred, err := user.NewPasswordCredential(store.NewID(), u.ID, bcPassword, clock.UnixMilli(), user.HashPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCredential(ctx, cred); err != nil {
		t.Fatal(err)
	}
	e.alice = u
	// The default roles (manage-account) let alice use the account API.
	def, err := db.GetRealmRole(ctx, rl.ID, "default-roles-demo")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddUserRoles(ctx, u.ID, def.ID); err != nil {
		t.Fatal(err)
	}
	// rp wants the session id; rp-nosid only the subject; quiet has no
	// back-channel URL at all.
	e.addClient("rp", map[string]string{"backchannel.logout.url": e.rp.srv.URL + "/bc", "backchannel.logout.session.required": "true",
		"backchannel.logout.revoke.offline.tokens": "true"})
	e.addClient("rp-nosid", map[string]string{"backchannel.logout.url": e.rp.srv.URL + "/bc", "backchannel.logout.session.required": "false"})
	e.addClient("quiet", nil)
	// fc-bc has a back-channel URL but front-channel logout on: it is
	// logged out in the browser, never through the back channel.
	e.addClient("fc-bc", map[string]string{"backchannel.logout.url": e.rp.srv.URL + "/bc"})
	ctx2 := context.Background()
	fcbc, err := db.GetClientByClientID(ctx2, rl.ID, "fc-bc")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateClient(ctx2, rl.ID, fcbc.ID, func(c *client.Client) error { c.FrontchannelLogout = true; return nil }); err != nil {
		t.Fatal(err)
	}
	return e
}

// addClient adds a confidential client with the password grant; a client
// with a back-channel URL has front-channel logout off, which would
// otherwise take its place.
func (e *bcEnv) addClient(clientID string, attrs map[string]string) {
	e.t.Helper()
	c := client.New(store.NewID(), e.realm.ID, clientID)
	c.FrontchannelLogout = attrs["backchannel.logout.url"] == ""
	c.Secret = clientID + "-secret"
	c.DirectAccessGrantsEnabled = true
	c.RedirectURIs = []string{"https://rp.example/cb"}
	for k, v := range attrs {
		c.Attributes[k] = v
	}
	if err := provision.CreateClient(context.Background(), e.db, c, time.Now()); err != nil {
		e.t.Fatal(err)
	}
}

func (e *bcEnv) post(path string, form url.Values, header map[string]string) (int, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func (e *bcEnv) call(method, path, bearer string) int {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// login runs the password grant for clientID in realm and returns the
// tokens.
func (e *bcEnv) login(realmName, clientID, secret, username, password string) map[string]any {
	e.t.Helper()
	form := url.Values{"grant_type": {"password"}, "client_id": {clientID}, "username": {username}, "password": {password}, "scope": {"openid"}}
	if secret != "" {
		form.Set("client_secret", secret)
	}
	st, b := e.post("/realms/"+realmName+"/protocol/openid-connect/token", form, nil)
	if st != http.StatusOK {
		e.t.Fatalf("password grant for %s: %d %s", clientID, st, b)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

func (e *bcEnv) aliceLogin(clientID string) (idToken, accessToken, sid string) {
	m := e.login("demo", clientID, clientID+"-secret", "alice", bcPassword)
	return m["id_token"].(string), m["access_token"].(string), m["session_state"].(string)
}

// endByHint is RP-initiated logout with an ID token hint: the session
// ends without asking, and the "You are logged out" page is the answer.
func (e *bcEnv) endByHint(hint string) {
	e.t.Helper()
	res, err := http.Get(e.srv.URL + "/realms/demo/protocol/openid-connect/logout?id_token_hint=" + url.QueryEscape(hint))
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("logout: %d", res.StatusCode)
	}
}

func TestBackchannelLogout(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newBCEnv(t, open, outbound.New(outbound.Options{AllowPrivate: true, Timeout: 2 * time.Second}))

		t.Run("RP-initiated logout notifies the client, with sid when required", func(t *testing.T) {
			hint, _, sid := e.aliceLogin("rp")
			e.endByHint(hint)
			got := e.rp.wait(1)
			if len(got) != 1 || got[0]["aud"] != "rp" || got[0]["sub"] != e.alice.ID || got[0]["sid"] != sid {
				t.Fatalf("logout tokens: %v", got)
			}
			ev := got[0]["events"].(map[string]any)
			if ev["revoke_offline_access"] != true {
				t.Errorf("revoke_offline_access missing: %v", ev)
			}
		})

		t.Run("admin user logout notifies, without sid when not required", func(t *testing.T) {
			e.aliceLogin("rp-nosid")
			admin := e.login("master", "admin-cli", "", "admin", "admin-pw")["access_token"].(string)
			if st := e.call(http.MethodPost, "/admin/realms/demo/users/"+e.alice.ID+"/logout", admin); st != http.StatusNoContent {
				t.Fatalf("admin logout: %d", st)
			}
			got := e.rp.wait(1)
			if len(got) != 1 || got[0]["aud"] != "rp-nosid" || got[0]["sub"] != e.alice.ID {
				t.Fatalf("logout tokens: %v", got)
			}
			if _, ok := got[0]["sid"]; ok {
				t.Errorf("sid sent though not required: %v", got[0])
			}
			if ev := got[0]["events"].(map[string]any); ev["revoke_offline_access"] != nil {
				t.Errorf("revoke_offline_access without the setting: %v", ev)
			}
		})

		t.Run("account console sign-out notifies", func(t *testing.T) {
			_, access, sid := e.aliceLogin("rp")
			_, _, other := e.aliceLogin("rp")
			// The access token of one session signs out the other.
			if st := e.call(http.MethodDelete, "/realms/demo/account/sessions/"+other, access); st != http.StatusNoContent {
				t.Fatalf("account sign-out: %d", st)
			}
			got := e.rp.wait(1)
			if len(got) != 1 || got[0]["sid"] != other {
				t.Fatalf("logout tokens: %v (kept %s)", got, sid)
			}
		})

		t.Run("a client without a back-channel URL gets nothing", func(t *testing.T) {
			hint, _, _ := e.aliceLogin("quiet")
			e.endByHint(hint)
			e.rp.quiet(500 * time.Millisecond)
		})

		t.Run("a client with front-channel logout on gets nothing on the back channel", func(t *testing.T) {
			_, _, sid := e.aliceLogin("fc-bc")
			admin := e.login("master", "admin-cli", "", "admin", "admin-pw")["access_token"].(string)
			if st := e.call(http.MethodDelete, "/admin/realms/demo/sessions/"+sid, admin); st != http.StatusNoContent {
				t.Fatalf("admin session delete: %d", st)
			}
			e.rp.quiet(500 * time.Millisecond)
		})

		t.Run("admin session delete notifies", func(t *testing.T) {
			_, _, sid := e.aliceLogin("rp")
			admin := e.login("master", "admin-cli", "", "admin", "admin-pw")["access_token"].(string)
			if st := e.call(http.MethodDelete, "/admin/realms/demo/sessions/"+sid, admin); st != http.StatusNoContent {
				t.Fatalf("admin session delete: %d", st)
			}
			if got := e.rp.wait(1); len(got) != 1 || got[0]["sid"] != sid {
				t.Fatalf("logout tokens: %v", got)
			}
		})
	})
}

// The user's logout is answered at once even when the relying party hangs
// past the sender's timeout.
func TestBackchannelLogoutHangingRP(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newBCEnv(t, open, outbound.New(outbound.Options{AllowPrivate: true, Timeout: 300 * time.Millisecond}))
		e.rp.hang = 2 * time.Second
		hint, _, _ := e.aliceLogin("rp")
		start := time.Now()
		res, err := http.Get(e.srv.URL + "/realms/demo/protocol/openid-connect/logout?id_token_hint=" + url.QueryEscape(hint))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if took := time.Since(start); res.StatusCode != http.StatusOK || took > time.Second {
			t.Fatalf("logout answered %d after %v", res.StatusCode, took)
		}
		// The RP was called (it hangs, the sender gives up and retries).
		select {
		case <-e.rp.notify:
		case <-time.After(10 * time.Second):
			t.Fatal("relying party never called")
		}
	})
}

// With the default outbound client, a back-channel URL on a private
// address (here loopback) is refused and nothing is sent.
func TestBackchannelLogoutRefusesPrivateAddress(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newBCEnv(t, open, nil)
		hint, _, sid := e.aliceLogin("rp")
		e.endByHint(hint)
		if _, err := e.db.GetUserSession(context.Background(), e.realm.ID, sid); err == nil {
			t.Fatal("session not ended")
		}
		e.rp.quiet(time.Second)
		// The sender tried, and the outbound client refused the address.
		if !strings.Contains(e.logs.String(), "address not allowed") {
			t.Fatalf("no refusal logged:\n%s", e.logs.String())
		}
	})
}

// The receiving endpoint: with no identity provider to vouch for a logout
// token, every token is refused with Keycloak's answers and nothing ends.
func TestBackchannelLogoutEndpointRefusals(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newBCEnv(t, open, nil)
		_, _, sid := e.aliceLogin("quiet")
		b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		wellFormed := b64(`{"alg":"RS256","typ":"logout+jwt"}`) + "." +
			b64(`{"iss":"https://idp.example","aud":"demo","iat":1,"jti":"x","sub":"`+e.alice.ID+`","sid":"`+sid+
				`","events":{"http://schemas.openid.net/event/backchannel-logout":{}}}`) + ".c2ln"
		const path = "/realms/demo/protocol/openid-connect/logout/backchannel-logout"
		for _, c := range []struct {
			name, path string
			form       url.Values
			status     int
			body       string
		}{
			{"no logout_token", path, url.Values{}, 400, `{"error":"invalid_request","error_description":"No logout token"}`},
			{"not a JWT", path, url.Values{"logout_token": {"garbage"}}, 400,
				`{"error":"invalid_request","error_description":"The decode of the logoutToken failed"}`},
			{"payload not JSON", path, url.Values{"logout_token": {b64(`{"alg":"RS256"}`) + "." + b64("nope") + ".c2ln"}}, 400,
				`{"error":"invalid_request","error_description":"The decode of the logoutToken failed"}`},
			{"events not an object", path, url.Values{"logout_token": {b64(`{"alg":"RS256"}`) + "." + b64(`{"events":"x"}`) + ".c2ln"}}, 400,
				`{"error":"invalid_request","error_description":"The decode of the logoutToken failed"}`},
			{"no identity provider issued it", path, url.Values{"logout_token": {wellFormed}}, 400,
				`{"error":"invalid_request","error_description":"No Identity Provider has been found"}`},
			{"unknown realm", "/realms/nope/protocol/openid-connect/logout/backchannel-logout", url.Values{"logout_token": {wellFormed}}, 404,
				`{"error":"Realm does not exist"}`},
		} {
			st, body := e.post(c.path, c.form, nil)
			if st != c.status || string(body) != c.body {
				t.Errorf("%s: %d %s, want %d %s", c.name, st, body, c.status, c.body)
			}
		}
		if _, err := e.db.GetUserSession(context.Background(), e.realm.ID, sid); err != nil {
			t.Fatalf("a refused logout token ended the session: %v", err)
		}
		// Discovery says what is served.
		res, err := http.Get(e.srv.URL + "/realms/demo/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var doc map[string]any
		json.NewDecoder(res.Body).Decode(&doc)
		if doc["backchannel_logout_supported"] != true || doc["backchannel_logout_session_supported"] != true {
			t.Errorf("discovery: backchannel %v %v", doc["backchannel_logout_supported"], doc["backchannel_logout_session_supported"])
		}
	})
}

// Front-channel logout: after RP-initiated logout the browser gets a page
// framing each front-channel client's logout URL (iss and sid only when the
// client asks), allowed by the page's policy, then continues to the checked
// post-logout redirect.
func TestFrontchannelLogout(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newBCEnv(t, open, nil)
		e.addClient("fc", map[string]string{"frontchannel.logout.url": "https://fc.example/logout?x=1",
			"frontchannel.logout.session.required": "true", "post.logout.redirect.uris": "https://fc.example/bye"})
		e.addClient("fc-nosid", map[string]string{"frontchannel.logout.url": "https://nosid.example/logout"})
		e.addClient("fc-off", map[string]string{"frontchannel.logout.url": "https://off.example/logout",
			"post.logout.redirect.uris": "https://off.example/bye"})
		ctx := context.Background()
		off, err := e.db.GetClientByClientID(ctx, e.realm.ID, "fc-off")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.db.UpdateClient(ctx, e.realm.ID, off.ID, func(c *client.Client) error { c.FrontchannelLogout = false; return nil }); err != nil {
			t.Fatal(err)
		}
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		logout := func(q url.Values) (*http.Response, string) {
			t.Helper()
			res, err := noRedirect.Get(e.srv.URL + "/realms/demo/protocol/openid-connect/logout?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res, string(b)
		}

		hint, _, sid := e.aliceLogin("fc")
		res, body := logout(url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://fc.example/bye"}, "state": {"st"}})
		wantSrc := "https://fc.example/logout?iss=" + url.QueryEscape(e.srv.URL+"/realms/demo") + "&amp;sid=" + sid + "&amp;x=1"
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `<iframe src="`+wantSrc+`"`) ||
			!strings.Contains(body, `href="https://fc.example/bye?state=st"`) {
			t.Fatalf("front-channel page: %d\n%s\nwant iframe %s", res.StatusCode, body, wantSrc)
		}
		csp := strings.Join(res.Header.Values("Content-Security-Policy"), " | ")
		if !strings.Contains(csp, "frame-src 'self' https://fc.example") {
			t.Errorf("CSP does not allow the iframe: %s", csp)
		}
		if _, err := e.db.GetUserSession(ctx, e.realm.ID, sid); err == nil {
			t.Error("session not ended")
		}

		hint, _, _ = e.aliceLogin("fc-nosid")
		res, body = logout(url.Values{"id_token_hint": {hint}})
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `<iframe src="https://nosid.example/logout"`) || strings.Contains(body, `id="continue"`) {
			t.Fatalf("front-channel page without sid: %d\n%s", res.StatusCode, body)
		}

		hint, _, _ = e.aliceLogin("fc-off")
		res, body = logout(url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://off.example/bye"}})
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "https://off.example/bye" || strings.Contains(body, "iframe") {
			t.Fatalf("client with front-channel logout off: %d %s", res.StatusCode, res.Header.Get("Location"))
		}

		// Discovery says what is served.
		dres, err := http.Get(e.srv.URL + "/realms/demo/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		defer dres.Body.Close()
		var doc map[string]any
		json.NewDecoder(dres.Body).Decode(&doc)
		if doc["frontchannel_logout_supported"] != true || doc["frontchannel_logout_session_supported"] != true {
			t.Errorf("discovery: frontchannel %v %v", doc["frontchannel_logout_supported"], doc["frontchannel_logout_session_supported"])
		}
	})
}
