package login_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// requireCodeGrant skips (or, with GATEHOUSE_TEST_REQUIRE_ALL, fails) a
// test that exchanges codes while the token endpoint cannot redeem them:
// that grant lands in package oidc, apart from the login pages.
func (e *env) requireCodeGrant(t *testing.T) {
	t.Helper()
	res, err := http.PostForm(e.url("/protocol/openid-connect/token"), url.Values{"grant_type": {"authorization_code"},
		"code": {"probe"}, "client_id": {"app"}, "client_secret": {appSecret}, "redirect_uri": {"https://app.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ Error string }
	json.NewDecoder(res.Body).Decode(&body)
	if body.Error != "unsupported_grant_type" {
		return
	}
	const msg = "the token endpoint does not redeem authorization codes yet"
	if os.Getenv(storetest.RequireEnv) != "" {
		t.Fatalf("%s, and %s requires this test", msg, storetest.RequireEnv)
	}
	t.Skip(msg)
}

// Strict relying-party libraries, not written by us, take the whole flow:
// golang.org/x/oauth2 with PKCE, go-oidc verifying the ID token.
func TestRelyingPartyCodeFlow(t *testing.T) {
	e := newEnv(t)
	e.requireCodeGrant(t)
	ctx := t.Context()
	provider, err := oidc.NewProvider(ctx, e.issuer())
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: "app", ClientSecret: appSecret, Endpoint: provider.Endpoint(),
		RedirectURL: "https://app.example/cb", Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	verify := provider.Verifier(&oidc.Config{ClientID: "app"})

	verifier, nonce := oauth2.GenerateVerifier(), "nonce-"+strings.Repeat("n", 10)
	b := e.browser()
	loginAt := e.clock.Now().Unix()
	res := e.login(b, b.get(cfg.AuthCodeURL("rp-state", oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))), "alice", alicePassword)
	q := res.location(t).Query()
	if q.Get("state") != "rp-state" {
		t.Fatalf("state %q", q.Get("state"))
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := verify.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	if idt.Nonce != nonce {
		t.Errorf("nonce %q", idt.Nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	var claims struct {
		ACR      string `json:"acr"`
		AuthTime int64  `json:"auth_time"`
		SID      string `json:"sid"`
		Username string `json:"preferred_username"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.ACR != "1" || claims.AuthTime != loginAt || claims.SID != q.Get("session_state") || claims.Username != "alice" {
		t.Errorf("ID token claims: %+v", claims)
	}

	// Replaying the code fails, and what it gave stops working.
	_, err = cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("replayed code: %v", err)
	}
	stale := &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
	if _, err := cfg.TokenSource(ctx, stale).Token(); err == nil {
		t.Error("refresh token of a replayed code still works")
	}

	// SSO: a second (public) client of the realm, no form, acr 0.
	cfg2 := oauth2.Config{ClientID: "app2", Endpoint: provider.Endpoint(), RedirectURL: "https://app2.example/cb",
		Scopes: []string{oidc.ScopeOpenID}}
	verifier2 := oauth2.GenerateVerifier()
	res = b.get(cfg2.AuthCodeURL("s2", oidc.Nonce("n2"), oauth2.S256ChallengeOption(verifier2)))
	if res.status != http.StatusFound {
		t.Fatalf("SSO: %d", res.status)
	}
	tok2, err := cfg2.Exchange(ctx, res.location(t).Query().Get("code"), oauth2.VerifierOption(verifier2))
	if err != nil {
		t.Fatalf("SSO exchange: %v", err)
	}
	idt2, err := provider.Verifier(&oidc.Config{ClientID: "app2"}).Verify(ctx, tok2.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	idt2.Claims(&claims)
	if claims.ACR != "0" || claims.AuthTime != loginAt {
		t.Errorf("SSO ID token: %+v", claims)
	}

	// A wrong PKCE verifier is refused.
	res = b.get(cfg2.AuthCodeURL("s3", oauth2.S256ChallengeOption(verifier2)))
	if _, err := cfg2.Exchange(ctx, res.location(t).Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Error("wrong code_verifier accepted")
	}

	// An unregistered redirect URI is refused with a page, never a redirect.
	bad := cfg
	bad.RedirectURL = "https://evil.example/cb"
	if res := b.get(bad.AuthCodeURL("x")); res.status != http.StatusBadRequest || res.header.Get("Location") != "" {
		t.Errorf("unregistered redirect_uri: %d %q", res.status, res.header.Get("Location"))
	}
}
