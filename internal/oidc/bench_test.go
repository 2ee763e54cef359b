//go:build unix

package oidc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gateoidc "github.com/gatehouse-iam/gatehouse/internal/oidc"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// BenchmarkGrants measures each back-channel request of issue 3 against the
// story-1 realm (ldap-demo as shipped: RS256, rotation on, max reuse 2) on a
// real store, through the oidc handler and httptest, without a network in
// between: ns/op is the server's own cost per request. Requests come from
// 16 goroutines per GOMAXPROCS, like the load command's 16 clients, so lock
// and connection-pool contention shows too. For one core's figures and a
// profile of one grant:
//
//	go test -run XXX -bench 'Grants/sqlite/userinfo' -cpu 1 -cpuprofile cpu.out ./internal/oidc/
//	go tool pprof -top cpu.out
//
// Besides ns/op (wall time, which other processes on the core inflate) each
// benchmark reports cpu-ms/op, the process's user and system CPU time per
// request, GC included: 1000 / cpu-ms/op is the requests per second one core
// can serve, whatever else the machine was doing.
//
// The postgres group runs when TEST_POSTGRES_URL is set (see storetest).
func BenchmarkGrants(b *testing.B) {
	stores := []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.Open}, {"postgres", storetest.OpenPostgres}}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			e := newBenchEnv(b, st.open)
			b.Run("client_credentials", func(b *testing.B) {
				e.parallel(b, func() (int, []byte) {
					return e.token(url.Values{"grant_type": {"client_credentials"}})
				})
			})
			b.Run("password", func(b *testing.B) {
				e.parallel(b, func() (int, []byte) {
					return e.token(benchPasswordForm())
				})
			})
			b.Run("refresh_token", func(b *testing.B) {
				// One rotation chain per goroutine, each refreshed with its
				// newest token, as a client does under refresh token rotation.
				chains := e.refreshTokens(b, 16*runtime.GOMAXPROCS(0))
				var (
					next atomic.Int64
					lat  latencies
				)
				b.SetParallelism(16)
				b.ReportAllocs()
				b.ResetTimer()
				defer lat.report(b)
				defer reportCPU(b)()
				b.RunParallel(func(pb *testing.PB) {
					rt := chains[next.Add(1)-1]
					var mine []time.Duration
					defer func() { lat.add(mine) }()
					for pb.Next() {
						t0 := time.Now()
						st, body := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
						mine = append(mine, time.Since(t0))
						if st != http.StatusOK {
							b.Errorf("refresh: %d %s", st, body)
							return
						}
						if rt = benchField(body, "refresh_token"); rt == "" {
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
}

// BenchmarkPasswordHash is the floor of the password grant: one argon2id
// verification at Keycloak's default parameters (what user1's hash becomes
// after the first login), with nothing else around it.
func BenchmarkPasswordHash(b *testing.B) {
	cred, err := user.NewPasswordCredential("c", "u", benchPassword, 0, user.HashPolicy{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if ok, err := user.VerifyPassword(benchPassword, cred); !ok || err != nil {
			b.Fatalf("verify: %v %v", ok, err)
		}
	}
}

// benchEnv is one store with the ldap-demo realm imported and the oidc
// handler over it.
type benchEnv struct {
	h http.Handler

	mu       sync.Mutex
	access   string // user1's access token for userinfo and introspection
	accessAt time.Time
}

const (
	benchClient, benchSecret = "ldap-app", "password"
	benchUser, benchPassword = "user1", "password"
	// benchAccessMaxAge keeps the shared access token well inside the
	// realm's 60 s access token lifespan.
	benchAccessMaxAge = 50 * time.Second
)

func newBenchEnv(b *testing.B, open func(testing.TB) *store.DB) *benchEnv {
	b.Helper()
	db := open(b)
	ctx := context.Background()
	now := time.Now()
	if _, err := provision.Master(ctx, db, "admin", "admin-pw", now); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile("../rep/testdata/ldap-demo-realm.json")
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := rep.ImportFile(ctx, db, data, rep.ImportOptions{Now: now}); err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	(&gateoidc.Handler{Store: db, Log: slog.New(slog.DiscardHandler), Now: time.Now}).Register(mux)
	e := &benchEnv{h: mux}
	// user1's stored hash is PBKDF2; the first login re-hashes it to the
	// realm's argon2id, which is what every later login then pays.
	if st, body := e.token(benchPasswordForm()); st != http.StatusOK {
		b.Fatalf("warm-up password grant: %d %s", st, body)
	}
	return e
}

func benchPasswordForm() url.Values {
	return url.Values{"grant_type": {"password"}, "username": {benchUser}, "password": {benchPassword}, "scope": {"openid"}}
}

// serve runs one request through the handler, with the configuration view
// the server gives every protocol request (server.New's withBase), so
// configuration comes from the node's cache as it does in service. The
// whole server's path is internal/server's BenchmarkHotPaths.
func (e *benchEnv) serve(req *http.Request) (int, []byte) {
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req.WithContext(store.WithConfigView(req.Context())))
	return rec.Code, rec.Body.Bytes()
}

// token posts form to the token endpoint with client_secret_basic.
func (e *benchEnv) token(form url.Values) (int, []byte) {
	return e.serve(e.clientPost("/protocol/openid-connect/token", form))
}

func (e *benchEnv) introspect(at string) (int, []byte) {
	return e.serve(e.clientPost("/protocol/openid-connect/token/introspect", url.Values{"token": {at}}))
}

func (e *benchEnv) userinfo(at string) (int, []byte) {
	req := httptest.NewRequest(http.MethodGet, "http://gatehouse.test/realms/ldap-demo/protocol/openid-connect/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	return e.serve(req)
}

func (e *benchEnv) clientPost(path string, form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "http://gatehouse.test/realms/ldap-demo"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(benchClient, benchSecret)
	return req
}

// accessToken returns user1's access token, fetching a new one once the
// current one is older than benchAccessMaxAge.
func (e *benchEnv) accessToken(b *testing.B) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.access != "" && time.Since(e.accessAt) < benchAccessMaxAge {
		return e.access
	}
	st, body := e.token(benchPasswordForm())
	if st != http.StatusOK {
		b.Errorf("password grant for an access token: %d %s", st, body)
		return ""
	}
	e.access, e.accessAt = benchField(body, "access_token"), time.Now()
	return e.access
}

// refreshTokens logs user1 in n times with scope openid and returns the n
// refresh tokens, each the head of its own session.
func (e *benchEnv) refreshTokens(b *testing.B, n int) []string {
	b.Helper()
	out := make([]string, n)
	for i := range out {
		st, body := e.token(benchPasswordForm())
		if st != http.StatusOK {
			b.Fatalf("password grant for a refresh token: %d %s", st, body)
		}
		out[i] = benchField(body, "refresh_token")
	}
	return out
}

// parallel runs req from 16 goroutines per GOMAXPROCS until b.N requests
// are done; anything but 200 fails the benchmark. Besides the CPU per
// request it reports the 99th percentile of the requests' wall time
// (p99-ms), which shows queueing inside the process: lock convoys,
// goroutines starved of the one core.
func (e *benchEnv) parallel(b *testing.B, req func() (int, []byte)) {
	b.SetParallelism(16)
	b.ReportAllocs()
	var lat latencies
	b.ResetTimer()
	defer lat.report(b)
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		defer func() { lat.add(mine) }()
		for pb.Next() {
			t0 := time.Now()
			st, body := req()
			mine = append(mine, time.Since(t0))
			if st != http.StatusOK {
				b.Errorf("%d %s", st, body)
				return
			}
		}
	})
}

// latencies collects the wall time of every request of a benchmark.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, d...)
}

// report reports the 99th percentile as p99-ms.
func (l *latencies) report(b *testing.B) {
	if len(l.all) > 0 {
		slices.Sort(l.all)
		b.ReportMetric(float64(l.all[len(l.all)*99/100])/float64(time.Millisecond), "p99-ms")
	}
}

// benchField reads one string field of a JSON object.
func benchField(body []byte, name string) string {
	var m map[string]any
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&m); err != nil && err != io.EOF {
		return ""
	}
	s, _ := m[name].(string)
	return s
}

// reportCPU starts counting the process's CPU time; the function it returns
// reports it per op as cpu-ms/op.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		}
	}
}

// cpuTime is the user and system CPU time of the whole process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
