package oidc_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	gateoidc "github.com/gatehouse-iam/gatehouse/internal/oidc"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// clock is the test's movable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t     *testing.T
	db    *store.DB
	srv   *httptest.Server
	clock *clock
	realm realm.Realm
}

// newEnv starts a real HTTP server over a real store with the ldap-demo
// realm of story 1 imported.
func newEnv(t *testing.T, open func(testing.TB) *store.DB) *env {
	t.Helper()
	db := open(t)
	ck := &clock{t: time.Now().Truncate(time.Second)}
	ctx := context.Background()
	if _, err := provision.Master(ctx, db, "admin", "admin-pw", ck.Now()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../rep/testdata/ldap-demo-realm.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rep.ImportFile(ctx, db, data, rep.ImportOptions{Now: ck.Now()}); err != nil {
		t.Fatal(err)
	}
	rl, _ := db.GetRealmByName(ctx, "ldap-demo")
	// Story 1's realm: rotation off to begin with.
	if err := db.UpdateRealm(ctx, rl.ID, func(r *realm.Realm) error {
		r.RevokeRefreshToken, r.RefreshTokenMaxReuse = false, 0
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rl, _ = db.GetRealm(ctx, rl.ID)
	mux := http.NewServeMux()
	h := &gateoidc.Handler{Store: db, Log: slog.New(slog.NewTextHandler(t.Output(), nil)), Now: ck.Now}
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, srv: srv, clock: ck, realm: rl}
}

func (e *env) url(path string) string { return e.srv.URL + "/realms/ldap-demo" + path }

// post sends a form and decodes the JSON answer.
func (e *env) post(path string, form url.Values, basicUser, basicPass string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.url(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			e.t.Fatalf("%s: not JSON (%d): %s", path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode, m
}

func (e *env) password(scope string) (int, map[string]any) {
	return e.post("/protocol/openid-connect/token", url.Values{"grant_type": {"password"}, "username": {"user1"},
		"password": {"password"}, "scope": {scope}}, "ldap-app", "password")
}

func (e *env) refresh(rt string) (int, map[string]any) {
	return e.post("/protocol/openid-connect/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}},
		"ldap-app", "password")
}

// payload decodes a JWT's claims without verifying it, as story 1's script does.
func payload(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

func roles(m map[string]any) []string {
	ra, _ := m["realm_access"].(map[string]any)
	var out []string
	for _, r := range ra["roles"].([]any) {
		out = append(out, r.(string))
	}
	return out
}

func TestStory1OfflineTokens(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnv(t, open)

		// The script's first call: an offline token through the direct grant.
		st, tok := e.password("openid info offline_access")
		if st != 200 {
			t.Fatalf("password grant: %d %v", st, tok)
		}
		offline := tok["refresh_token"].(string)
		p := payload(t, offline)
		if p["typ"] != "Offline" {
			t.Fatalf("typ: %v", p["typ"])
		}
		if exp, ok := p["exp"].(float64); !ok || exp != 0 {
			t.Fatalf("offline token exp: %v (want 0)", p["exp"])
		}
		if !slices.Contains(roles(p), "offline_access") {
			t.Fatalf("offline token realm_access.roles: %v", roles(p))
		}
		if p["scope"] != "openid email info offline_access profile" {
			t.Fatalf("offline token scope: %q", p["scope"])
		}
		if tok["refresh_expires_in"].(float64) != 0 || tok["token_type"] != "Bearer" || tok["id_token"] == nil {
			t.Fatalf("token response: %v", tok)
		}
		at := payload(t, tok["access_token"].(string))
		if at["demo"] != "ldap" || at["typ"] != "Bearer" || at["azp"] != "ldap-app" {
			t.Fatalf("access token lacks the info scope's claims: %v", at)
		}

		// Sleeping 200 s between refreshes, past the 60 s SSO idle: the offline
		// token keeps working.
		for i := range 3 {
			e.clock.Add(200 * time.Second)
			st, r := e.refresh(offline)
			if st != 200 || r["access_token"] == nil {
				t.Fatalf("offline refresh %d after 200 s: %d %v", i, st, r)
			}
			if typ := payload(t, r["refresh_token"].(string))["typ"]; typ != "Offline" {
				t.Fatalf("refreshed offline token typ: %v", typ)
			}
		}

		// Without offline_access: a Refresh token living 60 s, refused after idle.
		st, tok = e.password("openid info")
		if st != 200 {
			t.Fatalf("password grant: %d %v", st, tok)
		}
		rp := payload(t, tok["refresh_token"].(string))
		if rp["typ"] != "Refresh" || rp["exp"].(float64)-rp["iat"].(float64) != 60 {
			t.Fatalf("refresh token: typ %v exp-iat %v", rp["typ"], rp["exp"].(float64)-rp["iat"].(float64))
		}
		if st, _ := e.refresh(tok["refresh_token"].(string)); st != 200 {
			t.Fatalf("refresh within idle: %d", st)
		}
		e.clock.Add(200 * time.Second)
		st, body := e.refresh(tok["refresh_token"].(string))
		if st != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("refresh after idle timeout: %d %v", st, body)
		}

		// Revoke Refresh Token with max reuse 1: two uses, then Keycloak's error.
		ctx := context.Background()
		e.db.UpdateRealm(ctx, e.realm.ID, func(r *realm.Realm) error {
			r.RevokeRefreshToken, r.RefreshTokenMaxReuse = true, 1
			return nil
		})
		_, tok = e.password("openid")
		rt := tok["refresh_token"].(string)
		for i := range 2 {
			if st, b := e.refresh(rt); st != 200 {
				t.Fatalf("use %d within max reuse: %d %v", i+1, st, b)
			}
		}
		st, body = e.refresh(rt)
		if st != 400 || body["error"] != "invalid_grant" || body["error_description"] != "Maximum allowed refresh token reuse exceeded" {
			t.Fatalf("past max reuse: %d %v", st, body)
		}
		e.db.UpdateRealm(ctx, e.realm.ID, func(r *realm.Realm) error { r.RevokeRefreshToken = false; return nil })

		// API-side revocation (RFC 7009) of the offline token.
		st, _ = e.post("/protocol/openid-connect/revoke", url.Values{"token": {offline}}, "ldap-app", "password")
		if st != 200 {
			t.Fatalf("revoke: %d", st)
		}
		if st, body := e.refresh(offline); st != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("revoked offline token still refreshes: %d %v", st, body)
		}

		// Admin-side revocation: the user's offline access for ldap-app removed.
		_, tok = e.password("openid info offline_access")
		offline2 := tok["refresh_token"].(string)
		u, _ := e.db.GetUserByUsername(ctx, e.realm.ID, "user1")
		app, _ := e.db.GetClientByClientID(ctx, e.realm.ID, "ldap-app")
		if n, err := e.db.DeleteOfflineSessionsOfClient(ctx, e.realm.ID, u.ID, app.ID); err != nil || n != 1 {
			t.Fatalf("admin revocation: %d %v", n, err)
		}
		if st, body := e.refresh(offline2); st != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("offline token after admin revocation: %d %v", st, body)
		}
	})
}

func TestOfflineNeedsRoleAndScope(t *testing.T) {
	e := newEnv(t, storetest.Open)
	ctx := context.Background()
	// user2 has no offline_access role of its own (only via the default role,
	// which the fixture gives it); take it away and ask again.
	u, _ := e.db.GetUserByUsername(ctx, e.realm.ID, "user2")
	def, _ := e.db.GetRealmRole(ctx, e.realm.ID, "default-roles-ldap-demo")
	e.db.RemoveUserRoles(ctx, u.ID, def.ID)
	st, body := e.post("/protocol/openid-connect/token", url.Values{"grant_type": {"password"}, "username": {"user2"},
		"password": {"correct horse"}, "scope": {"openid offline_access"}}, "ldap-app", "password")
	if st != 400 || body["error"] != "not_allowed" {
		t.Fatalf("offline token without the role: %d %v", st, body)
	}
	st, body = e.password("openid phone")
	if st != 400 || body["error"] != "invalid_scope" {
		t.Fatalf("scope the client does not have: %d %v", st, body)
	}
}

func TestStory2APISide(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnv(t, open)
		st, tok := e.password("openid")
		if st != 200 {
			t.Fatalf("%d %v", st, tok)
		}
		access := tok["access_token"].(string)

		// Offline validation with the realm document's public_key.
		resp, err := http.Get(e.url(""))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		der, _ := base64.StdEncoding.DecodeString(doc["public_key"].(string))
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := jose.ParseSigned(access, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sig.Verify(pub.(*rsa.PublicKey)); err != nil {
			t.Fatalf("access token does not verify with public_key: %v", err)
		}
		// ... and with the JWKS, through go-oidc's verifier.
		ctx := oidc.ClientContext(context.Background(), http.DefaultClient)
		provider, err := oidc.NewProvider(ctx, e.url(""))
		if err != nil {
			t.Fatalf("discovery: %v", err)
		}
		ver := provider.Verifier(&oidc.Config{ClientID: "ldap-app", Now: e.clock.Now})
		idt, err := ver.Verify(ctx, tok["id_token"].(string))
		if err != nil {
			t.Fatalf("ID token: %v", err)
		}
		if err := idt.VerifyAccessToken(access); err != nil {
			t.Fatalf("at_hash: %v", err)
		}
		atVer := provider.Verifier(&oidc.Config{SkipClientIDCheck: true, Now: e.clock.Now})
		if _, err := atVer.Verify(ctx, access); err != nil {
			t.Fatalf("access token with JWKS: %v", err)
		}

		userinfo := func(token string) (int, http.Header, map[string]any) {
			req, _ := http.NewRequest("GET", e.url("/protocol/openid-connect/userinfo"), nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			json.NewDecoder(resp.Body).Decode(&m)
			return resp.StatusCode, resp.Header, m
		}
		st, _, ui := userinfo(access)
		if st != 200 || ui["preferred_username"] != "user1" || ui["sub"] == nil {
			t.Fatalf("userinfo: %d %v", st, ui)
		}
		tampered := access[:len(access)-4] + flip(access[len(access)-4:])
		st, hdr, _ := userinfo(tampered)
		if st != 401 || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("tampered token: %d %q", st, hdr.Get("WWW-Authenticate"))
		}

		introspect := func(tok, user, pass string) (int, map[string]any) {
			return e.post("/protocol/openid-connect/token/introspect", url.Values{"token": {tok}}, user, pass)
		}
		st, in := introspect(access, "ldap-app", "password")
		if st != 200 || in["active"] != true || in["username"] != "user1" || in["client_id"] != "ldap-app" {
			t.Fatalf("introspect: %d %v", st, in)
		}
		st, in = e.post("/protocol/openid-connect/token/introspect", url.Values{"token": {access}, "client_id": {"account-console"}}, "", "")
		if st != 403 {
			t.Fatalf("public client introspection: %d %v", st, in)
		}

		// Expired: access tokens live 60 s in this realm.
		e.clock.Add(61 * time.Second)
		if st, _, _ := userinfo(access); st != 401 {
			t.Fatalf("expired token: %d", st)
		}
		if _, in := introspect(access, "ldap-app", "password"); in["active"] != false || len(in) != 1 {
			t.Fatalf("expired token introspection: %v", in)
		}

		// Revoked: revoking the refresh token ends the session.
		_, tok = e.password("openid")
		access = tok["access_token"].(string)
		e.post("/protocol/openid-connect/revoke", url.Values{"token": {tok["refresh_token"].(string)}}, "ldap-app", "password")
		if _, in := introspect(access, "ldap-app", "password"); in["active"] != false {
			t.Fatalf("token of a revoked session: %v", in)
		}
	})
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestThirdPartyOAuth2Client(t *testing.T) {
	e := newEnv(t, storetest.Open)
	ctx := context.Background()
	conf := &oauth2.Config{ClientID: "ldap-app", ClientSecret: "password",
		Endpoint: oauth2.Endpoint{TokenURL: e.url("/protocol/openid-connect/token"), AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "info"}}
	tok, err := conf.PasswordCredentialsToken(ctx, "user1", "password")
	if err != nil {
		t.Fatalf("password grant through x/oauth2: %v", err)
	}
	if tok.RefreshToken == "" || tok.Extra("id_token") == nil || time.Until(tok.Expiry) > 61*time.Second {
		t.Fatalf("token: %+v", tok)
	}
	// Force a refresh through the token source.
	tok.Expiry = time.Now().Add(-time.Second)
	fresh, err := conf.TokenSource(ctx, tok).Token()
	if err != nil || fresh.AccessToken == tok.AccessToken {
		t.Fatalf("refresh through x/oauth2: %v", err)
	}
	if _, err := conf.PasswordCredentialsToken(ctx, "user1", "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	} else if re, ok := err.(*oauth2.RetrieveError); !ok || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != 401 {
		t.Fatalf("wrong password: %v", err)
	}
	cc := clientcredentials.Config{ClientID: "ldap-app", ClientSecret: "password", TokenURL: conf.Endpoint.TokenURL,
		AuthStyle: oauth2.AuthStyleInParams}
	ct, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client credentials through x/oauth2: %v", err)
	}
	p := payload(t, ct.AccessToken)
	if p["preferred_username"] != "service-account-ldap-app" || p["azp"] != "ldap-app" || ct.RefreshToken != "" {
		t.Fatalf("client credentials token: %v", p)
	}
	// The service account token works at userinfo though it has no session.
	req, _ := http.NewRequest("GET", e.url("/protocol/openid-connect/userinfo"), nil)
	req.Header.Set("Authorization", "Bearer "+ct.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("userinfo with a service account token: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
}
