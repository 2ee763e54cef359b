package oidc_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// issueCode plays the login front channel: a session for user1 in ldap-app
// and a code carrying data, as package login stores them.
func issueCode(t *testing.T, e *env, code string, data map[string]any) session.UserSession {
	t.Helper()
	ctx := context.Background()
	u, _ := e.db.GetUserByUsername(ctx, e.realm.ID, "user1")
	app, _ := e.db.GetClientByClientID(ctx, e.realm.ID, "ldap-app")
	now := e.clock.Now().Unix()
	us := session.UserSession{ID: store.NewID(), RealmID: e.realm.ID, UserID: u.ID, Started: now, LastRefresh: now, AuthTime: now, AuthMethod: "openid-connect"}
	cs := session.ClientSession{ID: store.NewID(), UserSessionID: us.ID, ClientID: app.ID, Started: now, Timestamp: now}
	if err := e.db.CreateUserSession(ctx, us); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateClientSession(ctx, cs); err != nil {
		t.Fatal(err)
	}
	data["client_session_id"] = cs.ID
	data["auth_time"] = now
	b, _ := json.Marshal(data)
	if err := e.db.CreateAuthCode(ctx, code, store.AuthCode{RealmID: e.realm.ID, ClientID: app.ID, UserSessionID: us.ID,
		Data: string(b), ExpiresAt: now + 60}); err != nil {
		t.Fatal(err)
	}
	return us
}

func TestAuthorizationCodeGrant(t *testing.T) {
	e := newEnv(t, storetest.Open)
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	redirect := "http://localhost:3000/cb"
	exchange := func(code string, extra url.Values) (int, map[string]any) {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
		for k, v := range extra {
			form[k] = v
		}
		return e.post("/protocol/openid-connect/token", form, "ldap-app", "password")
	}
	base := func() map[string]any {
		return map[string]any{"redirect_uri": redirect, "scope": "openid", "nonce": "n-1", "code_challenge": challenge,
			"code_challenge_method": "S256", "acr": "1"}
	}

	issueCode(t, e, "code-ok", base())
	st, tok := exchange("code-ok", url.Values{"code_verifier": {verifier}})
	if st != 200 || tok["id_token"] == nil || tok["refresh_token"] == nil {
		t.Fatalf("exchange: %d %v", st, tok)
	}
	idt := payload(t, tok["id_token"].(string))
	if idt["nonce"] != "n-1" || idt["at_hash"] == nil || idt["typ"] != "ID" {
		t.Fatalf("ID token: %v", idt)
	}
	// Replay: refused, and what the first redemption issued stops working.
	st, body := exchange("code-ok", url.Values{"code_verifier": {verifier}})
	if st != 400 || body["error_description"] != "Code not valid" {
		t.Fatalf("replay: %d %v", st, body)
	}
	if st, _ := e.refresh(tok["refresh_token"].(string)); st != 400 {
		t.Fatalf("refresh token of a replayed code still works: %d", st)
	}

	cases := []struct {
		name  string
		data  map[string]any
		extra url.Values
		desc  string
	}{
		{"wrong verifier", base(), url.Values{"code_verifier": {strings.Repeat("w", 43)}}, "PKCE verification failed: Code mismatch"},
		{"verifier missing", base(), nil, "PKCE code verifier not specified"},
		{"verifier too short", base(), url.Values{"code_verifier": {"short"}}, "PKCE verification failed: Invalid code verifier"},
		{"downgrade: verifier without challenge", map[string]any{"redirect_uri": redirect, "scope": "openid"},
			url.Values{"code_verifier": {verifier}}, "PKCE code verifier specified but challenge not present in authorization"},
		{"redirect_uri differs by a trailing slash", base(), url.Values{"code_verifier": {verifier}, "redirect_uri": {redirect + "/"}}, "Incorrect redirect_uri"},
	}
	for i, tc := range cases {
		code := "code-case-" + string(rune('a'+i))
		issueCode(t, e, code, tc.data)
		st, body := exchange(code, tc.extra)
		if st != 400 || body["error"] != "invalid_grant" || body["error_description"] != tc.desc {
			t.Errorf("%s: %d %v", tc.name, st, body)
		}
		// Whatever failed, the code is burnt: no second try.
		if st, _ := exchange(code, url.Values{"code_verifier": {verifier}}); st != 400 {
			t.Errorf("%s: code usable after a failed exchange", tc.name)
		}
	}

	issueCode(t, e, "code-late", base())
	e.clock.Add(61 * time.Second)
	if st, body := exchange("code-late", url.Values{"code_verifier": {verifier}}); st != 400 || body["error_description"] != "Code is expired" {
		t.Fatalf("expired code: %d %v", st, body)
	}
	if st, body := exchange("never-issued", nil); st != 400 || body["error_description"] != "Code not valid" {
		t.Fatalf("unknown code: %d %v", st, body)
	}

	// Another client presenting ldap-app's code.
	issueCode(t, e, "code-theft", base())
	st, body = e.post("/protocol/openid-connect/token", url.Values{"grant_type": {"authorization_code"}, "code": {"code-theft"},
		"redirect_uri": {redirect}, "code_verifier": {verifier}, "client_id": {"account-console"}}, "", "")
	if st != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("code of another client: %d %v", st, body)
	}

	// offline_access in the code's scope gives an offline token and keeps the SSO session.
	data := base()
	data["scope"] = "openid offline_access"
	us := issueCode(t, e, "code-offline", data)
	st, tok = exchange("code-offline", url.Values{"code_verifier": {verifier}})
	if st != 200 || payload(t, tok["refresh_token"].(string))["typ"] != "Offline" {
		t.Fatalf("offline via code: %d %v", st, tok)
	}
	if _, err := e.db.GetUserSession(context.Background(), e.realm.ID, us.ID); err != nil {
		t.Fatalf("SSO session gone after offline exchange: %v", err)
	}
}
