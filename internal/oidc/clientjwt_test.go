package oidc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

func signAssertion(t *testing.T, alg jose.SignatureAlgorithm, key any, claims map[string]any) string {
	t.Helper()
	return signKid(t, alg, key, "", claims)
}

// signKid signs claims as a compact JWS whose header names kid (none when "").
func signKid(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	obj, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

func TestClientAssertionAuthentication(t *testing.T) {
	e := newEnv(t, storetest.Open)
	ctx := context.Background()
	now := e.clock.Now()
	key, err := keys.GenerateRSA("jwt-app", now)
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := key.RSAPrivate()
	mk := func(id, authType string, attrs map[string]string) {
		c := client.New(store.NewID(), e.realm.ID, id)
		c.ClientAuthenticatorType = authType
		c.ServiceAccountsEnabled = true
		c.Secret = "hmac-secret-of-at-least-32-bytes-long!!"
		for k, v := range attrs {
			c.Attributes[k] = v
		}
		if err := provision.CreateClient(ctx, e.db, c, now); err != nil {
			t.Fatal(err)
		}
	}
	mk("jwt-app", "client-jwt", map[string]string{"jwt.credential.certificate": base64.StdEncoding.EncodeToString(key.Certificate)})
	mk("hs-app", "client-secret-jwt", nil)

	tokenURL := e.url("/protocol/openid-connect/token")
	claims := func(sub, jti string, exp time.Time, aud any) map[string]any {
		return map[string]any{"iss": sub, "sub": sub, "aud": aud, "jti": jti, "exp": exp.Unix(), "iat": now.Unix()}
	}
	grant := func(assertion string) (int, map[string]any) {
		return e.post("/protocol/openid-connect/token", url.Values{"grant_type": {"client_credentials"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {assertion}}, "", "")
	}

	good := signAssertion(t, jose.RS256, priv, claims("jwt-app", "a-1", now.Add(time.Minute), tokenURL))
	if st, body := grant(good); st != 200 || body["access_token"] == nil {
		t.Fatalf("private_key_jwt: %d %v", st, body)
	}
	if st, body := grant(good); st != 401 || body["error"] != "invalid_client" {
		t.Fatalf("replayed assertion: %d %v", st, body)
	}
	hs := signAssertion(t, jose.HS256, []byte("hmac-secret-of-at-least-32-bytes-long!!"), claims("hs-app", "h-1", now.Add(time.Minute), e.url("")))
	if st, body := grant(hs); st != 200 {
		t.Fatalf("client_secret_jwt: %d %v", st, body)
	}

	pubDER, _ := base64.StdEncoding.DecodeString(mustPub(t, key))
	refused := map[string]string{
		"expired":                   signAssertion(t, jose.RS256, priv, claims("jwt-app", "a-2", now.Add(-time.Second), tokenURL)),
		"audience of another realm": signAssertion(t, jose.RS256, priv, claims("jwt-app", "a-3", now.Add(time.Minute), strings.Replace(tokenURL, "ldap-demo", "master", 1))),
		"signed by another key":     signAssertion(t, jose.RS256, mustOtherKey(t), claims("jwt-app", "a-4", now.Add(time.Minute), tokenURL)),
		"HMAC over the public key":  signAssertion(t, jose.HS256, pubDER, claims("jwt-app", "a-5", now.Add(time.Minute), tokenURL)),
		"no jti":                    signAssertion(t, jose.RS256, priv, claims("jwt-app", "", now.Add(time.Minute), tokenURL)),
		"far future exp":            signAssertion(t, jose.RS256, priv, claims("jwt-app", "a-6", now.Add(48*time.Hour), tokenURL)),
		"wrong secret":              signAssertion(t, jose.HS256, []byte("another-secret-of-at-least-32-bytes!!"), claims("hs-app", "h-2", now.Add(time.Minute), tokenURL)),
		"alg none":                  noneToken(claims("jwt-app", "a-7", now.Add(time.Minute), tokenURL)),
	}
	for name, a := range refused {
		if st, body := grant(a); st != 401 || body["error"] != "invalid_client" {
			t.Errorf("%s: %d %v", name, st, body)
		}
	}
}

func mustPub(t *testing.T, k keys.Key) string {
	s, err := k.PublicKeyBase64()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustOtherKey(t *testing.T) any {
	k, err := keys.GenerateRSA("other", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p, _ := k.RSAPrivate()
	return p
}

func noneToken(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`))
	b, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

// private_key_jwt with an Ed25519 key from the client's JWKS, and
// token.endpoint.auth.signing.alg pinning the algorithm: an assertion the
// same client signs with an ES256 key of its JWKS is refused.
func TestClientAssertionEdDSA(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnv(t, open)
		ctx := context.Background()
		now := e.clock.Now()
		_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
		ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: edPriv.Public(), KeyID: "ed", Use: "sig"},
			{Key: ecPriv.Public(), KeyID: "ec", Use: "sig"},
		}}
		jwks, _ := json.Marshal(set)
		c := client.New(store.NewID(), e.realm.ID, "ed-app")
		c.ClientAuthenticatorType = "client-jwt"
		c.ServiceAccountsEnabled = true
		c.Attributes["use.jwks.string"] = "true"
		c.Attributes["jwks.string"] = string(jwks)
		c.Attributes["token.endpoint.auth.signing.alg"] = "EdDSA"
		if err := provision.CreateClient(ctx, e.db, c, now); err != nil {
			t.Fatal(err)
		}
		claims := func(jti string) map[string]any {
			return map[string]any{"iss": "ed-app", "sub": "ed-app", "aud": e.url("/protocol/openid-connect/token"), "jti": jti,
				"exp": now.Add(time.Minute).Unix(), "iat": now.Unix()}
		}
		sign := func(alg jose.SignatureAlgorithm, key any, kid, jti string) string {
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", kid))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(claims(jti))
			obj, err := s.Sign(b)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := obj.CompactSerialize()
			return out
		}
		grant := func(assertion string) (int, map[string]any) {
			return e.post("/protocol/openid-connect/token", url.Values{"grant_type": {"client_credentials"},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
				"client_assertion":      {assertion}}, "", "")
		}
		if st, body := grant(sign(jose.EdDSA, edPriv, "ed", "e-1")); st != 200 || body["access_token"] == nil {
			t.Fatalf("EdDSA assertion: %d %v", st, body)
		}
		if st, body := grant(sign(jose.ES256, ecPriv, "ec", "e-2")); st != 401 || body["error"] != "invalid_client" {
			t.Errorf("ES256 assertion for an EdDSA client: %d %v", st, body)
		}
	})
}
