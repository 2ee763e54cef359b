package web

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// URLs computes the server's public base URL for a request: the configured
// hostname when there is one, otherwise the request's own scheme and host,
// taking forwarded headers into account only when the operator said a proxy
// sets them (a client could otherwise forge its issuer).
type URLs struct {
	// Hostname is --hostname as a URL (scheme, host, optional port and path),
	// or nil to follow the request.
	Hostname *url.URL
	// RelativePath is --http-relative-path, "" for the root ("/" normalised away).
	RelativePath string
	// ProxyHeaders is "", "forwarded" or "xforwarded".
	ProxyHeaders string
}

// ParseHostname turns --hostname into a URL: a bare host name means https on
// the default port, as Keycloak's hostname v2 does.
func ParseHostname(h string) (*url.URL, error) {
	if h == "" {
		return nil, nil
	}
	if !strings.Contains(h, "://") {
		h = "https://" + h
	}
	u, err := url.Parse(h)
	if err != nil {
		return nil, err
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// Base returns the base URL, without a trailing slash, under which every
// endpoint lives ("https://id.example/auth").
func (u URLs) Base(r *http.Request) string {
	if u.Hostname != nil {
		return u.Hostname.Scheme + "://" + u.Hostname.Host + u.Hostname.Path
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	switch u.ProxyHeaders {
	case "xforwarded":
		if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
			scheme = p
		}
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); validHost(h) {
			host = h
		}
		if p := firstValue(r.Header.Get("X-Forwarded-Port")); p != "" && validPort(p) {
			hostOnly := host
			if h, _, err := net.SplitHostPort(host); err == nil {
				hostOnly = h
			}
			if (scheme == "https" && p == "443") || (scheme == "http" && p == "80") {
				host = hostOnly
			} else {
				host = net.JoinHostPort(strings.Trim(hostOnly, "[]"), p)
			}
		}
	case "forwarded":
		proto, fhost := parseForwarded(r.Header.Get("Forwarded"))
		if proto == "http" || proto == "https" {
			scheme = proto
		}
		if validHost(fhost) {
			host = fhost
		}
	}
	if !validHost(host) {
		host = "localhost"
	}
	return scheme + "://" + host + u.RelativePath
}

// RealmURL is the issuer of a realm: {base}/realms/{name}.
func (u URLs) RealmURL(r *http.Request, realmName string) string {
	return u.Base(r) + "/realms/" + url.PathEscape(realmName)
}

func firstValue(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

// parseForwarded reads proto and host from the first element of an RFC 7239
// Forwarded header.
func parseForwarded(v string) (proto, host string) {
	first := firstValue(v)
	for _, pair := range strings.Split(first, ";") {
		k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			continue
		}
		val = strings.Trim(val, `"`)
		switch strings.ToLower(k) {
		case "proto":
			proto = strings.ToLower(val)
		case "host":
			host = val
		}
	}
	return proto, host
}

// validHost accepts host or host:port made of the characters a DNS name, an
// IPv4 or a bracketed IPv6 address can hold, so a forged header cannot smuggle
// a path, a user-info part or a second URL into the issuer.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '-', c == ':', c == '[', c == ']', c == '_':
		default:
			return false
		}
	}
	return true
}

func validPort(p string) bool {
	if len(p) > 5 {
		return false
	}
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// RequestURL is the absolute URL of r as its client addressed it, without
// query: what a DPoP proof's htu names (RFC 9449 §4.2).
func (u URLs) RequestURL(r *http.Request) string {
	return u.Base(r) + r.URL.EscapedPath()
}
