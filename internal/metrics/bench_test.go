package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// discard is a ResponseWriter that keeps nothing, so the benchmark measures
// the instrumentation rather than a recorder's buffers.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkInstrument is the cost a request pays for being counted: a
// matched route answering 200, as most requests are.
func BenchmarkInstrument(b *testing.B) {
	m := New("bench", nil)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /realms/{realm}", func(w http.ResponseWriter, r *http.Request) {})
	h := m.Instrument(time.Now, mux)
	req := httptest.NewRequest("GET", "/realms/acme", nil)
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}

// BenchmarkMux is the same request without Instrument, to subtract.
func BenchmarkMux(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /realms/{realm}", func(w http.ResponseWriter, r *http.Request) {})
	req := httptest.NewRequest("GET", "/realms/acme", nil)
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		mux.ServeHTTP(w, req)
	}
}

// BenchmarkGrant is what a token request pays to be counted, once its
// realm and grant type have been seen.
func BenchmarkGrant(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Grant("bench", "client_credentials", nil)
	}
}
