package session

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

func TestExpiry(t *testing.T) {
	r := realm.New("id", "r")
	r.SSOSessionIdleTimeout, r.SSOSessionMaxLifespan = 60, 36000
	r.OfflineSessionIdleTimeout = 60 * 86400
	c := client.New("c", "id", "app")
	short := client.New("c", "id", "app")
	short.Attributes["client.session.idle.timeout"] = "30"

	online := UserSession{Started: 1000, LastRefresh: 1000}
	nearMax := UserSession{Started: 1000, LastRefresh: 36990}
	offline := UserSession{Started: 1000, LastRefresh: 1000, Offline: true}
	withMax := r
	withMax.OfflineSessionMaxLifespanEnabled, withMax.OfflineSessionMaxLifespan = true, 5000

	cases := []struct {
		name string
		got  int64
		want int64
	}{
		{"refresh token lives for the SSO idle timeout", RefreshExpiry(r, c, online, 1000), 1060},
		{"each refresh extends it from the refresh time", RefreshExpiry(r, c, online, 1200), 1260},
		{"never past the SSO max lifespan", RefreshExpiry(r, c, nearMax, 36990), 37000},
		{"a shorter client session idle timeout wins", RefreshExpiry(r, short, online, 1000), 1030},
		{"offline token without max lifespan has exp 0", RefreshExpiry(r, c, offline, 1000), 0},
		{"offline token with max lifespan: idle, capped by max", RefreshExpiry(withMax, c, offline, 1000), 6000},
		{"session expires after idle", ExpiresAt(r, online), 1060},
		{"offline session uses the offline idle timeout", ExpiresAt(r, offline), 1000 + 60*86400},
		{"access token lifespan", AccessExpiry(r, c, online, 1000), 1300},
		{"access token capped by the SSO max", AccessExpiry(r, c, nearMax, 36990), 37000},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s: got %d want %d", tc.name, tc.got, tc.want)
		}
	}
	if Valid(r, online, 1060) || !Valid(r, online, 1059) {
		t.Error("Valid disagrees with ExpiresAt")
	}
	rm := r
	rm.SSOSessionIdleTimeoutRememberMe = 600
	if got := ExpiresAt(rm, UserSession{Started: 1000, LastRefresh: 1000, RememberMe: true}); got != 1600 {
		t.Errorf("remember-me idle: %d", got)
	}
}
