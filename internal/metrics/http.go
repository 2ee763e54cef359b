package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Instrument records every request next serves in
// http_server_requests_seconds. It reads the route the mux matched after
// next has run, so it must wrap the mux (or whatever copies the pattern back
// onto the outer request, as the server's relative-path prefix does). now is
// the server's clock.
func (m *Metrics) Instrument(now func() time.Time, next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := now()
		sw := &web.StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		m.requests.with(requestKey{method: method(r.Method), uri: route(r.Pattern), status: sw.Status()}).
			Update(now().Sub(start).Seconds())
	})
}

// requestKey is one series of http_server_requests_seconds. Its values come
// from registered patterns, a fixed list of methods and the statuses the
// handlers write, so the set of keys stays small.
type requestKey struct {
	method, uri string
	status      int
}

// requestSeries is the histogram of k's series in set.
func requestSeries(set *vm.Set) func(requestKey) *vm.PrometheusHistogram {
	return func(k requestKey) *vm.PrometheusHistogram {
		return set.GetOrCreatePrometheusHistogramExt(series("http_server_requests_seconds",
			"method", k.method, "outcome", outcome(k.status), "status", strconv.Itoa(k.status), "uri", k.uri), requestBuckets)
	}
}

// route is the path part of a ServeMux pattern ("GET /realms/{realm}" →
// "/realms/{realm}"): the template, never the path as sent, which would
// carry realm names, ids and, for some endpoints, codes.
func route(pattern string) string {
	if pattern == "" {
		return "UNMATCHED"
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = pattern[i+1:]
	}
	return pattern
}

// method keeps the standard methods and folds anything else into one
// value: a request may carry any token as its method.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// outcome is Micrometer's classification, which Keycloak's metric carries.
func outcome(status int) string {
	switch {
	case status < 200:
		return "INFORMATIONAL"
	case status < 300:
		return "SUCCESS"
	case status < 400:
		return "REDIRECTION"
	case status < 500:
		return "CLIENT_ERROR"
	case status < 600:
		return "SERVER_ERROR"
	}
	return "UNKNOWN"
}
