package oidc_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// recordEvents turns events on for the env's realm with the given types
// (none: the types Keycloak saves by default).
func (e *env) recordEvents(types ...string) {
	e.t.Helper()
	if err := e.db.UpdateRealm(context.Background(), e.realm.ID, func(r *realm.Realm) error {
		r.EventsEnabled, r.EnabledEventTypes = true, types
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
}

// takeEvents returns the realm's events, oldest first, and clears them.
func (e *env) takeEvents() []events.Event {
	e.t.Helper()
	ctx := context.Background()
	es, err := e.db.ListEvents(ctx, e.realm.ID, store.EventQuery{Max: -1, Ascending: true})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.DeleteEvents(ctx, e.realm.ID); err != nil {
		e.t.Fatal(err)
	}
	return es
}

// oneEvent takes the realm's events and expects exactly one.
func (e *env) oneEvent() events.Event {
	e.t.Helper()
	es := e.takeEvents()
	if len(es) != 1 {
		e.t.Fatalf("want one event, got %+v", es)
	}
	return es[0]
}

func TestGrantEvents(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnv(t, open)
		ctx := context.Background()
		u1, err := e.db.GetUserByUsername(ctx, e.realm.ID, "user1")
		if err != nil {
			t.Fatal(err)
		}

		// Events off: nothing is kept.
		if st, _ := e.password("openid"); st != 200 {
			t.Fatalf("password grant: %d", st)
		}
		if es := e.takeEvents(); len(es) != 0 {
			t.Fatalf("a realm with events off recorded %+v", es)
		}

		// Keycloak's defaults: LOGIN is kept, REFRESH_TOKEN is not.
		e.recordEvents()
		st, tok := e.password("openid")
		if st != 200 {
			t.Fatalf("password grant: %d", st)
		}
		ev := e.oneEvent()
		at, rt := payload(t, tok["access_token"].(string)), payload(t, tok["refresh_token"].(string))
		if ev.Type != events.Login || ev.ClientID != "ldap-app" || ev.UserID != u1.ID || ev.SessionID != tok["session_state"] ||
			ev.IPAddress != "127.0.0.1" || ev.Error != "" {
			t.Errorf("LOGIN: %+v", ev)
		}
		if d := ev.Details; d["grant_type"] != "password" || d["username"] != "user1" || d["auth_method"] != "openid-connect" ||
			d["token_id"] != at["jti"] || d["refresh_token_id"] != rt["jti"] || d["refresh_token_type"] != "Refresh" || d["scope"] != tok["scope"] {
			t.Errorf("LOGIN details: %v", d)
		}
		if st, _ := e.refresh(tok["refresh_token"].(string)); st != 200 {
			t.Fatalf("refresh: %d", st)
		}
		if es := e.takeEvents(); len(es) != 0 {
			t.Errorf("REFRESH_TOKEN is not saved by default: %+v", es)
		}

		e.recordEvents(events.Types()...)
		tokenForm := func(kv ...string) url.Values {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return v
		}
		for _, tc := range []struct {
			name         string
			form         url.Values
			user, secret string
			typ, client  string
			errCode      string
			userID       string
		}{
			{"wrong password", tokenForm("grant_type", "password", "username", "user1", "password", "nope"), "ldap-app", "password",
				events.LoginError, "ldap-app", "invalid_user_credentials", u1.ID},
			{"unknown user", tokenForm("grant_type", "password", "username", "ghost", "password", "nope"), "ldap-app", "password",
				events.LoginError, "ldap-app", "user_not_found", ""},
			{"wrong client secret names the client from Basic", tokenForm("grant_type", "password", "username", "user1", "password", "password"),
				"ldap-app", "wrong", events.LoginError, "ldap-app", "invalid_client_credentials", ""},
			{"bad refresh token", tokenForm("grant_type", "refresh_token", "refresh_token", "garbage"), "ldap-app", "password",
				events.RefreshTokenError, "ldap-app", "invalid_token", ""},
			{"bad code", tokenForm("grant_type", "authorization_code", "code", "garbage", "redirect_uri", "https://x"), "ldap-app", "password",
				events.CodeToTokenError, "ldap-app", "invalid_code", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if st, _ := e.post("/protocol/openid-connect/token", tc.form, tc.user, tc.secret); st < 400 {
					t.Fatalf("status %d", st)
				}
				ev := e.oneEvent()
				if ev.Type != tc.typ || ev.ClientID != tc.client || ev.Error != tc.errCode || ev.UserID != tc.userID {
					t.Errorf("got %+v", ev)
				}
			})
		}

		// Introspection: active, then inactive.
		st, tok = e.password("openid")
		e.takeEvents()
		if st, _ := e.post("/protocol/openid-connect/token/introspect", url.Values{"token": {tok["access_token"].(string)}}, "ldap-app", "password"); st != 200 {
			t.Fatalf("introspect: %d", st)
		}
		if ev := e.oneEvent(); ev.Type != events.IntrospectToken || ev.UserID != u1.ID || ev.SessionID != tok["session_state"] {
			t.Errorf("INTROSPECT_TOKEN: %+v", ev)
		}
		e.post("/protocol/openid-connect/token/introspect", url.Values{"token": {"garbage"}}, "ldap-app", "password")
		if ev := e.oneEvent(); ev.Type != events.IntrospectTokenError || ev.Error != "invalid_token" || ev.ClientID != "ldap-app" {
			t.Errorf("INTROSPECT_TOKEN_ERROR: %+v", ev)
		}

		// Revoking an access token names it by its jti.
		if st, _ := e.post("/protocol/openid-connect/revoke", url.Values{"token": {tok["access_token"].(string)}}, "ldap-app", "password"); st != 200 {
			t.Fatalf("revoke: %d", st)
		}
		if ev := e.oneEvent(); ev.Type != events.RevokeGrant || ev.Details["token_id"] != payload(t, tok["access_token"].(string))["jti"] {
			t.Errorf("REVOKE_GRANT of an access token: %+v", ev)
		}

		// Logout: a success, then the same token again, then garbage.
		logout := func(rt string) {
			e.post("/protocol/openid-connect/logout", url.Values{"refresh_token": {rt}}, "ldap-app", "password")
		}
		logout(tok["refresh_token"].(string))
		if ev := e.oneEvent(); ev.Type != events.Logout || ev.UserID != u1.ID || ev.SessionID != tok["session_state"] || ev.ClientID != "ldap-app" {
			t.Errorf("LOGOUT: %+v", ev)
		}
		logout(tok["refresh_token"].(string))
		if ev := e.oneEvent(); ev.Type != events.LogoutError || ev.Error != "user_session_not_found" || ev.UserID != u1.ID {
			t.Errorf("LOGOUT_ERROR of an ended session: %+v", ev)
		}
		logout("garbage")
		if ev := e.oneEvent(); ev.Type != events.LogoutError || ev.Error != "invalid_token" || ev.UserID != "" {
			t.Errorf("LOGOUT_ERROR of a bad token: %+v", ev)
		}

		// A disabled user who knows the password: user_disabled.
		if err := e.db.UpdateUser(ctx, e.realm.ID, u1.ID, func(u *user.User) error { u.Enabled = false; return nil }); err != nil {
			t.Fatal(err)
		}
		if st, _ := e.password("openid"); st != 400 {
			t.Fatalf("disabled user: %d", st)
		}
		if ev := e.oneEvent(); ev.Type != events.LoginError || ev.Error != "user_disabled" || ev.UserID != u1.ID {
			t.Errorf("LOGIN_ERROR of a disabled user: %+v", ev)
		}
	})
}
