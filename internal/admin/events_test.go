package admin_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// evList GETs a list of events as tok and decodes it.
func evList[T any](e *crgEnv, p, tok string) []T {
	e.t.Helper()
	var v []T
	e.s.get(e.path(p), tok, &v)
	return v
}

func evIDs(es []rep.Event) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestEventsConfig(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "evcfg")
		viewer := s.realmAdmin(e.realm, "viewer", "view-events")
		users := s.realmAdmin(e.realm, "usermgr", "manage-users")

		var cfg rep.EventsConfig
		_, b := e.want("GET", "/events/config", viewer, nil, 200, "")
		if err := json.Unmarshal([]byte(b), &cfg); err != nil {
			t.Fatal(err)
		}
		if *cfg.EventsEnabled || *cfg.AdminEventsEnabled || *cfg.AdminEventsDetailsEnabled || cfg.EventsExpiration != nil {
			t.Errorf("a new realm records nothing: %s", b)
		}
		if !slices.Contains(cfg.EnabledEventTypes, "LOGIN") || slices.Contains(cfg.EnabledEventTypes, "REFRESH_TOKEN") {
			t.Errorf("with no types set, the config shows the types saved by default: %v", cfg.EnabledEventTypes)
		}
		if cfg.EventsListeners == nil {
			t.Errorf("eventsListeners is a list: %s", b)
		}

		e.want("PUT", "/events/config", viewer, map[string]any{"eventsEnabled": true}, 403, "")
		e.want("GET", "/events/config", users, nil, 403, "")
		e.want("PUT", "/events/config", e.tok, map[string]any{"eventsExpiration": -1}, 400,
			`{"errorMessage":"eventsExpiration must not be negative"}`)
		e.want("PUT", "/events/config", e.tok, map[string]any{"eventsEnabled": true, "eventsExpiration": 3600,
			"enabledEventTypes": []string{"LOGIN", "REFRESH_TOKEN"}}, 204, "")
		// PUT is partial: what it leaves out stays.
		e.want("PUT", "/events/config", e.tok, map[string]any{"adminEventsEnabled": true}, 204, "")
		e.want("GET", "/events/config", viewer, nil, 200,
			`{"eventsEnabled":true,"eventsExpiration":3600,"eventsListeners":[],"enabledEventTypes":["LOGIN","REFRESH_TOKEN"],`+
				`"adminEventsEnabled":true,"adminEventsDetailsEnabled":false}`)
		r, err := s.DB.GetRealm(context.Background(), e.realm.ID)
		if err != nil || !r.EventsEnabled || r.EventsExpiration != 3600 || !r.AdminEventsEnabled || r.AdminEventsDetails {
			t.Errorf("stored settings: %+v %v", r, err)
		}
		// The realm representation shows the same settings.
		realmRep := e.obj("")
		if realmRep["eventsEnabled"] != true || realmRep["adminEventsEnabled"] != true {
			t.Errorf("realm representation: eventsEnabled %v adminEventsEnabled %v", realmRep["eventsEnabled"], realmRep["adminEventsEnabled"])
		}
		// An empty list goes back to the default types.
		e.want("PUT", "/events/config", e.tok, map[string]any{"enabledEventTypes": []string{}}, 204, "")
		e.s.get(e.path("/events/config"), viewer, &cfg)
		if !slices.Equal(cfg.EnabledEventTypes, events.DefaultTypes()) {
			t.Errorf("enabledEventTypes [] restores the defaults: %v", cfg.EnabledEventTypes)
		}
	})
}

func TestListEvents(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "evlist")
		viewer := s.realmAdmin(e.realm, "viewer", "view-events")
		users := s.realmAdmin(e.realm, "usermgr", "manage-users")
		ctx := context.Background()
		day := func(d string) int64 {
			tm, _ := time.Parse(time.DateOnly, d)
			return tm.UnixMilli()
		}
		for _, ev := range []struct {
			id, typ, client, user, ip string
			at                        int64
		}{
			{"e1", "LOGIN", "app", "u1", "10.0.0.1", day("2026-01-01") + 5},
			{"e2", "LOGIN_ERROR", "app", "u2", "10.0.0.2", day("2026-01-01") + 10},
			{"e3", "CODE_TO_TOKEN", "web", "u1", "10.0.0.1", day("2026-01-02") + 86399999},
			{"e4", "LOGOUT", "web", "u1", "10.0.0.1", day("2026-01-03")},
		} {
			if err := s.DB.CreateEvent(ctx, events.Event{ID: ev.id, RealmID: e.realm.ID, Time: ev.at, Type: ev.typ,
				ClientID: ev.client, UserID: ev.user, IPAddress: ev.ip, Details: map[string]string{"username": ev.user}}); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name  string
			query string
			want  []string
		}{
			{"newest first", "", []string{"e4", "e3", "e2", "e1"}},
			{"direction asc", "?direction=asc", []string{"e1", "e2", "e3", "e4"}},
			{"type repeated", "?type=LOGIN&type=LOGOUT", []string{"e4", "e1"}},
			{"client is the client_id", "?client=web", []string{"e4", "e3"}},
			{"user is the user id", "?user=u2", []string{"e2"}},
			{"ip address", "?ipAddress=10.0.0.2", []string{"e2"}},
			{"dateTo takes in its whole day", "?dateFrom=2026-01-02&dateTo=2026-01-02", []string{"e3"}},
			{"dateFrom alone", "?dateFrom=2026-01-02", []string{"e4", "e3"}},
			{"dates as epoch milliseconds", "?dateFrom=" + itoa(day("2026-01-01")+6) + "&dateTo=" + itoa(day("2026-01-01")+10), []string{"e2"}},
			{"first and max", "?first=1&max=2", []string{"e3", "e2"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := evList[rep.Event](e, "/events"+tc.query, viewer)
				if ids := evIDs(got); !slices.Equal(ids, tc.want) {
					t.Errorf("got %v, want %v", ids, tc.want)
				}
			})
		}
		_, b := e.want("GET", "/events?type=LOGIN", viewer, nil, 200, "")
		var raw []map[string]any
		json.Unmarshal([]byte(b), &raw)
		if len(raw) != 1 || raw[0]["id"] != "e1" || raw[0]["type"] != "LOGIN" || raw[0]["realmId"] != e.realm.ID ||
			raw[0]["clientId"] != "app" || raw[0]["userId"] != "u1" || raw[0]["ipAddress"] != "10.0.0.1" ||
			raw[0]["time"] != float64(day("2026-01-01")+5) || raw[0]["details"].(map[string]any)["username"] != "u1" {
			t.Errorf("event representation: %s", b)
		}
		if _, ok := raw[0]["sessionId"]; ok {
			t.Errorf("an absent session id is left out, as Keycloak's null: %s", b)
		}
		e.want("GET", "/events?dateFrom=01/02/2026", viewer, nil, 400,
			`{"errorMessage":"Invalid value for 'Date(From)', expected format is yyyy-MM-dd"}`)
		e.want("GET", "/events?dateTo=tomorrow", viewer, nil, 400,
			`{"errorMessage":"Invalid value for 'Date(To)', expected format is yyyy-MM-dd"}`)
		e.want("GET", "/events?max=-1", viewer, nil, 400, "")
		e.want("GET", "/events", users, nil, 403, "")
		e.want("DELETE", "/events", viewer, nil, 403, "")
		e.want("DELETE", "/events", e.tok, nil, 204, "")
		if got := evList[rep.Event](e, "/events", viewer); len(got) != 0 {
			t.Errorf("after DELETE: %v", evIDs(got))
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// adminEvents lists the realm's admin events, oldest first.
func adminEvents(e *crgEnv, query string) []rep.AdminEvent {
	e.t.Helper()
	sep := "?"
	if query != "" {
		sep = "&"
	}
	return evList[rep.AdminEvent](e, "/admin-events"+query+sep+"direction=asc", e.tok)
}

func TestAdminEventsRecorded(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "evadm")
		boss := e.realmAdminUser("boss")
		e.want("POST", "/users", e.tok, map[string]any{"username": "before"}, 201, "")
		// Turning admin events on is itself recorded, as Keycloak does.
		e.want("PUT", "/events/config", e.tok, map[string]any{"adminEventsEnabled": true}, 204, "")

		uid := e.create("/users", map[string]any{"username": "bob"})
		e.want("PUT", "/users/"+uid, e.tok, map[string]any{"firstName": "Bob"}, 204, "")
		e.want("PUT", "/users/"+uid+"/reset-password", e.tok, map[string]any{"type": "password", "value": "pw-bob-2"}, 204, "")
		e.want("PUT", "/users/no-such-user", e.tok, map[string]any{"firstName": "X"}, 404, "") // refused: not recorded
		e.obj("/users/" + uid)                                                                 // a read: not recorded
		cid := e.create("/clients", map[string]any{"clientId": "svc", "secret": "s3cr3t"})
		e.want("POST", "/roles", e.tok, map[string]any{"name": "reader"}, 201, "")
		e.want("POST", "/clients/"+cid+"/roles", e.tok, map[string]any{"name": "cr"}, 201, "")
		var cr map[string]any
		e.s.get(e.path("/clients/"+cid+"/roles/cr"), e.tok, &cr)
		e.want("PUT", "/roles-by-id/"+cr["id"].(string), e.tok, map[string]any{"name": "cr", "description": "d"}, 204, "")
		var reader map[string]any
		e.s.get(e.path("/roles/reader"), e.tok, &reader)
		e.want("POST", "/users/"+uid+"/role-mappings/realm", e.tok, []map[string]any{{"id": reader["id"], "name": "reader"}}, 204, "")
		gid := e.create("/groups", map[string]any{"name": "staff"})
		e.want("PUT", "/users/"+uid+"/groups/"+gid, e.tok, nil, 204, "")
		e.want("DELETE", "/users/"+uid, e.tok, nil, 204, "")

		got := adminEvents(e, "")
		type row struct{ op, typ, path string }
		var rows []row
		for _, ev := range got {
			rows = append(rows, row{ev.OperationType, ev.ResourceType, ev.ResourcePath})
			if ev.AuthDetails.RealmID != e.realm.ID || ev.AuthDetails.UserID != boss || ev.AuthDetails.ClientID == "" ||
				ev.AuthDetails.IPAddress != "127.0.0.1" || ev.RealmID != e.realm.ID || ev.ID == "" || ev.Time == 0 {
				t.Errorf("auth details of %s %s: %+v", ev.OperationType, ev.ResourcePath, ev)
			}
			if ev.Representation != "" {
				t.Errorf("without details no representation: %s", ev.Representation)
			}
		}
		want := []row{
			{"UPDATE", "REALM", "events/config"},
			{"CREATE", "USER", "users/" + uid},
			{"UPDATE", "USER", "users/" + uid},
			{"ACTION", "USER", "users/" + uid + "/reset-password"},
			{"CREATE", "CLIENT", "clients/" + cid},
			{"CREATE", "REALM_ROLE", "roles/reader"},
			{"CREATE", "CLIENT_ROLE", "clients/" + cid + "/roles/cr"},
			{"UPDATE", "CLIENT_ROLE", "roles-by-id/" + cr["id"].(string)},
			{"CREATE", "REALM_ROLE_MAPPING", "users/" + uid + "/role-mappings/realm"},
			{"CREATE", "GROUP", "groups/" + gid},
			{"CREATE", "GROUP_MEMBERSHIP", "users/" + uid + "/groups/" + gid},
			{"DELETE", "USER", "users/" + uid},
		}
		if !slices.Equal(rows, want) {
			t.Errorf("admin events:\n got  %v\n want %v", rows, want)
		}

		// Keycloak's filters.
		for _, tc := range []struct {
			query string
			n     int
		}{
			{"?operationTypes=CREATE&operationTypes=DELETE", 8},
			{"?resourceTypes=USER", 4},
			{"?resourcePath=users/*", 6},
			{"?resourcePath=users/" + uid + "/reset-password", 1},
			{"?authUser=" + boss, len(want)},
			{"?authUser=nobody", 0},
			{"?authRealm=" + e.realm.ID + "&authIpAddress=127.0.0.1", len(want)},
			{"?first=2&max=3", 3},
		} {
			if got := adminEvents(e, tc.query); len(got) != tc.n {
				t.Errorf("%s: %d events, want %d", tc.query, len(got), tc.n)
			}
		}
		if got := adminEvents(e, "?first=2&max=1"); len(got) != 1 || got[0].ResourcePath != "users/"+uid {
			t.Errorf("paging: %+v", got)
		}
		viewer := s.realmAdmin(e.realm, "viewer", "view-events")
		e.want("DELETE", "/admin-events", viewer, nil, 403, "")
		e.want("DELETE", "/admin-events", e.tok, nil, 204, "")
		if got := adminEvents(e, ""); len(got) != 0 {
			t.Errorf("after DELETE: %d", len(got))
		}
	})
}

// realmAdminUser is the id of a realm admin created by newCRGEnv.
func (e *crgEnv) realmAdminUser(name string) string {
	e.t.Helper()
	u, err := e.s.DB.GetUserByUsername(context.Background(), e.realm.ID, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

func TestAdminEventsOfAnotherRealmsAdmin(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		r := s.newRealm("evmaster")
		master, err := s.DB.GetRealmByName(context.Background(), "master")
		if err != nil {
			t.Fatal(err)
		}
		admin := s.adminToken()
		st, _, b := s.do("PUT", "/admin/realms/evmaster/events/config", admin, map[string]any{"adminEventsEnabled": true, "adminEventsDetailsEnabled": true})
		if st != 204 {
			t.Fatalf("config: %d %s", st, b)
		}
		st, _, b = s.do("POST", "/admin/realms/evmaster/clients", admin, map[string]any{"clientId": "x", "secret": "very-secret-1"})
		if st != 201 {
			t.Fatalf("create client: %d %s", st, b)
		}
		var got []rep.AdminEvent
		s.get("/admin/realms/evmaster/admin-events?resourceTypes=CLIENT", admin, &got)
		if len(got) != 1 || got[0].AuthDetails.RealmID != master.ID || got[0].RealmID != r.ID {
			t.Fatalf("the event is the target realm's, made from master: %+v", got)
		}
		if !strings.Contains(got[0].Representation, `"secret":"**********"`) || strings.Contains(got[0].Representation, "very-secret-1") {
			t.Errorf("representation: %s", got[0].Representation)
		}
		// Deleting the realm takes its events with it and records nothing.
		if st, _, b := s.do("DELETE", "/admin/realms/evmaster", admin, nil); st != 204 {
			t.Fatalf("delete realm: %d %s", st, b)
		}
		if left, _ := s.DB.ListAdminEvents(context.Background(), r.ID, store.AdminEventQuery{Max: -1}); len(left) != 0 {
			t.Errorf("events of a deleted realm remain: %d", len(left))
		}
	})
}

// rawRows reads every row of table as text, straight from the database
// rather than through the store, so nothing the store maps or drops can
// hide a leak.
func rawRows(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%v|", v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// evBrowser is a cookie-keeping client that does not follow redirects.
type evBrowser struct {
	t *testing.T
	c *http.Client
}

func newEvBrowser(t *testing.T) *evBrowser {
	jar, _ := cookiejar.New(nil)
	return &evBrowser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *evBrowser) send(method, u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	page, _ := io.ReadAll(res.Body)
	return res, string(page)
}

var (
	evFormAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	evHidden     = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// formLogin opens the authorization endpoint of client app and posts the
// login form; it returns the answer to the post.
func (b *evBrowser) formLogin(base, username, password string) (*http.Response, string) {
	b.t.Helper()
	q := url.Values{"client_id": {"app"}, "redirect_uri": {"https://app.example/cb"}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"st"}}
	_, page := b.send("GET", base+"/realms/demo/protocol/openid-connect/auth?"+q.Encode(), nil)
	m := evFormAction.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no login form: %s", page)
	}
	action := html.UnescapeString(m[1])
	if strings.HasPrefix(action, "/") {
		action = base + action
	}
	fields := url.Values{}
	for _, h := range evHidden.FindAllStringSubmatch(page, -1) {
		fields.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	fields.Set("username", username)
	fields.Set("password", password)
	return b.send("POST", action, fields)
}

// tokenCall posts to a protocol endpoint of realm demo and decodes the
// JSON answer.
func tokenCall(t *testing.T, base, endpoint string, form url.Values) (int, map[string]any) {
	t.Helper()
	res, err := http.PostForm(base+"/realms/demo/protocol/openid-connect/"+endpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

// TestEventsNeverHoldSecrets runs logins, failures, a refresh, a client
// credentials grant, introspection, revocation, logout and admin changes
// with every event type and admin event details on, then reads every
// event through the admin API and the raw tables: the canaries (secrets and
// passwords sent in), every token and code issued are nowhere, and the
// expected events are there with the right fields.
func TestEventsNeverHoldSecrets(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		var raw *sql.DB
		opener := func(tb testing.TB) *store.DB {
			ctx := context.Background()
			if strings.HasSuffix(tb.Name(), "postgres") {
				dsn := storetest.PostgresURL(tb)
				db, err := store.Open(ctx, store.Postgres, dsn)
				if err != nil {
					tb.Fatal(err)
				}
				tb.Cleanup(func() { db.Close() })
				if raw, err = sql.Open("pgx", dsn); err != nil {
					tb.Fatal(err)
				}
				return db
			}
			path := filepath.Join(tb.TempDir(), "events.db")
			db, err := store.Open(ctx, store.SQLite, path)
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { db.Close() })
			if raw, err = sql.Open("sqlite", path); err != nil {
				tb.Fatal(err)
			}
			return db
		}
		s := newServer(t, opener)
		t.Cleanup(func() { raw.Close() })
		const (
			canaryAppSecret = "canary-app-secret-5d1f0b"
			canarySvcSecret = "canary-svc-secret-93ac2e"
			canaryPassword  = "canary-password-71b4c9"
			canaryWrongPw   = "canary-wrong-password-0e6d"
			canaryGrantPw   = "canary-grant-password-c27a"
		)
		r := s.newRealm("demo")
		e := &crgEnv{t: t, s: s, realm: r, tok: s.adminToken()}
		e.want("PUT", "/events/config", e.tok, map[string]any{"eventsEnabled": true, "enabledEventTypes": events.Types(),
			"adminEventsEnabled": true, "adminEventsDetailsEnabled": true}, 204, "")

		// Admin changes carrying secrets.
		appID := e.create("/clients", map[string]any{"clientId": "app", "secret": canaryAppSecret, "publicClient": false,
			"redirectUris": []string{"https://app.example/cb"}, "standardFlowEnabled": true, "directAccessGrantsEnabled": true})
		svcID := e.create("/clients", map[string]any{"clientId": "svc", "secret": canarySvcSecret, "publicClient": false, "serviceAccountsEnabled": true,
			"standardFlowEnabled": false})
		alice := e.create("/users", map[string]any{"username": "alice", "enabled": true, "email": "alice@example.com",
			"firstName": "Alice", "lastName": "L"})
		e.want("PUT", "/users/"+alice+"/reset-password", e.tok, map[string]any{"type": "password", "value": canaryPassword, "temporary": false}, 204, "")
		sa := e.obj("/clients/" + svcID + "/service-account-user")

		base := s.URL
		var issued []string // every token and code handed out
		keep := func(body map[string]any) {
			for _, k := range []string{"access_token", "refresh_token", "id_token"} {
				if v, _ := body[k].(string); v != "" {
					issued = append(issued, v)
				}
			}
		}

		// A failed form login with a canary password, an unknown user, then a good login.
		b := newEvBrowser(t)
		if res, page := b.formLogin(base, "alice", canaryWrongPw); res.StatusCode != 200 || strings.Contains(page, canaryWrongPw) {
			t.Fatalf("failed login: %d", res.StatusCode)
		}
		b.formLogin(base, "nobody", canaryWrongPw)
		res, page := b.formLogin(base, "alice", canaryPassword)
		if res.StatusCode != 302 {
			t.Fatalf("login: %d %s", res.StatusCode, page)
		}
		loc, _ := url.Parse(res.Header.Get("Location"))
		code, sessionState := loc.Query().Get("code"), loc.Query().Get("session_state")
		if code == "" || sessionState == "" {
			t.Fatalf("no code: %s", loc)
		}
		issued = append(issued, code)
		appAuth := url.Values{"client_id": {"app"}, "client_secret": {canaryAppSecret}}
		with := func(v url.Values, kv ...string) url.Values {
			out := url.Values{}
			for k, vs := range appAuth {
				out[k] = vs
			}
			for k, vs := range v {
				out[k] = vs
			}
			for i := 0; i+1 < len(kv); i += 2 {
				out.Set(kv[i], kv[i+1])
			}
			return out
		}
		st, tok := tokenCall(t, base, "token", with(nil, "grant_type", "authorization_code", "code", code, "redirect_uri", "https://app.example/cb"))
		if st != 200 {
			t.Fatalf("code exchange: %d %v", st, tok)
		}
		keep(tok)
		st, refreshed := tokenCall(t, base, "token", with(nil, "grant_type", "refresh_token", "refresh_token", tok["refresh_token"].(string)))
		if st != 200 {
			t.Fatalf("refresh: %d %v", st, refreshed)
		}
		keep(refreshed)

		// The password grant: a failure with a canary, then a success.
		if st, body := tokenCall(t, base, "token", with(nil, "grant_type", "password", "username", "alice", "password", canaryGrantPw)); st != 401 {
			t.Fatalf("wrong password grant: %d %v", st, body)
		}
		st, pw := tokenCall(t, base, "token", with(nil, "grant_type", "password", "username", "alice", "password", canaryPassword, "scope", "openid"))
		if st != 200 {
			t.Fatalf("password grant: %d %v", st, pw)
		}
		keep(pw)

		// client_credentials: a wrong secret, then the right one.
		if st, _ := tokenCall(t, base, "token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc"}, "client_secret": {canaryAppSecret}}); st != 401 {
			t.Fatalf("wrong client secret: %d", st)
		}
		st, cc := tokenCall(t, base, "token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc"}, "client_secret": {canarySvcSecret}})
		if st != 200 {
			t.Fatalf("client credentials: %d %v", st, cc)
		}
		keep(cc)

		// Introspection, revocation of the password grant's refresh token, logout of the browser session.
		if st, body := tokenCall(t, base, "token/introspect", with(nil, "token", pw["access_token"].(string))); st != 200 || body["active"] != true {
			t.Fatalf("introspect: %d %v", st, body)
		}
		if st, _ := tokenCall(t, base, "revoke", with(nil, "token", pw["refresh_token"].(string))); st != 200 {
			t.Fatalf("revoke: %d", st)
		}
		if res, err := http.PostForm(base+"/realms/demo/protocol/openid-connect/logout",
			with(nil, "refresh_token", refreshed["refresh_token"].(string))); err != nil || res.StatusCode != 204 {
			t.Fatalf("logout: %v %v", res, err)
		} else {
			res.Body.Close()
		}
		issued = append(issued, e.tok)

		// Read everything back, through the API and the raw tables.
		_, apiEvents := e.want("GET", "/events?max=10000", e.tok, nil, 200, "")
		_, apiAdmin := e.want("GET", "/admin-events?max=10000", e.tok, nil, 200, "")
		var dump []string
		dump = append(dump, apiEvents, apiAdmin)
		dump = append(dump, rawRows(t, raw, "events")...)
		dump = append(dump, rawRows(t, raw, "admin_events")...)
		everything := strings.Join(dump, "\n")
		for name, secret := range map[string]string{"app secret": canaryAppSecret, "svc secret": canarySvcSecret,
			"password": canaryPassword, "wrong password": canaryWrongPw, "grant password": canaryGrantPw} {
			if strings.Contains(everything, secret) {
				t.Errorf("the %s appears in an event", name)
			}
		}
		for i, x := range issued {
			if strings.Contains(everything, x) {
				t.Errorf("issued token or code #%d appears in an event", i)
			}
		}
		if strings.Contains(everything, "eyJ") {
			t.Error("something shaped like a JWT appears in an event")
		}

		// The expected events, with their fields.
		var evs []rep.Event
		json.Unmarshal([]byte(apiEvents), &evs)
		find := func(typ, client, errCode string, match func(rep.Event) bool) rep.Event {
			t.Helper()
			for _, ev := range evs {
				if ev.Type == typ && ev.ClientID == client && ev.Error == errCode && (match == nil || match(ev)) {
					if ev.RealmID != r.ID || ev.IPAddress != "127.0.0.1" || ev.ID == "" || ev.Time == 0 {
						t.Errorf("%s: realm, address, id or time wrong: %+v", typ, ev)
					}
					return ev
				}
			}
			t.Errorf("no %s event of %s with error %q", typ, client, errCode)
			return rep.Event{}
		}
		grantSession, _ := pw["session_state"].(string)
		formLogin := find("LOGIN", "app", "", func(ev rep.Event) bool { return ev.Details["auth_type"] == "code" })
		if formLogin.UserID != alice || formLogin.SessionID != sessionState || formLogin.Details["username"] != "alice" ||
			formLogin.Details["code_id"] != sessionState || formLogin.Details["consent"] != "no_consent_required" ||
			formLogin.Details["auth_method"] != "openid-connect" || formLogin.Details["redirect_uri"] != "https://app.example/cb" {
			t.Errorf("form LOGIN: %+v", formLogin)
		}
		if ev := find("LOGIN_ERROR", "app", "invalid_user_credentials", func(ev rep.Event) bool { return ev.Details["auth_type"] == "code" }); ev.UserID != alice || ev.Details["username"] != "alice" {
			t.Errorf("form LOGIN_ERROR: %+v", ev)
		}
		if ev := find("LOGIN_ERROR", "app", "user_not_found", nil); ev.UserID != "" || ev.Details["username"] != "nobody" {
			t.Errorf("unknown user LOGIN_ERROR: %+v", ev)
		}
		if ev := find("CODE_TO_TOKEN", "app", "", nil); ev.UserID != alice || ev.SessionID != sessionState || ev.Details["token_id"] == "" {
			t.Errorf("CODE_TO_TOKEN: %+v", ev)
		}
		if ev := find("REFRESH_TOKEN", "app", "", nil); ev.UserID != alice || ev.SessionID != sessionState || ev.Details["refresh_token_type"] != "Refresh" {
			t.Errorf("REFRESH_TOKEN: %+v", ev)
		}
		if ev := find("LOGIN", "app", "", func(ev rep.Event) bool { return ev.Details["grant_type"] == "password" }); ev.UserID != alice ||
			ev.SessionID != grantSession || grantSession == "" || ev.Details["username"] != "alice" {
			t.Errorf("password grant LOGIN: %+v", ev)
		}
		if ev := find("LOGIN_ERROR", "app", "invalid_user_credentials", func(ev rep.Event) bool { return ev.Details["grant_type"] == "password" }); ev.UserID != alice {
			t.Errorf("password grant LOGIN_ERROR: %+v", ev)
		}
		if ev := find("CLIENT_LOGIN", "svc", "", nil); ev.UserID != sa["id"] || ev.Details["username"] != sa["username"] {
			t.Errorf("CLIENT_LOGIN: %+v", ev)
		}
		find("CLIENT_LOGIN_ERROR", "svc", "invalid_client_credentials", nil)
		if ev := find("INTROSPECT_TOKEN", "app", "", nil); ev.UserID != alice || ev.SessionID != grantSession {
			t.Errorf("INTROSPECT_TOKEN: %+v", ev)
		}
		if ev := find("REVOKE_GRANT", "app", "", nil); ev.UserID != alice || ev.Details["revoked_client"] != "app" {
			t.Errorf("REVOKE_GRANT: %+v", ev)
		}
		if ev := find("LOGOUT", "app", "", nil); ev.UserID != alice || ev.SessionID != sessionState {
			t.Errorf("LOGOUT: %+v", ev)
		}

		var adm []rep.AdminEvent
		json.Unmarshal([]byte(apiAdmin), &adm)
		reps := map[string]string{}
		for _, ev := range adm {
			reps[ev.OperationType+" "+ev.ResourcePath] = ev.Representation
		}
		for _, want := range []struct{ key, has string }{
			{"CREATE clients/" + appID, `"secret":"**********"`},
			{"CREATE clients/" + svcID, `"clientId":"svc"`},
			{"CREATE users/" + alice, `"username":"alice"`},
			{"ACTION users/" + alice + "/reset-password", `"value":"**********"`},
			{"UPDATE events/config", `"adminEventsDetailsEnabled":true`},
		} {
			got, ok := reps[want.key]
			if !ok || !strings.Contains(got, want.has) {
				t.Errorf("admin event %s: representation %q, want it to hold %s (have %v)", want.key, got, want.has, slices.Collect(maps.Keys(reps)))
			}
		}
	})
}
