package login_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

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

func eventTypes(es []events.Event) []string {
	var out []string
	for _, ev := range es {
		out = append(out, ev.Type+"/"+ev.Error)
	}
	return out
}

func TestLoginEvents(t *testing.T) {
	e := newEnv(t, func(r *realm.Realm) { r.EventsEnabled = true })
	alice := e.user("alice")
	e.addUser("dave", "dave-pw", func(u *realmUser) { u.Enabled = false })
	now := e.clock.Now().UnixMilli()

	// Refused forms: the page is the same, the events tell them apart.
	for _, tc := range []struct {
		name, username, password, errCode, userID string
	}{
		{"wrong password", "alice", "wrong", "invalid_user_credentials", alice.ID},
		{"unknown user", "nobody", "wrong", "user_not_found", ""},
		{"disabled user with the right password", "dave", "dave-pw", "user_disabled", e.user("dave").ID},
		{"username around blanks is found as the login finds it", " alice ", "wrong", "invalid_user_credentials", alice.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.browser()
			if res := e.login(b, b.get(e.codeRequest(nil)), tc.username, tc.password); res.status != http.StatusOK {
				t.Fatalf("status %d", res.status)
			}
			es := e.takeEvents()
			if len(es) != 1 {
				t.Fatalf("events: %v", eventTypes(es))
			}
			ev := es[0]
			if ev.Type != events.LoginError || ev.Error != tc.errCode || ev.UserID != tc.userID || ev.ClientID != "app" ||
				ev.Time != now || ev.Details["username"] != tc.username || ev.Details["auth_type"] != "code" ||
				ev.Details["redirect_uri"] != "https://app.example/cb" {
				t.Errorf("got %+v", ev)
			}
		})
	}

	// A login, then SSO into the same session.
	b, sid := e.loggedIn()
	es := e.takeEvents()
	if len(es) != 1 || es[0].Type != events.Login || es[0].UserID != alice.ID || es[0].SessionID != sid ||
		es[0].Details["code_id"] != sid || es[0].Details["consent"] != "no_consent_required" || es[0].Details["username"] != "alice" {
		t.Fatalf("LOGIN: %+v", es)
	}
	if res := b.get(e.codeRequest(nil)); res.status != http.StatusFound {
		t.Fatalf("SSO: %d", res.status)
	}
	if es := e.takeEvents(); len(es) != 1 || es[0].Type != events.Login || es[0].SessionID != sid {
		t.Errorf("an SSO login is a LOGIN too: %+v", es)
	}

	// A browser logout.
	hint := e.idToken("app", alice.ID, sid)
	if res := b.get(e.logoutURL(map[string]string{"id_token_hint": hint, "post_logout_redirect_uri": "https://app.example/bye"})); res.status != http.StatusFound {
		t.Fatalf("logout: %d", res.status)
	}
	if es := e.takeEvents(); len(es) != 1 || es[0].Type != events.Logout || es[0].UserID != alice.ID || es[0].SessionID != sid ||
		es[0].ClientID != "app" || es[0].Details["redirect_uri"] != "https://app.example/bye" {
		t.Errorf("LOGOUT: %+v", es)
	}
}

func TestConsentAndRequiredActionEvents(t *testing.T) {
	e := newEnv(t, func(r *realm.Realm) { r.EventsEnabled = true })
	e.addClient("needs-consent", func(c *client.Client) {
		c.ConsentRequired = true
		c.RedirectURIs = []string{"https://photos.example/cb"}
	})
	request := e.authURL(map[string]string{"client_id": "needs-consent", "redirect_uri": "https://photos.example/cb",
		"response_type": "code", "scope": "openid", "state": "c1"})
	decide := func(b *browser, page response, choice string) response {
		action, fields := e.form(page)
		fields.Set(choice, "yes")
		return b.post(action, fields)
	}

	b := e.browser()
	decide(b, e.login(b, b.get(request), "alice", alicePassword), "cancel")
	if es := e.takeEvents(); len(es) != 1 || es[0].Type != events.LoginError || es[0].Error != "consent_denied" ||
		es[0].ClientID != "needs-consent" || es[0].UserID != e.user("alice").ID {
		t.Errorf("declined consent: %+v", es)
	}
	b = e.browser()
	decide(b, e.login(b, b.get(request), "alice", alicePassword), "accept")
	if es := e.takeEvents(); len(es) != 1 || es[0].Type != events.Login || es[0].Details["consent"] != "consent_granted" {
		t.Errorf("granted consent: %+v", es)
	}
	b = e.browser()
	e.login(b, b.get(request), "alice", alicePassword)
	if es := e.takeEvents(); len(es) != 1 || es[0].Type != events.Login || es[0].Details["consent"] != "persistent_consent" {
		t.Errorf("consent given before: %+v", es)
	}

	e.addUser("carol", "carol-old-pw", func(u *realmUser) { u.RequiredActions = []string{"UPDATE_PASSWORD"} })
	b = e.browser()
	page := e.login(b, b.get(e.codeRequest(nil)), "carol", "carol-old-pw")
	action, fields := e.form(page)
	f := url.Values{}
	for k, v := range fields {
		f[k] = v
	}
	f.Set("password-new", "carol-new-pw-1")
	f.Set("password-confirm", "carol-new-pw-1")
	if res := b.post(action, f); res.status != http.StatusFound {
		t.Fatalf("update password: %d", res.status)
	}
	es := e.takeEvents()
	if got := eventTypes(es); len(got) != 2 || got[0] != "UPDATE_PASSWORD/" || got[1] != "LOGIN/" {
		t.Fatalf("required action: %v", got)
	}
	if es[0].UserID != e.user("carol").ID || es[0].ClientID != "app" || es[0].Details["credential_type"] != "password" {
		t.Errorf("UPDATE_PASSWORD: %+v", es[0])
	}
	for _, ev := range es {
		for k, v := range ev.Details {
			if v == "carol-new-pw-1" || v == "carol-old-pw" {
				t.Errorf("a password in detail %s", k)
			}
		}
	}
}
