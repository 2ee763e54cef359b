package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

func TestInstrumentLabelsComeFromTheRouteNotTheRequest(t *testing.T) {
	m := New("test", nil)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /realms/{realm}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("DELETE /things/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	clock := time.Unix(0, 0)
	now := func() time.Time { clock = clock.Add(30 * time.Millisecond); return clock }
	h := m.Instrument(now, mux)

	for _, req := range []*http.Request{
		httptest.NewRequest("GET", "/realms/acme", nil),
		httptest.NewRequest("GET", "/realms/other", nil),
		httptest.NewRequest("DELETE", "/things/x7q9z", nil),
		httptest.NewRequest("GET", "/nothing/here?code=secret", nil),
		httptest.NewRequest("BREW", "/realms/acme", nil),
	} {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	out := gather(t, m)
	for _, line := range []string{
		`http_server_requests_seconds_count{method="GET",outcome="SUCCESS",status="200",uri="/realms/{realm}"} 2`,
		`http_server_requests_seconds_sum{method="GET",outcome="SUCCESS",status="200",uri="/realms/{realm}"} 0.06`,
		`http_server_requests_seconds_count{method="DELETE",outcome="SUCCESS",status="204",uri="/things/{id}"} 1`,
		`http_server_requests_seconds_count{method="GET",outcome="CLIENT_ERROR",status="404",uri="UNMATCHED"} 1`,
		`http_server_requests_seconds_count{method="OTHER",outcome="CLIENT_ERROR",status="405",uri="UNMATCHED"} 1`,
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("missing %s", line)
		}
	}
	for _, leak := range []string{"acme", "secret", "BREW", "x7q9z"} {
		if strings.Contains(out, leak) {
			t.Errorf("request text %q became a label", leak)
		}
	}
}

func gather(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	next := http.NotFoundHandler()
	if h := m.Instrument(time.Now, next); h == nil {
		t.Fatal("Instrument on nil returned nil")
	}
	m.ObserveStore(nil)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil metrics handler: %d", rec.Code)
	}
}

func TestGrantErrorCodes(t *testing.T) {
	type oauthBody struct {
		Error string `json:"error"`
		Desc  string `json:"error_description"`
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"OAuth error body", &web.Error{Status: 400, Code: "invalid_grant", Body: oauthBody{Error: "invalid_grant", Desc: "Invalid user credentials"}}, "invalid_grant"},
		{"wrapped", errors.Join(errors.New("x"), &web.Error{Status: 401, Code: "invalid_client", Body: oauthBody{Error: "invalid_client"}}), "invalid_client"},
		{"plain error", errors.New("database down"), "server_error"},
		{"error without a body", &web.Error{Status: 500}, "server_error"},
		{"body without an error member", &web.Error{Status: 400, Body: map[string]string{"errorMessage": "x"}}, "other"},
		{"code that is not a code", &web.Error{Status: 400, Code: "Robert'); DROP", Body: oauthBody{Error: "Robert'); DROP"}}, "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorCode(tt.err); got != tt.want {
				t.Errorf("errorCode = %q, want %q", got, tt.want)
			}
		})
	}

	m := New("test", nil)
	failures := `gatehouse_login_failures_total{realm="grant-codes"}`
	before := value(t, m, failures)
	Grant("grant-codes", "password", &web.Error{Status: 401, Code: "invalid_client", Body: oauthBody{Error: "invalid_client"}})
	Grant("grant-codes", "password", &web.Error{Status: 401, Code: "invalid_grant", Body: oauthBody{Error: "invalid_grant"}})
	Grant("grant-codes", "client_credentials", &web.Error{Status: 400, Code: "invalid_grant", Body: oauthBody{Error: "invalid_grant"}})
	if got := value(t, m, failures) - before; got != 1 {
		t.Errorf("login failures counted %v, want 1: only a password grant's invalid_grant is a failed login", got)
	}
	ok := `gatehouse_logins_total{realm="grant-codes"}`
	okBefore := value(t, m, ok)
	Login("grant-codes", true)
	Login("grant-codes", false)
	if got := value(t, m, ok) - okBefore; got != 1 {
		t.Errorf("logins = %v, want 1", got)
	}
}

// value is the value of one series in m's page, 0 when it is absent (a
// counter nothing has bumped yet).
func value(t *testing.T, m *Metrics, series string) float64 {
	t.Helper()
	for line := range strings.Lines(gather(t, m)) {
		if v, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	return 0
}

func TestStoreMetrics(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	for _, name := range []string{"busy", "idle"} {
		if err := db.CreateRealm(ctx, realm.New(store.NewID(), name)); err != nil {
			t.Fatal(err)
		}
	}
	busy, _ := db.GetRealmByName(ctx, "busy")
	u := user.User{ID: store.NewID(), RealmID: busy.ID, Username: "u", Enabled: true}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	for i, offline := range []bool{false, false, true} {
		s := session.UserSession{ID: store.NewID(), RealmID: busy.ID, UserID: u.ID, Offline: offline,
			Started: int64(i), LastRefresh: int64(i)}
		if err := db.CreateUserSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	m := New("test", nil)
	m.ObserveStore(db)
	out := gather(t, m)
	for _, line := range []string{
		`gatehouse_active_sessions{realm="busy"} 2`,
		`gatehouse_offline_sessions{realm="busy"} 1`,
		`gatehouse_active_sessions{realm="idle"} 0`,
		`gatehouse_offline_sessions{realm="idle"} 0`,
		`go_sql_max_open_connections{db_name="gatehouse"} 9`, // 8 for requests, 1 held by the node (store.Open)
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("missing %s in\n%s", line, out)
		}
	}
	if !strings.Contains(out, `gatehouse_db_query_duration_seconds_bucket{le="0.0005"} `) || value(t, m, "gatehouse_db_query_duration_seconds_count") == 0 {
		t.Errorf("query latency histogram missing")
	}
	db.Close()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "go_goroutines") {
		t.Errorf("a scrape with the database gone: %d; the rest must still be served", rec.Code)
	}
}
