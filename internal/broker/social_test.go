package broker

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/clientkeys"
	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
)

func TestSocialKindsUseFixedEndpoints(t *testing.T) {
	cfg := EffectiveConfig(idp.Kinds["github"], map[string]string{CfgClientID: "id", CfgTokenURL: "https://evil.example/token"})
	if cfg[CfgTokenURL] != idp.Kinds["github"].TokenURL || cfg[CfgJWKSURL] != "" || cfg[CfgDefaultScope] != "user:email" {
		t.Fatalf("github config = %v", cfg)
	}
	p := &OIDC{Config: cfg, Social: "github"}
	raw, err := p.AuthURL(AuthRequest{RedirectURI: "https://gh.example/cb", State: "s", Nonce: "n"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	if u.Host != "github.com" || u.Query().Get("scope") != "user:email" || u.Query().Has("nonce") {
		t.Fatalf("github request = %s", raw)
	}
	if g := EffectiveConfig(idp.Kinds["google"], nil); g[CfgJWKSURL] == "" || g[CfgIssuer] != "https://accounts.google.com" {
		t.Fatalf("google config = %v", g)
	}
}

// GitHub's profile: the numeric id is the subject, login the username, and
// a private address comes from the emails endpoint (primary and verified).
func TestGitHubProfileMapping(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"access_token": "gho", "token_type": "bearer"})
	})
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer gho" {
			w.WriteHeader(401)
			return
		}
		w.Write([]byte(`{"id": 583231, "login": "octocat", "name": "The Octo Cat", "email": null}`))
	})
	mux.HandleFunc("GET /emails", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`[{"email":"old@example.com","primary":false,"verified":true},{"email":"octo@example.com","primary":true,"verified":true}]`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	out := outbound.New(outbound.Options{AllowPrivate: true})
	cfg := EffectiveConfig(idp.Kinds["github"], map[string]string{CfgClientID: "id", CfgClientSecret: "sec"})
	cfg[CfgTokenURL], cfg[CfgUserInfoURL], cfg[cfgEmailsURL] = srv.URL+"/token", srv.URL+"/user", srv.URL+"/emails"
	p := &OIDC{Alias: "github", Config: cfg, Social: "github", Out: out, Keys: clientkeys.New(out), Now: time.Now()}
	id, err := p.Login(context.Background(), "code", "https://gh.example/cb", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if id.ID != "583231" || id.Username != "octocat" || id.Email != "octo@example.com" || !id.EmailVerified ||
		id.FirstName != "The Octo" || id.LastName != "Cat" {
		t.Fatalf("identity = %+v", id)
	}
}
