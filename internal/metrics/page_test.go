package metrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// A label value reaches the page escaped as the text format asks, so a
// quote or a backslash in it can neither end the label early nor forge
// another series. The store takes only plain realm names today; Grant and
// Login take any string, and a version is whatever the build says.
func TestLabelValuesAreEscaped(t *testing.T) {
	const odd = "a \"quoted\" realm\\with a backslash\nand a line"
	m := New("1.0 \"odd\"", nil)
	Grant(odd, "password", nil)
	Login(odd, false)
	Login(`ends in a backslash\`, true)

	out := gather(t, m)
	const escaped = `realm="a \"quoted\" realm\\with a backslash\nand a line"`
	// The counters are process-wide, so -count=2 finds them higher: the
	// series name is what is checked.
	for _, series := range []string{
		`gatehouse_grants_issued_total{grant_type="password",` + escaped + `}`,
		`gatehouse_logins_total{` + escaped + `}`,
		`gatehouse_login_failures_total{` + escaped + `}`,
		`gatehouse_build_info{version="1.0 \"odd\""}`,
		`gatehouse_logins_total{realm="ends in a backslash\\"}`,
	} {
		if !strings.Contains(out, "\n"+series+" ") {
			t.Errorf("missing %s", series)
		}
	}
	wellFormed(t, out)
}

// wellFormed checks every line of a page in the text format: comments are
// HELP or TYPE, each family has one TYPE line, which comes before its
// samples, and a family's samples stand together.
func wellFormed(t *testing.T, page string) {
	t.Helper()
	if !strings.HasSuffix(page, "\n") {
		t.Errorf("the page does not end with a line feed")
	}
	typed := map[string]bool{}
	var family, kind string
	for line := range strings.Lines(page) {
		line = strings.TrimSuffix(line, "\n")
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || typed[f[0]] {
				t.Errorf("TYPE line %q: malformed or repeated", line)
				continue
			}
			typed[f[0]] = true
			family, kind = f[0], f[1]
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Errorf("line %q has no value", line)
			continue
		}
		if err := vm.ValidateMetric(line[:i]); err != nil {
			t.Errorf("line %q: %v", line, err)
		}
		if _, err := strconv.ParseFloat(line[i+1:], 64); err != nil {
			t.Errorf("line %q: %v", line, err)
		}
		name, _, _ := strings.Cut(line[:i], "{")
		switch {
		case name == family:
		case (kind == "histogram" || kind == "summary") &&
			(name == family+"_bucket" || name == family+"_sum" || name == family+"_count"):
		default:
			t.Errorf("sample %q stands outside its family's block (last TYPE: %s)", line, family)
		}
	}
}

func TestPageIsWellFormed(t *testing.T) {
	db := storetest.Open(t)
	if err := db.CreateRealm(context.Background(), realm.New(store.NewID(), "well-formed")); err != nil {
		t.Fatal(err)
	}
	m := New("test", nil)
	m.ObserveStore(db)
	m.Instrument(time.Now, http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	Grant("well-formed", "client_credentials", nil)
	out := gather(t, m)
	wellFormed(t, out)
	for _, line := range []string{
		"# HELP http_server_requests_seconds HTTP requests by route pattern",
		"# TYPE http_server_requests_seconds histogram\n",
		"# TYPE gatehouse_grants_issued_total counter\n",
		"# TYPE gatehouse_active_sessions gauge\n",
		"# TYPE go_sql_wait_count_total counter\n",
		"# TYPE go_gc_duration_seconds summary\n",
		"\ngo_goroutines ",
		"\ngo_memstats_heap_inuse_bytes ",
		"\nprocess_resident_memory_bytes ",
		"\nprocess_open_fds ",
		"\ngo_sched_gomaxprocs_threads ",
		"\ngo_gc_gomemlimit_bytes ",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("missing %q", line)
		}
	}
	for _, bound := range []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"} {
		if !strings.Contains(out, `http_server_requests_seconds_bucket{method="GET",outcome="CLIENT_ERROR",status="404",uri="UNMATCHED",le="`+bound+`"} `) {
			t.Errorf("request histogram lacks the bucket le=%s", bound)
		}
	}
}

// Every New counts its own requests: servers sharing a process (as tests
// do) do not see each other's.
func TestEachMetricsCountsItsOwnRequests(t *testing.T) {
	a, b := New("a", nil), New("b", nil)
	a.Instrument(time.Now, http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if out := gather(t, b); strings.Contains(out, "http_server_requests_seconds") || strings.Contains(out, `version="a"`) {
		t.Errorf("b serves a's series:\n%s", out)
	}
	if !strings.Contains(gather(t, a), `http_server_requests_seconds_count{method="GET",outcome="CLIENT_ERROR",status="404",uri="UNMATCHED"} 1`) {
		t.Errorf("a lost its request")
	}
}

// go_gc_gogc_percent reads like a float, as it always has: off, which the
// runtime reports as the largest uint64, is 1.8446744073709552e+19.
func TestGCPercentGauge(t *testing.T) {
	m := New("test", nil)
	old := debug.SetGCPercent(150)
	defer debug.SetGCPercent(old)
	if got := value(t, m, "go_gc_gogc_percent"); got != 150 {
		t.Errorf("go_gc_gogc_percent = %v, want 150", got)
	}
	debug.SetGCPercent(-1)
	if out := gather(t, m); !strings.Contains(out, "\ngo_gc_gogc_percent 1.8446744073709552e+19\n") {
		t.Errorf("GOGC off: no go_gc_gogc_percent 1.8446744073709552e+19")
	}
}

// The GC pause quantiles are those of the pauses the runtime recorded: a
// process that has collected a few times reports their median, not the 0
// of the pause slots it has not used yet.
func TestGCPauseQuantilesCountOnlyRecordedPauses(t *testing.T) {
	for range 3 {
		runtime.GC()
	}
	out := gather(t, New("test", nil))
	wellFormed(t, out)
	for _, q := range []string{"0.5", "1"} {
		prefix := `go_gc_duration_seconds{quantile="` + q + `"} `
		i := strings.Index(out, "\n"+prefix)
		if i < 0 {
			t.Fatalf("no %s in the page", prefix)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(strings.SplitN(out[i+1+len(prefix):], "\n", 2)[0]), 64)
		if err != nil || v <= 0 {
			t.Errorf("%s%v (%v), want a pause above 0 after three collections", prefix, v, err)
		}
	}
	if n := strings.Count(out, "\ngo_gc_duration_seconds_count "); n != 1 {
		t.Errorf("go_gc_duration_seconds_count written %d times", n)
	}
}
