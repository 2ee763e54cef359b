package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type downErr struct{}

func (downErr) Error() string     { return "connection refused" }
func (downErr) Unavailable() bool { return true }

func TestHandleMapsErrors(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{"an unreachable database is 503, not a verdict", fmt.Errorf("load realm: %w", downErr{}), 503, "temporarily_unavailable"},
		{"a web.Error is written as is", &Error{Status: 404, Body: map[string]string{"error": "Realm does not exist"}}, 404, "Realm does not exist"},
		{"anything else is a 500 that reveals nothing", errors.New("secret detail"), 500, "unknown_error"},
	}
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		Handle(slog.New(slog.DiscardHandler), func(http.ResponseWriter, *http.Request) error { return tc.err }).
			ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.body) || strings.Contains(rec.Body.String(), "secret detail") {
			t.Errorf("%s: %d %s", tc.name, rec.Code, rec.Body)
		}
		if tc.status == 503 && rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", tc.name)
		}
	}
}

func TestStatusWriter(t *testing.T) {
	for name, tt := range map[string]struct {
		handler func(w http.ResponseWriter)
		want    int
	}{
		"nothing written":          {func(w http.ResponseWriter) {}, http.StatusOK},
		"body without a status":    {func(w http.ResponseWriter) { w.Write([]byte("x")) }, http.StatusOK},
		"status":                   {func(w http.ResponseWriter) { w.WriteHeader(http.StatusCreated) }, http.StatusCreated},
		"first status stands":      {func(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound); w.WriteHeader(http.StatusOK) }, http.StatusNotFound},
		"informational then final": {func(w http.ResponseWriter) { w.WriteHeader(http.StatusEarlyHints); w.WriteHeader(http.StatusNoContent) }, http.StatusNoContent},
	} {
		sw := &StatusWriter{ResponseWriter: httptest.NewRecorder()}
		tt.handler(sw)
		if sw.Status() != tt.want {
			t.Errorf("%s: status %d, want %d", name, sw.Status(), tt.want)
		}
	}
}
