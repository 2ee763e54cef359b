// Command gatehouse-load measures a running Gatehouse's back channel: for each
// grant in turn it runs -c concurrent clients for -d, then prints requests,
// errors, requests per second and latency percentiles as a Markdown table.
//
//	go run ./cmd/gatehouse-load -url http://127.0.0.1:8080 -realm ldap-demo \
//	    -client ldap-app -secret password -user user1 -password password \
//	    -c 16 -d 10s -grants client_credentials,password,refresh_token,userinfo,introspection
//
// With -paced 0.5 each grant then runs again, open loop, at half the
// throughput it just reached, which gives latency below saturation: a closed
// loop of c clients on a saturated server always shows about c / throughput.
//
// With -proxy it is instead a round-robin reverse proxy from that loopback
// address to the -backends, for measuring several nodes on one database:
//
//	go run ./cmd/gatehouse-load -proxy 127.0.0.1:18090 \
//	    -backends http://127.0.0.1:18081,http://127.0.0.1:18083,http://127.0.0.1:18085
//
// With -floor it is instead a token endpoint that does only what none can
// avoid (the HTTP exchange, the signature, the response), imitating the
// client_credentials token of the Gatehouse at -like, to measure beside it
// on the same core:
//
//	go run ./cmd/gatehouse-load -floor 127.0.0.1:18095 -like http://127.0.0.1:8080 \
//	    -realm ldap-demo-es256 -client ldap-app -secret password
//
// It is a benchmark, not a stress tool: it only talks to a loopback address,
// and every run stops by itself after len(grants) × d (twice that with
// -paced), plus setup and the last answers (at most -timeout).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Limits that keep a run bounded whatever the flags say.
const (
	maxClients  = 256
	maxDuration = 10 * time.Minute
	// accessMaxAge keeps the shared access token well inside a 60 s access
	// token lifespan (story 1's realm), so userinfo and introspection never
	// measure expired tokens.
	accessMaxAge = 50 * time.Second
	// maxErrorBody is how much of the first failing response is printed.
	maxErrorBody = 300
)

var allGrants = []string{"client_credentials", "password", "refresh_token", "userinfo", "introspection",
	"search", "username", "email", "attribute", "user_sessions", "client_sessions"}

// adminGrants are the admin API reads, made as the master realm's
// administrator (-admin-user) about -user and -client: the user search by
// prefix of the username (search), by exact username and email, by one of
// the user's attributes (q=name:value), and the sessions of the user and of
// the client.
var adminGrants = []string{"search", "username", "email", "attribute", "user_sessions", "client_sessions"}

type config struct {
	base           *url.URL
	realm          string
	client, secret string
	user, password string
	scope          string
	clients        int
	duration       time.Duration
	timeout        time.Duration
	grants         []string
	paced          float64
	serverPID      int
	adminUser      string
	adminPassword  string
	attribute      string
}

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-proxy" || os.Args[1] == "--proxy") {
		if err := runProxy(os.Args[1:]); err != nil {
			fmt.Fprintf(os.Stderr, "gatehouse-load: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && (os.Args[1] == "-floor" || os.Args[1] == "--floor") {
		if err := runFloor(os.Args[1:]); err != nil {
			fmt.Fprintf(os.Stderr, "gatehouse-load: %v\n", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "gatehouse-load: %v\n", err)
		os.Exit(2)
	}
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "gatehouse-load: %v\n", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("gatehouse-load", flag.ContinueOnError)
	rawURL := fs.String("url", "http://127.0.0.1:8080", "server base URL (loopback only), including any relative path")
	var cfg config
	fs.StringVar(&cfg.realm, "realm", "ldap-demo", "realm name")
	fs.StringVar(&cfg.client, "client", "ldap-app", "confidential client id (service accounts and direct grants enabled)")
	fs.StringVar(&cfg.secret, "secret", "password", "client secret, sent with client_secret_basic")
	fs.StringVar(&cfg.user, "user", "user1", "username for the password grant")
	fs.StringVar(&cfg.password, "password", "password", "password of -user")
	fs.StringVar(&cfg.scope, "scope", "openid", "scope of the password and refresh_token requests")
	fs.IntVar(&cfg.clients, "c", 16, "concurrent clients")
	fs.DurationVar(&cfg.duration, "d", 10*time.Second, "how long each grant runs")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "timeout of one request")
	fs.Float64Var(&cfg.paced, "paced", 0, "after each grant's closed-loop run, run it open loop at this fraction of the measured req/s (0 < f ≤ 1) for latency below saturation; 0 skips it")
	fs.IntVar(&cfg.serverPID, "server-pid", 0, "pid of the server (Linux): also report its CPU time per request, which other processes on its core do not inflate")
	fs.StringVar(&cfg.adminUser, "admin-user", "admin", "master realm administrator, for the admin grants ("+strings.Join(adminGrants, ", ")+")")
	fs.StringVar(&cfg.adminPassword, "admin-password", "admin", "password of -admin-user")
	fs.StringVar(&cfg.attribute, "attribute", "", "name:value the attribute grant searches for (default: the first of -user's attributes)")
	grants := fs.String("grants", strings.Join(allGrants[:5], ","), "comma-separated grants to run, in order (also: "+strings.Join(adminGrants, ", ")+")")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	u, err := loopbackURL(*rawURL)
	if err != nil {
		return config{}, err
	}
	cfg.base = u
	if cfg.clients < 1 || cfg.clients > maxClients {
		return config{}, fmt.Errorf("-c %d: want 1 to %d", cfg.clients, maxClients)
	}
	if cfg.duration <= 0 || cfg.duration > maxDuration {
		return config{}, fmt.Errorf("-d %s: want more than 0 and at most %s", cfg.duration, maxDuration)
	}
	if cfg.paced < 0 || cfg.paced > 1 {
		return config{}, fmt.Errorf("-paced %g: want 0 (off) or a fraction up to 1", cfg.paced)
	}
	if cfg.serverPID != 0 {
		if _, err := processCPU(cfg.serverPID); err != nil {
			return config{}, fmt.Errorf("-server-pid: %w", err)
		}
	}
	if cfg.timeout <= 0 {
		return config{}, fmt.Errorf("-timeout %s: want more than 0", cfg.timeout)
	}
	for g := range strings.SplitSeq(*grants, ",") {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		if !slices.Contains(allGrants, g) {
			return config{}, fmt.Errorf("-grants: unknown grant %q (know %s)", g, strings.Join(allGrants, ", "))
		}
		cfg.grants = append(cfg.grants, g)
	}
	if len(cfg.grants) == 0 {
		return config{}, errors.New("-grants: none given")
	}
	return cfg, nil
}

// loopbackURL parses the base URL and refuses anything but http(s) on a
// loopback address: the command sends thousands of logins a second, which
// on someone else's server is an attack, not a measurement.
func loopbackURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("-url %q: want http or https", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("-url %q: want no user info, query or fragment", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		if host != "localhost" {
			return nil, fmt.Errorf("-url %q: only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed", raw)
		}
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

func run(ctx context.Context, cfg config, out io.Writer) error {
	host := cfg.base.Hostname()
	tr := &http.Transport{
		Proxy:               nil, // never send loopback traffic through an HTTP_PROXY
		DialContext:         loopbackDialer().DialContext,
		MaxIdleConns:        cfg.clients,
		MaxIdleConnsPerHost: cfg.clients,
		MaxConnsPerHost:     cfg.clients,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	l := &loader{cfg: cfg, hc: &http.Client{Transport: tr, Timeout: cfg.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

	fmt.Fprintf(out, "gatehouse-load: %s realm %s, %d clients, %s per grant, load GOMAXPROCS=%d, %s\n\n",
		host, cfg.realm, cfg.clients, cfg.duration, runtime.GOMAXPROCS(0), runtime.Version())
	var closed, open []result
	for _, g := range cfg.grants {
		c, o, err := l.runGrant(ctx, g)
		if err != nil {
			return fmt.Errorf("%s: %w", g, err)
		}
		fmt.Fprintf(os.Stderr, "gatehouse-load: %s: %d requests, %.0f/s, p99 %s\n", g, c.requests(), c.rate(), fmtMS(c.percentile(99)))
		closed = append(closed, c)
		if o.offered > 0 {
			open = append(open, o)
		}
	}
	fmt.Fprintf(out, "Closed loop: %d clients back to back, so latency ≈ %d / throughput.\n\n", cfg.clients, cfg.clients)
	writeTable(out, closed)
	if len(open) > 0 {
		fmt.Fprintf(out, "\nOpen loop at %.0f%% of each grant's closed-loop req/s (at most %d in flight; latency counted from when each request was due):\n\n",
			cfg.paced*100, cfg.clients)
		writeTable(out, open)
	}
	return nil
}

// loopbackDialer dials loopback addresses only: "localhost" must resolve
// to loopback too, not only look like it.
func loopbackDialer() *net.Dialer {
	return &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error { return checkLoopbackDial(address) }}
}

func checkLoopbackDial(address string) error {
	h, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(h); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refusing to connect to non-loopback address %s", h)
	}
	return nil
}

type loader struct {
	cfg config
	hc  *http.Client

	mu       sync.Mutex
	access   string
	accessAt time.Time
	admin    string
	adminAt  time.Time
	// target is what the admin grants ask about, looked up once.
	target *adminTarget
}

// adminTarget is -user and -client as the admin API names them.
type adminTarget struct {
	userID, email, clientID string
	attr                    string // "name:value", "" when the user has none
}

// result is what one grant's run measured.
type result struct {
	grant     string
	offered   float64         // requests per second asked for in open loop; 0 for closed loop
	serverCPU time.Duration   // CPU time the server used meanwhile; 0 when unknown
	latencies []time.Duration // successful and failed requests alike, sorted
	errors    int
	firstErr  string
	elapsed   time.Duration
}

func (r result) requests() int { return len(r.latencies) }

// rate counts successful requests only, so a server answering errors fast
// does not look quick.
func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(len(r.latencies)-r.errors) / r.elapsed.Seconds()
}

// percentile is the nearest-rank percentile of the sorted latencies.
func (r result) percentile(p float64) time.Duration {
	n := len(r.latencies)
	if n == 0 {
		return 0
	}
	i := int(float64(n)*p/100+0.999999) - 1
	return r.latencies[min(max(i, 0), n-1)]
}

// worker is one client's request loop for one grant: it returns the status
// and body of each request, and may keep state between calls (the refresh
// token of its rotation chain).
type worker func(ctx context.Context) (status int, body []byte, err error)

// runGrant measures one grant: first closed loop (every client sends its
// next request as soon as the last one is answered, which finds the
// throughput), then, with -paced, open loop at that fraction of it.
func (l *loader) runGrant(ctx context.Context, grant string) (closed, open result, err error) {
	workers := make([]worker, l.cfg.clients)
	for i := range workers {
		w, err := l.newWorker(ctx, grant)
		if err != nil {
			return result{}, result{}, err
		}
		workers[i] = w
	}
	// One request before the clock starts, so one-time work (the first
	// login re-hashing user1's imported PBKDF2 password to argon2id, cold
	// caches, new connections) is not measured.
	if st, body, err := workers[0](ctx); err != nil || st/100 != 2 {
		return result{}, result{}, fmt.Errorf("warm-up request failed: %d %s %v", st, clip(body), err)
	}
	closed = l.measure(ctx, grant, workers, 0)
	if l.cfg.paced > 0 && closed.rate() > 0 {
		open = l.measure(ctx, grant, workers, l.cfg.paced*closed.rate())
	}
	return closed, open, nil
}

// measure runs workers for the configured duration. With rate 0 each worker
// loops back-to-back (closed loop): latency then grows with the number of
// clients (Little's law: about c / throughput at saturation), so its
// percentiles describe a saturated server. With a rate, request i is due at
// start + i/rate whatever came before (open loop), and its latency is counted
// from when it was due, so a stalled server is charged for the requests it
// held back too (no coordinated omission).
func (l *loader) measure(ctx context.Context, grant string, workers []worker, rate float64) result {
	type share struct {
		lat      []time.Duration
		errors   int
		firstErr string
	}
	shares := make([]share, len(workers))
	cpu0, _ := processCPU(l.cfg.serverPID)
	start := time.Now()
	deadline := start.Add(l.cfg.duration)
	var next atomic.Int64
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() {
			s := &shares[i]
			s.lat = make([]time.Duration, 0, 4096)
			for {
				t0 := time.Now()
				if rate > 0 {
					n := next.Add(1) - 1
					t0 = start.Add(time.Duration(float64(n) / rate * float64(time.Second)))
					time.Sleep(time.Until(t0))
				}
				// In open loop a client that fell behind still sends what
				// fell due before the deadline, unless it is over a second
				// late: those count as never sent.
				if !t0.Before(deadline) || time.Now().After(deadline.Add(time.Second)) {
					return
				}
				st, body, err := w(ctx)
				s.lat = append(s.lat, time.Since(t0))
				if err != nil || st/100 != 2 {
					s.errors++
					if s.firstErr == "" {
						if err != nil {
							s.firstErr = err.Error()
						} else {
							s.firstErr = fmt.Sprintf("HTTP %d: %s", st, clip(body))
							if st == http.StatusTooManyRequests {
								s.firstErr += " (the server's rate limit: start it with --rate-limit false to measure throughput)"
							}
						}
					}
				}
			}
		})
	}
	wg.Wait()
	r := result{grant: grant, offered: rate, elapsed: time.Since(start)}
	if cpu1, err := processCPU(l.cfg.serverPID); err == nil && l.cfg.serverPID != 0 {
		r.serverCPU = cpu1 - cpu0
	}
	for _, s := range shares {
		r.latencies = append(r.latencies, s.lat...)
		r.errors += s.errors
		if r.firstErr == "" {
			r.firstErr = s.firstErr
		}
	}
	if rate > 0 {
		// Requests that fell due while every client was still waiting for
		// an answer, and never went out, are failures too.
		due := int(math.Ceil(rate * l.cfg.duration.Seconds()))
		if unsent := due - len(r.latencies); unsent > 0 {
			r.errors += unsent
			r.firstErr = fmt.Sprintf("%d requests fell due but were never sent: all %d clients were busy", unsent, len(workers))
		}
	}
	slices.Sort(r.latencies)
	return r
}

func (l *loader) newWorker(ctx context.Context, grant string) (worker, error) {
	switch grant {
	case "client_credentials":
		form := url.Values{"grant_type": {"client_credentials"}}
		return func(ctx context.Context) (int, []byte, error) { return l.token(ctx, form) }, nil
	case "password":
		form := l.passwordForm()
		return func(ctx context.Context) (int, []byte, error) { return l.token(ctx, form) }, nil
	case "refresh_token":
		// Each client holds its own session and always refreshes with the
		// newest token, which stays within any rotation rule.
		rt, err := l.login(ctx, "refresh_token")
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) (int, []byte, error) {
			st, body, err := l.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
			if err != nil || st != http.StatusOK {
				return st, body, err
			}
			next := field(body, "refresh_token")
			if next == "" {
				return 0, body, errors.New("refresh response without refresh_token")
			}
			rt = next
			return st, body, nil
		}, nil
	case "userinfo":
		return func(ctx context.Context) (int, []byte, error) {
			at, err := l.accessToken(ctx)
			if err != nil {
				return 0, nil, err
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.endpoint("userinfo"), nil)
			if err != nil {
				return 0, nil, err
			}
			req.Header.Set("Authorization", "Bearer "+at)
			return l.do(req)
		}, nil
	case "introspection":
		return func(ctx context.Context) (int, []byte, error) {
			at, err := l.accessToken(ctx)
			if err != nil {
				return 0, nil, err
			}
			st, body, err := l.post(ctx, "token/introspect", url.Values{"token": {at}})
			if err == nil && st == http.StatusOK && !bytes.Contains(body, []byte(`"active":true`)) {
				return st, body, errors.New("token reported inactive: " + clip(body))
			}
			return st, body, err
		}, nil
	}
	if slices.Contains(adminGrants, grant) {
		return l.adminWorker(ctx, grant)
	}
	return nil, fmt.Errorf("unknown grant %q", grant)
}

// adminWorker returns the worker of one admin grant.
func (l *loader) adminWorker(ctx context.Context, grant string) (worker, error) {
	tg, err := l.adminTarget(ctx)
	if err != nil {
		return nil, err
	}
	users := "/users?"
	var path string
	switch grant {
	case "search":
		path = users + url.Values{"search": {l.cfg.user}, "max": {"20"}}.Encode()
	case "username":
		path = users + url.Values{"username": {l.cfg.user}, "exact": {"true"}}.Encode()
	case "email":
		if tg.email == "" {
			return nil, fmt.Errorf("user %s has no email", l.cfg.user)
		}
		path = users + url.Values{"email": {tg.email}, "exact": {"true"}}.Encode()
	case "attribute":
		if tg.attr == "" {
			return nil, fmt.Errorf("user %s has no attribute", l.cfg.user)
		}
		path = users + url.Values{"q": {tg.attr}, "max": {"20"}}.Encode()
	case "user_sessions":
		path = "/users/" + url.PathEscape(tg.userID) + "/sessions"
	case "client_sessions":
		path = "/clients/" + url.PathEscape(tg.clientID) + "/user-sessions?max=20"
	}
	return func(ctx context.Context) (int, []byte, error) { return l.adminGet(ctx, path) }, nil
}

// adminTarget looks -user and -client up in the admin API, once.
func (l *loader) adminTarget(ctx context.Context) (*adminTarget, error) {
	l.mu.Lock()
	tg := l.target
	l.mu.Unlock()
	if tg != nil {
		return tg, nil
	}
	tg = &adminTarget{}
	var users []struct {
		ID         string              `json:"id"`
		Email      string              `json:"email"`
		Attributes map[string][]string `json:"attributes"`
	}
	if err := l.adminJSON(ctx, "/users?"+url.Values{"username": {l.cfg.user}, "exact": {"true"}}.Encode(), &users); err != nil {
		return nil, err
	}
	if len(users) != 1 {
		return nil, fmt.Errorf("user %s: %d found", l.cfg.user, len(users))
	}
	tg.userID, tg.email, tg.attr = users[0].ID, users[0].Email, l.cfg.attribute
	names := slices.Sorted(maps.Keys(users[0].Attributes))
	if tg.attr != "" {
		names = nil
	}
	for _, n := range names {
		if vs := users[0].Attributes[n]; len(vs) > 0 && !strings.Contains(n, ":") {
			tg.attr = n + ":" + vs[0]
			break
		}
	}
	var clients []struct {
		ID string `json:"id"`
	}
	if err := l.adminJSON(ctx, "/clients?"+url.Values{"clientId": {l.cfg.client}}.Encode(), &clients); err != nil {
		return nil, err
	}
	if len(clients) != 1 {
		return nil, fmt.Errorf("client %s: %d found", l.cfg.client, len(clients))
	}
	tg.clientID = clients[0].ID
	l.mu.Lock()
	l.target = tg
	l.mu.Unlock()
	return tg, nil
}

func (l *loader) adminJSON(ctx context.Context, path string, v any) error {
	st, body, err := l.adminGet(ctx, path)
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %s", path, st, clip(body))
	}
	return json.Unmarshal(body, v)
}

// adminGet sends GET /admin/realms/<realm><path> as the administrator.
func (l *loader) adminGet(ctx context.Context, path string) (int, []byte, error) {
	at, err := l.adminToken(ctx)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		l.cfg.base.String()+"/admin/realms/"+url.PathEscape(l.cfg.realm)+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+at)
	return l.do(req)
}

// adminToken is the administrator's access token, shared and renewed like
// accessToken's (the master realm's tokens live 60 s by default).
func (l *loader) adminToken(ctx context.Context) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.admin != "" && time.Since(l.adminAt) < accessMaxAge {
		return l.admin, nil
	}
	form := url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"},
		"username": {l.cfg.adminUser}, "password": {l.cfg.adminPassword}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		l.cfg.base.String()+"/realms/master/protocol/openid-connect/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	st, body, err := l.do(req)
	if err != nil {
		return "", fmt.Errorf("admin login: %w", err)
	}
	at := field(body, "access_token")
	if st != http.StatusOK || at == "" {
		return "", fmt.Errorf("admin login: HTTP %d: %s", st, clip(body))
	}
	l.admin, l.adminAt = at, time.Now()
	return at, nil
}

func (l *loader) passwordForm() url.Values {
	f := url.Values{"grant_type": {"password"}, "username": {l.cfg.user}, "password": {l.cfg.password}}
	if l.cfg.scope != "" {
		f.Set("scope", l.cfg.scope)
	}
	return f
}

// login runs the password grant and returns the named token of the answer.
func (l *loader) login(ctx context.Context, name string) (string, error) {
	st, body, err := l.token(ctx, l.passwordForm())
	if err != nil {
		return "", fmt.Errorf("password grant for a %s: %w", name, err)
	}
	if st != http.StatusOK {
		return "", fmt.Errorf("password grant for a %s: HTTP %d: %s", name, st, clip(body))
	}
	tok := field(body, name)
	if tok == "" {
		return "", fmt.Errorf("password grant answered without %s: %s", name, clip(body))
	}
	return tok, nil
}

// accessToken is one access token shared by every client, renewed (by
// whichever client finds it old, while the others wait) after accessMaxAge.
// The renewal's own request is not timed apart: it is rare enough (every
// 50 s) to vanish in the percentiles.
func (l *loader) accessToken(ctx context.Context) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.access != "" && time.Since(l.accessAt) < accessMaxAge {
		return l.access, nil
	}
	at, err := l.login(ctx, "access_token")
	if err != nil {
		return "", err
	}
	l.access, l.accessAt = at, time.Now()
	return at, nil
}

func (l *loader) endpoint(name string) string {
	return l.cfg.base.String() + "/realms/" + url.PathEscape(l.cfg.realm) + "/protocol/openid-connect/" + name
}

func (l *loader) token(ctx context.Context, form url.Values) (int, []byte, error) {
	return l.post(ctx, "token", form)
}

// post sends form with client_secret_basic (RFC 6749 §2.3.1: id and secret
// form-urlencoded before base64).
func (l *loader) post(ctx context.Context, name string, form url.Values) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.endpoint(name), strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(l.cfg.client), url.QueryEscape(l.cfg.secret))
	return l.do(req)
}

// do sends req and reads the whole body, so the connection is reused.
func (l *loader) do(req *http.Request) (int, []byte, error) {
	resp, err := l.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func field(body []byte, name string) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	s, _ := m[name].(string)
	return s
}

func clip(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > maxErrorBody {
		s = s[:maxErrorBody] + "…"
	}
	return s
}

func fmtMS(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func writeTable(w io.Writer, results []result) {
	withCPU := slices.ContainsFunc(results, func(r result) bool { return r.serverCPU > 0 })
	head, rule := "| grant | offered/s | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	if withCPU {
		head, rule = head+" server CPU ms/req | req/s per server core |", rule+"---:|---:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }
	for _, r := range results {
		offered := "max"
		if r.offered > 0 {
			offered = fmt.Sprintf("%.0f", r.offered)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %.0f | %s | %s | %s | %s |", r.grant, offered, r.requests(), r.errors, r.rate(),
			ms(r.percentile(50)), ms(r.percentile(90)), ms(r.percentile(99)), ms(r.percentile(100)))
		if withCPU {
			if n := r.requests() - r.errors; n > 0 && r.serverCPU > 0 {
				per := r.serverCPU / time.Duration(n)
				fmt.Fprintf(w, " %.2f | %.0f |", float64(per.Microseconds())/1000, float64(n)/r.serverCPU.Seconds())
			} else {
				fmt.Fprint(w, " | |")
			}
		}
		fmt.Fprintln(w)
	}
	for _, r := range results {
		if r.firstErr != "" {
			fmt.Fprintf(w, "\nfirst error of %s: %s\n", r.grant, r.firstErr)
		}
	}
}

// processCPU is the user and system CPU time process pid has used, from
// /proc/<pid>/stat (Linux), in clock ticks of 10 ms (USER_HZ is 100 on every
// Linux architecture Go runs on).
func processCPU(pid int) (time.Duration, error) {
	if pid == 0 {
		return 0, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("malformed /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed /proc stat")
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}
