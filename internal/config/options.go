package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/ratelimit"
)

// Option describes one command-line option for the README table and --help.
type Option struct {
	Name    string   // "--http-port"
	Env     string   // "GATEHOUSE_HTTP_PORT"
	Default string   // "" when there is none
	Help    string   // one line
	Modes   []string // the commands that take it
}

// option is one row of the table every other part of the package reads:
// defaults, environment, flags, Validate, LogValue, Options and Usage.
type option struct {
	name   string
	arg    string // value placeholder in Usage; switches have none
	help   string
	modes  []string
	def    string // default, applied through set
	devDef string // default in start-dev when it differs from def
	defDoc string // default computed by Load after parsing, for documentation
	kcEnv  string // Keycloak's variable, read when GATEHOUSE_* is empty
	// field returns a pointer to the Config field: *string, *int (always a
	// port) or *bool.
	field func(*Config) any
	// parse checks and normalises a string value; nil accepts anything.
	parse func(string) (string, error)
	// show renders a value for logs and errors; nil shows it as is.
	show func(string) string
}

var (
	allModes    = []string{ModeStartDev, ModeStart, ModeImport, ModeExport}
	serverModes = []string{ModeStartDev, ModeStart}
	dataModes   = []string{ModeImport, ModeExport}
)

var options = []option{
	{name: "hostname", arg: "<hostname|url>", modes: serverModes, parse: parseHostname,
		help:  "Address at which the server is exposed: a host name, or a full URL (scheme, host, port, path) that fixes all of them. Required by start.",
		field: func(c *Config) any { return &c.Hostname }},
	{name: "http-enabled", arg: "<true|false>", modes: serverModes, def: "false", devDef: "true",
		help:  "Serve plain HTTP. start needs it set explicitly when no HTTPS certificate is configured.",
		field: func(c *Config) any { return &c.HTTPEnabled }},
	{name: "http-host", arg: "<host>", modes: serverModes, def: "0.0.0.0", devDef: "127.0.0.1", parse: nonEmpty,
		help:  "Address to listen on for HTTP and HTTPS.",
		field: func(c *Config) any { return &c.HTTPHost }},
	{name: "http-port", arg: "<port>", modes: serverModes, def: "8080",
		help:  "Port for plain HTTP.",
		field: func(c *Config) any { return &c.HTTPPort }},
	{name: "https-port", arg: "<port>", modes: serverModes, def: "8443",
		help:  "Port for HTTPS.",
		field: func(c *Config) any { return &c.HTTPSPort }},
	{name: "https-certificate-file", arg: "<file>", modes: serverModes,
		help:  "PEM certificate (chain) for HTTPS; needs --https-certificate-key-file.",
		field: func(c *Config) any { return &c.HTTPSCertificateFile }},
	{name: "https-certificate-key-file", arg: "<file>", modes: serverModes,
		help:  "PEM private key for HTTPS; needs --https-certificate-file.",
		field: func(c *Config) any { return &c.HTTPSCertificateKeyFile }},
	{name: "truststore-paths", arg: "<path,...>", modes: serverModes,
		help:  "Comma-separated PEM files, or directories of them, trusted for outgoing TLS next to the system's certificates (LDAP providers with useTruststoreSpi 'always').",
		field: func(c *Config) any { return &c.TruststorePaths }},
	{name: "http-relative-path", arg: "<path>", modes: serverModes, def: "/", parse: parseRelativePath,
		help:  "Path under which the server serves everything, such as /auth.",
		field: func(c *Config) any { return &c.HTTPRelativePath }},
	{name: "proxy-headers", arg: "<forwarded|xforwarded>", modes: serverModes, parse: oneOf("", "forwarded", "xforwarded"),
		help:  "Trust the Forwarded or the X-Forwarded-* headers of a reverse proxy. Set only behind a proxy that overwrites them.",
		field: func(c *Config) any { return &c.ProxyHeaders }},
	{name: "trusted-proxies", arg: "<address|cidr,...>", modes: serverModes, parse: parseProxies,
		help:  "Comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client address (for rate limits, sessions and events).",
		field: func(c *Config) any { return &c.TrustedProxies }},
	{name: "rate-limit", arg: "<true|false>", modes: serverModes, def: "true",
		help:  "Limit failed authentications (wrong password or client secret, unknown client, invalid grant) per client address and username, answering 429 with Retry-After; with --rate-limit-ip, also requests.",
		field: func(c *Config) any { return &c.RateLimit }},
	{name: "rate-limit-ip", arg: "<rate:burst|off>", modes: serverModes, def: "off", parse: parseRateLimit,
		help:  "Requests per second and burst one client address may send to the realm endpoints, successful or not (off: failures only); a realm's gatehouse.ratelimit.ip attribute can lower it.",
		field: func(c *Config) any { return &c.RateLimitIP }},
	{name: "outbound-allow-private", arg: "<true|false>", modes: serverModes, def: "false",
		help:  "Let requests the server makes (back-channel logout) reach loopback, private and link-local addresses. Off, only public addresses are contacted, so a URL an administrator enters cannot probe the internal network.",
		field: func(c *Config) any { return &c.OutboundAllowPrivate }},
	{name: "bootstrap-admin-username", arg: "<username>", modes: serverModes, kcEnv: "KC_BOOTSTRAP_ADMIN_USERNAME",
		defDoc: "admin when a password is set",
		help:   "Username of the temporary admin created in the master realm on first start. Also read from KC_BOOTSTRAP_ADMIN_USERNAME.",
		field:  func(c *Config) any { return &c.BootstrapAdminUsername }},
	{name: "bootstrap-admin-password", arg: "<password>", modes: serverModes, kcEnv: "KC_BOOTSTRAP_ADMIN_PASSWORD",
		help:  "Password of the temporary admin; without it no admin is created. Also read from KC_BOOTSTRAP_ADMIN_PASSWORD.",
		field: func(c *Config) any { return &c.BootstrapAdminPassword },
		show:  redactSecret},
	{name: "import-realm", modes: serverModes, def: "false",
		help:  "Import every *.json realm file in --import-dir at start.",
		field: func(c *Config) any { return &c.ImportRealm }},
	{name: "import-dir", arg: "<dir>", modes: serverModes, parse: nonEmpty, defDoc: "<data-dir>/import",
		help:  "Directory read by --import-realm.",
		field: func(c *Config) any { return &c.ImportDir }},
	{name: "import-mode", arg: "<skip|reconcile>", modes: serverModes, def: ImportSkip, parse: oneOf(ImportSkip, ImportReconcile),
		help:  "What --import-realm does with a realm that exists: skip it, as Keycloak does, or reconcile it to match its file.",
		field: func(c *Config) any { return &c.ImportRealmMode }},
	{name: "import-prune", arg: "<true|false>", modes: serverModes, def: "false",
		help:  "With --import-mode reconcile, also delete what a realm file's lists no longer name (built-in clients, roles and scopes are kept).",
		field: func(c *Config) any { return &c.ImportPrune }},
	{name: "db", arg: "<sqlite|postgres>", modes: allModes, def: DBSQLite, parse: oneOf(DBSQLite, DBPostgres),
		help:  "Database kind. start needs --db or --db-url set explicitly.",
		field: func(c *Config) any { return &c.DB }},
	{name: "db-url", arg: "<path|url>", modes: allModes, defDoc: "<data-dir>/gatehouse.db with sqlite",
		help:  "For sqlite a file path; for postgres a postgres:// URL (required).",
		field: func(c *Config) any { return &c.DBURL },
		show:  redactURL},
	{name: "data-dir", arg: "<dir>", modes: allModes, def: "./data", parse: nonEmpty,
		help:  "Directory for the default SQLite database and import directory.",
		field: func(c *Config) any { return &c.DataDir }},
	{name: "log-level", arg: "<level>", modes: allModes, def: "info", parse: parseLogLevel,
		help:  "Least severe level logged: debug, info, warn or error.",
		field: func(c *Config) any { return &c.LogLevel }},
	{name: "log-format", arg: "<text|json>", modes: allModes, def: "text", parse: oneOf("text", "json"),
		help:  "Log line format.",
		field: func(c *Config) any { return &c.LogFormat }},
	{name: "http-management-port", arg: "<port>", modes: serverModes, def: "9000",
		help:  "Port of the management interface: /health, /health/live, /health/ready, /health/started and /metrics, on --http-host.",
		field: func(c *Config) any { return &c.HTTPManagementPort }},
	{name: "http-access-log-enabled", arg: "<true|false>", modes: serverModes, def: "false",
		help:  "Log one line per HTTP request (method, route, status, latency, realm), written in the background off the request path.",
		field: func(c *Config) any { return &c.HTTPAccessLogEnabled }},
	{name: "metrics-enabled", arg: "<true|false>", modes: serverModes, def: "true",
		help:  "Serve Prometheus metrics at /metrics on the management port.",
		field: func(c *Config) any { return &c.MetricsEnabled }},
	{name: "file", arg: "<file>", modes: dataModes,
		help:  "Realm JSON file to read (import) or write (export). Give --file or --dir.",
		field: func(c *Config) any { return &c.File }},
	{name: "dir", arg: "<dir>", modes: dataModes,
		help:  "Directory of realm JSON files to read (import) or write (export). Give --file or --dir.",
		field: func(c *Config) any { return &c.Dir }},
	{name: "realm", arg: "<realm>", modes: []string{ModeExport},
		help:  "Export only this realm; all realms when unset.",
		field: func(c *Config) any { return &c.Realm }},
	{name: "override", arg: "<true|false>", modes: []string{ModeImport}, def: "false",
		help:  "Replace realms that already exist; when false, importing an existing realm is an error.",
		field: func(c *Config) any { return &c.Override }},
	{name: "mode", arg: "<create|reconcile>", modes: []string{ModeImport}, def: ImportCreate, parse: oneOf(ImportCreate, ImportReconcile),
		help:  "create imports realms that do not exist; reconcile makes each realm match its file, printing the plan of changes.",
		field: func(c *Config) any { return &c.ImportMode }},
	{name: "prune", arg: "<true|false>", modes: []string{ModeImport}, def: "false",
		help:  "With --mode reconcile, also delete what the file's lists no longer name (built-in clients, roles and scopes are kept).",
		field: func(c *Config) any { return &c.Prune }},
	{name: "dry-run", arg: "<true|false>", modes: []string{ModeImport}, def: "false",
		help:  "With --mode reconcile, print the plan and write nothing.",
		field: func(c *Config) any { return &c.DryRun }},
}

// Options lists every option, in the order Usage prints them.
func Options() []Option {
	out := make([]Option, 0, len(options))
	for _, o := range options {
		out = append(out, Option{
			Name:    "--" + o.name,
			Env:     o.env(),
			Default: o.defaultDoc(),
			Help:    o.help,
			Modes:   slices.Clone(o.modes),
		})
	}
	return out
}

var modeSummary = map[string]string{
	ModeStartDev: "Start the server in development mode: HTTP on 127.0.0.1 and SQLite under --data-dir. Not for production.",
	ModeStart:    "Start the server in production mode. Needs --hostname, an explicit database (--db, --db-url), and HTTPS or --http-enabled true.",
	ModeImport:   "Import realms from Keycloak realm JSON files into the database, then exit.",
	ModeExport:   "Export realms from the database to Keycloak realm JSON files, then exit.",
}

// Usage returns the help text for mode, or the list of commands when mode is
// not one of them.
func Usage(mode string) string {
	var b strings.Builder
	opts, ok := modeOptions(mode)
	if !ok {
		b.WriteString("Usage: gatehouse <command> [options]\n\nCommands:\n")
		for _, m := range allModes {
			fmt.Fprintf(&b, "  %-10s %s\n", m, modeSummary[m])
		}
		fmt.Fprintf(&b, "  %-10s %s\n", "health", "Probe /health/ready on the management port (--http-management-port); exit 0 when ready.")
		fmt.Fprintf(&b, "  %-10s %s\n", "generate", "Fill a realm with synthetic users, clients, groups and sessions, for measuring at scale.")
		fmt.Fprintf(&b, "  %-10s %s\n", "version", "Print the version.")
		fmt.Fprintf(&b, "  %-10s %s\n", "help", "Show this help, or a command's options.")
		b.WriteString("\nRun 'gatehouse <command> --help' for the options of a command.\n")
		return b.String()
	}
	fmt.Fprintf(&b, "Usage: gatehouse %s [options]\n\n%s\n\nOptions:\n", mode, modeSummary[mode])
	for _, o := range opts {
		fmt.Fprintf(&b, "  --%s", o.name)
		if o.arg != "" {
			b.WriteString(" " + o.arg)
		}
		fmt.Fprintf(&b, "\n      %s\n      Env: %s", o.help, o.env())
		if d := o.defaultFor(mode); d != "" {
			fmt.Fprintf(&b, ", default: %s", d)
		} else if o.defDoc != "" {
			fmt.Fprintf(&b, ", default: %s", o.defDoc)
		}
		b.WriteString("\n")
	}
	b.WriteString("  -h, --help\n      Show this help.\n")
	return b.String()
}

func modeOptions(mode string) ([]option, bool) {
	if !slices.Contains(allModes, mode) {
		return nil, false
	}
	var out []option
	for _, o := range options {
		if slices.Contains(o.modes, mode) {
			out = append(out, o)
		}
	}
	return out, true
}

func findOption(opts []option, name string) (option, bool) {
	i := slices.IndexFunc(opts, func(o option) bool { return o.name == name })
	if i < 0 {
		return option{}, false
	}
	return opts[i], true
}

func isServer(mode string) bool { return slices.Contains(serverModes, mode) }

func (o option) env() string {
	return "GATEHOUSE_" + strings.ToUpper(strings.ReplaceAll(o.name, "-", "_"))
}

func (o option) defaultFor(mode string) string {
	if mode == ModeStartDev && o.devDef != "" {
		return o.devDef
	}
	return o.def
}

func (o option) defaultDoc() string {
	switch {
	case o.defDoc != "":
		return o.defDoc
	case o.devDef != "":
		return fmt.Sprintf("%s (%s in start-dev)", o.def, o.devDef)
	}
	return o.def
}

func (o option) isBool() bool {
	_, ok := o.field(&Config{}).(*bool)
	return ok
}

func (o option) get(c Config) any {
	switch p := o.field(&c).(type) {
	case *string:
		return *p
	case *int:
		return *p
	case *bool:
		return *p
	}
	panic("config: option --" + o.name + " has an unsupported field type")
}

func (o option) set(c *Config, v string) error {
	switch p := o.field(c).(type) {
	case *string:
		if o.parse != nil {
			var err error
			if v, err = o.parse(v); err != nil {
				return err
			}
		}
		*p = v
	case *int:
		n, err := parsePort(v)
		if err != nil {
			return err
		}
		*p = n
	case *bool:
		switch {
		case strings.EqualFold(v, "true"):
			*p = true
		case strings.EqualFold(v, "false"):
			*p = false
		default:
			return errors.New("not true or false")
		}
	}
	return nil
}

// invalid builds the OptionError for value v of o, given as name.
func (o option) invalid(name, v string, reason error) *OptionError {
	if o.show != nil {
		v = o.show(v)
	}
	return &OptionError{Option: name, Value: v, Reason: reason.Error()}
}

func isBoolLiteral(s string) bool {
	return strings.EqualFold(s, "true") || strings.EqualFold(s, "false")
}

var errEmpty = errors.New("needs a value")

func nonEmpty(v string) (string, error) {
	if v == "" {
		return "", errEmpty
	}
	return v, nil
}

func oneOf(allowed ...string) func(string) (string, error) {
	return func(v string) (string, error) {
		if slices.Contains(allowed, v) {
			return v, nil
		}
		if v == "" {
			return "", errEmpty
		}
		var names []string
		for _, a := range allowed {
			if a != "" {
				names = append(names, a)
			}
		}
		return "", fmt.Errorf("not one of %s", strings.Join(names, ", "))
	}
}

func parsePort(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errors.New("not a port number")
	}
	if n < 1 || n > 65535 {
		return 0, errors.New("port not between 1 and 65535")
	}
	return n, nil
}

// parseRateLimit accepts "<requests per second>:<burst>" or "off".
func parseRateLimit(v string) (string, error) {
	l, err := ratelimit.ParseLimit(v)
	if err != nil {
		return "", err
	}
	return l.String(), nil
}

// parseProxies accepts a comma-separated list of addresses and CIDR ranges.
func parseProxies(v string) (string, error) {
	p, err := ratelimit.ParseProxies(v)
	if err != nil {
		return "", err
	}
	return p.String(), nil
}

// parseLogLevel accepts Keycloak's upper-case spellings (INFO, WARN).
func parseLogLevel(v string) (string, error) {
	return oneOf("debug", "info", "warn", "error")(strings.ToLower(v))
}

// parseRelativePath returns "/" or "/a/b": no trailing slash, so the server
// can append "/realms/..." without doubling it.
func parseRelativePath(v string) (string, error) {
	if !strings.HasPrefix(v, "/") {
		return "", errors.New(`must start with "/"`)
	}
	if strings.ContainsAny(v, "?# ") {
		return "", errors.New("must be a plain path, without spaces, query or fragment")
	}
	p := strings.TrimRight(v, "/")
	if p == "" {
		return "/", nil
	}
	if path.Clean(p) != p {
		return "", fmt.Errorf("not a clean path (did you mean %q?)", path.Clean(p))
	}
	return p, nil
}

// parseHostname accepts Keycloak's hostname v2 forms: a bare host name (the
// scheme, port and path then come from each request) or an absolute http(s)
// URL fixing them all. Empty means unset.
func parseHostname(v string) (string, error) {
	errBad := errors.New("not a host name or an http(s) URL")
	if v == "" {
		return "", nil
	}
	if !strings.Contains(v, "://") {
		if !validHost(v) {
			return "", errBad
		}
		return v, nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !validHost(u.Hostname()) {
		return "", errBad
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", errors.New("URL must not have user info, a query or a fragment")
	}
	if p := u.Port(); p != "" {
		if _, err := parsePort(p); err != nil {
			return "", err
		}
	}
	return v, nil
}

func validHost(h string) bool {
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")); err == nil {
		return a.Zone() == ""
	}
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
