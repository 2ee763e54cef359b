package admin_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Default groups: listed, added, removed; a new user joins them; unknown
// groups and callers without manage-realm are refused.
func TestDefaultGroupsAndGroupByPath(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "dg")
		newGroup := func(path string, body map[string]any) string {
			st, h, b := s.do("POST", e.path(path), e.tok, body)
			if st != 201 {
				t.Fatalf("group: %d %s", st, b)
			}
			return h.Get("Location")[strings.LastIndex(h.Get("Location"), "/")+1:]
		}
		team := newGroup("/groups", map[string]any{"name": "team"})
		sub := newGroup("/groups/"+team+"/children", map[string]any{"name": "sub one"})

		type grp struct{ ID, Name, Path string }
		var gs []grp
		s.get(e.path("/default-groups"), e.tok, &gs)
		if len(gs) != 0 {
			t.Fatalf("default groups of a new realm: %v", gs)
		}
		if st, _, b := s.do("PUT", e.path("/default-groups/"+sub), e.tok, nil); st != 204 {
			t.Fatalf("add: %d %s", st, b)
		}
		if st, _, _ := s.do("PUT", e.path("/default-groups/nope"), e.tok, nil); st != 404 {
			t.Errorf("add unknown: %d", st)
		}
		viewer := s.realmAdmin(e.realm, "viewer", "view-realm", "view-users")
		if st, _, _ := s.do("PUT", e.path("/default-groups/"+team), viewer, nil); st != 403 {
			t.Errorf("add as view-realm: %d", st)
		}
		s.get(e.path("/default-groups"), viewer, &gs)
		if len(gs) != 1 || gs[0].ID != sub || gs[0].Path != "/team/sub one" {
			t.Fatalf("default groups: %v", gs)
		}
		// A new user joins them.
		st, h, b := s.do("POST", e.path("/users"), e.tok, map[string]any{"username": "newbie"})
		if st != 201 {
			t.Fatalf("user: %d %s", st, b)
		}
		uid := h.Get("Location")[strings.LastIndex(h.Get("Location"), "/")+1:]
		var ugs []grp
		s.get(e.path("/users/"+uid+"/groups"), e.tok, &ugs)
		if len(ugs) != 1 || ugs[0].ID != sub {
			t.Errorf("new user's groups: %v", ugs)
		}
		if st, _, _ := s.do("DELETE", e.path("/default-groups/"+sub), e.tok, nil); st != 204 {
			t.Errorf("remove: %d", st)
		}
		s.get(e.path("/default-groups"), e.tok, &gs)
		if len(gs) != 0 {
			t.Errorf("after remove: %v", gs)
		}

		// group-by-path, escaped or not, with or without the leading slash.
		for _, p := range []string{"/group-by-path/team/sub%20one", "/group-by-path/%2Fteam%2Fsub%20one"} {
			var g grp
			st, _, b := s.do("GET", e.path(strings.ReplaceAll(p, " ", "%20")), e.tok, nil)
			if st != 200 || !strings.Contains(string(b), sub) {
				t.Errorf("%s: %d %s", p, st, b)
			}
			_ = g
		}
		if st, _, b := s.do("GET", e.path("/group-by-path/team/nope"), e.tok, nil); st != 404 || !strings.Contains(string(b), "Group path does not exist") {
			t.Errorf("unknown path: %d %s", st, b)
		}
	})
}

// client-session-stats counts each client's sessions as strings.
func TestClientSessionStats(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "stats")
		var stats []map[string]string
		s.get(e.path("/client-session-stats"), e.tok, &stats)
		if len(stats) != 0 {
			t.Fatalf("no sessions yet: %v", stats)
		}
		if st, _, b := s.do("POST", e.path("/clients"), e.tok, map[string]any{"clientId": "app", "publicClient": true,
			"directAccessGrantsEnabled": true}); st != 201 {
			t.Fatalf("client: %d %s", st, b)
		}
		if st, _, b := s.do("POST", e.path("/users"), e.tok, map[string]any{"username": "erin", "enabled": true,
			"credentials": []any{map[string]any{"type": "password", "value": "Erin-pw-1"}}}); st != 201 {
			t.Fatalf("user: %d %s", st, b)
		}
		s.token("stats", "app", "erin", "Erin-pw-1")
		s.token("stats", "app", "erin", "Erin-pw-1")
		s.get(e.path("/client-session-stats"), e.tok, &stats)
		if len(stats) != 1 || stats[0]["clientId"] != "app" || stats[0]["active"] != "2" || stats[0]["offline"] != "0" {
			t.Errorf("stats: %v", stats)
		}
		if st, _, _ := s.do("GET", e.path("/client-session-stats"), "", nil); st != 401 {
			t.Errorf("without a token: %d", st)
		}

		// Fine-grained permissions for users: off until turned on
		// (fgap_test.go follows what they grant).
		ump := e.path("/users-management-permissions")
		if st, _, b := s.do("GET", ump, e.tok, nil); st != 200 || string(b) != `{"enabled":false}` {
			t.Errorf("GET %s: %d %s", ump, st, b)
		}
		if st, _, b := s.do("PUT", ump, e.tok, map[string]bool{"enabled": true}); st != 200 || !strings.Contains(string(b), `"enabled":true`) {
			t.Errorf("enable: %d %s", st, b)
		}
		if st, _, b := s.do("PUT", ump, e.tok, map[string]bool{"enabled": false}); st != 200 || string(b) != `{"enabled":false}` {
			t.Errorf("disable: %d %s", st, b)
		}
	})
}

// Localization texts: set, listed, read, deleted; the login page shows the
// realm's text in place of the built-in one.
func TestRealmLocalization(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "texts")
		var locales []string
		s.get(e.path("/localization"), e.tok, &locales)
		if len(locales) != 0 {
			t.Fatalf("locales of a new realm: %v", locales)
		}
		put := func(locale, key, text string) int {
			req, _ := http.NewRequest("PUT", s.URL+e.path("/localization/"+locale+"/"+key), strings.NewReader(text))
			req.Header.Set("Authorization", "Bearer "+e.tok)
			req.Header.Set("Content-Type", "text/plain")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if st := put("en", "loginAccountTitle", "Welcome to Widgets"); st != 204 {
			t.Fatalf("put: %d", st)
		}
		if st := put("de", "doLogIn", "Los"); st != 204 {
			t.Fatalf("put de: %d", st)
		}
		s.get(e.path("/localization"), e.tok, &locales)
		if strings.Join(locales, ",") != "de,en" {
			t.Errorf("locales: %v", locales)
		}
		var texts map[string]string
		s.get(e.path("/localization/en"), e.tok, &texts)
		if len(texts) != 1 || texts["loginAccountTitle"] != "Welcome to Widgets" {
			t.Errorf("texts: %v", texts)
		}

		// The login page uses it.
		if st, _, b := s.do("POST", e.path("/clients"), e.tok, map[string]any{"clientId": "web", "publicClient": true,
			"redirectUris": []string{"https://app.example/cb"}}); st != 201 {
			t.Fatalf("client: %d %s", st, b)
		}
		q := url.Values{"client_id": {"web"}, "redirect_uri": {"https://app.example/cb"}, "response_type": {"code"}, "scope": {"openid"}}
		resp, err := http.Get(s.URL + "/realms/texts/protocol/openid-connect/auth?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(page), "Welcome to Widgets") || strings.Contains(string(page), "Sign in to your account") {
			t.Errorf("login page: %d\n%s", resp.StatusCode, page)
		}

		viewer := s.realmAdmin(e.realm, "viewer", "view-realm")
		if st, _, _ := s.do("DELETE", e.path("/localization/en/loginAccountTitle"), viewer, nil); st != 403 {
			t.Errorf("delete as view-realm: %d", st)
		}
		if st, _, _ := s.do("DELETE", e.path("/localization/en/loginAccountTitle"), e.tok, nil); st != 204 {
			t.Errorf("delete: %d", st)
		}
		if st, _, b := s.do("DELETE", e.path("/localization/en/loginAccountTitle"), e.tok, nil); st != 404 {
			t.Errorf("delete again: %d %s", st, b)
		}
		s.get(e.path("/localization"), e.tok, &locales)
		if strings.Join(locales, ",") != "de" {
			t.Errorf("locales after delete: %v", locales)
		}
		if st := put("en", "x", string([]byte{0xff, 0xfe})); st != 400 {
			t.Errorf("invalid UTF-8: %d", st)
		}
	})
}
