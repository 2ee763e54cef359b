package token

import (
	"errors"
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
	check("remembered", tok, []keys.Key{k}, true)

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
