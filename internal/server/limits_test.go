package server_test

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/ratelimit"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// clock is a settable time for the buckets.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type limitEnv struct {
	srv   *httptest.Server
	db    *store.DB
	clock *clock
}

// startLimited serves a provisioned master realm (admin/pw, admin-cli) with
// the given limits on a settable clock.
func startLimited(t *testing.T, limits server.Limits, urls web.URLs) *limitEnv {
	t.Helper()
	return startLimitedOn(t, storetest.Open(t), limits, urls)
}

// startLimitedOn is startLimited on a given store.
func startLimitedOn(t *testing.T, db *store.DB, limits server.Limits, urls web.URLs) *limitEnv {
	t.Helper()
	if _, err := provision.Master(t.Context(), db, "admin", "pw", now); err != nil {
		t.Fatalf("provision master: %v", err)
	}
	ck := &clock{t: now}
	srv := httptest.NewServer(server.New(server.Options{
		Store:  db,
		Log:    slog.New(slog.NewTextHandler(t.Output(), nil)),
		Now:    ck.Now,
		URLs:   urls,
		Limits: limits,
	}))
	t.Cleanup(srv.Close)
	return &limitEnv{srv: srv, db: db, clock: ck}
}

// addMasterClient creates a client of the master realm.
func (e *limitEnv) addMasterClient(t *testing.T, clientID string, edit func(*client.Client)) {
	t.Helper()
	m, err := e.db.GetRealmByName(t.Context(), realm.MasterName)
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(store.NewID(), m.ID, clientID)
	edit(&c)
	if err := provision.CreateClient(t.Context(), e.db, c, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
}

// tight are request limits a test reaches in a few requests, with no limit
// on failures.
func tight() server.Limits {
	return server.Limits{
		Enabled:  true,
		IP:       ratelimit.Limit{Rate: 1, Burst: 3},
		User:     ratelimit.Limit{Rate: 1, Burst: 2},
		Client:   ratelimit.Limit{Rate: 1, Burst: 2},
		FailIP:   ratelimit.Unlimited,
		FailUser: ratelimit.Unlimited,
	}
}

func form(vals ...string) string {
	f := url.Values{}
	for i := 0; i+1 < len(vals); i += 2 {
		f.Add(vals[i], vals[i+1])
	}
	return f.Encode()
}

func (e *limitEnv) post(t *testing.T, path, body string, header map[string]string) response {
	t.Helper()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		h[k] = v
	}
	return do(t, http.MethodPost, e.srv.URL+path, h, strings.NewReader(body))
}

const tokenPath = "/realms/master/protocol/openid-connect/token"

func isTooMany(t *testing.T, r response) {
	t.Helper()
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("status %d %s, want 429", r.status, r.body)
	}
	if ra := r.header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After = %q, want 1", ra)
	}
}

func isJSONTooMany(t *testing.T, r response) {
	t.Helper()
	isTooMany(t, r)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if got := string(r.body); got != `{"error":"too_many_requests","error_description":"Too many requests"}` {
		t.Errorf("body = %s", got)
	}
}

func TestRateLimitPerAddress(t *testing.T) {
	e := startLimited(t, tight(), web.URLs{})
	userinfo := e.srv.URL + "/realms/master/protocol/openid-connect/userinfo"
	for i := range 3 {
		if r := do(t, "GET", userinfo, nil, nil); r.status != http.StatusUnauthorized {
			t.Fatalf("request %d of the burst: %d %s", i+1, r.status, r.body)
		}
	}
	isJSONTooMany(t, do(t, "GET", userinfo, nil, nil))

	t.Run("another realm's endpoints share the address's bucket", func(t *testing.T) {
		isJSONTooMany(t, do(t, "GET", e.srv.URL+"/realms/nope/protocol/openid-connect/certs", nil, nil))
	})
	t.Run("health checks and static resources are never limited", func(t *testing.T) {
		for _, p := range []string{"/health/ready", "/health/live", "/health"} {
			if r := do(t, "GET", e.srv.URL+p, nil, nil); r.status != http.StatusOK {
				t.Errorf("GET %s: %d", p, r.status)
			}
		}
		if r := do(t, "GET", e.srv.URL+"/resources/x/css/login.css", nil, nil); r.status == http.StatusTooManyRequests {
			t.Errorf("static resource limited")
		}
	})
	t.Run("the admin API is not limited per address", func(t *testing.T) {
		if r := do(t, "GET", e.srv.URL+"/admin/realms", nil, nil); r.status != http.StatusUnauthorized {
			t.Errorf("GET /admin/realms: %d %s", r.status, r.body)
		}
	})
	t.Run("a token is back after 1/rate", func(t *testing.T) {
		e.clock.Add(time.Second)
		if r := do(t, "GET", userinfo, nil, nil); r.status != http.StatusUnauthorized {
			t.Fatalf("after a second: %d", r.status)
		}
		isJSONTooMany(t, do(t, "GET", userinfo, nil, nil))
	})
}

func TestRateLimitForwardedFor(t *testing.T) {
	certs := "/realms/master/protocol/openid-connect/certs"
	exhaust := func(t *testing.T, e *limitEnv, xff string) {
		t.Helper()
		for range 3 {
			do(t, "GET", e.srv.URL+certs, map[string]string{"X-Forwarded-For": xff}, nil)
		}
	}
	get := func(t *testing.T, e *limitEnv, xff string) int {
		return do(t, "GET", e.srv.URL+certs, map[string]string{"X-Forwarded-For": xff}, nil).status
	}

	t.Run("without trusted proxies the header changes nothing", func(t *testing.T) {
		e := startLimited(t, tight(), web.URLs{})
		exhaust(t, e, "198.51.100.1")
		if st := get(t, e, "198.51.100.2"); st != http.StatusTooManyRequests {
			t.Fatalf("a forged X-Forwarded-For gave a fresh bucket: %d", st)
		}
	})
	t.Run("behind a trusted proxy each client has its own bucket", func(t *testing.T) {
		l := tight()
		l.TrustedProxies, _ = ratelimit.ParseProxies("127.0.0.1")
		e := startLimited(t, l, web.URLs{})
		exhaust(t, e, "198.51.100.1")
		if st := get(t, e, "198.51.100.1"); st != http.StatusTooManyRequests {
			t.Fatalf("client over its limit: %d", st)
		}
		if st := get(t, e, "198.51.100.2"); st != http.StatusOK {
			t.Fatalf("another client behind the proxy: %d", st)
		}
		// The client prepends a forged address; the proxy appends the real one.
		if st := get(t, e, "203.0.113.9, 198.51.100.1"); st != http.StatusTooManyRequests {
			t.Fatalf("a forged left-most address escaped the limit: %d", st)
		}
	})
}

func TestRateLimitPerUsername(t *testing.T) {
	l := tight()
	l.IP = ratelimit.Unlimited
	e := startLimited(t, l, web.URLs{})
	grant := func(username string) response {
		return e.post(t, tokenPath, form("grant_type", "password", "client_id", fmt.Sprint("cli-", username),
			"username", username, "password", "wrong"), nil)
	}
	for i := range 2 {
		if r := grant("admin"); r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d %s", i+1, r.status, r.body)
		}
	}
	t.Run("the username's bucket is empty whatever its case and spacing", func(t *testing.T) {
		isJSONTooMany(t, grant(" ADMIN "))
	})
	t.Run("another username is not affected", func(t *testing.T) {
		if r := grant("someone"); r.status == http.StatusTooManyRequests {
			t.Fatal("limited")
		}
	})
	t.Run("other grants are not limited per username", func(t *testing.T) {
		r := e.post(t, tokenPath, form("grant_type", "refresh_token", "client_id", "admin-cli", "username", "admin", "refresh_token", "x"), nil)
		if r.status == http.StatusTooManyRequests {
			t.Fatal("limited")
		}
	})
	t.Run("the login form is limited per username with a page", func(t *testing.T) {
		login := "/realms/master/login-actions/authenticate"
		for range 2 {
			e.post(t, login, form("username", "victim", "password", "x"), nil)
		}
		r := e.post(t, login, form("username", "Victim", "password", "x"), nil)
		isTooMany(t, r)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("Content-Type = %q, want a page", ct)
		}
		if !strings.Contains(string(r.body), "Too many requests") || r.header.Get("X-Frame-Options") == "" {
			t.Errorf("page: %s", r.body)
		}
	})
}

func TestRateLimitPerClient(t *testing.T) {
	l := tight()
	l.IP = ratelimit.Unlimited
	e := startLimited(t, l, web.URLs{})
	introspect := tokenPath + "/introspect"
	basic := map[string]string{"Authorization": "Basic " + basicAuth("some-client", "secret")}
	for range 2 {
		if r := e.post(t, introspect, form("token", "x"), basic); r.status != http.StatusUnauthorized {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	t.Run("HTTP Basic and client_id name the same bucket", func(t *testing.T) {
		isJSONTooMany(t, e.post(t, tokenPath, form("grant_type", "client_credentials", "client_id", "some-client"), nil))
	})
	t.Run("a client id percent-encoded in Basic is the same client", func(t *testing.T) {
		isJSONTooMany(t, e.post(t, "/realms/master/protocol/openid-connect/revoke", form("token", "x"),
			map[string]string{"Authorization": "Basic " + basicAuth("some%2Dclient", "secret")}))
	})
	t.Run("another client is not affected", func(t *testing.T) {
		if r := e.post(t, introspect, form("token", "x", "client_id", "other"), nil); r.status == http.StatusTooManyRequests {
			t.Fatal("limited")
		}
	})
}

func basicAuth(user, pass string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

func TestRateLimitRealmAttributes(t *testing.T) {
	l := server.DefaultLimits()
	e := startLimited(t, l, web.URLs{})
	m, err := e.db.GetRealmByName(t.Context(), realm.MasterName)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.UpdateRealm(t.Context(), m.ID, func(r *realm.Realm) error {
		r.Attributes = map[string]string{
			server.AttrRateLimitUser:   "1:1",
			server.AttrRateLimitIP:     "1:4",
			server.AttrRateLimitClient: "not a limit", // ignored, default applies
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	grant := func() response {
		return e.post(t, tokenPath, form("grant_type", "password", "client_id", "admin-cli", "username", "admin", "password", "pw"), nil)
	}
	t.Run("the realm's user limit replaces the default", func(t *testing.T) {
		// A correct password grant also shows the guard hands the handler
		// the body it read ahead, intact.
		if r := grant(); r.status != http.StatusOK {
			t.Fatalf("first grant: %d %s", r.status, r.body)
		}
		isJSONTooMany(t, grant())
	})
	t.Run("the realm's address limit lowers the server's", func(t *testing.T) {
		certs := e.srv.URL + "/realms/master/protocol/openid-connect/certs"
		for range 2 { // two of the realm's four tokens went to the grants
			if r := do(t, "GET", certs, nil, nil); r.status != http.StatusOK {
				t.Fatalf("%d", r.status)
			}
		}
		isJSONTooMany(t, do(t, "GET", certs, nil, nil))
		// Another realm only has the server-wide limit.
		if r := do(t, "GET", e.srv.URL+"/realms/other/protocol/openid-connect/certs", nil, nil); r.status == http.StatusTooManyRequests {
			t.Fatal("another realm limited by master's attribute")
		}
	})
}

func TestRateLimitOff(t *testing.T) {
	e := startLimited(t, server.Limits{}, web.URLs{})
	for range 300 {
		if r := do(t, "GET", e.srv.URL+"/realms/master/protocol/openid-connect/certs", nil, nil); r.status != http.StatusOK {
			t.Fatalf("%d", r.status)
		}
	}
}

func TestRateLimitUnderRelativePath(t *testing.T) {
	e := startLimited(t, tight(), web.URLs{RelativePath: "/auth"})
	certs := e.srv.URL + "/auth/realms/master/protocol/openid-connect/certs"
	for range 3 {
		if r := do(t, "GET", certs, nil, nil); r.status != http.StatusOK {
			t.Fatalf("%d", r.status)
		}
	}
	isJSONTooMany(t, do(t, "GET", certs, nil, nil))
}

// SECURITY.md T29 and CVE-2026-4634: the scope parameter is bounded before
// any handler resolves it; JSON bodies are bounded in depth.
func TestInputLimits(t *testing.T) {
	e := startLimited(t, server.Limits{}, web.URLs{})
	scopes := func(n int) string { return strings.TrimSpace(strings.Repeat("s ", n)) }
	authURL := func(scope string) string {
		// A registered redirect URI: without the guard the handler would
		// send the browser back to it with an error.
		return e.srv.URL + "/realms/master/protocol/openid-connect/auth?" + form("client_id", "security-admin-console",
			"response_type", "code", "redirect_uri", e.srv.URL+"/admin/master/console/", "scope", scope)
	}
	tests := []struct {
		name     string
		do       func() response
		status   int
		wantBody string
	}{
		{name: "token: scope over 4 KiB is 400 invalid_scope", status: 400, wantBody: `"Scope parameter too long"`,
			do: func() response {
				return e.post(t, tokenPath, form("grant_type", "password", "client_id", "admin-cli", "scope", strings.Repeat("x", 4097)), nil)
			}},
		{name: "token: 101 scope names is 400 invalid_scope", status: 400, wantBody: `"Too many scopes"`,
			do: func() response {
				return e.post(t, tokenPath, form("grant_type", "password", "client_id", "admin-cli", "scope", scopes(101)), nil)
			}},
		{name: "token: 100 scope names reach the handler", status: 400, wantBody: `"invalid_scope","error_description":"Invalid scopes`,
			do: func() response {
				return e.post(t, tokenPath, form("grant_type", "password", "client_id", "admin-cli", "username", "admin",
					"password", "pw", "scope", "openid "+scopes(99)), nil)
			}},
		{name: "auth: scope over 4 KiB is an error page, never a redirect", status: 400, wantBody: "Invalid parameter: scope",
			do: func() response { return do(t, "GET", authURL(strings.Repeat("x", 4097)), nil, nil) }},
		{name: "auth by POST: 101 scope names is an error page", status: 400, wantBody: "Invalid parameter: scope",
			do: func() response {
				return e.post(t, "/realms/master/protocol/openid-connect/auth", form("client_id", "security-admin-console",
					"response_type", "code", "redirect_uri", e.srv.URL+"/admin/master/console/", "scope", scopes(101)), nil)
			}},
		{name: "admin: JSON nested 33 deep is 400", status: 400, wantBody: `{"errorMessage":"JSON nesting too deep"}`,
			do: func() response {
				return do(t, "POST", e.srv.URL+"/admin/realms", map[string]string{"Content-Type": "application/json"},
					strings.NewReader(strings.Repeat("[", 33)+strings.Repeat("]", 33)))
			}},
		{name: "admin: JSON nested 32 deep reaches the handler", status: 401,
			do: func() response {
				return do(t, "POST", e.srv.URL+"/admin/realms", map[string]string{"Content-Type": "application/json"},
					strings.NewReader(strings.Repeat("[", 32)+strings.Repeat("]", 32)))
			}},
		{name: "admin: brackets inside strings do not count", status: 401,
			do: func() response {
				return do(t, "POST", e.srv.URL+"/admin/realms", map[string]string{"Content-Type": "application/json"},
					strings.NewReader(`{"realm":"`+strings.Repeat(`[{\"`, 50)+`"}`))
			}},
		{name: "client registration: JSON nested 33 deep is 400", status: 400, wantBody: "JSON nesting too deep",
			do: func() response {
				return do(t, "POST", e.srv.URL+"/realms/master/clients-registrations/openid-connect", map[string]string{"Content-Type": "application/json"},
					strings.NewReader(strings.Repeat("[", 33)+strings.Repeat("]", 33)))
			}},
		{name: "admin: a body without a content type is checked too", status: 400, wantBody: "JSON nesting too deep",
			do: func() response {
				return do(t, "PUT", e.srv.URL+"/admin/realms/master", nil, strings.NewReader(strings.Repeat(`{"a":`, 40)))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.do()
			if r.status != tt.status || !strings.Contains(string(r.body), tt.wantBody) {
				t.Fatalf("%d %.300s; want %d with %s", r.status, r.body, tt.status, tt.wantBody)
			}
			if r.header.Get("Location") != "" {
				t.Errorf("Location: %s", r.header.Get("Location"))
			}
		})
	}
}

func TestLimitsFromConfig(t *testing.T) {
	c, err := config.Load(config.ModeStartDev, []string{"--rate-limit-ip", "5:10", "--trusted-proxies", "10.0.0.0/8"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := server.LimitsFromConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	want := server.DefaultLimits()
	if !l.Enabled || l.IP.String() != "5:10" || l.User != want.User || l.Client != want.Client || l.TrustedProxies.String() != "10.0.0.0/8" {
		t.Errorf("LimitsFromConfig = %+v", l)
	}
	b, _ := json.Marshal(want.IP.String())
	if string(b) != `"off"` {
		t.Errorf("default per-address limit %s, want the documented off (failures only)", b)
	}
}

func TestTrustedProxyNamesTheClient(t *testing.T) {
	grant := func(e *limitEnv) string {
		t.Helper()
		r := e.post(t, tokenPath, form("grant_type", "password", "client_id", "admin-cli", "username", "admin", "password", "pw"),
			map[string]string{"X-Forwarded-For": "203.0.113.50, 198.51.100.7"})
		if r.status != http.StatusOK {
			t.Fatalf("grant: %d %s", r.status, r.body)
		}
		m, _ := e.db.GetRealmByName(t.Context(), realm.MasterName)
		u, err := e.db.GetUserByUsername(t.Context(), m.ID, "admin")
		if err != nil {
			t.Fatal(err)
		}
		ss, err := e.db.ListUserSessions(t.Context(), m.ID, u.ID, false)
		if err != nil || len(ss) != 1 {
			t.Fatalf("sessions: %v, %v", ss, err)
		}
		return ss[0].IPAddress
	}
	t.Run("behind a trusted proxy the session records the client", func(t *testing.T) {
		l := server.Limits{}
		l.TrustedProxies, _ = ratelimit.ParseProxies("127.0.0.0/8")
		if ip := grant(startLimited(t, l, web.URLs{})); ip != "198.51.100.7" {
			t.Errorf("session IP %q, want the right-most untrusted X-Forwarded-For address", ip)
		}
	})
	t.Run("without trusted proxies it records the peer", func(t *testing.T) {
		if ip := grant(startLimited(t, server.Limits{}, web.URLs{})); ip != "127.0.0.1" {
			t.Errorf("session IP %q, want the peer", ip)
		}
	})
}

// Regression (issue 12, hole 3): the limiter counted the username of the
// form body while the login form also read one from the query string, so
// moving username to the query string escaped the per-username limit and
// the guesses went on. The login form reads its fields from the body only,
// as Keycloak does, so such a post names no user and logs nobody in.
func TestRateLimitLoginFormUsernameInQuery(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		testLoginFormUsernameInQuery(t, open(t))
	})
}

// openLoginForm opens the master realm's login form through the account
// console, and returns its action, a poster and the form's fields with
// others set.
func openLoginForm(t *testing.T, e *limitEnv) (action string, post func(target string, body url.Values) (int, string, string), with func(kv ...string) url.Values) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(req *http.Request) (int, string, string) {
		t.Helper()
		req.Header.Set("Accept", "text/html")
		res, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Location"), string(body)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/realms/master/account/", nil)
	_, loc, _ := send(req)
	req, _ = http.NewRequest(http.MethodGet, e.srv.URL+loc, nil)
	st, _, page := send(req)
	m := formActionRe.FindStringSubmatch(page)
	if st != http.StatusOK || m == nil {
		t.Fatalf("login page: %d %s", st, page)
	}
	action = html.UnescapeString(m[1])
	if strings.HasPrefix(action, "/") {
		action = e.srv.URL + action
	}
	fields := url.Values{}
	for _, h := range hiddenInputRe.FindAllStringSubmatch(page, -1) {
		fields.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	post = func(target string, body url.Values) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return send(req)
	}
	with = func(kv ...string) url.Values {
		f := url.Values{}
		for k, v := range fields {
			f[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	return action, post, with
}

func testLoginFormUsernameInQuery(t *testing.T, db *store.DB) {
	l := tight()
	l.IP = ratelimit.Unlimited
	e := startLimitedOn(t, db, l, web.URLs{})
	action, post, with := openLoginForm(t, e)
	for range 2 {
		if st, _, body := post(action, with("username", "admin", "password", "wrong")); st != http.StatusOK {
			t.Fatalf("wrong password: %d %s", st, body)
		}
	}
	if st, _, _ := post(action, with("username", "admin", "password", "pw")); st != http.StatusTooManyRequests {
		t.Fatalf("the username's bucket is not empty: %d", st)
	}
	u, _ := url.Parse(action)
	q := u.Query()
	q.Set("username", "admin")
	u.RawQuery = q.Encode()
	st, loc, body := post(u.String(), with("password", "pw"))
	if st == http.StatusFound || strings.Contains(loc, "code=") {
		t.Fatalf("username in the query string logged in past the limit: %d %s", st, loc)
	}
	if st != http.StatusOK || !strings.Contains(body, "Invalid username or password.") {
		t.Errorf("username in the query string: %d, want the login page saying no user was named: %s", st, body)
	}
}
