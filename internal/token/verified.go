package token

import (
	"crypto/sha256"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

// VerifySignedCached is VerifySigned for the tokens a node sees again and
// again: the access tokens resource servers send to userinfo, the admin and
// account APIs, and the tokens they introspect. It remembers, per node, the
// outcome of a signature check so that the same token presented again skips
// the public-key operation and the decoding of its claims.
//
// Why this refuses nothing VerifySigned would accept, and accepts nothing
// it would refuse:
//
//   - What is remembered is a pure function's result: "this exact token
//     carries a valid signature by this key material, and these claims".
//     Entries are keyed by the SHA-256 of the whole compact token, so any
//     other token, one differing in a single bit of its signature
//     included, misses and is checked in full. Failures are never
//     remembered.
//   - A hit is accepted only while the key still verifies: the token's own
//     alg and kid must still name an enabled key of the realm's current key
//     list ks (keys.VerificationFor, the rule VerifySigned applies), and
//     that key's material must be the very bytes the signature was checked
//     with (compared by SHA-256, so no key secret is kept here). A key
//     disabled, deleted or replaced refuses the token on the
//     next request; the caller's ks come from the configuration cache,
//     which every key write invalidates through the configuration version
//     (store/configcache.go), so that next request sees the change.
//   - Only the signature is remembered. Expiry, issuer, type, not-before,
//     revocation, the session, the client and the user are the caller's to
//     check on every request, as after VerifySigned (bearer.Check).
//
// Memory is bounded: an entry lives until the token's exp (at most
// verifiedMaxAge), tokens longer than maxVerifiedToken are never kept, and
// at most maxVerified entries and about maxVerifiedBytes are kept; when
// full, expired entries go first, then all. Losing the
// cache costs one verification per token.
//
// The claims returned are the caller's to change at the top level; values
// nested inside them (realm_access, resource_access…) are shared with
// other requests and must be treated as read-only.
func VerifySignedCached(raw string, ks []keys.Key, now time.Time) (map[string]any, error) {
	sum := sha256.Sum256([]byte(raw))
	nowS := now.Unix()
	if e, ok := verified.get(sum, nowS); ok {
		if k, ok := keys.VerificationFor(ks, e.alg, e.kid); ok && sha256.Sum256(k.Private) == e.material {
			verifiedHits.Add(1)
			return maps.Clone(e.claims), nil
		}
	}
	claims, k, err := verifySigned(raw, ks)
	if err != nil {
		return nil, err
	}
	until := nowS + verifiedMaxAge
	if exp, ok := number(claims["exp"]); ok && exp > 0 && exp < until {
		until = exp
	}
	if until > nowS && len(raw) <= maxVerifiedToken {
		// Decoded claims take about twice the token's length.
		cost := 2*len(raw) + verifiedEntryOverhead
		verified.put(sum, &verifiedEntry{claims: claims, alg: k.Algorithm, kid: k.Kid, material: sha256.Sum256(k.Private), until: until, cost: cost}, nowS)
	}
	return maps.Clone(claims), nil
}

const (
	// maxVerified bounds the entries a node keeps (an access token's
	// claims are a few kilobytes).
	maxVerified = 4096
	// maxVerifiedToken is the longest token remembered: a longer one (many
	// groups, a large attribute mapped in) is checked in full every time,
	// so a few such tokens cannot fill the node's memory.
	maxVerifiedToken = 16 << 10
	// maxVerifiedBytes caps the estimated memory of all entries together.
	maxVerifiedBytes = 8 << 20
	// verifiedEntryOverhead is an entry's cost besides its claims: the
	// key, the entry and its map slot.
	verifiedEntryOverhead = 256
	// verifiedMaxAge bounds an entry's life, in seconds, for tokens without
	// an exp of their own (offline tokens).
	verifiedMaxAge = 300
)

// verifiedHits counts the tokens VerifySignedCached accepted from memory.
var verifiedHits atomic.Int64

// VerifiedCacheHits is how many tokens this process accepted from its
// memory of checked signatures, without checking the signature again.
func VerifiedCacheHits() int64 { return verifiedHits.Load() }

// verified is the node's cache of checked signatures.
var verified = &verifiedCache{m: map[[32]byte]*verifiedEntry{}}

type verifiedEntry struct {
	claims   map[string]any
	alg, kid string
	// material is the SHA-256 of the Private bytes of the key that
	// verified the token: a deleted key's secret does not stay in memory
	// with the entries it verified.
	material [32]byte
	until    int64 // epoch seconds
	cost     int   // what the entry counts against maxVerifiedBytes
}

type verifiedCache struct {
	mu    sync.Mutex
	m     map[[32]byte]*verifiedEntry
	bytes int // the sum of the entries' cost
}

func (c *verifiedCache) get(sum [32]byte, now int64) (*verifiedEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[sum]
	if ok && now >= e.until {
		c.bytes -= e.cost
		delete(c.m, sum)
		return nil, false
	}
	return e, ok
}

func (c *verifiedCache) put(sum [32]byte, e *verifiedEntry, now int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[sum]; ok {
		c.bytes -= old.cost
		delete(c.m, sum)
	}
	if len(c.m) >= maxVerified || c.bytes+e.cost > maxVerifiedBytes {
		for k, old := range c.m {
			if now >= old.until {
				c.bytes -= old.cost
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxVerified || c.bytes+e.cost > maxVerifiedBytes {
			// A new map: Go maps never give back their buckets.
			c.m = make(map[[32]byte]*verifiedEntry)
			c.bytes = 0
		}
	}
	c.m[sum] = e
	c.bytes += e.cost
}
