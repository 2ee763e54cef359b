package keys

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"slices"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// objectKeys returns the member names of a JSON object in document order.
func objectKeys(t *testing.T, data []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", data)
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// jwksKeys marshals the set and returns each key's raw JSON.
func jwksKeys(t *testing.T, set JSONWebKeySet) []json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Keys
}

func TestJWKS(t *testing.T) {
	active := rsaKey(t)
	passive := active
	passive.Kid, passive.Active = "passive-rsa", false
	disabled := active
	disabled.Kid, disabled.Enabled = "disabled-rsa", false
	hmac, err := GenerateHMAC(testNow)
	if err != nil {
		t.Fatal(err)
	}
	noCert := active
	noCert.Kid, noCert.Certificate = "no-cert", nil
	enc := active
	enc.Kid, enc.Algorithm, enc.Use = "enc-rsa", "RSA-OAEP", "enc"

	tests := []struct {
		name     string
		keys     []Key
		wantKids []string
	}{
		{"no keys gives an empty set", nil, nil},
		{"active and passive RSA keys are published", []Key{active, passive}, []string{active.Kid, "passive-rsa"}},
		{"HMAC keys are never published", []Key{hmac, active}, []string{active.Kid}},
		{"disabled keys are not published", []Key{disabled, active}, []string{active.Kid}},
		{"RSA-OAEP encryption keys are published with use enc", []Key{active, enc}, []string{active.Kid, "enc-rsa"}},
		{"a key without certificate is published without x5c", []Key{noCert}, []string{"no-cert"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := JWKS(tt.keys)
			if err != nil {
				t.Fatal(err)
			}
			var kids []string
			for _, k := range set.Keys {
				kids = append(kids, k.Kid)
			}
			if !slices.Equal(kids, tt.wantKids) {
				t.Errorf("kids = %q, want %q", kids, tt.wantKids)
			}
		})
	}

	t.Run("empty set marshals as an empty array, not null", func(t *testing.T) {
		set, err := JWKS(nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(set)
		if err != nil {
			t.Fatal(err)
		}
		if string(raw) != `{"keys":[]}` {
			t.Errorf("got %s", raw)
		}
	})

	t.Run("an enabled RSA key that does not parse is an error", func(t *testing.T) {
		broken := active
		broken.Private = []byte("garbage")
		if _, err := JWKS([]Key{broken}); err == nil {
			t.Error("JWKS succeeded, want an error")
		}
	})
}

func TestJWKSFields(t *testing.T) {
	k := rsaKey(t)
	priv := rsaPrivate(t, k)
	noCert := k
	noCert.Certificate = nil
	enc := k
	enc.Algorithm, enc.Use = "RSA-OAEP", "enc"

	set, err := JWKS([]Key{k, noCert, enc})
	if err != nil {
		t.Fatal(err)
	}
	raw := jwksKeys(t, set)
	if len(raw) != 3 {
		t.Fatalf("got %d keys, want 3", len(raw))
	}
	var got map[string]any
	if err := json.Unmarshal(raw[0], &got); err != nil {
		t.Fatal(err)
	}
	s1 := sha1.Sum(k.Certificate)
	s256 := sha256.Sum256(k.Certificate)
	x5c, _ := got["x5c"].([]any)

	tests := []struct {
		name string
		got  any
		want any
	}{
		// Keycloak 26 order: JWK's kid, kty, alg, use, x5c, x5t, x5t#S256,
		// then RSAPublicJWK's n, e.
		{"field order", objectKeys(t, raw[0]), []string{"kid", "kty", "alg", "use", "x5c", "x5t", "x5t#S256", "n", "e"}},
		{"field order without certificate", objectKeys(t, raw[1]), []string{"kid", "kty", "alg", "use", "n", "e"}},
		{"kid", got["kid"], k.Kid},
		{"kty", got["kty"], "RSA"},
		{"alg", got["alg"], "RS256"},
		{"use", got["use"], "sig"},
		{"n is base64url of the modulus", got["n"], base64.RawURLEncoding.EncodeToString(priv.N.Bytes())},
		{"e is AQAB", got["e"], "AQAB"},
		{"x5c holds one certificate", len(x5c), 1},
		{"x5c is standard base64 DER", got["x5c"].([]any)[0], base64.StdEncoding.EncodeToString(k.Certificate)},
		{"x5t is base64url SHA-1 of the certificate", got["x5t"], base64.RawURLEncoding.EncodeToString(s1[:])},
		{"x5t#S256 is base64url SHA-256 of the certificate", got["x5t#S256"], base64.RawURLEncoding.EncodeToString(s256[:])},
		{"encryption key alg", set.Keys[2].Alg, "RSA-OAEP"},
		{"encryption key use", set.Keys[2].Use, "enc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gj, _ := json.Marshal(tt.got)
			wj, _ := json.Marshal(tt.want)
			if !bytes.Equal(gj, wj) {
				t.Errorf("got %s, want %s", gj, wj)
			}
		})
	}

	t.Run("n and e rebuild the public key", func(t *testing.T) {
		n, err := base64.RawURLEncoding.DecodeString(set.Keys[0].N)
		if err != nil {
			t.Fatal(err)
		}
		e, err := base64.RawURLEncoding.DecodeString(set.Keys[0].E)
		if err != nil {
			t.Fatal(err)
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if !pub.Equal(&priv.PublicKey) {
			t.Error("n and e do not give the key's public key")
		}
	})
}

func TestJWKSVerifiesGoJoseSignature(t *testing.T) {
	k := rsaKey(t)
	priv := rsaPrivate(t, k)
	hmac, err := GenerateHMAC(testNow)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: priv, KeyID: k.Kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign([]byte(`{"sub":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}

	set, err := JWKS([]Key{hmac, k})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	// go-jose also checks that x5t and x5t#S256 match the x5c certificate.
	var published jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &published); err != nil {
		t.Fatalf("go-jose rejects the JWKS: %v", err)
	}
	if len(published.Keys) != 1 {
		t.Fatalf("published %d keys, want 1", len(published.Keys))
	}
	if len(published.Key(hmac.Kid)) != 0 {
		t.Error("the HMAC key is published")
	}

	parsed, err := jose.ParseSigned(compact, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	kid := parsed.Signatures[0].Header.KeyID
	found := published.Key(kid)
	if len(found) != 1 {
		t.Fatalf("JWKS has %d keys with the token's kid %q, want 1", len(found), kid)
	}
	if len(found[0].Certificates) != 1 || !priv.PublicKey.Equal(found[0].Certificates[0].PublicKey) {
		t.Error("x5c certificate does not carry the signing key")
	}
	payload, err := parsed.Verify(found[0])
	if err != nil {
		t.Fatalf("signature does not verify with the published key: %v", err)
	}
	if string(payload) != `{"sub":"alice"}` {
		t.Errorf("payload = %s", payload)
	}
}
