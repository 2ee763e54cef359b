package server_test

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// start serves a provisioned store (master realm with its keys) through
// server.New with the given URL settings.
func start(t *testing.T, urls web.URLs) (*httptest.Server, *store.DB) {
	t.Helper()
	db := storetest.Open(t)
	if _, err := provision.Master(t.Context(), db, "admin", "pw", now); err != nil {
		t.Fatalf("provision master: %v", err)
	}
	h := server.New(server.Options{
		Store: db,
		Log:   slog.New(slog.NewTextHandler(t.Output(), nil)),
		Now:   func() time.Time { return now },
		URLs:  urls,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, db
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, u string, header map[string]string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func get(t *testing.T, u string, header map[string]string) response {
	t.Helper()
	return do(t, http.MethodGet, u, header, nil)
}

func wantJSON(t *testing.T, r response, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	if got := r.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	if string(r.body) != want {
		t.Errorf("body = %s\nwant   %s", r.body, want)
	}
}

// realmDoc is the public realm document.
type realmDoc struct {
	Realm           string `json:"realm"`
	PublicKey       string `json:"public_key"`
	TokenService    string `json:"token-service"`
	AccountService  string `json:"account-service"`
	TokensNotBefore *int64 `json:"tokens-not-before"`
}

func realmDocument(t *testing.T, u string, header map[string]string) realmDoc {
	t.Helper()
	r := get(t, u, header)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: status %d, body %s", u, r.status, r.body)
	}
	var d realmDoc
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatalf("decode realm document: %v", err)
	}
	return d
}

// topLevelKeys returns the keys of a JSON object in the order they appear.
func topLevelKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", b)
	}
	var out []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func activeRSAKey(t *testing.T, db *store.DB) keys.Key {
	t.Helper()
	m, err := db.GetRealmByName(t.Context(), realm.MasterName)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := db.ListKeys(t.Context(), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := keys.Active(ks, keys.RS256)
	if !ok {
		t.Fatal("master has no active RS256 key")
	}
	return k
}

func TestHealth(t *testing.T) {
	srv, db := start(t, web.URLs{})

	wantJSON(t, get(t, srv.URL+"/health/live", nil), http.StatusOK, `{"status":"UP","checks":[]}`)
	up := `{"status":"UP","checks":[{"name":"Gatehouse database connections health check","status":"UP"}]}`
	wantJSON(t, get(t, srv.URL+"/health/ready", nil), http.StatusOK, up)
	wantJSON(t, get(t, srv.URL+"/health", nil), http.StatusOK, up)

	t.Run("ready is down once the database is gone, live is not", func(t *testing.T) {
		db.Close()
		down := `{"status":"DOWN","checks":[{"name":"Gatehouse database connections health check","status":"DOWN"}]}`
		wantJSON(t, get(t, srv.URL+"/health/ready", nil), http.StatusServiceUnavailable, down)
		wantJSON(t, get(t, srv.URL+"/health", nil), http.StatusServiceUnavailable, down)
		wantJSON(t, get(t, srv.URL+"/health/live", nil), http.StatusOK, `{"status":"UP","checks":[]}`)
	})
}

func TestRealmDocument(t *testing.T) {
	srv, db := start(t, web.URLs{})
	r := get(t, srv.URL+"/realms/master", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	// Keycloak's PublishedRealmRepresentation field order; golden-file
	// comparisons by clients and by our own tests depend on it.
	wantKeys := []string{"realm", "public_key", "token-service", "account-service", "tokens-not-before"}
	if got := topLevelKeys(t, r.body); !slices.Equal(got, wantKeys) {
		t.Errorf("keys = %v, want %v", got, wantKeys)
	}
	var d realmDoc
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatal(err)
	}
	if d.Realm != "master" {
		t.Errorf("realm = %q", d.Realm)
	}
	if want := srv.URL + "/realms/master/protocol/openid-connect"; d.TokenService != want {
		t.Errorf("token-service = %q, want %q", d.TokenService, want)
	}
	if want := srv.URL + "/realms/master/account"; d.AccountService != want {
		t.Errorf("account-service = %q, want %q", d.AccountService, want)
	}
	if d.TokensNotBefore == nil || *d.TokensNotBefore != 0 {
		t.Errorf("tokens-not-before = %v, want 0", d.TokensNotBefore)
	}

	der, err := base64.StdEncoding.DecodeString(d.PublicKey)
	if err != nil {
		t.Fatalf("public_key is not base64: %v", err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatalf("public_key is not a SubjectPublicKeyInfo: %v", err)
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		t.Fatalf("public_key is a %T, want *rsa.PublicKey", pub)
	}
	want, err := activeRSAKey(t, db).RSAPublic()
	if err != nil {
		t.Fatal(err)
	}
	if !rsaPub.Equal(want) {
		t.Error("public_key is not the realm's active RS256 key")
	}
}

func TestUnknownRealm(t *testing.T) {
	srv, _ := start(t, web.URLs{})
	wantJSON(t, get(t, srv.URL+"/realms/nope", nil), http.StatusNotFound, `{"error":"Realm does not exist"}`)
	wantJSON(t, get(t, srv.URL+"/realms/nope/protocol/openid-connect/certs", nil), http.StatusNotFound, `{"error":"Realm does not exist"}`)
}

func TestCerts(t *testing.T) {
	srv, db := start(t, web.URLs{})
	r := get(t, srv.URL+"/realms/master/protocol/openid-connect/certs", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	var set struct {
		Keys []struct {
			Kid, Kty, Alg, Use, N, E string
		} `json:"keys"`
	}
	if err := json.Unmarshal(r.body, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("JWKS has %d keys, want the RS256 and RSA-OAEP keys (HMAC and AES keys are secret): %s", len(set.Keys), r.body)
	}
	active := activeRSAKey(t, db)
	for _, k := range set.Keys {
		switch {
		case k.Alg == "RS256":
			if k.Kty != "RSA" || k.Use != "sig" || k.Kid != active.Kid {
				t.Errorf("key = %+v, want RS256 RSA sig with kid %q", k, active.Kid)
			}
		case k.Alg == "RSA-OAEP":
			if k.Kty != "RSA" || k.Use != "enc" || k.Kid == active.Kid {
				t.Errorf("key = %+v, want an RSA-OAEP RSA enc key", k)
			}
		default:
			t.Errorf("unexpected key %+v", k)
		}
	}
}

func TestUnmatchedRoutes(t *testing.T) {
	srv, _ := start(t, web.URLs{})
	notFound := `{"error":"Unable to find matching target resource method","error_description":"For more on this error consult the server log at the debug level."}`
	notAllowed := `{"error":"HTTP 405 Method Not Allowed","error_description":"For more on this error consult the server log at the debug level."}`

	for _, p := range []string{"/", "/nope", "/realms/master/nope", "/realms", "/auth/realms/master"} {
		wantJSON(t, get(t, srv.URL+p, nil), http.StatusNotFound, notFound)
	}
	// CVE-2026-0976: matrix parameters must not reach a realm route.
	wantJSON(t, get(t, srv.URL+"/realms;x/master", nil), http.StatusNotFound, notFound)

	r := do(t, http.MethodDelete, srv.URL+"/realms/master", nil, nil)
	wantJSON(t, r, http.StatusMethodNotAllowed, notAllowed)
	if got := r.header.Get("Allow"); got != "GET, HEAD" {
		t.Errorf("Allow = %q, want %q", got, "GET, HEAD")
	}
}

func TestSecurityHeaders(t *testing.T) {
	srv, _ := start(t, web.URLs{RelativePath: "/auth"})
	for _, p := range []string{"/health/live", "/auth/realms/master", "/auth/realms/nope", "/nope", "/"} {
		r := get(t, srv.URL+p, nil)
		if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q", p, got)
		}
		if got := r.header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s: Referrer-Policy = %q", p, got)
		}
	}
}

func TestRequestBodyLimit(t *testing.T) {
	srv, _ := start(t, web.URLs{})
	big := strings.Repeat("a", server.MaxRequestBody+1)
	r := do(t, http.MethodPost, srv.URL+"/realms/master/protocol/openid-connect/token", map[string]string{
		"Content-Type": "application/x-www-form-urlencoded",
	}, strings.NewReader(big))
	if r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", r.status)
	}
}

func TestRelativePath(t *testing.T) {
	srv, _ := start(t, web.URLs{RelativePath: "/auth"})

	d := realmDocument(t, srv.URL+"/auth/realms/master", nil)
	if want := srv.URL + "/auth/realms/master/protocol/openid-connect"; d.TokenService != want {
		t.Errorf("token-service = %q, want %q", d.TokenService, want)
	}
	if r := get(t, srv.URL+"/auth/realms/master/protocol/openid-connect/certs", nil); r.status != http.StatusOK {
		t.Errorf("certs under /auth: status %d", r.status)
	}
	if r := get(t, srv.URL+"/realms/master", nil); r.status != http.StatusNotFound {
		t.Errorf("/realms/master without the relative path: status %d, want 404", r.status)
	}
	wantJSON(t, get(t, srv.URL+"/auth/realms/nope", nil), http.StatusNotFound, `{"error":"Realm does not exist"}`)

	r := get(t, srv.URL+"/", nil)
	if r.status != http.StatusFound || r.header.Get("Location") != "/auth/" {
		t.Errorf("GET /: status %d Location %q, want 302 to /auth/", r.status, r.header.Get("Location"))
	}
	r = get(t, srv.URL+"/auth", nil)
	if r.status != http.StatusFound || r.header.Get("Location") != "/auth/" {
		t.Errorf("GET /auth: status %d Location %q, want 302 to /auth/", r.status, r.header.Get("Location"))
	}
	// Health stays at the root, where probes look for it.
	if r := get(t, srv.URL+"/health/ready", nil); r.status != http.StatusOK {
		t.Errorf("/health/ready: status %d", r.status)
	}
	if r := get(t, srv.URL+"/auth/health/ready", nil); r.status != http.StatusNotFound {
		t.Errorf("/auth/health/ready: status %d, want 404", r.status)
	}
	// A prefix that only starts like the relative path is not under it.
	if r := get(t, srv.URL+"/authx/realms/master", nil); r.status != http.StatusNotFound {
		t.Errorf("/authx/realms/master: status %d, want 404", r.status)
	}
}

// The router answers two kinds of request itself: a path that is not clean
// is sent to its clean form, and a subtree's path without its final slash
// to the path with it. Below a relative path, both redirects keep it.
func TestRelativePathRouterRedirects(t *testing.T) {
	srv, _ := start(t, web.URLs{RelativePath: "/auth"})
	for _, tc := range []struct {
		method, path, want string
	}{
		{http.MethodGet, "/auth/resources", "/auth/resources/"},
		{http.MethodGet, "/auth/resources?v=1", "/auth/resources/?v=1"},
		{http.MethodHead, "/auth/resources", "/auth/resources/"},
		{http.MethodGet, "/auth/realms//master", "/auth/realms/master"},
		{http.MethodGet, "/auth/realms/./master/?x=%2F", "/auth/realms/master/?x=%2F"},
		{http.MethodPost, "/auth/realms//master/protocol/openid-connect/token", "/auth/realms/master/protocol/openid-connect/token"},
		// Escaped once, as the request was.
		{http.MethodGet, "/auth/realms//my%20realm", "/auth/realms/my%20realm"},
		{http.MethodGet, "/auth/realms//a%2Fb/", "/auth/realms/a/b/"},
		// ".." does not leave the relative path.
		{http.MethodGet, "/auth/../realms/master", "/auth/realms/master"},
	} {
		r := do(t, tc.method, srv.URL+tc.path, nil, nil)
		if r.status != http.StatusTemporaryRedirect || r.header.Get("Location") != tc.want {
			t.Errorf("%s %s: status %d Location %q, want 307 to %q", tc.method, tc.path, r.status, r.header.Get("Location"), tc.want)
		}
		if tc.method == http.MethodGet && !bytes.Contains(r.body, []byte(`href="`+tc.want+`"`)) {
			t.Errorf("%s %s: body %q does not link to %q", tc.method, tc.path, r.body, tc.want)
		}
	}
	// A handler's own redirect already holds the relative path.
	if r := get(t, srv.URL+"/auth/realms/master/account", nil); r.status != http.StatusFound ||
		!strings.HasSuffix(r.header.Get("Location"), "/auth/realms/master/account/") || strings.Contains(r.header.Get("Location"), "/auth/auth/") {
		t.Errorf("account without its slash: status %d Location %q", r.status, r.header.Get("Location"))
	}
	// A browser's logout posted to the end-session endpoint is sent on to
	// the same endpoint, relative path and all.
	r := do(t, http.MethodPost, srv.URL+"/auth/realms/master/protocol/openid-connect/logout",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, strings.NewReader("client_id=account-console&state=s1"))
	if want := srv.URL + "/auth/realms/master/protocol/openid-connect/logout?client_id=account-console&state=s1"; r.status != http.StatusSeeOther || r.header.Get("Location") != want {
		t.Errorf("POST logout: status %d Location %q, want 303 to %q", r.status, r.header.Get("Location"), want)
	}
	// Without a relative path the router's redirects are unchanged.
	plain, _ := start(t, web.URLs{})
	if r := get(t, plain.URL+"/resources", nil); r.status != http.StatusTemporaryRedirect || r.header.Get("Location") != "/resources/" {
		t.Errorf("GET /resources: status %d Location %q, want 307 to /resources/", r.status, r.header.Get("Location"))
	}
}

// Behind a proxy that maps another path to the relative path, as a
// hostname with a path of its own says, every redirect carries the
// hostname's path: the router's and the handlers' alike.
func TestRelativePathBehindMappingProxy(t *testing.T) {
	for _, tc := range []struct{ hostname, public string }{
		{"https://id.example.com", ""},
		{"https://id.example.com/kc", "/kc"},
	} {
		hostname, err := url.Parse(tc.hostname)
		if err != nil {
			t.Fatal(err)
		}
		srv, _ := start(t, web.URLs{RelativePath: "/auth", Hostname: hostname})
		for _, c := range []struct{ path, want string }{
			{"/auth/resources", tc.public + "/resources/"},
			{"/auth/realms//master", tc.public + "/realms/master"},
		} {
			r := get(t, srv.URL+c.path, nil)
			if r.status != http.StatusTemporaryRedirect || r.header.Get("Location") != c.want {
				t.Errorf("hostname %s, GET %s: status %d Location %q, want 307 to %q", tc.hostname, c.path, r.status, r.header.Get("Location"), c.want)
			}
		}
		r := get(t, srv.URL+"/auth/realms/master/account", nil)
		if want := tc.public + "/realms/master/account/"; r.status != http.StatusFound || r.header.Get("Location") != want {
			t.Errorf("hostname %s, account without its slash: status %d Location %q, want 302 to %q", tc.hostname, r.status, r.header.Get("Location"), want)
		}
	}
}

// The relative path is operator text; characters that mean something in a
// ServeMux pattern must not break routing (or panic at start).
func TestRelativePathWithPatternSyntax(t *testing.T) {
	srv, _ := start(t, web.URLs{RelativePath: "/id{x}"})
	if r := get(t, srv.URL+"/id%7Bx%7D/realms/master", nil); r.status != http.StatusOK {
		t.Errorf("status %d, body %s", r.status, r.body)
	}
}

func TestPublicURLs(t *testing.T) {
	forwarded := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "id.example.com"}
	hostname, err := url.Parse("https://sso.example.org:8443/kc")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		urls   web.URLs
		header map[string]string
		want   string // token-service; "{srv}" is the test server's URL
	}{
		{
			name:   "x-forwarded headers are followed when the operator trusts them",
			urls:   web.URLs{ProxyHeaders: "xforwarded"},
			header: forwarded,
			want:   "https://id.example.com/realms/master/protocol/openid-connect",
		},
		{
			name:   "x-forwarded headers are ignored without --proxy-headers",
			header: forwarded,
			want:   "{srv}/realms/master/protocol/openid-connect",
		},
		{
			name:   "forwarded header is followed with --proxy-headers forwarded",
			urls:   web.URLs{ProxyHeaders: "forwarded"},
			header: map[string]string{"Forwarded": `proto=https;host="id.example.com"`},
			want:   "https://id.example.com/realms/master/protocol/openid-connect",
		},
		{
			name:   "x-forwarded headers are ignored when only forwarded is trusted",
			urls:   web.URLs{ProxyHeaders: "forwarded"},
			header: forwarded,
			want:   "{srv}/realms/master/protocol/openid-connect",
		},
		{
			name:   "configured hostname wins over forwarded headers and the Host header",
			urls:   web.URLs{Hostname: hostname, ProxyHeaders: "xforwarded"},
			header: map[string]string{"X-Forwarded-Proto": "http", "X-Forwarded-Host": "id.example.com", "Host": "other.example"},
			want:   "https://sso.example.org:8443/kc/realms/master/protocol/openid-connect",
		},
		{
			// A forged host must not smuggle a path or query into the
			// issuer that clients and token validators trust.
			name:   "forged forwarded host with a path and query is ignored",
			urls:   web.URLs{ProxyHeaders: "xforwarded"},
			header: map[string]string{"X-Forwarded-Host": "evil.com/x?y"},
			want:   "{srv}/realms/master/protocol/openid-connect",
		},
		{
			name:   "forwarded headers follow the relative path",
			urls:   web.URLs{ProxyHeaders: "xforwarded", RelativePath: "/auth"},
			header: forwarded,
			want:   "https://id.example.com/auth/realms/master/protocol/openid-connect",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := start(t, tt.urls)
			d := realmDocument(t, srv.URL+tt.urls.RelativePath+"/realms/master", tt.header)
			want := strings.ReplaceAll(tt.want, "{srv}", srv.URL)
			if d.TokenService != want {
				t.Errorf("token-service = %q, want %q", d.TokenService, want)
			}
			if !strings.HasPrefix(d.AccountService, strings.TrimSuffix(want, "/protocol/openid-connect")) {
				t.Errorf("account-service = %q does not share the base of %q", d.AccountService, want)
			}
		})
	}
}
