package token

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

// What VerifySignedCached remembers stands only for the exact token and the
// exact key material it was checked with: the same token is refused once
// its key is disabled, gone, or replaced by other material under the same
// kid, and a token differing only in its signature is checked in full.
func TestVerifySignedCachedFollowsTheKey(t *testing.T) {
	k, err := keys.Fallback(keys.ES256, "r", testNow)
	if err != nil {
		t.Fatal(err)
	}
	other, err := keys.Fallback(keys.ES256, "r", testNow)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Sign(map[string]any{"sub": "u", "exp": testNow.Add(time.Minute).Unix()}, k)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name, raw string, ks []keys.Key, ok bool) {
		t.Helper()
		claims, err := VerifySignedCached(raw, ks, testNow)
		switch {
		case ok && err != nil:
			t.Errorf("%s: refused: %v", name, err)
		case ok && claims["sub"] != "u":
			t.Errorf("%s: claims %v", name, claims)
		case !ok && !errors.Is(err, ErrInvalid):
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	check("first check", tok, []keys.Key{k}, true)
	hits := VerifiedCacheHits()
	check("remembered", tok, []keys.Key{k}, true)
	if VerifiedCacheHits() != hits+1 {
		t.Fatal("the second check of the same token was not served from memory")
	}

	disabled := k
	disabled.Enabled = false
	check("key disabled", tok, []keys.Key{disabled}, false)
	check("key gone", tok, []keys.Key{other}, false)
	replaced := other
	replaced.Kid = k.Kid // other material under the same kid
	check("key material replaced under the same kid", tok, []keys.Key{replaced}, false)
	check("key back", tok, []keys.Key{k}, true)

	check("signature changed", flipSignatureChar(tok), []keys.Key{k}, false)

	// A caller changing the claims it got changes nothing remembered.
	claims, err := VerifySignedCached(tok, []keys.Key{k}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	claims["sub"] = "mallory"
	check("after a caller changed its copy", tok, []keys.Key{k}, true)
}

// flipSignatureChar changes one character inside the signature (not the
// last, whose low bits base64 may ignore).
func flipSignatureChar(tok string) string {
	b := []byte(tok)
	i := len(b) - 10
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// verifiedBytes is what the node's cache of checked signatures counts
// against maxVerifiedBytes.
func verifiedBytes() int {
	verified.mu.Lock()
	defer verified.mu.Unlock()
	return verified.bytes
}

func verifiedHas(raw string) bool {
	verified.mu.Lock()
	defer verified.mu.Unlock()
	_, ok := verified.m[sha256.Sum256([]byte(raw))]
	return ok
}

// The cache is bounded by memory, not only by its count of entries: a large
// token verifies but is not remembered, and many tokens just under the size
// limit never take the cache above its byte cap.
func TestVerifySignedCachedBoundedByMemory(t *testing.T) {
	k, err := keys.Fallback(keys.ES256, "r", testNow)
	if err != nil {
		t.Fatal(err)
	}
	ks := []keys.Key{k}
	exp := testNow.Add(time.Minute).Unix()
	for i := range 100 {
		tok, err := Sign(map[string]any{"sub": "u", "exp": exp, "i": i, "pad": strings.Repeat("x", 200<<10)}, k)
		if err != nil {
			t.Fatal(err)
		}
		claims, err := VerifySignedCached(tok, ks, testNow)
		if err != nil || claims["sub"] != "u" {
			t.Fatalf("large token %d: %v %v", i, claims["sub"], err)
		}
		if verifiedHas(tok) {
			t.Fatalf("large token %d (%d bytes) was remembered", i, len(tok))
		}
		if b := verifiedBytes(); b > maxVerifiedBytes {
			t.Fatalf("cache holds %d bytes, cap %d", b, maxVerifiedBytes)
		}
	}
	var small string
	for i := range 2000 {
		tok, err := Sign(map[string]any{"sub": "u", "exp": exp, "i": i, "pad": strings.Repeat("x", 10<<10)}, k)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := VerifySignedCached(tok, ks, testNow); err != nil {
			t.Fatal(err)
		}
		if b := verifiedBytes(); b > maxVerifiedBytes {
			t.Fatalf("after %d tokens the cache holds %d bytes, cap %d", i+1, b, maxVerifiedBytes)
		}
		small = tok
	}
	if !verifiedHas(small) {
		t.Error("a token under the size limit was not remembered")
	}
}
