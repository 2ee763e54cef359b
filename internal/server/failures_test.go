package server_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Regression (issue 13): the default limits (50 requests a second per
// address, 10 per username) answered 429 to a backend minting
// client_credentials tokens and to a test suite's password grants, which
// Keycloak never refuses. By default only failures are counted; a flood of
// them still ends in 429 with Retry-After. The clock stands still, so no
// bucket refills during the test.
func TestDefaultLimitsCountOnlyFailures(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := startLimitedOn(t, open(t), server.DefaultLimits(), web.URLs{})
		e.addMasterClient(t, "backend", func(c *client.Client) { c.Secret, c.ServiceAccountsEnabled = "backend-secret", true })
		cc := func(secret string) response {
			return e.post(t, tokenPath, form("grant_type", "client_credentials"),
				map[string]string{"Authorization": "Basic " + basicAuth("backend", secret)})
		}
		password := func(username, pw string) response {
			return e.post(t, tokenPath, form("grant_type", "password", "client_id", "admin-cli",
				"username", username, "password", pw), nil)
		}
		refused := func(t *testing.T, r response) {
			t.Helper()
			if r.status != http.StatusTooManyRequests {
				t.Fatalf("status %d %s, want 429", r.status, r.body)
			}
			if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
				t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
			}
			if got := string(r.body); got != `{"error":"too_many_requests","error_description":"Too many requests"}` {
				t.Errorf("body = %s", got)
			}
		}

		t.Run("correct client_credentials grants from one address are never refused", func(t *testing.T) {
			for i := range 1000 {
				if r := cc("backend-secret"); r.status != http.StatusOK {
					t.Fatalf("grant %d: %d %s", i+1, r.status, r.body)
				}
			}
		})
		t.Run("correct password grants of one user are never refused", func(t *testing.T) {
			for i := range 40 {
				if r := password("admin", "pw"); r.status != http.StatusOK {
					t.Fatalf("grant %d: %d %s", i+1, r.status, r.body)
				}
			}
		})
		t.Run("wrong passwords for one username end in 429", func(t *testing.T) {
			var n int
			for n = 1; n <= 60; n++ {
				r := password("admin", "wrong")
				if r.status == http.StatusTooManyRequests {
					refused(t, r)
					break
				}
				if r.status != http.StatusUnauthorized {
					t.Fatalf("guess %d: %d %s", n, r.status, r.body)
				}
			}
			if n > 60 {
				t.Fatal("60 wrong passwords for one username, none refused")
			}
			t.Logf("wrong password %d for one username was refused", n)
			if r := password("someone-else", "wrong"); r.status != http.StatusUnauthorized {
				t.Errorf("another username: %d %s", r.status, r.body)
			}
		})
		t.Run("200 failures from one address end in 429s", func(t *testing.T) {
			limited := 0
			for i := range 200 {
				var r response
				if i%2 == 0 {
					r = password(fmt.Sprint("guess-", i), "wrong")
				} else {
					r = cc("wrong-secret")
				}
				switch r.status {
				case http.StatusTooManyRequests:
					refused(t, r)
					limited++
				case http.StatusUnauthorized:
					if limited > 0 {
						t.Fatalf("failure %d answered 401 after a 429", i+1)
					}
				default:
					t.Fatalf("failure %d: %d %s", i+1, r.status, r.body)
				}
			}
			if limited == 0 {
				t.Fatal("200 failures from one address, none refused")
			}
			t.Logf("%d of 200 failures from one address answered 429", limited)
		})
	})
}

// The login form's wrong passwords count as the password grant's do, and a
// right one is never refused until they do.
func TestDefaultLimitsCountLoginFormFailures(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := startLimitedOn(t, open(t), server.DefaultLimits(), web.URLs{})
		action, post, with := openLoginForm(t, e)
		var n int
		for n = 1; n <= 60; n++ {
			st, _, body := post(action, with("username", "admin", "password", "wrong"))
			if st == http.StatusTooManyRequests {
				if !strings.Contains(body, "Too many requests") {
					t.Errorf("429 page: %s", body)
				}
				break
			}
			if st != http.StatusOK || !strings.Contains(body, "Invalid username or password.") {
				t.Fatalf("guess %d: %d %.200s", n, st, body)
			}
		}
		if n > 60 {
			t.Fatal("60 wrong passwords on the login form, none refused")
		}
		t.Logf("wrong password %d on the login form was refused", n)
	})
}

// --rate-limit-ip and the realm's attributes still opt in to limits on every
// request, as before.
func TestRequestRateLimitsAreOptIn(t *testing.T) {
	l, err := server.LimitsFromConfig(configWith(t, "--rate-limit-ip", "1:3"))
	if err != nil {
		t.Fatal(err)
	}
	e := startLimited(t, l, web.URLs{})
	certs := e.srv.URL + "/realms/master/protocol/openid-connect/certs"
	for range 3 {
		if r := do(t, "GET", certs, nil, nil); r.status != http.StatusOK {
			t.Fatalf("%d", r.status)
		}
	}
	isJSONTooMany(t, do(t, "GET", certs, nil, nil))

	d, err := server.LimitsFromConfig(configWith(t))
	if err != nil {
		t.Fatal(err)
	}
	if !d.Enabled || !d.IP.IsUnlimited() || !d.User.IsUnlimited() || !d.Client.IsUnlimited() {
		t.Errorf("default request limits = %+v, want failures only", d)
	}
}

// configWith is start-dev's configuration with args.
func configWith(t *testing.T, args ...string) config.Config {
	t.Helper()
	c, err := config.Load(config.ModeStartDev, args, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Wrong user codes on the device verification page are guesses at a short
// secret: they count per address like wrong passwords, and a flood of them
// ends in 429. Wrong client secrets at the device authorization endpoint
// count as they do at the token endpoint.
func TestDefaultLimitsCountDeviceGuesses(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := startLimitedOn(t, open(t), server.DefaultLimits(), web.URLs{})
		var n int
		for n = 1; n <= 200; n++ {
			r := e.post(t, "/realms/master/device", form("device_user_code", fmt.Sprintf("AAAA-%04d", n)), nil)
			if r.status == http.StatusTooManyRequests {
				break
			}
			if r.status != http.StatusOK || !strings.Contains(string(r.body), "Invalid code, please try again.") {
				t.Fatalf("guess %d: %d %.200s", n, r.status, r.body)
			}
		}
		if n > 200 {
			t.Fatal("200 wrong user codes from one address, none refused")
		}
		t.Logf("wrong user code %d from one address was refused", n)

		e = startLimitedOn(t, open(t), server.DefaultLimits(), web.URLs{})
		for n = 1; n <= 200; n++ {
			r := e.post(t, "/realms/master/protocol/openid-connect/auth/device", form("client_id", "admin-cli", "client_secret", "guess"), nil)
			if r.status == http.StatusTooManyRequests {
				isJSONTooMany(t, r)
				break
			}
			if r.status != http.StatusUnauthorized {
				t.Fatalf("guess %d: %d %s", n, r.status, r.body)
			}
		}
		if n > 200 {
			t.Fatal("200 wrong client secrets at the device endpoint, none refused")
		}
		t.Logf("wrong client secret %d at the device endpoint was refused", n)
	})
}
