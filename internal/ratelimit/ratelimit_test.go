package ratelimit

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "50:200", want: "50:200"},
		{in: " 0.5 : 3 ", want: "0.5:3"},
		{in: "50.0:200", want: "50:200"},
		{in: "off", want: "off"},
		{in: "OFF", want: "off"},
		{in: "50", wantErr: true},
		{in: "", wantErr: true},
		{in: "x:1", wantErr: true},
		{in: "1:x", wantErr: true},
		{in: "0:10", wantErr: true},
		{in: "-1:10", wantErr: true},
		{in: "NaN:10", wantErr: true},
		{in: "Inf:10", wantErr: true},
		{in: "10:0", wantErr: true},
		{in: "10:2000000", wantErr: true},
		{in: "1e7:10", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			l, err := ParseLimit(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseLimit(%q) = %v, want an error", tt.in, l)
				}
				return
			}
			if err != nil || l.String() != tt.want {
				t.Fatalf("ParseLimit(%q) = %v, %v; want %s", tt.in, l, err, tt.want)
			}
		})
	}
}

func TestBucketsTake(t *testing.T) {
	l := Limit{Rate: 2, Burst: 3}
	t.Run("a burst passes, the next request waits for the rate", func(t *testing.T) {
		b := NewBuckets(10)
		for i := range 3 {
			if ok, _ := b.Take("a", l, t0); !ok {
				t.Fatalf("request %d of the burst refused", i+1)
			}
		}
		ok, wait := b.Take("a", l, t0)
		if ok || wait != 500*time.Millisecond {
			t.Fatalf("4th request: ok %v, wait %v; want refused, 500ms", ok, wait)
		}
		if ok, _ := b.Take("a", l, t0.Add(499*time.Millisecond)); ok {
			t.Fatal("a token came back before 1/rate")
		}
		if ok, _ := b.Take("a", l, t0.Add(1000*time.Millisecond)); !ok {
			t.Fatal("no token after 1/rate")
		}
	})
	t.Run("keys are independent", func(t *testing.T) {
		b := NewBuckets(10)
		for range 3 {
			b.Take("a", l, t0)
		}
		if ok, _ := b.Take("b", l, t0); !ok {
			t.Fatal("b refused because a is empty")
		}
	})
	t.Run("unlimited never refuses and stores nothing", func(t *testing.T) {
		b := NewBuckets(10)
		for range 1000 {
			if ok, _ := b.Take("a", Unlimited, t0); !ok {
				t.Fatal("refused")
			}
		}
		if b.Len() != 0 {
			t.Fatalf("Len = %d", b.Len())
		}
	})
	t.Run("a changed limit applies to an existing bucket", func(t *testing.T) {
		b := NewBuckets(10)
		b.Take("a", l, t0) // 2 of 3 tokens left
		tight := Limit{Rate: 1, Burst: 1}
		if ok, _ := b.Take("a", tight, t0); !ok {
			t.Fatal("the token left under the new burst was refused")
		}
		if ok, _ := b.Take("a", tight, t0); ok {
			t.Fatal("burst 1 allowed more than one token: the old burst still applies")
		}
	})
	t.Run("the least recently used bucket is dropped at the bound", func(t *testing.T) {
		b := NewBuckets(100)
		one := Limit{Rate: 1, Burst: 1}
		b.Take("victim", one, t0)
		for i := range 1000 {
			b.Take(fmt.Sprint("k", i), one, t0)
		}
		if b.Len() != 100 {
			t.Fatalf("Len = %d, want 100", b.Len())
		}
		// Dropped means a fresh, full bucket: the safe direction.
		if ok, _ := b.Take("victim", one, t0); !ok {
			t.Fatal("dropped bucket was not fresh")
		}
	})
	t.Run("a recently used bucket survives churn", func(t *testing.T) {
		b := NewBuckets(3)
		one := Limit{Rate: 1, Burst: 1}
		b.Take("hot", one, t0)
		for i := range 10 {
			b.Take("hot", one, t0) // refused, but touched
			b.Take(fmt.Sprint("k", i), one, t0)
		}
		if ok, _ := b.Take("hot", one, t0); ok {
			t.Fatal("hot bucket was evicted and refilled")
		}
	})
}

func TestBucketsCheck(t *testing.T) {
	b := NewBuckets(10)
	l := Limit{Rate: 2, Burst: 2}
	if ok, _ := b.Check("k", l, t0); !ok || b.Len() != 0 {
		t.Fatalf("an unseen key: ok=%v, %d buckets; want a full bucket and none created", ok, b.Len())
	}
	for range 2 {
		b.Take("k", l, t0)
	}
	ok, wait := b.Check("k", l, t0)
	if ok || wait != 500*time.Millisecond {
		t.Errorf("a spent bucket: ok=%v wait=%v, want false and 500ms", ok, wait)
	}
	if ok, _ := b.Check("k", l, t0); ok {
		t.Error("checking twice refilled the bucket")
	}
	if ok, _ := b.Check("k", l, t0.Add(500*time.Millisecond)); !ok {
		t.Error("a token is not back after 1/rate")
	}
	if ok, _ := b.Check("k", Unlimited, t0); !ok {
		t.Error("an unlimited check refused")
	}
}

func TestClientAddr(t *testing.T) {
	proxies, err := ParseProxies("10.0.0.0/8, 192.168.1.10 ,fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		p       Proxies
		remote  string
		xff     []string
		want    string
		wantBad bool
	}{
		{name: "no proxies: the peer, whatever the header says", remote: "203.0.113.5:4000",
			xff: []string{"198.51.100.1"}, want: "203.0.113.5"},
		{name: "untrusted peer: header ignored", p: proxies, remote: "203.0.113.5:4000",
			xff: []string{"198.51.100.1"}, want: "203.0.113.5"},
		{name: "trusted peer: the right-most untrusted entry", p: proxies, remote: "10.1.2.3:80",
			xff: []string{"1.1.1.1, 198.51.100.7, 192.168.1.10"}, want: "198.51.100.7"},
		{name: "a spoofed left-most entry is never believed", p: proxies, remote: "10.1.2.3:80",
			xff: []string{"127.0.0.1, 198.51.100.7"}, want: "198.51.100.7"},
		{name: "several headers are one list, in order", p: proxies, remote: "10.1.2.3:80",
			xff: []string{"1.1.1.1", "198.51.100.7", "10.9.9.9"}, want: "198.51.100.7"},
		{name: "every hop trusted: the left-most", p: proxies, remote: "10.1.2.3:80",
			xff: []string{"10.0.0.1, 10.0.0.2"}, want: "10.0.0.1"},
		{name: "garbage ends the walk at the last trusted hop", p: proxies, remote: "10.1.2.3:80",
			xff: []string{"198.51.100.7, <script>, 10.0.0.2"}, want: "10.0.0.2"},
		{name: "empty header: the proxy itself", p: proxies, remote: "10.1.2.3:80", want: "10.1.2.3"},
		{name: "IPv6 peer through a trusted v6 proxy", p: proxies, remote: "[fd00::1]:443",
			xff: []string{"2001:db8::9"}, want: "2001:db8::9"},
		{name: "an entry with a port", p: proxies, remote: "10.1.2.3:80",
			xff: []string{"[2001:db8::9]:5555"}, want: "2001:db8::9"},
		{name: "IPv4-mapped peer is unmapped", p: proxies, remote: "[::ffff:10.1.2.3]:80",
			xff: []string{"198.51.100.7"}, want: "198.51.100.7"},
		{name: "remote address without a port", remote: "203.0.113.5", want: "203.0.113.5"},
		{name: "no address at all", remote: "@", wantBad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.p.ClientAddr(tt.remote, tt.xff)
			if tt.wantBad {
				if ok {
					t.Fatalf("got %v, want no address", got)
				}
				return
			}
			if !ok || got.String() != tt.want {
				t.Fatalf("ClientAddr = %v, %v; want %s", got, ok, tt.want)
			}
		})
	}
}

func TestParseProxies(t *testing.T) {
	p, err := ParseProxies("10.1.2.3/8, 192.168.1.10, ::ffff:10.0.0.0/104, 2001:db8::1/32,")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.String(), "10.0.0.0/8,192.168.1.10/32,10.0.0.0/8,2001:db8::/32"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if !p.Trusts(netip.MustParseAddr("::ffff:10.2.3.4")) {
		t.Error("IPv4-mapped address of a trusted range not trusted")
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "fe80::1%eth0", "1.2.3.4/x"} {
		if _, err := ParseProxies(bad); err == nil {
			t.Errorf("ParseProxies(%q) accepted", bad)
		}
	}
	if p, err := ParseProxies(""); err != nil || p.String() != "" {
		t.Errorf("empty list: %v, %v", p, err)
	}
}

func TestAddrKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.5":          "203.0.113.5",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::ffff":   "2001:db8:1:2::/64",
	} {
		if got := AddrKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("AddrKey(%s) = %s, want %s", in, got, want)
		}
	}
}
