package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// An administrator of realm imp impersonates dave: the administrator's own
// session in imp ends (sameRealm), the answer's cookies sign a browser in
// to the account console as dave, a code obtained in that browser is
// exchanged for tokens whose "impersonator" claim names the administrator
// once the client carries the two impersonator mappers serverinfo offers
// (and not before: no default scope carries them), and the realm records
// the login event IMPERSONATE, no admin event. The master administrator
// impersonating is not sameRealm and keeps its session.
func TestImpersonationSessionsAndClaims(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		e := newUsersEnv(t, s, "imp")
		if err := s.DB.UpdateRealm(ctx, e.realm.ID, func(r *realm.Realm) error {
			r.AdminEventsEnabled, r.EventsEnabled = true, true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		dave := e.create(map[string]any{"username": "dave", "enabled": true, "firstName": "Dave", "lastName": "Impersonated"})
		for _, c := range []string{"app", "plain"} {
			e.want("POST", "/clients", e.tok, map[string]any{"clientId": c, "publicClient": true,
				"redirectUris": []string{"https://app.example/cb"}}, 201, "")
		}
		e.want("POST", "/clients", e.tok, map[string]any{"clientId": "rs", "publicClient": false, "secret": "rs-secret",
			"standardFlowEnabled": false}, 201, "")
		var apps []struct{ ID string }
		s.get(e.path("/clients?clientId=app"), e.tok, &apps)
		var info struct {
			Builtin map[string][]map[string]any `json:"builtinProtocolMappers"`
		}
		s.get("/admin/serverinfo", e.tok, &info)
		var mappers []map[string]any
		for _, m := range info.Builtin["openid-connect"] {
			if n := m["name"]; n == "impersonator id" || n == "impersonator username" {
				mappers = append(mappers, m)
			}
		}
		if len(mappers) != 2 {
			t.Fatalf("serverinfo offers %d impersonator mappers", len(mappers))
		}
		e.want("POST", "/clients/"+apps[0].ID+"/protocol-mappers/add-models", e.tok, mappers, 204, "")

		// The realm's own administrator, signed in to imp.
		adminTok := s.realmAdmin(e.realm, "helpdesk", "impersonation", "view-users")
		helpdesk, err := s.DB.GetUserByUsername(ctx, e.realm.ID, "helpdesk")
		if err != nil {
			t.Fatal(err)
		}
		if ss, _ := s.DB.ListUserSessions(ctx, e.realm.ID, helpdesk.ID, false); len(ss) != 1 {
			t.Fatalf("the administrator has %d sessions before", len(ss))
		}
		st, h, b := s.do("POST", e.path("/users/"+dave+"/impersonation"), adminTok, nil)
		var out struct {
			SameRealm bool   `json:"sameRealm"`
			Redirect  string `json:"redirect"`
		}
		json.Unmarshal(b, &out)
		if st != 200 || !out.SameRealm || out.Redirect != s.URL+"/realms/imp/account" {
			t.Fatalf("impersonate as imp's administrator: %d %s", st, b)
		}
		if ss, _ := s.DB.ListUserSessions(ctx, e.realm.ID, helpdesk.ID, false); len(ss) != 0 {
			t.Errorf("the administrator's own session survived: %+v", ss)
		}
		if st, _, _ := s.do("GET", e.path("/users/"+dave), adminTok, nil); st != 401 {
			t.Errorf("the ended session's token still works: %d", st)
		}

		// A browser holding the answer's cookies.
		br := newEvBrowser(t)
		base, _ := url.Parse(s.URL)
		br.c.Jar.SetCookies(base.JoinPath("/realms/imp/"), (&http.Response{Header: h}).Cookies())
		req, _ := http.NewRequest("GET", out.Redirect+"/", nil)
		req.Header.Set("Accept", "text/html")
		res, err := br.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("account console with the cookies: %d", res.StatusCode)
		}
		_, acct := br.send("GET", s.URL+"/realms/imp/account/", nil)
		if !strings.Contains(acct, "dave") {
			t.Errorf("the account console is not dave's")
		}

		code := func(clientID string) string {
			t.Helper()
			q := url.Values{"client_id": {clientID}, "redirect_uri": {"https://app.example/cb"}, "response_type": {"code"},
				"scope": {"openid"}, "state": {"st"}}
			res, page := br.send("GET", s.URL+"/realms/imp/protocol/openid-connect/auth?"+q.Encode(), nil)
			loc, err := url.Parse(res.Header.Get("Location"))
			if res.StatusCode != 302 || err != nil || loc.Query().Get("code") == "" {
				t.Fatalf("no code through the SSO session: %d %s %s", res.StatusCode, res.Header.Get("Location"), page)
			}
			return loc.Query().Get("code")
		}
		var lastAccess string
		exchange := func(clientID string) (map[string]any, map[string]any) {
			t.Helper()
			res, err := http.PostForm(s.URL+"/realms/imp/protocol/openid-connect/token", url.Values{"grant_type": {"authorization_code"},
				"client_id": {clientID}, "code": {code(clientID)}, "redirect_uri": {"https://app.example/cb"}})
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var tr map[string]any
			json.NewDecoder(res.Body).Decode(&tr)
			if res.StatusCode != 200 {
				t.Fatalf("code exchange for %s: %d %v", clientID, res.StatusCode, tr)
			}
			lastAccess = tr["access_token"].(string)
			return jwtClaims(t, lastAccess), jwtClaims(t, tr["id_token"].(string))
		}
		access, id := exchange("app")
		want := map[string]any{"id": helpdesk.ID, "username": "helpdesk"}
		for name, c := range map[string]map[string]any{"access": access, "id": id} {
			got, _ := c["impersonator"].(map[string]any)
			if c["sub"] != dave && name == "access" || len(got) != 2 || got["id"] != want["id"] || got["username"] != want["username"] {
				t.Errorf("%s token: sub %v, impersonator %v", name, c["sub"], c["impersonator"])
			}
		}
		plain, _ := exchange("plain")
		if plain["impersonator"] != nil {
			t.Errorf("a client without the mappers got the claim: %v", plain["impersonator"])
		}
		// Introspection names the acting administrator in act, mappers or not.
		introspect := func(raw string) map[string]any {
			t.Helper()
			req, _ := http.NewRequest("POST", s.URL+"/realms/imp/protocol/openid-connect/token/introspect",
				strings.NewReader(url.Values{"token": {raw}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("rs", "rs-secret")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var out map[string]any
			json.NewDecoder(res.Body).Decode(&out)
			if res.StatusCode != 200 || out["active"] != true {
				t.Fatalf("introspect: %d %v", res.StatusCode, out)
			}
			return out
		}
		if act, _ := introspect(lastAccess)["act"].(map[string]any); act["sub"] != "helpdesk" {
			t.Errorf("introspection act: %v", act)
		}
		if own := introspect(s.realmAdmin(e.realm, "other", "view-users")); own["act"] != nil {
			t.Errorf("a token of no impersonation has act: %v", own["act"])
		}

		// The master administrator: another realm, nothing of its own ends.
		st, _, b = s.do("POST", e.path("/users/"+dave+"/impersonation"), e.tok, nil)
		json.Unmarshal(b, &out)
		if st != 200 || out.SameRealm {
			t.Fatalf("impersonate as master's administrator: %d %s", st, b)
		}
		if st, _, _ := s.do("GET", e.path("/users/"+dave), e.tok, nil); st != 200 {
			t.Errorf("master's administrator lost its session: %d", st)
		}

		var evs []struct {
			Type, UserID, SessionID, ClientID string
			Details                           map[string]string
		}
		s.get(e.path("/events?type=IMPERSONATE"), e.tok, &evs)
		if len(evs) != 2 {
			t.Fatalf("IMPERSONATE events: %+v", evs)
		}
		seen := map[string]bool{}
		for _, ev := range evs {
			if ev.UserID != dave || ev.SessionID == "" || ev.ClientID != "" {
				t.Errorf("event: %+v", ev)
			}
			seen[ev.Details["impersonator"]+"@"+ev.Details["impersonator_realm"]] = true
		}
		if !seen["helpdesk@imp"] || !seen["admin@master"] {
			t.Errorf("event details: %+v", evs)
		}
		var adm []struct{ ResourcePath string }
		s.get(e.path("/admin-events"), e.tok, &adm)
		for _, ev := range adm {
			if strings.HasSuffix(ev.ResourcePath, "/impersonation") {
				t.Errorf("impersonation recorded as an admin event: %+v", ev)
			}
		}
	})
}
