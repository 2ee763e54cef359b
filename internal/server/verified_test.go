package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// A node remembers the signatures it has checked (token.VerifySignedCached),
// and what it remembers never outlives the key or the session behind a
// token: a key disabled or deleted, a session ended, a token revoked, a
// user or client disabled, the realm's not-before pushed through the other
// node, or the token's exp passed, is refused by this one on its very next
// request, with or without the change announced.
func TestRememberedSignaturesFollowKeysAndSessions(t *testing.T) {
	for _, tc := range nodeCases {
		t.Run(tc.name, func(t *testing.T) {
			e := newCCNodes(t, tc.dialect, tc.listenB)
			ctx := context.Background()
			if err := e.dbA.UpdateClient(ctx, e.realmID, e.clientID, func(c *client.Client) error {
				c.DirectAccessGrantsEnabled = true
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			u := user.User{ID: store.NewID(), RealmID: e.realmID, Username: "ann", Enabled: true, CreatedTimestamp: now.UnixMilli()}
			if err := e.dbA.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			cred, err := user.NewPasswordCredential(store.NewID(), u.ID, "ann-pw", now.UnixMilli(), user.HashPolicy{})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.dbA.CreateCredential(ctx, cred); err != nil {
				t.Fatal(err)
			}
			base := "/realms/cc/protocol/openid-connect/"
			// Both nodes answer under node a's name, as behind one load
			// balancer, so the tokens' issuer is the same at both.
			host := strings.TrimPrefix(e.a.URL, "http://")
			postAs := func(clientID, secret, srv, path string, form url.Values) response {
				t.Helper()
				return do(t, "POST", srv+base+path, map[string]string{"Content-Type": "application/x-www-form-urlencoded",
					"Authorization": basic(clientID, secret), "Host": host}, strings.NewReader(form.Encode()))
			}
			post := func(srv string, path string, form url.Values) response {
				t.Helper()
				return postAs("svc", "first-secret", srv, path, form)
			}
			// loginAt is a password grant at node a through the client
			// clientID; login through svc.
			loginAt := func(clientID, secret string) (access, refresh string) {
				t.Helper()
				r := postAs(clientID, secret, e.a.URL, "token", url.Values{"grant_type": {"password"}, "username": {"ann"}, "password": {"ann-pw"}, "scope": {"openid"}})
				var body struct {
					Access  string `json:"access_token"`
					Refresh string `json:"refresh_token"`
				}
				if err := json.Unmarshal(r.body, &body); err != nil || r.status != 200 {
					t.Fatalf("password grant at node a: %d %s", r.status, r.body)
				}
				return body.Access, body.Refresh
			}
			login := func() (access, refresh string) { t.Helper(); return loginAt("svc", "first-secret") }
			userinfo := func(tok string) int {
				t.Helper()
				return get(t, e.b.URL+base+"userinfo", map[string]string{"Authorization": "Bearer " + tok, "Host": host}).status
			}
			active := func(tok string) bool {
				t.Helper()
				r := post(e.b.URL, "token/introspect", url.Values{"token": {tok}})
				if r.status != 200 {
					t.Fatalf("introspection at node b: %d %s", r.status, r.body)
				}
				var body struct{ Active bool }
				if err := json.Unmarshal(r.body, &body); err != nil {
					t.Fatal(err)
				}
				return body.Active
			}
			// accepted checks tok twice at node b, so the second check can
			// come from what node b remembers.
			// come from what node b remembers: the second round must be
			// served from memory, or the refusals below would not test it.
			accepted := func(tok string) {
				t.Helper()
				var hits int64
				for round := range 2 {
					hits = token.VerifiedCacheHits()
					if st := userinfo(tok); st != 200 {
						t.Fatalf("userinfo at node b: %d", st)
					}
					if !active(tok) {
						t.Fatal("introspection at node b: inactive")
					}
					if round == 1 && token.VerifiedCacheHits()-hits < 2 {
						t.Fatalf("the second round at node b was not served from memory (%d hits)", token.VerifiedCacheHits()-hits)
					}
				}
			}
			refused := func(tok, why string) {
				t.Helper()
				if st := userinfo(tok); st != http.StatusUnauthorized {
					t.Errorf("%s: userinfo at node b answered %d, want 401", why, st)
				}
				if active(tok) {
					t.Errorf("%s: introspection at node b says active", why)
				}
			}

			// A session ended through node a.
			access, refresh := login()
			accepted(access)
			if r := post(e.a.URL, "logout", url.Values{"refresh_token": {refresh}}); r.status != 204 {
				t.Fatalf("logout at node a: %d %s", r.status, r.body)
			}
			refused(access, "after logout")

			// An access token revoked through node a.
			access, _ = login()
			accepted(access)
			if r := post(e.a.URL, "revoke", url.Values{"token": {access}}); r.status != 200 {
				t.Fatalf("revoke at node a: %d %s", r.status, r.body)
			}
			refused(access, "after revocation")

			// The signing key disabled, enabled again, then deleted.
			access, _ = login()
			accepted(access)
			ks, err := e.dbA.ListKeys(ctx, e.realmID)
			if err != nil {
				t.Fatal(err)
			}
			k, ok := keys.Active(ks, keys.RS256)
			if !ok {
				t.Fatal("no active RS256 key")
			}
			if err := e.dbA.SetKeyState(ctx, e.realmID, k.ID, false, false, k.Priority); err != nil {
				t.Fatal(err)
			}
			refused(access, "with its key disabled")
			if err := e.dbA.SetKeyState(ctx, e.realmID, k.ID, true, true, k.Priority); err != nil {
				t.Fatal(err)
			}
			accepted(access)
			if err := e.dbA.DeleteKey(ctx, e.realmID, k.ID); err != nil {
				t.Fatal(err)
			}
			refused(access, "with its key deleted")

			// The user disabled through node a, then enabled again.
			access, _ = login()
			accepted(access)
			setUser := func(enabled bool) {
				t.Helper()
				if err := e.dbA.UpdateUser(ctx, e.realmID, u.ID, func(x *user.User) error { x.Enabled = enabled; return nil }); err != nil {
					t.Fatal(err)
				}
			}
			setUser(false)
			refused(access, "with its user disabled")
			setUser(true)

			// The token's client (not the introspecting one) disabled
			// through node a.
			app := client.New(store.NewID(), e.realmID, "app")
			app.Secret, app.DirectAccessGrantsEnabled = "app-secret", true
			if err := provision.CreateClient(ctx, e.dbA, app, now); err != nil {
				t.Fatal(err)
			}
			access, _ = loginAt("app", "app-secret")
			accepted(access)
			if err := e.dbA.UpdateClient(ctx, e.realmID, app.ID, func(c *client.Client) error { c.Enabled = false; return nil }); err != nil {
				t.Fatal(err)
			}
			refused(access, "with its client disabled")

			// The token expired: the clock moves past its exp.
			access, _ = login()
			accepted(access)
			e.clock.Add(time.Hour)
			refused(access, "after its exp")

			// The realm's not-before pushed past the token's issue time.
			access, _ = login()
			accepted(access)
			notBefore := e.clock.Now().Unix() + 1
			if err := e.dbA.UpdateRealm(ctx, e.realmID, func(r *realm.Realm) error { r.NotBefore = notBefore; return nil }); err != nil {
				t.Fatal(err)
			}
			refused(access, "after the realm's not-before push")
		})
	}
}
