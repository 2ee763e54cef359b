package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// env is the whole server over HTTP with the bootstrap admin "admin" /
// "admin-pw" in master and a realm "demo".
type env struct {
	t     *testing.T
	clock *clock
	db    *store.DB
	srv   *httptest.Server
	demo  realm.Realm
}

func newEnv(t *testing.T) *env { t.Helper(); return newEnvURLs(t, web.URLs{}) }

func newEnvURLs(t *testing.T, urls web.URLs) *env {
	t.Helper()
	return newEnvOn(t, urls, storetest.Open)
}

// newEnvOn is newEnvURLs over the store open makes (see storetest.Both).
func newEnvOn(t *testing.T, urls web.URLs, open func(testing.TB) *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	db := open(t)
	now := time.Now()
	if _, err := provision.Master(ctx, db, "admin", "admin-pw", now); err != nil {
		t.Fatal(err)
	}
	demo := realm.New(store.NewID(), "demo")
	if err := provision.NewRealm(ctx, db, demo, now); err != nil {
		t.Fatal(err)
	}
	demo, _ = db.GetRealm(ctx, demo.ID)
	c := &clock{t: now}
	srv := httptest.NewServer(server.New(server.Options{Store: db, URLs: urls, Now: c.Now,
		Log: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))}))
	t.Cleanup(srv.Close)
	return &env{t: t, clock: c, db: db, srv: srv, demo: demo}
}

// clock is the server's time, which tests move on.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// addUser creates a user of realm rl with a password and the given roles
// of realm-management.
func (e *env) addUser(rl realm.Realm, username, password string, adminRoles ...string) user.User {
	e.t.Helper()
	ctx := context.Background()
	u := user.User{ID: store.NewID(), RealmID: rl.ID, Username: username, Enabled: true, CreatedTimestamp: time.Now().UnixMilli()}
	if err := e.db.CreateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	cred, err := user.NewPasswordCredential(store.NewID(), u.ID, password, time.Now().UnixMilli(), user.HashPolicy{})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.CreateCredential(ctx, cred); err != nil {
		e.t.Fatal(err)
	}
	if len(adminRoles) == 0 {
		return u
	}
	rm, err := e.db.GetClientByClientID(ctx, rl.ID, provision.RealmManagement)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, name := range adminRoles {
		ro, err := e.db.GetClientRole(ctx, rl.ID, rm.ID, name)
		if err != nil {
			e.t.Fatalf("role %s: %v", name, err)
		}
		if err := e.db.AddUserRoles(ctx, u.ID, ro.ID); err != nil {
			e.t.Fatal(err)
		}
	}
	return u
}

func (e *env) realm(name string) realm.Realm {
	e.t.Helper()
	rl, err := e.db.GetRealmByName(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return rl
}

// browser is an HTTP client with cookies that follows no redirect by itself.
type browser struct {
	t *testing.T
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, e: e, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	header http.Header
	body   string
	url    string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 500 {
		b.t.Errorf("%s %s: %d %s", req.Method, req.URL, res.StatusCode, body)
	}
	return page{status: res.StatusCode, header: res.Header, body: string(body), url: req.URL.String()}
}

func (b *browser) abs(u string) string {
	if strings.HasPrefix(u, "/") {
		return b.e.srv.URL + u
	}
	return u
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.abs(u), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.abs(u), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// follow follows redirects from p, as a browser does, and returns the
// page it lands on.
func (b *browser) follow(p page) page {
	b.t.Helper()
	for range 10 {
		if p.status != http.StatusFound && p.status != http.StatusSeeOther {
			return p
		}
		loc, err := url.Parse(p.header.Get("Location"))
		if err != nil {
			b.t.Fatal(err)
		}
		base, _ := url.Parse(p.url)
		p = b.get(base.ResolveReference(loc).String())
	}
	b.t.Fatalf("too many redirects at %s", p.url)
	return p
}

var (
	formAction  = regexp.MustCompile(`<form[^>]*id="kc-form-login"[^>]*action="([^"]*)"|<form[^>]*action="([^"]*)"[^>]*id="kc-form-login"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	csrfInput   = regexp.MustCompile(`<input type="hidden" name="csrf" value="([^"]*)">`)
)

// signIn opens console path (e.g. "/admin/master/console/"), signs in on
// the login page it is sent to, and returns the console page it comes back
// to.
func (b *browser) signIn(path, username, password string) page {
	b.t.Helper()
	p := b.follow(b.get(path))
	if !strings.Contains(p.body, "kc-form-login") {
		b.t.Fatalf("no login page (%d at %s): %s", p.status, p.url, p.body)
	}
	m := formAction.FindStringSubmatch(p.body)
	action := html.UnescapeString(m[1] + m[2])
	fields := url.Values{}
	for _, h := range hiddenInput.FindAllStringSubmatch(p.body, -1) {
		fields.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	fields.Set("username", username)
	fields.Set("password", password)
	return b.follow(b.post(action, fields))
}

// csrf is the CSRF token of a console page's forms.
func csrf(t *testing.T, p page) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token in page (%d at %s): %s", p.status, p.url, p.body)
	}
	return html.UnescapeString(m[1])
}

// submit posts form to a console page with the CSRF token of page from.
func (b *browser) submit(from page, path string, form url.Values) page {
	b.t.Helper()
	form.Set("csrf", csrf(b.t, from))
	return b.post(path, form)
}

// decode is for JSON answers.
func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
}

// upload posts a multipart form as the page from would: its CSRF token,
// fields, and content (when not empty) as the file field "file".
func (b *browser) upload(from page, path string, fields url.Values, filename, content string) page {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", csrf(b.t, from))
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if content != "" {
		fw, _ := mw.CreateFormFile("file", filename)
		fw.Write([]byte(content))
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.abs(path), &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}
