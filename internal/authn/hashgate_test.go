package authn

import (
	"context"
	"errors"
	"math"
	"testing"
	"testing/synctest"
	"time"
)

func TestHashSlots(t *testing.T) {
	const mib = 1 << 20
	for _, tt := range []struct {
		name     string
		procs    int
		memLimit int64
		want     int
	}{
		{"no memory limit: one slot a core", 8, math.MaxInt64, 8},
		{"a roomy limit leaves one slot a core", 8, 4096 * mib, 8},
		{"512 MiB: half of it is four 64 MiB hashes", 8, 512 * mib, 4},
		{"a limit below two hashes still lets one run", 8, 100 * mib, 1},
		{"one core", 1, math.MaxInt64, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := hashSlots(tt.procs, tt.memLimit); got != tt.want {
				t.Errorf("hashSlots(%d, %d) = %d, want %d", tt.procs, tt.memLimit, got, tt.want)
			}
		})
	}
}

func TestHashGate(t *testing.T) {
	t.Run("a full gate that may not wait refuses at once", func(t *testing.T) {
		g := NewHashGate(2, 0)
		for range 2 {
			if _, err := g.Acquire(t.Context()); err != nil {
				t.Fatalf("free slot: %v", err)
			}
		}
		if _, err := g.Acquire(t.Context()); !errors.Is(err, ErrBusy) {
			t.Fatalf("third check: %v, want ErrBusy", err)
		}
		var down interface{ Unavailable() bool }
		if !errors.As(ErrBusy, &down) || !down.Unavailable() {
			t.Error("ErrBusy does not read as unavailable: it would answer 500, not 503")
		}
	})
	t.Run("a check waits for a slot freed before its deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			g := NewHashGate(1, time.Second)
			release, _ := g.Acquire(t.Context())
			done := make(chan error)
			go func() {
				r, err := g.Acquire(t.Context())
				if err == nil {
					r()
				}
				done <- err
			}()
			time.Sleep(999 * time.Millisecond)
			synctest.Wait()
			release()
			if err := <-done; err != nil {
				t.Errorf("waiting check: %v", err)
			}
		})
	})
	t.Run("a check gives up at its deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			g := NewHashGate(1, time.Second)
			release, _ := g.Acquire(t.Context())
			defer release()
			start := time.Now()
			_, err := g.Acquire(t.Context())
			if !errors.Is(err, ErrBusy) || time.Since(start) != time.Second {
				t.Errorf("Acquire = %v after %v; want ErrBusy after 1s", err, time.Since(start))
			}
		})
	})
	t.Run("a check whose request is gone stops waiting", func(t *testing.T) {
		g := NewHashGate(1, time.Hour)
		release, _ := g.Acquire(t.Context())
		defer release()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := g.Acquire(ctx); !errors.Is(err, ErrBusy) {
			t.Errorf("Acquire = %v, want ErrBusy", err)
		}
	})
	t.Run("a released slot is free again", func(t *testing.T) {
		g := NewHashGate(1, 0)
		for range 3 {
			release, err := g.Acquire(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			release()
		}
	})
}
