package login_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/gatehouse-iam/gatehouse/internal/client"
)

// requestObject signs claims as a client's request object.
func requestObject(t *testing.T, alg jose.SignatureAlgorithm, key any, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("oauth-authz-req+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// unsignedObject is a request object with alg none.
func unsignedObject(claims map[string]any) string {
	payload, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
}

// selfSigned is a base64 DER certificate for key, as a client's
// jwt.credential.certificate attribute holds it.
func selfSigned(t *testing.T, key crypto.Signer) string {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ec"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// hmacSecret is long enough for HS256 (RFC 7518 §3.2), as the secrets
// Gatehouse generates are.
const hmacSecret = "hmac-client-secret-0123456789abcdef"

func TestRequestObjects(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	pubDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)

	bothEnvs(t, func(t *testing.T, e *env) {
		e.addClient("signed", func(c *client.Client) {
			c.Secret = "signed-secret"
			c.RedirectURIs = []string{"https://signed.example/cb"}
			c.Attributes["jwt.credential.public.key"] = base64.StdEncoding.EncodeToString(pubDER)
			c.Attributes["request.object.signature.alg"] = "RS256"
		})
		e.addClient("roonly", func(c *client.Client) {
			c.PublicClient = true
			c.RedirectURIs = []string{"https://roonly.example/cb"}
			c.Attributes["request.object.required"] = "request only"
		})
		e.addClient("hmac", func(c *client.Client) {
			c.Secret = hmacSecret
			c.RedirectURIs = []string{"https://hmac.example/cb"}
		})
		e.addClient("ec", func(c *client.Client) {
			c.PublicClient = true
			c.RedirectURIs = []string{"https://ec.example/cb"}
			c.Attributes["jwt.credential.certificate"] = selfSigned(t, ecKey)
		})
		claims := func(clientID, redirect string, over map[string]any) map[string]any {
			m := map[string]any{"iss": clientID, "aud": e.issuer(), "client_id": clientID, "response_type": "code",
				"redirect_uri": redirect, "scope": "openid profile", "state": "st-ro", "nonce": "n-ro",
				"exp": e.clock.Now().Add(time.Minute).Unix()}
			for k, v := range over {
				if v == nil {
					delete(m, k)
				} else {
					m[k] = v
				}
			}
			return m
		}
		authorize := func(clientID, object string, extra map[string]string) response {
			p := map[string]string{"client_id": clientID, "request": object}
			for k, v := range extra {
				p[k] = v
			}
			return e.browser().get(e.authURL(p))
		}

		t.Run("a signed request object completes a login go-oidc verifies", func(t *testing.T) {
			ctx := context.Background()
			object := requestObject(t, jose.RS256, rsaKey, claims("signed", "https://signed.example/cb", nil))
			b := e.browser()
			// The object's state and nonce win over the query string's.
			page := b.get(e.authURL(map[string]string{"client_id": "signed", "request": object, "state": "from-query",
				"response_type": "code", "scope": "openid"}))
			if page.status != http.StatusOK {
				t.Fatalf("authorization: %d %s", page.status, page.body)
			}
			loc := e.login(b, page, "alice", alicePassword).location(t)
			if loc.Host != "signed.example" || loc.Query().Get("state") != "st-ro" {
				t.Fatalf("redirect: %s", loc)
			}
			provider, err := oidc.NewProvider(ctx, e.issuer())
			if err != nil {
				t.Fatal(err)
			}
			var meta struct {
				RequestParameter bool     `json:"request_parameter_supported"`
				RequestURI       bool     `json:"request_uri_parameter_supported"`
				Algs             []string `json:"request_object_signing_alg_values_supported"`
				PAR              string   `json:"pushed_authorization_request_endpoint"`
				RequirePAR       *bool    `json:"require_pushed_authorization_requests"`
			}
			if err := provider.Claims(&meta); err != nil || !meta.RequestParameter || !meta.RequestURI ||
				!slices.Contains(meta.Algs, "RS256") || !slices.Contains(meta.Algs, "none") ||
				meta.PAR != e.url("/protocol/openid-connect/ext/par/request") || meta.RequirePAR == nil || *meta.RequirePAR {
				t.Errorf("discovery: %+v %v", meta, err)
			}
			conf := oauth2.Config{ClientID: "signed", ClientSecret: "signed-secret", Endpoint: provider.Endpoint(),
				RedirectURL: "https://signed.example/cb"}
			tok, err := conf.Exchange(ctx, loc.Query().Get("code"))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := provider.Verifier(&oidc.Config{ClientID: "signed", Now: e.clock.Now}).Verify(ctx, raw)
			if err != nil {
				t.Fatal(err)
			}
			if idt.Nonce != "n-ro" {
				t.Errorf("the request object's nonce reaches the ID token: %q", idt.Nonce)
			}
		})
		t.Run("accepted signatures", func(t *testing.T) {
			for _, tt := range []struct {
				name, client, object string
			}{
				{"ES256 with the client's certificate", "ec", requestObject(t, jose.ES256, ecKey, claims("ec", "https://ec.example/cb", nil))},
				{"none when the client pins no algorithm", "ec", unsignedObject(claims("ec", "https://ec.example/cb", nil))},
				{"HS256 with the client secret", "hmac", requestObject(t, jose.HS256, []byte(hmacSecret), claims("hmac", "https://hmac.example/cb", nil))},
				{"an unsigned object for a client that requires one", "roonly", unsignedObject(claims("roonly", "https://roonly.example/cb", nil))},
			} {
				if res := authorize(tt.client, tt.object, nil); res.status != http.StatusOK {
					t.Errorf("%s: %d %s", tt.name, res.status, res.header.Get("Location"))
				}
			}
		})
		t.Run("refused request objects", func(t *testing.T) {
			redirect := "https://signed.example/cb"
			for _, tt := range []struct {
				name, client, object string
			}{
				{"bad signature", "signed", requestObject(t, jose.RS256, otherKey, claims("signed", redirect, nil))},
				{"wrong iss", "signed", requestObject(t, jose.RS256, rsaKey, claims("signed", redirect, map[string]any{"iss": "app"}))},
				{"another audience", "signed", requestObject(t, jose.RS256, rsaKey, claims("signed", redirect, map[string]any{"aud": "https://elsewhere"}))},
				{"expired", "signed", requestObject(t, jose.RS256, rsaKey, claims("signed", redirect, map[string]any{"exp": e.clock.Now().Add(-time.Second).Unix()}))},
				{"another client's client_id", "signed", requestObject(t, jose.RS256, rsaKey, claims("signed", redirect, map[string]any{"client_id": "app"}))},
				{"alg none when RS256 is registered", "signed", unsignedObject(claims("signed", redirect, nil))},
				{"PS256 when RS256 is registered", "signed", requestObject(t, jose.PS256, rsaKey, claims("signed", redirect, nil))},
				{"HS256 when RS256 is registered", "signed", requestObject(t, jose.HS256, []byte(hmacSecret), claims("signed", redirect, nil))},
				{"HMAC from a public client", "ec", requestObject(t, jose.HS256, []byte(hmacSecret), claims("ec", "https://ec.example/cb", nil))},
				{"HS256 with a wrong secret", "hmac", requestObject(t, jose.HS256, []byte(hmacSecret+"x"), claims("hmac", "https://hmac.example/cb", nil))},
				{"not a JWT", "signed", "not-a-jwt"},
			} {
				res := authorize(tt.client, tt.object, nil)
				if res.status != http.StatusBadRequest || res.header.Get("Location") != "" {
					t.Errorf("%s: %d %s", tt.name, res.status, res.header.Get("Location"))
				}
			}
		})
		t.Run("a client that requires request objects refuses a plain request", func(t *testing.T) {
			res := e.browser().get(e.authURL(map[string]string{"client_id": "roonly", "redirect_uri": "https://roonly.example/cb",
				"response_type": "code", "scope": "openid"}))
			if res.status != http.StatusBadRequest {
				t.Errorf("plain request: %d", res.status)
			}
		})
		t.Run("a request object pushed to the PAR endpoint", func(t *testing.T) {
			object := requestObject(t, jose.RS256, rsaKey, claims("signed", "https://signed.example/cb", map[string]any{"state": "st-pushed"}))
			status, body := e.push(url.Values{"client_id": {"signed"}, "client_secret": {"signed-secret"}, "request": {object}})
			if status != http.StatusCreated {
				t.Fatalf("push: %d %v", status, body)
			}
			b := e.browser()
			page := b.get(e.authURL(map[string]string{"client_id": "signed", "request_uri": body["request_uri"].(string)}))
			if page.status != http.StatusOK {
				t.Fatalf("authorization: %d %s", page.status, page.body)
			}
			if loc := e.login(b, page, "alice", alicePassword).location(t); loc.Query().Get("state") != "st-pushed" {
				t.Errorf("redirect: %s", loc)
			}
			bad := requestObject(t, jose.RS256, otherKey, claims("signed", "https://signed.example/cb", nil))
			if status, body := e.push(url.Values{"client_id": {"signed"}, "client_secret": {"signed-secret"}, "request": {bad}}); status != http.StatusBadRequest ||
				body["error"] != "invalid_request_object" {
				t.Errorf("badly signed pushed object: %d %v", status, body)
			}
		})
	})
}
