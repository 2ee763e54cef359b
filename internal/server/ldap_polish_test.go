package server_test

// LDAP federation over HTTP: refreshes from the directory keep what an
// administrator decided here. Each runs on SQLite and PostgreSQL against slapd.

import (
	"encoding/json"
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

// Logging in by email searches the directory attribute the provider's
// email mapper reads, not a fixed one.
func TestLDAPLoginByMappedEmail(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		e := newLDEnv(t, db, nil)
		r := e.admin(http.MethodGet, "/components?parent="+e.providerID+"&name=email", nil)
		var cs []map[string]any
		json.Unmarshal(r.body, &cs)
		if r.status != http.StatusOK || len(cs) != 1 {
			t.Fatalf("email mapper: %d %s", r.status, r.body)
		}
		m := cs[0]
		m["config"].(map[string]any)["ldap.attribute"] = []string{"description"}
		if r := e.admin(http.MethodPut, "/components/"+m["id"].(string), m); r.status != http.StatusNoContent {
			t.Fatalf("update mapper: %d %s", r.status, r.body)
		}
		uid := uniq("alt")
		e.slapd.AddUser(t, uid, "right-password")
		e.slapd.Modify(t, "dn: uid="+uid+",ou=People,dc=example,dc=org\nchangetype: modify\nadd: description\ndescription: alt-"+uid+"@example.net\n")
		if st, body := e.grant(uid+"@example.org", "right-password", "openid"); st != http.StatusUnauthorized {
			t.Errorf("login by the unmapped mail attribute: %d %v", st, body["error"])
		}
		if st, body := e.grant("alt-"+uid+"@example.net", "right-password", "openid"); st != http.StatusOK {
			t.Fatalf("login by the mapped email: %d %v", st, body)
		}
		if got := e.user(uid); got.Email != "alt-"+uid+"@example.net" {
			t.Errorf("email %q", got.Email)
		}
	})
}
