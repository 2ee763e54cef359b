package admin_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

type keyList struct {
	Active map[string]string `json:"active"`
	Keys   []keyMeta         `json:"keys"`
}

type keyMeta struct {
	ProviderID  string `json:"providerId"`
	Kid         string `json:"kid"`
	Type        string `json:"type"`
	Algorithm   string `json:"algorithm"`
	Use         string `json:"use"`
	Status      string `json:"status"`
	PublicKey   string `json:"publicKey"`
	Certificate string `json:"certificate"`
	ValidTo     int64  `json:"validTo"`
}

type jwk struct {
	Kid, Kty, Alg, Use, Crv, X, Y, N, E string
}

func (s *testServer) jwks(realmName string) []jwk {
	s.t.Helper()
	var set struct{ Keys []jwk }
	s.get("/realms/"+realmName+"/protocol/openid-connect/certs", "", &set)
	return set.Keys
}

// jwtAlg is the alg in a JWT's header.
func jwtAlg(t *testing.T, jwt string) string { t.Helper(); return jwtHeader(t, jwt).Alg }

func weakRSAPEM(t *testing.T) string {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)}))
}

// Every key provider can be created, read, edited and deleted through the
// admin API, with Keycloak's status codes, and its key shows in the keys
// list and, when it has a public half, in the JWKS with the right use.
func TestKeyProviderComponents(t *testing.T) {
	weak := weakRSAPEM(t)
	both(t, func(t *testing.T, s *testServer) {
		s.newRealm("kp")
		admin := s.adminToken()
		base := "/admin/realms/kp/components"
		tests := []struct {
			provider string
			config   map[string][]string
			// what the key list and JWKS must say
			typ, alg, use string
			published     bool
			crv           string
			wantConfig    map[string]string
		}{
			{provider: "rsa-generated", config: map[string][]string{"algorithm": {"PS256"}},
				typ: "RSA", alg: "PS256", use: "sig", published: true, wantConfig: map[string]string{"keySize": "2048", "algorithm": "PS256"}},
			{provider: "rsa-enc-generated", config: map[string][]string{"algorithm": {"RSA-OAEP-256"}},
				typ: "RSA", alg: "RSA-OAEP-256", use: "enc", published: true, wantConfig: map[string]string{"keySize": "2048"}},
			{provider: "ecdsa-generated", config: map[string][]string{"ecdsaEllipticCurveKey": {"P-384"}, "ecGenerateCertificate": {"true"}},
				typ: "EC", alg: "ES384", use: "sig", published: true, crv: "P-384", wantConfig: map[string]string{"ecdsaEllipticCurveKey": "P-384", "ecGenerateCertificate": "true"}},
			{provider: "eddsa-generated", config: map[string][]string{},
				typ: "OKP", alg: "EdDSA", use: "sig", published: true, crv: "Ed25519", wantConfig: map[string]string{"eddsaEllipticCurveKey": "Ed25519"}},
			{provider: "hmac-generated", config: map[string][]string{"algorithm": {"HS384"}, "secretSize": {"32"}},
				typ: "OCT", alg: "HS384", use: "sig", wantConfig: map[string]string{"secretSize": "32", "algorithm": "HS384"}},
			{provider: "aes-generated", config: map[string][]string{"secretSize": {"24"}},
				typ: "OCT", alg: "AES", use: "enc", wantConfig: map[string]string{"secretSize": "24"}},
			// Keycloak accepts a 1024-bit imported key; so does Gatehouse, with a warning.
			{provider: "rsa", config: map[string][]string{"privateKey": {weak}},
				typ: "RSA", alg: "RS256", use: "sig", published: true, wantConfig: map[string]string{"privateKey": "**********"}},
		}
		for _, tt := range tests {
			t.Run(tt.provider, func(t *testing.T) {
				cfg := map[string][]string{"priority": {"7"}}
				for k, v := range tt.config {
					cfg[k] = v
				}
				st, hdr, b := s.do("POST", base, admin, map[string]any{"name": "my-" + tt.provider, "providerId": tt.provider,
					"providerType": keyProvider, "config": cfg})
				if st != http.StatusCreated {
					t.Fatalf("create: %d %s", st, b)
				}
				id := hdr.Get("Location")[strings.LastIndexByte(hdr.Get("Location"), '/')+1:]
				var c component
				s.get(base+"/"+id, admin, &c)
				if c.Name != "my-"+tt.provider || c.ProviderID != tt.provider || c.Config["priority"][0] != "7" {
					t.Errorf("component %+v", c)
				}
				for k, v := range tt.wantConfig {
					if got := c.Config[k]; len(got) != 1 || got[0] != v {
						t.Errorf("config %s = %v, want %s", k, got, v)
					}
				}
				raw, _ := json.Marshal(c)
				if strings.Contains(string(raw), `"secret"`) || strings.Contains(string(raw), "PRIVATE KEY") || strings.Contains(string(raw), "sPrivateKey") {
					t.Errorf("component leaks key material: %s", raw)
				}

				var kl keyList
				s.get("/admin/realms/kp/keys", admin, &kl)
				i := slices.IndexFunc(kl.Keys, func(k keyMeta) bool { return k.ProviderID == id })
				if i < 0 {
					t.Fatalf("key of %s not in the keys list %+v", id, kl.Keys)
				}
				k := kl.Keys[i]
				if k.Type != tt.typ || k.Algorithm != tt.alg || k.Use != strings.ToUpper(tt.use) || k.Status != "ACTIVE" {
					t.Errorf("key metadata %+v", k)
				}
				if (k.PublicKey != "") != tt.published {
					t.Errorf("publicKey %q for %s", k.PublicKey, tt.provider)
				}
				if tt.provider == "ecdsa-generated" && (k.Certificate == "" || k.ValidTo == 0) {
					t.Errorf("ecGenerateCertificate gave no certificate: %+v", k)
				}
				ji := slices.IndexFunc(s.jwks("kp"), func(j jwk) bool { return j.Kid == k.Kid })
				if (ji >= 0) != tt.published {
					t.Fatalf("JWKS has %s: %v, want %v", tt.provider, ji >= 0, tt.published)
				}
				if ji >= 0 {
					j := s.jwks("kp")[ji]
					if j.Alg != tt.alg || j.Use != tt.use || j.Kty != tt.typ || j.Crv != tt.crv {
						t.Errorf("JWK %+v", j)
					}
				}
				if tt.provider == "rsa" && !strings.Contains(s.Log.String(), "1024-bit RSA key") {
					t.Errorf("no warning about the 1024-bit key in the log")
				}

				// Edit: priority in place; the kid stays.
				if st, _, b := s.do("PUT", base+"/"+id, admin, map[string]any{"id": id, "providerId": tt.provider,
					"config": map[string][]string{"priority": {"150"}}}); st != http.StatusNoContent {
					t.Fatalf("update: %d %s", st, b)
				}
				s.get(base+"/"+id, admin, &c)
				if c.Config["priority"][0] != "150" || c.Name != "my-"+tt.provider {
					t.Errorf("after update %+v", c)
				}
				if st, _, b := s.do("DELETE", base+"/"+id, admin, nil); st != http.StatusNoContent {
					t.Fatalf("delete: %d %s", st, b)
				}
				if st, _, _ := s.do("GET", base+"/"+id, admin, nil); st != http.StatusNotFound {
					t.Errorf("after delete: %d", st)
				}
			})
		}

		// A new curve is a new key under the same component.
		st, hdr, b := s.do("POST", base, admin, map[string]any{"providerId": "ecdsa-generated", "config": map[string][]string{}})
		if st != http.StatusCreated {
			t.Fatalf("create ecdsa: %d %s", st, b)
		}
		id := hdr.Get("Location")[strings.LastIndexByte(hdr.Get("Location"), '/')+1:]
		kidOf := func() (string, string) {
			var kl keyList
			s.get("/admin/realms/kp/keys", admin, &kl)
			for _, k := range kl.Keys {
				if k.ProviderID == id {
					return k.Kid, k.Algorithm
				}
			}
			return "", ""
		}
		kid1, alg1 := kidOf()
		if st, _, b := s.do("PUT", base+"/"+id, admin, map[string]any{"config": map[string][]string{"ecdsaEllipticCurveKey": {"P-521"}}}); st != http.StatusNoContent {
			t.Fatalf("change curve: %d %s", st, b)
		}
		kid2, alg2 := kidOf()
		if alg1 != "ES256" || alg2 != "ES512" || kid1 == kid2 || kid2 == "" {
			t.Errorf("curve change: %s %s -> %s %s", kid1, alg1, kid2, alg2)
		}

		for name, body := range map[string]map[string]any{
			"RSA key size":         {"providerId": "rsa-generated", "config": map[string][]string{"keySize": {"1000"}}},
			"RSA signing alg":      {"providerId": "rsa-generated", "config": map[string][]string{"algorithm": {"HS256"}}},
			"unknown curve":        {"providerId": "ecdsa-generated", "config": map[string][]string{"ecdsaEllipticCurveKey": {"P-999"}}},
			"Ed448":                {"providerId": "eddsa-generated", "config": map[string][]string{"eddsaEllipticCurveKey": {"Ed448"}}},
			"HMAC secret size":     {"providerId": "hmac-generated", "config": map[string][]string{"secretSize": {"7"}}},
			"AES secret size":      {"providerId": "aes-generated", "config": map[string][]string{"secretSize": {"64"}}},
			"rsa without key":      {"providerId": "rsa", "config": map[string][]string{}},
			"rsa with a bad key":   {"providerId": "rsa", "config": map[string][]string{"privateKey": {"bm90IGEga2V5"}}},
			"unsupported provider": {"providerId": "java-keystore", "config": map[string][]string{}},
		} {
			st, _, b := s.do("POST", base, admin, body)
			var e map[string]string
			json.Unmarshal(b, &e)
			if st != http.StatusBadRequest || e["errorMessage"] == "" {
				t.Errorf("%s: %d %s", name, st, b)
			}
		}
	})
}

// realmWithOnlyKey is a realm file whose only key provider is the given
// one, with a confidential client allowed the password and client
// credentials grants and a user alice / pw-alice.
func realmWithOnlyKey(name, alg, provider string, config map[string][]string) map[string]any {
	return map[string]any{
		"realm": name, "enabled": true, "defaultSignatureAlgorithm": alg,
		"components": map[string]any{keyProvider: []any{map[string]any{"name": provider, "providerId": provider, "config": config}}},
		"clients": []any{map[string]any{"clientId": "app", "secret": "app-secret", "publicClient": false, "enabled": true,
			"directAccessGrantsEnabled": true, "serviceAccountsEnabled": true, "standardFlowEnabled": true,
			"redirectUris": []string{"https://app.example/cb"}}},
		"users": []any{map[string]any{"username": "alice", "enabled": true, "email": "alice@example.com", "emailVerified": true,
			"credentials": []any{map[string]any{"type": "password", "value": "pw-alice", "temporary": false}}}},
	}
}

// A realm whose only key provider is ecdsa-generated (or eddsa-generated)
// imports with it and signs its tokens with it; go-oidc verifies them
// through discovery. Before, the provider was dropped and every token
// request answered 500 "realm has no active signing key".
func TestImportedECAndEdDSARealmsSignTokens(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		admin := s.adminToken()
		for _, tt := range []struct {
			realm, alg, provider string
			config               map[string][]string
		}{
			{"ec", "ES256", "ecdsa-generated", map[string][]string{"ecdsaEllipticCurveKey": {"P-256"}, "priority": {"101"}, "active": {"true"}, "enabled": {"true"}}},
			{"ed", "EdDSA", "eddsa-generated", map[string][]string{"priority": {"100"}}},
		} {
			t.Run(tt.alg, func(t *testing.T) {
				if st, _, b := s.do("POST", "/admin/realms", admin, realmWithOnlyKey(tt.realm, tt.alg, tt.provider, tt.config)); st != http.StatusCreated {
					t.Fatalf("import: %d %s", st, b)
				}
				var comps []component
				s.get("/admin/realms/"+tt.realm+"/components?type="+keyProvider+"&name="+tt.provider, admin, &comps)
				if len(comps) != 1 || comps[0].ProviderID != tt.provider {
					t.Fatalf("the file's key provider is gone: %+v", comps)
				}
				ctx := context.Background()
				issuer := s.URL + "/realms/" + tt.realm
				provider, err := oidc.NewProvider(ctx, issuer)
				if err != nil {
					t.Fatal(err)
				}
				var disc struct {
					IDAlgs []string `json:"id_token_signing_alg_values_supported"`
				}
				provider.Claims(&disc)
				if !slices.Contains(disc.IDAlgs, tt.alg) {
					t.Errorf("discovery lists %v, not %s", disc.IDAlgs, tt.alg)
				}
				conf := oauth2.Config{ClientID: "app", ClientSecret: "app-secret", Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID}}
				tok, err := conf.PasswordCredentialsToken(ctx, "alice", "pw-alice")
				if err != nil {
					t.Fatalf("password grant: %v", err)
				}
				rawID, _ := tok.Extra("id_token").(string)
				for name, raw := range map[string]string{"access": tok.AccessToken, "id": rawID} {
					if got := jwtAlg(t, raw); got != tt.alg {
						t.Errorf("%s token alg %s, want %s", name, got, tt.alg)
					}
				}
				idt, err := provider.Verifier(&oidc.Config{ClientID: "app", SupportedSigningAlgs: []string{tt.alg}}).Verify(ctx, rawID)
				if err != nil {
					t.Fatalf("go-oidc rejects the ID token: %v", err)
				}
				if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
					t.Errorf("at_hash: %v", err)
				}
				if _, err := provider.Verifier(&oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{tt.alg}}).Verify(ctx, tok.AccessToken); err != nil {
					t.Errorf("go-oidc rejects the access token: %v", err)
				}
				if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
					t.Errorf("userinfo with the %s access token: %v", tt.alg, err)
				}
				cc := clientcredentials.Config{ClientID: "app", ClientSecret: "app-secret", TokenURL: provider.Endpoint().TokenURL}
				ctok, err := cc.Token(ctx)
				if err != nil {
					t.Fatalf("client_credentials: %v", err)
				}
				if got := jwtAlg(t, ctok.AccessToken); got != tt.alg {
					t.Errorf("client_credentials token alg %s", got)
				}
			})
		}
	})
}

// A client's signature settings override the realm's: access and ID tokens
// with their own algorithm (a key is made for an algorithm the realm lacks)
// and userinfo as a signed JWT.
func TestClientSignatureAlgorithms(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		admin := s.adminToken()
		x := realmWithOnlyKey("per-client", "RS256", "rsa-generated", map[string][]string{})
		x["clients"].([]any)[0].(map[string]any)["attributes"] = map[string]string{
			"access.token.signed.response.alg":   "ES256",
			"id.token.signed.response.alg":       "EdDSA",
			"userinfo.token.signed.response.alg": "ES384",
		}
		if st, _, b := s.do("POST", "/admin/realms", admin, x); st != http.StatusCreated {
			t.Fatalf("import: %d %s", st, b)
		}
		ctx := context.Background()
		provider, err := oidc.NewProvider(ctx, s.URL+"/realms/per-client")
		if err != nil {
			t.Fatal(err)
		}
		conf := oauth2.Config{ClientID: "app", ClientSecret: "app-secret", Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID}}
		tok, err := conf.PasswordCredentialsToken(ctx, "alice", "pw-alice")
		if err != nil {
			t.Fatal(err)
		}
		rawID, _ := tok.Extra("id_token").(string)
		if a, i := jwtAlg(t, tok.AccessToken), jwtAlg(t, rawID); a != "ES256" || i != "EdDSA" {
			t.Errorf("access %s, id %s; want ES256, EdDSA", a, i)
		}
		if _, err := provider.Verifier(&oidc.Config{ClientID: "app", SupportedSigningAlgs: []string{"EdDSA"}}).Verify(ctx, rawID); err != nil {
			t.Errorf("ID token: %v", err)
		}

		req, _ := http.NewRequest("GET", provider.UserInfoEndpoint(), nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/jwt" {
			t.Fatalf("userinfo: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if jwtAlg(t, string(body)) != "ES384" {
			t.Errorf("userinfo alg %s", jwtAlg(t, string(body)))
		}
		// The signed userinfo verifies against the realm's JWKS.
		var set jose.JSONWebKeySet
		s.get("/realms/per-client/protocol/openid-connect/certs", "", &set)
		jws, err := jose.ParseSigned(string(body), []jose.SignatureAlgorithm{jose.ES384})
		if err != nil {
			t.Fatal(err)
		}
		keys := set.Key(jws.Signatures[0].Header.KeyID)
		if len(keys) != 1 {
			t.Fatalf("kid %s not in JWKS", jws.Signatures[0].Header.KeyID)
		}
		payload, err := jws.Verify(keys[0].Key)
		if err != nil {
			t.Fatal(err)
		}
		var claims map[string]any
		json.Unmarshal(payload, &claims)
		if claims["preferred_username"] != "alice" || claims["aud"] != "app" || claims["iss"] != s.URL+"/realms/per-client" {
			t.Errorf("userinfo claims %v", claims)
		}
	})
}
