package server_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// TestDevicePKCE runs the device grant with a PKCE challenge (RFC 7636)
// through x/oauth2, and each refusal: a redemption without the verifier or
// with a wrong one, a verifier for a code issued without a challenge, a
// malformed challenge, and a client whose pkce.code.challenge.method
// forces PKCE.
func TestDevicePKCE(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newDevEnv(t, open(t), 1)
		ctx := t.Context()
		tv := e.config(0, "tv")
		devicePath := "/realms/dev/protocol/openid-connect/auth/device"
		// next moves the clock past the polling interval.
		next := func() { e.clock.Add(2 * time.Second) }
		redeem := func(deviceCode string, extra url.Values) (int, string) {
			form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {"tv"}, "device_code": {deviceCode}}
			for k, v := range extra {
				form[k] = v
			}
			next()
			return e.postForm(0, "/realms/dev/protocol/openid-connect/token", form)
		}

		t.Run("S256 challenge, then the verifier redeems the code", func(t *testing.T) {
			verifier := oauth2.GenerateVerifier()
			da, err := tv.DeviceAuth(ctx, oauth2.S256ChallengeOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			e.approve(newDevBrowser(t), 0, da, true)
			next()
			tok, err := tv.DeviceAccessToken(ctx, da, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("device access token with the verifier: %v", err)
			}
			if tok.AccessToken == "" || tok.Extra("id_token") == nil {
				t.Errorf("token response: %+v", tok)
			}
		})

		t.Run("missing and wrong verifiers are refused, the right one still works", func(t *testing.T) {
			verifier := oauth2.GenerateVerifier()
			da, err := tv.DeviceAuth(ctx, oauth2.S256ChallengeOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			if st, body := redeem(da.DeviceCode, url.Values{"code_verifier": {verifier}}); st != 400 || body != `{"error":"authorization_pending","error_description":"The authorization request is still pending"}` {
				t.Errorf("before approval: %d %s", st, body)
			}
			e.approve(newDevBrowser(t), 0, da, true)
			if st, body := redeem(da.DeviceCode, nil); st != 400 || body != `{"error":"invalid_grant","error_description":"PKCE code verifier not specified"}` {
				t.Errorf("no verifier: %d %s", st, body)
			}
			if st, body := redeem(da.DeviceCode, url.Values{"code_verifier": {oauth2.GenerateVerifier()}}); st != 400 || body != `{"error":"invalid_grant","error_description":"PKCE verification failed: Code mismatch"}` {
				t.Errorf("wrong verifier: %d %s", st, body)
			}
			if st, body := redeem(da.DeviceCode, url.Values{"code_verifier": {"short"}}); st != 400 || body != `{"error":"invalid_grant","error_description":"PKCE verification failed: Invalid code verifier"}` {
				t.Errorf("malformed verifier: %d %s", st, body)
			}
			if st, body := redeem(da.DeviceCode, url.Values{"code_verifier": {verifier}}); st != 200 {
				t.Errorf("the right verifier after refusals: %d %s", st, body)
			}
			if st, body := redeem(da.DeviceCode, url.Values{"code_verifier": {verifier}}); st != 400 || body != `{"error":"invalid_grant","error_description":"Device code not valid"}` {
				t.Errorf("second redemption: %d %s", st, body)
			}
		})

		t.Run("plain challenge", func(t *testing.T) {
			verifier := oauth2.GenerateVerifier()
			st, body := e.postForm(0, devicePath, url.Values{"client_id": {"tv"}, "code_challenge": {verifier}, "code_challenge_method": {"plain"}})
			if st != 200 {
				t.Fatalf("device authorization with a plain challenge: %d %s", st, body)
			}
			da := deviceAuthOf(t, body)
			e.approve(newDevBrowser(t), 0, &da, true)
			if st, body := redeem(da.DeviceCode, url.Values{"code_verifier": {verifier}}); st != 200 {
				t.Errorf("plain verifier: %d %s", st, body)
			}
		})

		t.Run("a verifier for a code issued without a challenge", func(t *testing.T) {
			da, err := tv.DeviceAuth(ctx)
			if err != nil {
				t.Fatal(err)
			}
			e.approve(newDevBrowser(t), 0, da, true)
			if st, body := redeem(da.DeviceCode, url.Values{"code_verifier": {oauth2.GenerateVerifier()}}); st != 400 || body != `{"error":"invalid_grant","error_description":"PKCE code verifier specified but challenge not present in authorization"}` {
				t.Errorf("downgrade: %d %s", st, body)
			}
		})

		t.Run("malformed challenges are refused at the device endpoint", func(t *testing.T) {
			for _, tc := range []struct {
				form url.Values
				want string
			}{
				{url.Values{"code_challenge": {"too-short"}, "code_challenge_method": {"S256"}}, "Invalid parameter: code_challenge"},
				{url.Values{"code_challenge": {s256(oauth2.GenerateVerifier())}, "code_challenge_method": {"S512"}}, "Invalid parameter: invalid code_challenge_method"},
				{url.Values{"code_challenge_method": {"S256"}}, "Missing parameter: code_challenge"},
			} {
				tc.form.Set("client_id", "tv")
				if st, body := e.postForm(0, devicePath, tc.form); st != 400 || body != `{"error":"invalid_request","error_description":"`+tc.want+`"}` {
					t.Errorf("%v: %d %s, want %q", tc.form, st, body, tc.want)
				}
			}
		})

		t.Run("a client forcing PKCE", func(t *testing.T) {
			if err := e.db.UpdateClient(ctx, e.rl.ID, clientIDOf(t, e, "tv"), func(c *client.Client) error {
				c.Attributes["pkce.code.challenge.method"] = "S256"
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				form url.Values
				want string
			}{
				{url.Values{}, "Missing parameter: code_challenge_method"},
				{url.Values{"code_challenge": {oauth2.GenerateVerifier()}, "code_challenge_method": {"plain"}}, "Invalid parameter: code challenge method is not configured one"},
				{url.Values{"code_challenge_method": {"S256"}}, "Missing parameter: code_challenge"},
			} {
				tc.form.Set("client_id", "tv")
				if st, body := e.postForm(0, devicePath, tc.form); st != 400 || body != `{"error":"invalid_request","error_description":"`+tc.want+`"}` {
					t.Errorf("%v: %d %s, want %q", tc.form, st, body, tc.want)
				}
			}
			verifier := oauth2.GenerateVerifier()
			da, err := tv.DeviceAuth(ctx, oauth2.S256ChallengeOption(verifier))
			if err != nil {
				t.Fatalf("forced client with an S256 challenge: %v", err)
			}
			e.approve(newDevBrowser(t), 0, da, true)
			next()
			if _, err := tv.DeviceAccessToken(ctx, da, oauth2.VerifierOption(verifier)); err != nil {
				t.Errorf("forced client's redemption: %v", err)
			}
		})
	})
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// deviceAuthOf decodes a raw device authorization response.
func deviceAuthOf(t *testing.T, body string) oauth2.DeviceAuthResponse {
	t.Helper()
	var da oauth2.DeviceAuthResponse
	if err := json.Unmarshal([]byte(body), &da); err != nil || da.DeviceCode == "" {
		t.Fatalf("device authorization response %s: %v", body, err)
	}
	return da
}

func clientIDOf(t *testing.T, e *devEnv, clientID string) string {
	t.Helper()
	c, err := e.db.GetClientByClientID(t.Context(), e.rl.ID, clientID)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}
