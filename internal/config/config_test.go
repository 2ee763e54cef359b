package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// valid start flags, so start cases can test one thing at a time.
var startArgs = []string{"--hostname", "auth.example.com", "--db", "sqlite", "--http-enabled", "true"}

func TestLoadDefaults(t *testing.T) {
	tests := []struct {
		name string
		mode string
		args []string
		want Config
	}{
		{
			name: "start-dev listens on loopback over HTTP with SQLite under ./data",
			mode: ModeStartDev,
			want: Config{
				Mode: ModeStartDev, HTTPHost: "127.0.0.1", HTTPPort: 8080, HTTPEnabled: true, HTTPSPort: 8443,
				HTTPRelativePath: "/", RateLimit: true, RateLimitIP: "off", DB: DBSQLite, DBURL: "./data/gatehouse.db",
				ImportDir: "./data/import", ImportRealmMode: "skip", DataDir: "./data", LogLevel: "info", LogFormat: "text",
				HTTPManagementPort: 9000, MetricsEnabled: true,
			},
		},
		{
			name: "the access log is an option",
			mode: ModeStartDev,
			args: []string{"--http-access-log-enabled", "true"},
			want: Config{
				Mode: ModeStartDev, HTTPHost: "127.0.0.1", HTTPPort: 8080, HTTPEnabled: true, HTTPSPort: 8443,
				HTTPRelativePath: "/", RateLimit: true, RateLimitIP: "off", DB: DBSQLite, DBURL: "./data/gatehouse.db",
				ImportDir: "./data/import", ImportRealmMode: "skip", DataDir: "./data", LogLevel: "info", LogFormat: "text",
				HTTPManagementPort: 9000, MetricsEnabled: true, HTTPAccessLogEnabled: true,
			},
		},
		{
			name: "start listens on all interfaces with HTTP off",
			mode: ModeStart,
			args: []string{"--hostname", "auth.example.com", "--db", "sqlite",
				"--https-certificate-file", "c.pem", "--https-certificate-key-file", "k.pem"},
			want: Config{
				Mode: ModeStart, HTTPHost: "0.0.0.0", HTTPPort: 8080, HTTPEnabled: false, HTTPSPort: 8443,
				HTTPSCertificateFile: "c.pem", HTTPSCertificateKeyFile: "k.pem", Hostname: "auth.example.com",
				HTTPRelativePath: "/", RateLimit: true, RateLimitIP: "off", DB: DBSQLite, DBURL: "./data/gatehouse.db", DBExplicit: true,
				ImportDir: "./data/import", ImportRealmMode: "skip", DataDir: "./data", LogLevel: "info", LogFormat: "text",
				HTTPManagementPort: 9000, MetricsEnabled: true,
			},
		},
		{
			name: "import sets only database, log and import options",
			mode: ModeImport,
			args: []string{"--file", "realm.json"},
			want: Config{
				Mode: ModeImport, DB: DBSQLite, DBURL: "./data/gatehouse.db", DataDir: "./data",
				LogLevel: "info", LogFormat: "text", File: "realm.json", ImportMode: "create",
			},
		},
		{
			name: "import reconciles, prunes and dry-runs on request",
			mode: ModeImport,
			args: []string{"--file", "realm.json", "--mode", "reconcile", "--prune", "--dry-run"},
			want: Config{
				Mode: ModeImport, DB: DBSQLite, DBURL: "./data/gatehouse.db", DataDir: "./data",
				LogLevel: "info", LogFormat: "text", File: "realm.json", ImportMode: "reconcile", Prune: true, DryRun: true,
			},
		},
		{
			name: "export takes a realm and a directory",
			mode: ModeExport,
			args: []string{"--dir", "out", "--realm", "acme"},
			want: Config{
				Mode: ModeExport, DB: DBSQLite, DBURL: "./data/gatehouse.db", DataDir: "./data",
				LogLevel: "info", LogFormat: "text", Dir: "out", Realm: "acme",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(tt.mode, tt.args, nil)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got != tt.want {
				t.Errorf("Load:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestLoadSources(t *testing.T) {
	dev := func(edit func(c *Config)) Config {
		c, err := Load(ModeStartDev, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		edit(&c)
		return c
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want Config
	}{
		{
			name: "environment variable is used",
			env:  map[string]string{"GATEHOUSE_HTTP_PORT": "9090", "GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD": "pw"},
			want: dev(func(c *Config) {
				c.HTTPPort = 9090
				c.BootstrapAdminPassword = "pw"
				c.BootstrapAdminUsername = "admin"
			}),
		},
		{
			name: "rate limits and trusted proxies are read and normalised",
			args: []string{"--rate-limit", "false", "--rate-limit-ip", "0.5:10", "--trusted-proxies", " 10.1.2.3/8, 2001:db8::1 "},
			want: dev(func(c *Config) {
				c.RateLimit = false
				c.RateLimitIP = "0.5:10"
				c.TrustedProxies = "10.0.0.0/8,2001:db8::1/128"
			}),
		},
		{
			name: "flag overrides environment",
			args: []string{"--http-port", "7070"},
			env:  map[string]string{"GATEHOUSE_HTTP_PORT": "9090"},
			want: dev(func(c *Config) { c.HTTPPort = 7070 }),
		},
		{
			name: "name=value form is accepted",
			args: []string{"--http-port=7070", "--log-level=DEBUG"},
			want: dev(func(c *Config) { c.HTTPPort = 7070; c.LogLevel = "debug" }),
		},
		{
			name: "KC_ bootstrap variables are a fallback",
			env:  map[string]string{"KC_BOOTSTRAP_ADMIN_USERNAME": "root", "KC_BOOTSTRAP_ADMIN_PASSWORD": "kcpw"},
			want: dev(func(c *Config) { c.BootstrapAdminUsername = "root"; c.BootstrapAdminPassword = "kcpw" }),
		},
		{
			name: "GATEHOUSE_ bootstrap variable wins over KC_",
			env: map[string]string{"KC_BOOTSTRAP_ADMIN_PASSWORD": "kcpw",
				"GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD": "ghpw"},
			want: dev(func(c *Config) { c.BootstrapAdminUsername = "admin"; c.BootstrapAdminPassword = "ghpw" }),
		},
		{
			name: "flag wins over KC_ variable",
			args: []string{"--bootstrap-admin-username", "ops"},
			env:  map[string]string{"KC_BOOTSTRAP_ADMIN_USERNAME": "root"},
			want: dev(func(c *Config) { c.BootstrapAdminUsername = "ops" }),
		},
		{
			name: "KC_ is not read for other options",
			env:  map[string]string{"KC_HTTP_PORT": "9090"},
			want: dev(func(c *Config) {}),
		},
		{
			name: "no bootstrap admin without a password",
			env:  map[string]string{},
			want: dev(func(c *Config) { c.BootstrapAdminUsername = "" }),
		},
		{
			name: "boolean as a switch and as kc.sh writes it",
			args: []string{"--import-realm", "--http-enabled", "false", "--https-certificate-file", "c", "--https-certificate-key-file", "k"},
			want: dev(func(c *Config) {
				c.ImportRealm = true
				c.HTTPEnabled = false
				c.HTTPSCertificateFile, c.HTTPSCertificateKeyFile = "c", "k"
			}),
		},
		{
			name: "data dir moves the derived database and import paths",
			env:  map[string]string{"GATEHOUSE_DATA_DIR": "/var/lib/gatehouse"},
			want: dev(func(c *Config) {
				c.DataDir = "/var/lib/gatehouse"
				c.DBURL = "/var/lib/gatehouse/gatehouse.db"
				c.ImportDir = "/var/lib/gatehouse/import"
			}),
		},
		{
			name: "postgres URL from the environment marks the database explicit",
			env:  map[string]string{"GATEHOUSE_DB": "postgres", "GATEHOUSE_DB_URL": "postgresql://u:p@h/db"},
			want: dev(func(c *Config) { c.DB = DBPostgres; c.DBURL = "postgresql://u:p@h/db"; c.DBExplicit = true }),
		},
		{
			name: "database URL alone makes the database explicit",
			args: []string{"--db-url", "/srv/gh.db"},
			want: dev(func(c *Config) { c.DBURL = "/srv/gh.db"; c.DBExplicit = true }),
		},
		{
			name: "empty environment variable counts as unset",
			env:  map[string]string{"GATEHOUSE_HTTP_PORT": ""},
			want: dev(func(c *Config) {}),
		},
		{
			name: "relative path loses its trailing slash",
			args: []string{"--http-relative-path", "/auth/"},
			want: dev(func(c *Config) { c.HTTPRelativePath = "/auth" }),
		},
		{
			name: "relative path of slashes is the root",
			args: []string{"--http-relative-path", "//"},
			want: dev(func(c *Config) { c.HTTPRelativePath = "/" }),
		},
		{
			name: "proxy headers",
			args: []string{"--proxy-headers", "xforwarded"},
			want: dev(func(c *Config) { c.ProxyHeaders = "xforwarded" }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(ModeStartDev, tt.args, env(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got != tt.want {
				t.Errorf("Load:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestHostnameAccepted(t *testing.T) {
	for _, h := range []string{
		"auth.example.com",
		"localhost",
		"192.0.2.10",
		"[2001:db8::1]",
		"https://auth.example.com",
		"https://auth.example.com:8443/auth",
		"http://localhost:8080",
		"https://[2001:db8::1]:8443",
	} {
		t.Run(h, func(t *testing.T) {
			c, err := Load(ModeStart, []string{"--hostname", h, "--db", "sqlite", "--http-enabled", "true"}, nil)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.Hostname != h {
				t.Errorf("Hostname = %q, want %q", c.Hostname, h)
			}
		})
	}
}

func TestLoadBadValue(t *testing.T) {
	tests := []struct {
		name       string
		mode       string
		args       []string
		env        map[string]string
		wantOption string
		wantValue  string
	}{
		{name: "unknown flag", args: []string{"--http-prot", "80"}, wantOption: "--http-prot"},
		{name: "option of another command", mode: ModeImport, args: []string{"--file", "f", "--http-port", "80"}, wantOption: "--http-port"},
		{name: "flag without its value", args: []string{"--http-port"}, wantOption: "--http-port"},
		{name: "positional argument", args: []string{"start"}, wantValue: "start"},
		{name: "non-integer port", args: []string{"--http-port", "abc"}, wantOption: "--http-port", wantValue: "abc"},
		{name: "port zero", args: []string{"--http-port=0"}, wantOption: "--http-port", wantValue: "0"},
		{name: "port too large", args: []string{"--https-port", "65536"}, wantOption: "--https-port", wantValue: "65536"},
		{name: "bad port from environment names the variable", env: map[string]string{"GATEHOUSE_HTTP_PORT": "abc"},
			wantOption: "GATEHOUSE_HTTP_PORT", wantValue: "abc"},
		{name: "unknown database", args: []string{"--db", "mysql"}, wantOption: "--db", wantValue: "mysql"},
		{name: "unknown proxy headers", args: []string{"--proxy-headers", "x-forwarded"}, wantOption: "--proxy-headers", wantValue: "x-forwarded"},
		{name: "unknown log level", args: []string{"--log-level", "verbose"}, wantOption: "--log-level", wantValue: "verbose"},
		{name: "empty log level", args: []string{"--log-level="}, wantOption: "--log-level"},
		{name: "unknown log format", args: []string{"--log-format", "xml"}, wantOption: "--log-format", wantValue: "xml"},
		{name: "relative path without leading slash", args: []string{"--http-relative-path", "auth"}, wantOption: "--http-relative-path", wantValue: "auth"},
		{name: "relative path with dot segments", args: []string{"--http-relative-path", "/a/../b"}, wantOption: "--http-relative-path", wantValue: "/a/../b"},
		{name: "hostname with bad characters", args: []string{"--hostname", "auth example.com"}, wantOption: "--hostname", wantValue: "auth example.com"},
		{name: "hostname with a port but no scheme", args: []string{"--hostname", "auth.example.com:8443"}, wantOption: "--hostname", wantValue: "auth.example.com:8443"},
		{name: "hostname URL with another scheme", args: []string{"--hostname", "ftp://auth.example.com"}, wantOption: "--hostname", wantValue: "ftp://auth.example.com"},
		{name: "hostname URL without a host", args: []string{"--hostname", "https://"}, wantOption: "--hostname", wantValue: "https://"},
		{name: "boolean that is not true or false", args: []string{"--http-enabled=yes"}, wantOption: "--http-enabled", wantValue: "yes"},
		{name: "rate limit without a burst", args: []string{"--rate-limit-ip", "50"}, wantOption: "--rate-limit-ip", wantValue: "50"},
		{name: "rate limit of zero", args: []string{"--rate-limit-ip", "0:10"}, wantOption: "--rate-limit-ip", wantValue: "0:10"},
		{name: "trusted proxy that is a host name", args: []string{"--trusted-proxies", "10.0.0.0/8,proxy.local"},
			wantOption: "--trusted-proxies", wantValue: "10.0.0.0/8,proxy.local"},
		{name: "postgres with a non-postgres URL hides the password",
			args:       []string{"--db", "postgres", "--db-url", "mysql://u:secret@h/db"},
			wantOption: "--db-url", wantValue: "mysql://u:xxxxx@h/db"},
		{name: "postgres URL without --db postgres", env: map[string]string{"GATEHOUSE_DB_URL": "postgres://h/db"},
			wantOption: "GATEHOUSE_DB_URL", wantValue: "postgres://h/db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mode := tt.mode
			if mode == "" {
				mode = ModeStartDev
			}
			_, err := Load(mode, tt.args, env(tt.env))
			var oe *OptionError
			if !errors.As(err, &oe) {
				t.Fatalf("Load error = %v, want an *OptionError", err)
			}
			if oe.Option != tt.wantOption || oe.Value != tt.wantValue {
				t.Errorf("OptionError{Option: %q, Value: %q}, want {%q, %q}", oe.Option, oe.Value, tt.wantOption, tt.wantValue)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message spans lines: %q", msg)
			}
			if !strings.Contains(msg, tt.wantOption) || !strings.Contains(msg, tt.wantValue) || strings.Contains(msg, "secret") {
				t.Errorf("message %q should name %q and %q and hide secrets", msg, tt.wantOption, tt.wantValue)
			}
		})
	}
}

func TestOptionErrorMessage(t *testing.T) {
	tests := []struct {
		err  OptionError
		want string
	}{
		{OptionError{"--http-port", "abc", "not a port number"}, `invalid value "abc" for option --http-port: not a port number`},
		{OptionError{"GATEHOUSE_HTTP_PORT", "abc", "not a port number"}, `invalid value "abc" for environment variable GATEHOUSE_HTTP_PORT: not a port number`},
		{OptionError{"--foo", "", "no such option"}, `option --foo: no such option`},
		{OptionError{"", "start", "unexpected argument"}, `unexpected argument "start"`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestLoadHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		if _, err := Load(ModeStart, []string{arg}, nil); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("Load(%s) error = %v, want flag.ErrHelp", arg, err)
		}
	}
}

func TestLoadRejectsInconsistentConfig(t *testing.T) {
	tests := []struct {
		name string
		mode string
		args []string
		want string // part of the error
	}{
		{name: "start without hostname", mode: ModeStart, args: []string{"--db", "sqlite", "--http-enabled", "true"},
			want: "--hostname must be set in production mode (start); use start-dev for development"},
		{name: "start without an explicit database", mode: ModeStart, args: []string{"--hostname", "h", "--http-enabled", "true"},
			want: "set --db and --db-url"},
		{name: "start without HTTPS or explicit HTTP", mode: ModeStart, args: []string{"--hostname", "h", "--db", "sqlite"},
			want: "--http-enabled true"},
		{name: "certificate without key", mode: ModeStart, args: append(startArgs, "--https-certificate-file", "c.pem"),
			want: "--https-certificate-file needs --https-certificate-key-file"},
		{name: "key without certificate", mode: ModeStartDev, args: []string{"--https-certificate-key-file", "k.pem"},
			want: "--https-certificate-key-file needs --https-certificate-file"},
		{name: "start-dev with HTTP off and no HTTPS", mode: ModeStartDev, args: []string{"--http-enabled=false"},
			want: "nothing to serve"},
		{name: "HTTP and HTTPS on one port", mode: ModeStartDev,
			args: []string{"--https-port", "8080", "--https-certificate-file", "c", "--https-certificate-key-file", "k"},
			want: "--http-port and --https-port are both 8080"},
		{name: "postgres without a URL", mode: ModeStart, args: []string{"--hostname", "h", "--db", "postgres", "--http-enabled", "true"},
			want: "--db postgres needs --db-url"},
		{name: "import without file or dir", mode: ModeImport, want: "import needs --file or --dir"},
		{name: "export with file and dir", mode: ModeExport, args: []string{"--file", "f", "--dir", "d"}, want: "not both"},
		{name: "management port on the HTTP port", mode: ModeStartDev, args: []string{"--http-management-port", "8080"},
			want: "--http-management-port 8080 is also the HTTP or HTTPS port"},
		{name: "prune without reconcile", mode: ModeImport, args: []string{"--file", "f", "--prune"}, want: "need --mode reconcile"},
		{name: "dry run without reconcile", mode: ModeImport, args: []string{"--file", "f", "--dry-run"}, want: "need --mode reconcile"},
		{name: "reconcile with override", mode: ModeImport, args: []string{"--file", "f", "--mode", "reconcile", "--override"}, want: "choose one"},
		{name: "import prune at start without reconcile", mode: ModeStartDev, args: []string{"--import-prune"}, want: "--import-prune needs --import-mode reconcile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.mode, tt.args, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load error = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("message spans lines: %q", err)
			}
		})
	}
}

func TestValidateHandBuiltConfig(t *testing.T) {
	good, err := Load(ModeStart, startArgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(c *Config)
		want string // "" for valid
	}{
		{name: "loaded config is valid", edit: func(c *Config) {}},
		{name: "unknown mode", edit: func(c *Config) { c.Mode = "serve" }, want: `unknown command "serve"`},
		{name: "zero port", edit: func(c *Config) { c.HTTPPort = 0 }, want: "--http-port"},
		{name: "relative path with trailing slash", edit: func(c *Config) { c.HTTPRelativePath = "/auth/" }, want: "not normalised"},
		{name: "upper-case log level", edit: func(c *Config) { c.LogLevel = "INFO" }, want: "--log-level"},
		{name: "empty database URL", edit: func(c *Config) { c.DBURL = "" }, want: "--db-url"},
		{name: "hostname removed", edit: func(c *Config) { c.Hostname = "" }, want: "--hostname must be set"},
		{name: "rate limit not normalised", edit: func(c *Config) { c.RateLimitIP = "50.0:200" }, want: "not normalised"},
		{name: "trusted proxies normalised", edit: func(c *Config) { c.TrustedProxies = "10.0.0.0/8,192.168.1.1/32" }},
		{name: "trusted proxies not normalised", edit: func(c *Config) { c.TrustedProxies = "10.1.0.0/8" }, want: "not normalised"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLogValueRedactsSecrets(t *testing.T) {
	tests := []struct {
		name    string
		dbURL   string
		secrets []string
		keep    string
	}{
		{name: "password in user info", dbURL: "postgres://u:secret@h/db", secrets: []string{"secret"}, keep: "postgres://u:xxxxx@h/db"},
		{name: "password in query", dbURL: "postgresql://h/db?password=secret&sslpassword=secret2&sslmode=verify-full",
			secrets: []string{"secret", "secret2"}, keep: "sslmode=verify-full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(ModeStart, []string{"--hostname", "h", "--http-enabled", "true", "--db", "postgres", "--db-url", tt.dbURL,
				"--bootstrap-admin-password", "hunter2"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "config", c)
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", c)
			for _, out := range []string{buf.String(), c.String()} {
				for _, s := range append(tt.secrets, "hunter2") {
					if strings.Contains(out, s) {
						t.Errorf("output contains %q:\n%s", s, out)
					}
				}
				if !strings.Contains(out, tt.keep) || !strings.Contains(out, "bootstrap-admin-password") {
					t.Errorf("output lacks %q or the password's key:\n%s", tt.keep, out)
				}
			}
		})
	}
}

func TestOptionsAndUsage(t *testing.T) {
	seen := map[string]bool{}
	for _, o := range Options() {
		if seen[o.Name] {
			t.Errorf("option %s listed twice", o.Name)
		}
		seen[o.Name] = true
		wantEnv := "GATEHOUSE_" + strings.ToUpper(strings.ReplaceAll(strings.TrimPrefix(o.Name, "--"), "-", "_"))
		if o.Env != wantEnv || o.Help == "" || len(o.Modes) == 0 {
			t.Errorf("option %+v: want Env %s, a Help and Modes", o, wantEnv)
		}
		for _, m := range []string{ModeStartDev, ModeStart, ModeImport, ModeExport} {
			applies := strings.Contains(","+strings.Join(o.Modes, ",")+",", ","+m+",")
			if got := strings.Contains(Usage(m), "  "+o.Name+" ") || strings.Contains(Usage(m), "  "+o.Name+"\n"); got != applies {
				t.Errorf("Usage(%s) lists %s: %v, want %v", m, o.Name, got, applies)
			}
		}
	}
	// Every Config field but Mode and DBExplicit is set by exactly one option.
	var c Config
	fields := map[string]bool{}
	for _, o := range options {
		fields[fmt.Sprintf("%p", o.field(&c))] = true
	}
	if want := reflect.TypeFor[Config]().NumField() - 2; len(fields) != want || len(options) != want {
		t.Errorf("%d options over %d fields, want one option for each of %d fields", len(options), len(fields), want)
	}
	if !strings.Contains(Usage("nope"), "start-dev") {
		t.Errorf("Usage of an unknown command should list the commands:\n%s", Usage("nope"))
	}
}
