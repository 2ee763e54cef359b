package realm

import (
	"net/netip"
	"strings"
)

// SecureRequired reports whether the realm's sslRequired setting demands
// https for a URL on host: always with "all", never with "none", and with
// "external" unless the host is local (localhost, a loopback or a private
// address).
func (r Realm) SecureRequired(host string) bool {
	switch r.SSLRequired {
	case "none":
		return false
	case "all":
		return true
	}
	if strings.EqualFold(host, "localhost") {
		return false
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return true
	}
	return !(a.IsLoopback() || a.IsPrivate())
}
