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
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Metrics is one server's registry and request instruments. A nil *Metrics
// is valid and records nothing: --metrics-enabled false.
type Metrics struct {
	reg      *prometheus.Registry
	log      *slog.Logger
	requests *prometheus.HistogramVec
	queries  prometheus.Histogram
}

// New returns the registry with the runtime, process, build, request, grant
// and login metrics. Database and session metrics join when ObserveStore is
// called, once the store is open.
func New(version string, log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: log,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_server_requests_seconds",
			Help:    "HTTP requests by route pattern (uri), method, status and outcome, and how long they took.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "uri", "status", "outcome"}),
		queries: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gatehouse_db_query_duration_seconds",
			Help:    "Time from sending a SQL statement to the database's answer.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "gatehouse_build_info",
		Help:        "Always 1; the version label names the running build.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		build, m.requests,
		grantsIssued, grantsRefused, logins, loginFailures,
	)
	return m
}

// ObserveStore adds the store's metrics: the connection pool, the latency of
// every statement, and the session gauges, which count through the store
// on each scrape.
func (m *Metrics) ObserveStore(db *store.DB) {
	if m == nil || db == nil {
		return
	}
	m.reg.MustRegister(poolCollector{db: db}, m.queries, &sessionCollector{db: db, log: m.log})
	db.TimeQueries(func() func() {
		t := prometheus.NewTimer(m.queries)
		return func() { t.ObserveDuration() }
	})
}

// Handler serves the registry in Prometheus' text (or negotiated) format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	})
}

// Registry is the underlying registry, for tests that read values directly.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// scrapeTimeout bounds the store queries one scrape makes, so a slow
// database shows as missing session gauges rather than a hung scrape.
const scrapeTimeout = 3 * time.Second

// poolCollector reports database/sql's pool statistics under the names of
// client_golang's collectors.NewDBStatsCollector (go_sql_*), which needs the
// *sql.DB the store keeps to itself.
type poolCollector struct{ db *store.DB }

var (
	poolLabels      = prometheus.Labels{"db_name": "gatehouse"}
	poolMaxOpen     = prometheus.NewDesc("go_sql_max_open_connections", "Maximum number of open connections to the database.", nil, poolLabels)
	poolOpen        = prometheus.NewDesc("go_sql_open_connections", "The number of established connections both in use and idle.", nil, poolLabels)
	poolInUse       = prometheus.NewDesc("go_sql_in_use_connections", "The number of connections currently in use.", nil, poolLabels)
	poolIdle        = prometheus.NewDesc("go_sql_idle_connections", "The number of idle connections.", nil, poolLabels)
	poolWaitCount   = prometheus.NewDesc("go_sql_wait_count_total", "The total number of connections waited for.", nil, poolLabels)
	poolWaitSeconds = prometheus.NewDesc("go_sql_wait_duration_seconds_total", "The total time blocked waiting for a new connection.", nil, poolLabels)
	poolIdleClosed  = prometheus.NewDesc("go_sql_max_idle_closed_total", "The total number of connections closed due to SetMaxIdleConns.", nil, poolLabels)
	poolIdleTime    = prometheus.NewDesc("go_sql_max_idle_time_closed_total", "The total number of connections closed due to SetConnMaxIdleTime.", nil, poolLabels)
	poolLifetime    = prometheus.NewDesc("go_sql_max_lifetime_closed_total", "The total number of connections closed due to SetConnMaxLifetime.", nil, poolLabels)
)

func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolMaxOpen, poolOpen, poolInUse, poolIdle, poolWaitCount,
		poolWaitSeconds, poolIdleClosed, poolIdleTime, poolLifetime} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.db.PoolStats()
	ch <- prometheus.MustNewConstMetric(poolMaxOpen, prometheus.GaugeValue, float64(s.MaxOpenConnections))
	ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(s.OpenConnections))
	ch <- prometheus.MustNewConstMetric(poolInUse, prometheus.GaugeValue, float64(s.InUse))
	ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(s.Idle))
	ch <- prometheus.MustNewConstMetric(poolWaitCount, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(poolWaitSeconds, prometheus.CounterValue, s.WaitDuration.Seconds())
	ch <- prometheus.MustNewConstMetric(poolIdleClosed, prometheus.CounterValue, float64(s.MaxIdleClosed))
	ch <- prometheus.MustNewConstMetric(poolIdleTime, prometheus.CounterValue, float64(s.MaxIdleTimeClosed))
	ch <- prometheus.MustNewConstMetric(poolLifetime, prometheus.CounterValue, float64(s.MaxLifetimeClosed))
}

// sessionCollector counts sessions per realm when scraped: one grouped
// query, so the gauges always match the store, on every node, with no
// bookkeeping in the request path.
type sessionCollector struct {
	db  *store.DB
	log *slog.Logger
}

var (
	activeSessions  = prometheus.NewDesc("gatehouse_active_sessions", "User (SSO) sessions the store holds, per realm.", []string{"realm"}, nil)
	offlineSessions = prometheus.NewDesc("gatehouse_offline_sessions", "Offline sessions the store holds, per realm.", []string{"realm"}, nil)
)

func (*sessionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- activeSessions
	ch <- offlineSessions
}

func (c *sessionCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	counts, err := c.db.CountSessions(ctx)
	if err != nil {
		// Reported as an invalid metric, which promhttp turns into a
		// scrape error while serving everything else.
		c.log.Warn("metrics: count sessions", "err", err)
		ch <- prometheus.NewInvalidMetric(activeSessions, err)
		return
	}
	for _, n := range counts {
		ch <- prometheus.MustNewConstMetric(activeSessions, prometheus.GaugeValue, float64(n.Online), n.Realm)
		ch <- prometheus.MustNewConstMetric(offlineSessions, prometheus.GaugeValue, float64(n.Offline), n.Realm)
	}
}
