package server_test

// The per-node configuration cache seen from outside: two servers share one
// database; what an administrator changes through one is what the other
// serves on its next request, whether or not it heard the change announced.

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// ccNodes is realm "cc" with confidential client "svc" (service account
// enabled), served by node A and node B over one database.
type ccNodes struct {
	t        *testing.T
	a, b     *httptest.Server
	dbA, dbB *store.DB
	realmID  string
	clientID string // svc's internal id
	queries  atomic.Int64
	clock    *bfClock // both nodes' clock, starting at now
}

func newCCNodes(t *testing.T, dialect store.Dialect, listenB bool) *ccNodes {
	t.Helper()
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "gatehouse.db")
	if dialect == store.Postgres {
		dsn = storetest.PostgresURL(t)
	}
	var dbs []*store.DB
	for i := range 2 {
		db, err := store.Open(ctx, dialect, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if i == 0 || listenB {
			db.ListenConfigChanges(t.Context(), nil)
		}
		dbs = append(dbs, db)
	}
	if _, err := provision.Master(ctx, dbs[0], "admin", "admin-pw", now); err != nil {
		t.Fatal(err)
	}
	rl := realm.New(store.NewID(), "cc")
	if err := provision.NewRealm(ctx, dbs[0], rl, now); err != nil {
		t.Fatal(err)
	}
	c := client.New(store.NewID(), rl.ID, "svc")
	c.Secret, c.ServiceAccountsEnabled = "first-secret", true
	if err := provision.CreateClient(ctx, dbs[0], c, now); err != nil {
		t.Fatal(err)
	}
	e := &ccNodes{t: t, dbA: dbs[0], dbB: dbs[1], realmID: rl.ID, clientID: c.ID, clock: &bfClock{t: now}}
	for i, db := range dbs {
		srv := httptest.NewServer(server.New(server.Options{Store: db, Now: e.clock.Now, Log: slog.New(slog.DiscardHandler)}))
		t.Cleanup(srv.Close)
		if i == 0 {
			e.a = srv
		} else {
			e.b = srv
		}
	}
	dbs[1].TimeQueries(func() func() { e.queries.Add(1); return func() {} })
	return e
}

// token is a client_credentials grant at srv: status and body.
func (e *ccNodes) token(srv *httptest.Server, secret string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+"/realms/cc/protocol/openid-connect/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("svc", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &body); err != nil {
		e.t.Fatalf("token: %d %s", resp.StatusCode, b)
	}
	return resp.StatusCode, body
}

// admin calls node A's admin API as the master realm's administrator.
func (e *ccNodes) admin(method, path, body string) (int, []byte) {
	e.t.Helper()
	tok := adminToken(e.t, e.a.URL, "admin-pw")
	r := do(e.t, method, e.a.URL+"/admin/realms/cc"+path,
		map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}, strings.NewReader(body))
	return r.status, r.body
}

// nodeCases are the ways two nodes can share one database: SQLite, where
// the version read alone tells node b of a change, and PostgreSQL with node
// b listening for notifications or having missed them all.
var nodeCases = []struct {
	name    string
	dialect store.Dialect
	listenB bool
}{
	{"sqlite, version check alone", store.SQLite, false},
	{"postgres, node b listening", store.Postgres, true},
	{"postgres, node b missed every notification", store.Postgres, false},
}

func TestConfigChangeOnOneNodeIsSeenByTheOther(t *testing.T) {
	for _, tc := range nodeCases {
		t.Run(tc.name, func(t *testing.T) {
			e := newCCNodes(t, tc.dialect, tc.listenB)

			// Node B caches: a second identical request reads less.
			e.queries.Store(0)
			if st, body := e.token(e.b, "first-secret"); st != 200 {
				t.Fatalf("token at node b: %d %v", st, body)
			}
			first := e.queries.Swap(0)
			if st, body := e.token(e.b, "first-secret"); st != 200 {
				t.Fatalf("token at node b: %d %v", st, body)
			}
			second := e.queries.Load()
			if second >= first {
				t.Fatalf("node b sent %d statements for the first grant and %d for the second: nothing cached", first, second)
			}
			t.Logf("client_credentials at node b: %d statements cold, %d with the configuration cached", first, second)

			// A new secret through node A: node B refuses the old one at once.
			st, b := e.admin("POST", "/clients/"+e.clientID+"/client-secret", "")
			var cred struct{ Value string }
			if err := json.Unmarshal(b, &cred); st != 200 || err != nil || cred.Value == "" {
				t.Fatalf("regenerate secret: %d %s", st, b)
			}
			if st, body := e.token(e.b, "first-secret"); st != 401 || body["error"] != "invalid_client" {
				t.Fatalf("node b did not refuse the old secret after the change: %d %v", st, body["error"])
			}
			if st, body := e.token(e.b, cred.Value); st != 200 {
				t.Fatalf("node b refused the new secret: %d %v", st, body)
			}

			// A realm setting through node A: node B's next token follows it.
			if st, b := e.admin("PUT", "", `{"accessTokenLifespan": 123}`); st != 204 {
				t.Fatalf("update realm: %d %s", st, b)
			}
			if st, body := e.token(e.b, cred.Value); st != 200 || body["expires_in"] != float64(123) {
				t.Fatalf("node b after the realm change: %d %v", st, body)
			}

			// A disabled client through node A is refused by node B.
			if st, b := e.admin("PUT", "/clients/"+e.clientID, `{"clientId": "svc", "enabled": false}`); st != 204 {
				t.Fatalf("disable client: %d %s", st, b)
			}
			if st, body := e.token(e.b, cred.Value); st == 200 {
				t.Fatalf("node b issued a token to a disabled client: %v", body)
			}
		})
	}
}
