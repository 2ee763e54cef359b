package token

import (
	hmacpkg "crypto/hmac"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

var (
	keysOnce                  sync.Once
	rsaKey, otherRSA, hmacKey keys.Key
)

// testKeys generates the realm's RS256 and HS512 keys, and a second RSA key
// for forgeries, once for the whole package.
func testKeys(t *testing.T) (rsa, other, hmac keys.Key) {
	t.Helper()
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
	return rsaKey, otherRSA, hmacKey
}

// joseSign signs payload with an arbitrary key and header, for forgeries.
func joseSign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, payload []byte) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestSignVerifyRoundTrip(t *testing.T) {
	rsa, _, hmac := testKeys(t)
	passive := rsa
	passive.Active = false
	claims := Access(testInput())
	tests := []struct {
		name   string
		signer keys.Key
		ks     []keys.Key
		alg    string
	}{
		{"RS256 access token", rsa, []keys.Key{hmac, rsa}, "RS256"},
		{"HS512 refresh token", hmac, []keys.Key{rsa, hmac}, "HS512"},
		{"a passive key still verifies", rsa, []keys.Key{passive}, "RS256"},
	}
	// Every other algorithm a realm key signs with.
	for _, alg := range keys.SignatureAlgorithms {
		if alg == keys.RS256 || alg == keys.HS512 {
			continue
		}
		k, err := keys.Fallback(alg, "r", testNow)
		if err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct {
			name   string
			signer keys.Key
			ks     []keys.Key
			alg    string
		}{alg, k, []keys.Key{rsa, k}, alg})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := Sign(claims, tt.signer)
			if err != nil {
				t.Fatal(err)
			}
			header := decodeHeader(t, raw)
			if header["alg"] != tt.alg || header["kid"] != tt.signer.Kid || header["typ"] != "JWT" {
				t.Errorf("header = %v", header)
			}
			got, err := Verify(raw, tt.ks, tt.alg)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got["exp"] != json.Number("1700000060") {
				t.Errorf("exp = %#v, want json.Number 1700000060", got["exp"])
			}
			if js(t, got) != js(t, claims) {
				t.Errorf("claims changed:\n got %s\nwant %s", js(t, got), js(t, claims))
			}
		})
	}
}

func decodeHeader(t *testing.T, raw string) map[string]any {
	t.Helper()
	h, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(h, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestVerifyRejects(t *testing.T) {
	rsa, other, hmac := testKeys(t)
	ks := []keys.Key{rsa, hmac}
	payload := []byte(`{"sub":"u-1","typ":"Bearer","exp":1700000060}`)

	good, err := Sign(map[string]any{"sub": "u-1"}, rsa)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[10] ^= 0x01
	flipped := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)

	none := b64(`{"alg":"none","kid":"`+rsa.Kid+`","typ":"JWT"}`) + "." + b64(string(payload)) + "."

	// Algorithm confusion: an attacker MACs with the published public key.
	pub, err := rsa.RSAPublic()
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	confused := joseSign(t, jose.HS256, der, rsa.Kid, payload)

	otherPriv, err := other.RSAPrivate()
	if err != nil {
		t.Fatal(err)
	}
	forged := joseSign(t, jose.RS256, otherPriv, rsa.Kid, payload)

	renamed := rsa
	renamed.Kid = "unknown-kid"
	unknownKid, err := Sign(map[string]any{"sub": "u-1"}, renamed)
	if err != nil {
		t.Fatal(err)
	}
	rsaPriv, err := rsa.RSAPrivate()
	if err != nil {
		t.Fatal(err)
	}
	noKid := joseSign(t, jose.RS256, rsaPriv, "", payload)

	disabled := rsa
	disabled.Enabled = false

	hmacToken, err := Sign(map[string]any{"sub": "u-1"}, hmac)
	if err != nil {
		t.Fatal(err)
	}
	huge, err := Sign(map[string]any{"pad": strings.Repeat("x", MaxTokenSize)}, rsa)
	if err != nil {
		t.Fatal(err)
	}
	notObject := joseSign(t, jose.RS256, rsaPriv, rsa.Kid, []byte(`["a"]`))
	trailing := joseSign(t, jose.RS256, rsaPriv, rsa.Kid, []byte(`{"a":1}{"b":2}`))

	tests := []struct {
		name string
		raw  string
		ks   []keys.Key
		alg  string
	}{
		{"a flipped signature byte", flipped, ks, "RS256"},
		{"alg none", none, ks, "RS256"},
		{"alg none even when asked for", none, ks, "none"},
		{"HS256 MACed with the RSA public key, verified as RS256", confused, ks, "RS256"},
		{"HS256 MACed with the RSA public key, verified as HS256", confused, ks, "HS256"},
		{"signed by another RSA key under the same kid", forged, ks, "RS256"},
		{"an unknown kid", unknownKid, ks, "RS256"},
		{"no kid", noKid, ks, "RS256"},
		{"a disabled key", good, []keys.Key{disabled, hmac}, "RS256"},
		{"an RS256 token verified as HS512", good, ks, "HS512"},
		{"an HS512 token verified as RS256", hmacToken, ks, "RS256"},
		{"a token over 16 KiB", huge, ks, "RS256"},
		{"more than three parts", good + ".extra", ks, "RS256"},
		{"two parts", parts[0] + "." + parts[1], ks, "RS256"},
		{"JWS JSON serialization", `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, ks, "RS256"},
		{"payload not an object", notObject, ks, "RS256"},
		{"data after the claims", trailing, ks, "RS256"},
		{"garbage", "a.b.c", ks, "RS256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := Verify(tt.raw, tt.ks, tt.alg)
			if err == nil {
				t.Fatalf("Verify accepted it: %v", claims)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}

	t.Run("the untampered token verifies", func(t *testing.T) {
		if _, err := Verify(good, ks, "RS256"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSignRefuses(t *testing.T) {
	rsa, _, hmac := testKeys(t)
	disabled := rsa
	disabled.Enabled = false
	noKid := rsa
	noKid.Kid = ""
	enc := rsa
	enc.Algorithm = keys.RSAOAEP
	short := hmac
	short.Private = short.Private[:16]
	tests := []struct {
		name string
		k    keys.Key
	}{
		{"a disabled key", disabled},
		{"a key without kid", noKid},
		{"an encryption key", enc},
		{"an HS512 secret shorter than 64 bytes", short},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if raw, err := Sign(map[string]any{"sub": "u-1"}, tt.k); err == nil {
				t.Errorf("Sign succeeded: %s", raw)
			}
		})
	}
}

func TestParse(t *testing.T) {
	rsa, _, _ := testKeys(t)
	in := testInput()
	raw, err := Sign(Access(in), rsa)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := Verify(raw, []keys.Key{rsa}, "RS256")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(claims)
	if err != nil {
		t.Fatal(err)
	}
	checkClaims(t, []claimCase{
		{"typ", p.Typ, `"Bearer"`},
		{"sid", p.Sid, `"sess-1"`},
		{"sub", p.Sub, `"u-1"`},
		{"azp", p.Azp, `"ldap-app"`},
		{"iss", p.Iss, `"` + issuer + `"`},
		{"scope", p.Scope, `"openid email info profile"`},
		{"exp", p.Exp, "1700000060"},
		{"iat", p.Iat, "1700000000"},
		{"auth_time", p.AuthTime, "1699999900"},
		{"aud string becomes a list", p.Aud, `["account"]`},
	})
	if !accessJTIRe.MatchString(p.Jti) {
		t.Errorf("jti = %q", p.Jti)
	}

	t.Run("expiry follows Keycloak: past exp, and never at exp 0", func(t *testing.T) {
		if p.Expired(testNow) || p.Expired(testNow.Add(60e9)) || !p.Expired(testNow.Add(61e9)) {
			t.Error("wrong expiry around exp")
		}
		if (Parsed{}).Expired(testNow.Add(1e18)) {
			t.Error("exp 0 expired")
		}
	})

	t.Run("aud array and float numbers", func(t *testing.T) {
		var m map[string]any
		if err := json.Unmarshal([]byte(`{"aud":["a","b"],"exp":1.7e9}`), &m); err != nil {
			t.Fatal(err)
		}
		p, err := Parse(m)
		if err != nil {
			t.Fatal(err)
		}
		if !p.HasAudience("b") || p.Exp != 1_700_000_000 {
			t.Errorf("got %+v", p)
		}
	})

	bad := []struct {
		name   string
		claims map[string]any
	}{
		{"typ not a string", map[string]any{"typ": json.Number("1")}},
		{"exp not a number", map[string]any{"exp": "soon"}},
		{"exp not integral", map[string]any{"exp": json.Number("1.5")}},
		{"aud of numbers", map[string]any{"aud": []any{json.Number("1")}}},
		{"aud an object", map[string]any{"aud": map[string]any{}}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(tt.claims); !errors.Is(err, ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

// HMAC tokens (refresh, offline, action tokens, cookies) are refused in
// every malformed or forged form, and Verify (the refresh grant's path,
// alg pinned) and VerifySigned (introspection's path) agree on every one:
// one token is never accepted by one and refused by the other.
func TestVerifyHMACRejects(t *testing.T) {
	rsa, _, hs := testKeys(t)
	other, err := keys.GenerateHMAC(testNow)
	if err != nil {
		t.Fatal(err)
	}
	disabled := hs
	disabled.Enabled = false
	ks := []keys.Key{rsa, hs}
	good, err := Sign(map[string]any{"sub": "u-1"}, hs)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	mac := func(header, payload string, secret []byte) string {
		in := b64(header) + "." + b64(payload)
		m := hmacpkg.New(sha512.New, secret)
		m.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	hdr := func(extra string) string { return `{"alg":"HS512","kid":"` + hs.Kid + `"` + extra + `,"typ":"JWT"}` }
	sig := []byte(parts[2])
	sig[3] ^= 1
	// The last character of a 64-byte MAC carries 4 unused bits.
	lastBits := []byte(parts[2])
	if lastBits[len(lastBits)-1] == 'A' {
		lastBits[len(lastBits)-1] = 'B'
	} else {
		lastBits[len(lastBits)-1] = 'A'
	}
	refused := map[string]string{
		"a changed MAC":                    parts[0] + "." + parts[1] + "." + string(sig),
		"another token's claims":           parts[0] + "." + b64(`{"sub":"admin"}`) + "." + parts[2],
		"MACed with another secret":        mac(hdr(""), `{"sub":"u-1"}`, other.Private),
		"an unknown kid":                   mac(`{"alg":"HS512","kid":"nope","typ":"JWT"}`, `{"sub":"u-1"}`, hs.Private),
		"alg HS256 under the HS512 secret": mac(`{"alg":"HS256","kid":"`+hs.Kid+`","typ":"JWT"}`, `{"sub":"u-1"}`, hs.Private),
		"a crit header":                    mac(hdr(`,"crit":["exp"]`), `{"sub":"u-1"}`, hs.Private),
		"an unencoded payload (b64 false)": mac(hdr(`,"b64":false`), `{"sub":"u-1"}`, hs.Private),
		"a header that is no object":       mac(`[1]`, `{"sub":"u-1"}`, hs.Private),
		"a payload that is no object":      mac(hdr(""), `[1]`, hs.Private),
		"data after the claims":            mac(hdr(""), `{"sub":"u-1"}{"sub":"admin"}`, hs.Private),
		"alg none":                         b64(`{"alg":"none","kid":"`+hs.Kid+`"}`) + "." + parts[1] + ".",
		"two parts":                        parts[0] + "." + parts[1],
	}
	// Forms whose outcome is the library's to decide: the two paths
	// must only agree on it.
	agree := map[string]string{
		"no kid":                       mac(`{"alg":"HS512","typ":"JWT"}`, `{"sub":"u-1"}`, hs.Private),
		"b64 true without crit":        mac(hdr(`,"b64":true`), `{"sub":"u-1"}`, hs.Private),
		"alg given twice":              mac(`{"alg":"HS256","alg":"HS512","kid":"`+hs.Kid+`","typ":"JWT"}`, `{"sub":"u-1"}`, hs.Private),
		"alg given twice, HS512 first": mac(`{"alg":"HS512","alg":"HS256","kid":"`+hs.Kid+`","typ":"JWT"}`, `{"sub":"u-1"}`, hs.Private),
		"a token MACed by hand":        mac(hdr(""), `{"sub":"u-1"}`, hs.Private),
		"the good token":               good,
		"the MAC's unused bits set":    parts[0] + "." + parts[1] + "." + string(lastBits),
	}
	both := func(raw string, ks []keys.Key) (errVerify, errSigned error) {
		_, errVerify = Verify(raw, ks, keys.HS512)
		_, errSigned = VerifySigned(raw, ks)
		return errVerify, errSigned
	}
	for name, raw := range refused {
		ev, es := both(raw, ks)
		if !errors.Is(ev, ErrInvalid) || !errors.Is(es, ErrInvalid) {
			t.Errorf("%s: Verify %v, VerifySigned %v; want ErrInvalid from both", name, ev, es)
		}
	}
	for name, raw := range agree {
		ev, es := both(raw, ks)
		if (ev == nil) != (es == nil) {
			t.Errorf("%s: Verify %v, VerifySigned %v; want the same outcome", name, ev, es)
		}
	}
	if ev, es := both(good, ks); ev != nil || es != nil {
		t.Errorf("the good token: Verify %v, VerifySigned %v", ev, es)
	}
	if ev, es := both(good, []keys.Key{rsa, disabled}); !errors.Is(ev, ErrInvalid) || !errors.Is(es, ErrInvalid) {
		t.Errorf("a disabled secret: Verify %v, VerifySigned %v; want ErrInvalid from both", ev, es)
	}
	if ev, es := both(mac(hdr(""), `{"sub":"u-1"}`, hs.Private), ks); ev != nil || es != nil {
		t.Errorf("a token MACed by hand as Sign does: Verify %v, VerifySigned %v", ev, es)
	}
}
