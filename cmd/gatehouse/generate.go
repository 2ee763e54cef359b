package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// generateBatch is how many users (or sessions) one transaction writes: big
// enough that commits are a small part of the time, small enough that one
// transaction's memory and SQLite's write lock stay short.
const generateBatch = 5000

// Limits that keep one command bounded.
const (
	maxGenerateUsers    = 10_000_000
	maxGenerateClients  = 1_000_000
	maxGenerateGroups   = 100_000
	maxGenerateSessions = 10_000_000
)

// GeneratedCredentialLabel is the label of every password credential the
// generator writes. All of them hold one hash, computed once: the same
// salt for every user, which real data never has, and which the label
// says so that such a database is never taken for a real one.
const GeneratedCredentialLabel = "generated: shared hash"

// generateOptions are the options of "gatehouse generate".
type generateOptions struct {
	db, dbURL, dataDir string
	realm              string
	users, clients     int
	groups, sessions   int
	password           string
	start              int
}

func parseGenerate(args []string, stderr io.Writer) (generateOptions, error) {
	var o generateOptions
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.db, "db", config.DBSQLite, "database: sqlite or postgres")
	fs.StringVar(&o.dbURL, "db-url", "", "database: a file for sqlite (default <data-dir>/gatehouse.db), a postgres:// URL for postgres")
	fs.StringVar(&o.dataDir, "data-dir", "data", "directory of the embedded database")
	fs.StringVar(&o.realm, "realm", "", "realm to fill; created with Keycloak's defaults when it does not exist")
	fs.IntVar(&o.users, "users", 1000, "users to add: user<N>, password --password, one group each, with attributes dept and employeeNumber")
	fs.IntVar(&o.clients, "clients", 10, "confidential clients to add: gen-client-<N>, secret gen-secret")
	fs.IntVar(&o.groups, "groups", 10, "top-level groups to add: gen-group-<N>")
	fs.IntVar(&o.sessions, "sessions", 1000, "online user sessions to add, spread over the users, each with a client session in one generated client")
	fs.StringVar(&o.password, "password", "password", "password of every generated user (hashed once with the realm's policy)")
	fs.IntVar(&o.start, "start", 1, "number of the first generated user, client and group, to add more to a realm already filled")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case o.realm == "":
		return o, errors.New("option --realm: required")
	case o.db != config.DBSQLite && o.db != config.DBPostgres:
		return o, fmt.Errorf("option --db: %q is not sqlite or postgres", o.db)
	case o.db == config.DBPostgres && o.dbURL == "":
		return o, errors.New("option --db-url: required with --db postgres")
	case o.users < 0 || o.users > maxGenerateUsers:
		return o, fmt.Errorf("option --users: want 0 to %d", maxGenerateUsers)
	case o.clients < 0 || o.clients > maxGenerateClients:
		return o, fmt.Errorf("option --clients: want 0 to %d", maxGenerateClients)
	case o.groups < 0 || o.groups > maxGenerateGroups:
		return o, fmt.Errorf("option --groups: want 0 to %d", maxGenerateGroups)
	case o.sessions < 0 || o.sessions > maxGenerateSessions:
		return o, fmt.Errorf("option --sessions: want 0 to %d", maxGenerateSessions)
	case o.sessions > 0 && (o.users == 0 || o.clients == 0):
		return o, errors.New("option --sessions: needs --users and --clients")
	case o.start < 1:
		return o, errors.New("option --start: want 1 or more")
	}
	if o.db == config.DBSQLite && o.dbURL == "" {
		o.dbURL = filepath.Join(o.dataDir, "gatehouse.db")
	}
	return o, nil
}

// runGenerate is "gatehouse generate": it fills a realm with users, clients,
// groups and sessions for measuring the server at scale. Everything goes
// through the store's own writes, in the form real data has; only the
// password hash is shared (GeneratedCredentialLabel).
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
	if err := generate(ctx, db, o, time.Now(), stdout); err != nil {
		fmt.Fprintf(stderr, "gatehouse: generate: %s\n", oneLine(err.Error()))
		return exitFail
	}
	return exitOK
}

// generate fills the realm o.realm; now is the creation time of everything
// and the clock of the sessions.
func generate(ctx context.Context, db *store.DB, o generateOptions, now time.Time, out io.Writer) error {
	began := time.Now()
	step := func(what string, n int, since time.Time) {
		d := time.Since(since)
		fmt.Fprintf(out, "%-16s %9d in %7.1fs (%.0f/s)\n", what, n, d.Seconds(), float64(n)/max(d.Seconds(), 1e-9))
	}
	r, err := db.GetRealmByName(ctx, o.realm)
	if errors.Is(err, store.ErrNotFound) {
		r = realm.New(store.NewID(), o.realm)
		if err := provision.NewRealm(ctx, db, r, now); err != nil {
			return fmt.Errorf("create realm %q: %w", o.realm, err)
		}
		if r, err = db.GetRealmByName(ctx, o.realm); err != nil {
			return err
		}
		fmt.Fprintf(out, "created realm %s\n", o.realm)
	} else if err != nil {
		return err
	}

	t := time.Now()
	groupIDs := make([]string, o.groups)
	err = inBatches(ctx, db, o.groups, func(tx *store.DB, from, to int) error {
		for i := from; i < to; i++ {
			g := role.Group{ID: store.NewID(), RealmID: r.ID, Name: "gen-group-" + strconv.Itoa(o.start+i)}
			if err := tx.CreateGroup(ctx, g); err != nil {
				return err
			}
			groupIDs[i] = g.ID
		}
		return nil
	})
	if err != nil {
		return err
	}
	step("groups", o.groups, t)

	t = time.Now()
	clientIDs := make([]string, o.clients)
	err = inBatches(ctx, db, o.clients, func(tx *store.DB, from, to int) error {
		for i := from; i < to; i++ {
			c := client.New(store.NewID(), r.ID, "gen-client-"+strconv.Itoa(o.start+i))
			c.Secret = "gen-secret"
			c.DirectAccessGrantsEnabled = true
			c.RedirectURIs = []string{"http://127.0.0.1/callback"}
			if err := provision.CreateClient(ctx, tx, c, now); err != nil {
				return err
			}
			clientIDs[i] = c.ID
		}
		return nil
	})
	if err != nil {
		return err
	}
	step("clients", o.clients, t)

	// One hash for everyone: argon2id at the realm's cost would take hours
	// for a million users, and verifying it costs the same whatever the salt.
	t = time.Now()
	shared, err := user.NewPasswordCredential("", "", o.password, now.UnixMilli(), user.ParseHashPolicy(r.PasswordPolicy))
	if err != nil {
		return err
	}
	userIDs := make([]string, o.users)
	err = inBatches(ctx, db, o.users, func(tx *store.DB, from, to int) error {
		n := to - from
		us := make([]user.User, 0, n)
		cs := make([]user.Credential, 0, n)
		var roles []store.UserRole
		var members []store.GroupMember
		for i := from; i < to; i++ {
			num := o.start + i
			name := fmt.Sprintf("user%07d", num)
			u := user.User{ID: store.NewID(), RealmID: r.ID, Username: name, Email: name + "@example.com",
				FirstName: "First" + strconv.Itoa(num), LastName: "Last" + strconv.Itoa(num),
				Enabled: true, EmailVerified: true, CreatedTimestamp: now.UnixMilli(),
				Attributes: map[string][]string{
					"dept":           {"dept-" + strconv.Itoa(num%1000)},
					"employeeNumber": {strconv.Itoa(num)},
				}}
			userIDs[i] = u.ID
			us = append(us, u)
			c := shared
			c.ID, c.UserID, c.UserLabel = store.NewID(), u.ID, GeneratedCredentialLabel
			cs = append(cs, c)
			if r.DefaultRoleID != "" {
				roles = append(roles, store.UserRole{UserID: u.ID, RoleID: r.DefaultRoleID})
			}
			if len(groupIDs) > 0 {
				members = append(members, store.GroupMember{GroupID: groupIDs[i%len(groupIDs)], UserID: u.ID})
			}
		}
		if err := tx.CreateUsers(ctx, us...); err != nil {
			return err
		}
		if err := tx.CreateCredentials(ctx, cs...); err != nil {
			return err
		}
		if err := tx.MapUserRoles(ctx, roles...); err != nil {
			return err
		}
		return tx.AddGroupMembers(ctx, members...)
	})
	if err != nil {
		return err
	}
	step("users", o.users, t)

	// Sessions are online, begun over the last idle timeout and refreshed
	// since, so they stay live for a while and expire a few at a time after.
	t = time.Now()
	idle := int64(max(r.SSOSessionIdleTimeout, 60))
	sec := now.Unix()
	err = inBatches(ctx, db, o.sessions, func(tx *store.DB, from, to int) error {
		uss := make([]session.UserSession, 0, to-from)
		css := make([]session.ClientSession, 0, to-from)
		for i := from; i < to; i++ {
			started := sec - int64(i)%idle
			us := session.UserSession{ID: store.NewID(), RealmID: r.ID, UserID: userIDs[i%len(userIDs)],
				Started: started, LastRefresh: started + (sec-started)/2, IPAddress: "127.0.0.1",
				AuthMethod: "openid-connect", AuthTime: started}
			uss = append(uss, us)
			css = append(css, session.ClientSession{ID: store.NewID(), UserSessionID: us.ID,
				ClientID: clientIDs[i%len(clientIDs)], Started: started, Timestamp: us.LastRefresh, Scope: "openid profile email"})
		}
		if err := tx.CreateUserSessions(ctx, uss...); err != nil {
			return err
		}
		return tx.CreateClientSessions(ctx, css...)
	})
	if err != nil {
		return err
	}
	step("sessions", o.sessions, t)
	fmt.Fprintf(out, "realm %s filled in %.1fs\n", o.realm, time.Since(began).Seconds())
	return nil
}

// inBatches calls fn for [from, to) ranges covering n, each in its own
// transaction, and stops at the first error or when ctx ends.
func inBatches(ctx context.Context, db *store.DB, n int, fn func(tx *store.DB, from, to int) error) error {
	for from := 0; from < n; from += generateBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		to := min(from+generateBatch, n)
		if err := db.InTx(ctx, func(tx *store.DB) error { return fn(tx, from, to) }); err != nil {
			return err
		}
	}
	return nil
}
