package server

import (
	"net/http"
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
