package client

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzRedirectMatch checks the redirect URI matcher against what it promises
// whatever it is given (SECURITY.md A2; CVE-2024-1132, CVE-2020-15234,
// CVE-2023-6134): the browser is only ever sent to the URI the request
// named; that URI passes the rules every redirect URI must pass; an exact
// registration allows that text alone (or itself on another loopback port);
// a wildcard registration never reaches another host.
//
// `go test` runs the seeds below and testdata/fuzz/FuzzRedirectMatch;
// `go test -run XXX -fuzz FuzzRedirectMatch ./internal/client/` searches.
func FuzzRedirectMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"https://app.example/cb", "https://app.example/cb"},
		{"https://app.example/cb", "https://app.example/cb/../evil"},
		{"https://app.example/cb", "https://app.example/CB"},
		{"https://app.example/cb", "https://app.example@evil.com/cb"},
		{"https://app.example/cb", `https://evil.com\@app.example/cb`},
		{"https://app.example/cb", "https://app.example:444/cb"},
		{"https://app.example/wild/*", "https://app.example/wild/%2e%2e/evil"},
		{"https://app.example/wild/*", "https://app.example/wild/page?a=b"},
		{"https://host.example*", "https://host.example.evil.com/x"},
		{"https://host.example*", "https://host.example/x"},
		{"/relative/*", "https://root.example/relative/x"},
		{"http://127.0.0.1/native", "http://127.0.0.1:53111/native"},
		{"http://[::1]/native", "http://[::1]:8080/native"},
		{"http://localhost/loop", "http://localhost:8123/loop"},
		// Next to the loopback-port rule's edges: https, and a host that is
		// not loopback, never take another port.
		{"https://127.0.0.1/native", "https://127.0.0.1:8443/native"},
		{"http://app.example/cb", "http://app.example:8080/cb"},
		{"com.example.app:/oauth2redirect", "com.example.app:/oauth2redirect"},
		{"https://q.example/cb?tenant=1", "https://q.example/cb?tenant=1"},
		{"*", "javascript:alert(1)"},
		{"*", "https://anything.example/x"},
		{"https://app.example/*", "https://app.example/a%2Fb"},
		// The lowest and highest printable characters, next to the space
		// and DEL the universal rules refuse.
		{"https://app.example/wild/*", "https://app.example/wild/!x"},
		{"https://app.example/wild/*", "https://app.example/wild/x~"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, registered, given string) {
		rules := newRedirectRules([]string{registered}, "https://root.example", "https://id.example")
		got, ok := rules.Match(given)
		if !ok {
			return
		}
		if got != given {
			t.Fatalf("match(%q) sends the browser to %q", given, got)
		}
		if why := unsafeRedirect(given); why != "" {
			t.Fatalf("matched %q, which has %s", given, why)
		}
		gu, ok := checkRedirectURI(given)
		if !ok {
			t.Fatalf("matched %q, which the universal redirect rules refuse", given)
		}
		if len(rules.registered) == 0 {
			t.Fatalf("matched %q with nothing registered", given)
		}
		reg := rules.registered[0]
		prefix, wildcard := strings.CutSuffix(reg, "*")
		if !wildcard || strings.Contains(reg, "?") {
			if given != reg && withoutLoopbackPort(gu) != reg {
				t.Fatalf("exact registration %q allowed %q", reg, given)
			}
			return
		}
		if prefix == "" {
			return // "*" allows any URI the universal rules allow
		}
		pu, err := url.Parse(prefix)
		if err != nil || pu.Host == "" {
			return
		}
		if gu.Host != pu.Host && !(isLoopback(gu.Hostname()) && gu.Hostname() == strings.Trim(pu.Host, "[]")) {
			t.Fatalf("wildcard registration %q allowed host %q", reg, gu.Host)
		}
		if !strings.EqualFold(gu.Scheme, pu.Scheme) {
			t.Fatalf("wildcard registration %q allowed scheme %q", reg, gu.Scheme)
		}
	})
}

// withoutLoopbackPort is u without its port when it is an http loopback URI
// with one, as match compares native apps' redirect URIs; "" otherwise.
func withoutLoopbackPort(u *url.URL) string {
	if u.Scheme != "http" || u.Port() == "" || !isLoopback(u.Hostname()) {
		return ""
	}
	noPort := *u
	noPort.Host = u.Hostname()
	if strings.Contains(noPort.Host, ":") {
		noPort.Host = "[" + noPort.Host + "]"
	}
	return noPort.String()
}

// unsafeRedirect restates the universal redirect rules independently of
// checkRedirectURI, so that a fault there is found rather than agreed with:
// it names what makes s unsafe to send a browser to, or returns "".
func unsafeRedirect(s string) string {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ' || c == 0x7f:
			return "a space or control character"
		case c == '\\':
			return "a backslash"
		case c == '#':
			return "a fragment"
		}
	}
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || scheme == "" {
		return "no scheme"
	}
	switch strings.ToLower(scheme) {
	case "javascript", "data", "vbscript", "file", "blob", "about":
		return "a scheme that runs script or reads local data"
	}
	if authority, ok := strings.CutPrefix(rest, "//"); ok {
		end := strings.IndexAny(authority, "/?")
		if end < 0 {
			end = len(authority)
		}
		if strings.Contains(authority[:end], "@") {
			return "user info"
		}
		rest = authority[end:]
	}
	path, _, _ := strings.Cut(rest, "?")
	lower := strings.ToLower(path)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") {
		return "an encoded slash"
	}
	for _, seg := range strings.Split(path, "/") {
		dec, err := url.PathUnescape(seg)
		if err == nil && (dec == "." || dec == "..") {
			return "a dot segment"
		}
	}
	return ""
}
