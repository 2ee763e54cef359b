// Package ratelimit owns the rule for how often one caller may call the
// server: token buckets (golang.org/x/time/rate) keyed by client address,
// OAuth client or username, held in memory on each node, and the rule that
// decides which address a request comes from when reverse proxies forward it.
//
// Buckets are a cache in the sense of the store's rule: a node that loses
// them (restart, eviction) only gives each caller a fresh burst, which is
// safe. What must survive a restart, such as brute-force failure counts,
// lives in the database, not here.
package ratelimit

import (
	"container/list"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a sustained rate and a burst: a caller may send Burst requests at
// once, then Rate per second.
type Limit struct {
	Rate  rate.Limit // per second; rate.Inf means unlimited
	Burst int
}

// Unlimited never refuses.
var Unlimited = Limit{Rate: rate.Inf}

// IsUnlimited reports whether l never refuses.
func (l Limit) IsUnlimited() bool { return l.Rate == rate.Inf }

// String renders l as ParseLimit reads it: "50:200", or "off".
func (l Limit) String() string {
	if l.IsUnlimited() {
		return "off"
	}
	return strconv.FormatFloat(float64(l.Rate), 'f', -1, 64) + ":" + strconv.Itoa(l.Burst)
}

// Bounds of a limit written by an operator. A rate below one request an hour
// or a burst of millions is a typo, not a policy.
const (
	minRate  = 1.0 / 3600
	maxRate  = 1e6
	maxBurst = 1_000_000
)

var errLimitSyntax = errors.New(`want <requests per second>:<burst> such as "50:200", or "off"`)

// ParseLimit reads "<rate>:<burst>" (requests per second, which may be a
// fraction such as 0.5, and the burst, a whole number), or "off".
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return Unlimited, nil
	}
	rs, bs, ok := strings.Cut(s, ":")
	if !ok {
		return Limit{}, errLimitSyntax
	}
	r, err := strconv.ParseFloat(strings.TrimSpace(rs), 64)
	if err != nil || math.IsNaN(r) || math.IsInf(r, 0) {
		return Limit{}, errLimitSyntax
	}
	b, err := strconv.Atoi(strings.TrimSpace(bs))
	if err != nil {
		return Limit{}, errLimitSyntax
	}
	if r < minRate || r > maxRate {
		return Limit{}, fmt.Errorf("rate %v not between %v and %v per second", r, minRate, maxRate)
	}
	if b < 1 || b > maxBurst {
		return Limit{}, fmt.Errorf("burst %d not between 1 and %d", b, maxBurst)
	}
	return Limit{Rate: rate.Limit(r), Burst: b}, nil
}

// Buckets holds one token bucket per key, at most Max of them: when a new key
// would exceed Max the least recently used bucket is dropped. Dropping is
// cheap to be wrong about: the key starts again with a full bucket. The bound
// is what keeps memory flat when an attacker sends a new key (a new address,
// a random username) with every request.
type Buckets struct {
	mu    sync.Mutex
	max   int
	items map[string]*list.Element
	order list.List // of *bucket; front is the most recently used
}

type bucket struct {
	key string
	lim *rate.Limiter
}

// NewBuckets returns an empty set of at most n buckets (at least 1).
func NewBuckets(n int) *Buckets {
	b := &Buckets{max: max(n, 1), items: map[string]*list.Element{}}
	b.order.Init()
	return b
}

// Take takes one token from key's bucket at now. A key seen for the first
// time gets a full bucket of limit l; a bucket whose limit changed since (an
// administrator edited it) moves to l keeping its tokens. When the bucket is
// empty Take reports false and how long until a token is back.
func (b *Buckets) Take(key string, l Limit, now time.Time) (ok bool, wait time.Duration) {
	if l.IsUnlimited() {
		return true, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var lim *rate.Limiter
	if e, found := b.items[key]; found {
		b.order.MoveToFront(e)
		lim = e.Value.(*bucket).lim
		if lim.Limit() != l.Rate {
			lim.SetLimitAt(now, l.Rate)
		}
		if lim.Burst() != l.Burst {
			lim.SetBurstAt(now, l.Burst)
		}
	} else {
		lim = rate.NewLimiter(l.Rate, l.Burst)
		b.items[key] = b.order.PushFront(&bucket{key: key, lim: lim})
		for len(b.items) > b.max {
			oldest := b.order.Back()
			b.order.Remove(oldest)
			delete(b.items, oldest.Value.(*bucket).key)
		}
	}
	if lim.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - lim.TokensAt(now)
	return false, time.Duration(missing / float64(l.Rate) * float64(time.Second))
}

// Check reports whether key's bucket holds a token at now, and if not how
// long until one is back, without taking one. A key without a bucket has a
// full one, and Check creates none: callers that only ever check cost no
// memory.
func (b *Buckets) Check(key string, l Limit, now time.Time) (ok bool, wait time.Duration) {
	if l.IsUnlimited() {
		return true, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e, found := b.items[key]
	if !found {
		return true, 0
	}
	tokens := e.Value.(*bucket).lim.TokensAt(now)
	if tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - tokens) / float64(l.Rate) * float64(time.Second))
}

// Len is the number of buckets held.
func (b *Buckets) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.items)
}
