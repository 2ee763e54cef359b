package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/generate"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// largeTable is the row count from which a table counts as large: reading
// all of it on a request is what stops a realm from growing.
const largeTable = 1000

// tracedStatement is one statement the store sent while a path ran.
type tracedStatement struct {
	path  string
	query string
	args  []any
}

// TestPathsUseIndexes fills a realm (package generate) until its user and
// session tables are large, drives the paths that must stay fast at any
// size over HTTP (login, refresh, userinfo, introspection, the admin user
// search in each of its forms, session listings) and the expiry cleanup,
// records every statement the store sent on the way, and asks the database
// how it plans each one: none may read a large table from end to end.
func TestPathsUseIndexes(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := context.Background()
		db := open(t)
		now := time.Now()
		if _, err := provision.Master(ctx, db, "admin", "admin-pw", now); err != nil {
			t.Fatal(err)
		}
		err := generate.Realm(ctx, db, generate.Options{Realm: "gen", Users: 3000, Clients: 1000, Groups: 30,
			Sessions: 3000, Password: "gen-pw", Start: 1}, now, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		// What a live database has: statistics from the cleanup loop's
		// Optimize on SQLite, from autovacuum on PostgreSQL.
		if err := db.Analyze(ctx); err != nil {
			t.Fatal(err)
		}
		sizes, err := db.TableSizes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tbl := range []string{"users", "credentials", "user_sessions", "client_sessions", "group_members", "clients"} {
			if sizes[tbl] < largeTable {
				t.Fatalf("table %s has %d rows, want at least %d for the plans to mean something", tbl, sizes[tbl], largeTable)
			}
		}

		log := slog.New(slog.DiscardHandler)
		srv := httptest.NewServer(server.New(server.Options{Store: db, Log: log}))
		t.Cleanup(srv.Close)

		var (
			mu    sync.Mutex
			path  string
			trace []tracedStatement
		)
		step := func(name string) {
			mu.Lock()
			path = name
			mu.Unlock()
		}
		db.TraceStatements(func(q string, args []any) {
			mu.Lock()
			defer mu.Unlock()
			if path != "" {
				trace = append(trace, tracedStatement{path: path, query: q, args: slices.Clone(args)})
			}
		})
		t.Cleanup(func() { db.TraceStatements(nil) })

		c := &planClient{t: t, base: srv.URL}
		admin := c.token("master", url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"},
			"username": {"admin"}, "password": {"admin-pw"}}, "", "")["access_token"].(string)
		userName := generate.UserName(1234)
		clientID := "gen-client-7"

		step("login (password grant)")
		tok := c.token("gen", url.Values{"grant_type": {"password"}, "username": {userName}, "password": {"gen-pw"},
			"scope": {"openid"}}, clientID, generate.ClientSecret)
		step("refresh")
		tok = c.token("gen", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}},
			clientID, generate.ClientSecret)
		access := tok["access_token"].(string)
		step("userinfo")
		c.get("/realms/gen/protocol/openid-connect/userinfo", access)
		step("introspection")
		c.introspect(access, clientID)

		var found []map[string]any
		for _, q := range []struct{ name, query string }{
			{"admin user search (search, prefix)", "search=user00012&max=20"},
			{"admin user search (search, first name)", "search=first1234&max=20"},
			{"admin user search (search, two terms)", "search=user0001+last12&max=20"},
			{"admin user search (username, exact)", "username=" + userName + "&exact=true"},
			{"admin user search (email, exact)", "email=" + userName + "@example.com&exact=true"},
			{"admin user search (q, attribute)", "q=dept:dept-234&max=20"},
		} {
			step(q.name)
			c.getJSON("/admin/realms/gen/users?"+q.query, admin, &found)
			if len(found) == 0 {
				t.Errorf("%s: %s found no user", q.name, q.query)
			}
			step(q.name + ", count")
			c.get("/admin/realms/gen/users/count?"+q.query, admin)
		}
		step("")
		c.getJSON("/admin/realms/gen/users?username="+userName+"&exact=true", admin, &found)
		var clients []map[string]any
		c.getJSON("/admin/realms/gen/clients?clientId="+clientID, admin, &clients)
		if len(found) != 1 || len(clients) != 1 {
			t.Fatalf("found %d users, %d clients", len(found), len(clients))
		}
		step("user's sessions")
		var sessions []map[string]any
		c.getJSON("/admin/realms/gen/users/"+found[0]["id"].(string)+"/sessions", admin, &sessions)
		if len(sessions) == 0 {
			t.Errorf("user's sessions: none listed")
		}
		step("client's sessions")
		c.getJSON("/admin/realms/gen/clients/"+clients[0]["id"].(string)+"/user-sessions?max=20", admin, &sessions)
		if len(sessions) == 0 {
			t.Errorf("client's sessions: none listed")
		}
		step("expiry cleanup")
		server.CleanupOnce(ctx, db, log, time.Now())
		step("")
		db.TraceStatements(nil)

		mu.Lock()
		defer mu.Unlock()
		seen := map[string]bool{}
		paths := map[string]int{}
		for _, st := range trace {
			paths[st.path]++
			if seen[st.query] {
				continue
			}
			seen[st.query] = true
			plan, err := db.Explain(ctx, st.query, st.args)
			if err != nil {
				t.Errorf("%s: explain %s: %v", st.path, st.query, err)
				continue
			}
			for _, p := range plan {
				if p.FullScan && sizes[p.Table] >= largeTable {
					t.Errorf("%s: reads all %d rows of %s (%s) in\n%s\nplan: %v", st.path, sizes[p.Table], p.Table, p.Detail,
						strings.Join(strings.Fields(st.query), " "), plan)
				}
			}
		}
		// Each path sent statements: a path that sent none would check nothing.
		for _, want := range []string{"login (password grant)", "refresh", "userinfo", "introspection",
			"admin user search (q, attribute)", "user's sessions", "client's sessions", "expiry cleanup"} {
			if paths[want] == 0 {
				t.Errorf("%s: no statement traced", want)
			}
		}
		t.Logf("%d statements, %d distinct, planned", len(trace), len(seen))
	})
}

// planClient makes the requests of TestPathsUseIndexes, failing the test
// on any answer but 200.
type planClient struct {
	t    *testing.T
	base string
}

func (c *planClient) do(req *http.Request) []byte {
	c.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	return b
}

func (c *planClient) token(realm string, form url.Values, clientID, secret string) map[string]any {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+"/realms/"+realm+"/protocol/openid-connect/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID != "" {
		req.SetBasicAuth(clientID, secret)
	}
	var out map[string]any
	if err := json.Unmarshal(c.do(req), &out); err != nil {
		c.t.Fatal(err)
	}
	return out
}

func (c *planClient) introspect(token, clientID string) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+"/realms/gen/protocol/openid-connect/token/introspect",
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, generate.ClientSecret)
	if b := c.do(req); !strings.Contains(string(b), `"active":true`) {
		c.t.Errorf("introspection: %s", b)
	}
}

func (c *planClient) get(path, bearer string) []byte {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	return c.do(req)
}

func (c *planClient) getJSON(path, bearer string, v any) {
	c.t.Helper()
	if err := json.Unmarshal(c.get(path, bearer), v); err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
}
