package outbound

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPublic(t *testing.T) {
	for _, c := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", false}, {"::1", false}, {"10.1.2.3", false}, {"172.16.0.1", false}, {"192.168.1.1", false},
		{"169.254.169.254", false}, {"fe80::1", false}, {"0.0.0.0", false}, {"::", false}, {"224.0.0.1", false},
		{"ff02::1", false}, {"100.64.0.1", false}, {"fc00::1", false}, {"::ffff:127.0.0.1", false},
		{"192.0.2.1", false}, {"255.255.255.255", false},
		{"8.8.8.8", true}, {"2001:4860:4860::8888", true}, {"1.1.1.1", true},
	} {
		if got := Public(netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("Public(%s) = %v, want %v", c.addr, got, c.want)
		}
	}
}

// rp is a server on loopback that counts the requests it got.
func rp(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRefusesNonPublicAddresses(t *testing.T) {
	srv, hits := rp(t, nil)
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	c := New(Options{})
	for _, u := range []string{
		srv.URL,                   // 127.0.0.1 literal
		"http://localhost" + port, // a name that resolves to loopback
		"http://[::1]" + port,     // IPv6 loopback
		"http://0.0.0.0" + port,   // unspecified (reaches loopback on Linux)
		"http://[::ffff:127.0.0.1]" + port,
	} {
		_, err := c.Get(t.Context(), u, nil, 0)
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("Get(%s) error = %v, want ErrForbiddenAddress", u, err)
		}
	}
	// Other spellings of 127.0.0.1 are not resolved at all.
	for _, u := range []string{"http://127.1" + port, "http://2130706433" + port} {
		if _, err := c.Get(t.Context(), u, nil, 0); err == nil {
			t.Errorf("Get(%s) succeeded", u)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("server got %d requests, want none", hits.Load())
	}
}

func TestRefusesOtherSchemes(t *testing.T) {
	c := New(Options{AllowPrivate: true})
	for _, u := range []string{"file:///etc/passwd", "gopher://localhost/", "ftp://localhost/", "//localhost/x", "http://user:pw@localhost/"} {
		if _, err := c.Get(t.Context(), u, nil, 0); err == nil {
			t.Errorf("Get(%s) succeeded", u)
		}
	}
}

func TestAllowPrivate(t *testing.T) {
	srv, _ := rp(t, func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Write([]byte("got " + r.PostForm.Get("a")))
	})
	c := New(Options{AllowPrivate: true})
	resp, err := c.PostForm(t.Context(), srv.URL, url.Values{"a": {"b"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || string(resp.Body) != "got b" {
		t.Fatalf("got %d %q", resp.Status, resp.Body)
	}
}

func TestBodyLimit(t *testing.T) {
	srv, _ := rp(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(strings.Repeat("x", 2000))) })
	c := New(Options{AllowPrivate: true})
	if _, err := c.Get(t.Context(), srv.URL, nil, 1000); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error = %v, want ErrTooLarge", err)
	}
	if resp, err := c.Get(t.Context(), srv.URL, nil, 2000); err != nil || len(resp.Body) != 2000 {
		t.Fatalf("exact limit: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, _ := rp(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c := New(Options{AllowPrivate: true, Timeout: 200 * time.Millisecond})
	start := time.Now()
	if _, err := c.Get(context.Background(), srv.URL, nil, 0); err == nil {
		t.Fatal("a hanging server answered")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("request took %v, want about the 200ms timeout", d)
	}
}

// A redirect is dialled through the same check: a server the rule allows
// cannot send the client on to an address it refuses.
func TestRedirectToPrivateAddressRefused(t *testing.T) {
	target, targetHits := rp(t, nil)
	port := target.URL[strings.LastIndex(target.URL, ":"):]
	start, _ := rp(t, func(w http.ResponseWriter, r *http.Request) {
		// 127.0.0.2 is loopback too; the test rule below permits only
		// 127.0.0.1, standing in for "the public server".
		http.Redirect(w, r, "http://127.0.0.2"+port+"/", http.StatusFound)
	})
	only := func(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.1") }
	c := newClient(Options{FollowRedirects: true, Timeout: DefaultTimeout, ConnectTimeout: DefaultConnectTimeout}, only)
	_, err := c.Get(t.Context(), start.URL, nil, 0)
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("error = %v, want ErrForbiddenAddress", err)
	}
	if targetHits.Load() != 0 {
		t.Fatal("redirect target was reached")
	}
	// Without FollowRedirects the redirect comes back unfollowed.
	c = newClient(Options{Timeout: DefaultTimeout, ConnectTimeout: DefaultConnectTimeout}, only)
	resp, err := c.Get(t.Context(), start.URL, nil, 0)
	if err != nil || resp.Status != http.StatusFound {
		t.Fatalf("unfollowed redirect: %v %+v", err, resp)
	}
}
