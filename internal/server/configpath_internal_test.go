package server

import "testing"

// Protocol and login requests read configuration through the cache; the
// APIs that edit configuration never do.
func TestCachedConfigPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/realms/r":  true,
		"/realms/r/": true,
		"/realms/r/protocol/openid-connect/token":        true,
		"/realms/r/protocol/openid-connect/userinfo":     true,
		"/realms/r/.well-known/openid-configuration":     true,
		"/realms/r/login-actions/authenticate":           true,
		"/realms/r/device":                               true,
		"/realms/r/account":                              false,
		"/realms/r/account/credentials":                  false,
		"/realms/r/clients-registrations/openid-connect": false,
		"/admin/realms/r/clients":                        false,
		"/admin/master/console/":                         false,
		"/resources/x.css":                               false,
	} {
		if got := cachedConfigPath(p); got != want {
			t.Errorf("cachedConfigPath(%q) = %v, want %v", p, got, want)
		}
	}
}
