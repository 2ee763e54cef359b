package server_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// Issue 12, hole 4: password checks on a node are bounded by its hash gate.
// With every slot taken and no time left to wait, the token endpoint and
// the login page answer 503 with Retry-After, hash nothing and count no
// failure; once a slot is free the same login succeeds.
func TestHashGateRefusesWhenFull(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		e := newBFEnv(t, []*store.DB{db}, func(*realm.Realm) {})
		gate := authn.NewHashGate(1, 0) // a deadline already passed
		srv := httptest.NewServer(server.New(server.Options{Store: db, Now: e.clock.Now, Log: slog.New(slog.DiscardHandler), Hashes: gate}))
		t.Cleanup(srv.Close)
		e.srvs = []*httptest.Server{srv}

		release, err := gate.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		before := authn.PasswordVerifications.Load()
		form := url.Values{"grant_type": {"password"}, "username": {"ann"}, "password": {"wrong"}}
		req, _ := http.NewRequest("POST", srv.URL+"/realms/bf/protocol/openid-connect/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("app", bfSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("password grant with the gate full: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		st, hdr, body := e.loginFormHeader("ann", "wrong")
		if st != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
			t.Errorf("login form with the gate full: %d, Retry-After %q: %.300s; want 503 with Retry-After", st, hdr.Get("Retry-After"), body)
		}
		if n := authn.PasswordVerifications.Load() - before; n != 0 {
			t.Errorf("%d passwords verified with the gate full", n)
		}
		if f, err := db.GetLoginFailure(t.Context(), e.rl.ID, e.ann.ID); err == nil && f.NumFailures != 0 {
			t.Errorf("refused attempts counted as %d failures", f.NumFailures)
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}

		release()
		if st, body := e.grant(0, "ann", bfPassword); st != http.StatusOK {
			t.Errorf("password grant with a free slot: %d %s", st, body)
		}
	})
}
