package login_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/login"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// clock is the test's movable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is the whole server over real HTTP and a SQLite store, with a realm
// "demo" holding the users and clients the tests share.
type env struct {
	t     *testing.T
	db    *store.DB
	srv   *httptest.Server
	clock *clock
	realm realm.Realm
	logs  *syncWriter
	base  string // the server's URL with the relative path
}

const (
	alicePassword = "alice-secret-pw"
	appSecret     = "app-secret"
)

func newEnv(t *testing.T, edit ...func(*realm.Realm)) *env {
	t.Helper()
	return newEnvURLs(t, web.URLs{}, edit...)
}

// newEnvURLs is newEnv with the server's public URL settings.
func newEnvURLs(t *testing.T, urls web.URLs, edit ...func(*realm.Realm)) *env {
	t.Helper()
	return newEnvOn(t, storetest.Open, urls, edit...)
}

// newEnvOn is newEnvURLs over the store open returns (storetest.Both).
func newEnvOn(t *testing.T, open func(testing.TB) *store.DB, urls web.URLs, edit ...func(*realm.Realm)) *env {
	t.Helper()
	return newEnvServer(t, open, urls, nil, edit...)
}

// newEnvServer is newEnvOn with the server's options edited by opts.
func newEnvServer(t *testing.T, open func(testing.TB) *store.DB, urls web.URLs, opts func(*server.Options), edit ...func(*realm.Realm)) *env {
	t.Helper()
	ctx := context.Background()
	db := open(t)
	ck := &clock{t: time.Now().Truncate(time.Second)}
	if _, err := provision.Master(ctx, db, "admin", "admin-pw", ck.Now()); err != nil {
		t.Fatal(err)
	}
	rl := realm.New(store.NewID(), "demo")
	rl.DisplayName = "Demo Realm"
	rl.RememberMe = true
	for _, f := range edit {
		f(&rl)
	}
	if err := provision.NewRealm(ctx, db, rl, ck.Now()); err != nil {
		t.Fatal(err)
	}
	rl, _ = db.GetRealm(ctx, rl.ID)
	logs := &syncWriter{}
	so := server.Options{Store: db, Now: ck.Now, URLs: urls,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if opts != nil {
		opts(&so)
	}
	h := server.New(so)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, db: db, srv: srv, clock: ck, realm: rl, logs: logs, base: srv.URL + urls.RelativePath}
	e.addClient("app", func(c *client.Client) {
		c.Secret = appSecret
		c.RedirectURIs = []string{"https://app.example/cb", "https://app.example/wild/*"}
		c.Attributes["post.logout.redirect.uris"] = "https://app.example/bye"
	})
	e.addClient("app2", func(c *client.Client) {
		c.PublicClient = true
		c.RedirectURIs = []string{"https://app2.example/cb"}
		c.Attributes["post.logout.redirect.uris"] = "+"
	})
	e.addUser("alice", alicePassword, nil)
	return e
}

// syncWriter collects the server's log; requests still finishing may write
// while the test reads.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(b)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func (e *env) addClient(clientID string, edit func(*client.Client)) client.Client {
	e.t.Helper()
	c := client.New(store.NewID(), e.realm.ID, clientID)
	if edit != nil {
		edit(&c)
	}
	if err := provision.CreateClient(context.Background(), e.db, c, e.clock.Now()); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) client(clientID string) client.Client {
	e.t.Helper()
	c, err := e.db.GetClientByClientID(context.Background(), e.realm.ID, clientID)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) addUser(username, password string, edit func(*user.User)) user.User {
	e.t.Helper()
	ctx := context.Background()
	u := user.User{ID: store.NewID(), RealmID: e.realm.ID, Username: username, Email: username + "@example.com",
		FirstName: strings.ToUpper(username[:1]) + username[1:], Enabled: true, CreatedTimestamp: e.clock.Now().UnixMilli()}
	if edit != nil {
		edit(&u)
	}
	if err := e.db.CreateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	cred, err := user.NewPasswordCredential(store.NewID(), u.ID, password, e.clock.Now().UnixMilli(), user.HashPolicy{})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.CreateCredential(ctx, cred); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) user(username string) user.User {
	e.t.Helper()
	u, err := e.db.GetUserByUsername(context.Background(), e.realm.ID, username)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) url(path string) string { return e.base + "/realms/demo" + path }

func (e *env) issuer() string { return e.base + "/realms/demo" }

// sessions returns a user's online sessions.
func (e *env) sessions(username string) []session.UserSession {
	e.t.Helper()
	ss, err := e.db.ListUserSessions(context.Background(), e.realm.ID, e.user(username).ID, false)
	if err != nil {
		e.t.Fatal(err)
	}
	return ss
}

// authURL is an authorization request URL.
func (e *env) authURL(params map[string]string) string {
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	return e.url("/protocol/openid-connect/auth") + "?" + q.Encode()
}

// codeRequest is the usual authorization request of client app, with
// overrides.
func (e *env) codeRequest(over map[string]string) string {
	p := map[string]string{"client_id": "app", "redirect_uri": "https://app.example/cb", "response_type": "code",
		"scope": "openid profile", "state": "st-123", "nonce": "n-456"}
	for k, v := range over {
		if v == "" {
			delete(p, k)
			continue
		}
		p[k] = v
	}
	return e.authURL(p)
}

// browser is a cookie-keeping HTTP client that does not follow redirects,
// so each step's answer can be inspected.
type browser struct {
	t   *testing.T
	jar *cookiejar.Jar
	c   *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, jar: jar, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type response struct {
	status int
	header http.Header
	body   string
	url    string
}

func (r response) location(t *testing.T) *url.URL {
	t.Helper()
	loc := r.header.Get("Location")
	if loc == "" {
		t.Fatalf("no redirect: %d %s", r.status, r.body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(body), url: req.URL.String()}
}

func (b *browser) get(u string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) cookie(e *env, name string) string {
	u, _ := url.Parse(e.url("/"))
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

var (
	formAction  = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// form reads a page's form: where it posts (absolute) and its hidden fields.
func (e *env) form(r response) (string, url.Values) {
	e.t.Helper()
	m := formAction.FindStringSubmatch(r.body)
	if m == nil {
		e.t.Fatalf("no form in page (%d): %s", r.status, r.body)
	}
	action := html.UnescapeString(m[1])
	if strings.HasPrefix(action, "/") {
		action = e.srv.URL + action
	}
	fields := url.Values{}
	for _, h := range hiddenInput.FindAllStringSubmatch(r.body, -1) {
		fields.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return action, fields
}

// login submits the login form of page with a username and password.
func (e *env) login(b *browser, page response, username, password string) response {
	e.t.Helper()
	action, fields := e.form(page)
	fields.Set("username", username)
	fields.Set("password", password)
	return b.post(action, fields)
}

// codeData redeems the code in a redirect through the store and returns
// what the login recorded for the token endpoint.
func (e *env) codeData(code string) (store.AuthCode, login.CodeData) {
	e.t.Helper()
	ac, fresh, err := e.db.RedeemAuthCode(context.Background(), e.realm.ID, code, e.clock.Now().Unix())
	if err != nil || !fresh {
		e.t.Fatalf("redeem code: fresh=%v err=%v", fresh, err)
	}
	var d login.CodeData
	if err := json.Unmarshal([]byte(ac.Data), &d); err != nil {
		e.t.Fatal(err)
	}
	return ac, d
}

// idToken signs an ID token as the token endpoint would for session sid.
func (e *env) idToken(clientID, sub, sid string) string {
	e.t.Helper()
	ks, err := e.db.ListKeys(context.Background(), e.realm.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	k, ok := keys.Active(ks, e.realm.DefaultSignatureAlgorithm)
	if !ok {
		e.t.Fatal("no signing key")
	}
	now := e.clock.Now().Unix()
	jwt, err := token.Sign(map[string]any{"iss": e.issuer(), "sub": sub, "aud": clientID, "azp": clientID,
		"typ": "ID", "sid": sid, "iat": now, "exp": now + 300, "jti": token.NewJTI()}, k)
	if err != nil {
		e.t.Fatal(err)
	}
	return jwt
}

// identityToken signs a KEYCLOAK_IDENTITY value for session sid.
func (e *env) identityToken(sub, sid string) string {
	e.t.Helper()
	ks, err := e.db.ListKeys(context.Background(), e.realm.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	k, ok := keys.Active(ks, keys.HS512)
	if !ok {
		e.t.Fatal("no HMAC key")
	}
	now := e.clock.Now().Unix()
	jwt, err := token.Sign(map[string]any{"iss": e.issuer(), "sub": sub, "typ": "Serialized-ID", "sid": sid,
		"iat": now, "exp": now + 3600, "jti": token.NewJTI()}, k)
	if err != nil {
		e.t.Fatal(err)
	}
	return jwt
}

func sessionHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// s256 is the PKCE S256 challenge of a verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// setCookies returns the response's cookies by name.
func setCookies(r response) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		out[c.Name] = c
	}
	return out
}

type realmUser = user.User

const cookieAuthSession = "AUTH_SESSION_ID"
