//go:build unix

package token

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

// The benchmarks below give the per-core price list the load figures are
// read against (issue 3): one RS256 signature bounds client_credentials,
// two bound refresh_token with openid, and Verify bounds userinfo and
// introspection. Run them pinned to one core, as scripts/bench.sh does:
//
//	taskset -c 0 go test -run XXX -bench 'Sign|Verify' -benchtime 2s ./internal/token/
//
// Each also reports cpu-µs/op, the process's CPU time per op, which another
// process sharing the core does not inflate the way it inflates ns/op.

var (
	benchOnce          sync.Once
	benchRSA, benchHS  keys.Key
	benchClaims        map[string]any
	benchRSAToken      string
	benchHSToken       string
	benchRSAPrivate    *rsa.PrivateKey
	benchSigningInput  []byte
	benchSigningDigest [sha256.Size]byte
)

// benchSetup makes one realm's RS256 and HS512 keys and a story-1 access
// token's claims (all built-in scopes plus info), once per run. It does not
// share testKeys, which needs a *testing.T.
func benchSetup(b *testing.B) {
	b.Helper()
	benchOnce.Do(func() {
		var err error
		if benchRSA, err = keys.GenerateRSA("ldap-demo", testNow); err != nil {
			panic(err)
		}
		if benchHS, err = keys.GenerateHMAC(testNow); err != nil {
			panic(err)
		}
		benchClaims = Access(testInput())
		if benchRSAToken, err = Sign(benchClaims, benchRSA); err != nil {
			panic(err)
		}
		if benchHSToken, err = Sign(Refresh(testInput(), false), benchHS); err != nil {
			panic(err)
		}
		if benchRSAPrivate, err = benchRSA.RSAPrivate(); err != nil {
			panic(err)
		}
		payload, err := json.Marshal(benchClaims)
		if err != nil {
			panic(err)
		}
		header := `{"alg":"RS256","kid":"` + benchRSA.Kid + `","typ":"JWT"}`
		benchSigningInput = []byte(base64.RawURLEncoding.EncodeToString([]byte(header)) + "." +
			base64.RawURLEncoding.EncodeToString(payload))
		benchSigningDigest = sha256.Sum256(benchSigningInput)
	})
}

// BenchmarkSign is token.Sign as the token endpoint calls it, plus its parts:
// the bare RSA-2048 PKCS#1 v1.5 signature with an already parsed key (the
// floor no code change can go under) and the PKCS#8 parse Sign repeats on
// every call (keys.Key.RSAPrivate).
func BenchmarkSign(b *testing.B) {
	benchSetup(b)
	b.Run("RS256", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := Sign(benchClaims, benchRSA); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RS256-rsa-only", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := rsa.SignPKCS1v15(rand.Reader, benchRSAPrivate, crypto.SHA256, benchSigningDigest[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RS256-parse-key-only", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := benchRSA.RSAPrivate(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("HS512", func(b *testing.B) {
		claims := Refresh(testInput(), false)
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := Sign(claims, benchHS); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The other realm key algorithms, for choosing a realm's default.
	for _, alg := range []string{keys.ES256, keys.EdDSA, keys.PS256} {
		k, err := keys.Fallback(alg, "ldap-demo", testNow)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := Sign(benchClaims, k); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify is token.Verify for an access token (RS256, what userinfo
// and introspection pay) and a refresh token (HS512, what refresh pays).
func BenchmarkVerify(b *testing.B) {
	benchSetup(b)
	ks := []keys.Key{benchHS, benchRSA}
	b.Run("RS256", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := Verify(benchRSAToken, ks, keys.RS256); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RS256-rsa-only", func(b *testing.B) {
		sig, err := rsa.SignPKCS1v15(rand.Reader, benchRSAPrivate, crypto.SHA256, benchSigningDigest[:])
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			if err := rsa.VerifyPKCS1v15(&benchRSAPrivate.PublicKey, crypto.SHA256, benchSigningDigest[:], sig); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("HS512", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := Verify(benchHSToken, ks, keys.HS512); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// reportCPU starts counting the process's CPU time; the function it returns
// reports it per op as cpu-µs/op.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
		}
	}
}

// cpuTime is the user and system CPU time of the whole process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
