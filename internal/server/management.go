package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/metrics"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Management is the management interface Keycloak serves on port 9000
// (--http-management-port): health probes and Prometheus metrics, on a port
// of their own so that the public port, which a proxy exposes, never serves
// metrics, and so that probes keep answering while the public port drains.
//
// It is bound before the database is opened, so its three probes tell an
// orchestrator the three things it asks: live (the process serves HTTP),
// started (migrations ran, the master realm and imports are in place, the
// public listeners are bound) and ready (started, not shutting down, and the
// database answers now).
type Management struct {
	Log     *slog.Logger
	Metrics *metrics.Metrics // nil: no /metrics (--metrics-enabled false)

	store    atomic.Pointer[store.DB] // set by Started
	draining atomic.Bool
	srv      *http.Server
}

// Check names of the management probes besides the database check.
const (
	startedCheck  = "Gatehouse started"
	shutdownCheck = "Gatehouse accepting requests"
	// managementShutdownTimeout bounds the wait for in-flight probes and
	// scrapes when the management listener closes, after the public one.
	managementShutdownTimeout = 5 * time.Second
)

// Handler returns the management routes.
func (m *Management) Handler() http.Handler {
	mux := http.NewServeMux()
	live := &health{log: m.log()}
	mux.HandleFunc("GET /health/live", live.live)
	mux.HandleFunc("GET /health/started", m.started)
	mux.HandleFunc("GET /health/ready", m.ready)
	mux.HandleFunc("GET /health", m.ready)
	if m.Metrics != nil {
		mux.Handle("GET /metrics", m.Metrics.Handler())
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.WriteJSON(w, http.StatusNotFound, notFoundBody)
	}))
	return mux
}

func (m *Management) log() *slog.Logger {
	if m.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Log
}

// Listen binds host:port and serves Handler on it in the background until
// Close. It returns the bound address.
func (m *Management) Listen(host string, port int) (string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return "", err
	}
	m.srv = &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(m.log().Handler(), slog.LevelWarn),
	}
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log().Error("management listener failed", "err", err)
		}
	}()
	return ln.Addr().String(), nil
}

// Started marks the server started: migrations ran, bootstrap and imports
// are done and the public listeners are bound. Readiness then follows db.
func (m *Management) Started(db *store.DB) { m.store.Store(db) }

// Drain makes readiness report DOWN from now on, so load balancers stop
// sending requests while the public listeners finish the ones in flight.
func (m *Management) Drain() { m.draining.Store(true) }

// Close stops the management listener, letting in-flight probes and
// scrapes finish for a few seconds.
func (m *Management) Close() error {
	if m.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), managementShutdownTimeout)
	defer cancel()
	if err := m.srv.Shutdown(ctx); err != nil {
		return m.srv.Close()
	}
	return nil
}

func (m *Management) started(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if m.store.Load() == nil {
		down(w, startedCheck)
		return
	}
	web.WriteJSON(w, http.StatusOK, healthReport{Status: statusUp, Checks: []healthCheck{{Name: startedCheck, Status: statusUp}}})
}

func (m *Management) ready(w http.ResponseWriter, r *http.Request) {
	db := m.store.Load()
	switch {
	case db == nil:
		w.Header().Set("Cache-Control", "no-store")
		down(w, startedCheck)
	case m.draining.Load():
		w.Header().Set("Cache-Control", "no-store")
		down(w, shutdownCheck)
	default:
		(&health{store: db, log: m.log()}).ready(w, r)
	}
}

func down(w http.ResponseWriter, check string) {
	web.WriteJSON(w, http.StatusServiceUnavailable, healthReport{Status: statusDown, Checks: []healthCheck{{Name: check, Status: statusDown}}})
}
