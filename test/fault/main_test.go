// Package fault_test runs the fault tests of SECURITY.md §4 against the real
// gatehouse binary, built once (static, CGO_ENABLED=0) in TestMain, in one or
// two processes over one database, killed with SIGKILL or stopped with
// SIGTERM as the row says:
//
//	F1  code_test.go      one code redeemed concurrently over two nodes
//	F2  refresh_test.go   refresh token reuse over two nodes, maxReuse 0
//	F3  refresh_test.go   the same with maxReuse N
//	F4  restart_test.go   rotated refresh tokens after restart and kill -9
//	F5  crash_test.go     kill -9 under load loses nothing committed
//	F8  pgrestart_test.go PostgreSQL restarted under load (GATEHOUSE_TEST_PG_RESTART=1)
//	F9  session_test.go   session expiry with two nodes touching one session
//	F12 hygiene_test.go   no secret in any log line or database table
//	F13 input_test.go     1 MB inputs refused, memory flat
//	F17 startup_test.go   three nodes started together on an empty database
//
// F16, the storage conformance suite on both databases, is store's own
// test: internal/store/store_test.go runs storetest.Run on SQLite and on
// PostgreSQL.
//
// PostgreSQL cases use TEST_POSTGRES_URL (a fresh schema per test) and skip
// without it, or fail when GATEHOUSE_TEST_REQUIRE_ALL is set, like every
// other PostgreSQL test. Rate limiting is turned off on nodes that take
// load from this single test address, except where the test says otherwise.
package fault_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// binary is the gatehouse executable; managementFlag is set when it has a
// management listener, which each node then gets on its own port.
var (
	binary         string
	managementFlag bool
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-fault-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gatehouse")
	cmd := exec.Command("go", "build", "-o", binary, "github.com/gatehouse-iam/gatehouse/cmd/gatehouse")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	help, _ := exec.Command(binary, "start-dev", "--help").Output()
	managementFlag = bytes.Contains(help, []byte("--http-management-port"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The realm every test imports; the canaries must never appear in a log.
const (
	realmName   = "fault"
	clientID    = "app"
	clientPW    = "Canary-client-secret-7Yq2"
	username    = "alice"
	userPW      = "Canary-user-password-3Kx9"
	redirectURI = "http://localhost:3000/cb"
	// publicHost is every node's --hostname, so tokens carry one issuer
	// whichever node issued them; nodeClient dials the node itself.
	publicHost = "gatehouse.test"
)

// realmSettings are the realm options a test varies.
type realmSettings struct {
	revokeRefreshToken bool
	maxReuse           int
	ssoIdle, ssoMax    int // seconds; 0 keeps Keycloak's defaults
}

func realmJSON(s realmSettings) []byte {
	r := map[string]any{
		"realm": realmName, "enabled": true,
		"revokeRefreshToken": s.revokeRefreshToken, "refreshTokenMaxReuse": s.maxReuse,
		"clients": []any{map[string]any{
			"clientId": clientID, "secret": clientPW, "publicClient": false,
			"directAccessGrantsEnabled": true, "standardFlowEnabled": true,
			"redirectUris": []string{redirectURI},
		}},
		"users": []any{map[string]any{
			"username": username, "enabled": true,
			"credentials": []any{map[string]any{"type": "password", "value": userPW}},
		}},
	}
	if s.ssoIdle > 0 {
		r["ssoSessionIdleTimeout"] = s.ssoIdle
	}
	if s.ssoMax > 0 {
		r["ssoSessionMaxLifespan"] = s.ssoMax
	}
	b, _ := json.Marshal(r)
	return b
}

// backend is one database that server processes and the test share.
type backend struct {
	name    string
	dialect store.Dialect
	dsn     string
	args    []string // --db and --db-url
	db      *store.DB
}

// newBackend creates the database, imports the realm through the binary's
// own import command, and opens it for the test.
func newBackend(t *testing.T, kind store.Dialect, s realmSettings) *backend {
	t.Helper()
	b := &backend{name: string(kind), dialect: kind}
	switch kind {
	case store.SQLite:
		b.dsn = filepath.Join(t.TempDir(), "gatehouse.db")
	case store.Postgres:
		b.dsn = storetest.PostgresURL(t)
	}
	b.args = []string{"--db", string(kind), "--db-url", b.dsn}
	file := filepath.Join(t.TempDir(), "realm.json")
	if err := os.WriteFile(file, realmJSON(s), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, append([]string{"import", "--file", file}, b.args...)...)
	cmd.Env = cleanEnv()
	cmd.Dir = t.TempDir()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gatehouse import: %v\n%s", err, out)
	}
	db, err := store.Open(context.Background(), kind, b.dsn)
	if err != nil {
		t.Fatalf("open %s: %v", kind, err)
	}
	t.Cleanup(func() { db.Close() })
	b.db = db
	return b
}

// sqlDB opens the database with database/sql, for the table scans of F12.
func (b *backend) sqlDB(t *testing.T) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", b.dsn
	if b.dialect == store.SQLite {
		driver, dsn = "sqlite", "file:"+b.dsn+"?mode=ro&_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// cleanEnv is the environment without the developer's GATEHOUSE_ and KC_
// variables, so a node sees only the options a test gives it.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GATEHOUSE_") || strings.HasPrefix(kv, "KC_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// syncBuffer collects a process's stderr while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// node is one gatehouse server process, restartable on the same port.
type node struct {
	t      *testing.T
	name   string
	args   []string
	port   int
	mgmt   int
	client *http.Client
	logs   *syncBuffer // stderr of every run of this node

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	readyIn time.Duration // from exec to the first 200 of /health/ready
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startNode starts a node on b and waits until it is ready. extra options
// follow the defaults, so a test can override them (--rate-limit true).
func startNode(t *testing.T, name string, b *backend, extra ...string) *node {
	t.Helper()
	n := newNode(t, name, b, extra...)
	n.start(t)
	return n
}

// newNode prepares a node on b without starting it.
func newNode(t *testing.T, name string, b *backend, extra ...string) *node {
	t.Helper()
	n := &node{t: t, name: name, port: freePort(t), logs: &syncBuffer{}}
	n.args = append([]string{"start-dev", "--http-port", strconv.Itoa(n.port), "--hostname", "http://" + publicHost,
		"--rate-limit", "false"}, b.args...)
	if managementFlag {
		n.mgmt = freePort(t)
		n.args = append(n.args, "--http-management-port", strconv.Itoa(n.mgmt))
	}
	n.args = append(n.args, extra...)
	addr := "127.0.0.1:" + strconv.Itoa(n.port)
	n.client = &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, addr)
			},
			MaxIdleConnsPerHost: 64,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			t.Logf("node %s stderr:\n%s", n.name, n.logs)
		}
	})
	return n
}

// start runs the process and waits for readiness, recording how long it took.
func (n *node) start(t *testing.T) {
	t.Helper()
	n.waitReady(t, n.launch(t))
}

// launch runs the process and returns when it started.
func (n *node) launch(t *testing.T) time.Time {
	t.Helper()
	n.client.CloseIdleConnections() // connections to a previous run are dead
	cmd := exec.Command(binary, n.args...)
	cmd.Env = cleanEnv()
	cmd.Dir = t.TempDir()
	cmd.Stdout, cmd.Stderr = io.Discard, n.logs
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	n.mu.Lock()
	n.cmd, n.done = cmd, done
	n.mu.Unlock()
	return began
}

// waitReady waits until the process launched at began answers ready.
func (n *node) waitReady(t *testing.T, began time.Time) {
	t.Helper()
	n.mu.Lock()
	done := n.done
	n.mu.Unlock()
	probe := &http.Client{Timeout: time.Second}
	ready := "http://127.0.0.1:" + strconv.Itoa(n.port) + "/health/ready"
	deadline := began.Add(30 * time.Second)
	for {
		select {
		case <-done:
			t.Fatalf("node %s exited before it was ready:\n%s", n.name, n.logs)
		default:
		}
		if res, err := probe.Get(ready); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				n.readyIn = time.Since(began)
				return
			}
			if res.StatusCode == http.StatusNotFound && n.mgmt != 0 {
				// Health checks live on the management port only.
				ready = "http://127.0.0.1:" + strconv.Itoa(n.mgmt) + "/health/ready"
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s not ready after 30s:\n%s", n.name, n.logs)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// kill sends SIGKILL, as a crash or an OOM kill would, and waits for exit.
func (n *node) kill() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	cmd.Process.Kill()
	<-done
}

// stop sends SIGTERM and expects a clean exit.
func (n *node) stop(t *testing.T) {
	t.Helper()
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("node %s still running 30s after SIGTERM", n.name)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("node %s exit code after SIGTERM = %d", n.name, code)
	}
}

func (n *node) pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd.Process.Pid
}

// reply is one HTTP answer; err is set when there was none.
type reply struct {
	status int
	body   map[string]any
	raw    []byte
	header http.Header
	err    error
}

func (r reply) str(k string) string { s, _ := r.body[k].(string); return s }

func (r reply) String() string {
	if r.err != nil {
		return r.err.Error()
	}
	return fmt.Sprintf("%d %.200s", r.status, r.raw)
}

const realmPath = "/realms/" + realmName + "/protocol/openid-connect/"

func (n *node) do(req *http.Request) reply {
	res, err := n.client.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{err: err}
	}
	r := reply{status: res.StatusCode, raw: b, header: res.Header}
	json.Unmarshal(b, &r.body)
	return r
}

// post sends a form to a realm endpoint as the confidential client.
func (n *node) post(endpoint string, form url.Values) reply {
	req, _ := http.NewRequest(http.MethodPost, "http://"+publicHost+realmPath+endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, clientPW)
	return n.do(req)
}

func (n *node) redeem(code string) reply {
	return n.post("token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}})
}

func (n *node) refresh(rt string) reply {
	return n.post("token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

func (n *node) password() reply {
	return n.post("token", url.Values{"grant_type": {"password"}, "username": {username}, "password": {userPW}, "scope": {"openid"}})
}

func (n *node) revoke(rt string) reply {
	return n.post("revoke", url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}})
}

func (n *node) userinfo(at string) reply {
	req, _ := http.NewRequest(http.MethodGet, "http://"+publicHost+realmPath+"userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	return n.do(req)
}

// fixture holds the ids of the imported realm, client and user, to create
// sessions and codes through the store as the login front channel does.
type fixture struct {
	db                        *store.DB
	realmID, clientID, userID string
}

func loadFixture(t *testing.T, db *store.DB) fixture {
	t.Helper()
	ctx := context.Background()
	rl, err := db.GetRealmByName(ctx, realmName)
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.GetClientByClientID(ctx, rl.ID, clientID)
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.GetUserByUsername(ctx, rl.ID, username)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{db: db, realmID: rl.ID, clientID: c.ID, userID: u.ID}
}

// newCodes stores n authorization codes, each with its own user and client
// session, as package login does after a login, in one transaction. The
// codes carry no PKCE challenge and live ten minutes.
func (f fixture) newCodes(t *testing.T, n int) []string {
	t.Helper()
	ctx := context.Background()
	now := time.Now().Unix()
	codes := make([]string, n)
	err := f.db.InTx(ctx, func(tx *store.DB) error {
		for i := range codes {
			us := session.UserSession{ID: store.NewID(), RealmID: f.realmID, UserID: f.userID, Started: now,
				LastRefresh: now, AuthTime: now, AuthMethod: "openid-connect"}
			cs := session.ClientSession{ID: store.NewID(), UserSessionID: us.ID, ClientID: f.clientID, Started: now,
				Timestamp: now, Scope: "openid"}
			if err := tx.CreateUserSession(ctx, us); err != nil {
				return err
			}
			if err := tx.CreateClientSession(ctx, cs); err != nil {
				return err
			}
			data, _ := json.Marshal(map[string]any{"redirect_uri": redirectURI, "scope": "openid",
				"client_session_id": cs.ID, "auth_time": now, "acr": "1"})
			codes[i] = "fault-" + store.NewID()
			if err := tx.CreateAuthCode(ctx, codes[i], store.AuthCode{RealmID: f.realmID, ClientID: f.clientID,
				UserSessionID: us.ID, Data: string(data), ExpiresAt: now + 600}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("create codes: %v", err)
	}
	return codes
}

// refreshToken is a fresh refresh token of a new session, got by redeeming
// a stored code on n.
func (f fixture) refreshToken(t *testing.T, n *node) string {
	t.Helper()
	r := n.redeem(f.newCodes(t, 1)[0])
	if r.status != http.StatusOK || r.str("refresh_token") == "" {
		t.Fatalf("redeem a code: %v", r)
	}
	return r.str("refresh_token")
}

// race sends n requests at once, the i-th through do(i), and returns the
// replies in order.
func race(n int, do func(i int) reply) []reply {
	out := make([]reply, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = do(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// pkce returns a verifier and its S256 challenge.
func pkce(seed string) (verifier, challenge string) {
	sum := sha256.Sum256([]byte(seed))
	verifier = base64.RawURLEncoding.EncodeToString(sum[:]) + "-verifier-canary"
	c := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(c[:])
}

// forBackends runs fn on SQLite, then on PostgreSQL when configured.
func forBackends(t *testing.T, fn func(t *testing.T, kind store.Dialect)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, store.SQLite) })
	t.Run("postgres", func(t *testing.T) {
		requirePostgres(t)
		fn(t, store.Postgres)
	})
}

// requirePostgres skips a test without TEST_POSTGRES_URL, or fails it when
// GATEHOUSE_TEST_REQUIRE_ALL is set (CI), as storetest.PostgresURL does.
func requirePostgres(t *testing.T) {
	t.Helper()
	if os.Getenv("TEST_POSTGRES_URL") == "" {
		if os.Getenv(storetest.RequireEnv) != "" {
			t.Fatalf("TEST_POSTGRES_URL is not set and %s requires the PostgreSQL fault tests", storetest.RequireEnv)
		}
		t.Skip("TEST_POSTGRES_URL is not set; skipping the PostgreSQL fault test")
	}
}

// payload decodes a token's claims without verifying it.
func payload(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Errorf("not a JWS: %.40q", tok)
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Errorf("token payload: %v", err)
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Errorf("token payload: %v", err)
	}
	return m
}
