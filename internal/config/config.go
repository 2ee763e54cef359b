// Package config owns the server's configuration: the Config struct, its
// defaults, loading it from command-line flags and GATEHOUSE_* environment
// variables, and validating it before anything is opened or served.
//
// Option names, values and rules follow Keycloak's kc.sh (start-dev, start,
// import, export; hostname v2), so a Keycloak deployment's flags carry over.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Modes, the kc.sh commands that take options.
const (
	ModeStartDev = "start-dev"
	ModeStart    = "start"
	ModeImport   = "import"
	ModeExport   = "export"
)

// What import does with realm files: --mode of the import command, and
// --import-mode of --import-realm at start.
const (
	ImportCreate    = "create"    // import: create the realm; an existing one is an error unless --override
	ImportSkip      = "skip"      // start: leave an existing realm as it is, as Keycloak does
	ImportReconcile = "reconcile" // both: make the realm match its file
)

// Database kinds accepted by --db; they equal the store's dialect names.
const (
	DBSQLite   = "sqlite"
	DBPostgres = "postgres"
)

// Config is the whole server configuration. Load fills it; a Config built by
// hand must pass Validate before use.
type Config struct {
	Mode string // ModeStartDev, ModeStart, ModeImport or ModeExport

	HTTPHost                string // --http-host
	HTTPPort                int    // --http-port
	HTTPEnabled             bool   // --http-enabled
	HTTPSPort               int    // --https-port
	HTTPSCertificateFile    string // --https-certificate-file
	HTTPSCertificateKeyFile string // --https-certificate-key-file
	// TruststorePaths are PEM files, or directories of them, whose
	// certificates the server trusts for outgoing TLS next to the system's
	// (LDAP providers with useTruststoreSpi "always", the default).
	TruststorePaths      string // --truststore-paths
	Hostname             string // --hostname: a host name or an http(s) URL (hostname v2)
	HTTPRelativePath     string // --http-relative-path: "/" or "/a/b", never a trailing slash
	ProxyHeaders         string // --proxy-headers: "", "forwarded" or "xforwarded"
	TrustedProxies       string // --trusted-proxies: normalised CIDR list, "" trusts no proxy
	RateLimit            bool   // --rate-limit
	RateLimitIP          string // --rate-limit-ip: "<rate>:<burst>" or "off"
	OutboundAllowPrivate bool   // --outbound-allow-private

	DB         string // --db: DBSQLite or DBPostgres
	DBURL      string // --db-url: a file path for sqlite, a postgres:// URL for postgres
	DBExplicit bool   // --db or --db-url was given, by flag or environment

	BootstrapAdminUsername string // --bootstrap-admin-username
	BootstrapAdminPassword string // --bootstrap-admin-password
	ImportRealm            bool   // --import-realm: import every *.json in ImportDir at start
	ImportDir              string // --import-dir
	ImportRealmMode        string // --import-mode: ImportSkip or ImportReconcile
	ImportPrune            bool   // --import-prune

	DataDir   string // --data-dir
	LogLevel  string // --log-level: debug, info, warn or error
	LogFormat string // --log-format: text or json

	HTTPManagementPort   int  // --http-management-port: health and metrics
	MetricsEnabled       bool // --metrics-enabled
	HTTPAccessLogEnabled bool // --http-access-log-enabled: one log line per request

	// import and export
	File       string // --file
	Dir        string // --dir
	Realm      string // --realm (export)
	Override   bool   // --override (import)
	ImportMode string // --mode (import): ImportCreate or ImportReconcile
	Prune      bool   // --prune (import)
	DryRun     bool   // --dry-run (import)
}

// OptionError reports one bad option: an unknown flag, a missing value or a
// value that does not parse. Callers map it to exit code 2, as kc.sh does
// for usage errors. Option is the flag ("--http-port") or, when the value came
// from the environment, the variable ("GATEHOUSE_HTTP_PORT").
type OptionError struct {
	Option string
	Value  string // secrets are redacted
	Reason string
}

func (e *OptionError) Error() string {
	subject := "option " + e.Option
	if !strings.HasPrefix(e.Option, "-") {
		subject = "environment variable " + e.Option
	}
	switch {
	case e.Option == "":
		return fmt.Sprintf("%s %q", e.Reason, e.Value)
	case e.Value == "":
		return subject + ": " + e.Reason
	default:
		return fmt.Sprintf("invalid value %q for %s: %s", e.Value, subject, e.Reason)
	}
}

// Load builds the Config for mode from defaults, then the environment, then
// args (flags win over the environment). getenv is usually os.Getenv; nil
// means an empty environment. An empty variable counts as unset. For
// --bootstrap-admin-username and --bootstrap-admin-password, Keycloak's
// KC_BOOTSTRAP_ADMIN_* variables are read when the GATEHOUSE_* one is empty.
//
// A bad option is an *OptionError. --help or -h returns flag.ErrHelp so the
// caller can print Usage(mode). The returned Config has passed Validate.
func Load(mode string, args []string, getenv func(string) string) (Config, error) {
	opts, ok := modeOptions(mode)
	if !ok {
		return Config{}, fmt.Errorf("unknown command %q", mode)
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c := Config{Mode: mode}
	for _, o := range opts {
		if d := o.defaultFor(mode); d != "" {
			if err := o.set(&c, d); err != nil {
				panic(fmt.Sprintf("config: default %q for --%s: %v", d, o.name, err))
			}
		}
	}

	// source records where each given option came from, to name it in errors.
	source := map[string]string{}
	for _, o := range opts {
		name := o.env()
		v := getenv(name)
		if v == "" && o.kcEnv != "" {
			name = o.kcEnv
			v = getenv(name)
		}
		if v == "" {
			continue
		}
		if err := o.set(&c, v); err != nil {
			return Config{}, o.invalid(name, v, err)
		}
		source[o.name] = name
	}
	if err := parseFlags(&c, mode, opts, args, source); err != nil {
		return Config{}, err
	}

	_, db := source["db"]
	_, dbURL := source["db-url"]
	c.DBExplicit = db || dbURL
	if c.DB == DBSQLite && c.DBURL == "" {
		c.DBURL = join(c.DataDir, "gatehouse.db")
	}
	if c.ImportDir == "" && isServer(mode) {
		c.ImportDir = join(c.DataDir, "import")
	}
	// Keycloak creates the bootstrap admin only when a password is given, and
	// names it "admin" unless told otherwise.
	if c.BootstrapAdminUsername == "" && c.BootstrapAdminPassword != "" {
		c.BootstrapAdminUsername = "admin"
	}
	if err := checkDBURL(c.DB, c.DBURL); err != nil && c.DBURL != "" {
		name := source["db-url"]
		if name == "" {
			name = "--db-url" // derived from --data-dir
		}
		return Config{}, &OptionError{Option: name, Value: redactURL(c.DBURL), Reason: err.Error()}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// parseFlags applies args on top of c. Go's flag package does the parsing,
// but first every argument is rewritten to --name=value: kc.sh writes
// booleans as "--http-enabled true", which flag would read as a switch
// followed by a stray argument, and rewriting lets unknown options and
// missing values be reported as OptionErrors instead of flag's prose.
func parseFlags(c *Config, mode string, opts []option, args []string, source map[string]string) error {
	args, err := normaliseArgs(mode, opts, args)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet(mode, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var failed *OptionError
	for _, o := range opts {
		fs.Func(o.name, o.help, func(v string) error {
			if err := o.set(c, v); err != nil {
				failed = o.invalid("--"+o.name, v, err)
				return failed
			}
			source[o.name] = "--" + o.name
			return nil
		})
	}
	if err := fs.Parse(args); err != nil {
		if failed != nil {
			return failed
		}
		return fmt.Errorf("parse %s options: %w", mode, err)
	}
	return nil
}

func normaliseArgs(mode string, opts []option, args []string) ([]string, error) {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			if i+1 < len(args) {
				return nil, &OptionError{Value: args[i+1], Reason: "unexpected argument"}
			}
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			return nil, &OptionError{Value: a, Reason: "unexpected argument"}
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		if name == "h" || name == "help" {
			return nil, flag.ErrHelp
		}
		o, ok := findOption(opts, name)
		if !ok {
			reason := "no such option"
			if _, ok := findOption(options, name); ok {
				reason = "not an option of the " + mode + " command"
			}
			return nil, &OptionError{Option: "--" + strings.TrimLeft(name, "-"), Reason: reason}
		}
		if !hasValue {
			switch {
			case o.isBool():
				value = "true"
				if i+1 < len(args) && isBoolLiteral(args[i+1]) {
					i++
					value = args[i]
				}
			case i+1 < len(args):
				i++
				value = args[i]
			default:
				return nil, &OptionError{Option: "--" + name, Reason: "needs a value"}
			}
		}
		out = append(out, "--"+name+"="+value)
	}
	return out, nil
}

// Validate checks c as Load would: every value of the mode's options, then the
// rules that span options. Load calls it; call it again after editing a Config.
func (c Config) Validate() error {
	opts, ok := modeOptions(c.Mode)
	if !ok {
		return fmt.Errorf("unknown command %q", c.Mode)
	}
	// Re-apply every value through the parser Load uses, so a hand-built
	// Config meets the same rules as one from flags, including normal form
	// (the server relies on a relative path without a trailing slash).
	for _, o := range opts {
		v := fmt.Sprint(o.get(c))
		scratch := c
		if err := o.set(&scratch, v); err != nil {
			return o.invalid("--"+o.name, v, err)
		}
		if got := fmt.Sprint(o.get(scratch)); got != v {
			return o.invalid("--"+o.name, v, fmt.Errorf("not normalised (want %q)", got))
		}
	}

	if c.DB == DBPostgres && c.DBURL == "" {
		return errors.New("--db postgres needs --db-url with a postgres:// URL")
	}
	if c.DBURL == "" {
		return &OptionError{Option: "--db-url", Reason: "needs a value"}
	}
	if err := checkDBURL(c.DB, c.DBURL); err != nil {
		return &OptionError{Option: "--db-url", Value: redactURL(c.DBURL), Reason: err.Error()}
	}

	switch c.Mode {
	case ModeStart, ModeStartDev:
		return c.validateServer()
	case ModeImport, ModeExport:
		if c.File == "" && c.Dir == "" {
			return fmt.Errorf("%s needs --file or --dir", c.Mode)
		}
		if c.File != "" && c.Dir != "" {
			return fmt.Errorf("%s takes --file or --dir, not both", c.Mode)
		}
		if c.Mode == ModeImport && c.ImportMode != ImportReconcile && (c.Prune || c.DryRun) {
			return errors.New("--prune and --dry-run need --mode reconcile")
		}
		if c.Mode == ModeImport && c.ImportMode == ImportReconcile && c.Override {
			return errors.New("--override replaces a realm; --mode reconcile changes it in place: choose one")
		}
	}
	return nil
}

func (c Config) validateServer() error {
	if c.Mode == ModeStart {
		if c.Hostname == "" {
			return errors.New("--hostname must be set in production mode (start); use start-dev for development")
		}
		// start-dev's throwaway SQLite file must not become production data by accident.
		if !c.DBExplicit {
			return errors.New("production mode (start) needs an explicit database: set --db and --db-url")
		}
	}
	if c.HTTPSCertificateFile != "" && c.HTTPSCertificateKeyFile == "" {
		return errors.New("--https-certificate-file needs --https-certificate-key-file")
	}
	if c.HTTPSCertificateKeyFile != "" && c.HTTPSCertificateFile == "" {
		return errors.New("--https-certificate-key-file needs --https-certificate-file")
	}
	https := c.HTTPSCertificateFile != ""
	if (c.HTTPEnabled && c.HTTPManagementPort == c.HTTPPort) || (https && c.HTTPManagementPort == c.HTTPSPort) {
		return fmt.Errorf("--http-management-port %d is also the HTTP or HTTPS port", c.HTTPManagementPort)
	}
	if c.ImportPrune && c.ImportRealmMode != ImportReconcile {
		return errors.New("--import-prune needs --import-mode reconcile")
	}
	if !https && !c.HTTPEnabled {
		return fmt.Errorf("%s has nothing to serve: set --https-certificate-file and --https-certificate-key-file, or enable plain HTTP with --http-enabled true", c.Mode)
	}
	if https && c.HTTPEnabled && c.HTTPPort == c.HTTPSPort {
		return fmt.Errorf("--http-port and --https-port are both %d", c.HTTPPort)
	}
	return nil
}

// checkDBURL returns why url does not suit db, or nil.
func checkDBURL(db, url string) error {
	isPostgres := strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
	switch {
	case db == DBPostgres && !isPostgres:
		return errors.New("not a postgres:// or postgresql:// URL")
	case db == DBSQLite && strings.Contains(url, "://"):
		return errors.New("a URL needs --db postgres; --db sqlite takes a file path")
	}
	return nil
}

// join keeps dir as written ("./data" stays "./data", unlike filepath.Join),
// so derived defaults read like the documented ones.
func join(dir, name string) string {
	if strings.HasSuffix(dir, string(os.PathSeparator)) {
		return dir + name
	}
	return dir + string(os.PathSeparator) + name
}
