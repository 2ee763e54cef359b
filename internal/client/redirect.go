package client

import (
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxRedirectURI bounds a redirect URI; no real one comes close.
const maxRedirectURI = 4096

// forbiddenSchemes can run script or read local data where a browser lands
// (CVE-2023-6134: javascript: through a wildcard redirect URI).
var forbiddenSchemes = map[string]bool{
	"javascript": true, "data": true, "vbscript": true, "file": true, "blob": true, "about": true,
}

// RedirectRules is what a redirect URI is matched against: a client's
// registered URIs, relative ones resolved against its root URL (or the
// server's own origin when it has none).
type RedirectRules struct {
	registered []string
}

// newRedirectRules resolves registered URIs as Keycloak does (see
// resolveURL). authBase is the server's public base URL.
func newRedirectRules(registered []string, rootURL, authBase string) RedirectRules {
	out := RedirectRules{}
	for _, reg := range registered {
		reg = strings.TrimSpace(reg)
		if reg == "" {
			continue
		}
		out.registered = append(out.registered, resolveURL(reg, rootURL, authBase))
	}
	return out
}

// resolveURL makes a client's URL absolute as Keycloak does: one starting
// with "/" is relative to rootURL, or to the server's origin
// ("https://host:port") when the client has no root URL. A root URL of
// "${authBaseUrl}" (the built-in consoles) stands for authBase, the server's
// public base URL.
func resolveURL(u, rootURL, authBase string) string {
	if !strings.HasPrefix(u, "/") {
		return u
	}
	switch rootURL {
	case "${authBaseUrl}", "${authAdminUrl}":
		rootURL = authBase
	}
	root := strings.TrimSuffix(rootURL, "/")
	if root == "" {
		root = Origin(authBase)
	}
	return root + u
}

// Origin is scheme://host[:port] of an absolute URL, "" when it has none.
func Origin(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// ResolveURL is u (the client's base or admin URL) made absolute against
// the client's root URL; authBase is the server's public base URL.
func (c Client) ResolveURL(u, authBase string) string { return resolveURL(u, c.RootURL, authBase) }

// RedirectRules are the rules for the client's redirect_uri; authBase is
// the server's public base URL.
func (c Client) RedirectRules(authBase string) RedirectRules {
	return newRedirectRules(c.RedirectURIs, c.RootURL, authBase)
}

// RequestURIRules are the request_uri values (other than pushed ones) the
// client may send to have its request object fetched: its request.uris
// attribute ("##"-separated), matched as redirect URIs are. Without the
// attribute none is allowed.
func (c Client) RequestURIRules(authBase string) RedirectRules {
	return newRedirectRules(strings.Split(c.Attributes["request.uris"], "##"), c.RootURL, authBase)
}

// PostLogoutRules are the rules for post_logout_redirect_uri: the client's
// post.logout.redirect.uris attribute ("##"-separated), where "+" stands for
// its redirect URIs. Without the attribute no URI is allowed, as in Keycloak.
func (c Client) PostLogoutRules(authBase string) RedirectRules {
	var regs []string
	for _, v := range strings.Split(c.Attributes["post.logout.redirect.uris"], "##") {
		if v = strings.TrimSpace(v); v == "+" {
			regs = append(regs, c.RedirectURIs...)
		} else if v != "" {
			regs = append(regs, v)
		}
	}
	return newRedirectRules(regs, c.RootURL, authBase)
}

// Match reports whether given is an allowed redirect URI and returns the URI
// to send the browser to (given itself). The comparison is on the text as
// given, never case-folded or decoded (CVE-2020-15234), exact unless a
// registered URI ends in "*":
//
//   - "https://app.example/cb" allows exactly that, not "/cb/", "/CB" or
//     "/cb?x=1";
//   - "https://app.example/cb/*" allows any path below /cb/ (and /cb itself)
//     on the same scheme, host and port, with any query;
//   - "*" alone allows any URI (an administrator's choice Keycloak offers);
//   - a registered http://localhost/… or http://127.0.0.1/… without a port
//     allows any port (RFC 8252 §7.3), never another host or path.
//
// Whatever is registered, a URI is refused when it has a fragment, user
// info, a backslash, a control character, a "." or ".." path segment (even
// percent-encoded, CVE-2024-1132), an encoded "/" or "\", or a scheme that
// runs script or reads local data.
func (rr RedirectRules) Match(given string) (string, bool) {
	gu, ok := checkRedirectURI(given)
	if !ok {
		return "", false
	}
	if rr.matches(given, gu) {
		return given, true
	}
	// Native apps listen on an ephemeral loopback port (Keycloak and RFC 8252).
	if gu.Scheme == "http" && gu.Port() != "" && isLoopback(gu.Hostname()) {
		noPort := *gu
		noPort.Host = gu.Hostname()
		if strings.Contains(noPort.Host, ":") {
			noPort.Host = "[" + noPort.Host + "]"
		}
		if rr.matches(noPort.String(), &noPort) {
			return given, true
		}
	}
	return "", false
}

func (rr RedirectRules) matches(given string, gu *url.URL) bool {
	withoutQuery, _, _ := strings.Cut(given, "?")
	for _, reg := range rr.registered {
		prefix, wildcard := strings.CutSuffix(reg, "*")
		if !wildcard || strings.Contains(reg, "?") {
			// Exact, query included; a "*" after a "?" is literal.
			if given == reg {
				return true
			}
			continue
		}
		if prefix == "" {
			return true
		}
		if !strings.HasPrefix(withoutQuery, prefix) && withoutQuery != strings.TrimSuffix(prefix, "/") {
			continue
		}
		// A prefix that ends inside the authority ("https://app.example*")
		// must not reach another host ("https://app.example.evil.com").
		if pu, err := url.Parse(prefix); err == nil && pu.Host != "" {
			if !strings.EqualFold(pu.Scheme, gu.Scheme) || pu.Host != gu.Host {
				continue
			}
		}
		return true
	}
	return false
}

// Single is the redirect target when the request names none: allowed only
// when the client registered exactly one URI and it is not a wildcard.
func (rr RedirectRules) Single() (string, bool) {
	if len(rr.registered) != 1 || strings.Contains(rr.registered[0], "*") {
		return "", false
	}
	if _, ok := checkRedirectURI(rr.registered[0]); !ok {
		return "", false
	}
	return rr.registered[0], true
}

// checkRedirectURI applies the rules every redirect URI must pass whatever
// is registered, and returns it parsed.
func checkRedirectURI(s string) (*url.URL, bool) {
	if s == "" || len(s) > maxRedirectURI || !utf8.ValidString(s) {
		return nil, false
	}
	for _, c := range s {
		if c < 0x21 || c == 0x7f || c == '\\' || c == '#' {
			return nil, false
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || forbiddenSchemes[strings.ToLower(u.Scheme)] {
		return nil, false
	}
	if u.User != nil || u.Fragment != "" || strings.Contains(u.Host, "@") {
		return nil, false
	}
	if scheme := strings.ToLower(u.Scheme); (scheme == "http" || scheme == "https") && (u.Host == "" || u.Opaque != "") {
		return nil, false
	}
	// An encoded "/" or "\" is looked for in the text as given, before the
	// query: EscapedPath re-encodes a path whose escaping it finds invalid
	// ("/a%2Fb\"") from the decoded form, and so would hide it.
	beforeQuery, _, _ := strings.Cut(s, "?")
	lower := strings.ToLower(beforeQuery)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") {
		return nil, false
	}
	raw := u.EscapedPath()
	if u.Opaque != "" {
		raw = u.Opaque
	}
	for _, seg := range strings.Split(raw, "/") {
		dec, err := url.PathUnescape(seg)
		if err != nil || dec == "." || dec == ".." {
			return nil, false
		}
	}
	return u, true
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// AllowedOrigins resolves the client's web origins as Keycloak does: "+"
// stands for the origins of its http(s) redirect URIs, relative ones
// resolved like the redirect URIs themselves; "*" for any origin; any other
// entry is an origin as written (a trailing "/" dropped, since no browser
// sends one). authBase is the server's public base URL. The result is
// sorted, without duplicates: it is what a token's allowed-origins claim
// carries and what CORS answers are decided on.
func (c Client) AllowedOrigins(authBase string) []string {
	var out []string
	for _, o := range c.WebOrigins {
		if o = strings.TrimSpace(o); o != "+" {
			if o = strings.TrimSuffix(o, "/"); o != "" {
				out = append(out, o)
			}
			continue
		}
		for _, ru := range c.RedirectRules(authBase).registered {
			u, err := url.Parse(strings.TrimSuffix(ru, "*"))
			if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
				out = append(out, u.Scheme+"://"+u.Host)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
