package keys

import (
	"crypto"
	"crypto/sha256"
	"sync"
)

// parsedCache keeps parsed private keys so that signing a token does not
// parse PKCS#8 (and, for RSA, precompute CRT values: about 150 µs, an eighth
// of an RS256 signature) each time. It is keyed by the hash of the key bytes themselves, so
// an entry can never stand for other key material; losing it costs one
// parse. Rotated-out keys stay until the process restarts: a realm has a
// handful of keys, so the map stays small.
var parsedCache = &keyCache{m: map[[32]byte]crypto.Signer{}}

type keyCache struct {
	mu sync.RWMutex
	m  map[[32]byte]crypto.Signer
}

// maxCachedKeys bounds the cache against a server hosting many realms.
const maxCachedKeys = 4096

func (c *keyCache) get(der []byte) (crypto.Signer, bool) {
	h := sha256.Sum256(der)
	c.mu.RLock()
	defer c.mu.RUnlock()
	k, ok := c.m[h]
	return k, ok
}

func (c *keyCache) put(der []byte, k crypto.Signer) {
	h := sha256.Sum256(der)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedKeys {
		clear(c.m)
	}
	c.m[h] = k
}
