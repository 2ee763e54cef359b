package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCORS(t *testing.T) {
	for _, tt := range []struct {
		name, origin string
		allowed      []string
		want         string
	}{
		{"listed origin", "https://app.example", []string{"https://app.example"}, "https://app.example"},
		{"any origin", "https://app.example", []string{"*"}, "https://app.example"},
		{"unlisted origin", "https://evil.example", []string{"https://app.example"}, ""},
		{"no allowed origins", "https://app.example", nil, ""},
		{"no Origin header", "", []string{"*"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			w := httptest.NewRecorder()
			CORS(w, r, tt.allowed)
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != tt.want {
				t.Fatalf("Access-Control-Allow-Origin %q, want %q", got, tt.want)
			}
			if tt.want != "" && w.Header().Get("Access-Control-Allow-Credentials") != "true" {
				t.Fatal("credentials not allowed")
			}
		})
	}
	// The first decision stands.
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Origin", "https://app.example")
	w := httptest.NewRecorder()
	CORS(w, r, []string{"https://app.example"})
	CORS(w, r, []string{"https://app.example"})
	if v := w.Header().Values("Vary"); len(v) != 1 {
		t.Errorf("Vary %q after two calls", v)
	}
}

func TestPreflight(t *testing.T) {
	r := httptest.NewRequest("OPTIONS", "/", nil)
	r.Header.Set("Origin", "https://app.example")
	w := httptest.NewRecorder()
	Preflight("GET, OPTIONS", "Authorization")(w, r)
	if w.Code != http.StatusOK || w.Header().Get("Access-Control-Allow-Methods") != "GET, OPTIONS" ||
		w.Header().Get("Access-Control-Allow-Headers") != "Authorization" || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("preflight: %d %v", w.Code, w.Header())
	}
}
