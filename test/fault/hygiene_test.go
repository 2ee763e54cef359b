package fault_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// F12 (Hydra 0.11.12, KC CVE-2024-4540): a whole flow, failures included,
// run at debug level over two nodes, leaves no password, client secret,
// token, code, verifier or password hash in either node's log or in any
// database table other than the ones that must hold them (credentials hold
// hashes; clients hold their secret, as Keycloak's do).
func TestF12NoSecretsInLogsOrTables(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, kind store.Dialect) {
		const adminPW, newPW = "Canary-admin-password-8Vw1", "Canary-new-password-5Rt4"
		b := newBackend(t, kind, realmSettings{revokeRefreshToken: true})
		debug := []string{"--log-level", "debug", "--http-access-log-enabled", "true", "--bootstrap-admin-password", adminPW}
		nodes := []*node{startNode(t, "a", b, debug...)}
		if kind == store.Postgres {
			nodes = append(nodes, startNode(t, "b", b, debug...))
		}
		other := nodes[len(nodes)-1]
		canaries := []string{userPW, clientPW, adminPW, newPW, "$argon2", "pbkdf2",
			base64.StdEncoding.EncodeToString([]byte(clientID + ":" + clientPW))}
		keep := func(vals ...string) {
			for _, v := range vals {
				if v != "" {
					canaries = append(canaries, v)
				}
			}
		}
		tokens := func(r reply) {
			keep(r.str("access_token"), r.str("refresh_token"), r.str("id_token"))
		}

		// Browser login with PKCE on node a: a wrong password, then the right one.
		verifier, challenge := pkce("f12-" + string(kind))
		keep(verifier)
		code := browserLogin(t, nodes[0], challenge)
		keep(code)

		// Back channel, spread over the nodes.
		r := other.post("token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirectURI}, "code_verifier": {verifier}})
		if r.status != http.StatusOK {
			t.Fatalf("code exchange: %v", r)
		}
		tokens(r)
		at, rt := r.str("access_token"), r.str("refresh_token")
		if r := nodes[0].post("token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirectURI}, "code_verifier": {verifier}}); r.status != http.StatusBadRequest {
			t.Errorf("code replay: %v", r)
		}
		r = nodes[0].password()
		tokens(r)
		r2 := other.refresh(r.str("refresh_token"))
		tokens(r2)
		other.refresh(r.str("refresh_token")) // reuse of a rotated token: the family dies
		other.userinfo(at)
		nodes[0].post("token/introspect", url.Values{"token": {at}})
		nodes[0].post("token/introspect", url.Values{"token": {rt}})
		other.revoke(rt)
		other.refresh(rt)
		nodes[0].post("token", url.Values{"grant_type": {"password"}, "username": {username}, "password": {userPW + "x"}})
		keep(userPW + "x")
		bad, _ := http.NewRequest(http.MethodPost, "http://"+publicHost+realmPath+"token",
			strings.NewReader("grant_type=client_credentials"))
		bad.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		bad.SetBasicAuth(clientID, clientPW+"-wrong")
		keep(clientPW + "-wrong")
		nodes[0].do(bad)
		nodes[0].post("logout", url.Values{"refresh_token": {r2.str("refresh_token")}})

		// Admin API: a token for the bootstrap admin, then a password reset.
		admin := adminToken(t, other, adminPW)
		keep(admin)
		uid := fixtureUserID(t, b)
		req, _ := http.NewRequest(http.MethodPut, "http://"+publicHost+"/admin/realms/"+realmName+"/users/"+uid+"/reset-password",
			strings.NewReader(`{"type":"password","value":"`+newPW+`","temporary":false}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+admin)
		if r := other.do(req); r.status != http.StatusNoContent {
			t.Errorf("admin password reset: %v", r)
		}

		for _, n := range nodes {
			n.stop(t) // flush and end every log
			logs := n.logs.String()
			if !strings.Contains(logs, "level=DEBUG") || !strings.Contains(logs, "msg=request") {
				t.Fatalf("node %s logged no debug or request line: the capture is broken", n.name)
			}
			for _, c := range canaries {
				if i := strings.Index(logs, c); i >= 0 {
					t.Errorf("node %s logged %s: …%s…", n.name, describe(c), excerpt(logs, i))
				}
			}
		}
		scanned := scanTables(t, b, canaries)
		t.Logf("%s: %d canaries checked against %d log bytes and tables %v", kind, len(canaries),
			len(nodes[0].logs.String()), scanned)
	})
}

// browserLogin runs the authorization endpoint and the login form as a
// browser would, on n, and returns the code.
func browserLogin(t *testing.T, n *node, challenge string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Transport: n.client.Transport, Jar: jar, Timeout: n.client.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"client_id": {clientID}, "response_type": {"code"}, "redirect_uri": {redirectURI},
		"scope": {"openid"}, "state": {"st-1"}, "nonce": {"n-1"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	res, err := browser.Get("http://" + publicHost + realmPath + "auth?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, res)
	for _, pw := range []string{userPW + "-wrong", userPW} {
		action, csrf := formOf(t, page)
		res, err = browser.PostForm(action, url.Values{"username": {username}, "password": {pw}, "csrf_token": {csrf}})
		if err != nil {
			t.Fatal(err)
		}
		page = readAll(t, res)
		if pw != userPW && res.StatusCode != http.StatusOK {
			t.Fatalf("wrong password: %d", res.StatusCode)
		}
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), redirectURI) {
		t.Fatalf("login: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

var (
	actionRe = regexp.MustCompile(`<form[^>]* action="([^"]+)"`)
	csrfRe   = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
)

func formOf(t *testing.T, page []byte) (action, csrf string) {
	t.Helper()
	a, c := actionRe.FindSubmatch(page), csrfRe.FindSubmatch(page)
	if a == nil || c == nil {
		t.Fatalf("no login form in:\n%s", page)
	}
	u, err := url.Parse(html.UnescapeString(string(a[1])))
	if err != nil {
		t.Fatalf("form action: %v", err)
	}
	base := &url.URL{Scheme: "http", Host: publicHost}
	return base.ResolveReference(u).String(), html.UnescapeString(string(c[1]))
}

func readAll(t *testing.T, res *http.Response) []byte {
	t.Helper()
	defer res.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(res.Body); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func adminToken(t *testing.T, n *node, password string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+publicHost+"/realms/master/protocol/openid-connect/token",
		strings.NewReader(url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {"admin"},
			"password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r := n.do(req)
	if r.status != http.StatusOK {
		t.Fatalf("admin token: %v", r)
	}
	return r.str("access_token")
}

func fixtureUserID(t *testing.T, b *backend) string {
	t.Helper()
	return loadFixture(t, b.db).userID
}

// scanTables reads every row of every table and reports each canary found
// outside the tables that must hold it. It returns the tables read.
func scanTables(t *testing.T, b *backend, canaries []string) []string {
	t.Helper()
	db := b.sqlDB(t)
	ctx := context.Background()
	q := `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	if b.dialect == store.SQLite {
		q = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	}
	var tables []string
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	// What a table may hold by design: hashes in credentials (and a
	// password history, if any), the client's own secret in clients.
	allowed := func(table, canary string) bool {
		hash := canary == "$argon2" || canary == "pbkdf2"
		return (hash && (table == "credentials" || strings.Contains(table, "password_history"))) ||
			(canary == clientPW && table == "clients")
	}
	for _, table := range tables {
		dump := dumpTable(t, db, table)
		for _, c := range canaries {
			if allowed(table, c) {
				continue
			}
			if i := strings.Index(dump, c); i >= 0 {
				t.Errorf("table %s holds %s: …%s…", table, describe(c), excerpt(dump, i))
			}
		}
	}
	return tables
}

func dumpTable(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT * FROM "`+table+`"`)
	if err != nil {
		t.Fatalf("read table %s: %v", table, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		for _, v := range vals {
			if bs, ok := v.([]byte); ok {
				b.Write(bs)
			} else {
				fmt.Fprint(&b, v)
			}
			b.WriteByte('\t')
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// describe names a canary without printing a whole token.
func describe(c string) string {
	if len(c) > 24 {
		return fmt.Sprintf("a secret (%.12s…)", c)
	}
	return fmt.Sprintf("%q", c)
}

func excerpt(s string, i int) string {
	return s[max(i-80, 0):min(i+40, len(s))]
}
