package web

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// AccessLog logs one line per request: method, route pattern (never the
// raw path or query, which can carry codes and tokens), status, latency and
// realm. It is an option (--http-access-log-enabled), off by default as
// Keycloak's access log is.
//
// The line is written off the request path: the handler only hands its
// fields to a buffer, and one goroutine formats and writes them, so a slow
// log sink (a pipe, a terminal, a full disk) never holds a response. When
// the buffer is full the line is dropped and counted; the count is logged
// as a warning once the writer catches up. Close writes what is buffered.
type AccessLog struct {
	log     *slog.Logger
	now     func() time.Time
	lines   chan accessLine
	dropped atomic.Int64
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once
}

type accessLine struct {
	method, route, realm string
	status               int
	latency              time.Duration
}

// accessLogBuffer is how many lines may wait for the writer: a few seconds
// of a node's peak rate.
const accessLogBuffer = 8192

// NewAccessLog starts the writer of an access log to log.
func NewAccessLog(log *slog.Logger, now func() time.Time) *AccessLog {
	a := &AccessLog{log: log, now: now, lines: make(chan accessLine, accessLogBuffer),
		quit: make(chan struct{}), done: make(chan struct{})}
	go a.write()
	return a
}

// Handler logs each request next serves.
func (a *AccessLog) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := a.now()
		sw := &StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		l := accessLine{method: r.Method, route: route, realm: r.PathValue("realm"),
			status: sw.Status(), latency: a.now().Sub(start)}
		select {
		case a.lines <- l:
		default:
			a.dropped.Add(1)
		}
	})
}

// Close writes the lines still buffered and stops the writer. Requests
// served after Close are not logged.
func (a *AccessLog) Close() {
	a.once.Do(func() { close(a.quit) })
	<-a.done
}

func (a *AccessLog) write() {
	defer close(a.done)
	for {
		select {
		case l := <-a.lines:
			a.emit(l)
		case <-a.quit:
			for {
				select {
				case l := <-a.lines:
					a.emit(l)
				default:
					a.reportDropped()
					return
				}
			}
		}
	}
}

func (a *AccessLog) emit(l accessLine) {
	a.log.LogAttrs(context.Background(), slog.LevelInfo, "request",
		slog.String("method", l.method), slog.String("route", l.route),
		slog.Int("status", l.status), slog.Duration("latency", l.latency),
		slog.String("realm", l.realm))
	if len(a.lines) == 0 {
		a.reportDropped()
	}
}

func (a *AccessLog) reportDropped() {
	if n := a.dropped.Swap(0); n > 0 {
		a.log.Warn("access log fell behind; request lines dropped", "dropped", n)
	}
}
