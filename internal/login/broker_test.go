package login_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-iam/gatehouse/internal/backchannel"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// brokerEnv is realm "demo" logging in through realm "corp" of the same
// server, over real HTTP: corp is an OpenID Connect provider like any
// other to demo's broker, which reaches it through the outbound client
// (loopback allowed for the test).
type brokerEnv struct {
	*env
	corp     realm.Realm
	corpUser user.User
}

const (
	corpSecret   = "corp-client-secret-corp-client-secret"
	annPassword  = "ann-upstream-pw"
	brokerClient = "gatehouse-demo"
)

func newBrokerEnv(t *testing.T, open func(testing.TB) *store.DB, tokenURL func(corpBase string) string) *brokerEnv {
	t.Helper()
	e := newEnvServer(t, open, web.URLs{}, func(o *server.Options) {
		o.Outbound = outbound.New(outbound.Options{AllowPrivate: true})
	}, func(rl *realm.Realm) {
		rl.EventsEnabled = true
		// IDENTITY_PROVIDER_LOGIN and its error are not kept by default.
		rl.EnabledEventTypes = []string{"LOGIN", "LOGIN_ERROR", "IDENTITY_PROVIDER_LOGIN", "IDENTITY_PROVIDER_LOGIN_ERROR",
			"IDENTITY_PROVIDER_FIRST_LOGIN", "IDENTITY_PROVIDER_FIRST_LOGIN_ERROR", "FEDERATED_IDENTITY_LINK", "FEDERATED_IDENTITY_LINK_ERROR"}
	})
	ctx := context.Background()
	corp := realm.New(store.NewID(), "corp")
	if err := provision.NewRealm(ctx, e.db, corp, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	be := &brokerEnv{env: e, corp: corp}
	c := client.New(store.NewID(), corp.ID, brokerClient)
	c.Secret = corpSecret
	c.RedirectURIs = []string{e.url("/broker/corp/endpoint")}
	// corp tells demo when a session ends there (back-channel logout).
	c.Attributes["backchannel.logout.url"] = e.url("/protocol/openid-connect/logout/backchannel-logout")
	c.Attributes["backchannel.logout.session.required"] = "true"
	c.FrontchannelLogout = false
	if err := provision.CreateClient(ctx, e.db, c, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	u := user.User{ID: store.NewID(), RealmID: corp.ID, Username: "ann", Email: "ann@corp.example", FirstName: "Ann",
		LastName: "Upstream", Enabled: true, EmailVerified: true, CreatedTimestamp: e.clock.Now().UnixMilli()}
	if err := e.db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	cred, _ := user.NewPasswordCredential(store.NewID(), u.ID, annPassword, e.clock.Now().UnixMilli(), user.HashPolicy{})
	if err := e.db.CreateCredential(ctx, cred); err != nil {
		t.Fatal(err)
	}
	be.corpUser = u
	corpBase := e.base + "/realms/corp"
	tu := corpBase + "/protocol/openid-connect/token"
	if tokenURL != nil {
		tu = tokenURL(corpBase)
	}
	p := idp.New("corp", "oidc")
	p.DisplayName = "Corp SSO"
	p.SyncMode = idp.SyncImport
	p.Config = map[string]string{
		"authorizationUrl": corpBase + "/protocol/openid-connect/auth", "tokenUrl": tu,
		"userInfoUrl": corpBase + "/protocol/openid-connect/userinfo", "jwksUrl": corpBase + "/protocol/openid-connect/certs",
		"issuer": corpBase, "clientId": brokerClient, "clientSecret": corpSecret, "clientAuthMethod": "client_secret_post",
		"pkceEnabled": "true", "pkceMethod": "S256", "validateSignature": "true", "useJwksUrl": "true",
	}
	if _, err := e.db.CreateIdentityProvider(ctx, e.realm.ID, p); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateRole(ctx, role.Role{ID: store.NewID(), RealmID: e.realm.ID, Name: "partner"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.CreateIdentityProviderMapper(ctx, e.realm.ID, idp.Mapper{Name: "partners", IdentityProviderAlias: "corp",
		IdentityProviderMapper: idp.MapperHardcodedRole, Config: map[string]string{"role": "partner", "syncMode": "INHERIT"}}); err != nil {
		t.Fatal(err)
	}
	return be
}

var socialLink = regexp.MustCompile(`id="social-corp"[^>]*href="([^"]*)"`)

// toUpstream opens app's login page, follows the provider button to
// corp, signs in there as ann, and returns corp's redirect back to demo's
// broker endpoint (not followed).
func (be *brokerEnv) toUpstream(b *browser) *url.URL {
	t := be.t
	t.Helper()
	page := b.get(be.codeRequest(nil))
	m := socialLink.FindStringSubmatch(page.body)
	if page.status != http.StatusOK || m == nil {
		t.Fatalf("login page without the provider button (%d): %s", page.status, page.body)
	}
	res := b.get(be.srv.URL + html.UnescapeString(m[1]))
	if res.status != http.StatusFound {
		t.Fatalf("broker login: %d %s", res.status, res.body)
	}
	auth := res.location(t)
	if !strings.HasPrefix(auth.String(), be.base+"/realms/corp/protocol/openid-connect/auth") ||
		auth.Query().Get("code_challenge") == "" || auth.Query().Get("nonce") == "" {
		t.Fatalf("upstream request = %s", auth)
	}
	upPage := b.get(auth.String())
	res = be.login(b, upPage, "ann", annPassword)
	if res.status != http.StatusFound {
		t.Fatalf("upstream login: %d %s", res.status, res.body)
	}
	cb := res.location(t)
	if !strings.HasPrefix(cb.String(), be.url("/broker/corp/endpoint")) || cb.Query().Get("code") == "" {
		t.Fatalf("upstream answered %s", cb)
	}
	return cb
}

func TestBrokerFirstLoginCreatesLinkedUser(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		be := newBrokerEnv(t, open, nil)
		b := be.browser()
		cb := be.toUpstream(b)
		res := b.get(cb.String())
		if res.status != http.StatusFound || !strings.HasPrefix(res.header.Get("Location"), "https://app.example/cb?") {
			t.Fatalf("callback: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
		}
		if res.location(t).Query().Get("code") == "" {
			t.Fatal("no code for the client")
		}
		ctx := context.Background()
		u, err := be.db.FindUserByFederatedIdentity(ctx, be.realm.ID, "corp", be.corpUser.ID)
		if err != nil {
			t.Fatalf("no user linked to the upstream account: %v", err)
		}
		if u.Username != "ann" || u.Email != "ann@corp.example" || u.LastName != "Upstream" {
			t.Errorf("user = %+v", u)
		}
		roles, _ := be.db.EffectiveRoles(ctx, be.realm.ID, u.ID)
		found := false
		for _, r := range roles {
			found = found || (r.Name == "partner" && r.ClientID == "")
		}
		if !found {
			t.Error("hardcoded role mapper did not grant partner")
		}
		evs, _ := be.db.ListEvents(ctx, be.realm.ID, store.EventQuery{Max: -1, Types: []string{"IDENTITY_PROVIDER_FIRST_LOGIN"}})
		if len(evs) != 1 || evs[0].UserID != u.ID || evs[0].Details["identity_provider"] != "corp" {
			t.Errorf("events = %+v", evs)
		}
		ss := be.sessions("ann")
		if len(ss) != 1 || ss[0].Notes["identity_provider"] != "corp" {
			t.Errorf("sessions = %+v", ss)
		}

		// Replayed: the same answer again finds no request waiting.
		res = b.get(cb.String())
		if res.status != http.StatusBadRequest {
			t.Fatalf("replayed state: %d", res.status)
		}

		// A second login through corp finds the link; no second user.
		b2 := be.browser()
		res = b2.get(be.toUpstream(b2).String())
		if res.status != http.StatusFound || !strings.HasPrefix(res.header.Get("Location"), "https://app.example/cb?") {
			t.Fatalf("second login: %d %s", res.status, res.body)
		}
		again, _ := be.db.FindUserByFederatedIdentity(ctx, be.realm.ID, "corp", be.corpUser.ID)
		if again.ID != u.ID {
			t.Fatal("second login made another user")
		}
	})
}

func TestBrokerKcIdpHintSkipsLoginPage(t *testing.T) {
	be := newBrokerEnv(t, storetest.Open, nil)
	b := be.browser()
	res := b.get(be.codeRequest(map[string]string{"kc_idp_hint": "corp"}))
	if res.status != http.StatusFound || !strings.HasPrefix(res.header.Get("Location"), be.base+"/realms/corp/protocol/openid-connect/auth") {
		t.Fatalf("kc_idp_hint: %d %s", res.status, res.header.Get("Location"))
	}
	// A hint naming no provider shows the login page.
	res = be.browser().get(be.codeRequest(map[string]string{"kc_idp_hint": "nope"}))
	if res.status != http.StatusOK || !strings.Contains(res.body, `id="kc-form-login"`) {
		t.Fatalf("unknown hint: %d", res.status)
	}
}

func TestBrokerLinksExistingAccountAfterReauthentication(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		be := newBrokerEnv(t, open, nil)
		// demo already has an ann, with her own password.
		local := be.addUser("ann", "local-ann-pw", func(u *user.User) { u.Email = "ann@corp.example" })
		b := be.browser()
		res := b.get(be.toUpstream(b).String())
		if res.status != http.StatusOK || !strings.Contains(res.body, `value="linkAccount"`) {
			t.Fatalf("confirm link page expected: %d %s", res.status, res.body)
		}
		action, fields := be.form(res)
		fields.Set("submitAction", "linkAccount")
		res = b.post(action, fields)
		if res.status != http.StatusOK || !strings.Contains(res.body, `name="password"`) {
			t.Fatalf("re-authentication page expected: %d %s", res.status, res.body)
		}
		action, fields = be.form(res)
		fields.Set("password", "wrong")
		res = b.post(action, fields)
		if res.status == http.StatusFound {
			t.Fatal("a wrong password linked the account")
		}
		if _, err := be.db.FindUserByFederatedIdentity(context.Background(), be.realm.ID, "corp", be.corpUser.ID); err == nil {
			t.Fatal("linked before re-authentication")
		}
		action, fields = be.form(res)
		fields.Set("password", "local-ann-pw")
		res = b.post(action, fields)
		if res.status != http.StatusFound || !strings.HasPrefix(res.header.Get("Location"), "https://app.example/cb?") {
			t.Fatalf("after re-authentication: %d %s", res.status, res.body)
		}
		u, err := be.db.FindUserByFederatedIdentity(context.Background(), be.realm.ID, "corp", be.corpUser.ID)
		if err != nil || u.ID != local.ID {
			t.Fatalf("linked user = %v, %v", u.ID, err)
		}
		evs, _ := be.db.ListEvents(context.Background(), be.realm.ID, store.EventQuery{Max: -1, Types: []string{"FEDERATED_IDENTITY_LINK"}})
		if len(evs) != 1 || evs[0].UserID != local.ID {
			t.Errorf("link events = %+v", evs)
		}
	})
}

func TestBrokerRefusesForgedState(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		be := newBrokerEnv(t, open, nil)
		b := be.browser()
		cb := be.toUpstream(b)
		q := cb.Query()
		loginID, _, _ := strings.Cut(q.Get("state"), ".")
		for name, state := range map[string]string{
			"forged secret":   loginID + ".forged",
			"unknown login":   "nologin.secret",
			"malformed state": "garbage",
		} {
			q2 := url.Values{"state": {state}, "code": {q.Get("code")}}
			res := b.get(be.url("/broker/corp/endpoint") + "?" + q2.Encode())
			if res.status != http.StatusBadRequest {
				t.Errorf("%s: %d", name, res.status)
			}
		}
		// Another browser with the genuine answer is refused too.
		if res := be.browser().get(cb.String()); res.status != http.StatusBadRequest {
			t.Errorf("state of another browser: %d", res.status)
		}
		// The genuine answer still works in the browser that asked.
		if res := b.get(cb.String()); res.status != http.StatusFound {
			t.Errorf("genuine answer after forgeries: %d %s", res.status, res.body)
		}
		if _, err := be.db.GetUserByUsername(context.Background(), be.realm.ID, "ann"); err != nil {
			t.Error("genuine login made no user")
		}
	})
}

func TestBrokerRefusesExpiredCode(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		be := newBrokerEnv(t, open, nil)
		b := be.browser()
		cb := be.toUpstream(b)
		be.clock.Add(5 * time.Minute) // past corp's code lifespan, within demo's login timeout
		res := b.get(cb.String())
		if res.status != http.StatusBadGateway {
			t.Fatalf("expired code: %d %s", res.status, res.body)
		}
		if _, err := be.db.GetUserByUsername(context.Background(), be.realm.ID, "ann"); err == nil {
			t.Fatal("a user was made from an expired code")
		}
		evs, _ := be.db.ListEvents(context.Background(), be.realm.ID, store.EventQuery{Max: -1, Types: []string{"IDENTITY_PROVIDER_LOGIN_ERROR"}})
		if len(evs) == 0 {
			t.Error("no IDENTITY_PROVIDER_LOGIN_ERROR event")
		}
	})
}

// TestBrokerRefusesTamperedIDToken puts an attacker between the broker and
// corp's token endpoint: the genuine answer comes back with its ID token
// replaced, and the broker must refuse each replacement.
func TestBrokerRefusesTamperedIDToken(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		var (
			be     *brokerEnv
			tamper func(claims map[string]any) string
		)
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			resp, err := http.Post(be.base+"/realms/corp/protocol/openid-connect/token", "application/x-www-form-urlencoded", strings.NewReader(string(body)))
			if err != nil {
				w.WriteHeader(502)
				return
			}
			defer resp.Body.Close()
			var tr map[string]any
			json.NewDecoder(resp.Body).Decode(&tr)
			if id, ok := tr["id_token"].(string); ok {
				parts := strings.Split(id, ".")
				payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
				var claims map[string]any
				json.Unmarshal(payload, &claims)
				tr["id_token"] = tamper(claims)
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(tr)
		}))
		defer proxy.Close()
		be = newBrokerEnv(t, open, func(string) string { return proxy.URL })
		ks, _ := be.db.ListKeys(context.Background(), be.corp.ID)
		corpKey, _ := keys.Active(ks, keys.RS256)
		other, _ := rsa.GenerateKey(rand.Reader, 2048)
		signWith := func(alg jose.SignatureAlgorithm, key any, claims map[string]any) string {
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", corpKey.Kid))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(claims)
			obj, _ := s.Sign(b)
			raw, _ := obj.CompactSerialize()
			return raw
		}
		genuine := func(claims map[string]any) string {
			raw, err := token.Sign(claims, corpKey)
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}
		cases := []struct {
			name   string
			tamper func(map[string]any) string
		}{
			{"signed by another key", func(c map[string]any) string { return signWith(jose.RS256, other, c) }},
			{"alg none", func(c map[string]any) string {
				h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"` + corpKey.Kid + `"}`))
				b, _ := json.Marshal(c)
				return h + "." + base64.RawURLEncoding.EncodeToString(b) + "."
			}},
			{"HS256 with the client secret", func(c map[string]any) string { return signWith(jose.HS256, []byte(corpSecret), c) }},
			{"wrong issuer", func(c map[string]any) string { c["iss"] = "https://evil.example/realms/corp"; return genuine(c) }},
			{"wrong audience", func(c map[string]any) string { c["aud"] = "someone-else"; c["azp"] = "someone-else"; return genuine(c) }},
			{"wrong nonce", func(c map[string]any) string { c["nonce"] = "replayed-nonce"; return genuine(c) }},
			{"expired", func(c map[string]any) string { c["exp"] = be.clock.Now().Unix() - 120; return genuine(c) }},
		}
		// The untouched token passes through the same proxy.
		tamper = genuine
		b := be.browser()
		if res := b.get(be.toUpstream(b).String()); res.status != http.StatusFound {
			t.Fatalf("genuine token through the proxy: %d %s", res.status, res.body)
		}
		first, err := be.db.GetUserByUsername(context.Background(), be.realm.ID, "ann")
		if err != nil {
			t.Fatal(err)
		}
		if err := be.db.DeleteUser(context.Background(), be.realm.ID, first.ID); err != nil {
			t.Fatal(err)
		}
		for _, tc := range cases {
			tamper = tc.tamper
			b := be.browser()
			res := b.get(be.toUpstream(b).String())
			if res.status != http.StatusBadGateway {
				t.Errorf("%s: %d, want 502", tc.name, res.status)
			}
			if _, err := be.db.GetUserByUsername(context.Background(), be.realm.ID, "ann"); err == nil {
				t.Fatalf("%s: a user was made", tc.name)
			}
		}
		if strings.Contains(be.logs.String(), corpSecret) {
			t.Error("the client secret reached the log")
		}
	})
}

// Signing out at corp ends the demo session that signed in through it:
// corp's back-channel logout reaches demo over HTTP, demo checks the
// logout token with corp's keys and ends the session its sid names.
func TestBrokerUpstreamBackchannelLogout(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		be := newBrokerEnv(t, open, nil)
		b := be.browser()
		if res := b.get(be.toUpstream(b).String()); res.status != http.StatusFound {
			t.Fatalf("login: %d %s", res.status, res.body)
		}
		ctx := context.Background()
		demo := be.sessions("ann")
		if len(demo) != 1 || demo[0].Notes["BROKER_SESSION_ID"] == "" {
			t.Fatalf("demo sessions = %+v", demo)
		}
		// A forged logout token (another key) ends nothing.
		other, _ := rsa.GenerateKey(rand.Reader, 2048)
		ks, _ := be.db.ListKeys(ctx, be.corp.ID)
		corpKey, _ := keys.Active(ks, keys.RS256)
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: other}, (&jose.SignerOptions{}).WithType("logout+jwt").WithHeader("kid", corpKey.Kid))
		claims, _ := json.Marshal(map[string]any{"iss": be.base + "/realms/corp", "aud": brokerClient, "iat": be.clock.Now().Unix(),
			"jti": "j1", "sub": be.corpUser.ID, "events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}})
		obj, _ := s.Sign(claims)
		forged, _ := obj.CompactSerialize()
		res, err := http.PostForm(be.url("/protocol/openid-connect/logout/backchannel-logout"), url.Values{"logout_token": {forged}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || len(be.sessions("ann")) != 1 {
			t.Fatalf("forged logout token: %d, sessions %d", res.StatusCode, len(be.sessions("ann")))
		}
		// corp ends ann's session there; its back-channel logout follows.
		up, err := be.db.ListUserSessions(ctx, be.corp.ID, be.corpUser.ID, false)
		if err != nil || len(up) != 1 {
			t.Fatalf("corp sessions = %d, %v", len(up), err)
		}
		// (As the admin API's session delete does, with the base URL the
		// logout token's issuer is built from.)
		if err := be.db.DeleteUserSession(backchannel.WithBase(ctx, be.base), be.corp.ID, up[0].ID); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for len(be.sessions("ann")) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("demo session survived corp's logout\n%s", be.logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// Client-initiated account linking: alice, signed in to app, links her
// corp account through /broker/corp/link with the hash of her session;
// a wrong hash or no session is sent back to the application with an
// error, and links nothing.
func TestBrokerClientInitiatedLink(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		be := newBrokerEnv(t, open, nil)
		ctx := context.Background()
		alice := be.user("alice")
		if err := be.db.AddUserRoles(ctx, alice.ID, be.realm.DefaultRoleID); err != nil {
			t.Fatal(err)
		}
		linkURL := func(nonce, hash string) string {
			q := url.Values{"client_id": {"app"}, "redirect_uri": {"https://app.example/cb"}, "nonce": {nonce}, "hash": {hash}}
			return be.url("/broker/corp/link") + "?" + q.Encode()
		}
		hash := func(nonce, sid string) string {
			sum := sha256.Sum256([]byte(nonce + sid + "app" + "corp"))
			return base64.RawURLEncoding.EncodeToString(sum[:])
		}
		// Not signed in.
		res := be.browser().get(linkURL("n1", hash("n1", "nosession")))
		if loc := res.location(t); res.status != http.StatusFound || loc.Query().Get("error") != "not_logged_in" || loc.Query().Get("nonce") != "n1" {
			t.Fatalf("no session: %d %s", res.status, res.header.Get("Location"))
		}
		b := be.browser()
		page := b.get(be.codeRequest(nil))
		if res := be.login(b, page, "alice", alicePassword); res.status != http.StatusFound {
			t.Fatalf("alice login: %d", res.status)
		}
		sid := be.sessions("alice")[0].ID
		res = b.get(linkURL("n2", hash("n2", "another-session")))
		if loc := res.location(t); res.status != http.StatusFound || loc.Query().Get("error") != "invalid_request" {
			t.Fatalf("wrong hash: %d %s", res.status, res.header.Get("Location"))
		}
		// An unregistered redirect_uri gets no redirect at all.
		q := url.Values{"client_id": {"app"}, "redirect_uri": {"https://evil.example/"}, "nonce": {"n3"}, "hash": {hash("n3", sid)}}
		if res := b.get(be.url("/broker/corp/link") + "?" + q.Encode()); res.status != http.StatusBadRequest {
			t.Fatalf("foreign redirect_uri: %d", res.status)
		}
		res = b.get(linkURL("n4", hash("n4", sid)))
		if res.status != http.StatusFound || !strings.HasPrefix(res.header.Get("Location"), be.base+"/realms/corp/protocol/openid-connect/auth") {
			t.Fatalf("link: %d %s", res.status, res.header.Get("Location"))
		}
		up := b.get(res.header.Get("Location"))
		res = be.login(b, up, "ann", annPassword)
		res = b.get(res.header.Get("Location"))
		if res.status != http.StatusFound || res.header.Get("Location") != "https://app.example/cb" {
			t.Fatalf("back from corp: %d %s %s", res.status, res.header.Get("Location"), res.body)
		}
		u, err := be.db.FindUserByFederatedIdentity(ctx, be.realm.ID, "corp", be.corpUser.ID)
		if err != nil || u.ID != alice.ID {
			t.Fatalf("linked to %v (%v), want alice", u.ID, err)
		}
		evs, _ := be.db.ListEvents(ctx, be.realm.ID, store.EventQuery{Max: -1, Types: []string{"FEDERATED_IDENTITY_LINK"}})
		if len(evs) != 1 || evs[0].UserID != alice.ID {
			t.Errorf("events = %+v", evs)
		}
	})
}

// The upstream's tokens, kept when the provider stores them, are read back
// through /broker/corp/token with an access token of a user who holds the
// broker client's read-token role (granted at creation here).
func TestBrokerStoredToken(t *testing.T) {
	be := newBrokerEnv(t, storetest.Open, nil)
	ctx := context.Background()
	if err := be.db.UpdateIdentityProvider(ctx, be.realm.ID, "corp", func(p *idp.Provider) error {
		p.StoreToken, p.AddReadTokenRoleOnCreate = true, true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	b := be.browser()
	res := b.get(be.toUpstream(b).String())
	code := res.location(t).Query().Get("code")
	tokens := be.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://app.example/cb"}})
	at, _ := tokens["access_token"].(string)
	get := func(bearer string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, be.url("/broker/corp/token"), nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		return r.StatusCode, body
	}
	if st, _ := get(""); st != http.StatusUnauthorized {
		t.Errorf("no token: %d", st)
	}
	st, body := get(at)
	if st != http.StatusOK || body["access_token"] == nil || body["id_token"] == nil {
		t.Fatalf("stored token: %d %v", st, body)
	}
	// Without read-token: refused.
	u, _ := be.db.GetUserByUsername(ctx, be.realm.ID, "ann")
	bc := be.client("broker")
	rt, _ := be.db.GetClientRole(ctx, be.realm.ID, bc.ID, "read-token")
	if err := be.db.RemoveUserRoles(ctx, u.ID, rt.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := get(at); st != http.StatusForbidden {
		t.Errorf("without read-token: %d", st)
	}
}

// The provider's post broker login flow runs after every login through
// it, with the user known: here it denies access, so no code is issued.
func TestBrokerPostBrokerLoginFlow(t *testing.T) {
	be := newBrokerEnv(t, storetest.Open, nil)
	ctx := context.Background()
	if err := be.db.UpdateAuthConfig(ctx, be.realm.ID, func(c *flow.Config) error {
		c.Flows = append(c.Flows, flow.Flow{ID: store.NewID(), Alias: "after corp", ProviderID: flow.BasicFlow, TopLevel: true,
			Executions: []flow.Execution{{ID: store.NewID(), Authenticator: "deny-access-authenticator", Requirement: flow.Required, Priority: 10}}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := be.db.UpdateIdentityProvider(ctx, be.realm.ID, "corp", func(p *idp.Provider) error {
		p.PostBrokerLoginFlowAlias = "after corp"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	b := be.browser()
	res := b.get(be.toUpstream(b).String())
	if res.status != http.StatusUnauthorized || strings.Contains(res.header.Get("Location"), "code=") {
		t.Fatalf("post broker login flow did not deny: %d %s", res.status, res.header.Get("Location"))
	}
	if len(be.sessions("ann")) != 0 {
		t.Fatal("a session was made")
	}
}
