package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/admin"
)

// recorder is an admin.Mux that keeps the patterns.
type recorder []string

func (r *recorder) Handle(pattern string, _ http.Handler) { *r = append(*r, pattern) }

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// Every route the admin API registers is registered before a request that
// may match it is routed: adminRoute says yes to a path made from each
// pattern, its wildcards filled in.
func TestAdminRoutesAreFoundLazily(t *testing.T) {
	var patterns recorder
	(&admin.Handler{Now: time.Now}).Register(&patterns)
	if len(patterns) < 300 {
		t.Fatalf("recorded %d patterns; Register registers more", len(patterns))
	}
	for _, p := range patterns {
		_, path, _ := strings.Cut(p, " ")
		path = wildcard.ReplaceAllStringFunc(path, func(w string) string {
			switch {
			case w == "{$}":
				return ""
			case strings.HasSuffix(w, "...}"):
				return "x/y"
			}
			return "x"
		})
		if !adminRoute(path) {
			t.Errorf("pattern %q: adminRoute(%q) = false; a first request for it would miss it", p, path)
		}
	}
	for p, want := range map[string]bool{
		"/admin/realms/r/users":                   true,
		"/admin/master/console/":                  true,
		"/admin/serverinfo":                       true,
		"/resources/master/admin/en":              true,
		"/resources/v1/login.css":                 false, // a static file: no admin route
		"/resources/":                             false,
		"/realms/r/protocol/openid-connect/token": false,
		"/realms/r/account":                       false,
		"/admin":                                  false, // the console's catch-all answers it
	} {
		if got := adminRoute(p); got != want {
			t.Errorf("adminRoute(%q) = %v, want %v", p, got, want)
		}
	}
}

// A registration that panics half-way (two patterns in conflict) leaves
// the requests that need the group answered 500, every time, and the rest
// of the mux serving; it is logged once.
func TestFailedRegistrationAnswers500(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /realms/{realm}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	var logged strings.Builder
	l := &lazyRoutes{mux: mux, needs: adminRoute, log: slog.New(slog.NewTextHandler(&logged, nil)),
		register: func(m admin.Mux) {
			m.Handle("GET /admin/realms/{realm}/users", http.NotFoundHandler())
			m.Handle("GET /admin/realms/{name}/users", http.NotFoundHandler()) // conflicts: ServeMux panics
		}}
	for range 2 {
		w := httptest.NewRecorder()
		l.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/admin/realms/r/users", nil))
		if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "unknown_error") {
			t.Errorf("admin request after a failed registration: %d %s, want 500", w.Code, w.Body)
		}
		w = httptest.NewRecorder()
		l.all().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/realms/r", nil))
		if w.Code != http.StatusInternalServerError {
			t.Errorf("in-process API call after a failed registration: %d, want 500", w.Code)
		}
		if _, pattern := l.Handler(httptest.NewRequest(http.MethodGet, "/admin/realms/r/users", nil)); pattern != "" {
			t.Errorf("route named %q after a failed registration", pattern)
		}
	}
	w := httptest.NewRecorder()
	l.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/realms/r", nil))
	if w.Code != http.StatusTeapot {
		t.Errorf("a request that needs no admin route: %d, want its own route's 418", w.Code)
	}
	if n := strings.Count(logged.String(), "cannot register the admin API's routes"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logged.String())
	}
}
