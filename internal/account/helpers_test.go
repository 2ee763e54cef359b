package account_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Story 1's realm and its people (internal/rep/testdata/ldap-demo-realm.json).
const (
	realmName = "ldap-demo"
	user1ID   = "a1a1a1a1-5555-4d4d-8e8e-000000000001"
	user2ID   = "a1a1a1a1-5555-4d4d-8e8e-000000000002"
)

// syncBuffer is a log sink the server's goroutines may share.
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

// env is the whole Gatehouse over real HTTP and a real SQLite store, with
// the ldap-demo realm imported: user1 / "password" holds the default roles
// (the account client's view-profile and manage-account) and
// offline_access; User2 gets the password "password2".
type env struct {
	t     *testing.T
	db    *store.DB
	srv   *httptest.Server
	realm realm.Realm
	logs  *syncBuffer
}

func newEnv(t *testing.T) *env { t.Helper(); return newEnvOn(t, storetest.Open) }

// newEnvOn is newEnv on the store open returns (storetest.Both's).
func newEnvOn(t *testing.T, open func(testing.TB) *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	db := open(t)
	now := time.Now()
	if _, err := provision.Master(ctx, db, "admin", "admin-pw", now); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../rep/testdata/ldap-demo-realm.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rep.ImportFile(ctx, db, data, rep.ImportOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	rl, err := db.GetRealmByName(ctx, realmName)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv := httptest.NewServer(server.New(server.Options{Store: db,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}))
	t.Cleanup(srv.Close)
	e := &env{t: t, db: db, srv: srv, realm: rl, logs: logs}
	e.setPassword(user2ID, "password2")
	return e
}

func (e *env) url(path string) string { return e.srv.URL + "/realms/" + realmName + path }

// setPassword gives a user a new password.
func (e *env) setPassword(userID, password string) {
	e.t.Helper()
	c, err := user.NewPasswordCredential(store.NewID(), userID, password, time.Now().UnixMilli(), user.HashPolicy{})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.ReplacePassword(context.Background(), c); err != nil {
		e.t.Fatal(err)
	}
}

// updateRealm edits the realm and reloads it.
func (e *env) updateRealm(edit func(*realm.Realm)) {
	e.t.Helper()
	ctx := context.Background()
	if err := e.db.UpdateRealm(ctx, e.realm.ID, func(r *realm.Realm) error { edit(r); return nil }); err != nil {
		e.t.Fatal(err)
	}
	e.realm, _ = e.db.GetRealm(ctx, e.realm.ID)
}

// updateClient edits a client of the realm.
func (e *env) updateClient(clientID string, edit func(*client.Client)) {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.db.GetClientByClientID(ctx, e.realm.ID, clientID)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.UpdateClient(ctx, e.realm.ID, c.ID, func(x *client.Client) error { edit(x); return nil }); err != nil {
		e.t.Fatal(err)
	}
}

// tokenRequest posts to the token endpoint and decodes the answer.
func (e *env) tokenRequest(form url.Values, basicUser, basicPass string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.url("/protocol/openid-connect/token"), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// login runs story 1's password grant for ldap-app and returns the tokens.
func (e *env) login(username, password, scope string) map[string]any {
	e.t.Helper()
	st, m := e.tokenRequest(url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}, "scope": {scope}},
		"ldap-app", "password")
	if st != 200 {
		e.t.Fatalf("password grant for %s: %d %v", username, st, m)
	}
	return m
}

// publicLogin runs the password grant for a public client.
func (e *env) publicLogin(clientID, username, password string) map[string]any {
	e.t.Helper()
	st, m := e.tokenRequest(url.Values{"grant_type": {"password"}, "client_id": {clientID}, "username": {username}, "password": {password}}, "", "")
	if st != 200 {
		e.t.Fatalf("password grant of %s for %s: %d %v", clientID, username, st, m)
	}
	return m
}

// refresh uses a refresh token of ldap-app and returns the status.
func (e *env) refresh(rt string) (int, map[string]any) {
	e.t.Helper()
	return e.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "ldap-app", "password")
}

// call sends an account API request; body is marshalled unless it is a
// string. hdr adds headers as name, value pairs.
func (e *env) call(method, path, token string, body any, hdr ...string) (int, http.Header, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.url(path), rd)
	req.Header.Set("Accept", "application/json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		e.t.Errorf("%s %s: server error %d: %s\n%s", method, path, resp.StatusCode, b, e.logs)
	}
	return resp.StatusCode, resp.Header, b
}

// get decodes a 200 answer into v.
func (e *env) get(path, token string, v any) {
	e.t.Helper()
	st, _, b := e.call("GET", path, token, nil)
	if st != 200 {
		e.t.Fatalf("GET %s: %d %s", path, st, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		e.t.Fatalf("GET %s: %v: %s", path, err, b)
	}
}

func (e *env) user(id string) user.User {
	e.t.Helper()
	u, err := e.db.GetUser(context.Background(), e.realm.ID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// newUser creates a user of the realm with a password and the given
// account client roles (none: not even the default roles).
func (e *env) newUser(username string, accountRoles ...string) user.User {
	e.t.Helper()
	ctx := context.Background()
	u := user.User{ID: store.NewID(), RealmID: e.realm.ID, Username: username, Email: username + "@example.com",
		FirstName: "New", LastName: "Person", Enabled: true, CreatedTimestamp: time.Now().UnixMilli()}
	if err := e.db.CreateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	e.setPassword(u.ID, "pw-"+username)
	acc, err := e.db.GetClientByClientID(ctx, e.realm.ID, "account")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, name := range accountRoles {
		ro, err := e.db.GetClientRole(ctx, e.realm.ID, acc.ID, name)
		if err != nil {
			e.t.Fatalf("role %s: %v", name, err)
		}
		if err := e.db.AddUserRoles(ctx, u.ID, ro.ID); err != nil {
			e.t.Fatal(err)
		}
	}
	return u
}

// browser is a cookie-keeping HTTP client that does not follow redirects,
// so tests see each step of the console's login.
type browser struct {
	e      *env
	client *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// do sends a browser request: Accept text/html, and for a POST the form
// with the console's own Origin.
func (b *browser) do(method, target string, form url.Values, hdr ...string) (*http.Response, string) {
	b.e.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.e.srv.URL + target
	}
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, target, rd)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.58 Safari/537.36")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.e.srv.URL)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		b.e.t.Errorf("%s %s: server error %d: %s\n%s", method, target, resp.StatusCode, body, b.e.logs)
	}
	return resp, string(body)
}

var (
	formAction = regexp.MustCompile(`<form id="kc-form-login"[^>]* action="([^"]+)"`)
	csrfField  = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
)

// signIn opens the console, follows it to the realm's login page, signs in
// and comes back, and returns the console page's CSRF token.
func (b *browser) signIn(username, password string) string {
	b.e.t.Helper()
	resp, _ := b.do("GET", "/realms/"+realmName+"/account/", nil)
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/protocol/openid-connect/auth?") {
		b.e.t.Fatalf("console without a session: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := b.do("GET", resp.Header.Get("Location"), nil)
	m := formAction.FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		b.e.t.Fatalf("login page: %d\n%s", resp.StatusCode, page)
	}
	csrf := csrfField.FindStringSubmatch(page)
	resp, page = b.do("POST", html.UnescapeString(m[1]), url.Values{"username": {username}, "password": {password}, "csrf_token": {csrf[1]}})
	if resp.StatusCode != http.StatusFound {
		b.e.t.Fatalf("login: %d\n%s", resp.StatusCode, page)
	}
	back := resp.Header.Get("Location")
	if !strings.HasPrefix(back, b.e.url("/account/?")) || !strings.Contains(back, "code=") {
		b.e.t.Fatalf("login went back to %q", back)
	}
	resp, _ = b.do("GET", back, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/realms/"+realmName+"/account/" {
		b.e.t.Fatalf("console after login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return b.csrf("/realms/" + realmName + "/account/")
}

// csrf loads a console page and returns its CSRF token.
func (b *browser) csrf(path string) string {
	b.e.t.Helper()
	resp, page := b.do("GET", path, nil)
	m := csrfField.FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		b.e.t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, page)
	}
	return m[1]
}

// post sends a console form with the CSRF token and returns the answer.
func (b *browser) post(path, csrf string, form url.Values, hdr ...string) (*http.Response, string) {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if csrf != "" {
		form.Set("csrf_token", csrf)
	}
	return b.do("POST", "/realms/"+realmName+"/account/console/"+path, form, hdr...)
}
