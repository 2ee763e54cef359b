// Command gatehouse is the Gatehouse identity server. Its commands mirror
// Keycloak's kc.sh: start-dev and start serve, import and export move realms
// in and out of the database as Keycloak realm JSON, version prints the build.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/gatehouse-iam/gatehouse/internal/usersync"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/admin"
	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/metrics"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// version is set at build time: go build -ldflags "-X main.version=1.2.3".
// Read it through buildVersion.
var version = "dev"

// buildVersion is Gatehouse's version: the linker's main.version, else the
// module version that go install or a build in a tagged checkout stamps
// into the binary, else "dev" for a developer's build with neither. A
// release build always sets the first (the Dockerfile refuses to build
// without it), so a released binary never reports "dev".
func buildVersion() string {
	if version != "" && version != "dev" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

// Exit codes: 2 for a usage error, as kc.sh uses; 1 for anything that went
// wrong after the options were accepted.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func main() {
	start := time.Now() // first, so the ready line measures the whole start
	os.Exit(run(start, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(start time.Time, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, config.Usage(""))
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "help", "-h", "--help":
		mode := ""
		if len(rest) > 0 {
			mode = rest[0]
		}
		fmt.Fprint(stdout, config.Usage(mode))
		return exitOK
	case "version", "--version":
		fmt.Fprintln(stdout, versionLine())
		return exitOK
	case "health":
		return runHealth(rest, getenv, stdout, stderr)
	case "generate":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runGenerate(ctx, rest, stdout, stderr)
	case config.ModeStartDev, config.ModeStart, config.ModeImport, config.ModeExport:
	default:
		fmt.Fprintf(stderr, "gatehouse: unknown command %q; run 'gatehouse help' for the list\n", cmd)
		return exitUsage
	}

	cfg, err := config.Load(cmd, rest, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, config.Usage(cmd))
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %s\n", oneLine(err.Error()))
		return exitUsage
	}
	log := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)

	// The first SIGINT or SIGTERM cancels ctx; stopping the notification then
	// lets a second one kill the process at once, for a shutdown that hangs.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)

	switch cmd {
	case config.ModeImport:
		return runImport(ctx, cfg, log, stdout, stderr)
	case config.ModeExport:
		return runExport(ctx, cfg, log, stderr)
	}
	tuneGC(getenv)
	return serve(ctx, start, cfg, log)
}

// serve runs start and start-dev until ctx is cancelled.
func serve(ctx context.Context, start time.Time, cfg config.Config, log *slog.Logger) int {
	now := time.Now
	log.Info("starting", "version", buildVersion(), "keycloak", admin.KeycloakVersion, "mode", cfg.Mode, "db", cfg.DB)
	admin.Version = buildVersion()
	log.Debug("configuration", "config", cfg) // Config.LogValue redacts secrets

	urls, err := publicURLs(cfg)
	if err != nil {
		log.Error("invalid --hostname", "err", err)
		return exitUsage
	}
	// The management listener comes up first, so probes can tell a node
	// that is still migrating (started DOWN) from one that is gone.
	var m *metrics.Metrics
	if cfg.MetricsEnabled {
		m = metrics.New(buildVersion(), log)
	}
	mgmt := &server.Management{Log: log, Metrics: m}
	mgmtAddr, err := mgmt.Listen(cfg.HTTPHost, cfg.HTTPManagementPort)
	if err != nil {
		log.Error("cannot listen on the management port", "err", err)
		return exitFail
	}
	defer mgmt.Close()
	context.AfterFunc(ctx, mgmt.Drain)
	db, err := openStore(ctx, cfg)
	if err != nil {
		log.Error("cannot open the database", "err", err)
		return exitFail
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("close database", "err", err)
		}
	}()
	m.ObserveStore(db)
	// Other nodes' configuration changes drop this node's cache at once.
	db.ListenConfigChanges(ctx, log)

	// Import before creating master, so an import directory holding
	// master-realm.json provides the master realm, as Keycloak does.
	if cfg.ImportRealm {
		err := importDir(ctx, log, db, cfg.ImportDir, importOptions(cfg, true, now()))
		if errors.Is(err, os.ErrNotExist) {
			log.Warn("--import-realm: import directory does not exist; nothing imported", "dir", cfg.ImportDir)
		} else if err != nil {
			log.Error("--import-realm failed", "err", err)
			return exitFail
		}
	}
	created, err := provision.Master(ctx, db, cfg.BootstrapAdminUsername, cfg.BootstrapAdminPassword, now())
	if err != nil {
		log.Error("cannot set up the master realm", "err", err)
		return exitFail
	}
	if created {
		log.Info("created the temporary bootstrap admin user in the master realm; replace it with a permanent admin",
			"username", cfg.BootstrapAdminUsername)
	} else if err := warnWithoutAdmin(ctx, log, db, cfg); err != nil {
		log.Error("cannot read the master realm", "err", err)
		return exitFail
	}

	cleanupCtx, stopCleanup := context.WithCancel(ctx)
	defer stopCleanup()
	go server.Cleanup(cleanupCtx, db, log, time.Now, server.CleanupInterval)
	// Periodic LDAP syncs (fullSyncPeriod, changedSyncPeriod): every node
	// ticks, the database lease lets one run each.
	go (&usersync.Syncer{DB: db, Log: log, Now: time.Now, Node: usersync.ThisNode}).Run(cleanupCtx, usersync.TickInterval)

	if cfg.TruststorePaths != "" {
		pool, err := ldap.LoadTruststore(strings.Split(cfg.TruststorePaths, ","))
		if err != nil {
			log.Error("invalid --truststore-paths", "err", err)
			return exitUsage
		}
		ldap.SetTruststore(pool)
	}
	limits, err := server.LimitsFromConfig(cfg)
	if err != nil { // config.Load has validated the options
		log.Error("invalid rate limit options", "err", err)
		return exitUsage
	}
	var access *web.AccessLog
	if cfg.HTTPAccessLogEnabled {
		access = web.NewAccessLog(log, now)
		defer access.Close() // after the last request: writes what is buffered
	}
	h := server.New(server.Options{Store: db, Log: log, URLs: urls, Metrics: m, Limits: limits, AccessLog: access,
		Outbound: outbound.New(outbound.Options{AllowPrivate: cfg.OutboundAllowPrivate})})
	err = server.Run(ctx, cfg, h, log, func(listening []string) {
		mgmt.Started(db)
		// The start's one-time work (migrations, the first provisioning
		// of the master realm with its keys, the route tables) leaves
		// free heap pages that the runtime would keep for a load that
		// may never come: hand them back once, so an idle node holds
		// what it uses. Under load the heap grows again as it needs.
		debug.FreeOSMemory()
		log.Info("ready", "listening", strings.Join(listening, " "), "management", "http://"+mgmtAddr,
			"startup_ms", float64(time.Since(start).Microseconds())/1000)
	})
	if err != nil {
		log.Error("server failed", "err", err)
		return exitFail
	}
	log.Info("stopped")
	return exitOK
}

// warnWithoutAdmin tells the operator once per start that nobody can sign in
// to the admin console, and how to fix it.
func warnWithoutAdmin(ctx context.Context, log *slog.Logger, db *store.DB, cfg config.Config) error {
	m, err := db.GetRealmByName(ctx, realm.MasterName)
	if err != nil {
		return err
	}
	n, err := db.CountUsers(ctx, m.ID)
	if err != nil || n > 0 {
		return err
	}
	log.Warn("the master realm has no user, so nobody can administer this server; restart with " +
		"--bootstrap-admin-password (or GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD) to create a temporary admin")
	return nil
}

// publicURLs turns the hostname options into the URLs every handler builds
// issuers and links from. Without --hostname they follow each request.
func publicURLs(cfg config.Config) (web.URLs, error) {
	rel := cfg.HTTPRelativePath
	if rel == "/" {
		rel = ""
	}
	u := web.URLs{RelativePath: rel, ProxyHeaders: cfg.ProxyHeaders}
	if cfg.Hostname == "" {
		return u, nil
	}
	h, err := web.ParseHostname(cfg.Hostname)
	if err != nil {
		return web.URLs{}, err
	}
	// A full URL fixes the path too (a proxy may map "/" to our "/auth"),
	// but a bare host name keeps the server's own relative path, as in
	// Keycloak's hostname v2.
	if !strings.Contains(cfg.Hostname, "://") {
		h.Path = rel
	}
	u.Hostname = h
	return u, nil
}

func openStore(ctx context.Context, cfg config.Config) (*store.DB, error) {
	return store.Open(ctx, store.Dialect(cfg.DB), cfg.DBURL)
}

func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		lvl = slog.LevelInfo // config.Load has validated it
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func versionLine() string {
	line := fmt.Sprintf("gatehouse %s (Keycloak %s API, %s %s/%s", buildVersion(), admin.KeycloakVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				line += ", commit " + s.Value[:12]
			}
		}
	}
	return line + ")"
}

// oneLine keeps an error on the single line scripts and kc.sh users expect.
func oneLine(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", " ")
}
