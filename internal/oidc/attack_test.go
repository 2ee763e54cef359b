package oidc_test

// Attack matrix of /work/shared/SECURITY.md §3 for the back-channel
// endpoints: token (T1–T9, T19–T31), userinfo (U1–U7), introspection
// (I1–I4), revocation (R1–R4, R6) and logout (O4), plus the concurrent
// refresh rule (F2) on one SQLite node and two PostgreSQL nodes.
//
// Every case, besides its own status, error and error_description, asserts
// what every row of the matrix asserts: no 5xx, no session row written by a
// refused request, and a DEBUG log that never holds a client secret, a
// password, a password hash prefix, or any token (or its signature) that
// crossed the wire.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	gateoidc "github.com/gatehouse-iam/gatehouse/internal/oidc"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Canary credentials: distinctive enough that finding one in the log can
// only mean it leaked.
const (
	appSecret      = "canary-secret-ldap-app-5d1f9a0c"
	otherSecret    = "canary-secret-other-app-c83e27b4"
	noDirectSecret = "canary-secret-nodirect-0b4e11d2"
	noSASecret     = "canary-secret-nosa-app-77aa9035"
	doomedSecret   = "canary-secret-doomed-app-41f0aa6e"
	r2Secret       = "canary-secret-r2-app-e1f2d3c4"
	user1PW        = "canary-pw-user1-Hq7#p2Lx"
	victimPW       = "canary-pw-victim-Zr4$k9Wd"
	r2PW           = "canary-pw-r2user-Mm3&t6Qa"
)

const (
	tokenPath      = "/protocol/openid-connect/token"
	userinfoPath   = "/protocol/openid-connect/userinfo"
	introspectPath = "/protocol/openid-connect/token/introspect"
	revokePath     = "/protocol/openid-connect/revoke"
	logoutPath     = "/protocol/openid-connect/logout"
)

// invalidClientBody is the one answer for every client authentication
// failure, whichever credential was wrong (no client enumeration).
const invalidClientBody = `{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}`

// syncBuffer is the log sink; the server writes to it from its goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// attackEnv is story 1's environment with canary credentials, extra clients
// and users, and a Handler logging at DEBUG into logs.
type attackEnv struct {
	*env
	logs    *syncBuffer
	mu      sync.Mutex
	secrets map[string]bool // every credential and token the log must not hold
	stops   []func()        // each served server and its access log, stopped
}

func newAttackEnv(t *testing.T, open func(testing.TB) *store.DB) *attackEnv {
	t.Helper()
	e := newEnv(t, open)
	a := &attackEnv{env: e, logs: &syncBuffer{}, secrets: map[string]bool{}}
	// Replace newEnv's server by one whose log we read.
	e.srv.Close()
	e.srv = a.serve(e.db)

	ctx := context.Background()
	app, err := e.db.GetClientByClientID(ctx, e.realm.ID, "ldap-app")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.UpdateClient(ctx, e.realm.ID, app.ID, func(c *client.Client) error { c.Secret = appSecret; return nil }); err != nil {
		t.Fatal(err)
	}
	u1, err := e.db.GetUserByUsername(ctx, e.realm.ID, "user1")
	if err != nil {
		t.Fatal(err)
	}
	a.setPassword(u1.ID, user1PW)
	a.newClient("other-app", func(c *client.Client) {
		c.Secret, c.DirectAccessGrantsEnabled, c.ServiceAccountsEnabled = otherSecret, true, true
	})
	a.newClient("pub-app", func(c *client.Client) { c.PublicClient, c.DirectAccessGrantsEnabled = true, true })
	a.newClient("nodirect-app", func(c *client.Client) { c.Secret = noDirectSecret })
	a.newClient("nosa-app", func(c *client.Client) { c.Secret, c.DirectAccessGrantsEnabled = noSASecret, true })
	a.newClient("doomed-app", func(c *client.Client) { c.Secret, c.DirectAccessGrantsEnabled = doomedSecret, true })
	a.newClient("disabled-app", func(c *client.Client) { c.Secret, c.Enabled = otherSecret, false })
	a.newUser(e.realm.ID, "victim", victimPW)

	for _, s := range []string{appSecret, otherSecret, noDirectSecret, noSASecret, doomedSecret, r2Secret,
		user1PW, victimPW, r2PW, "$argon2", "$2a$", "pbkdf2"} {
		a.secrets[s] = true
	}
	t.Cleanup(func() {
		// This cleanup runs before those of the servers (last added,
		// first called): stop them here, so that every request line the
		// access log still buffers is written before the log is read.
		for _, stop := range a.stops {
			stop()
		}
		log := a.logs.String()
		if !strings.Contains(log, "msg=request") {
			t.Errorf("no request was logged: the log capture is broken")
		}
		a.checkLog(t)
	})
	return a
}

// serve starts a server over db with the logging Handler: the request log
// of the server package around the oidc routes, both at DEBUG.
func (a *attackEnv) serve(db *store.DB) *httptest.Server {
	log := slog.New(slog.NewTextHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mux := http.NewServeMux()
	h := &gateoidc.Handler{Store: db, Log: log, Now: a.clock.Now}
	h.Register(mux)
	access := web.NewAccessLog(log, time.Now)
	srv := httptest.NewServer(access.Handler(mux))
	// The server first, then the log: its lines are all written once no
	// request is in flight. Both may run twice (the log check runs them
	// first); both are idempotent.
	stop := func() { srv.Close(); access.Close() }
	a.stops = append(a.stops, stop)
	a.t.Cleanup(stop)
	return srv
}

func (a *attackEnv) setPassword(userID, pw string) {
	a.t.Helper()
	cred, err := user.NewPasswordCredential(store.NewID(), userID, pw, a.clock.Now().UnixMilli(), user.ParseHashPolicy(a.realm.PasswordPolicy))
	if err != nil {
		a.t.Fatal(err)
	}
	if err := a.db.ReplacePassword(context.Background(), cred); err != nil {
		a.t.Fatal(err)
	}
}

func (a *attackEnv) newClient(clientID string, edit func(*client.Client)) client.Client {
	a.t.Helper()
	c := client.New(store.NewID(), a.realm.ID, clientID)
	edit(&c)
	if err := provision.CreateClient(context.Background(), a.db, c, a.clock.Now()); err != nil {
		a.t.Fatal(err)
	}
	return c
}

func (a *attackEnv) newUser(realmID, username, pw string) user.User {
	a.t.Helper()
	u := user.User{ID: store.NewID(), RealmID: realmID, Username: username, Enabled: true, CreatedTimestamp: a.clock.Now().UnixMilli()}
	if err := a.db.CreateUser(context.Background(), u); err != nil {
		a.t.Fatal(err)
	}
	a.setPassword(u.ID, pw)
	return u
}

func (a *attackEnv) userID(username string) string {
	a.t.Helper()
	u, err := a.db.GetUserByUsername(context.Background(), a.realm.ID, username)
	if err != nil {
		a.t.Fatal(err)
	}
	return u.ID
}

func (a *attackEnv) clientOf(clientID string) client.Client {
	a.t.Helper()
	c, err := a.db.GetClientByClientID(context.Background(), a.realm.ID, clientID)
	if err != nil {
		a.t.Fatal(err)
	}
	return c
}

func (a *attackEnv) updateRealm(edit func(*realm.Realm)) {
	a.t.Helper()
	if err := a.db.UpdateRealm(context.Background(), a.realm.ID, func(r *realm.Realm) error { edit(r); return nil }); err != nil {
		a.t.Fatal(err)
	}
}

// rotation sets the realm's Revoke Refresh Token switch and max reuse.
func (a *attackEnv) rotation(on bool, maxReuse int) {
	a.updateRealm(func(r *realm.Realm) { r.RevokeRefreshToken, r.RefreshTokenMaxReuse = on, maxReuse })
}

// remember adds a value that must never reach the log.
func (a *attackEnv) remember(vals ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, v := range vals {
		if v != "" {
			a.secrets[v] = true
		}
	}
}

// checkLog fails when the log holds a secret, a token, or a token's signature.
func (a *attackEnv) checkLog(t *testing.T) {
	t.Helper()
	log := a.logs.String()
	a.mu.Lock()
	defer a.mu.Unlock()
	for s := range a.secrets {
		if strings.Contains(log, s) {
			t.Errorf("the log holds a secret or token starting %q", s[:min(len(s), 16)])
		}
		if parts := strings.Split(s, "."); len(parts) == 3 && len(parts[2]) >= 16 && strings.Contains(log, parts[2]) {
			t.Errorf("the log holds the signature of a token starting %q", s[:16])
		}
	}
}

// reply is an HTTP answer.
type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any // the JSON object answered, if any
}

func (r reply) str(k string) string { s, _ := r.body[k].(string); return s }

// short is the body for a failure message, cut so tokens do not flood it.
func (r reply) short() string {
	if len(r.raw) > 160 {
		return string(r.raw[:160]) + "…"
	}
	return string(r.raw)
}

// do sends req, fails the test on a 5xx and remembers every token answered.
func (a *attackEnv) do(req *http.Request) reply {
	a.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if r.status >= 500 {
		a.t.Errorf("%s %s: %d, a 5xx: %s", req.Method, req.URL.Path, r.status, raw)
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			a.t.Errorf("%s: not a JSON object: %s", req.URL.Path, raw)
		}
	}
	a.remember(r.str("access_token"), r.str("refresh_token"), r.str("id_token"))
	return r
}

// realmReq builds a request to a realm's endpoint (path after /realms/{realm}).
func (a *attackEnv) realmReq(realmName, method, path, contentType, body string) *http.Request {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+"/realms/"+realmName+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

func (a *attackEnv) rawReq(method, path, contentType, body string) *http.Request {
	return a.realmReq("ldap-demo", method, path, contentType, body)
}

// formReq builds a form POST, with client_secret_basic when basicUser is set.
func (a *attackEnv) formReq(path string, form url.Values, basicUser, basicPass string) *http.Request {
	for k, vs := range form {
		if k == "token" || k == "refresh_token" || k == "access_token" || k == "password" || k == "client_secret" {
			for _, v := range vs {
				if len(v) >= 8 { // shorter ones ("wrong", "garbage") could match innocent log text
					a.remember(v)
				}
			}
		}
	}
	req := a.rawReq("POST", path, "application/x-www-form-urlencoded", form.Encode())
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	return req
}

func (a *attackEnv) form(path string, form url.Values, basicUser, basicPass string) reply {
	return a.do(a.formReq(path, form, basicUser, basicPass))
}

// grant runs a password grant and requires it to succeed.
func (a *attackEnv) grant(clientID, secret, username, pw, scope string) reply {
	a.t.Helper()
	r := a.form(tokenPath, url.Values{"grant_type": {"password"}, "username": {username}, "password": {pw}, "scope": {scope}}, clientID, secret)
	if r.status != 200 || r.str("access_token") == "" {
		a.t.Fatalf("password grant for %s at %s: %d %s", username, clientID, r.status, r.short())
	}
	return r
}

// user1 logs user1 in at ldap-app.
func (a *attackEnv) user1(scope string) reply {
	return a.grant("ldap-app", appSecret, "user1", user1PW, scope)
}

func (a *attackEnv) refreshAs(clientID, secret, rt string, extra ...string) reply {
	a.t.Helper()
	f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return a.form(tokenPath, f, clientID, secret)
}

func (a *attackEnv) refreshApp(rt string, extra ...string) reply {
	return a.refreshAs("ldap-app", appSecret, rt, extra...)
}

func (a *attackEnv) bearerReq(method, token string) *http.Request {
	a.remember(token)
	req := a.rawReq(method, userinfoPath, "", "")
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

func (a *attackEnv) userinfo(token string) reply { return a.do(a.bearerReq("GET", token)) }

func (a *attackEnv) introspect(token string) reply {
	return a.form(introspectPath, url.Values{"token": {token}}, "ldap-app", appSecret)
}

func (a *attackEnv) revoke(token string) reply {
	return a.form(revokePath, url.Values{"token": {token}}, "ldap-app", appSecret)
}

// want is a case's expected answer. err "" means the body is not an OAuth
// error; desc "" leaves error_description unchecked.
type want struct {
	status    int
	err, desc string
}

func (a *attackEnv) expect(r reply, w want) {
	a.t.Helper()
	if r.status != w.status {
		a.t.Errorf("status %d, want %d: %s", r.status, w.status, r.short())
	}
	if w.err != "" && r.str("error") != w.err {
		a.t.Errorf("error %q, want %q", r.str("error"), w.err)
	}
	if w.desc != "" && r.str("error_description") != w.desc {
		a.t.Errorf("error_description %q, want %q", r.str("error_description"), w.desc)
	}
}

// expectInactive checks RFC 7662's answer for a dead token: active false
// and no other member.
func (a *attackEnv) expectInactive(r reply) {
	a.t.Helper()
	if r.status != 200 || string(r.raw) != `{"active":false}` {
		a.t.Errorf("introspection of a dead token: %d %s, want 200 {\"active\":false}", r.status, r.short())
	}
}

// rows counts the realm's user sessions (online and offline, of every
// user) and their client sessions.
type rows struct{ userSessions, clientSessions int }

func (a *attackEnv) count() rows {
	a.t.Helper()
	ctx := context.Background()
	users, err := a.db.ListUsers(ctx, a.realm.ID, 0, -1)
	if err != nil {
		a.t.Fatal(err)
	}
	var n rows
	for _, u := range users {
		for _, offline := range []bool{false, true} {
			ss, err := a.db.ListUserSessions(ctx, a.realm.ID, u.ID, offline)
			if err != nil {
				a.t.Fatal(err)
			}
			n.userSessions += len(ss)
			for _, s := range ss {
				cs, err := a.db.ListClientSessions(ctx, s.ID)
				if err != nil {
					a.t.Fatal(err)
				}
				n.clientSessions += len(cs)
			}
		}
	}
	return n
}

// effect is what a case's request may change in the session tables.
type effect int

const (
	storesNothing effect = iota // refused: no row written or removed
	endsSessions                // ends sessions (revocation, logout): rows may only go
)

// attack is one row of a table: req prepares whatever state it needs and
// returns the request under test.
type attack struct {
	name   string
	req    func() *http.Request
	want   want
	effect effect
	check  func(r reply)
}

// run runs fn as a subtest with the environment's t swapped in, so the
// helpers (and env.post) fail the right test.
func (a *attackEnv) run(t *testing.T, name string, fn func()) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		parent := a.t
		a.t = t
		defer func() { a.t = parent }()
		fn()
		a.checkLog(t)
	})
}

func (a *attackEnv) table(t *testing.T, cases []attack) {
	t.Helper()
	for _, c := range cases {
		a.run(t, c.name, func() {
			req := c.req()
			before := a.count()
			r := a.do(req)
			a.expect(r, c.want)
			after := a.count()
			switch c.effect {
			case storesNothing:
				if after != before {
					a.t.Errorf("session rows %+v → %+v: a refused request changed the store", before, after)
				}
			case endsSessions:
				if after.userSessions > before.userSessions || after.clientSessions > before.clientSessions {
					a.t.Errorf("session rows %+v → %+v: rows were added", before, after)
				}
			}
			if c.check != nil {
				c.check(r)
			}
		})
	}
}

// --- crafted tokens ---------------------------------------------------------

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func jwtHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	h, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(h, &m)
	return m
}

// withHeader re-signs tok's payload under header with an HMAC of key
// (nil: no signature, for alg none).
func withHeader(header map[string]any, tok string, h func() hash.Hash, key []byte) string {
	hb, _ := json.Marshal(header)
	input := b64(hb) + "." + strings.Split(tok, ".")[1]
	if key == nil {
		return input + "."
	}
	mac := hmac.New(h, key)
	mac.Write([]byte(input))
	return input + "." + b64(mac.Sum(nil))
}

// flipSig changes one character in the middle of the signature.
func flipSig(tok string) string {
	i := strings.LastIndexByte(tok, '.') + 10
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// swapPayload puts other's payload under tok's header and signature.
func swapPayload(tok, other string) string {
	p, q := strings.Split(tok, "."), strings.Split(other, ".")
	return p[0] + "." + q[1] + "." + p[2]
}

// realmPublicKey returns the realm's RSA public key in the forms an
// algorithm-confusion attacker would try as an HMAC secret.
func (a *attackEnv) realmPublicKey() (der, pemText []byte) {
	a.t.Helper()
	resp, err := http.Get(a.url(""))
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	json.NewDecoder(resp.Body).Decode(&doc)
	der, err = base64.StdEncoding.DecodeString(doc["public_key"].(string))
	if err != nil {
		a.t.Fatal(err)
	}
	return der, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// forged returns refresh- or access-token lookalikes an attacker can build
// from a real token tok: flipped signature, alg none, and HS256/HS512 MACed
// with the realm's RSA public key under the RSA key's kid.
func (a *attackEnv) forged(tok, rsaKid string) map[string]string {
	der, pemText := a.realmPublicKey()
	h := jwtHeader(a.t, tok)
	none := map[string]any{"alg": "none", "typ": "JWT", "kid": h["kid"]}
	out := map[string]string{
		"flipped signature":                   flipSig(tok),
		"alg none":                            withHeader(none, tok, nil, nil),
		"HS256 with the RSA public key (DER)": withHeader(map[string]any{"alg": "HS256", "typ": "JWT", "kid": rsaKid}, tok, sha256.New, der),
		"HS256 with the RSA public key (PEM)": withHeader(map[string]any{"alg": "HS256", "typ": "JWT", "kid": rsaKid}, tok, sha256.New, pemText),
		"HS512 with the RSA public key (PEM)": withHeader(map[string]any{"alg": "HS512", "typ": "JWT", "kid": rsaKid}, tok, sha512.New, pemText),
	}
	for _, v := range out {
		a.remember(v)
	}
	return out
}

// secondRealm creates realm r2 with a client and a user, and returns a token
// response of that user there.
func (a *attackEnv) secondRealm() reply {
	a.t.Helper()
	ctx := context.Background()
	r2 := realm.New(store.NewID(), "r2")
	if err := provision.NewRealm(ctx, a.db, r2, a.clock.Now()); err != nil {
		a.t.Fatal(err)
	}
	c := client.New(store.NewID(), r2.ID, "ldap-app") // same clientId as in ldap-demo
	c.Secret, c.DirectAccessGrantsEnabled = r2Secret, true
	if err := provision.CreateClient(ctx, a.db, c, a.clock.Now()); err != nil {
		a.t.Fatal(err)
	}
	a.newUser(r2.ID, "user1", r2PW) // same username as in ldap-demo
	f := url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {r2PW}, "scope": {"openid"}}
	req := a.realmReq("r2", "POST", tokenPath, "application/x-www-form-urlencoded", f.Encode())
	req.SetBasicAuth("ldap-app", r2Secret)
	r := a.do(req)
	if r.status != 200 {
		a.t.Fatalf("password grant in r2: %d %s", r.status, r.short())
	}
	return r
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func withAuth(req *http.Request, value string) *http.Request {
	req.Header.Set("Authorization", value)
	return req
}

// --- token endpoint: request shape and client authentication ---------------

func TestAttackTokenRequests(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		a := newAttackEnv(t, open)
		pw := func(extra ...string) url.Values {
			f := url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {user1PW}}
			for i := 0; i+1 < len(extra); i += 2 {
				f.Set(extra[i], extra[i+1])
			}
			return f
		}
		form := func(f url.Values, u, p string) func() *http.Request {
			return func() *http.Request { return a.formReq(tokenPath, f, u, p) }
		}
		raw := func(method, ct, body string, auth string) func() *http.Request {
			return func() *http.Request {
				a.remember(user1PW)
				req := a.rawReq(method, tokenPath, ct, body)
				if auth != "" {
					req.Header.Set("Authorization", auth)
				}
				return req
			}
		}
		pwBody := "username=user1&password=" + url.QueryEscape(user1PW)
		sameAsWrongSecret := func(r reply) {
			if string(r.raw) != invalidClientBody {
				a.t.Errorf("body %s, want exactly %s", r.short(), invalidClientBody)
			}
		}
		basicChallenge := func(r reply) {
			sameAsWrongSecret(r)
			if h := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Basic ") {
				a.t.Errorf("WWW-Authenticate %q, want a Basic challenge", h)
			}
		}
		a.table(t, []attack{
			// T1
			{name: "missing grant_type is 400 invalid_request",
				req:  form(url.Values{"username": {"user1"}, "password": {user1PW}}, "ldap-app", appSecret),
				want: want{400, "invalid_request", "Missing form parameter: grant_type"}},
			{name: "empty grant_type is 400 invalid_request",
				req:  form(pw("grant_type", ""), "ldap-app", appSecret),
				want: want{400, "invalid_request", "Missing form parameter: grant_type"}},
			// T2
			{name: "unknown grant_type is 400 unsupported_grant_type",
				req:  form(pw("grant_type", "foo"), "ldap-app", appSecret),
				want: want{400, "unsupported_grant_type", "Unsupported grant_type"}},
			// T3
			{name: "JSON body is 400 invalid_request",
				req: raw("POST", "application/json",
					`{"grant_type":"password","username":"user1","password":"`+user1PW+`"}`, basic("ldap-app", appSecret)),
				want: want{400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded"}},
			{name: "form body without a content type is 400 invalid_request",
				req:  raw("POST", "", "grant_type=password&"+pwBody, basic("ldap-app", appSecret)),
				want: want{400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded"}},
			{name: "GET with the parameters in the query is 405",
				req: func() *http.Request {
					a.remember(user1PW)
					return withAuth(a.rawReq("GET", tokenPath+"?grant_type=password&"+pwBody, "", ""), basic("ldap-app", appSecret))
				},
				want: want{status: 405}},
			// T4
			{name: "grant_type sent twice is 400 invalid_request",
				req:  raw("POST", "application/x-www-form-urlencoded", "grant_type=password&grant_type=client_credentials&"+pwBody, basic("ldap-app", appSecret)),
				want: want{400, "invalid_request", "duplicated parameter"}},
			{name: "grant_type in the query and the body is 400 invalid_request",
				req: func() *http.Request {
					return withAuth(a.rawReq("POST", tokenPath+"?grant_type=client_credentials", "application/x-www-form-urlencoded",
						"grant_type=password&"+pwBody), basic("ldap-app", appSecret))
				},
				want: want{400, "invalid_request", "duplicated parameter"}},
			{name: "client_id sent twice is 400 invalid_request",
				req: raw("POST", "application/x-www-form-urlencoded",
					"grant_type=password&client_id=ldap-app&client_id=other-app&client_secret="+appSecret+"&"+pwBody, ""),
				want: want{400, "invalid_request", "duplicated parameter"}},
			// T5
			{name: "wrong client secret over Basic is 401 invalid_client with a Basic challenge",
				req:  form(pw(), "ldap-app", "not-the-secret"),
				want: want{401, "invalid_client", "Invalid client or Invalid client credentials"}, check: basicChallenge},
			{name: "wrong client secret in the body is 401 invalid_client",
				req:  form(pw("client_id", "ldap-app", "client_secret", "not-the-secret"), "", ""),
				want: want{401, "invalid_client", "Invalid client or Invalid client credentials"}, check: sameAsWrongSecret},
			{name: "another client's secret is 401 invalid_client",
				req:  form(pw(), "ldap-app", otherSecret),
				want: want{401, "invalid_client", "Invalid client or Invalid client credentials"}, check: basicChallenge},
			// T6
			{name: "unknown client over Basic is 401 invalid_client, the same body as a wrong secret",
				req:  form(pw(), "no-such-app", appSecret),
				want: want{401, "invalid_client", "Invalid client or Invalid client credentials"}, check: basicChallenge},
			{name: "unknown client in the body is 401 invalid_client",
				req:  form(pw("client_id", "no-such-app", "client_secret", appSecret), "", ""),
				want: want{401, "invalid_client", "Invalid client or Invalid client credentials"}, check: sameAsWrongSecret},
			{name: "disabled client with its right secret is 401 invalid_client",
				req:  form(pw(), "disabled-app", otherSecret),
				want: want{401, "invalid_client", "Invalid client or Invalid client credentials"}, check: basicChallenge},
			{name: "missing client_id is 400 invalid_client",
				req:  form(pw(), "", ""),
				want: want{400, "invalid_client", "Missing client_id parameter"}},
			// T7
			{name: "Basic header and client_secret in the body is 400 invalid_request",
				req:  form(pw("client_secret", appSecret), "ldap-app", appSecret),
				want: want{400, "invalid_request", "Multiple client authentication methods"}},
			{name: "Basic header and another client_id in the body is 400 invalid_request",
				req:  form(pw("client_id", "other-app"), "ldap-app", appSecret),
				want: want{400, "invalid_request", "client_id does not match the authorization header"}},
			// T8
			{name: "Basic header with bad base64 is 401 invalid_client",
				req:  raw("POST", "application/x-www-form-urlencoded", "grant_type=password&"+pwBody, "Basic !!not*base64!!"),
				want: want{401, "invalid_client", "Invalid client or Invalid client credentials"}, check: basicChallenge},
			{name: "Basic header without a colon is 401 invalid_client",
				req: raw("POST", "application/x-www-form-urlencoded", "grant_type=password&"+pwBody,
					"Basic "+base64.StdEncoding.EncodeToString([]byte("ldap-app"+appSecret))),
				want: want{401, "invalid_client", "Invalid client or Invalid client credentials"}, check: basicChallenge},
			{name: "Basic header of 10 KB is 401 invalid_client",
				req: raw("POST", "application/x-www-form-urlencoded", "grant_type=password&"+pwBody,
					basic("ldap-app", appSecret+strings.Repeat("x", 10<<10))),
				want: want{401, "invalid_client", "Invalid client or Invalid client credentials"}, check: basicChallenge},
			{name: "Basic header with a bad percent-escape is 401 invalid_client",
				req:  raw("POST", "application/x-www-form-urlencoded", "grant_type=password&"+pwBody, basic("ldap%zz", appSecret)),
				want: want{401, "invalid_client", "Invalid client or Invalid client credentials"}, check: basicChallenge},
			{name: "empty Basic header is 401 invalid_client",
				req:  raw("POST", "application/x-www-form-urlencoded", "grant_type=password&"+pwBody, "Basic "),
				want: want{401, "invalid_client", "Invalid client or Invalid client credentials"}, check: basicChallenge},
			// T9
			{name: "public client sending a client_secret in the body is 401 invalid_client",
				req:  form(pw("client_id", "pub-app", "client_secret", "made-up-secret"), "", ""),
				want: want{401, "invalid_client", "Invalid client or Invalid client credentials"}, check: sameAsWrongSecret},
			{name: "public client sending a secret over Basic is 401 invalid_client",
				req:  form(pw(), "pub-app", "made-up-secret"),
				want: want{401, "invalid_client", "Invalid client or Invalid client credentials"}, check: basicChallenge},
			{name: "confidential client sending no secret is 401 unauthorized_client",
				req:  form(pw("client_id", "ldap-app"), "", ""),
				want: want{401, "unauthorized_client", "Client secret not provided in request"}},
			{name: "confidential client with an empty Basic secret is 401 unauthorized_client",
				req:  form(pw(), "ldap-app", ""),
				want: want{401, "unauthorized_client", "Client secret not provided in request"}},
			// T28
			{name: "password grant on a client without direct access grants is 400 unauthorized_client",
				req:  form(pw(), "nodirect-app", noDirectSecret),
				want: want{400, "unauthorized_client", "Client not allowed for direct access grants"}},
			// T30
			{name: "client_credentials on a public client is 401 unauthorized_client",
				req:  form(url.Values{"grant_type": {"client_credentials"}, "client_id": {"pub-app"}}, "", ""),
				want: want{401, "unauthorized_client", "Public client not allowed to retrieve service account"}},
			{name: "client_credentials on a client without service accounts is 400 unauthorized_client",
				req:  form(url.Values{"grant_type": {"client_credentials"}}, "nosa-app", noSASecret),
				want: want{400, "unauthorized_client", "Client not enabled to retrieve service account"}},
			{name: "client_credentials asking for offline_access is 400 invalid_scope",
				req:  form(url.Values{"grant_type": {"client_credentials"}, "scope": {"offline_access"}}, "ldap-app", appSecret),
				want: want{400, "invalid_scope", ""}},
		})

		// The positive controls: the same client and user do get tokens, and a
		// public client without a secret (or with an empty Basic one) is fine.
		a.run(t, "controls: the right credentials are accepted", func() {
			a.user1("openid")
			if r := a.form(tokenPath, pw("client_id", "pub-app"), "", ""); r.status != 200 {
				a.t.Errorf("public client with client_id only: %d %s", r.status, r.short())
			}
			if r := a.form(tokenPath, pw(), "pub-app", ""); r.status != 200 {
				a.t.Errorf("public client with an empty Basic secret: %d %s", r.status, r.short())
			}
			if r := a.form(tokenPath, url.Values{"grant_type": {"client_credentials"}}, "ldap-app", appSecret); r.status != 200 {
				a.t.Errorf("client_credentials: %d %s", r.status, r.short())
			}
		})
	})
}

// --- T27, T28: the password grant ------------------------------------------

func TestAttackPasswordGrant(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		a := newAttackEnv(t, open)
		ctx := context.Background()
		pw := func(username, password string) func() *http.Request {
			return func() *http.Request {
				return a.formReq(tokenPath, url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}}, "ldap-app", appSecret)
			}
		}
		var wrongBody []byte
		sameAsWrong := func(r reply) {
			if !bytes.Equal(r.raw, wrongBody) {
				a.t.Errorf("body %s differs from the wrong-password body %s", r.raw, wrongBody)
			}
		}
		a.table(t, []attack{
			{name: "wrong password is 401 invalid_grant Invalid user credentials", req: pw("user1", "not-"+user1PW),
				want: want{401, "invalid_grant", "Invalid user credentials"}, check: func(r reply) { wrongBody = r.raw }},
			{name: "unknown user is 401 with the same body as a wrong password", req: pw("nobody-here", user1PW),
				want: want{401, "invalid_grant", "Invalid user credentials"}, check: sameAsWrong},
			{name: "unknown email is 401 with the same body as a wrong password", req: pw("nobody@example.com", user1PW),
				want: want{401, "invalid_grant", "Invalid user credentials"}, check: sameAsWrong},
			{name: "empty password is 401 invalid_grant", req: pw("user1", ""),
				want: want{401, "invalid_grant", "Invalid user credentials"}, check: sameAsWrong},
			{name: "service account username is 401 invalid_grant", req: pw("service-account-ldap-app", user1PW),
				want: want{401, "invalid_grant", "Invalid user credentials"}, check: sameAsWrong},
			{name: "user1's password for another user is 401 invalid_grant", req: pw("victim", user1PW),
				want: want{401, "invalid_grant", "Invalid user credentials"}, check: sameAsWrong},
			{name: "missing username is 401 invalid_request", req: pw("", user1PW),
				want: want{401, "invalid_request", "Missing parameter: username"}},
			{name: "disabled user with the right password is 400 Account disabled",
				req: func() *http.Request {
					if err := a.db.UpdateUser(ctx, a.realm.ID, a.userID("victim"), func(u *user.User) error { u.Enabled = false; return nil }); err != nil {
						a.t.Fatal(err)
					}
					return pw("victim", victimPW)()
				},
				want: want{400, "invalid_grant", "Account disabled"}},
			{name: "disabled user with a wrong password looks like a wrong password", req: pw("victim", "not-"+victimPW),
				want: want{401, "invalid_grant", "Invalid user credentials"}, check: sameAsWrong},
			{name: "password grant on a client without direct access grants is 400 unauthorized_client",
				req: func() *http.Request {
					return a.formReq(tokenPath, url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {user1PW}}, "nodirect-app", noDirectSecret)
				},
				want: want{400, "unauthorized_client", "Client not allowed for direct access grants"}},
			{name: "offline_access without the role is 400 not_allowed",
				req: func() *http.Request {
					a.setPassword(a.userID("user2"), victimPW)
					u2 := a.userID("user2")
					def, _ := a.db.GetRealmRole(ctx, a.realm.ID, "default-roles-ldap-demo")
					a.db.RemoveUserRoles(ctx, u2, def.ID)
					return a.formReq(tokenPath, url.Values{"grant_type": {"password"}, "username": {"user2"}, "password": {victimPW},
						"scope": {"openid offline_access"}}, "ldap-app", appSecret)
				},
				want: want{400, "not_allowed", "Offline tokens not allowed for the user or client"}},
			{name: "scope the client does not have is 400 invalid_scope",
				req: func() *http.Request {
					return a.formReq(tokenPath, url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {user1PW},
						"scope": {"openid phone"}}, "ldap-app", appSecret)
				},
				want: want{400, "invalid_scope", "Invalid scopes: openid phone"}},
		})
		a.run(t, "controls: user1 by username and by email", func() {
			// ldap-demo has brute-force detection on: the quick wrong
			// passwords above locked user1 for the quick-login wait.
			a.clock.Add(time.Minute)
			a.user1("openid")
			a.grant("ldap-app", appSecret, "USER1@example.com", user1PW, "openid")
		})
	})
}

// --- T29: oversized input --------------------------------------------------

func TestAttackOversizedInput(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		a := newAttackEnv(t, open)
		body := func(path, scope string, extra ...string) func() *http.Request {
			return func() *http.Request {
				a.remember(user1PW)
				b := "grant_type=password&username=user1&password=" + url.QueryEscape(user1PW) + "&scope=" + url.QueryEscape(scope) + strings.Join(extra, "")
				return withAuth(a.rawReq("POST", path, "application/x-www-form-urlencoded", b), basic("ldap-app", appSecret))
			}
		}
		tooLarge := want{413, "invalid_request", "Request body too large"}
		a.table(t, []attack{
			{name: "1 MB scope is 413 invalid_request", req: body(tokenPath, strings.Repeat("x", 1<<20)), want: tooLarge},
			{name: "400,000-token scope is 413 invalid_request", req: body(tokenPath, strings.Repeat("a ", 400_000)), want: tooLarge},
			{name: "body over 1 MiB is 413 invalid_request", req: body(tokenPath, "openid", "&pad=", strings.Repeat("p", 2<<20)), want: tooLarge},
			{name: "9 KB scope is 400 invalid_request", req: body(tokenPath, strings.Repeat("y", 9<<10)),
				want: want{400, "invalid_request", "Parameter too long"}},
			{name: "9 KB username is 400 invalid_request",
				req: func() *http.Request {
					return a.formReq(tokenPath, url.Values{"grant_type": {"password"}, "username": {strings.Repeat("u", 9<<10)}, "password": {user1PW}}, "ldap-app", appSecret)
				},
				want: want{400, "invalid_request", "Parameter too long"}},
			{name: "9 KB password is 400 invalid_request and is never hashed",
				req: func() *http.Request {
					return a.formReq(tokenPath, url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {strings.Repeat("p", 9<<10)}}, "ldap-app", appSecret)
				},
				want: want{400, "invalid_request", "Parameter too long"}},
			{name: "4,000 unknown scopes under 8 KB are 400 invalid_scope", req: body(tokenPath, strings.TrimSpace(strings.Repeat("a ", 4000))),
				want: want{400, "invalid_scope", ""}},
			{name: "body over 1 MiB at introspection is 413", req: body(introspectPath, "", "&token=", strings.Repeat("t", 2<<20)), want: tooLarge},
			{name: "body over 1 MiB at revocation is 413", req: body(revokePath, "", "&token=", strings.Repeat("t", 2<<20)), want: tooLarge},
			{name: "body over 1 MiB at logout is 413", req: body(logoutPath, "", "&refresh_token=", strings.Repeat("t", 2<<20)), want: tooLarge},
			{name: "body over 1 MiB at userinfo is 401: no token was read",
				req: func() *http.Request {
					return a.rawReq("POST", userinfoPath, "application/x-www-form-urlencoded", "access_token="+strings.Repeat("t", 2<<20))
				},
				want: want{401, "invalid_request", "Token not provided"}},
		})
	})
}

// --- T19, T20: refresh token rotation --------------------------------------

func TestAttackRefreshRotation(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		a := newAttackEnv(t, open)
		dead := func(what, rt string) {
			a.t.Helper()
			before := a.count()
			r := a.refreshApp(rt)
			a.expect(r, want{400, "invalid_grant", ""})
			if after := a.count(); after.userSessions != before.userSessions || after.clientSessions > before.clientSessions {
				a.t.Errorf("%s: session rows %+v → %+v", what, before, after)
			}
			a.expectInactive(a.introspect(rt)) // I3
		}
		ok := func(what, rt string) reply {
			a.t.Helper()
			r := a.refreshApp(rt)
			if r.status != 200 {
				a.t.Fatalf("%s: %d %s", what, r.status, r.short())
			}
			return r
		}

		for _, step := range []time.Duration{0, time.Second} {
			sfx := fmt.Sprintf(" (%v between refreshes)", step)
			a.run(t, "superseded refresh token with maxReuse 0 is 400 invalid_grant and kills the newest"+sfx, func() {
				a.rotation(true, 0)
				rt0 := a.user1("openid").str("refresh_token")
				a.clock.Add(step)
				r1 := ok("first use", rt0)
				before := a.count()
				a.expect(a.refreshApp(rt0), want{400, "invalid_grant", "Maximum allowed refresh token reuse exceeded"})
				if after := a.count(); after.userSessions != before.userSessions || after.clientSessions != before.clientSessions-1 {
					a.t.Errorf("reuse did not end exactly the client session: %+v → %+v", before, after)
				}
				dead("newest token after the reuse", r1.str("refresh_token"))
				if r := a.userinfo(r1.str("access_token")); r.status != 401 {
					a.t.Errorf("access token of the killed family at userinfo: %d", r.status)
				}
			})
			a.run(t, "token two rotations old is 400 invalid_grant and kills the newest"+sfx, func() {
				a.rotation(true, 0)
				rt0 := a.user1("openid").str("refresh_token")
				a.clock.Add(step)
				rt1 := ok("rt0", rt0).str("refresh_token")
				a.clock.Add(step)
				rt2 := ok("rt1", rt1).str("refresh_token")
				a.clock.Add(step)
				a.expect(a.refreshApp(rt0), want{400, "invalid_grant", ""})
				dead("newest token after replaying rt0", rt2)
			})
			a.run(t, "legitimate rotation chain keeps working"+sfx, func() {
				a.rotation(true, 0)
				rt := a.user1("openid").str("refresh_token")
				for i := range 5 {
					a.clock.Add(step)
					rt = ok(fmt.Sprintf("link %d", i), rt).str("refresh_token")
				}
			})
		}
		for _, n := range []int{1, 3} {
			a.run(t, fmt.Sprintf("maxReuse %d gives %d successes, then 400 and every descendant dies", n, n+1), func() {
				a.rotation(true, n)
				rt0 := a.user1("openid").str("refresh_token")
				var children []string
				for i := range n + 1 {
					children = append(children, ok(fmt.Sprintf("use %d", i+1), rt0).str("refresh_token"))
				}
				a.expect(a.refreshApp(rt0), want{400, "invalid_grant", "Maximum allowed refresh token reuse exceeded"})
				for i, c := range children {
					dead(fmt.Sprintf("child %d", i), c)
				}
			})
		}
		a.run(t, "switching rotation off and on again keeps the newest token working", func() {
			a.rotation(true, 0)
			rt := a.user1("openid").str("refresh_token")
			rt = ok("rotating", rt).str("refresh_token")
			a.rotation(false, 0)
			rt = ok("rotation off", rt).str("refresh_token")
			rt = ok("rotation off, again", rt).str("refresh_token")
			a.rotation(true, 0)
			for i := range 3 {
				rt = ok(fmt.Sprintf("rotation on again, link %d", i), rt).str("refresh_token")
			}
		})
		a.run(t, "with rotation off a refresh token is reusable", func() {
			a.rotation(false, 0)
			rt0 := a.user1("openid").str("refresh_token")
			for i := range 3 {
				ok(fmt.Sprintf("use %d", i), rt0)
			}
		})
	})
}

// --- T21–T23, T25, T26: what a refresh token is bound to -------------------

func TestAttackRefreshBinding(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		a := newAttackEnv(t, open)
		ctx := context.Background()
		a.rotation(true, 0)
		refresh := func(rt *string, extra ...string) func() *http.Request {
			return func() *http.Request {
				f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {*rt}}
				for i := 0; i+1 < len(extra); i += 2 {
					f.Set(extra[i], extra[i+1])
				}
				return a.formReq(tokenPath, f, "ldap-app", appSecret)
			}
		}
		// fresh logs user1 in and points *rt at the new refresh token.
		fresh := func(rt *string, scope string, then func()) func() *http.Request {
			return func() *http.Request {
				*rt = a.user1(scope).str("refresh_token")
				if then != nil {
					then()
				}
				return refresh(rt)()
			}
		}
		var rt, victimRT string
		tok := a.user1("openid")
		rsaKid := jwtHeader(t, tok.str("access_token"))["kid"].(string)
		forgedRT := a.forged(tok.str("refresh_token"), rsaKid)
		other := a.grant("other-app", otherSecret, "user1", user1PW, "openid")
		r2 := a.secondRealm()

		cases := []attack{
			{name: "missing refresh_token is 400 invalid_request",
				req: func() *http.Request {
					return a.formReq(tokenPath, url.Values{"grant_type": {"refresh_token"}}, "ldap-app", appSecret)
				},
				want: want{400, "invalid_request", "No refresh token"}},
			// T21
			{name: "refresh token of client A presented by client B is 400 invalid_grant",
				req: func() *http.Request {
					rt = a.user1("openid").str("refresh_token")
					return a.formReq(tokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "other-app", otherSecret)
				},
				want: want{400, "invalid_grant", "Invalid refresh token. Token client and authorized client don't match"},
				check: func(reply) {
					if r := a.refreshApp(rt); r.status != 200 {
						a.t.Errorf("client A's token no longer works after B presented it: %d %s", r.status, r.short())
					}
				}},
			{name: "refresh token of client B presented by client A is 400 invalid_grant",
				req:  func() *http.Request { rt = other.str("refresh_token"); return refresh(&rt)() },
				want: want{400, "invalid_grant", "Invalid refresh token. Token client and authorized client don't match"}},
			// T22
			{name: "refresh asking for a scope not granted is 400 invalid_scope",
				req: func() *http.Request {
					rt = a.user1("openid").str("refresh_token")
					return refresh(&rt, "scope", "openid info")()
				},
				want: want{400, "invalid_scope", "Invalid scopes: openid info"}},
			{name: "refresh asking for offline_access on an online token is 400 invalid_scope",
				req: func() *http.Request {
					rt = a.user1("openid").str("refresh_token")
					return refresh(&rt, "scope", "openid offline_access")()
				},
				want: want{400, "invalid_scope", "Invalid scopes: openid offline_access"}},
			{name: "refresh asking for a scope of another client is 400 invalid_scope",
				req: func() *http.Request {
					rt = a.user1("openid").str("refresh_token")
					return refresh(&rt, "scope", "phone")()
				},
				want: want{400, "invalid_scope", "Invalid scopes: phone"}},
			// T23
			{name: "refresh after the user is disabled is 400 invalid_grant User disabled",
				req: func() *http.Request {
					victimRT = a.grant("ldap-app", appSecret, "victim", victimPW, "openid").str("refresh_token")
					a.db.UpdateUser(ctx, a.realm.ID, a.userID("victim"), func(u *user.User) error { u.Enabled = false; return nil })
					return refresh(&victimRT)()
				},
				want: want{400, "invalid_grant", "User disabled"}},
			{name: "refresh after the user is deleted is 400 invalid_grant",
				req: func() *http.Request {
					if err := a.db.DeleteUser(ctx, a.realm.ID, a.userID("victim")); err != nil {
						a.t.Fatal(err)
					}
					return refresh(&victimRT)()
				},
				want: want{400, "invalid_grant", "Session not active"}},
			{name: "refresh after an admin ended the session is 400 invalid_grant Session not active",
				req: fresh(&rt, "openid", func() {
					if _, err := a.db.DeleteUserSessions(ctx, a.realm.ID, a.userID("user1"), false); err != nil {
						a.t.Fatal(err)
					}
				}),
				want: want{400, "invalid_grant", "Session not active"}},
			{name: "refresh after the client's session was ended is 400 invalid_grant Session doesn't have required client",
				req: fresh(&rt, "openid", func() {
					payload, err := base64.RawURLEncoding.DecodeString(strings.Split(rt, ".")[1])
					if err != nil {
						a.t.Fatal(err)
					}
					var claims struct{ Sid string }
					if err := json.Unmarshal(payload, &claims); err != nil {
						a.t.Fatal(err)
					}
					if err := a.db.DeleteClientSession(ctx, claims.Sid, a.clientOf("ldap-app").ID); err != nil {
						a.t.Fatal(err)
					}
				}),
				want: want{400, "invalid_grant", "Session doesn't have required client"}},
			{name: "refresh after the realm's notBefore moved is 400 invalid_grant Stale token",
				req: fresh(&rt, "openid", func() {
					a.clock.Add(time.Second)
					a.updateRealm(func(r *realm.Realm) { r.NotBefore = a.clock.Now().Unix() })
				}),
				want: want{400, "invalid_grant", "Stale token"}},
			{name: "refresh after the client's notBefore moved is 400 invalid_grant Stale token",
				req: fresh(&rt, "openid", func() {
					a.clock.Add(time.Second)
					app := a.clientOf("ldap-app")
					a.db.UpdateClient(ctx, a.realm.ID, app.ID, func(c *client.Client) error { c.NotBefore = a.clock.Now().Unix(); return nil })
				}),
				want: want{400, "invalid_grant", "Stale token"}},
			{name: "refresh after the user's notBefore moved is 400 invalid_grant Stale token",
				req: fresh(&rt, "openid", func() {
					a.clock.Add(time.Second)
					a.db.UpdateUser(ctx, a.realm.ID, a.userID("user1"), func(u *user.User) error { u.NotBefore = a.clock.Now().Unix(); return nil })
				}),
				want: want{400, "invalid_grant", "Stale token"}},
			{name: "refresh after the SSO session idle timeout is 400 invalid_grant",
				req:  fresh(&rt, "openid", func() { a.clock.Add(61 * time.Second) }),
				want: want{400, "invalid_grant", ""}},
			{name: "refresh past the SSO session max lifespan is 400 invalid_grant Session not active",
				req: fresh(&rt, "openid", func() {
					a.updateRealm(func(r *realm.Realm) { r.SSOSessionMaxLifespan = 100 })
					for range 2 { // refreshing keeps the session from idling out (60 s)...
						a.clock.Add(40 * time.Second)
						rt = a.refreshApp(rt).str("refresh_token")
					}
					a.clock.Add(30 * time.Second) // ...but not past its 100 s max lifespan
				}),
				want: want{400, "invalid_grant", ""}},
			// T26
			{name: "access token presented as refresh_token is 400 invalid_grant",
				req:  func() *http.Request { rt = a.user1("openid").str("access_token"); return refresh(&rt)() },
				want: want{400, "invalid_grant", "Invalid refresh token"}},
			{name: "ID token presented as refresh_token is 400 invalid_grant",
				req:  func() *http.Request { rt = a.user1("openid").str("id_token"); return refresh(&rt)() },
				want: want{400, "invalid_grant", "Invalid refresh token"}},
			{name: "garbage refresh_token is 400 invalid_grant",
				req:  func() *http.Request { rt = "not.a.token"; return refresh(&rt)() },
				want: want{400, "invalid_grant", "Invalid refresh token"}},
			{name: "refresh token of another realm is 400 invalid_grant",
				req:  func() *http.Request { rt = r2.str("refresh_token"); return refresh(&rt)() },
				want: want{400, "invalid_grant", "Invalid refresh token"}},
			{name: "refresh token with another token's claims under its signature is 400 invalid_grant",
				req: func() *http.Request {
					rt = swapPayload(tok.str("refresh_token"), other.str("refresh_token"))
					return refresh(&rt)()
				},
				want: want{400, "invalid_grant", "Invalid refresh token"}},
		}
		// T25
		for name, forged := range forgedRT {
			cases = append(cases, attack{name: "refresh token with " + name + " is 400 invalid_grant",
				req:  func() *http.Request { rt = forged; return refresh(&rt)() },
				want: want{400, "invalid_grant", "Invalid refresh token"}})
		}
		a.table(t, cases)
	})
}

// --- T24: offline tokens -----------------------------------------------------

func TestAttackOfflineTokens(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		a := newAttackEnv(t, open)
		var offline, online reply
		a.table(t, []attack{
			{name: "logout of the online session is 204",
				req: func() *http.Request {
					online = a.user1("openid")
					offline = a.user1("openid offline_access")
					return a.formReq(logoutPath, url.Values{"refresh_token": {online.str("refresh_token")}}, "ldap-app", appSecret)
				},
				want: want{status: 204}, effect: endsSessions},
			{name: "after logout the online refresh token is 400 invalid_grant",
				req: func() *http.Request {
					return a.formReq(tokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {online.str("refresh_token")}}, "ldap-app", appSecret)
				},
				want: want{400, "invalid_grant", "Session not active"}},
			{name: "the offline token survives the logout of the online session",
				req: func() *http.Request {
					return a.formReq(tokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {offline.str("refresh_token")}}, "ldap-app", appSecret)
				},
				want: want{status: 200}},
			{name: "revoking the offline token is 200",
				req: func() *http.Request {
					return a.formReq(revokePath, url.Values{"token": {offline.str("refresh_token")}}, "ldap-app", appSecret)
				},
				want: want{status: 200}, effect: endsSessions},
			{name: "revoked offline token is 400 invalid_grant",
				req: func() *http.Request {
					return a.formReq(tokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {offline.str("refresh_token")}}, "ldap-app", appSecret)
				},
				want:  want{400, "invalid_grant", "Offline user session not found"},
				check: func(reply) { a.expectInactive(a.introspect(offline.str("refresh_token"))) }},
			{name: "offline token of another client is 400 invalid_grant",
				req: func() *http.Request {
					off := a.user1("openid offline_access").str("refresh_token")
					return a.formReq(tokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {off}}, "other-app", otherSecret)
				},
				want: want{400, "invalid_grant", "Invalid refresh token. Token client and authorized client don't match"}},
		})
	})
}

// --- T31: client_credentials tokens are revocable --------------------------

func TestAttackRevokedClientCredentials(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		a := newAttackEnv(t, open)
		var access string
		a.table(t, []attack{
			{name: "client_credentials token is accepted before revocation",
				req: func() *http.Request {
					access = a.form(tokenPath, url.Values{"grant_type": {"client_credentials"}}, "ldap-app", appSecret).str("access_token")
					return a.bearerReq("GET", access)
				},
				want: want{status: 200}},
			{name: "revoking the client_credentials token is 200",
				req: func() *http.Request {
					return a.formReq(revokePath, url.Values{"token": {access}}, "ldap-app", appSecret)
				},
				want: want{status: 200}},
			{name: "revoked client_credentials token is 401 at userinfo",
				req:  func() *http.Request { return a.bearerReq("GET", access) },
				want: want{401, "invalid_token", "Token verification failed"}},
			{name: "revoked client_credentials token is inactive at introspection",
				req: func() *http.Request {
					return a.formReq(introspectPath, url.Values{"token": {access}}, "ldap-app", appSecret)
				},
				want:  want{status: 200},
				check: a.expectInactive},
		})
	})
}

// --- U1–U7: userinfo --------------------------------------------------------

func TestAttackUserinfo(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		a := newAttackEnv(t, open)
		ctx := context.Background()
		bad := want{401, "invalid_token", "Token verification failed"}
		challenge := func(r reply) {
			h := r.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(h, `Bearer realm="ldap-demo"`) || !strings.Contains(h, `error="invalid_token"`) {
				a.t.Errorf("WWW-Authenticate %q, want a Bearer invalid_token challenge", h)
			}
		}
		bearer := func(tok *string) func() *http.Request {
			return func() *http.Request { return a.bearerReq("GET", *tok) }
		}
		tok := a.user1("openid")
		access := tok.str("access_token")
		rsaKid := jwtHeader(t, access)["kid"].(string)
		r2 := a.secondRealm()
		var cur string
		cases := []attack{
			{name: "no token is 401 with a bare Bearer challenge",
				req:  func() *http.Request { return a.rawReq("GET", userinfoPath, "", "") },
				want: want{401, "invalid_request", "Token not provided"},
				check: func(r reply) {
					if h := r.header.Get("WWW-Authenticate"); h != `Bearer realm="ldap-demo"` {
						a.t.Errorf("WWW-Authenticate %q, want exactly Bearer realm=\"ldap-demo\"", h)
					}
				}},
			{name: "Basic credentials instead of a bearer token are 401 with a bare Bearer challenge",
				req: func() *http.Request {
					return withAuth(a.rawReq("GET", userinfoPath, "", ""), basic("ldap-app", appSecret))
				},
				want: want{401, "invalid_request", "Token not provided"},
				check: func(r reply) {
					if h := r.header.Get("WWW-Authenticate"); h != `Bearer realm="ldap-demo"` {
						a.t.Errorf("WWW-Authenticate %q, want exactly Bearer realm=\"ldap-demo\"", h)
					}
				}},
			{name: "empty bearer is 401 with a bare Bearer challenge",
				req:  func() *http.Request { return withAuth(a.rawReq("GET", userinfoPath, "", ""), "Bearer ") },
				want: want{401, "invalid_request", "Token not provided"}},
			{name: "garbage token is 401 invalid_token", req: func() *http.Request { cur = "garbage"; return bearer(&cur)() }, want: bad, check: challenge},
			{name: "refresh token as bearer is 401 invalid_token", req: func() *http.Request { cur = tok.str("refresh_token"); return bearer(&cur)() }, want: bad, check: challenge},
			{name: "ID token as bearer is 401 invalid_token", req: func() *http.Request { cur = tok.str("id_token"); return bearer(&cur)() }, want: bad, check: challenge},
			{name: "token of another realm is 401 invalid_token", req: func() *http.Request { cur = r2.str("access_token"); return bearer(&cur)() }, want: bad, check: challenge},
			{name: "token with another token's claims under its signature is 401 invalid_token",
				req:  func() *http.Request { cur = swapPayload(access, r2.str("access_token")); return bearer(&cur)() },
				want: bad, check: challenge},
			{name: "token in the header and the body is 400 invalid_request",
				req: func() *http.Request {
					req := a.formReq(userinfoPath, url.Values{"access_token": {access}}, "", "")
					req.Header.Set("Authorization", "Bearer "+access)
					return req
				},
				want: want{status: 400, err: "invalid_request"}},
			{name: "token twice in the body is 400 invalid_request",
				req: func() *http.Request {
					a.remember(access)
					return a.rawReq("POST", userinfoPath, "application/x-www-form-urlencoded", "access_token="+access+"&access_token="+access)
				},
				want: want{status: 400, err: "invalid_request"}},
			{name: "token in the body of a POST is accepted",
				req:  func() *http.Request { return a.formReq(userinfoPath, url.Values{"access_token": {access}}, "", "") },
				want: want{status: 200}},
			// U2
			{name: "revoked access token is 401 invalid_token",
				req: func() *http.Request {
					cur = a.user1("openid").str("access_token")
					a.revoke(cur)
					return bearer(&cur)()
				},
				want: bad, check: challenge},
			// U6
			{name: "token of a logged-out session is 401 invalid_token",
				req: func() *http.Request {
					r := a.user1("openid")
					cur = r.str("access_token")
					a.form(logoutPath, url.Values{"refresh_token": {r.str("refresh_token")}}, "ldap-app", appSecret)
					return bearer(&cur)()
				},
				want: bad, check: challenge},
			{name: "token of a disabled user is 401 invalid_token",
				req: func() *http.Request {
					cur = a.grant("ldap-app", appSecret, "victim", victimPW, "openid").str("access_token")
					a.db.UpdateUser(ctx, a.realm.ID, a.userID("victim"), func(u *user.User) error { u.Enabled = false; return nil })
					return bearer(&cur)()
				},
				want: bad, check: challenge},
			{name: "token of a deleted user is 401 invalid_token",
				req: func() *http.Request {
					a.db.DeleteUser(ctx, a.realm.ID, a.userID("victim"))
					return bearer(&cur)()
				},
				want: bad, check: challenge},
			// U7
			{name: "token of a disabled client is 401 invalid_token",
				req: func() *http.Request {
					cur = a.grant("doomed-app", doomedSecret, "user1", user1PW, "openid").str("access_token")
					c := a.clientOf("doomed-app")
					a.db.UpdateClient(ctx, a.realm.ID, c.ID, func(c *client.Client) error { c.Enabled = false; return nil })
					return bearer(&cur)()
				},
				want: bad, check: challenge},
			{name: "token of a deleted client is 401 invalid_token",
				req: func() *http.Request {
					a.db.DeleteClient(ctx, a.realm.ID, a.clientOf("doomed-app").ID)
					return bearer(&cur)()
				},
				want: bad, check: challenge},
			{name: "token issued before the realm's notBefore is 401 invalid_token",
				req: func() *http.Request {
					cur = a.user1("openid").str("access_token")
					a.clock.Add(time.Second)
					a.updateRealm(func(r *realm.Realm) { r.NotBefore = a.clock.Now().Unix() })
					return bearer(&cur)()
				},
				want: bad, check: challenge},
			{name: "expired access token is 401 invalid_token",
				req: func() *http.Request {
					a.clock.Add(2 * time.Second)
					cur = a.user1("openid").str("access_token")
					a.clock.Add(61 * time.Second)
					return bearer(&cur)()
				},
				want: bad, check: challenge},
		}
		for name, forged := range a.forged(access, rsaKid) {
			cases = append(cases, attack{name: "access token with " + name + " is 401 invalid_token",
				req: func() *http.Request { cur = forged; return bearer(&cur)() }, want: bad, check: challenge})
		}
		a.table(t, cases)
	})
}

// --- I1–I4: introspection ---------------------------------------------------

func TestAttackIntrospection(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		a := newAttackEnv(t, open)
		a.rotation(true, 0)
		tok := a.user1("openid")
		access := tok.str("access_token")
		r2 := a.secondRealm()
		in := func(token *string) func() *http.Request {
			return func() *http.Request {
				return a.formReq(introspectPath, url.Values{"token": {*token}}, "ldap-app", appSecret)
			}
		}
		var cur string
		inactive := func(name string, setup func()) attack {
			return attack{name: name, req: func() *http.Request { setup(); return in(&cur)() }, want: want{status: 200},
				check: a.expectInactive}
		}
		a.table(t, []attack{
			// I1
			{name: "no client authentication is 401 invalid_client",
				req:  func() *http.Request { return a.formReq(introspectPath, url.Values{"token": {access}}, "", "") },
				want: want{401, "invalid_client", ""}},
			{name: "wrong client secret is 401 invalid_client",
				req: func() *http.Request {
					return a.formReq(introspectPath, url.Values{"token": {access}}, "ldap-app", "wrong")
				},
				want: want{401, "invalid_client", "Invalid client or Invalid client credentials"}},
			// I4
			// Regression (issue 13): answered 401; Keycloak's introspection
			// endpoint refuses an authenticated public client with 403.
			{name: "public client is refused with 403 invalid_request",
				req: func() *http.Request {
					return a.formReq(introspectPath, url.Values{"token": {access}, "client_id": {"pub-app"}}, "", "")
				},
				want: want{403, "invalid_request", "Client not allowed."}},
			{name: "public client sending a made-up secret is 401 invalid_client",
				req: func() *http.Request {
					return a.formReq(introspectPath, url.Values{"token": {access}}, "pub-app", "made-up")
				},
				want: want{401, "invalid_client", "Invalid client or Invalid client credentials"}},
			{name: "missing token is 400 invalid_request",
				req:  func() *http.Request { return a.formReq(introspectPath, url.Values{}, "ldap-app", appSecret) },
				want: want{400, "invalid_request", "Token not provided."}},
			{name: "unknown token_type_hint is 400 invalid_request",
				req: func() *http.Request {
					return a.formReq(introspectPath, url.Values{"token": {access}, "token_type_hint": {"foo"}}, "ldap-app", appSecret)
				},
				want: want{400, "invalid_request", "Unsupported token type [foo]."}},
			{name: "live token is active", req: in(&access), want: want{status: 200},
				check: func(r reply) {
					if r.body["active"] != true || r.str("username") != "user1" {
						a.t.Errorf("live token: %s", r.short())
					}
				}},
			// I2
			inactive("garbage token is {\"active\":false} only", func() { cur = "garbage" }),
			inactive("well-formed unsigned JWT is {\"active\":false} only", func() {
				cur = withHeader(map[string]any{"alg": "none"}, access, nil, nil)
			}),
			inactive("token of another realm is {\"active\":false} only", func() { cur = r2.str("access_token") }),
			inactive("revoked access token is {\"active\":false} only", func() {
				cur = a.user1("openid").str("access_token")
				a.revoke(cur)
			}),
			inactive("expired access token is {\"active\":false} only", func() {
				cur = a.user1("openid").str("access_token")
				a.clock.Add(61 * time.Second)
			}),
			// I3
			inactive("refresh token of a family killed by reuse is {\"active\":false} only", func() {
				rt0 := a.user1("openid").str("refresh_token")
				cur = a.refreshApp(rt0).str("refresh_token")
				a.refreshApp(rt0)
			}),
			inactive("original refresh token of a family killed by reuse is {\"active\":false} only", func() {
				cur = a.user1("openid").str("refresh_token")
				a.refreshApp(cur)
				a.refreshApp(cur)
			}),
		})
	})
}

// --- R1–R4, R6: revocation --------------------------------------------------

func TestAttackRevocation(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		a := newAttackEnv(t, open)
		rv := func(tok *string, extra ...string) func() *http.Request {
			return func() *http.Request {
				f := url.Values{"token": {*tok}}
				for i := 0; i+1 < len(extra); i += 2 {
					f.Set(extra[i], extra[i+1])
				}
				return a.formReq(revokePath, f, "ldap-app", appSecret)
			}
		}
		emptyBody := func(r reply) {
			if len(r.raw) != 0 {
				a.t.Errorf("body %q, want none", r.raw)
			}
		}
		var cur string
		var tok reply
		a.table(t, []attack{
			// R1
			{name: "garbage token with the right client is 200 with no body",
				req: func() *http.Request { cur = "garbage"; return rv(&cur)() }, want: want{status: 200}, check: emptyBody},
			{name: "unsigned JWT with the right client is 200 with no body",
				req: func() *http.Request {
					cur = withHeader(map[string]any{"alg": "none"}, a.user1("openid").str("refresh_token"), nil, nil)
					return rv(&cur)()
				},
				want: want{status: 200}, check: emptyBody},
			{name: "missing token is 400 invalid_request",
				req:  func() *http.Request { return a.formReq(revokePath, url.Values{}, "ldap-app", appSecret) },
				want: want{400, "invalid_request", "Token not provided"}},
			{name: "wrong client secret is 401 invalid_client",
				req: func() *http.Request {
					cur = a.user1("openid").str("refresh_token")
					return a.formReq(revokePath, url.Values{"token": {cur}}, "ldap-app", "wrong")
				},
				want: want{401, "invalid_client", "Invalid client or Invalid client credentials"},
				check: func(reply) {
					if r := a.introspect(cur); r.body["active"] != true {
						a.t.Errorf("token revoked by a failed request: %s", r.short())
					}
				}},
			// R2
			{name: "refresh token of another client is 400 invalid_request and stays active",
				req: func() *http.Request {
					cur = a.user1("openid").str("refresh_token")
					return a.formReq(revokePath, url.Values{"token": {cur}}, "other-app", otherSecret)
				},
				want: want{400, "invalid_request", "Unmatching clients"},
				check: func(reply) {
					if r := a.introspect(cur); r.body["active"] != true {
						a.t.Errorf("token revoked by another client: %s", r.short())
					}
				}},
			{name: "access token of another client is 400 invalid_request and stays active",
				req: func() *http.Request {
					cur = a.user1("openid").str("access_token")
					return a.formReq(revokePath, url.Values{"token": {cur}}, "other-app", otherSecret)
				},
				want: want{400, "invalid_request", "Unmatching clients"},
				check: func(reply) {
					if r := a.userinfo(cur); r.status != 200 {
						a.t.Errorf("access token revoked by another client: %d", r.status)
					}
				}},
			// R6
			{name: "unknown token_type_hint is 400 unsupported_token_type",
				req: func() *http.Request {
					cur = a.user1("openid").str("refresh_token")
					return rv(&cur, "token_type_hint", "foo")()
				},
				want: want{400, "unsupported_token_type", ""}},
			// R3
			{name: "token_type_hint=access_token on a refresh token still revokes it",
				req: func() *http.Request {
					tok = a.user1("openid")
					cur = tok.str("refresh_token")
					return rv(&cur, "token_type_hint", "access_token")()
				},
				want: want{status: 200}, effect: endsSessions,
				check: func(reply) {
					a.expect(a.refreshApp(cur), want{400, "invalid_grant", ""})
					// R4: the sibling access token dies with its refresh token.
					a.expectInactive(a.introspect(tok.str("access_token")))
					if r := a.userinfo(tok.str("access_token")); r.status != 401 {
						a.t.Errorf("sibling access token at userinfo: %d", r.status)
					}
				}},
			{name: "token_type_hint=refresh_token on an access token still revokes it",
				req: func() *http.Request {
					cur = a.user1("openid").str("access_token")
					return rv(&cur, "token_type_hint", "refresh_token")()
				},
				want:  want{status: 200},
				check: func(reply) { a.expectInactive(a.introspect(cur)) }},
			{name: "revoking twice is 200",
				req: func() *http.Request {
					cur = a.user1("openid").str("refresh_token")
					a.revoke(cur)
					return rv(&cur)()
				},
				want: want{status: 200}, check: emptyBody},
		})
	})
}

// --- O4 and the logout endpoint --------------------------------------------

func TestAttackLogout(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		a := newAttackEnv(t, open)
		lo := func(rt *string, u, p string) func() *http.Request {
			return func() *http.Request { return a.formReq(logoutPath, url.Values{"refresh_token": {*rt}}, u, p) }
		}
		var tok reply
		var cur string
		a.table(t, []attack{
			{name: "logout without refresh_token is 400 invalid_request",
				req:  func() *http.Request { return a.formReq(logoutPath, url.Values{}, "ldap-app", appSecret) },
				want: want{400, "invalid_request", "No refresh token"}},
			{name: "logout with a wrong client secret is 401 invalid_client",
				req: func() *http.Request {
					cur = a.user1("openid").str("refresh_token")
					return lo(&cur, "ldap-app", "wrong")()
				},
				want: want{401, "invalid_client", "Invalid client or Invalid client credentials"}},
			{name: "logout with another client's refresh token is 400 invalid_grant and ends nothing",
				req: func() *http.Request {
					cur = a.user1("openid").str("refresh_token")
					return lo(&cur, "other-app", otherSecret)()
				},
				want: want{400, "invalid_grant", "Invalid refresh token"},
				check: func(reply) {
					if r := a.refreshApp(cur); r.status != 200 {
						a.t.Errorf("session ended by another client's logout: %d %s", r.status, r.short())
					}
				}},
			{name: "logout with a garbage token is 400 invalid_grant",
				req: func() *http.Request { cur = "garbage"; return lo(&cur, "ldap-app", appSecret)() }, want: want{400, "invalid_grant", "Invalid refresh token"}},
			{name: "logout with an access token is 400 invalid_grant",
				req: func() *http.Request {
					cur = a.user1("openid").str("access_token")
					return lo(&cur, "ldap-app", appSecret)()
				},
				want: want{400, "invalid_grant", "Invalid refresh token"}},
			{name: "logout with a flipped signature is 400 invalid_grant",
				req: func() *http.Request {
					cur = flipSig(a.user1("openid").str("refresh_token"))
					return lo(&cur, "ldap-app", appSecret)()
				},
				want: want{400, "invalid_grant", "Invalid refresh token"}},
			{name: "logout with a JSON body is 400 invalid_request",
				req: func() *http.Request {
					cur = a.user1("openid").str("refresh_token")
					return withAuth(a.rawReq("POST", logoutPath, "application/json", `{"refresh_token":"`+cur+`"}`), basic("ldap-app", appSecret))
				},
				want: want{400, "invalid_request", ""}},
			// O4
			{name: "logout is 204",
				req: func() *http.Request {
					tok = a.user1("openid")
					cur = tok.str("refresh_token")
					return lo(&cur, "ldap-app", appSecret)()
				},
				want: want{status: 204}, effect: endsSessions},
			{name: "after logout the refresh token is 400 invalid_grant",
				req: func() *http.Request {
					return a.formReq(tokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {cur}}, "ldap-app", appSecret)
				},
				want: want{400, "invalid_grant", "Session not active"}},
			{name: "after logout the access token is 401 at userinfo",
				req:  func() *http.Request { return a.bearerReq("GET", tok.str("access_token")) },
				want: want{401, "invalid_token", "Token verification failed"}},
			{name: "after logout the access token is inactive at introspection",
				req: func() *http.Request {
					return a.formReq(introspectPath, url.Values{"token": {tok.str("access_token")}}, "ldap-app", appSecret)
				},
				want: want{status: 200}, check: a.expectInactive},
			{name: "logout twice is 400 invalid_grant",
				req:  lo(&cur, "ldap-app", appSecret),
				want: want{400, "invalid_grant", "Session not active"}},
			{name: "GET logout with a refresh token in the query is 405",
				req: func() *http.Request {
					cur = a.user1("openid").str("refresh_token")
					return withAuth(a.rawReq("GET", logoutPath+"?refresh_token="+cur, "", ""), basic("ldap-app", appSecret))
				},
				want: want{status: 405}},
		})
	})
}

// --- F2: concurrent refresh, one token, 50 requests -------------------------

// raceRefresh sends 50 concurrent refreshes of one refresh token, spread
// over urls, and checks that exactly one wins and that the winner's new
// token dies with the family.
func raceRefresh(t *testing.T, a *attackEnv, urls []string) {
	t.Helper()
	const n = 50
	rt := a.user1("openid").str("refresh_token")
	before := a.count()
	type result struct {
		status int
		body   map[string]any
		err    error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
			req, _ := http.NewRequest("POST", urls[i%len(urls)]+"/realms/ldap-demo"+tokenPath, strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("ldap-app", appSecret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				results[i].err = err
				return
			}
			defer resp.Body.Close()
			results[i].status = resp.StatusCode
			json.NewDecoder(resp.Body).Decode(&results[i].body)
		}()
	}
	close(start)
	wg.Wait()
	var winners []string
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("request %d: %v", i, r.err)
		case r.status == 200:
			s, _ := r.body["refresh_token"].(string)
			at, _ := r.body["access_token"].(string)
			id, _ := r.body["id_token"].(string)
			a.remember(s, at, id)
			winners = append(winners, s)
		case r.status != 400 || r.body["error"] != "invalid_grant":
			t.Errorf("request %d: %d %v, want 400 invalid_grant", i, r.status, r.body)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d of %d concurrent refreshes of one token succeeded, want exactly 1", len(winners), n)
	}
	if after := a.count(); after.userSessions != before.userSessions || after.clientSessions > before.clientSessions {
		t.Errorf("session rows %+v → %+v: the race created rows", before, after)
	}
	for _, u := range urls { // the family is dead on every node
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {winners[0]}}
		req, _ := http.NewRequest("POST", u+"/realms/ldap-demo"+tokenPath, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("ldap-app", appSecret)
		r := a.do(req)
		a.expect(r, want{400, "invalid_grant", ""})
	}
}

func TestAttackConcurrentRefreshSQLite(t *testing.T) {
	a := newAttackEnv(t, storetest.Open)
	a.rotation(true, 0)
	for i := range 3 {
		a.run(t, fmt.Sprintf("trial %d: 50 refreshes of one token on one node give exactly one 200", i), func() {
			raceRefresh(a.t, a, []string{a.srv.URL})
		})
	}
}

func TestAttackConcurrentRefreshTwoPostgresNodes(t *testing.T) {
	dsn := storetest.PostgresURL(t)
	ctx := context.Background()
	openNode := func(tb testing.TB) *store.DB {
		db, err := store.Open(ctx, store.Postgres, dsn)
		if err != nil {
			tb.Fatalf("open postgres: %v", err)
		}
		tb.Cleanup(func() { db.Close() })
		return db
	}
	a := newAttackEnv(t, openNode)
	node2 := a.serve(openNode(t)) // a second store.Open on the same schema, its own Handler and server
	a.rotation(true, 0)
	for i := range 3 {
		a.run(t, fmt.Sprintf("trial %d: 50 refreshes of one token over two nodes give exactly one 200", i), func() {
			raceRefresh(a.t, a, []string{a.srv.URL, node2.URL})
		})
	}
}
