package clientkeys

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
)

// TestLoaderCacheBounds: entries expire after MaxAge, the cache holds at
// most MaxEntries URLs, and a failed fetch is ErrFetch.
func TestLoaderCacheBounds(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var mu sync.Mutex
	reads := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reads[r.URL.Path]++
		mu.Unlock()
		if r.URL.Path == "/broken" {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: "k", Algorithm: "ES256"}}})
	}))
	defer srv.Close()
	count := func(p string) int { mu.Lock(); defer mu.Unlock(); return reads[p] }
	now := time.Unix(1_800_000_000, 0)
	l := &Loader{Outbound: outbound.New(outbound.Options{AllowPrivate: true}), Now: func() time.Time { return now },
		MaxEntries: 2, MaxAge: time.Hour}
	key := func(path string) error {
		c := client.New("id", "realm", "c")
		c.Attributes[UseJWKSURLAttr] = "true"
		c.Attributes[JWKSURLAttr] = srv.URL + path
		_, err := l.Key(context.Background(), c, "k", "ES256")
		return err
	}
	for _, p := range []string{"/a", "/a", "/b"} {
		if err := key(p); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		now = now.Add(time.Second)
	}
	if count("/a") != 1 || count("/b") != 1 {
		t.Fatalf("cached reads: a=%d b=%d", count("/a"), count("/b"))
	}
	if err := key("/c"); err != nil { // evicts /a, the oldest
		t.Fatal(err)
	}
	if len(l.cache) != 2 {
		t.Fatalf("cache holds %d URLs", len(l.cache))
	}
	if err := key("/a"); err != nil || count("/a") != 2 {
		t.Fatalf("evicted URL read again: %v, %d reads", err, count("/a"))
	}
	now = now.Add(time.Hour)
	if err := key("/a"); err != nil || count("/a") != 3 {
		t.Fatalf("expired entry read again: %v, %d reads", err, count("/a"))
	}
	if err := key("/broken"); !errors.Is(err, ErrFetch) {
		t.Fatalf("failed fetch: %v", err)
	}
}
