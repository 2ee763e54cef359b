package token

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

// FuzzVerify feeds Verify arbitrary compact tokens (SECURITY.md T25, U2;
// RFC 8725): it never panics, every refusal wraps ErrInvalid, and a token it
// accepts was signed by one of the realm's keys for the algorithm the caller
// fixed, so it must be one of the tokens signed here: mutation cannot forge.
// Parse never panics on what Verify returns.
//
// The seeds are signed at run time (realm keys are random); the committed
// corpus in testdata/fuzz/FuzzVerify holds forgeries: "alg":"none", HS256
// over the public key, oversized and malformed tokens.
// `go test -run XXX -fuzz FuzzVerify ./internal/token/` searches.
func FuzzVerify(f *testing.F) {
	rsa, other, hmac := fuzzKeys(f)
	ks := []keys.Key{rsa, hmac}
	claims := map[string]any{"typ": "Refresh", "jti": "j", "exp": 1700000000, "aud": []string{"a", "b"}, "sid": "s"}
	signed := map[string]bool{}
	for _, k := range []keys.Key{rsa, hmac, other} {
		tok, err := Sign(claims, k)
		if err != nil {
			f.Fatal(err)
		}
		if k.Kid != other.Kid {
			if _, err := Verify(tok, ks, k.Algorithm); err != nil {
				f.Fatalf("a seed signed with realm key %s does not verify: %v", k.Kid, err)
			}
			signed[tok] = true
		}
		f.Add(tok, k.Algorithm)
		parts := strings.Split(tok, ".")
		f.Add(parts[0]+"."+parts[1]+".", k.Algorithm)                                // signature stripped
		f.Add(b64(`{"alg":"none","kid":"`+k.Kid+`"}`)+"."+parts[1]+".", k.Algorithm) // alg none
		f.Add(tok+"x", k.Algorithm)
	}
	f.Add("a.b.c", "RS256")
	f.Add("..", keys.HS512)
	f.Add(strings.Repeat("A", MaxTokenSize+1), "RS256")
	f.Fuzz(func(t *testing.T, raw, alg string) {
		got, err := Verify(raw, ks, alg)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Verify error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if !signed[raw] && !sameSignedToken(raw, signed) {
			t.Fatalf("Verify accepted a token no realm key signed: %q", raw)
		}
		if _, err := Parse(got); err != nil {
			t.Fatalf("Parse of verified claims: %v", err)
		}
	})
}

// sameSignedToken reports whether raw differs from a signed token only in
// how base64url padding bits are written, which decoders may forgive; the
// bytes signed and the claims are then the same.
func sameSignedToken(raw string, signed map[string]bool) bool {
	p := strings.Split(raw, ".")
	if len(p) != 3 {
		return false
	}
	for tok := range signed {
		q := strings.Split(tok, ".")
		if p[0] == q[0] && p[1] == q[1] && decodesSame(p[2], q[2]) {
			return true
		}
	}
	return false
}

func decodesSame(a, b string) bool {
	da, err1 := decodeSegment(a)
	db, err2 := decodeSegment(b)
	return err1 == nil && err2 == nil && bytes.Equal(da, db)
}

// FuzzParse feeds the claims decoder and Parse arbitrary JSON payloads: a
// claim of the wrong type is an error wrapping ErrInvalid, never a panic or
// a silently wrong value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"typ":"Bearer","exp":1700000000,"iat":1.7e9,"aud":"a"}`,
		`{"exp":1e400}`,
		`{"exp":-9223372036854775809}`,
		`{"exp":9223372036854775807,"auth_time":"1"}`,
		`{"aud":["a",1]}`,
		`{"aud":{"x":1}}`,
		`{"typ":null,"sid":1}`,
		`[]`,
		`null`,
		`{"a":1}{"b":2}`,
		`{"exp":1.5}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		claims, err := decodeClaims(payload)
		if err != nil {
			return
		}
		p, err := Parse(claims)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if v, ok := claims["exp"]; ok && v != nil {
			if n, ok := number(v); !ok || n != p.Exp {
				t.Fatalf("exp %v parsed as %d", v, p.Exp)
			}
		}
	})
}

// fuzzKeys are the realm's RS256 key, an attacker's RSA key, and an HS512
// key. The HMAC key is fixed, so its tokens verify in every fuzzing worker
// process and in the committed corpus; the RSA keys are generated once per
// process (testKeys), so RS256 seeds verify under plain `go test`.
func fuzzKeys(f *testing.F) (rsa, other, hmac keys.Key) {
	f.Helper()
	keysOnce.Do(func() {
		var err error
		if rsaKey, err = keys.GenerateRSA("ldap-demo", testNow); err != nil {
			panic(err)
		}
		if otherRSA, err = keys.GenerateRSA("attacker", testNow); err != nil {
			panic(err)
		}
		if hmacKey, err = keys.GenerateHMAC(testNow); err != nil {
			panic(err)
		}
	})
	fixed := keys.Key{Kid: "fuzz-hmac", ProviderID: keys.ProviderHMACGenerated, Algorithm: keys.HS512,
		Use: keys.UseSig, Enabled: true, Active: true, Private: bytes.Repeat([]byte("gatehouse-fuzz-"), 5)}
	return rsaKey, otherRSA, fixed
}

func decodeSegment(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
