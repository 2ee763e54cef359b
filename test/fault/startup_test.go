package fault_test

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// F17: several nodes started at the same moment on an empty database all
// become ready, with one master realm, one bootstrap administrator and one
// set of master keys between them. Regression (issue 13): the second node
// exited with `create realm "master": already exists`, and two nodes could
// run the same migration at once.
func TestF17NodesStartTogetherOnAnEmptyDatabase(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, kind store.Dialect) {
		// The race is a matter of milliseconds: a few rounds, each on a new
		// empty database, make a regression show.
		for round := 1; round <= 4; round++ {
			t.Run(fmt.Sprint("round ", round), func(t *testing.T) { startTogether(t, kind) })
		}
	})
}

// startTogether launches three nodes at once on a new empty database and
// checks that all become ready over one master realm.
func startTogether(t *testing.T, kind store.Dialect) {
	b := &backend{name: string(kind), dialect: kind}
	switch kind {
	case store.SQLite:
		b.dsn = filepath.Join(t.TempDir(), "gatehouse.db")
	case store.Postgres:
		b.dsn = storetest.PostgresURL(t) // a fresh, empty schema
	}
	b.args = []string{"--db", string(kind), "--db-url", b.dsn}

	const nodes = 3
	var ns []*node
	for i := range nodes {
		ns = append(ns, newNode(t, string(rune('a'+i)), b, "--bootstrap-admin-password", "Bootstrap-pw-1"))
	}
	began := make([]time.Time, nodes)
	for i, n := range ns {
		began[i] = n.launch(t)
	}
	if spread := began[nodes-1].Sub(began[0]); spread > time.Second {
		t.Logf("the nodes were launched %s apart; the machine is slow", spread)
	}
	for i, n := range ns {
		n.waitReady(t, began[i])
		t.Logf("node %s ready in %s", n.name, n.readyIn.Round(time.Millisecond))
	}

	db := b.sqlDB(t)
	count := func(q string) int {
		t.Helper()
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM realms WHERE name = 'master'`); n != 1 {
		t.Errorf("%d master realms, want 1", n)
	}
	if n := count(`SELECT count(*) FROM users u JOIN realms r ON r.id = u.realm_id WHERE r.name = 'master'`); n != 1 {
		t.Errorf("%d users in the master realm, want the one bootstrap admin", n)
	}
	keys := count(`SELECT count(*) FROM realm_keys k JOIN realms r ON r.id = k.realm_id WHERE r.name = 'master'`)
	t.Logf("master realm keys: %d", keys)

	// Every node serves the one realm, and the admin signs in on each.
	for _, n := range ns {
		form := url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {"admin"}, "password": {"Bootstrap-pw-1"}}
		req, _ := http.NewRequest(http.MethodPost, "http://"+publicHost+"/realms/master/protocol/openid-connect/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r := n.do(req); r.status != http.StatusOK {
			t.Errorf("node %s: admin password grant: %v", n.name, r)
		}
		n.kill()
	}
}
