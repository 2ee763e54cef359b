package oidc_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// introspectAccept introspects tok as clientID with the given Accept header.
func (e *exchangeEnv) introspectAccept(clientID, secret, accept, tok string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/realms/xchg/protocol/openid-connect/token/introspect",
		strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Errorf("Content-Type %q, want JSON", ct)
	}
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatalf("not JSON (%d): %s", resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

func TestIntrospectionJWTClaim(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newExchangeEnv(t, open)
		tok := e.subject("")
		own := payload(t, tok)

		t.Run("a client with the switch gets the token as a JWT the JWKS verifies", func(t *testing.T) {
			st, m := e.introspectAccept("rs-jwt", "rs-secret", "application/jwt", tok)
			if st != 200 || m["active"] != true {
				t.Fatalf("%d %v", st, m)
			}
			jwt, _ := m["jwt"].(string)
			if jwt == "" {
				t.Fatalf("no jwt field: %v", m)
			}
			keys := oidc.NewRemoteKeySet(t.Context(), e.srv.URL+"/realms/xchg/protocol/openid-connect/certs")
			body, err := keys.VerifySignature(t.Context(), jwt)
			if err != nil {
				t.Fatalf("jwt does not verify against the realm's JWKS: %v", err)
			}
			var c map[string]any
			if err := json.Unmarshal(body, &c); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"jti", "sub", "azp", "sid", "iss", "exp", "typ"} {
				if c[k] != own[k] {
					t.Errorf("jwt %s = %v, token's %v", k, c[k], own[k])
				}
			}
			for _, k := range []string{"active", "client_id", "token_type", "jwt"} {
				if _, ok := c[k]; ok {
					t.Errorf("jwt carries the response field %q", k)
				}
			}
		})

		t.Run("no jwt without the switch, without the Accept header, or for an inactive token", func(t *testing.T) {
			for _, c := range []struct{ who, secret, accept, tok string }{
				{"api-a", "a-secret", "application/jwt", tok},
				{"rs-jwt", "rs-secret", "", tok},
				{"rs-jwt", "rs-secret", "application/json", tok},
				{"rs-jwt", "rs-secret", "application/jwt", tok[:len(tok)-4] + "AAAA"},
			} {
				_, m := e.introspectAccept(c.who, c.secret, c.accept, c.tok)
				if _, ok := m["jwt"]; ok {
					t.Errorf("%s with Accept %q: jwt field in %v", c.who, c.accept, m)
				}
			}
		})
	})
}
