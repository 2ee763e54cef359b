package authn

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// HashGate bounds how many password checks run at once on this node, so
// that a burst of logins cannot take the node's memory past a known bound
// (issue 12: four parallel wrong passwords against a 1 GiB argon2 hash took
// a node to 4.3 GB). Each check holds a slot while it hashes: one
// verification, or a dummy one, and a re-hash after a success, one after
// the other. One hash needs at most user.MaxArgon2MemoryBytes (64 MiB), so
// the memory that checks hold at once is at most
//
//	slots × 64 MiB
//
// and, as argon2's memory is garbage once a hash ends, the Go heap they
// cause stays below twice that with the default GOGC. A check that finds
// every slot taken waits up to the gate's wait, then gives up with
// ErrBusy, which the HTTP packages answer 503 with Retry-After: a queue of
// logins is refused quickly rather than held for ever.
//
// Keycloak bounds its argon2 hashing the same way, by a semaphore of as
// many permits as the machine has cores.
type HashGate struct {
	slots chan struct{}
	wait  time.Duration
}

// NewHashGate returns a gate of slots slots (at least 1) where a check
// waits at most wait for one; a wait of 0 or less never waits.
func NewHashGate(slots int, wait time.Duration) *HashGate {
	return &HashGate{slots: make(chan struct{}, max(slots, 1)), wait: wait}
}

// DefaultHashWait is how long a check waits for a slot. Measured on a
// loaded two-core machine, Keycloak's default argon2 (7 MiB × 5) took
// 0.1 s and the heaviest allowed (64 MiB × 10) 1.5 s: a burst of 50
// logins at the default is served whole within it, one at the heaviest
// refuses most of its queue, and 2 s refused a quarter of the former.
const DefaultHashWait = 5 * time.Second

// HashSlots is the default number of slots:
//
//	min(GOMAXPROCS, GOMEMLIMIT / 2 / 64 MiB), at least 1
//
// Hashing is CPU-bound, so more checks at once than cores only add memory
// and latency; and where the operator set a memory limit (GOMEMLIMIT, as a
// container should), hashes may hold at most half of it. Without a limit
// the bound is GOMAXPROCS × 64 MiB.
func HashSlots() int {
	return hashSlots(runtime.GOMAXPROCS(0), debug.SetMemoryLimit(-1))
}

func hashSlots(procs int, memLimit int64) int {
	n := procs
	if memLimit > 0 && memLimit < math.MaxInt64 {
		n = min(n, int(memLimit/2/user.MaxArgon2MemoryBytes))
	}
	return max(n, 1)
}

// defaultHashGate is the node's gate for a Checker built without one. It
// lives as long as the process because the memory it guards does.
var defaultHashGate = sync.OnceValue(func() *HashGate { return NewHashGate(HashSlots(), DefaultHashWait) })

// BusyError is a check refused because every hash slot stayed taken. Its
// Unavailable method makes web.Handle (and the login pages) answer 503
// with Retry-After, as for a database that is away: nothing was decided.
type BusyError struct{}

func (*BusyError) Error() string     { return "password hashing is at capacity" }
func (*BusyError) Unavailable() bool { return true }

// ErrBusy is returned by a check that found no free hash slot in time.
var ErrBusy error = &BusyError{}

// Acquire takes a slot, waiting at most the gate's wait and never past
// ctx; the caller must call release once its hashing is done.
func (g *HashGate) Acquire(ctx context.Context) (release func(), err error) {
	release = func() { <-g.slots }
	select {
	case g.slots <- struct{}{}:
		return release, nil
	default:
	}
	if g.wait <= 0 {
		return nil, ErrBusy
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ErrBusy
	}
}
