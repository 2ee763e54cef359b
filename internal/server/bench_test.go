//go:build unix

package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// BenchmarkHotPaths measures the requests of the target table
// through the whole server (server.New: input limits, security headers,
// the configuration view, the oidc handler), in process, with httptest and
// no network: what is measured is the server's own work per request.
// The realm is ldap-demo as shipped (RS256) and a copy of it signing ES256.
// Requests come from 16 goroutines per GOMAXPROCS, as the load command's 16
// clients, so lock and pool contention shows too.
//
// Besides ns/op (wall time, inflated by whatever else the machine runs) it
// reports cpu-us/op: the process's user and system CPU per request, GC
// included, the figure that compares on a shared machine. For one core and a
// profile:
//
//	go test -run XXX -bench 'HotPaths/sqlite/es256/client_credentials' -cpu 1 \
//	    -benchtime 5000x -cpuprofile cpu.out ./internal/server/
//	go tool pprof -top cpu.out
//
// The postgres group runs when TEST_POSTGRES_URL is set (see storetest).
func BenchmarkHotPaths(b *testing.B) {
	stores := []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.Open}, {"postgres", storetest.OpenPostgres}}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			env := newHotEnv(b, st.open)
			for _, r := range []struct{ name, realm string }{{"rs256", "ldap-demo"}, {"es256", "ldap-demo-es256"}} {
				e := env.realm(r.realm)
				b.Run(r.name, func(b *testing.B) {
					b.Run("client_credentials", func(b *testing.B) {
						form := url.Values{"grant_type": {"client_credentials"}}.Encode()
						e.parallel(b, func() (int, []byte) { return e.token(form) })
					})
					b.Run("refresh_token", func(b *testing.B) {
						// One rotation chain per goroutine, each refreshed
						// with its newest token, as a client does under
						// refresh token rotation.
						chains := e.refreshTokens(b, 16*runtime.GOMAXPROCS(0))
						var next atomic.Int64
						b.SetParallelism(16)
						b.ReportAllocs()
						b.ResetTimer()
						defer reportCPUMicros(b)()
						b.RunParallel(func(pb *testing.PB) {
							rt := chains[next.Add(1)-1]
							for pb.Next() {
								st, body := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode())
								if st != http.StatusOK {
									b.Errorf("refresh: %d %s", st, body)
									return
								}
								if rt = hotField(body, "refresh_token"); rt == "" {
									b.Errorf("refresh: no refresh_token in %s", body)
									return
								}
							}
						})
					})
					b.Run("userinfo", func(b *testing.B) {
						e.parallel(b, func() (int, []byte) { return e.userinfo(e.accessToken(b)) })
					})
					b.Run("introspection", func(b *testing.B) {
						e.parallel(b, func() (int, []byte) {
							st, body := e.introspect(e.accessToken(b))
							if st == http.StatusOK && !bytes.Contains(body, []byte(`"active":true`)) {
								st = 0 // an inactive answer is a failure here
							}
							return st, body
						})
					})
				})
			}
		})
	}
}

type hotEnv struct {
	h http.Handler
}

// hotRealm is one realm of a hotEnv.
type hotRealm struct {
	h    http.Handler
	base string

	mu       sync.Mutex
	access   string // user1's access token for userinfo and introspection
	accessAt time.Time
}

const (
	hotClient, hotSecret = "ldap-app", "password"
	hotUser, hotPassword = "user1", "password"
	// hotAccessMaxAge keeps the shared access token well inside the
	// realm's 60 s access token lifespan.
	hotAccessMaxAge = 50 * time.Second
)

func newHotEnv(b *testing.B, open func(testing.TB) *store.DB) *hotEnv {
	b.Helper()
	return newHotEnvDB(b, open(b))
}

func newHotEnvDB(b testing.TB, db *store.DB) *hotEnv {
	b.Helper()
	ctx := context.Background()
	if _, err := provision.Master(ctx, db, "admin", "admin-pw", time.Now()); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile("../rep/testdata/ldap-demo-realm.json")
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := rep.ImportFile(ctx, db, data, rep.ImportOptions{Now: time.Now()}); err != nil {
		b.Fatal(err)
	}
	// The same realm signing ES256. Object ids are dropped: they are
	// unique across realms, and the import gives new ones.
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		b.Fatal(err)
	}
	doc = dropIDs(doc)
	doc.(map[string]any)["realm"] = "ldap-demo-es256"
	doc.(map[string]any)["defaultSignatureAlgorithm"] = "ES256"
	es, err := json.Marshal(doc)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := rep.ImportFile(ctx, db, es, rep.ImportOptions{Now: time.Now()}); err != nil {
		b.Fatal(err)
	}
	// The planner statistics a server has: store.Open gathers them on
	// start, and the cleanup loop on every pass.
	if err := db.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	return &hotEnv{h: server.New(server.Options{Store: db, Log: slog.New(slog.DiscardHandler)})}
}

func dropIDs(v any) any {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "id")
		for k, e := range v {
			v[k] = dropIDs(e)
		}
	case []any:
		for i, e := range v {
			v[i] = dropIDs(e)
		}
	}
	return v
}

// realm returns the requests of one of env's realms.
func (env *hotEnv) realm(name string) *hotRealm {
	return &hotRealm{h: env.h, base: "http://gatehouse.test/realms/" + name}
}

func hotPasswordForm() string {
	return url.Values{"grant_type": {"password"}, "username": {hotUser}, "password": {hotPassword}, "scope": {"openid"}}.Encode()
}

func (e *hotRealm) serve(req *http.Request) (int, []byte) {
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// token posts form to the token endpoint with client_secret_basic.
func (e *hotRealm) token(form string) (int, []byte) {
	return e.serve(e.clientPost("/protocol/openid-connect/token", form))
}

func (e *hotRealm) introspect(at string) (int, []byte) {
	return e.serve(e.clientPost("/protocol/openid-connect/token/introspect", "token="+url.QueryEscape(at)))
}

func (e *hotRealm) userinfo(at string) (int, []byte) {
	req := httptest.NewRequest(http.MethodGet, e.base+"/protocol/openid-connect/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	return e.serve(req)
}

func (e *hotRealm) clientPost(path, form string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, e.base+path, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(hotClient, hotSecret)
	return req
}

// accessToken returns user1's access token, fetching a new one once the
// current one is older than hotAccessMaxAge.
func (e *hotRealm) accessToken(b *testing.B) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.access != "" && time.Since(e.accessAt) < hotAccessMaxAge {
		return e.access
	}
	st, body := e.token(hotPasswordForm())
	if st != http.StatusOK {
		b.Errorf("password grant for an access token: %d %s", st, body)
		return ""
	}
	e.access, e.accessAt = hotField(body, "access_token"), time.Now()
	return e.access
}

// refreshTokens logs user1 in n times with scope openid and returns the n
// refresh tokens, each the head of its own session.
func (e *hotRealm) refreshTokens(b *testing.B, n int) []string {
	b.Helper()
	out := make([]string, n)
	for i := range out {
		st, body := e.token(hotPasswordForm())
		if st != http.StatusOK {
			b.Fatalf("password grant for a refresh token: %d %s", st, body)
		}
		out[i] = hotField(body, "refresh_token")
	}
	return out
}

// parallel runs req from 16 goroutines per GOMAXPROCS until b.N requests
// are done; anything but 200 fails the benchmark.
func (e *hotRealm) parallel(b *testing.B, req func() (int, []byte)) {
	// Warm the node's configuration cache and the access token outside
	// the measurement.
	if st, body := req(); st != http.StatusOK {
		b.Fatalf("%d %s", st, body)
	}
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPUMicros(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if st, body := req(); st != http.StatusOK {
				b.Errorf("%d %s", st, body)
				return
			}
		}
	})
}

func hotField(body []byte, name string) string {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return ""
	}
	s, _ := m[name].(string)
	return s
}

// reportCPUMicros starts counting the process's CPU time; the function it
// returns reports it per op as cpu-us/op.
func reportCPUMicros(b *testing.B) func() {
	start := processCPU()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(processCPU()-start)/float64(time.Microsecond)/float64(b.N), "cpu-us/op")
		}
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
