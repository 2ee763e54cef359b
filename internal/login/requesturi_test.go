package login_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/server"
)

// TestRequestURIFetched: a request_uri the client registered in
// request.uris is fetched through the outbound client and its request
// object verified with the key at the client's jwks.url; an unregistered
// one is never fetched, and with the default outbound options a loopback
// one is refused.
func TestRequestURIFetched(t *testing.T) {
	bothEnvs(t, func(t *testing.T, e *env) {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		hits := map[string]int{}
		objects := map[string]string{}
		rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			hits[r.URL.Path]++
			if r.URL.Path == "/jwks" {
				json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: "rp-1", Algorithm: "ES256", Use: "sig"}}})
				return
			}
			obj, ok := objects[r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/oauth-authz-req+jwt")
			w.Write([]byte(obj))
		}))
		t.Cleanup(rp.Close)
		count := func(path string) int { mu.Lock(); defer mu.Unlock(); return hits[path] }

		e.addClient("ro", func(c *client.Client) {
			c.Secret = "ro-secret"
			c.RedirectURIs = []string{"https://ro.example/cb"}
			c.Attributes["request.uris"] = rp.URL + "/ro/*"
			c.Attributes["use.jwks.url"] = "true"
			c.Attributes["jwks.url"] = rp.URL + "/jwks"
		})
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: priv}, (&jose.SignerOptions{}).WithHeader("kid", "rp-1"))
		if err != nil {
			t.Fatal(err)
		}
		claims, _ := json.Marshal(map[string]any{"iss": "ro", "aud": e.issuer(), "client_id": "ro", "response_type": "code",
			"redirect_uri": "https://ro.example/cb", "scope": "openid", "state": "st-from-object", "exp": e.clock.Now().Add(time.Minute).Unix()})
		jws, _ := s.Sign(claims)
		compact, _ := jws.CompactSerialize()
		objects["/ro/obj1"] = compact
		objects["/other/obj1"] = compact

		// The default server: loopback is not reached.
		res := e.browser().get(e.authURL(map[string]string{"client_id": "ro", "request_uri": rp.URL + "/ro/obj1"}))
		if res.status != http.StatusBadRequest || count("/ro/obj1") != 0 {
			t.Fatalf("loopback request_uri with default options: %d, fetched %d times", res.status, count("/ro/obj1"))
		}

		// A node allowed to reach private addresses.
		e.srv.Config.Handler = server.New(server.Options{Store: e.db, Now: e.clock.Now, Log: slog.New(slog.DiscardHandler),
			Outbound: outbound.New(outbound.Options{AllowPrivate: true})})

		res = e.browser().get(e.authURL(map[string]string{"client_id": "ro", "request_uri": rp.URL + "/other/obj1"}))
		if res.status != http.StatusBadRequest || count("/other/obj1") != 0 {
			t.Fatalf("unregistered request_uri: %d, fetched %d times", res.status, count("/other/obj1"))
		}

		b := e.browser()
		page := b.get(e.authURL(map[string]string{"client_id": "ro", "request_uri": rp.URL + "/ro/obj1"}))
		if page.status != http.StatusOK || count("/ro/obj1") != 1 || count("/jwks") != 1 {
			t.Fatalf("registered request_uri: %d %s (object read %d, jwks read %d)", page.status, page.body, count("/ro/obj1"), count("/jwks"))
		}
		loc := e.login(b, page, "alice", alicePassword).location(t)
		if loc.Host != "ro.example" || loc.Query().Get("state") != "st-from-object" || loc.Query().Get("code") == "" {
			t.Fatalf("redirect: %s", loc)
		}

		// An object signed by another key is refused.
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		s2, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: other}, (&jose.SignerOptions{}).WithHeader("kid", "rp-1"))
		jws2, _ := s2.Sign(claims)
		forged, _ := jws2.CompactSerialize()
		mu.Lock()
		objects["/ro/forged"] = forged
		mu.Unlock()
		if res := e.browser().get(e.authURL(map[string]string{"client_id": "ro", "request_uri": rp.URL + "/ro/forged"})); res.status != http.StatusBadRequest {
			t.Fatalf("forged object: %d", res.status)
		}
	})
}
