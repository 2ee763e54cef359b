package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// The floor answers with the model token's claims and response, a fresh
// iat, exp and jti, signed with a key of the model's algorithm, and only
// for the model's client and secret.
func TestFloorImitatesTheModelToken(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	modelKey, err := keys.Fallback(keys.ES256, "model", now)
	if err != nil {
		t.Fatal(err)
	}
	modelClaims := map[string]any{
		"iat": now.Unix() - 50, "exp": now.Unix() + 250, "jti": "model-jti", "iss": "http://127.0.0.1/realms/r",
		"sub": "sa-1", "azp": "app", "typ": "Bearer", "scope": "profile email",
		"realm_access":    map[string]any{"roles": []string{"offline_access", "uma_authorization"}},
		"resource_access": map[string]any{"account": map[string]any{"roles": []string{"view-profile"}}},
		"ratio":           0.5,
	}
	modelAT, err := token.Sign(modelClaims, modelKey)
	if err != nil {
		t.Fatal(err)
	}
	var modelCalls atomic.Int32
	model := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		modelCalls.Add(1)
		id, secret, _ := r.BasicAuth()
		if r.URL.Path != "/auth/realms/r/protocol/openid-connect/token" || id != "app" || secret != "s%C3%A9cret" ||
			r.FormValue("grant_type") != "client_credentials" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"unauthorized_client"}`))
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": modelAT, "expires_in": 300, "token_type": "Bearer",
			"not-before-policy": 0, "scope": "profile email"})
	}))
	defer model.Close()
	base, err := loopbackURL(model.URL + "/auth")
	if err != nil {
		t.Fatal(err)
	}

	if _, err := newFloor(t.Context(), model.Client(), tokenEndpoint(base, "r"), "app", "wrong", func() time.Time { return now }); err == nil ||
		!strings.Contains(err.Error(), "401") {
		t.Errorf("a model that refuses: err %v, want its 401", err)
	}
	f, err := newFloor(t.Context(), model.Client(), tokenEndpoint(base, "r"), "app", "sécret", func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if f.key.Algorithm != keys.ES256 {
		t.Errorf("floor key algorithm %q, want ES256", f.key.Algorithm)
	}
	srv := httptest.NewServer(f)
	defer srv.Close()

	post := func(form, id, secret string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/realms/r/protocol/openid-connect/token", strings.NewReader(form))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, body
	}
	jtis := map[any]bool{}
	for range 2 {
		status, body := post("grant_type=client_credentials", "app", "sécret")
		if status != http.StatusOK {
			t.Fatalf("status %d, body %v", status, body)
		}
		at, _ := body["access_token"].(string)
		if at == "" || at == modelAT {
			t.Fatalf("access_token %q: want a new one", at)
		}
		rest := maps.Clone(body)
		delete(rest, "access_token")
		if want := map[string]any{"expires_in": 300.0, "token_type": "Bearer", "not-before-policy": 0.0, "scope": "profile email"}; !maps.Equal(rest, want) {
			t.Errorf("response %v, want the model's %v", rest, want)
		}
		got, err := token.Verify(at, []keys.Key{f.key}, keys.ES256)
		if err != nil {
			t.Fatalf("the floor's token does not verify with its key: %v", err)
		}
		if _, err := token.Verify(at, []keys.Key{modelKey}, keys.ES256); err == nil {
			t.Error("the floor's token verifies with the model's key: it did not sign")
		}
		if fmt.Sprint(got["iat"]) != fmt.Sprint(now.Unix()) || fmt.Sprint(got["exp"]) != fmt.Sprint(now.Unix()+300) {
			t.Errorf("iat %v exp %v, want %d and %d", got["iat"], got["exp"], now.Unix(), now.Unix()+300)
		}
		jtis[got["jti"]] = true
		for _, k := range []string{"iat", "exp", "jti"} {
			delete(got, k)
		}
		gotJSON, _ := json.Marshal(got)
		want := maps.Clone(modelClaims)
		for _, k := range []string{"iat", "exp", "jti"} {
			delete(want, k)
		}
		wantJSON, _ := json.Marshal(want)
		if string(gotJSON) != string(wantJSON) {
			t.Errorf("claims %s, want the model's %s", gotJSON, wantJSON)
		}
	}
	if len(jtis) != 2 || jtis["model-jti"] {
		t.Errorf("jti values %v: want a new one per token", jtis)
	}
	if n := modelCalls.Load(); n != 2 {
		t.Errorf("the model was asked %d times, want twice (once refused, once at start)", n)
	}

	if status, body := post("grant_type=client_credentials", "app", "wrong"); status != http.StatusUnauthorized || body["error"] != "unauthorized_client" {
		t.Errorf("wrong secret: %d %v", status, body)
	}
	if status, body := post("grant_type=client_credentials", "other", "sécret"); status != http.StatusUnauthorized {
		t.Errorf("other client: %d %v", status, body)
	}
	if status, body := post("grant_type=password", "app", "sécret"); status != http.StatusBadRequest || body["error"] != "unsupported_grant_type" {
		t.Errorf("another grant: %d %v", status, body)
	}
}
