package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/metrics"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

func TestManagementProbes(t *testing.T) {
	db := storetest.Open(t)
	m := &server.Management{Log: slog.New(slog.NewTextHandler(t.Output(), nil)), Metrics: metrics.New("test", nil)}
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	status := func(path string) int {
		t.Helper()
		return get(t, srv.URL+path, nil).status
	}
	check := func(phase string, want map[string]int) {
		t.Helper()
		for path, code := range want {
			if got := status(path); got != code {
				t.Errorf("%s: GET %s = %d, want %d", phase, path, got, code)
			}
		}
	}

	check("while starting", map[string]int{"/health/live": 200, "/health/started": 503, "/health/ready": 503, "/health": 503, "/metrics": 200})
	m.Started(db)
	check("started", map[string]int{"/health/live": 200, "/health/started": 200, "/health/ready": 200, "/health": 200})
	wantJSON(t, get(t, srv.URL+"/health/ready", nil), http.StatusOK,
		`{"status":"UP","checks":[{"name":"Gatehouse database connections health check","status":"UP"}]}`)
	m.Drain()
	check("draining", map[string]int{"/health/live": 200, "/health/started": 200, "/health/ready": 503})
	wantJSON(t, get(t, srv.URL+"/health/ready", nil), http.StatusServiceUnavailable,
		`{"status":"DOWN","checks":[{"name":"Gatehouse accepting requests","status":"DOWN"}]}`)
	check("anything else", map[string]int{"/realms/master": 404, "/health/nope": 404})

	t.Run("without metrics there is no /metrics", func(t *testing.T) {
		off := httptest.NewServer((&server.Management{}).Handler())
		defer off.Close()
		if r := get(t, off.URL+"/metrics", nil); r.status != http.StatusNotFound {
			t.Errorf("GET /metrics with metrics off: %d", r.status)
		}
	})
	t.Run("the public port serves no metrics", func(t *testing.T) {
		pub, _ := start(t, web.URLs{})
		if r := get(t, pub.URL+"/metrics", nil); r.status != http.StatusNotFound {
			t.Errorf("GET /metrics on the public port: %d", r.status)
		}
	})
}

// metricsRealm has a confidential client allowed the password and client
// credentials grants, and a user with a password who may get offline tokens.
// Its name is this test's alone: grant and login counters are process-wide.
const metricsRealm = `{
  "realm": "metrics-test", "enabled": true,
  "clients": [{"clientId": "svc", "enabled": true, "secret": "svc-secret", "directAccessGrantsEnabled": true,
    "serviceAccountsEnabled": true, "redirectUris": []}],
  "users": [{"username": "ann", "enabled": true, "realmRoles": ["offline_access"],
    "credentials": [{"type": "password", "value": "ann-pw"}]}]
}`

// A scrape after a short load shows what the load did: requests by route
// and status with histograms, grants issued and refused by type and error,
// logins and failures, session gauges equal to the store's counts, the
// database pool and the Go runtime.
func TestMetricsAfterLoad(t *testing.T) {
	db := storetest.Open(t)
	if _, err := provision.Master(t.Context(), db, "admin", "pw", now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rep.ImportFile(t.Context(), db, []byte(metricsRealm), rep.ImportOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	m := metrics.New("test", log)
	m.ObserveStore(db)
	pub := httptest.NewServer(server.New(server.Options{Store: db, Log: log, Now: func() time.Time { return now }, Metrics: m}))
	t.Cleanup(pub.Close)
	mgmt := &server.Management{Log: log, Metrics: m}
	mgmt.Started(db)
	msrv := httptest.NewServer(mgmt.Handler())
	t.Cleanup(msrv.Close)

	tokenURL := pub.URL + "/realms/metrics-test/protocol/openid-connect/token"
	grant := func(form url.Values, wantStatus int) map[string]any {
		t.Helper()
		r := do(t, http.MethodPost, tokenURL, map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			strings.NewReader(form.Encode()))
		if r.status != wantStatus {
			t.Fatalf("grant %s: status %d, want %d: %s", form.Get("grant_type"), r.status, wantStatus, r.body)
		}
		var body map[string]any
		json.Unmarshal(r.body, &body)
		return body
	}
	password := func(pw, secret, scope string) url.Values {
		return url.Values{"grant_type": {"password"}, "client_id": {"svc"}, "client_secret": {secret},
			"username": {"ann"}, "password": {pw}, "scope": {scope}}
	}
	var refresh string
	for range 3 {
		refresh = grant(password("ann-pw", "svc-secret", ""), http.StatusOK)["refresh_token"].(string)
	}
	grant(password("ann-pw", "svc-secret", "offline_access"), http.StatusOK)
	for range 2 {
		grant(password("wrong", "svc-secret", ""), http.StatusUnauthorized)
	}
	grant(password("ann-pw", "wrong-secret", ""), http.StatusUnauthorized)
	grant(url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc"}, "client_secret": {"svc-secret"}}, http.StatusOK)
	grant(url.Values{"grant_type": {"refresh_token"}, "client_id": {"svc"}, "client_secret": {"svc-secret"},
		"refresh_token": {refresh}}, http.StatusOK)
	grant(url.Values{"grant_type": {"refresh_token"}, "client_id": {"svc"}, "client_secret": {"svc-secret"},
		"refresh_token": {"not-a-token"}}, http.StatusBadRequest)
	for range 5 {
		if r := get(t, pub.URL+"/realms/metrics-test", nil); r.status != http.StatusOK {
			t.Fatalf("realm document: %d", r.status)
		}
	}
	get(t, pub.URL+"/no/such/path", nil)

	r := get(t, msrv.URL+"/metrics", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", r.status, r.body)
	}
	got := parseMetrics(t, r.body)

	const token = `uri="/realms/{realm}/protocol/openid-connect/token"`
	counts, err := db.CountSessions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var stored store.SessionCount
	for _, c := range counts {
		if c.Realm == "metrics-test" {
			stored = c
		}
	}
	if stored.Online != 3 || stored.Offline != 1 {
		t.Errorf("the store holds %+v sessions, want 3 online and 1 offline", stored)
	}
	want := map[string]float64{
		`http_server_requests_seconds_count{method="GET",outcome="SUCCESS",status="200",uri="/realms/{realm}"}`:            5,
		`http_server_requests_seconds_bucket{method="GET",outcome="SUCCESS",status="200",uri="/realms/{realm}",le="+Inf"}`: 5,
		`http_server_requests_seconds_count{method="POST",outcome="SUCCESS",status="200",` + token + `}`:                   6,
		`http_server_requests_seconds_count{method="POST",outcome="CLIENT_ERROR",status="401",` + token + `}`:              3,
		`http_server_requests_seconds_count{method="POST",outcome="CLIENT_ERROR",status="400",` + token + `}`:              1,
		`http_server_requests_seconds_count{method="GET",outcome="CLIENT_ERROR",status="404",uri="UNMATCHED"}`:             1,
		`gatehouse_grants_issued_total{grant_type="password",realm="metrics-test"}`:                                        4,
		`gatehouse_grants_issued_total{grant_type="client_credentials",realm="metrics-test"}`:                              1,
		`gatehouse_grants_issued_total{grant_type="refresh_token",realm="metrics-test"}`:                                   1,
		`gatehouse_grants_refused_total{error="invalid_grant",grant_type="password",realm="metrics-test"}`:                 2,
		`gatehouse_grants_refused_total{error="invalid_client",grant_type="password",realm="metrics-test"}`:                1,
		`gatehouse_grants_refused_total{error="invalid_grant",grant_type="refresh_token",realm="metrics-test"}`:            1,
		`gatehouse_logins_total{realm="metrics-test"}`:                                                                     4,
		`gatehouse_login_failures_total{realm="metrics-test"}`:                                                             2,
		`gatehouse_active_sessions{realm="metrics-test"}`:                                                                  float64(stored.Online),
		`gatehouse_offline_sessions{realm="metrics-test"}`:                                                                 float64(stored.Offline),
		`gatehouse_build_info{version="test"}`:                                                                             1,
		`go_sql_max_open_connections{db_name="gatehouse"}`:                                                                 9, // 8 for requests, 1 held by the node (store.Open)
	}
	for name, v := range want {
		if g, ok := got[name]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", name, g, ok, v)
		}
	}
	for _, name := range []string{"go_goroutines", "gatehouse_db_query_duration_seconds_count", "go_sql_open_connections{db_name=\"gatehouse\"}"} {
		if got[name] <= 0 {
			t.Errorf("%s = %v, want more than 0", name, got[name])
		}
	}
	// Nothing a client sends becomes a label: not the path, not the secret.
	for _, leak := range []string{"/no/such/path", "svc-secret", "ann-pw", "wrong"} {
		if bytes.Contains(r.body, []byte(leak)) {
			t.Errorf("/metrics contains %q", leak)
		}
	}
}

// parseMetrics reads the text exposition format into series → value.
func parseMetrics(t *testing.T, body []byte) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("bad metrics line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad value in %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}
