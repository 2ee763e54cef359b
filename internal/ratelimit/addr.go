package ratelimit

import (
	"fmt"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies whose X-Forwarded-For header is believed.
// The zero value trusts nobody: the connection's peer is the client.
type Proxies struct {
	prefixes []netip.Prefix
}

// ParseProxies reads a comma-separated list of addresses and CIDR ranges
// ("10.0.0.0/8, 192.168.1.10, fd00::/8"). An empty list trusts nobody.
func ParseProxies(s string) (Proxies, error) {
	var p Proxies
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		var pfx netip.Prefix
		if strings.Contains(item, "/") {
			var err error
			if pfx, err = netip.ParsePrefix(item); err != nil {
				return Proxies{}, fmt.Errorf("%q is not an address or a CIDR range", item)
			}
		} else {
			a, err := netip.ParseAddr(item)
			if err != nil {
				return Proxies{}, fmt.Errorf("%q is not an address or a CIDR range", item)
			}
			if a.Zone() != "" {
				return Proxies{}, fmt.Errorf("%q: zones are not supported", item)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		// An IPv4-mapped range would never match: addresses are unmapped
		// before the comparison.
		if pfx.Addr().Is4In6() && pfx.Bits() >= 96 {
			pfx = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-96)
		}
		p.prefixes = append(p.prefixes, pfx.Masked())
	}
	return p, nil
}

// String renders p as ParseProxies reads it, in normal form.
func (p Proxies) String() string {
	parts := make([]string, len(p.prefixes))
	for i, pfx := range p.prefixes {
		parts[i] = pfx.String()
	}
	return strings.Join(parts, ",")
}

// Trusts reports whether a is one of the proxies.
func (p Proxies) Trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, pfx := range p.prefixes {
		if pfx.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddr returns the address a request comes from: the connection's peer
// (remoteAddr, "host:port" as net/http gives it), unless the peer is a
// trusted proxy; then the right-most address of X-Forwarded-For (xff, the
// header's values in order) that is not a trusted proxy.
//
// Only the right-most untrusted entry can be believed: every proxy appends
// the peer it saw, so everything to its left was written by the client, who
// would otherwise pick a fresh address, and a fresh bucket, per request. An
// entry that does not parse ends the walk at the last trusted hop, which is
// then the client as far as anyone can tell. ok is false when remoteAddr
// holds no address at all.
func (p Proxies) ClientAddr(remoteAddr string, xff []string) (addr netip.Addr, ok bool) {
	peer, ok := parseAddr(remoteAddr)
	if !ok {
		return netip.Addr{}, false
	}
	if len(p.prefixes) == 0 || !p.Trusts(peer) {
		return peer, true
	}
	last := peer
	for i := len(xff) - 1; i >= 0; i-- {
		rest := xff[i]
		for rest != "" {
			var item string
			if j := strings.LastIndexByte(rest, ','); j >= 0 {
				rest, item = rest[:j], rest[j+1:]
			} else {
				rest, item = "", rest
			}
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			a, ok := parseAddr(item)
			if !ok {
				return last, true
			}
			if !p.Trusts(a) {
				return a, true
			}
			last = a
		}
	}
	return last, true
}

// parseAddr reads "addr", "addr:port" or "[v6]:port", unmapped and without zone.
func parseAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return a.Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// AddrKey is the bucket key of a client address. An IPv6 client is keyed by
// its /64: one subscriber commonly holds a whole /64 and could otherwise take
// a fresh address, and a fresh bucket, for every request.
func AddrKey(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
