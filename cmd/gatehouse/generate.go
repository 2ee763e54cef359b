package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/generate"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Limits that keep one command bounded.
const (
	maxGenerateUsers    = 10_000_000
	maxGenerateClients  = 1_000_000
	maxGenerateGroups   = 100_000
	maxGenerateSessions = 10_000_000
)

// generateOptions are the options of "gatehouse generate".
type generateOptions struct {
	db, dbURL, dataDir string
	generate.Options
	timeCleanup int
}

func parseGenerate(args []string, stderr io.Writer) (generateOptions, error) {
	var o generateOptions
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.db, "db", config.DBSQLite, "database: sqlite or postgres")
	fs.StringVar(&o.dbURL, "db-url", "", "database: a file for sqlite (default <data-dir>/gatehouse.db), a postgres:// URL for postgres")
	fs.StringVar(&o.dataDir, "data-dir", "data", "directory of the embedded database")
	fs.StringVar(&o.Realm, "realm", "", "realm to fill; created with Keycloak's defaults when it does not exist")
	fs.IntVar(&o.Users, "users", 1000, "users to add: user<N>, password --password, one group each, with attributes dept and employeeNumber")
	fs.IntVar(&o.Clients, "clients", 10, "confidential clients to add: gen-client-<N>, secret "+generate.ClientSecret)
	fs.IntVar(&o.Groups, "groups", 10, "top-level groups to add: gen-group-<N>")
	fs.IntVar(&o.Sessions, "sessions", 1000, "online user sessions to add, spread over the users, each with a client session in one generated client")
	fs.StringVar(&o.Password, "password", "password", "password of every generated user (hashed once with the realm's policy)")
	fs.IntVar(&o.Start, "start", 1, "number of the first generated user, client and group, to add more to a realm already filled")
	fs.IntVar(&o.timeCleanup, "time-cleanup", 0, "after filling, run the expiry cleanup pass this many times and print its latency percentiles")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case o.Realm == "":
		return o, errors.New("option --realm: required")
	case o.db != config.DBSQLite && o.db != config.DBPostgres:
		return o, fmt.Errorf("option --db: %q is not sqlite or postgres", o.db)
	case o.db == config.DBPostgres && o.dbURL == "":
		return o, errors.New("option --db-url: required with --db postgres")
	case o.Users < 0 || o.Users > maxGenerateUsers:
		return o, fmt.Errorf("option --users: want 0 to %d", maxGenerateUsers)
	case o.Clients < 0 || o.Clients > maxGenerateClients:
		return o, fmt.Errorf("option --clients: want 0 to %d", maxGenerateClients)
	case o.Groups < 0 || o.Groups > maxGenerateGroups:
		return o, fmt.Errorf("option --groups: want 0 to %d", maxGenerateGroups)
	case o.Sessions < 0 || o.Sessions > maxGenerateSessions:
		return o, fmt.Errorf("option --sessions: want 0 to %d", maxGenerateSessions)
	case o.Sessions > 0 && (o.Users == 0 || o.Clients == 0):
		return o, errors.New("option --sessions: needs --users and --clients")
	case o.timeCleanup < 0 || o.timeCleanup > 10000:
		return o, errors.New("option --time-cleanup: want 0 to 10000")
	case o.Start < 1:
		return o, errors.New("option --start: want 1 or more")
	}
	if o.db == config.DBSQLite && o.dbURL == "" {
		o.dbURL = filepath.Join(o.dataDir, "gatehouse.db")
	}
	return o, nil
}

// runGenerate is "gatehouse generate": it fills a realm with users, clients,
// groups and sessions for measuring the server at scale (package generate).
func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseGenerate(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %s\n", oneLine(err.Error()))
		return exitUsage
	}
	db, err := store.Open(ctx, store.Dialect(o.db), o.dbURL)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: open database: %s\n", oneLine(err.Error()))
		return exitFail
	}
	defer db.Close()
	if err := generate.Realm(ctx, db, o.Options, time.Now(), stdout); err != nil {
		fmt.Fprintf(stderr, "gatehouse: generate: %s\n", oneLine(err.Error()))
		return exitFail
	}
	if o.timeCleanup > 0 {
		timeCleanup(ctx, db, o.timeCleanup, stdout)
	}
	return exitOK
}

// timeCleanup runs the server's expiry cleanup pass n times at the current
// time and prints how long a pass took: the cost of finding what expired
// in a database of this size.
func timeCleanup(ctx context.Context, db *store.DB, n int, out io.Writer) {
	log := slog.New(slog.DiscardHandler)
	ds := make([]time.Duration, n)
	for i := range ds {
		t := time.Now()
		server.CleanupOnce(ctx, db, log, time.Now())
		ds[i] = time.Since(t)
	}
	slices.Sort(ds)
	at := func(p int) float64 { return float64(ds[min(n-1, (n*p+99)/100-1)].Microseconds()) / 1000 }
	fmt.Fprintf(out, "cleanup pass     %9d runs: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", n, at(50), at(99), at(100))
}
