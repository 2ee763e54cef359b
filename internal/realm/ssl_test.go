package realm

import "testing"

func TestSecureRequired(t *testing.T) {
	for _, c := range []struct {
		ssl, host string
		want      bool
	}{
		{"external", "up.example", true}, {"external", "localhost", false}, {"external", "127.0.0.1", false},
		{"external", "10.1.2.3", false}, {"external", "192.168.0.9", false}, {"external", "[::1]", false},
		{"external", "8.8.8.8", true}, {"all", "localhost", true}, {"none", "up.example", false},
	} {
		if got := (Realm{SSLRequired: c.ssl}).SecureRequired(c.host); got != c.want {
			t.Errorf("%s %s: %v, want %v", c.ssl, c.host, got, c.want)
		}
	}
}
