package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"log/slog"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// binary is the gatehouse executable built once for every test, the way
// users run it: static, without cgo.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gatehouse")
	if err := build(binary); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func build(out string, extra ...string) error {
	args := append([]string{"build", "-o", out}, extra...)
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, b)
	}
	return nil
}

// cleanEnv is the environment without any GATEHOUSE_ or KC_ variable of the
// developer's shell, so tests see only the options they set.
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

type result struct {
	code           int
	stdout, stderr string
}

// gatehouse runs a command that is expected to finish on its own.
func gatehouse(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = cleanEnv(env...)
	cmd.Dir = t.TempDir() // the default ./data must never land in the source tree
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run gatehouse %v: %v", args, err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// syncBuffer collects a running process's stderr while the test reads it.
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

type running struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	base   string // http://127.0.0.1:<port>
	mgmt   string // http://127.0.0.1:<management port>
	done   chan struct{}
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

// startServer starts a server command listening on port and waits until
// /health/ready answers 200. Unless args or env choose a management port, a
// free one is added, so servers never contend for the default 9000. The
// process is killed when the test ends if it is still running.
func startServer(t *testing.T, port int, env []string, args ...string) *running {
	t.Helper()
	mgmtPort := ""
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--http-management-port="); ok {
			mgmtPort = v
		} else if a == "--http-management-port" && i+1 < len(args) {
			mgmtPort = args[i+1]
		}
	}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GATEHOUSE_HTTP_MANAGEMENT_PORT="); ok {
			mgmtPort = v
		}
	}
	if mgmtPort == "" {
		for mgmtPort == "" || mgmtPort == strconv.Itoa(port) {
			mgmtPort = strconv.Itoa(freePort(t))
		}
		args = append(slices.Clone(args), "--http-management-port", mgmtPort)
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = cleanEnv(env...)
	cmd.Dir = t.TempDir()
	r := &running{cmd: cmd, stderr: &syncBuffer{}, base: "http://127.0.0.1:" + strconv.Itoa(port),
		mgmt: "http://127.0.0.1:" + mgmtPort, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = io.Discard, r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			cmd.Process.Kill()
			<-r.done
		}
		t.Logf("gatehouse %v stderr:\n%s", args, r.stderr)
	})

	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-r.done:
			t.Fatalf("gatehouse exited before it was ready (code %d):\n%s", cmd.ProcessState.ExitCode(), r.stderr)
		default:
		}
		// Ready on both ports: the management port takes the store a moment
		// after the main one serves, and answers 503 until then.
		if readyAt(r.base) && readyAt(r.mgmt) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("gatehouse not ready after 20s:\n%s", r.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readyAt reports whether the server at base answers /health/ready with 200.
func readyAt(base string) bool {
	res, err := http.Get(base + "/health/ready")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// stop sends SIGTERM and expects a clean exit within a few seconds.
func (r *running) stop(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("gatehouse still running 10s after SIGTERM:\n%s", r.stderr)
	}
	if code := r.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0:\n%s", code, r.stderr)
	}
	if !strings.Contains(r.stderr.String(), "msg=stopped") {
		t.Errorf("no \"stopped\" line after SIGTERM:\n%s", r.stderr)
	}
}

func httpGet(t *testing.T, u string) (int, []byte) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

// publicKey fetches the realm document and parses its public_key.
func publicKey(t *testing.T, u string) *rsa.PublicKey {
	t.Helper()
	status, body := httpGet(t, u)
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d, body %s", u, status, body)
	}
	var doc struct {
		PublicKey string `json:"public_key"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	der, err := base64.StdEncoding.DecodeString(doc.PublicKey)
	if err != nil {
		t.Fatalf("public_key is not base64: %v", err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatalf("public_key does not parse: %v", err)
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		t.Fatalf("public_key is a %T", pub)
	}
	return rsaPub
}

func TestVersion(t *testing.T) {
	r := gatehouse(t, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "gatehouse dev (Keycloak 26.") {
		t.Errorf("version: code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	t.Run("version is set by the linker", func(t *testing.T) {
		bin := filepath.Join(t.TempDir(), "gatehouse")
		if err := build(bin, "-ldflags", "-X main.version=1.2.3"); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "version").Output()
		if err != nil || !strings.HasPrefix(string(out), "gatehouse 1.2.3 (Keycloak 26.") {
			t.Errorf("version: %q, %v", out, err)
		}
	})

	// A release image is built from the Dockerfile; it must never report
	// "dev", so the build refuses to run without a version.
	t.Run("the Dockerfile needs a version", func(t *testing.T) {
		b, err := os.ReadFile("../../Dockerfile")
		if err != nil {
			t.Fatal(err)
		}
		df := string(b)
		if strings.Contains(df, "ARG VERSION=") || !strings.Contains(df, `test -n "${VERSION}"`) ||
			!strings.Contains(df, "-X main.version=${VERSION}") {
			t.Errorf("the Dockerfile builds without a version (ARG VERSION with a default, or no check)")
		}
	})
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name     string
		env      []string
		args     []string
		wantCode int
		want     string // in the single stderr line
	}{
		{name: "bad port value", args: []string{"start", "--http-port", "abc"}, wantCode: 2, want: "--http-port"},
		{name: "start without anything", args: []string{"start"}, wantCode: 2, want: "--hostname"},
		{name: "production start without hostname", args: []string{"start", "--db", "sqlite", "--http-enabled", "true"}, wantCode: 2, want: "--hostname"},
		{name: "bad port from the environment", env: []string{"GATEHOUSE_HTTP_PORT=abc"}, args: []string{"start-dev"}, wantCode: 2, want: "GATEHOUSE_HTTP_PORT"},
		{name: "unknown option", args: []string{"start-dev", "--http-prot", "80"}, wantCode: 2, want: "--http-prot"},
		{name: "unknown command", args: []string{"serve"}, wantCode: 2, want: `"serve"`},
		{name: "import needs a file or a directory", args: []string{"import"}, wantCode: 2, want: "--file or --dir"},
		{name: "export of one file needs a realm", args: []string{"export", "--file", "x.json"}, wantCode: 2, want: "--realm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gatehouse(t, tt.env, tt.args...)
			if r.code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr %q", r.code, tt.wantCode, r.stderr)
			}
			line := strings.TrimSuffix(r.stderr, "\n")
			if strings.Contains(line, "\n") || !strings.HasPrefix(line, "gatehouse: ") || !strings.Contains(line, tt.want) {
				t.Errorf("stderr = %q, want one line \"gatehouse: ...\" naming %s", r.stderr, tt.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	r := gatehouse(t, nil, "start-dev", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "--http-port") {
		t.Errorf("start-dev --help: code %d, stdout %q", r.code, r.stdout)
	}
	r = gatehouse(t, nil)
	if r.code != 2 || !strings.Contains(r.stderr, "start-dev") {
		t.Errorf("no command: code %d, stderr %q", r.code, r.stderr)
	}
}

// The whole life of a development server: first start creates the master
// realm, its keys and the bootstrap admin; SIGTERM stops it cleanly; a
// restart on the same data keeps the keys.
func TestStartDevRestartKeepsKeys(t *testing.T) {
	data := t.TempDir()
	const password = "Pw-9fQ2-must-not-be-logged"
	args := func(port int) []string {
		return []string{"start-dev", "--http-port", strconv.Itoa(port), "--data-dir", data,
			"--bootstrap-admin-password", password, "--log-level", "debug"}
	}

	port := freePort(t)
	first := startServer(t, port, nil, args(port)...)
	key1 := publicKey(t, first.base+"/realms/master")
	first.stop(t)

	port = freePort(t)
	second := startServer(t, port, nil, args(port)...)
	key2 := publicKey(t, second.base+"/realms/master")
	second.stop(t)

	if !key1.Equal(key2) {
		t.Error("the realm key changed across a restart on the same data directory")
	}
	for i, out := range []string{first.stderr.String(), second.stderr.String()} {
		if strings.Contains(out, password) {
			t.Errorf("run %d logged the bootstrap password:\n%s", i+1, out)
		}
		if !strings.Contains(out, "msg=ready") || !strings.Contains(out, "startup_ms=") {
			t.Errorf("run %d logged no ready line with the startup time:\n%s", i+1, out)
		}
	}
	if !strings.Contains(first.stderr.String(), "bootstrap admin user") {
		t.Errorf("first run did not report the bootstrap admin:\n%s", first.stderr)
	}
	if strings.Contains(second.stderr.String(), "bootstrap admin user") {
		t.Errorf("second run created the bootstrap admin again:\n%s", second.stderr)
	}
}

func TestPortFromEnvironment(t *testing.T) {
	port := freePort(t)
	r := startServer(t, port, []string{"GATEHOUSE_HTTP_PORT=" + strconv.Itoa(port), "GATEHOUSE_DATA_DIR=" + t.TempDir()}, "start-dev")
	if status, body := httpGet(t, r.base+"/realms/master"); status != http.StatusOK {
		t.Errorf("GET /realms/master: %d %s", status, body)
	}
	r.stop(t)
}

func TestRelativePath(t *testing.T) {
	port := freePort(t)
	r := startServer(t, port, nil, "start-dev", "--http-port", strconv.Itoa(port), "--data-dir", t.TempDir(),
		"--http-relative-path", "/auth")
	publicKey(t, r.base+"/auth/realms/master")
	if status, _ := httpGet(t, r.base+"/realms/master"); status != http.StatusNotFound {
		t.Errorf("GET /realms/master with --http-relative-path /auth: status %d, want 404", status)
	}
	r.stop(t)
	// Without a bootstrap password nobody can administer the server; say so once.
	if n := strings.Count(r.stderr.String(), "master realm has no user"); n != 1 {
		t.Errorf("warned %d times about the missing admin, want once:\n%s", n, r.stderr)
	}
}

// Realms move between databases as Keycloak realm JSON: export writes
// <realm>-realm.json, import refuses to replace a realm unless told to, and
// --import-realm at start imports only what is missing.
func TestImportExport(t *testing.T) {
	src, dst, out := t.TempDir(), t.TempDir(), t.TempDir()
	realmFile := filepath.Join(t.TempDir(), "demo.json")
	if err := os.WriteFile(realmFile, []byte(`{"realm":"demo","enabled":true}`), 0o600); err != nil {
		t.Fatal(err)
	}

	mustRun := func(args ...string) result {
		t.Helper()
		r := gatehouse(t, nil, args...)
		if r.code != 0 {
			t.Fatalf("gatehouse %v: code %d\n%s", args, r.code, r.stderr)
		}
		return r
	}
	mustRun("import", "--data-dir", src, "--file", realmFile)

	t.Run("importing an existing realm fails without --override", func(t *testing.T) {
		r := gatehouse(t, nil, "import", "--data-dir", src, "--file", realmFile)
		if r.code != 1 || !strings.Contains(r.stderr, `realm "demo" already exists`) {
			t.Errorf("code %d, stderr %q", r.code, r.stderr)
		}
		mustRun("import", "--data-dir", src, "--file", realmFile, "--override")
	})

	mustRun("export", "--data-dir", src, "--dir", out)
	first, err := os.ReadFile(filepath.Join(out, "demo-realm.json"))
	if err != nil {
		t.Fatalf("export --dir did not write demo-realm.json: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(out, "demo-realm.json")); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode = %v, want 0600 (it holds password hashes and private keys)", fi.Mode().Perm())
	}

	// Into an empty database and out again: the same document.
	mustRun("import", "--data-dir", dst, "--dir", out)
	again := filepath.Join(t.TempDir(), "demo.json")
	mustRun("export", "--data-dir", dst, "--realm", "demo", "--file", again)
	second, err := os.ReadFile(again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Errorf("export → import → export changed the document:\n%s\nvs\n%s", first, second)
	}

	t.Run("export of an unknown realm fails", func(t *testing.T) {
		r := gatehouse(t, nil, "export", "--data-dir", dst, "--realm", "nope", "--file", filepath.Join(t.TempDir(), "x.json"))
		if r.code != 1 || !strings.Contains(r.stderr, `realm "nope" does not exist`) {
			t.Errorf("code %d, stderr %q", r.code, r.stderr)
		}
	})

	t.Run("import-realm at start imports what is missing", func(t *testing.T) {
		data := t.TempDir()
		importDir := filepath.Join(data, "import")
		if err := os.MkdirAll(importDir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(importDir, "demo-realm.json"), first, 0o600); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second start finds the realm and skips it
			port := freePort(t)
			r := startServer(t, port, nil, "start-dev", "--http-port", strconv.Itoa(port), "--data-dir", data, "--import-realm")
			publicKey(t, r.base+"/realms/demo")
			r.stop(t)
		}
	})
}

// gatehouse import and --import-realm import every realm of a file holding
// several, and say in a warning line each member of the file that is not
// stored, by JSON path.
func TestImportReportsWhatIsNotStored(t *testing.T) {
	file, err := filepath.Abs("../../test/exports/testdata/keycloak__keycloak__migration-realm-4.8.3.json")
	if err != nil {
		t.Fatal(err)
	}
	r := gatehouse(t, nil, "import", "--data-dir", t.TempDir(), "--file", file)
	if r.code != 0 {
		t.Fatalf("import: code %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		`msg="imported realm" realm=Migration file=`,
		`level=WARN msg="not imported" realm=Migration2 file=` + file + ` path=$[1].roles.realm[2].scopeParamRequired`,
		`msg="imported realm" realm=Migration2`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	// Flows, required actions and userManagedAccessAllowed are stored, so
	// not reported.
	if strings.Contains(r.stderr, "authenticationFlows") || strings.Contains(r.stderr, "requiredActions") || strings.Contains(r.stderr, "userManagedAccessAllowed") {
		t.Errorf("stored members reported as not imported:\n%s", r.stderr)
	}
	// A realm whose bound flow names an authenticator Gatehouse does not
	// run imports, with a warning naming it.
	old, err := filepath.Abs("../../test/exports/testdata/keycloak__keycloak__migration-realm-1.9.8.json")
	if err != nil {
		t.Fatal(err)
	}
	r = gatehouse(t, nil, "import", "--data-dir", t.TempDir(), "--file", old)
	if want := `level=WARN msg="flow cannot run" realm=Migration2 file=` + old + ` binding=browserFlow reason="Flow browser uses authenticator auth-spnego, which Gatehouse does not run"`; r.code != 0 || !strings.Contains(r.stderr, want) {
		t.Errorf("import of a realm with a flow Gatehouse does not run: code %d, stderr lacks %q:\n%s", r.code, want, r.stderr)
	}

	dir := t.TempDir()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "realms.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	db := storetest.Open(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if err := importDir(t.Context(), log, db, dir, importOptions(config.Config{ImportRealm: true}, true, time.Now())); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `path=$[1].roles.realm[2].scopeParamRequired`) {
		t.Errorf("--import-realm logged no member that is not stored:\n%s", logs.String())
	}
	for _, name := range []string{"Migration", "Migration2", "master"} {
		if _, err := db.GetRealmByName(t.Context(), name); err != nil {
			t.Errorf("realm %s: %v", name, err)
		}
	}
}

// TestGCPercent: a serving node collects at serverGCPercent unless the
// operator set GOGC, as its runtime metrics report on the management port.
func TestGCPercent(t *testing.T) {
	gogc := func(r *running) string {
		st, body := httpGet(t, r.mgmt+"/metrics")
		if st != http.StatusOK {
			t.Fatalf("metrics: %d", st)
		}
		for line := range strings.Lines(string(body)) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go_gc_gogc_percent "); ok {
				return v
			}
		}
		t.Fatalf("no go_gc_gogc_percent in the metrics")
		return ""
	}
	for _, c := range []struct{ gogc, want string }{
		{"", strconv.Itoa(serverGCPercent)}, // "GOGC=" overrides one the test runner may have
		{"150", "150"},
		{"off", "1.8446744073709552e+19"}, // runtime/metrics: off is the largest uint64
	} {
		port := freePort(t)
		r := startServer(t, port, []string{"GOGC=" + c.gogc}, "start-dev", "--http-port", strconv.Itoa(port))
		if got := gogc(r); got != c.want {
			t.Errorf("GOGC=%q: go_gc_gogc_percent %s, want %s", c.gogc, got, c.want)
		}
		r.stop(t)
	}
}
