package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// The management port serves the probes and the metrics, and the health
// command reads it: exit 0 while the server is ready, 1 once it is gone, 2
// for a bad option.
func TestManagementPortAndHealthCommand(t *testing.T) {
	port, mgmt := freePort(t), freePort(t)
	r := startServer(t, port, nil, "start-dev", "--http-port", strconv.Itoa(port), "--data-dir", t.TempDir(),
		"--http-management-port", strconv.Itoa(mgmt))
	for path, want := range map[string]string{
		"/health/live":    `{"status":"UP","checks":[]}`,
		"/health/started": `{"status":"UP","checks":[{"name":"Gatehouse started","status":"UP"}]}`,
		"/health/ready":   `{"status":"UP","checks":[{"name":"Gatehouse database connections health check","status":"UP"}]}`,
		"/health":         `{"status":"UP","checks":[{"name":"Gatehouse database connections health check","status":"UP"}]}`,
	} {
		if status, body := httpGet(t, r.mgmt+path); status != http.StatusOK || string(body) != want {
			t.Errorf("GET management %s: %d %s, want 200 %s", path, status, body, want)
		}
	}
	httpGet(t, r.base+"/realms/master")
	status, body := httpGet(t, r.mgmt+"/metrics")
	for _, want := range []string{`gatehouse_build_info{version="dev"} 1`, `uri="/realms/{realm}"`,
		`go_sql_open_connections{db_name="gatehouse"}`, `gatehouse_active_sessions{realm="master"} 0`, "go_goroutines"} {
		if status != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET management /metrics: %d, lacks %s", status, want)
		}
	}
	if status, _ := httpGet(t, r.base+"/metrics"); status != http.StatusNotFound {
		t.Errorf("GET /metrics on the public port: %d, want 404", status)
	}
	if !strings.Contains(r.stderr.String(), "management=http://127.0.0.1:"+strconv.Itoa(mgmt)) {
		t.Errorf("the ready line does not name the management listener:\n%s", r.stderr)
	}

	health := func(env []string, args ...string) result {
		t.Helper()
		return gatehouse(t, env, append([]string{"health"}, args...)...)
	}
	if res := health(nil, "--http-management-port", strconv.Itoa(mgmt)); res.code != 0 || !strings.Contains(res.stdout, `"status":"UP"`) {
		t.Errorf("health while ready: code %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	if res := health([]string{"GATEHOUSE_HTTP_MANAGEMENT_PORT=" + strconv.Itoa(mgmt)}); res.code != 0 {
		t.Errorf("health with the port from the environment: code %d, stderr %q", res.code, res.stderr)
	}
	if res := health(nil, "--http-management-port=abc"); res.code != 2 || !strings.HasPrefix(res.stderr, "gatehouse: ") {
		t.Errorf("health with a bad port: code %d, stderr %q", res.code, res.stderr)
	}
	if res := health(nil, "--nope"); res.code != 2 {
		t.Errorf("health with an unknown option: code %d, stderr %q", res.code, res.stderr)
	}
	r.stop(t)
	if res := health(nil, "--http-management-port", strconv.Itoa(mgmt)); res.code != 1 || res.stderr == "" {
		t.Errorf("health with the server gone: code %d, stderr %q", res.code, res.stderr)
	}

	t.Run("metrics can be turned off", func(t *testing.T) {
		port := freePort(t)
		r := startServer(t, port, nil, "start-dev", "--http-port", strconv.Itoa(port), "--data-dir", t.TempDir(),
			"--metrics-enabled", "false")
		if status, _ := httpGet(t, r.mgmt+"/metrics"); status != http.StatusNotFound {
			t.Errorf("GET /metrics with metrics off: %d", status)
		}
		if status, _ := httpGet(t, r.mgmt+"/health/ready"); status != http.StatusOK {
			t.Errorf("GET /health/ready with metrics off: %d", status)
		}
		r.stop(t)
	})
	t.Run("a management port in use stops the start", func(t *testing.T) {
		taken, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer taken.Close()
		port := freePort(t)
		res := gatehouse(t, nil, "start-dev", "--http-port", strconv.Itoa(port), "--data-dir", t.TempDir(),
			"--http-management-port", strconv.Itoa(taken.Addr().(*net.TCPAddr).Port))
		if res.code != 1 || !strings.Contains(res.stderr, "management port") {
			t.Errorf("code %d, stderr %s", res.code, res.stderr)
		}
	})
}

// outcome of one request of the load below.
type outcome struct {
	kind      string // "realm" or "token"
	status    int    // 0 when no response arrived
	err       error  // before the response (connection refused, reset)
	truncated error  // after the headers: the body was cut short
	refresh   string // a token response's refresh token
	afterTerm bool   // the request completed after SIGTERM was sent
}

// SIGTERM in the middle of a stream of requests: every request either
// completes with its whole body or never gets a response, none is cut off,
// and every refresh token answered with 200 still works after a restart.
func TestSIGTERMUnderLoad(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { sigtermUnderLoad(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		sigtermUnderLoad(t, []string{"--db", "postgres", "--db-url", storetest.PostgresURL(t)})
	})
}

func sigtermUnderLoad(t *testing.T, db []string) {
	data := t.TempDir()
	const password = "Pw-load-7c"
	args := func(port int) []string {
		return append([]string{"start-dev", "--http-port", strconv.Itoa(port), "--data-dir", data,
			"--bootstrap-admin-password", password, "--rate-limit", "false"}, db...)
	}
	port := freePort(t)
	first := startServer(t, port, nil, args(port)...)
	tokenURL := first.base + "/realms/master/protocol/openid-connect/token"
	form := url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {"admin"}, "password": {password}}

	var (
		mu       sync.Mutex
		results  []outcome
		stop     atomic.Bool
		termSent atomic.Bool
		tokens   atomic.Int64
		wg       sync.WaitGroup
	)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	one := func(kind string) outcome {
		var (
			res *http.Response
			err error
		)
		if kind == "token" {
			res, err = client.PostForm(tokenURL, form)
		} else {
			res, err = client.Get(first.base + "/realms/master")
		}
		o := outcome{kind: kind}
		if err != nil {
			o.err, o.afterTerm = err, termSent.Load()
			return o
		}
		defer res.Body.Close()
		o.status = res.StatusCode
		body, err := io.ReadAll(res.Body)
		o.afterTerm = termSent.Load()
		if err != nil {
			o.truncated = err
			return o
		}
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			o.truncated = fmt.Errorf("body is not whole JSON (%d bytes, Content-Length %d): %v", len(body), res.ContentLength, err)
			return o
		}
		if kind == "token" && o.status == http.StatusOK {
			o.refresh, _ = doc["refresh_token"].(string)
			if o.refresh == "" {
				o.truncated = errors.New("a 200 token response without refresh_token")
			}
			tokens.Add(1)
		}
		return o
	}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				kind := "token"
				if (i+w)%2 == 0 {
					kind = "realm"
				}
				o := one(kind)
				mu.Lock()
				results = append(results, o)
				mu.Unlock()
				if o.err != nil {
					time.Sleep(time.Millisecond) // the server is gone; no need to spin
				}
			}
		}()
	}

	deadline := time.Now().Add(20 * time.Second)
	for tokens.Load() < 40 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	termSent.Store(true)
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-first.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after SIGTERM:\n%s", first.stderr)
	}
	time.Sleep(100 * time.Millisecond) // requests after the exit are refused
	stop.Store(true)
	wg.Wait()
	if code := first.cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(first.stderr.String(), "msg=stopped") {
		t.Fatalf("exit code %d after SIGTERM under load:\n%s", code, first.stderr)
	}

	var refresh []string
	counts := map[string]int{}
	for _, o := range results {
		switch {
		case o.truncated != nil:
			t.Errorf("%s request got status %d and then a cut body: %v", o.kind, o.status, o.truncated)
		case o.err != nil && !o.afterTerm:
			t.Errorf("%s request failed before SIGTERM: %v", o.kind, o.err)
		case o.err != nil:
			counts["no response"]++
		case o.status == http.StatusOK:
			counts[o.kind+" 200"]++
			if o.afterTerm {
				counts["200 after SIGTERM"]++
			}
			if o.refresh != "" {
				refresh = append(refresh, o.refresh)
			}
		default:
			counts[fmt.Sprintf("%s %d", o.kind, o.status)]++
		}
	}
	t.Logf("%d requests: %v", len(results), counts)
	if counts["token 200"] < 40 || counts["realm 200"] == 0 || counts["no response"] == 0 {
		t.Fatalf("the load did not span the shutdown: %v", counts)
	}
	for k, n := range counts {
		if k != "no response" && !strings.HasSuffix(k, " 200") && k != "200 after SIGTERM" {
			t.Errorf("%d requests answered %s", n, k)
		}
	}

	// Every token that was answered 200 is backed by a stored session. The
	// restart keeps the port, since the port is part of the tokens' issuer.
	second := startServer(t, port, nil, args(port)...)
	tokenURL = second.base + "/realms/master/protocol/openid-connect/token"
	failed := 0
	for _, rt := range refresh {
		res, err := http.PostForm(tokenURL, url.Values{"grant_type": {"refresh_token"}, "client_id": {"admin-cli"}, "refresh_token": {rt}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			failed++
			if failed < 4 {
				t.Errorf("refresh after restart: %d %s", res.StatusCode, body)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d refresh tokens answered 200 before the restart no longer work", failed, len(refresh))
	}
	second.stop(t)
}

// import --mode reconcile prints the plan and applies it; run twice, the
// second plan is empty; --dry-run writes nothing; --prune removes what the
// file dropped but never a built-in client; --import-mode reconcile applies
// files at start.
func TestImportReconcile(t *testing.T) {
	data := t.TempDir()
	file := filepath.Join(t.TempDir(), "shop.json")
	write := func(doc string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	reconcile := func(extra ...string) result {
		t.Helper()
		r := gatehouse(t, nil, append([]string{"import", "--data-dir", data, "--file", file, "--mode", "reconcile"}, extra...)...)
		if r.code != 0 {
			t.Fatalf("import --mode reconcile %v: code %d\n%s", extra, r.code, r.stderr)
		}
		return r
	}
	exportRealm := func() []byte {
		t.Helper()
		out := filepath.Join(t.TempDir(), "out.json")
		if r := gatehouse(t, nil, "export", "--data-dir", data, "--realm", "shop", "--file", out); r.code != 0 {
			t.Fatalf("export: %s", r.stderr)
		}
		b, _ := os.ReadFile(out)
		return b
	}

	write(`{"realm": "shop", "enabled": true, "clients": [{"clientId": "web", "publicClient": true}, {"clientId": "old", "publicClient": true}]}`)
	want := fmt.Sprintf("realm \"shop\" (%s): 3 changes\n  create realm \"shop\"\n  create client \"old\"\n  create client \"web\"\n", file)
	if r := reconcile(); r.stdout != want {
		t.Errorf("first plan:\n%s\nwant:\n%s", r.stdout, want)
	}
	if r := reconcile(); r.stdout != fmt.Sprintf("realm \"shop\" (%s): no changes\n", file) {
		t.Errorf("second plan: %q", r.stdout)
	}

	write(`{"realm": "shop", "enabled": true, "accessTokenLifespan": 120, "clients": [{"clientId": "web", "publicClient": true}]}`)
	before := exportRealm()
	want = fmt.Sprintf("realm \"shop\" (%s): 2 changes, dry run: nothing written\n  update realm \"shop\": accessTokenLifespan\n  delete client \"old\"\n", file)
	if r := reconcile("--prune", "--dry-run"); r.stdout != want {
		t.Errorf("dry run plan:\n%s\nwant:\n%s", r.stdout, want)
	}
	if after := exportRealm(); string(before) != string(after) {
		t.Error("--dry-run changed the realm")
	}
	want = fmt.Sprintf("realm \"shop\" (%s): 2 changes\n  update realm \"shop\": accessTokenLifespan\n  delete client \"old\"\n", file)
	if r := reconcile("--prune"); r.stdout != want {
		t.Errorf("prune plan:\n%s\nwant:\n%s", r.stdout, want)
	}
	after := string(exportRealm())
	for _, builtin := range []string{`"clientId": "account"`, `"clientId": "admin-cli"`, `"clientId": "realm-management"`, `"clientId": "web"`} {
		if !strings.Contains(after, builtin) {
			t.Errorf("after --prune the realm lacks %s", builtin)
		}
	}
	if strings.Contains(after, `"clientId": "old"`) {
		t.Error("--prune kept the client the file dropped")
	}

	t.Run("option errors", func(t *testing.T) {
		r := gatehouse(t, nil, "import", "--data-dir", data, "--file", file, "--prune")
		if r.code != 2 || !strings.Contains(r.stderr, "--mode reconcile") {
			t.Errorf("--prune without reconcile: code %d, %s", r.code, r.stderr)
		}
	})

	t.Run("import-realm at start reconciles with --import-mode reconcile", func(t *testing.T) {
		dir := filepath.Join(data, "import")
		os.MkdirAll(dir, 0o700)
		os.WriteFile(filepath.Join(dir, "shop.json"), []byte(`{"realm": "shop", "accessTokenLifespan": 240, "clients": [{"clientId": "web", "publicClient": true}, {"clientId": "new", "publicClient": true}]}`), 0o600)
		port := freePort(t)
		r := startServer(t, port, nil, "start-dev", "--http-port", strconv.Itoa(port), "--data-dir", data,
			"--import-realm", "--import-mode", "reconcile")
		r.stop(t)
		log := r.stderr.String()
		for _, want := range []string{`change="update realm \"shop\": accessTokenLifespan"`, `change="create client \"new\""`, "msg=\"reconciled realm\""} {
			if !strings.Contains(log, want) {
				t.Errorf("start log lacks %s:\n%s", want, log)
			}
		}
		if !strings.Contains(string(exportRealm()), `"accessTokenLifespan": 240`) {
			t.Error("the realm was not reconciled at start")
		}
	})
}

// A line per request is an option, --http-access-log-enabled, off by
// default as Keycloak's access log is. When on, each request gets one line
// naming the route pattern, never the raw path or query, and the lines
// buffered at SIGTERM are written before the process exits.
func TestAccessLogOption(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { accessLogOption(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		accessLogOption(t, []string{"--db", "postgres", "--db-url", storetest.PostgresURL(t)})
	})
}

func accessLogOption(t *testing.T, db []string) {
	const canary = "access-log-canary-5b1e"
	data := t.TempDir()
	serve := func(extra ...string) string {
		port := freePort(t)
		args := append([]string{"start-dev", "--http-port", strconv.Itoa(port), "--data-dir", data}, db...)
		r := startServer(t, port, nil, append(args, extra...)...)
		if status, body := httpGet(t, r.base+"/realms/master?code="+canary); status != http.StatusOK {
			t.Fatalf("GET /realms/master: %d %s", status, body)
		}
		if status, _ := httpGet(t, r.base+"/realms/"+canary+"/no-such-thing"); status != http.StatusNotFound {
			t.Fatalf("GET an unknown path: %d, want 404", status)
		}
		r.stop(t)
		return r.stderr.String()
	}

	t.Run("off by default", func(t *testing.T) {
		if logs := serve(); strings.Contains(logs, "msg=request") {
			t.Errorf("a request was logged without --http-access-log-enabled:\n%s", logs)
		}
	})
	t.Run("on when set", func(t *testing.T) {
		logs := serve("--http-access-log-enabled", "true")
		for _, want := range []string{
			`msg=request method=GET route="GET /realms/{realm}" status=200`,
			`msg=request method=GET route=unmatched status=404`,
		} {
			if !strings.Contains(logs, want) {
				t.Errorf("no line %q in the log:\n%s", want, logs)
			}
		}
		if !strings.Contains(logs, "realm=master") {
			t.Errorf("the request line does not name the realm:\n%s", logs)
		}
		if strings.Contains(logs, canary) {
			t.Errorf("the access log holds the raw path or query:\n%s", logs)
		}
	})
}
