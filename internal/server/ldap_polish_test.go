package server_test

// LDAP federation over HTTP: refreshes from the directory keep what an
// administrator decided here. Each runs on SQLite and PostgreSQL against slapd.

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/ldap/ldaptest"
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

// The role mapper takes away the roles the directory granted and no longer
// grants, never a role an administrator granted here, even one named like
// a directory role the user is not a member of.
func TestLDAPRoleMapperKeepsHandGrantedRoles(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		e := newLDEnv(t, db, nil)
		uid := uniq("rol")
		dn := e.slapd.AddUser(t, uid, "right-password")
		other := e.slapd.AddUser(t, uniq("oth"), "other-password")
		byHand, fromLDAP := "hand"+uid, "dir"+uid
		e.slapd.Modify(t, "dn: cn="+byHand+","+ldaptest.GroupsDN+"\nchangetype: add\nobjectClass: groupOfNames\ncn: "+byHand+"\nmember: "+other+"\n\n"+
			"dn: cn="+fromLDAP+","+ldaptest.GroupsDN+"\nchangetype: add\nobjectClass: groupOfNames\ncn: "+fromLDAP+"\nmember: "+dn+"\n")
		if r := e.admin(http.MethodPost, "/roles", map[string]any{"name": byHand}); r.status != http.StatusCreated {
			t.Fatalf("create role: %d %s", r.status, r.body)
		}
		if st, body := e.grant(uid, "right-password", "openid"); st != http.StatusOK {
			t.Fatalf("import: %d %v", st, body)
		}
		u := e.user(uid)
		r := e.admin(http.MethodGet, "/roles/"+byHand, nil)
		var rr map[string]any
		json.Unmarshal(r.body, &rr)
		if r := e.admin(http.MethodPost, "/users/"+u.ID+"/role-mappings/realm", []any{rr}); r.status != http.StatusNoContent {
			t.Fatalf("grant by hand: %d %s", r.status, r.body)
		}
		// The directory takes the user out of its own role.
		e.slapd.Modify(t, "dn: cn="+fromLDAP+","+ldaptest.GroupsDN+"\nchangetype: modify\nreplace: member\nmember: "+other+"\n")
		st, body := e.grant(uid, "right-password", "openid")
		if st != http.StatusOK {
			t.Fatalf("login: %d %v", st, body)
		}
		roles := realmRoles(t, body["access_token"].(string))
		if !slices.Contains(roles, byHand) {
			t.Errorf("the login took away the role granted by hand: %v", roles)
		}
		if slices.Contains(roles, fromLDAP) {
			t.Errorf("the directory's revoked role stayed: %v", roles)
		}
	})
}
