package login_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestDPoPJktBindsTheCode: a dpop_jkt given at the authorization endpoint
// is kept with the code, and the token request must prove that key.
func TestDPoPJktBindsTheCode(t *testing.T) {
	bothEnvs(t, func(t *testing.T, e *env) {
		tokenURL := e.url("/protocol/openid-connect/token")
		redeem := func(code string, key *ecdsa.PrivateKey) (int, map[string]any) {
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://app.example/cb"}}
			req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("app", appSecret)
			if key != nil {
				c, _ := json.Marshal(map[string]any{"jti": rand.Text(), "htm": "POST", "htu": tokenURL, "iat": e.clock.Now().Unix()})
				s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
				if err != nil {
					t.Fatal(err)
				}
				jws, _ := s.Sign(c)
				proof, _ := jws.CompactSerialize()
				req.Header.Set("DPoP", proof)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var m map[string]any
			json.Unmarshal(b, &m)
			return resp.StatusCode, m
		}
		jkt := func(key *ecdsa.PrivateKey) string {
			tp, _ := (&jose.JSONWebKey{Key: &key.PublicKey}).Thumbprint(crypto.SHA256)
			return base64.RawURLEncoding.EncodeToString(tp)
		}
		code := func(over map[string]string) string {
			b := e.browser()
			loc := e.login(b, b.get(e.codeRequest(over)), "alice", alicePassword).location(t)
			if loc.Query().Get("code") == "" {
				t.Fatalf("no code: %s", loc)
			}
			return loc.Query().Get("code")
		}
		k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

		st, body := redeem(code(map[string]string{"dpop_jkt": jkt(k1)}), k2)
		if st != 400 || body["error"] != "invalid_request" || body["error_description"] != "DPoP Proof public key thumbprint does not match dpop_jkt" {
			t.Fatalf("proof of another key: %d %v", st, body)
		}
		st, body = redeem(code(map[string]string{"dpop_jkt": jkt(k1)}), nil)
		if st != 400 || body["error"] != "invalid_request" || body["error_description"] != "DPoP Proof missing" {
			t.Fatalf("no proof: %d %v", st, body)
		}
		st, body = redeem(code(map[string]string{"dpop_jkt": jkt(k1)}), k1)
		if st != 200 || body["token_type"] != "DPoP" {
			t.Fatalf("proof of the named key: %d %v", st, body)
		}
		// Through PAR: the pushed dpop_jkt binds the code just the same.
		uri := e.pushApp(map[string]string{"dpop_jkt": jkt(k1)})
		b := e.browser()
		loc := e.login(b, b.get(e.authURL(map[string]string{"client_id": "app", "request_uri": uri})), "alice", alicePassword).location(t)
		st, body = redeem(loc.Query().Get("code"), k2)
		if st != 400 || body["error_description"] != "DPoP Proof public key thumbprint does not match dpop_jkt" {
			t.Fatalf("pushed dpop_jkt, proof of another key: %d %v", st, body)
		}
	})
}
