// Package clientkeys is the one place that answers which public keys verify
// what a client signs (client assertions for private_key_jwt, request
// objects): the keys stored with the client (a certificate, a public key or
// a JWKS), or, when the client's use.jwks.url attribute is "true", the JWKS
// published at its jwks.url.
//
// A JWKS URL is fetched through the SSRF-safe outbound client only, and the
// keys are kept per node in a cache of bounded size: an entry lives for
// MaxAge, and a token naming a kid the entry lacks makes the loader fetch
// again, but never more often than once per MinInterval per URL, so a
// stream of tokens with made-up kids cannot turn the server into a
// request amplifier against the client's host.
package clientkeys

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
)

// Client attributes that choose where a client's keys come from.
const (
	UseJWKSURLAttr = "use.jwks.url"
	JWKSURLAttr    = "jwks.url"
)

// Defaults for a Loader's zero fields.
const (
	DefaultMinInterval = 10 * time.Second
	DefaultMaxAge      = 24 * time.Hour
	DefaultMaxEntries  = 1000
	// maxJWKSBytes bounds a fetched key set.
	maxJWKSBytes = 256 << 10
)

// ErrNoKey is returned (wrapped) when no key of the client matches.
var ErrNoKey = errors.New("clientkeys: no matching key")

// ErrFetch is returned (wrapped) when the client's JWKS URL could not be
// read or parsed.
var ErrFetch = errors.New("clientkeys: unable to load the client's key set")

// Loader finds client keys. The zero value is not usable: set Outbound.
// A Loader is safe for concurrent use.
type Loader struct {
	Outbound *outbound.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MinInterval is the least time between two fetches of one URL;
	// MaxAge how long fetched keys are used before they are fetched again;
	// MaxEntries how many URLs the cache holds. Zero means the defaults.
	MinInterval, MaxAge time.Duration
	MaxEntries          int

	mu    sync.Mutex
	cache map[string]*entry
}

type entry struct {
	mu        sync.Mutex // one fetch per URL at a time
	keys      []jose.JSONWebKey
	fetched   time.Time // when keys were last loaded (zero: never)
	attempted time.Time // when a fetch was last tried
	err       error     // the last fetch's failure, while no keys are known
}

// fallback serves a nil *Loader: public addresses only, default bounds.
var fallback = sync.OnceValue(func() *Loader { return New(outbound.New(outbound.Options{})) })

// New returns a loader that fetches through out with the default bounds.
func New(out *outbound.Client) *Loader { return &Loader{Outbound: out} }

func (l *Loader) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Key returns the key of client c that verifies a JWS with header kid and
// algorithm alg. HMAC keys (the client secret) are not its concern. A nil
// Loader fetches with the outbound defaults (public addresses only).
func (l *Loader) Key(ctx context.Context, c client.Client, kid, alg string) (any, error) {
	if l == nil {
		l = fallback()
	}
	if c.Attributes[UseJWKSURLAttr] == "true" {
		return l.fromURL(ctx, c.Attributes[JWKSURLAttr], kid, alg)
	}
	return stored(c, kid, alg)
}

// stored reads the keys kept with the client: a JWKS (jwks.string), a
// certificate (jwt.credential.certificate) or a public key
// (jwt.credential.public.key, base64 DER).
func stored(c client.Client, kid, alg string) (any, error) {
	if c.Attributes["use.jwks.string"] == "true" || c.Attributes["jwks.string"] != "" {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal([]byte(c.Attributes["jwks.string"]), &set); err != nil {
			return nil, err
		}
		if k, ok := pick(set.Keys, kid, alg); ok {
			return k, nil
		}
		return nil, fmt.Errorf("%w in the client's JWKS", ErrNoKey)
	}
	if pem := c.Attributes["jwt.credential.certificate"]; pem != "" {
		der, err := base64.StdEncoding.DecodeString(pem)
		if err != nil {
			return nil, err
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		return cert.PublicKey, nil
	}
	if pub := c.Attributes["jwt.credential.public.key"]; pub != "" {
		der, err := base64.StdEncoding.DecodeString(pub)
		if err != nil {
			return nil, err
		}
		return x509.ParsePKIXPublicKey(der)
	}
	return nil, fmt.Errorf("%w: client has no registered key", ErrNoKey)
}

// pick chooses the signing key of set that kid and alg name.
func pick(set []jose.JSONWebKey, kid, alg string) (any, bool) {
	for _, k := range set {
		if (kid == "" || k.KeyID == kid) && k.Use != "enc" && (k.Algorithm == "" || k.Algorithm == alg) && k.IsPublic() {
			return k.Key, true
		}
	}
	return nil, false
}

// KeyAt returns the key of the JWKS published at url that verifies a JWS
// with header kid and algorithm alg, through the same bounded cache as
// clients' key sets: an identity provider's keys (package broker) are
// fetched and refreshed under the same rules. A nil Loader fetches with
// the outbound defaults.
func (l *Loader) KeyAt(ctx context.Context, url, kid, alg string) (any, error) {
	if l == nil {
		l = fallback()
	}
	return l.fromURL(ctx, url, kid, alg)
}

func (l *Loader) fromURL(ctx context.Context, url, kid, alg string) (any, error) {
	if url == "" {
		return nil, fmt.Errorf("%w: use.jwks.url set without jwks.url", ErrFetch)
	}
	e := l.entryFor(url)
	e.mu.Lock()
	defer e.mu.Unlock()
	now := l.now()
	minInterval, maxAge := l.MinInterval, l.MaxAge
	if minInterval <= 0 {
		minInterval = DefaultMinInterval
	}
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	fresh := !e.fetched.IsZero() && now.Sub(e.fetched) < maxAge
	if fresh {
		if k, ok := pick(e.keys, kid, alg); ok {
			return k, nil
		}
	}
	// Unknown kid, expired or never loaded: fetch, unless a fetch was
	// tried within the minimum interval.
	if e.attempted.IsZero() || now.Sub(e.attempted) >= minInterval {
		e.attempted = now
		keys, err := l.fetch(ctx, url)
		if err != nil {
			e.err = err
		} else {
			e.keys, e.fetched, e.err = keys, now, nil
		}
	}
	if e.fetched.IsZero() && e.err != nil {
		return nil, e.err
	}
	if k, ok := pick(e.keys, kid, alg); ok && now.Sub(e.fetched) < maxAge {
		return k, nil
	}
	if e.err != nil {
		return nil, e.err
	}
	return nil, fmt.Errorf("%w at the client's JWKS URL", ErrNoKey)
}

func (l *Loader) entryFor(url string) *entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cache == nil {
		l.cache = map[string]*entry{}
	}
	if e, ok := l.cache[url]; ok {
		return e
	}
	max := l.MaxEntries
	if max <= 0 {
		max = DefaultMaxEntries
	}
	if len(l.cache) >= max {
		// Full: drop the entry loaded longest ago.
		var oldest string
		var at time.Time
		for u, e := range l.cache {
			if e.mu.TryLock() {
				t := e.attempted
				e.mu.Unlock()
				if oldest == "" || t.Before(at) {
					oldest, at = u, t
				}
			}
		}
		delete(l.cache, oldest)
	}
	e := &entry{}
	l.cache[url] = e
	return e
}

func (l *Loader) fetch(ctx context.Context, url string) ([]jose.JSONWebKey, error) {
	if l.Outbound == nil {
		return nil, fmt.Errorf("%w: no outbound client", ErrFetch)
	}
	resp, err := l.Outbound.Get(ctx, url, map[string][]string{"Accept": {"application/json"}}, maxJWKSBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	if resp.Status != 200 {
		return nil, fmt.Errorf("%w: status %d", ErrFetch, resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(resp.Body, &set); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	return set.Keys, nil
}
