package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// The proxy spreads requests over the backends in turn and passes the
// Host header on, so that every node names the same issuer.
func TestProxyRoundRobin(t *testing.T) {
	var targets []*url.URL
	for _, name := range []string{"a", "b", "c"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, name+" "+r.Host+" "+r.URL.Path)
		}))
		t.Cleanup(srv.Close)
		u, _ := url.Parse(srv.URL)
		targets = append(targets, u)
	}
	front := httptest.NewServer(newProxy(targets))
	t.Cleanup(front.Close)
	host := front.Listener.Addr().String()
	var got []string
	for range 6 {
		resp, err := http.Get(front.URL + "/realms/x")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got = append(got, string(b))
	}
	for i, g := range got {
		want := []string{"a", "b", "c"}[i%3] + " " + host + " /realms/x"
		if g != want {
			t.Errorf("request %d: %q, want %q", i, g, want)
		}
	}
}
