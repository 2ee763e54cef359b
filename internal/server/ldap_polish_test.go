package server_test

// LDAP federation over HTTP: refreshes from the directory keep what an
// administrator decided here. Each runs on SQLite and PostgreSQL against slapd.

import (
	"net/http"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// emailVerified is decided by trustEmail when the user is imported (or its
// email changes in the directory); an administrator's verification
// survives later logins.
func TestLDAPEmailVerifiedKept(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		e := newLDEnv(t, db, map[string]string{"trustEmail": "false"})
		uid := uniq("ver")
		e.slapd.AddUser(t, uid, "right-password")
		if st, body := e.grant(uid, "right-password", "openid"); st != http.StatusOK {
			t.Fatalf("import: %d %v", st, body)
		}
		u := e.user(uid)
		if u.EmailVerified {
			t.Fatalf("imported with emailVerified under trustEmail=false")
		}
		if r := e.admin(http.MethodPut, "/users/"+u.ID, map[string]any{"emailVerified": true}); r.status != http.StatusNoContent {
			t.Fatalf("verify: %d %s", r.status, r.body)
		}
		if st, body := e.grant(uid, "right-password", "openid"); st != http.StatusOK {
			t.Fatalf("login: %d %v", st, body)
		}
		if !e.user(uid).EmailVerified {
			t.Errorf("the login reset emailVerified")
		}
		// A new address in the directory is not verified (trustEmail off).
		e.slapd.Modify(t, "dn: uid="+uid+",ou=People,dc=example,dc=org\nchangetype: modify\nreplace: mail\nmail: new-"+uid+"@example.org\n")
		if st, body := e.grant(uid, "right-password", "openid"); st != http.StatusOK {
			t.Fatalf("login: %d %v", st, body)
		}
		if got := e.user(uid); got.EmailVerified || got.Email != "new-"+uid+"@example.org" {
			t.Errorf("after an email change in the directory: %q verified=%v", got.Email, got.EmailVerified)
		}
	})
}
