package oidc_test

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

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// TestDPoPAuthorizationCodeGrant: the code grant binds the access token to
// the proof's key; a confidential client's refresh token stays unbound, and
// a refresh with another key's proof binds the new access token to that key.
func TestDPoPAuthorizationCodeGrant(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnv(t, open)
		tokenURL := e.url("/protocol/openid-connect/token")
		grant := func(form url.Values, key *ecdsa.PrivateKey) (int, map[string]any) {
			c, _ := json.Marshal(map[string]any{"jti": rand.Text(), "htm": "POST", "htu": tokenURL, "iat": e.clock.Now().Unix()})
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
			if err != nil {
				t.Fatal(err)
			}
			jws, _ := s.Sign(c)
			proof, _ := jws.CompactSerialize()
			req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("DPoP", proof)
			req.SetBasicAuth("ldap-app", "password")
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
		bound := func(tok any) any {
			cnf, _ := payload(t, tok.(string))["cnf"].(map[string]any)
			return cnf["jkt"]
		}
		k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		redirect := "http://localhost:3000/cb"
		issueCode(t, e, "code-dpop", map[string]any{"redirect_uri": redirect, "scope": "openid", "acr": "1"})
		st, tok := grant(url.Values{"grant_type": {"authorization_code"}, "code": {"code-dpop"}, "redirect_uri": {redirect}}, k1)
		if st != 200 || tok["token_type"] != "DPoP" || bound(tok["access_token"]) != jkt(k1) {
			t.Fatalf("code grant with proof: %d %v", st, tok["error_description"])
		}
		if bound(tok["refresh_token"]) != nil {
			t.Errorf("a confidential client's refresh token is bound")
		}
		if payload(t, tok["id_token"].(string))["cnf"] != nil {
			t.Errorf("the ID token carries cnf")
		}
		st, tok = grant(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, k2)
		if st != 200 || tok["token_type"] != "DPoP" || bound(tok["access_token"]) != jkt(k2) {
			t.Fatalf("refresh with another key's proof: %d %v", st, tok["error_description"])
		}
	})
}
