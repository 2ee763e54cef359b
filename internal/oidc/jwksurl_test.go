package oidc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/clientkeys"
	gateoidc "github.com/gatehouse-iam/gatehouse/internal/oidc"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// jwksServer publishes a client's key set and counts how often it is read.
type jwksServer struct {
	*httptest.Server
	mu    sync.Mutex
	keys  []jose.JSONWebKey
	reads atomic.Int32
}

func newJWKSServer(t *testing.T) *jwksServer {
	j := &jwksServer{}
	j.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.reads.Add(1)
		j.mu.Lock()
		defer j.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: j.keys})
	}))
	t.Cleanup(j.Close)
	return j
}

func (j *jwksServer) publish(keys ...jose.JSONWebKey) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.keys = keys
}

// ecKey returns a fresh P-256 key and its public JWK named kid.
func ecKey(t *testing.T, kid string) (*ecdsa.PrivateKey, jose.JSONWebKey) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv, jose.JSONWebKey{Key: &priv.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"}
}

func signWithKid(t *testing.T, priv *ecdsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	return signKid(t, jose.ES256, priv, kid, claims)
}

// jwksURLClient registers a private_key_jwt client whose keys live at url.
func jwksURLClient(t *testing.T, e *env, id, jwksURL string) {
	t.Helper()
	c := client.New(store.NewID(), e.realm.ID, id)
	c.ClientAuthenticatorType = "client-jwt"
	c.ServiceAccountsEnabled = true
	c.RedirectURIs = []string{"https://app.example/cb"}
	c.Attributes[clientkeys.UseJWKSURLAttr] = "true"
	c.Attributes[clientkeys.JWKSURLAttr] = jwksURL
	if err := provision.CreateClient(context.Background(), e.db, c, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
}

func assertionGrant(e *env, assertion string) (int, map[string]any) {
	return e.post("/protocol/openid-connect/token", url.Values{"grant_type": {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion}}, "", "")
}

func TestPrivateKeyJWTFromJWKSURL(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.Open}, {"postgres", storetest.OpenPostgres}} {
		t.Run(db.name, func(t *testing.T) {
			e := newEnv(t, db.open)
			// A node whose outbound client may reach the loopback JWKS server.
			h := &gateoidc.Handler{Store: e.db, Log: slog.New(slog.NewTextHandler(t.Output(), nil)), Now: e.clock.Now,
				Keys: &clientkeys.Loader{Outbound: outbound.New(outbound.Options{AllowPrivate: true}), Now: e.clock.Now}}
			mux := http.NewServeMux()
			h.Register(mux)
			e.srv.Config.Handler = mux

			js := newJWKSServer(t)
			k1, jwk1 := ecKey(t, "k1")
			k2, jwk2 := ecKey(t, "k2")
			js.publish(jwk1)
			jwksURLClient(t, e, "url-app", js.URL+"/jwks")

			n := 0
			assertion := func(priv *ecdsa.PrivateKey, kid string) string {
				n++
				now := e.clock.Now()
				return signWithKid(t, priv, kid, map[string]any{"iss": "url-app", "sub": "url-app",
					"aud": e.url("/protocol/openid-connect/token"), "jti": "j-" + string(rune('a'+n)),
					"exp": now.Add(time.Minute).Unix(), "iat": now.Unix()})
			}
			expect := func(what string, st int, body map[string]any, wantOK bool, wantReads int32) {
				t.Helper()
				if wantOK && (st != 200 || body["access_token"] == nil) {
					t.Fatalf("%s: %d %v", what, st, body)
				}
				if !wantOK && (st != 400 || body["error"] != "invalid_client" || body["error_description"] != "Unable to load public key") {
					t.Fatalf("%s: want 400 invalid_client, got %d %v", what, st, body)
				}
				if got := js.reads.Load(); got != wantReads {
					t.Fatalf("%s: JWKS read %d times, want %d", what, got, wantReads)
				}
			}

			st, body := assertionGrant(e, assertion(k1, "k1"))
			expect("first assertion", st, body, true, 1)
			st, body = assertionGrant(e, assertion(k1, "k1"))
			expect("cached key", st, body, true, 1)

			// Rotation: the server now publishes k2 only. Within the
			// minimum interval the unknown kid is not fetched for.
			js.publish(jwk2)
			e.clock.Add(2 * time.Second)
			st, body = assertionGrant(e, assertion(k2, "k2"))
			expect("new kid within the interval", st, body, false, 1)
			e.clock.Add(clientkeys.DefaultMinInterval)
			st, body = assertionGrant(e, assertion(k2, "k2"))
			expect("new kid after the interval", st, body, true, 2)

			// Made-up kids: one fetch per interval at most.
			for i := 0; i < 3; i++ {
				st, body = assertionGrant(e, assertion(k1, "made-up"))
				expect("made-up kid within the interval", st, body, false, 2)
			}
			e.clock.Add(clientkeys.DefaultMinInterval)
			st, body = assertionGrant(e, assertion(k1, "made-up"))
			expect("made-up kid after the interval", st, body, false, 3)
			st, body = assertionGrant(e, assertion(k1, "k1"))
			expect("retired key", st, body, false, 3)

			// A request object pushed by the client, signed with its
			// jwks.url key, is verified with it; one signed by a key the
			// set does not hold is refused.
			e.clock.Add(clientkeys.DefaultMinInterval)
			now := e.clock.Now()
			reqObj := func(priv *ecdsa.PrivateKey, kid string) string {
				return signWithKid(t, priv, kid, map[string]any{"iss": "url-app", "aud": e.url(""),
					"client_id": "url-app", "response_type": "code", "redirect_uri": "https://app.example/cb",
					"scope": "openid", "exp": now.Add(time.Minute).Unix()})
			}
			par := func(object string) (int, map[string]any) {
				return e.post("/protocol/openid-connect/ext/par/request", url.Values{
					"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
					"client_assertion":      {assertion(k2, "k2")}, "request": {object}}, "", "")
			}
			if st, body := par(reqObj(k2, "k2")); st != 201 || body["request_uri"] == nil {
				t.Fatalf("request object with the jwks.url key: %d %v", st, body)
			}
			if st, body := par(reqObj(k1, "k2")); st != 400 || body["error"] != "invalid_request_object" {
				t.Fatalf("request object with a foreign key: %d %v", st, body)
			}
		})
	}
}

// With the default outbound options a jwks.url on loopback is never
// fetched, and the client is refused as when its key set cannot be loaded.
func TestPrivateKeyJWTJWKSURLLoopbackRefusedByDefault(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.Open}, {"postgres", storetest.OpenPostgres}} {
		t.Run(db.name, func(t *testing.T) {
			e := newEnv(t, db.open) // Keys unset: outbound defaults
			js := newJWKSServer(t)
			k1, jwk1 := ecKey(t, "k1")
			js.publish(jwk1)
			jwksURLClient(t, e, "url-app", js.URL+"/jwks")
			now := e.clock.Now()
			st, body := assertionGrant(e, signWithKid(t, k1, "k1", map[string]any{"iss": "url-app", "sub": "url-app",
				"aud": e.url("/protocol/openid-connect/token"), "jti": "x", "exp": now.Add(time.Minute).Unix()}))
			if st != 400 || body["error"] != "invalid_client" || body["error_description"] != "Unable to load public key" {
				t.Fatalf("loopback jwks.url: %d %v", st, body)
			}
			if n := js.reads.Load(); n != 0 {
				t.Fatalf("loopback JWKS server was read %d times", n)
			}
		})
	}
}
