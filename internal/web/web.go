// Package web is the HTTP plumbing every API shares: handlers that return
// errors, JSON writing, request logging, and the server's public URLs
// (hostname, relative path, trusted proxy headers).
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// HandlerFunc is an HTTP handler that reports failure by returning an error,
// so each handler has one place where it decides what the client sees.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Code is the machine-readable code of a refusal: an OAuth 2.0 error code
// (RFC 6749 §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1) or one of Keycloak's own,
// as the body's "error" member carries it. Metrics and events read the code
// here, never by parsing the body back.
type Code string

// Error is a failure with the response the client gets. Body is written as
// JSON (each API supplies its own shape); Code names the failure for
// metrics and events ("" when the API has none); Err is the cause, for the
// log only.
type Error struct {
	Status int
	Code   Code
	Body   any
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("http %d: %v", e.Status, e.Err)
	}
	return fmt.Sprintf("http %d", e.Status)
}

func (e *Error) Unwrap() error { return e.Err }

// CodeOf is the Code of the *Error in err's chain, and whether it has one.
func CodeOf(err error) (Code, bool) {
	var he *Error
	if !errors.As(err, &he) || he.Code == "" {
		return "", false
	}
	return he.Code, true
}

// Refusal is, for the middleware in front of a handler, the Code of the
// refusal the handler answered with ("" when it refused nothing). The rate
// limiter reads it to count failed authentications, and only those.
type Refusal struct{ code Code }

// Code is the refusal's code, "" when there was none. Read it once the
// handler has returned.
func (f *Refusal) Code() Code { return f.code }

type refusalKey struct{}

// WithRefusal returns r with a Refusal that Handle and NoteRefusal fill in.
func WithRefusal(r *http.Request) (*http.Request, *Refusal) {
	f := &Refusal{}
	return r.WithContext(context.WithValue(r.Context(), refusalKey{}, f)), f
}

// NoteRefusal records code as the refusal of the request of ctx, for a
// handler that answers a refusal with a page rather than an *Error.
func NoteRefusal(ctx context.Context, code Code) {
	if f, ok := ctx.Value(refusalKey{}).(*Refusal); ok {
		f.code = code
	}
}

// Handle adapts h to http.Handler. An *Error is written as is; any other
// error is logged and answered with a 500 that reveals nothing.
func Handle(log *slog.Logger, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var he *Error
		if errors.As(err, &he) {
			if he.Code != "" {
				NoteRefusal(r.Context(), he.Code)
			}
			if he.Err != nil && he.Status >= 500 {
				log.ErrorContext(r.Context(), "request failed", "pattern", r.Pattern, "err", he.Err)
			}
			if he.Body == nil {
				w.WriteHeader(he.Status)
				return
			}
			WriteJSON(w, he.Status, he.Body)
			return
		}
		var down interface{ Unavailable() bool }
		if errors.As(err, &down) && down.Unavailable() {
			// The database (or a user storage provider) is away: say so
			// quickly, and that trying again soon is right; nothing was
			// decided about the request.
			log.WarnContext(r.Context(), "service unavailable", "pattern", r.Pattern, "err", err)
			w.Header().Set("Retry-After", "1")
			WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable",
				"error_description": "The service is temporarily unavailable"})
			return
		}
		log.ErrorContext(r.Context(), "request failed", "pattern", r.Pattern, "err", err)
		WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "unknown_error"})
	})
}

// WriteJSON writes v as the JSON body with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}

// StatusWriter remembers the status a handler answered with, for the
// middleware that logs, measures or audits the answer:
// &StatusWriter{ResponseWriter: w}.
type StatusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first final status; a 1xx informational answer
// (103 Early Hints) is followed by the real one.
func (s *StatusWriter) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *StatusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Status is the status answered: 200 when the handler wrote a body
// without one, or nothing at all, as net/http then answers.
func (s *StatusWriter) Status() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (s *StatusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// ClientIP is the caller's address as the connection shows it.
func ClientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}
