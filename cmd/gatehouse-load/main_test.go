package main

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestLoopbackURL(t *testing.T) {
	tests := []struct {
		raw string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.0.0.2:18081/auth/", true},
		{"http://[::1]:8080", true},
		{"https://localhost:8443", true},
		{"http://10.0.0.1:8080", false},
		{"http://example.com", false},
		{"http://localhost.example.com", false},
		{"ftp://127.0.0.1", false},
		{"http://user:pw@127.0.0.1", false},
	}
	for _, tt := range tests {
		_, err := loopbackURL(tt.raw)
		if (err == nil) != tt.ok {
			t.Errorf("loopbackURL(%q): err %v, want ok %v", tt.raw, err, tt.ok)
		}
	}
}

func TestDialRefusesNonLoopback(t *testing.T) {
	if err := checkLoopbackDial("127.0.0.1:80"); err != nil {
		t.Errorf("loopback refused: %v", err)
	}
	if err := checkLoopbackDial("192.0.2.1:80"); err == nil {
		t.Error("non-loopback address allowed")
	}
}

func TestParseFlagsBounds(t *testing.T) {
	for _, args := range [][]string{
		{"-c", "0"}, {"-c", "100000"}, {"-d", "0s"}, {"-d", "1h"}, {"-grants", "implicit"}, {"-grants", ","},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
	cfg, err := parseFlags([]string{"-grants", "userinfo, password"})
	if err != nil || len(cfg.grants) != 2 || cfg.grants[0] != "userinfo" || cfg.grants[1] != "password" {
		t.Errorf("parseFlags: %+v %v", cfg.grants, err)
	}
}

func TestPercentile(t *testing.T) {
	r := result{}
	for i := 1; i <= 100; i++ {
		r.latencies = append(r.latencies, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond} {
		if got := r.percentile(p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if (result{}).percentile(99) != 0 {
		t.Error("percentile of nothing")
	}
}

func TestProcessCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc, which only Linux has")
	}
	d, err := processCPU(os.Getpid())
	if err != nil || d < 0 {
		t.Fatalf("processCPU(self) = %v, %v", d, err)
	}
	if _, err := processCPU(-1); err == nil {
		t.Error("no error for a missing process")
	}
}
