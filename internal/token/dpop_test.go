package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestVerifyProof(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	const htu = "https://id.example/realms/r/protocol/openid-connect/token"
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	claims := func(edit func(map[string]any)) []byte {
		c := map[string]any{"jti": "j1", "htm": "POST", "htu": htu, "iat": now.Unix()}
		if edit != nil {
			edit(c)
		}
		b, _ := json.Marshal(c)
		return b
	}
	signed := func(alg jose.SignatureAlgorithm, key any, opts *jose.SignerOptions, payload []byte) string {
		t.Helper()
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
		if err != nil {
			t.Fatal(err)
		}
		jws, err := s.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := jws.CompactSerialize()
		return out
	}
	dpop := func() *jose.SignerOptions { return (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt") }
	good := signed(jose.ES256, ec, dpop(), claims(nil))
	// A proof whose signature is another key's: header and payload of one
	// proof, signature of another.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	forged := strings.Join(append(strings.Split(good, ".")[:2], strings.Split(signed(jose.ES256, other, dpop(), claims(nil)), ".")[2]), ".")
	noTyp := func() string {
		h, _ := json.Marshal(map[string]any{"alg": "ES256", "jwk": jose.JSONWebKey{Key: &ec.PublicKey}})
		return base64.RawURLEncoding.EncodeToString(h) + "." + strings.SplitN(good, ".", 2)[1]
	}()
	for _, tc := range []struct {
		name, proof, method, want string
	}{
		{"an ES256 proof is accepted", good, "POST", ""},
		{"an EdDSA proof is accepted", signed(jose.EdDSA, ed, dpop(), claims(nil)), "POST", ""},
		{"a PS256 proof is accepted", signed(jose.PS256, rs, dpop(), claims(nil)), "POST", ""},
		{"no proof", "", "POST", "DPoP proof is missing"},
		{"not a JWT", "garbage", "POST", "DPoP header verification failure"},
		{"no typ", noTyp, "POST", "Invalid or missing type in DPoP header: null"},
		{"no jwk", signed(jose.ES256, ec, (&jose.SignerOptions{}).WithType("dpop+jwt"), claims(nil)), "POST", "No JWK in DPoP header"},
		{"signed by another key than its jwk", forged, "POST", "DPoP verification failure: Invalid token signature"},
		{"no jti", signed(jose.ES256, ec, dpop(), claims(func(c map[string]any) { delete(c, "jti") })), "POST", "DPoP mandatory claims are missing"},
		{"no iat", signed(jose.ES256, ec, dpop(), claims(func(c map[string]any) { delete(c, "iat") })), "POST", "DPoP mandatory claims are missing"},
		{"another method", good, "GET", "DPoP HTTP method mismatch"},
		{"another host", signed(jose.ES256, ec, dpop(), claims(func(c map[string]any) { c["htu"] = "https://evil.example/realms/r/protocol/openid-connect/token" })), "POST", "DPoP HTTP URL mismatch"},
		{"a query and fragment are ignored", signed(jose.ES256, ec, dpop(), claims(func(c map[string]any) { c["htu"] = htu + "?a=b#c" })), "POST", ""},
		{"iat at the edge of the past window", signed(jose.ES256, ec, dpop(), claims(func(c map[string]any) { c["iat"] = now.Unix() - 25 })), "POST", ""},
		{"iat past the window", signed(jose.ES256, ec, dpop(), claims(func(c map[string]any) { c["iat"] = now.Unix() - 26 })), "POST", "DPoP proof is not active"},
		{"iat at the edge of the clock skew", signed(jose.ES256, ec, dpop(), claims(func(c map[string]any) { c["iat"] = now.Unix() + 15 })), "POST", ""},
		{"iat beyond the clock skew", signed(jose.ES256, ec, dpop(), claims(func(c map[string]any) { c["iat"] = now.Unix() + 16 })), "POST", "DPoP proof is not active"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := VerifyProof(tc.proof, tc.method, htu, now)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			pe, ok := err.(*ProofError)
			if !ok || pe.Msg != tc.want {
				t.Fatalf("got %v (%+v), want %q", err, p, tc.want)
			}
		})
	}
	p, err := VerifyProof(good, "POST", htu, now)
	if err != nil {
		t.Fatal(err)
	}
	tp, _ := (&jose.JSONWebKey{Key: &ec.PublicKey}).Thumbprint(crypto.SHA256)
	if p.Jkt != base64.RawURLEncoding.EncodeToString(tp) {
		t.Errorf("jkt %q is not the key's RFC 7638 thumbprint", p.Jkt)
	}
}

func TestProofAccessTokenHash(t *testing.T) {
	// RFC 9449 §7.1's example: the ath of this access token.
	p := Proof{Ath: "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"}
	if err := p.CheckAccessToken("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"); err != nil {
		t.Errorf("RFC example: %v", err)
	}
	if err := p.CheckAccessToken("another"); err == nil || err.Error() != "DPoP proof access token hash mismatch" {
		t.Errorf("another token: %v", err)
	}
	if err := (Proof{}).CheckAccessToken("x"); err == nil || err.Error() != "No access token hash in DPoP proof" {
		t.Errorf("no ath: %v", err)
	}
}
