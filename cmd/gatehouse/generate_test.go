package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/generate"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// gatehouse generate fills a realm, on both databases, with rows in the
// form the server writes: the users log in with the given password through
// the one shared hash, labelled as such, and a second run adds to the
// realm from --start.
func TestGenerateFillsARealm(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			var dbArgs []string
			dsn := filepath.Join(t.TempDir(), "gatehouse.db")
			if db == "postgres" {
				dsn = storetest.PostgresURL(t)
				dbArgs = []string{"--db", "postgres", "--db-url", dsn}
			} else {
				dbArgs = []string{"--db-url", dsn}
			}
			args := append([]string{"generate", "--realm", "big", "--users", "120", "--clients", "7", "--groups", "3",
				"--sessions", "150", "--password", "s3cret", "--time-cleanup", "3"}, dbArgs...)
			res := gatehouse(t, nil, args...)
			if res.code != exitOK || !strings.Contains(res.stdout, "realm big filled") || !strings.Contains(res.stdout, "cleanup pass") {
				t.Fatalf("generate: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
			}
			more := append([]string{"generate", "--realm", "big", "--users", "5", "--clients", "1", "--groups", "1",
				"--sessions", "0", "--start", "121"}, dbArgs...)
			if res := gatehouse(t, nil, more...); res.code != exitOK {
				t.Fatalf("generate --start 121: exit %d\n%s", res.code, res.stderr)
			}

			ctx := context.Background()
			s, err := store.Open(ctx, store.Dialect(db), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			r, err := s.GetRealmByName(ctx, "big")
			if err != nil {
				t.Fatal(err)
			}
			if n, err := s.CountUsers(ctx, r.ID); err != nil || n != 125 {
				t.Errorf("users: %d, %v; want 125", n, err)
			}
			u, err := s.GetUserByUsername(ctx, r.ID, generate.UserName(42))
			if err != nil {
				t.Fatal(err)
			}
			if u.Email != "user0000042@example.com" || u.FirstName != "First42" || u.Attributes["dept"][0] != "dept-42" {
				t.Errorf("user 42: %+v", u)
			}
			creds, err := s.ListCredentials(ctx, u.ID)
			if err != nil || len(creds) != 1 || creds[0].UserLabel != generate.CredentialLabel {
				t.Fatalf("credentials of user 42: %+v, %v", creds, err)
			}
			if ok, err := user.VerifyPassword("s3cret", creds[0]); !ok || err != nil {
				t.Errorf("the generated password does not verify: %v", err)
			}
			groups, err := s.ListUserGroups(ctx, u.ID)
			if err != nil || len(groups) != 1 {
				t.Errorf("groups of user 42: %v, %v", groups, err)
			}
			roles, err := s.ListUserRoles(ctx, u.ID)
			if err != nil || len(roles) != 1 || roles[0].ID != r.DefaultRoleID {
				t.Errorf("roles of user 42: %v, %v; want the default role", roles, err)
			}
			// Sessions 1-120 went to users 1-120, 121-150 to users 1-30.
			if ss, err := s.ListUserSessions(ctx, r.ID, u.ID, false); err != nil || len(ss) != 1 {
				t.Errorf("sessions of user 42: %d, %v; want 1", len(ss), err)
			}
			u12, err := s.GetUserByUsername(ctx, r.ID, generate.UserName(12))
			if err != nil {
				t.Fatal(err)
			}
			if ss, err := s.ListUserSessions(ctx, r.ID, u12.ID, false); err != nil || len(ss) != 2 {
				t.Errorf("sessions of user 12: %d, %v; want 2", len(ss), err)
			}
			counts, err := s.CountSessions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range counts {
				if c.Realm == "big" && c.Online != 150 {
					t.Errorf("online sessions: %d, want 150", c.Online)
				}
			}
			for _, id := range []string{"gen-client-7", "gen-client-121"} {
				c, err := s.GetClientByClientID(ctx, r.ID, id)
				if err != nil || c.Secret != generate.ClientSecret || !c.DirectAccessGrantsEnabled {
					t.Errorf("client %s: %+v, %v", id, c, err)
				}
			}
			found, err := s.SearchUsers(ctx, r.ID, store.UserQuery{Attributes: map[string]string{"employeeNumber": "123"}}, 0, 10)
			if err != nil || len(found) != 1 || found[0].Username != generate.UserName(123) {
				t.Errorf("search by employeeNumber 123: %v, %v", found, err)
			}
		})
	}
}

// Bad options are usage errors naming the option.
func TestGenerateOptions(t *testing.T) {
	for _, args := range [][]string{
		{"generate"},
		{"generate", "--realm", "r", "--users", "-1"},
		{"generate", "--realm", "r", "--db", "postgres"},
		{"generate", "--realm", "r", "--users", "0", "--sessions", "5"},
	} {
		if res := gatehouse(t, nil, args...); res.code != exitUsage || !strings.Contains(res.stderr, "option --") {
			t.Errorf("%v: exit %d %s, want %d naming the option", args, res.code, res.stderr, exitUsage)
		}
	}
}
