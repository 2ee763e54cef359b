package server_test

// LDAP federation over HTTP: the review's findings, each with the test that
// failed before its fix. Each runs on SQLite and PostgreSQL against slapd.

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/federation"
	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/ldap/ldaptest"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// uniq is a fresh directory uid.
func uniq(prefix string) string { return prefix + strings.ToLower(store.NewID()[:8]) }

// A federated user's links to its directory entry (LDAP_ID, LDAP_ENTRY_DN,
// federationLink) cannot be set by an administrator, even under the
// ADMIN_EDIT unmanaged-attribute policy: a password reset of one user
// never reaches another user's entry.
func TestLDAPFederationLinksReadOnly(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		e := newLDEnv(t, db, nil)
		victim, attacker := uniq("vic"), uniq("att")
		victimDN := e.slapd.AddUser(t, victim, "victim-password")
		e.slapd.AddUser(t, attacker, "attacker-password")
		if st, body := e.grant(victim, "victim-password", "openid"); st != http.StatusOK {
			t.Fatalf("import %s: %d %v", victim, st, body)
		}
		if st, _ := e.grant(attacker, "attacker-password", "openid"); st != http.StatusOK {
			t.Fatalf("import %s: %d", attacker, st)
		}
		r := e.admin(http.MethodGet, "/users/profile", nil)
		var up map[string]any
		json.Unmarshal(r.body, &up)
		up["unmanagedAttributePolicy"] = "ADMIN_EDIT"
		if r := e.admin(http.MethodPut, "/users/profile", up); r.status != http.StatusOK {
			t.Fatalf("profile: %d %s", r.status, r.body)
		}
		vid := e.user(victim).Attributes[federation.AttrLDAPID][0]
		a := e.user(attacker)
		attrs := map[string][]string{federation.AttrLDAPID: {vid}, federation.AttrLDAPEntryDN: {victimDN}, "note": {"x"}}
		r = e.admin(http.MethodPut, "/users/"+a.ID, map[string]any{"attributes": attrs, "federationLink": "elsewhere"})
		if r.status != http.StatusNoContent && r.status != http.StatusBadRequest {
			t.Fatalf("update: %d %s", r.status, r.body)
		}
		if got := e.user(attacker); got.Attributes[federation.AttrLDAPID][0] == vid || got.Attributes[federation.AttrLDAPEntryDN][0] == victimDN || got.FederationLink != e.providerID {
			t.Errorf("the links changed: %+v", got)
		}
		if r := e.resetPassword(a.ID, "attacker-new-pw"); r.status != http.StatusNoContent {
			t.Fatalf("reset: %d %s", r.status, r.body)
		}
		if err := e.slapd.WhoAmI(t, victimDN, "attacker-new-pw"); err == nil {
			t.Errorf("the attacker's reset changed the victim's directory password")
		}

		// Created with the links: a local user, not linked.
		evil := uniq("evil")
		r = e.admin(http.MethodPost, "/users", map[string]any{"username": evil, "enabled": true, "federationLink": e.providerID, "attributes": attrs})
		if r.status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		u := e.user(evil)
		if u.FederationLink != "" || len(u.Attributes[federation.AttrLDAPID]) > 0 || len(u.Attributes[federation.AttrLDAPEntryDN]) > 0 {
			t.Errorf("created with links: %+v", u)
		}
		if r := e.resetPassword(u.ID, "evil-new-pw"); r.status != http.StatusNoContent {
			t.Fatalf("reset: %d %s", r.status, r.body)
		}
		if err := e.slapd.WhoAmI(t, victimDN, "evil-new-pw"); err == nil {
			t.Errorf("a created user's reset changed the victim's directory password")
		}
	})
}

// An administrator's disable and a permanent lockout hold for a federated
// user: the refresh at each login does not enable it again.
func TestLDAPDisabledUserStaysDisabled(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		e := newLDEnv(t, db, nil)
		uid := uniq("dis")
		e.slapd.AddUser(t, uid, "right-password")
		if st, body := e.grant(uid, "right-password", "openid"); st != http.StatusOK {
			t.Fatalf("import: %d %v", st, body)
		}
		u := e.user(uid)
		if r := e.admin(http.MethodPut, "/users/"+u.ID, map[string]any{"enabled": false}); r.status != http.StatusNoContent {
			t.Fatalf("disable: %d %s", r.status, r.body)
		}
		if st, body := e.grant(uid, "right-password", "openid"); st != http.StatusBadRequest || body["error_description"] != "Account disabled" {
			t.Errorf("disabled federated user: %d %v", st, body["error_description"])
		}
		if e.user(uid).Enabled {
			t.Errorf("the login enabled the user again")
		}

		// Permanent lockout: failures disable the user for good.
		if err := db.UpdateRealm(t.Context(), e.rl.ID, func(r *realm.Realm) error { r.PermanentLockout = true; return nil }); err != nil {
			t.Fatal(err)
		}
		uid2 := uniq("lock")
		e.slapd.AddUser(t, uid2, "right-password")
		for range 6 {
			e.clock.Add(2 * time.Second)
			e.grant(uid2, "wrong-password", "openid")
		}
		e.clock.Add(2 * time.Second)
		if st, body := e.grant(uid2, "right-password", "openid"); st == http.StatusOK {
			t.Errorf("permanently locked federated user logged in: %v", body["error"])
		}
		if e.user(uid2).Enabled {
			t.Errorf("permanently locked user enabled again")
		}
	})
}

// A username two directory entries hold logs nobody in, with either
// entry's password.
func TestLDAPAmbiguousUsernameRefused(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		e := newLDEnv(t, db, map[string]string{"searchScope": "2"})
		uid := uniq("twin")
		e.slapd.AddUser(t, uid, "first-password")
		ou := "sub" + uid
		e.slapd.Modify(t, "dn: ou="+ou+","+ldaptest.PeopleDN+"\nchangetype: add\nobjectClass: organizationalUnit\nou: "+ou+"\n\n"+
			"dn: uid="+uid+",ou="+ou+","+ldaptest.PeopleDN+"\nchangetype: add\nobjectClass: inetOrgPerson\nuid: "+uid+"\ncn: Twin\nsn: Twin\nuserPassword: twin-password\n")
		for _, pw := range []string{"first-password", "twin-password"} {
			if st, body := e.grant(uid, pw, "openid"); st != http.StatusUnauthorized {
				t.Errorf("ambiguous username with %s: %d %v", pw, st, body["error"])
			}
		}
		if _, err := db.GetUserByUsername(t.Context(), e.rl.ID, uid); err == nil {
			t.Errorf("an ambiguous entry was imported")
		}
	})
}

// registerAs fills and posts the registration form of realm ldap-demo;
// it returns the status and page.
func (e *ldEnv) registerAs(uid, password string) (int, string) {
	e.t.Helper()
	b := e.browser()
	st, loc := b.do("GET", "/realms/ldap-demo/account/", nil)
	if st != http.StatusFound {
		e.t.Fatalf("console: %d", st)
	}
	b.do("GET", loc, nil)
	if st, page := b.do("GET", strings.Replace(b.action, "/authenticate?", "/registration?", 1), nil); st != http.StatusOK {
		e.t.Fatalf("registration page: %d %s", st, page)
	}
	f := b.fields()
	for k, v := range map[string]string{"username": uid, "email": uid + "@example.net", "firstName": "Reg", "lastName": "Istered",
		"password": password, "password-confirm": password} {
		f.Set(k, v)
	}
	return b.do("POST", b.action, f)
}

// Registering a username the directory holds, under another DN than the
// one registration would create and not imported yet, is refused as taken.
func TestLDAPRegistrationOfDirectoryUsername(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		e := newLDEnv(t, db, map[string]string{"syncRegistrations": "true", "rdnLDAPAttribute": "cn"})
		if err := db.UpdateRealm(t.Context(), e.rl.ID, func(r *realm.Realm) error { r.RegistrationAllowed = true; return nil }); err != nil {
			t.Fatal(err)
		}
		victim := uniq("vic")
		victimDN := e.slapd.AddUser(t, victim, "victim-password")
		st, page := e.registerAs(victim, "attacker-password")
		if st != http.StatusOK || !strings.Contains(page, "Username already exists") {
			t.Errorf("registration of a directory username: %d %.300s", st, page)
		}
		if err := e.slapd.WhoAmI(t, "cn="+victim+","+ldaptest.PeopleDN, "attacker-password"); err == nil {
			t.Errorf("a second entry with the victim's username was created")
		}
		if err := e.slapd.WhoAmI(t, victimDN, "victim-password"); err != nil {
			t.Errorf("victim's entry: %v", err)
		}
		if st, body := e.grant(victim, "victim-password", "openid"); st != http.StatusOK {
			t.Errorf("victim's login: %d %v", st, body["error_description"])
		}
	})
}

// A registration synced to the directory becomes a user through the
// provider's import: its mappers run, so a hardcoded role arrives in the
// first token.
func TestLDAPRegistrationRunsMappers(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		e := newLDEnv(t, db, map[string]string{"syncRegistrations": "true"})
		if err := db.UpdateRealm(t.Context(), e.rl.ID, func(r *realm.Realm) error { r.RegistrationAllowed = true; return nil }); err != nil {
			t.Fatal(err)
		}
		if r := e.admin(http.MethodPost, "/roles", map[string]any{"name": "from-directory"}); r.status != http.StatusCreated {
			t.Fatalf("role: %d %s", r.status, r.body)
		}
		e.createComponent(map[string]any{"name": "registered", "providerId": "hardcoded-ldap-role-mapper", "providerType": "org.keycloak.storage.ldap.mappers.LDAPStorageMapper",
			"parentId": e.providerID, "config": map[string][]string{"role": {"from-directory"}}})
		uid := uniq("reg")
		if st, page := e.registerAs(uid, "registered-pw"); st != http.StatusFound {
			t.Fatalf("register: %d %.300s", st, page)
		}
		if err := e.slapd.WhoAmI(t, ldaptest.UserDN(uid), "registered-pw"); err != nil {
			t.Fatalf("directory entry: %v", err)
		}
		u := e.user(uid)
		if u.FederationLink != e.providerID || u.Email != uid+"@example.net" || len(u.Attributes[federation.AttrLDAPID]) != 1 {
			t.Errorf("registered user %+v", u)
		}
		// Without a new lookup: the stored user already holds the role.
		roles, err := db.ListUserRoles(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range roles {
			found = found || r.Name == "from-directory"
		}
		if !found {
			t.Errorf("the hardcoded role mapper did not run at registration: %+v", roles)
		}
		st, body := e.grant(uid, "registered-pw", "openid")
		if st != http.StatusOK || !slices.Contains(realmRoles(t, body["access_token"].(string)), "from-directory") {
			t.Errorf("token after registration: %d", st)
		}
	})
}

// Filter metacharacters in a login name never match a directory user:
// "*" and friends are unknown users, not user1.
func TestLDAPWildcardUsernames(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		e := newLDEnv(t, db, nil)
		for _, name := range []string{"*", "user*", "user1)(uid=*", "*)(objectClass=*"} {
			if st, body := e.grant(name, "password", "openid"); st != http.StatusUnauthorized || body["error_description"] != "Invalid user credentials" {
				t.Errorf("username %q: %d %v", name, st, body["error_description"])
			}
			if _, err := db.GetUserByUsername(t.Context(), e.rl.ID, "user1"); err == nil {
				t.Fatalf("username %q imported user1", name)
			}
		}
	})
}

// An empty password is refused for a directory user (never an anonymous
// bind), over the password grant, whether the user was imported or not.
func TestLDAPEmptyPassword(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		e := newLDEnv(t, db, nil)
		if st, body := e.grant("user1", "", "openid"); st == http.StatusOK {
			t.Fatalf("empty password before import: %v", body["error"])
		}
		if st, _ := e.grant("user1", "password", "openid"); st != http.StatusOK {
			t.Fatalf("login: %d", st)
		}
		if st, body := e.grant("user1", "", "openid"); st != http.StatusUnauthorized || body["error_description"] != "Invalid user credentials" {
			t.Errorf("empty password after import: %d %v", st, body["error_description"])
		}
	})
}

// A directory outage on the master realm never locks the administrator
// out: the local admin gets tokens and manages realms, a name only the
// directory could know answers 503, and the provider can be fixed.
func TestLDAPOutageOnMasterRealm(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		e := newLDEnv(t, db, nil)
		tok := adminToken(t, e.srv.URL, "admin-pw")
		master, err := db.GetRealmByName(t.Context(), "master")
		if err != nil {
			t.Fatal(err)
		}
		cfg := map[string][]string{
			"vendor": {"other"}, "editMode": {"READ_ONLY"}, "connectionUrl": {ldaptest.DeadURL(t)}, "bindDn": {ldaptest.BindDN},
			"bindCredential": {ldaptest.BindPW}, "usersDn": {ldaptest.PeopleDN}, "usernameLDAPAttribute": {"uid"}, "rdnLDAPAttribute": {"uid"},
			"uuidLDAPAttribute": {"entryUUID"}, "userObjectClasses": {"inetOrgPerson"}, "connectionTimeout": {"500"}, "enabled": {"true"},
		}
		r := do(t, http.MethodPost, e.srv.URL+"/admin/realms/master/components",
			map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"},
			strings.NewReader(mustJSONString(t, map[string]any{"name": "corp", "providerId": "ldap", "providerType": "org.keycloak.storage.UserStorageProvider",
				"parentId": master.ID, "config": cfg})))
		if r.status != http.StatusCreated {
			t.Fatalf("provider on master: %d %s", r.status, r.body)
		}
		for range 7 {
			tok = adminToken(t, e.srv.URL, "admin-pw") // fails the test if refused
		}
		if r := do(t, http.MethodGet, e.srv.URL+"/admin/realms", map[string]string{"Authorization": "Bearer " + tok}, nil); r.status != http.StatusOK {
			t.Errorf("admin API during the outage: %d %s", r.status, r.body)
		}
		r = do(t, http.MethodPost, e.srv.URL+"/realms/master/protocol/openid-connect/token",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			strings.NewReader("grant_type=password&client_id=admin-cli&username=user1&password=password"))
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("directory user on master during the outage: %d %s", r.status, r.body)
		}
		if strings.Contains(string(r.body), ldaptest.BindPW) {
			t.Errorf("the bind credential reached a response")
		}
	})
}

func mustJSONString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ldaps:// to a directory with a private CA works once the server's
// truststore (--truststore-paths, loaded as at start) holds the CA, and
// not for a provider whose useTruststoreSpi is "never".
func TestLDAPSWithServerTruststore(t *testing.T) {
	s := ldaptest.Start(t)
	t.Cleanup(func() { ldap.SetTruststore(nil) })
	bothStores(t, func(t *testing.T, db *store.DB) {
		ldap.SetTruststore(nil)
		e := newLDEnv(t, db, map[string]string{"connectionUrl": s.LDAPSURL})
		if st, body := e.grant("user1", "password", "openid"); st != http.StatusServiceUnavailable {
			t.Fatalf("untrusted ldaps: %d %v", st, body["error"])
		}
		pool, err := ldap.LoadTruststore([]string{filepath.Dir(s.CAFile) + "/nothing-here.pem", s.CAFile})
		if err == nil {
			t.Fatalf("a missing truststore path loaded")
		}
		if pool, err = ldap.LoadTruststore([]string{s.CAFile}); err != nil {
			t.Fatal(err)
		}
		ldap.SetTruststore(pool)
		if st, body := e.grant("user1", "password", "openid"); st != http.StatusOK {
			t.Fatalf("ldaps with the server truststore: %d %v", st, body["error_description"])
		}
		e.setProviderConfig("useTruststoreSpi", "never")
		if st, body := e.grant("user1", "password", "openid"); st != http.StatusServiceUnavailable {
			t.Errorf("useTruststoreSpi never: %d %v", st, body["error"])
		}
	})
}
