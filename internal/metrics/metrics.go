// Package metrics owns what Gatehouse tells Prometheus: HTTP requests by
// route, method and status with latency histograms; token grants issued and
// refused by grant type and realm; logins and login failures; active and
// offline sessions per realm; the database pool and query latency; the Go
// runtime and the process. The management listener serves it at /metrics.
//
// Request metrics keep Keycloak's names (http_server_requests_seconds with
// method, outcome, status and uri labels), so dashboards built for Keycloak
// find them. Label values are never taken from the request as sent: the uri
// is the matched route pattern, the method one of a fixed list, and realm
// names come from realms that exist, so nobody can grow the series count by
// sending odd requests.
//
// The page is Prometheus' text format, version 0.0.4. Series names are
// written once per label set, labels in the order of their names, values
// escaped (a realm's name is whatever an administrator typed).
package metrics

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	runtimemetrics "runtime/metrics"
	"strings"
	"sync/atomic"
	"time"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Metrics is one server's metric set and request instruments. A nil
// *Metrics is valid and records nothing: --metrics-enabled false.
type Metrics struct {
	set      *vm.Set
	log      *slog.Logger
	requests *family[requestKey, *vm.PrometheusHistogram]
	db       atomic.Pointer[store.DB]
}

// requestBuckets are Prometheus' default buckets, which the request
// histogram has always had.
var requestBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// queryBuckets reach lower than requestBuckets: most statements answer in
// well under a millisecond.
var queryBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// help is the # HELP text of each family Gatehouse defines; the runtime and
// process families have a TYPE line only.
var help = map[string]string{
	"http_server_requests_seconds":        "HTTP requests by route pattern (uri), method, status and outcome, and how long they took.",
	"gatehouse_db_query_duration_seconds": "Time from sending a SQL statement to the database's answer.",
	"gatehouse_build_info":                "Always 1; the version label names the running build.",
	"gatehouse_grants_issued_total":       "Token endpoint requests answered with tokens, by realm and grant type.",
	"gatehouse_grants_refused_total":      "Token endpoint requests refused, by realm, grant type and OAuth error code.",
	"gatehouse_logins_total":              "Successful password logins (login form and password grant), by realm.",
	"gatehouse_login_failures_total":      "Failed password logins (login form and password grant), by realm.",
	"gatehouse_active_sessions":           "User (SSO) sessions the store holds, per realm.",
	"gatehouse_offline_sessions":          "Offline sessions the store holds, per realm.",
	"go_sql_max_open_connections":         "Maximum number of open connections to the database.",
	"go_sql_open_connections":             "The number of established connections both in use and idle.",
	"go_sql_in_use_connections":           "The number of connections currently in use.",
	"go_sql_idle_connections":             "The number of idle connections.",
	"go_sql_wait_count_total":             "The total number of connections waited for.",
	"go_sql_wait_duration_seconds_total":  "The total time blocked waiting for a new connection.",
	"go_sql_max_idle_closed_total":        "The total number of connections closed due to SetMaxIdleConns.",
	"go_sql_max_idle_time_closed_total":   "The total number of connections closed due to SetConnMaxIdleTime.",
	"go_sql_max_lifetime_closed_total":    "The total number of connections closed due to SetConnMaxLifetime.",
	"go_gc_gogc_percent":                  "Heap size target percentage configured by the user, otherwise 100 (GOGC; off is the largest uint64).",
	"go_gc_gomemlimit_bytes":              "Go runtime memory limit configured by the user, otherwise math.MaxInt64 (GOMEMLIMIT).",
	"go_sched_gomaxprocs_threads":         "The current runtime.GOMAXPROCS setting.",
}

// New returns a set with the build and request metrics; the grant and login
// counters and the runtime and process metrics join it on every scrape.
// Database and session metrics join when ObserveStore is called, once the
// store is open. Each New is a set of its own: two servers in one process
// count their requests apart.
func New(version string, log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// # TYPE lines for every family; the switch is the library's, global.
	vm.ExposeMetadata(true)
	set := vm.NewSet()
	m := &Metrics{set: set, log: log, requests: &family[requestKey, *vm.PrometheusHistogram]{create: requestSeries(set)}}
	m.set.NewGauge(series("gatehouse_build_info", "version", version), func() float64 { return 1 })
	return m
}

// ObserveStore adds the store's metrics: the connection pool, the latency of
// every statement, and the session gauges, which count through the store
// on each scrape.
func (m *Metrics) ObserveStore(db *store.DB) {
	if m == nil || db == nil {
		return
	}
	queries := m.set.GetOrCreatePrometheusHistogramExt("gatehouse_db_query_duration_seconds", queryBuckets)
	m.db.Store(db)
	db.TimeQueries(func() func() {
		// A duration on the monotonic clock, not a time of day: the
		// server's clock value has no part in it.
		start := time.Now()
		return func() { queries.UpdateDuration(start) }
	})
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		m.write(&b)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write(withHelp(b.Bytes()))
	})
}

// write puts every family on w once, each in one block.
func (m *Metrics) write(w io.Writer) {
	m.set.WritePrometheus(w)
	counters.WritePrometheus(w)
	if db := m.db.Load(); db != nil {
		writePool(w, db)
		writeSessions(w, db, m.log)
	}
	writeRuntime(w)
	writeGo(w)
	vm.WriteProcMetrics(w)
	vm.WriteFDMetrics(w)
}

// gcDuration is the family writeGo writes itself.
const gcDuration = "go_gc_duration_seconds"

// writeGo writes the library's Go runtime families, but go_gc_duration_seconds
// from the pauses the runtime recorded: the library takes its quantiles over
// all 256 slots of MemStats.PauseNs, the empty ones too, so a node that has
// collected a few times reports a median pause of 0 for hours.
func writeGo(w io.Writer) {
	var b bytes.Buffer
	vm.WriteGoMetrics(&b)
	for line := range bytes.Lines(b.Bytes()) {
		name := line
		if rest, ok := bytes.CutPrefix(line, []byte("# ")); ok {
			_, name, _ = bytes.Cut(rest, []byte(" ")) // "# TYPE name type", "# HELP name"
		}
		if family, ok := bytes.CutPrefix(name, []byte(gcDuration)); ok && (len(family) == 0 || !isNameByte(family[0]) ||
			bytes.HasPrefix(family, []byte("_sum")) || bytes.HasPrefix(family, []byte("_count"))) {
			continue
		}
		w.Write(line)
	}
	writeGCDuration(w)
}

// isNameByte reports whether c may continue a metric name.
func isNameByte(c byte) bool {
	return c == '_' || c == ':' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// writeGCDuration writes the GC pause summary as client libraries do: the
// minimum, quartiles and maximum of the recent pauses, their sum and count.
func writeGCDuration(w io.Writer) {
	st := debug.GCStats{PauseQuantiles: make([]time.Duration, 5)}
	debug.ReadGCStats(&st)
	vm.WriteMetadataIfNeeded(w, gcDuration, "summary")
	for i, q := range []string{"0", "0.25", "0.5", "0.75", "1"} {
		fmt.Fprintf(w, "%s{quantile=%q} %g\n", gcDuration, q, st.PauseQuantiles[i].Seconds())
	}
	fmt.Fprintf(w, "%s_sum %g\n", gcDuration, st.PauseTotal.Seconds())
	fmt.Fprintf(w, "%s_count %d\n", gcDuration, st.NumGC)
}

// withHelp fills the bare "# HELP family" lines the library writes with the
// text help holds for that family, and leaves out those it has none for: a
// HELP line without text says nothing.
func withHelp(page []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(page) + 2048)
	for line := range bytes.Lines(page) {
		if family, ok := bytes.CutPrefix(bytes.TrimSuffix(line, []byte("\n")), []byte("# HELP ")); ok {
			if text, ok := help[string(family)]; ok {
				fmt.Fprintf(&out, "# HELP %s %s\n", family, text)
			}
			continue
		}
		out.Write(line)
	}
	return out.Bytes()
}

// series is a series name, name{label="value",...}, from label name and
// value pairs given in the order of the label names. The values are escaped
// as the text format asks: a backslash, a double quote and a line feed.
func series(name string, labels ...string) string {
	var b strings.Builder
	b.WriteString(name)
	for i := 0; i+1 < len(labels); i += 2 {
		if i == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(labels[i])
		b.WriteString(`="`)
		labelEscaper.WriteString(&b, labels[i+1])
		b.WriteByte('"')
	}
	if len(labels) > 0 {
		b.WriteByte('}')
	}
	return b.String()
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// scrapeTimeout bounds the store queries one scrape makes, so a slow
// database shows as missing session gauges rather than a hung scrape.
const scrapeTimeout = 3 * time.Second

// poolDB labels database/sql's pool statistics, under the names client
// libraries give them (go_sql_*).
const poolDB = "gatehouse"

func writePool(w io.Writer, db *store.DB) {
	s := db.PoolStats()
	gauge := func(name string, v int) { vm.WriteGaugeUint64(w, series(name, "db_name", poolDB), uint64(v)) }
	counter := func(name string, v int64) { vm.WriteCounterUint64(w, series(name, "db_name", poolDB), uint64(v)) }
	gauge("go_sql_max_open_connections", s.MaxOpenConnections)
	gauge("go_sql_open_connections", s.OpenConnections)
	gauge("go_sql_in_use_connections", s.InUse)
	gauge("go_sql_idle_connections", s.Idle)
	counter("go_sql_wait_count_total", s.WaitCount)
	vm.WriteCounterFloat64(w, series("go_sql_wait_duration_seconds_total", "db_name", poolDB), s.WaitDuration.Seconds())
	counter("go_sql_max_idle_closed_total", s.MaxIdleClosed)
	counter("go_sql_max_idle_time_closed_total", s.MaxIdleTimeClosed)
	counter("go_sql_max_lifetime_closed_total", s.MaxLifetimeClosed)
}

// writeSessions counts sessions per realm when scraped: one grouped query,
// so the gauges always match the store, on every node, with no bookkeeping
// in the request path. A failed count leaves the gauges out of this scrape
// and serves the rest.
func writeSessions(w io.Writer, db *store.DB, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	counts, err := db.CountSessions(ctx)
	if err != nil {
		log.Warn("metrics: count sessions", "err", err)
		return
	}
	if len(counts) == 0 {
		return
	}
	vm.WriteMetadataIfNeeded(w, "gatehouse_active_sessions", "gauge")
	for _, n := range counts {
		fmt.Fprintf(w, "%s %d\n", series("gatehouse_active_sessions", "realm", n.Realm), n.Online)
	}
	vm.WriteMetadataIfNeeded(w, "gatehouse_offline_sessions", "gauge")
	for _, n := range counts {
		fmt.Fprintf(w, "%s %d\n", series("gatehouse_offline_sessions", "realm", n.Realm), n.Offline)
	}
}

// runtimeGauges are the runtime/metrics settings the library does not
// report under these names, which earlier releases served; operators check
// go_gc_gogc_percent to see which GOGC a node runs with.
var runtimeGauges = [...]struct{ sample, name string }{
	{"/gc/gogc:percent", "go_gc_gogc_percent"},
	{"/gc/gomemlimit:bytes", "go_gc_gomemlimit_bytes"},
	{"/sched/gomaxprocs:threads", "go_sched_gomaxprocs_threads"},
}

func writeRuntime(w io.Writer) {
	var samples [len(runtimeGauges)]runtimemetrics.Sample
	for i, g := range runtimeGauges {
		samples[i].Name = g.sample
	}
	runtimemetrics.Read(samples[:])
	for i, g := range runtimeGauges {
		if samples[i].Value.Kind() != runtimemetrics.KindUint64 {
			continue
		}
		// As a float, like every runtime value before: GOGC=off, the
		// largest uint64, reads 1.8446744073709552e+19.
		vm.WriteGaugeFloat64(w, g.name, float64(samples[i].Value.Uint64()))
	}
}
