// Package generate fills a realm with synthetic users, clients, groups and
// sessions, for measuring the server at scale and for tests that need a
// realm big enough for the query planners to show their hand. Everything is
// written through the store's own writes, in the form real data has; only
// the password hash is shared (CredentialLabel).
package generate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Batch is how many users (or sessions) one transaction writes: big
// enough that commits are a small part of the time, small enough that one
// transaction's memory and SQLite's write lock stay short.
const Batch = 5000

// CredentialLabel is the label of every password credential the generator
// writes. All of them hold one hash, computed once: the same salt for every
// user, which real data never has, and which the label says so that such a
// database is never taken for a real one.
const CredentialLabel = "generated: shared hash"

// ClientSecret is the secret of every generated client.
const ClientSecret = "gen-secret"

// Options say what Realm adds. Users are user<N> (N from Start, seven
// digits) with email user<N>@example.com, first name First<N>, last name
// Last<N>, attributes dept=dept-<N mod 1000> and employeeNumber=<N>, the
// password Password, the realm's default role and one group each. Clients
// are gen-client-<N>, confidential with ClientSecret and direct access
// grants; groups are gen-group-<N>. Sessions are online user sessions spread
// over the users, each with a client session of one generated client.
type Options struct {
	Realm                            string
	Users, Clients, Groups, Sessions int
	Password                         string
	Start                            int
}

// UserName is the username of generated user n.
func UserName(n int) string { return fmt.Sprintf("user%07d", n) }

// Realm fills the realm o.Realm, creating it with Keycloak's defaults when
// it does not exist; now is the creation time of everything and the clock
// of the sessions. It prints each step's count and time to out.
func Realm(ctx context.Context, db *store.DB, o Options, now time.Time, out io.Writer) error {
	began := time.Now()
	step := func(what string, n int, since time.Time) {
		d := time.Since(since)
		fmt.Fprintf(out, "%-16s %9d in %7.1fs (%.0f/s)\n", what, n, d.Seconds(), float64(n)/max(d.Seconds(), 1e-9))
	}
	r, err := db.GetRealmByName(ctx, o.Realm)
	if errors.Is(err, store.ErrNotFound) {
		r = realm.New(store.NewID(), o.Realm)
		if err := provision.NewRealm(ctx, db, r, now); err != nil {
			return fmt.Errorf("create realm %q: %w", o.Realm, err)
		}
		if r, err = db.GetRealmByName(ctx, o.Realm); err != nil {
			return err
		}
		fmt.Fprintf(out, "created realm %s\n", o.Realm)
	} else if err != nil {
		return err
	}

	t := time.Now()
	groupIDs := make([]string, o.Groups)
	err = inBatches(ctx, db, o.Groups, func(tx *store.DB, from, to int) error {
		for i := from; i < to; i++ {
			g := role.Group{ID: store.NewID(), RealmID: r.ID, Name: "gen-group-" + strconv.Itoa(o.Start+i)}
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
	step("groups", o.Groups, t)

	t = time.Now()
	clientIDs := make([]string, o.Clients)
	err = inBatches(ctx, db, o.Clients, func(tx *store.DB, from, to int) error {
		for i := from; i < to; i++ {
			c := client.New(store.NewID(), r.ID, "gen-client-"+strconv.Itoa(o.Start+i))
			c.Secret = ClientSecret
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
	step("clients", o.Clients, t)

	// One hash for everyone: argon2id at the realm's cost would take hours
	// for a million users, and verifying it costs the same whatever the salt.
	t = time.Now()
	shared, err := user.NewPasswordCredential("", "", o.Password, now.UnixMilli(), user.ParseHashPolicy(r.PasswordPolicy))
	if err != nil {
		return err
	}
	userIDs := make([]string, o.Users)
	err = inBatches(ctx, db, o.Users, func(tx *store.DB, from, to int) error {
		n := to - from
		us := make([]user.User, 0, n)
		cs := make([]user.Credential, 0, n)
		var roles []store.UserRole
		var members []store.GroupMember
		for i := from; i < to; i++ {
			num := o.Start + i
			name := UserName(num)
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
			c.ID, c.UserID, c.UserLabel = store.NewID(), u.ID, CredentialLabel
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
	step("users", o.Users, t)

	// Sessions are online, begun over the last idle timeout and refreshed
	// since, so they stay live for a while and expire a few at a time after.
	t = time.Now()
	idle := int64(max(r.SSOSessionIdleTimeout, 60))
	sec := now.Unix()
	err = inBatches(ctx, db, o.Sessions, func(tx *store.DB, from, to int) error {
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
	step("sessions", o.Sessions, t)

	// The planners' statistics, which a live database gathers some time
	// after large writes: gathered now, a measurement right after the fill
	// sees the plans the grown database will have.
	t = time.Now()
	if err := db.Analyze(ctx); err != nil {
		return fmt.Errorf("planner statistics: %w", err)
	}
	fmt.Fprintf(out, "%-16s %9s in %7.1fs\n", "statistics", "", time.Since(t).Seconds())
	fmt.Fprintf(out, "realm %s filled in %.1fs\n", o.Realm, time.Since(began).Seconds())
	return nil
}

// inBatches calls fn for [from, to) ranges covering n, each in its own
// transaction, and stops at the first error or when ctx ends.
func inBatches(ctx context.Context, db *store.DB, n int, fn func(tx *store.DB, from, to int) error) error {
	for from := 0; from < n; from += Batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		to := min(from+Batch, n)
		if err := db.InTx(ctx, func(tx *store.DB) error { return fn(tx, from, to) }); err != nil {
			return err
		}
	}
	return nil
}
