package server_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The admin API's routes are registered on the first request that needs
// them; whichever kind of request comes first on a fresh server gets the
// admin API's answer, not the 404 of a route not yet there.
func TestAdminRoutesOnFirstRequest(t *testing.T) {
	for _, c := range []struct {
		name, method, path string
		status             int
		contains           string
	}{
		{"admin API", http.MethodGet, "/admin/realms/master/users", http.StatusUnauthorized, ""},
		{"server info", http.MethodGet, "/admin/serverinfo", http.StatusUnauthorized, ""},
		{"client registration", http.MethodPost, "/realms/master/clients-registrations/openid-connect", http.StatusBadRequest, "invalid_client_metadata"},
		{"message bundle", http.MethodGet, "/resources/master/admin/en", http.StatusOK, `"key"`},
		{"a method the route does not take", http.MethodDelete, "/admin/serverinfo", http.StatusMethodNotAllowed, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, _ := start(t, web.URLs{})
			r := do(t, c.method, srv.URL+c.path, nil, nil)
			if r.status != c.status || !strings.Contains(string(r.body), c.contains) {
				t.Fatalf("%s %s on a fresh server: %d %s, want %d", c.method, c.path, r.status, r.body, c.status)
			}
		})
	}
}

// Server info's uptime counts from the server's start, not from the first
// admin request that registered the route.
func TestServerInfoUptimeFromStart(t *testing.T) {
	db := storetest.Open(t)
	if _, err := provision.Master(t.Context(), db, "admin", "pw", now); err != nil {
		t.Fatalf("provision master: %v", err)
	}
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	h := server.New(server.Options{
		Store: db,
		Log:   slog.New(slog.NewTextHandler(t.Output(), nil)),
		Now:   func() time.Time { return time.Unix(0, clock.Load()).UTC() },
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	clock.Add(int64(time.Hour))
	r := get(t, srv.URL+"/admin/serverinfo", map[string]string{"Authorization": "Bearer " + adminToken(t, srv.URL, "pw")})
	var info struct {
		SystemInfo struct {
			UptimeMillis int64 `json:"uptimeMillis"`
		} `json:"systemInfo"`
	}
	if err := json.Unmarshal(r.body, &info); err != nil || r.status != http.StatusOK {
		t.Fatalf("serverinfo: %d %s", r.status, r.body)
	}
	if got := time.Duration(info.SystemInfo.UptimeMillis) * time.Millisecond; got != time.Hour {
		t.Errorf("uptime %v, want %v", got, time.Hour)
	}
}

// Requests that arrive together on a fresh server, some needing the admin
// routes and some not, all get their own route's answer while the routes
// are being registered.
func TestAdminRoutesRegisteredUnderConcurrentRequests(t *testing.T) {
	srv, _ := start(t, web.URLs{})
	type result struct {
		path   string
		status int
	}
	paths := map[string]int{
		"/admin/serverinfo":                               http.StatusUnauthorized,
		"/admin/realms/master/clients":                    http.StatusUnauthorized,
		"/realms/master/.well-known/openid-configuration": http.StatusOK,
		"/resources/master/admin/en":                      http.StatusOK,
	}
	results := make(chan result, 40)
	for range 10 {
		for p := range paths {
			go func() {
				r, err := http.Get(srv.URL + p)
				if err != nil {
					results <- result{p, 0}
					return
				}
				r.Body.Close()
				results <- result{p, r.StatusCode}
			}()
		}
	}
	for range 10 * len(paths) {
		r := <-results
		if r.status != paths[r.path] {
			t.Errorf("GET %s: %d, want %d", r.path, r.status, paths[r.path])
		}
	}
}
