package server_test

// LDAP user federation over HTTP (issue 18), against a real OpenLDAP
// (internal/ldap/ldaptest): story 1 with user1 living only in the
// directory, passwords written to it or refused by edit mode, an outage
// that must not answer 500 nor lock local users out, and brute-force
// detection on a federated user. Each runs on SQLite and PostgreSQL.

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/federation"
	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/ldap/ldaptest"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// bothStores runs fn on SQLite and on PostgreSQL.
func bothStores(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, storetest.Open(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.OpenPostgres(t)) })
}

// ldEnv is story 1's realm ldap-demo without its local user1, with an
// ldap provider created through the admin API.
type ldEnv struct {
	t          *testing.T
	db         *store.DB
	srv        *httptest.Server
	clock      *bfClock
	slapd      *ldaptest.Server
	rl         realm.Realm
	providerID string
}

func newLDEnv(t *testing.T, db *store.DB, config map[string]string) *ldEnv {
	t.Helper()
	return newLDEnvGate(t, db, config, nil)
}

// newLDEnvGate is newLDEnv with the server's hash gate (nil: the default).
func newLDEnvGate(t *testing.T, db *store.DB, config map[string]string, hashes *authn.HashGate) *ldEnv {
	t.Helper()
	ctx := t.Context()
	s := ldaptest.Start(t)
	ck := &bfClock{t: time.Now().Truncate(time.Second)}
	if _, err := provision.Master(ctx, db, "admin", "admin-pw", ck.Now()); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../rep/testdata/ldap-demo-realm.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	// user1 lives in the directory only.
	users := doc["users"].([]any)
	doc["users"] = slices.DeleteFunc(users, func(u any) bool { return u.(map[string]any)["username"] == "user1" })
	raw, _ = json.Marshal(doc)
	if _, _, err := rep.ImportFile(ctx, db, raw, rep.ImportOptions{Now: ck.Now()}); err != nil {
		t.Fatal(err)
	}
	rl, err := db.GetRealmByName(ctx, "ldap-demo")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Options{Store: db, Now: ck.Now, Log: slog.New(slog.NewTextHandler(t.Output(), nil)), Hashes: hashes}))
	t.Cleanup(srv.Close)
	e := &ldEnv{t: t, db: db, srv: srv, clock: ck, slapd: s, rl: rl}
	cfg := map[string][]string{
		"vendor": {"other"}, "editMode": {"WRITABLE"}, "connectionUrl": {s.URL},
		"bindDn": {ldaptest.BindDN}, "bindCredential": {ldaptest.BindPW}, "usersDn": {ldaptest.PeopleDN},
		"usernameLDAPAttribute": {"uid"}, "rdnLDAPAttribute": {"uid"}, "uuidLDAPAttribute": {"entryUUID"},
		"userObjectClasses": {"inetOrgPerson, organizationalPerson"}, "importEnabled": {"true"},
		"connectionTimeout": {"2000"}, "pagination": {"true"}, "enabled": {"true"}, "priority": {"0"},
	}
	for k, v := range config {
		cfg[k] = []string{v}
	}
	e.providerID = e.createComponent(map[string]any{"name": "ldap", "providerId": "ldap",
		"providerType": ldap.ProviderType, "parentId": rl.ID, "config": cfg})
	// Group and role mappers read ou=Groups; offline_access comes from a
	// hardcoded role, as story 1's user holds it.
	e.createComponent(map[string]any{"name": "groups", "providerId": ldap.MapperGroup, "providerType": ldap.MapperProviderType,
		"parentId": e.providerID, "config": map[string][]string{"groups.dn": {ldaptest.GroupsDN}, "mode": {"READ_ONLY"},
			"group.name.ldap.attribute": {"cn"}, "group.object.classes": {"groupOfNames"}, "membership.ldap.attribute": {"member"},
			"membership.attribute.type": {"DN"}, "preserve.group.inheritance": {"true"}}})
	e.createComponent(map[string]any{"name": "roles", "providerId": ldap.MapperRole, "providerType": ldap.MapperProviderType,
		"parentId": e.providerID, "config": map[string][]string{"roles.dn": {ldaptest.GroupsDN}, "mode": {"READ_ONLY"},
			"role.name.ldap.attribute": {"cn"}, "role.object.classes": {"groupOfNames"}, "membership.ldap.attribute": {"member"},
			"use.realm.roles.mapping": {"true"}}})
	e.createComponent(map[string]any{"name": "offline", "providerId": ldap.MapperHardcodedRole, "providerType": ldap.MapperProviderType,
		"parentId": e.providerID, "config": map[string][]string{"role": {"offline_access"}}})
	return e
}

func (e *ldEnv) admin(method, path string, body any) response {
	e.t.Helper()
	tok := adminToken(e.t, e.srv.URL, "admin-pw")
	var rd *strings.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	return do(e.t, method, e.srv.URL+"/admin/realms/ldap-demo"+path,
		map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}, rd)
}

func (e *ldEnv) createComponent(c map[string]any) string {
	e.t.Helper()
	r := e.admin(http.MethodPost, "/components", c)
	if r.status != http.StatusCreated {
		e.t.Fatalf("create component %v: %d %s", c["name"], r.status, r.body)
	}
	loc := r.header.Get("Location")
	return loc[strings.LastIndex(loc, "/")+1:]
}

// grant is a password grant of ldap-app: status and decoded body.
func (e *ldEnv) grant(username, password, scope string) (int, map[string]any) {
	e.t.Helper()
	return e.token(url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}, "scope": {scope}})
}

func (e *ldEnv) token(form url.Values) (int, map[string]any) {
	e.t.Helper()
	r := do(e.t, http.MethodPost, e.srv.URL+"/realms/ldap-demo/protocol/openid-connect/token",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded",
			"Authorization": basic("ldap-app", "password")}, strings.NewReader(form.Encode()))
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		e.t.Fatalf("token endpoint: %d %s", r.status, r.body)
	}
	return r.status, m
}

func (e *ldEnv) user(username string) user.User {
	e.t.Helper()
	u, err := e.db.GetUserByUsername(e.t.Context(), e.rl.ID, username)
	if err != nil {
		e.t.Fatalf("user %s: %v", username, err)
	}
	return u
}

func realmRoles(t *testing.T, jwt string) []string {
	t.Helper()
	ra, _ := jwtClaims(t, jwt)["realm_access"].(map[string]any)
	var out []string
	for _, r := range ra["roles"].([]any) {
		out = append(out, r.(string))
	}
	return out
}

func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

// Story 1 over LDAP: user1 exists only in the directory, logs in with the
// password grant, gets an offline token that outlives the session idle
// time, and loses it when the administrator revokes it; the directory's
// groups arrive as groups and realm roles.
func TestLDAPStory1(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		e := newLDEnv(t, db, nil)
		if _, err := db.GetUserByUsername(t.Context(), e.rl.ID, "user1"); err == nil {
			t.Fatal("user1 must not exist here before the first login")
		}
		st, tok := e.grant("user1", "password", "openid info offline_access")
		if st != http.StatusOK {
			t.Fatalf("password grant: %d %v", st, tok)
		}
		rt := jwtClaims(t, tok["refresh_token"].(string))
		if rt["typ"] != "Offline" {
			t.Errorf("refresh token typ %v", rt["typ"])
		}
		roles := realmRoles(t, tok["access_token"].(string))
		for _, want := range []string{"offline_access", "ldap-admins", "ldap-users"} {
			if !slices.Contains(roles, want) {
				t.Errorf("access token roles %v lack %s", roles, want)
			}
		}
		// Imported with its link, never with a password.
		u := e.user("user1")
		if u.FederationLink != e.providerID || u.Attributes[federation.AttrLDAPID] == nil || u.Email != "user1@example.org" {
			t.Errorf("imported user %+v", u)
		}
		if u.Attributes[federation.AttrLDAPEntryDN][0] != ldaptest.UserDN("user1") {
			t.Errorf("entry DN %v", u.Attributes[federation.AttrLDAPEntryDN])
		}
		creds, _ := db.ListCredentials(t.Context(), u.ID)
		if len(creds) != 0 {
			t.Errorf("a federated user's password is never stored: %+v", creds)
		}
		groups, _ := db.ListUserGroups(t.Context(), u.ID)
		if len(groups) != 2 {
			t.Errorf("groups %+v", groups)
		}
		// Offline: past the realm's 60 s session idle, the token refreshes.
		offline := tok["refresh_token"].(string)
		e.clock.Add(200 * time.Second)
		if st, body := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {offline}}); st != http.StatusOK {
			t.Fatalf("offline refresh: %d %v", st, body)
		}
		// Second login: the same user, refreshed, not a second import.
		if st, _ := e.grant("user1", "password", "openid"); st != http.StatusOK {
			t.Fatalf("second login: %d", st)
		}
		if again := e.user("user1"); again.ID != u.ID {
			t.Errorf("second login made another user")
		}
		// A group left in the directory is left here at the next login.
		e.slapd.Modify(t, "dn: cn=ldap-admins,"+ldaptest.GroupsDN+"\nchangetype: modify\nadd: member\nmember: "+ldaptest.UserDN("jbrown")+"\n-\ndelete: member\nmember: "+ldaptest.UserDN("user1")+"\n")
		t.Cleanup(func() {
			e.slapd.Modify(t, "dn: cn=ldap-admins,"+ldaptest.GroupsDN+"\nchangetype: modify\nadd: member\nmember: "+ldaptest.UserDN("user1")+"\n-\ndelete: member\nmember: "+ldaptest.UserDN("jbrown")+"\n")
		})
		st, tok2 := e.grant("user1", "password", "openid")
		if st != http.StatusOK || slices.Contains(realmRoles(t, tok2["access_token"].(string)), "ldap-admins") {
			t.Errorf("after leaving ldap-admins: %d %v", st, tok2)
		}
		// The administrator revokes the offline grant.
		if r := e.admin(http.MethodDelete, "/users/"+u.ID+"/consents/ldap-app", nil); r.status != http.StatusNoContent {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		if st, body := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {offline}}); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("revoked offline token: %d %v", st, body)
		}
		// Wrong password and unknown names are refused alike.
		for _, name := range []string{"user1", "nobody-here"} {
			if st, body := e.grant(name, "wrong-password", "openid"); st != http.StatusUnauthorized || body["error_description"] != "Invalid user credentials" {
				t.Errorf("%s wrong password: %d %v", name, st, body)
			}
		}
		// Login by email finds the directory's user too.
		if st, _ := e.grant("jbrown@example.org", ldaptest.Users["jbrown"], "openid"); st != http.StatusOK {
			t.Errorf("login by email: %d", st)
		}
	})
}

// With importEnabled off the user is served from the directory under the
// id f:<provider>:<entryUUID>, the same on every login, with no password.
func TestLDAPWithoutImport(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		e := newLDEnv(t, db, map[string]string{"importEnabled": "false", "editMode": "READ_ONLY"})
		st, tok := e.grant("bwong", ldaptest.Users["bwong"], "openid")
		if st != http.StatusOK {
			t.Fatalf("grant: %d %v", st, tok)
		}
		u := e.user("bwong")
		if !strings.HasPrefix(u.ID, "f:"+e.providerID+":") || u.ID != "f:"+e.providerID+":"+u.Attributes[federation.AttrLDAPID][0] {
			t.Errorf("id %q", u.ID)
		}
		if sub := jwtClaims(t, tok["access_token"].(string))["sub"]; sub != u.ID {
			t.Errorf("sub %v", sub)
		}
		if federation.Imported(u) {
			t.Error("reported as imported")
		}
		// A change in the directory shows at the next login.
		e.slapd.Modify(t, "dn: "+ldaptest.UserDN("bwong")+"\nchangetype: modify\nreplace: sn\nsn: Renamed\n")
		if st, _ := e.grant("bwong", ldaptest.Users["bwong"], "openid"); st != http.StatusOK {
			t.Fatal(st)
		}
		if again := e.user("bwong"); again.ID != u.ID || again.LastName != "Renamed" {
			t.Errorf("after change: %+v", again)
		}
		creds, _ := db.ListCredentials(t.Context(), u.ID)
		if len(creds) != 0 {
			t.Errorf("credentials stored: %+v", creds)
		}
	})
}

// resetPassword is the admin API's reset-password: status and body.
func (e *ldEnv) resetPassword(userID, pw string) response {
	e.t.Helper()
	return e.admin(http.MethodPut, "/users/"+userID+"/reset-password", map[string]any{"type": "password", "value": pw, "temporary": false})
}

// Password changes by edit mode: WRITABLE writes to the directory (seen by
// ldapwhoami) and shows the directory's refusal; READ_ONLY refuses with the
// reset's message; UNSYNCED keeps the password here.
func TestLDAPPasswordChanges(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		uid := "pw" + strings.ToLower(store.NewID()[:8])
		e := newLDEnv(t, db, nil)
		dn := e.slapd.AddUser(t, uid, "first-password")
		if st, _ := e.grant(uid, "first-password", "openid"); st != http.StatusOK {
			t.Fatalf("first login: %d", st)
		}
		u := e.user(uid)

		if r := e.resetPassword(u.ID, "second-password"); r.status != http.StatusNoContent {
			t.Fatalf("writable reset: %d %s", r.status, r.body)
		}
		if err := e.slapd.WhoAmI(t, dn, "second-password"); err != nil {
			t.Fatalf("the directory did not get the new password: %v", err)
		}
		if err := e.slapd.WhoAmI(t, dn, "first-password"); err == nil {
			t.Fatal("the old password still binds")
		}
		if st, _ := e.grant(uid, "second-password", "openid"); st != http.StatusOK {
			t.Errorf("login with the new password: %d", st)
		}
		if creds, _ := db.ListCredentials(t.Context(), u.ID); len(creds) != 0 {
			t.Errorf("writable reset stored a credential here: %+v", creds)
		}
		// The directory's password policy (minimum 8) refuses.
		r := e.resetPassword(u.ID, "short")
		var body map[string]string
		json.Unmarshal(r.body, &body)
		want := "Could not modify attribute for DN [" + dn + "]"
		if r.status != http.StatusBadRequest || body["error"] != want || body["error_description"] != want {
			t.Errorf("policy refusal: %d %s", r.status, r.body)
		}
		if err := e.slapd.WhoAmI(t, dn, "second-password"); err != nil {
			t.Errorf("refused change touched the directory: %v", err)
		}

		// READ_ONLY.
		e.setProviderConfig("editMode", "READ_ONLY")
		r = e.resetPassword(u.ID, "third-password")
		if r.status != http.StatusBadRequest || string(r.body) != `{"error":"Can't reset password as account is read only"}` {
			t.Errorf("read-only reset: %d %s", r.status, r.body)
		}
		if err := e.slapd.WhoAmI(t, dn, "second-password"); err != nil {
			t.Errorf("read-only refusal touched the directory: %v", err)
		}

		// UNSYNCED: stored here, the directory keeps its own.
		e.setProviderConfig("editMode", "UNSYNCED")
		if r := e.resetPassword(u.ID, "local-password"); r.status != http.StatusNoContent {
			t.Fatalf("unsynced reset: %d %s", r.status, r.body)
		}
		if err := e.slapd.WhoAmI(t, dn, "second-password"); err != nil {
			t.Errorf("unsynced reset reached the directory: %v", err)
		}
		if st, _ := e.grant(uid, "local-password", "openid"); st != http.StatusOK {
			t.Errorf("login with the local password: %d", st)
		}
	})
}

// setProviderConfig changes one setting of the provider through the admin API.
func (e *ldEnv) setProviderConfig(key, value string) {
	e.t.Helper()
	r := e.admin(http.MethodGet, "/components/"+e.providerID, nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("get provider: %d %s", r.status, r.body)
	}
	var c map[string]any
	json.Unmarshal(r.body, &c)
	c["config"].(map[string]any)[key] = []string{value}
	if key == "connectionUrl" || key == "bindDn" {
		// The masked credential is refused with another server or bind
		// DN: the administrator enters it again.
		c["config"].(map[string]any)["bindCredential"] = []string{ldaptest.BindPW}
	}
	if r := e.admin(http.MethodPut, "/components/"+e.providerID, c); r.status != http.StatusNoContent {
		e.t.Fatalf("update provider %s=%s: %d %s", key, value, r.status, r.body)
	}
}

// An outage of the directory: federated users get a 503 (nothing
// decided, never a 500 nor a wrong-password answer that counts), local
// users of the realm and the master realm's administrator log in, and
// readiness stays up.
func TestLDAPOutage(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		e := newLDEnv(t, db, nil)
		if st, _ := e.grant("user1", "password", "openid"); st != http.StatusOK {
			t.Fatalf("login before the outage: %d", st)
		}
		addUser(t, db, e.rl.ID, "localann", "local-ann-pw", e.clock.Now())
		e.setProviderConfig("connectionUrl", ldaptest.DeadURL(t))

		for _, name := range []string{"user1", "jbrown"} { // imported, and never seen
			for range 7 { // more than failureFactor: an outage never locks anyone
				r := do(t, http.MethodPost, e.srv.URL+"/realms/ldap-demo/protocol/openid-connect/token",
					map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic("ldap-app", "password")},
					strings.NewReader(url.Values{"grant_type": {"password"}, "username": {name}, "password": {"password"}}.Encode()))
				if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
					t.Fatalf("%s during the outage: %d %s", name, r.status, r.body)
				}
			}
		}
		if st, body := e.grant("localann", "local-ann-pw", "openid"); st != http.StatusOK {
			t.Errorf("local user during the outage: %d %v", st, body)
		}
		adminToken(t, e.srv.URL, "admin-pw") // fails the test if refused
		// The login page answers without a 500 too.
		st, page := e.browser().login("user1", "password")
		if st != http.StatusServiceUnavailable || !strings.Contains(page, "Unexpected error when handling authentication request to identity provider.") ||
			strings.Contains(page, ldaptest.BindPW) {
			t.Errorf("login page during the outage: %d %s", st, page)
		}
		// Readiness asks the database only: a directory away never takes
		// the node out of its load balancer.
		mgmt := &server.Management{Log: slog.New(slog.DiscardHandler)}
		mgmt.Started(db)
		ms := httptest.NewServer(mgmt.Handler())
		defer ms.Close()
		if r := get(t, ms.URL+"/health/ready", nil); r.status != http.StatusOK {
			t.Errorf("readiness during the outage: %d %s", r.status, r.body)
		}
		// Back up: user1 logs in, not locked by the outage.
		e.setProviderConfig("connectionUrl", e.slapd.URL)
		if st, body := e.grant("user1", "password", "openid"); st != http.StatusOK {
			t.Errorf("after the outage: %d %v", st, body)
		}
	})
}

// Brute-force detection counts a federated user's failed binds and locks
// it out like a local user: the right password is refused while locked.
func TestLDAPBruteForce(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		uid := "bf" + strings.ToLower(store.NewID()[:8])
		e := newLDEnv(t, db, nil)
		e.slapd.AddUser(t, uid, "right-password")
		for range 5 { // ldap-demo's failureFactor
			e.clock.Add(2 * time.Second)
			if st, _ := e.grant(uid, "wrong-password", "openid"); st != http.StatusUnauthorized {
				t.Fatalf("wrong password: %d", st)
			}
		}
		e.clock.Add(2 * time.Second)
		if st, body := e.grant(uid, "right-password", "openid"); st != http.StatusUnauthorized || body["error_description"] != "Invalid user credentials" {
			t.Fatalf("locked federated user: %d %v", st, body)
		}
		u := e.user(uid)
		r := e.admin(http.MethodGet, "/attack-detection/brute-force/users/"+u.ID, nil)
		var status map[string]any
		json.Unmarshal(r.body, &status)
		if status["disabled"] != true || status["numFailures"].(float64) < 5 {
			t.Errorf("attack detection: %s", r.body)
		}
		// After the wait, the right password works.
		e.clock.Add(16 * time.Minute)
		if st, body := e.grant(uid, "right-password", "openid"); st != http.StatusOK {
			t.Errorf("after the lockout: %d %v", st, body)
		}
	})
}

// browser is a cookie-keeping browser on the env's server (ppBrowser's
// plumbing, pointed at realm ldap-demo).
func (e *ldEnv) browser() *ppBrowser {
	return (&ppEnv{t: e.t, db: e.db, srv: e.srv, clock: e.clock}).browser()
}

// login opens the account console of ldap-demo and posts a username and
// password to its login page; it returns the answer to that post.
func (b *ppBrowser) login(username, password string) (int, string) {
	b.e.t.Helper()
	st, loc := b.do("GET", "/realms/ldap-demo/account/", nil)
	if st != http.StatusFound {
		b.e.t.Fatalf("console without a session: %d", st)
	}
	if st, _ := b.do("GET", loc, nil); st != http.StatusOK {
		b.e.t.Fatalf("login page: %d %s", st, b.page)
	}
	f := b.fields()
	f.Set("username", username)
	f.Set("password", password)
	return b.do("POST", b.action, f)
}

// The update-password page of a login writes a federated user's new
// password to the directory, and shows the directory's refusal.
func TestLDAPUpdatePasswordPage(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		uid := "up" + strings.ToLower(store.NewID()[:8])
		e := newLDEnv(t, db, nil)
		dn := e.slapd.AddUser(t, uid, "first-password")
		if st, _ := e.grant(uid, "first-password", "openid"); st != http.StatusOK {
			t.Fatalf("first login: %d", st)
		}
		u := e.user(uid)
		if r := e.admin(http.MethodPut, "/users/"+u.ID+"/reset-password", map[string]any{"type": "password", "value": "temp-password", "temporary": true}); r.status != http.StatusNoContent {
			t.Fatalf("temporary reset: %d %s", r.status, r.body)
		}
		b := e.browser()
		st, page := b.login(uid, "temp-password")
		if st != http.StatusOK || !strings.Contains(page, "password-new") {
			t.Fatalf("update password page: %d %s", st, page)
		}
		// Refused by the directory's policy: the page says so.
		f := b.fields()
		f.Set("password-new", "short")
		f.Set("password-confirm", "short")
		action := b.action
		st, page = b.do("POST", action, f)
		if want := html.EscapeString("Could not modify attribute for DN [" + dn + "]"); st != http.StatusOK || !strings.Contains(page, want) {
			t.Fatalf("refused password: %d %s", st, page)
		}
		b.action = action
		if msg := b.updatePage("final-password"); msg != "" {
			t.Fatalf("update password: %s", msg)
		}
		if err := e.slapd.WhoAmI(t, dn, "final-password"); err != nil {
			t.Fatalf("the directory did not get the new password: %v", err)
		}
		if slices.Contains(e.user(uid).RequiredActions, "UPDATE_PASSWORD") {
			t.Error("UPDATE_PASSWORD still pending")
		}

		// READ_ONLY: the page refuses with the storage's message.
		e.setProviderConfig("editMode", "READ_ONLY")
		if err := db.UpdateUser(t.Context(), e.rl.ID, u.ID, func(x *user.User) error {
			x.RequiredActions = append(x.RequiredActions, "UPDATE_PASSWORD")
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		b = e.browser()
		if st, page := b.login(uid, "final-password"); st != http.StatusOK || !strings.Contains(page, "password-new") {
			t.Fatalf("update password page (read-only): %d %s", st, page)
		}
		f = b.fields()
		f.Set("password-new", "another-password")
		f.Set("password-confirm", "another-password")
		if st, page := b.do("POST", b.action, f); st != http.StatusOK || !strings.Contains(page, "Federated storage is not writable") {
			t.Fatalf("read-only update: %d %s", st, page)
		}
		if err := e.slapd.WhoAmI(t, dn, "final-password"); err != nil {
			t.Errorf("read-only refusal touched the directory: %v", err)
		}
	})
}

// Registration with syncRegistrations on a WRITABLE provider creates the
// directory entry, with the password the user chose, and links the user.
func TestLDAPRegistration(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		uid := "reg" + strings.ToLower(store.NewID()[:8])
		e := newLDEnv(t, db, map[string]string{"syncRegistrations": "true"})
		if err := db.UpdateRealm(t.Context(), e.rl.ID, func(r *realm.Realm) error { r.RegistrationAllowed = true; return nil }); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		st, loc := b.do("GET", "/realms/ldap-demo/account/", nil)
		if st != http.StatusFound {
			t.Fatalf("console: %d", st)
		}
		b.do("GET", loc, nil)
		if st, page := b.do("GET", strings.Replace(b.action, "/authenticate?", "/registration?", 1), nil); st != http.StatusOK {
			t.Fatalf("registration page: %d %s", st, page)
		}
		f := b.fields()
		for k, v := range map[string]string{"username": uid, "email": uid + "@example.net", "firstName": "Reg", "lastName": "Istered",
			"password": "registered-pw", "password-confirm": "registered-pw"} {
			f.Set(k, v)
		}
		if st, page := b.do("POST", b.action, f); st != http.StatusFound {
			t.Fatalf("register: %d %s", st, page)
		}
		if err := e.slapd.WhoAmI(t, ldaptest.UserDN(uid), "registered-pw"); err != nil {
			t.Fatalf("the directory has no entry with the chosen password: %v", err)
		}
		u := e.user(uid)
		if u.FederationLink != e.providerID || u.Attributes[federation.AttrLDAPEntryDN][0] != ldaptest.UserDN(uid) {
			t.Errorf("registered user %+v", u)
		}
		if creds, _ := db.ListCredentials(t.Context(), u.ID); len(creds) != 0 {
			t.Errorf("registration stored a password here: %+v", creds)
		}
		if st, body := e.grant(uid, "registered-pw", "openid"); st != http.StatusOK {
			t.Errorf("login after registration: %d %v", st, body)
		}
	})
}

// The account console checks the current password with a bind and writes
// the new one to the directory.
func TestLDAPAccountConsolePassword(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		uid := "ac" + strings.ToLower(store.NewID()[:8])
		e := newLDEnv(t, db, nil)
		dn := e.slapd.AddUser(t, uid, "console-old-pw")
		b := e.browser()
		st, loc := b.login(uid, "console-old-pw")
		if st != http.StatusFound {
			t.Fatalf("login: %d %s", st, loc)
		}
		b.enterConsole(loc)
		change := func(current, pw string) (int, string) {
			if st, _ := b.do("GET", "/realms/ldap-demo/account/account-security/signing-in", nil); st != http.StatusOK {
				t.Fatalf("signing-in page: %d", st)
			}
			f := b.fields()
			f.Set("password", current)
			f.Set("password-new", pw)
			f.Set("password-confirm", pw)
			return b.do("POST", "/realms/ldap-demo/account/console/password", f)
		}
		if st, page := change("not-the-password", "console-new-pw"); st != http.StatusBadRequest {
			t.Fatalf("wrong current password: %d %s", st, page)
		}
		if st, page := change("console-old-pw", "short"); st != http.StatusBadRequest || !strings.Contains(page, html.EscapeString("Could not modify attribute for DN ["+dn+"]")) {
			t.Fatalf("refused by the directory: %d %s", st, page)
		}
		if st, page := change("console-old-pw", "console-new-pw"); st != http.StatusSeeOther {
			t.Fatalf("change: %d %s", st, page)
		}
		if err := e.slapd.WhoAmI(t, dn, "console-new-pw"); err != nil {
			t.Fatalf("the directory did not get the new password: %v", err)
		}
	})
}

// A directory that finds users but never answers their binds holds
// federated logins until the provider's read timeout; they hold no hash
// slot meanwhile, so local users log in even with a one-slot gate.
func TestLDAPHangingDirectoryHoldsNoHashSlot(t *testing.T) {
	db := storetest.Open(t)
	e := newLDEnvGate(t, db, nil, authn.NewHashGate(1, 0))
	proxy := hangingBinds(t, e.slapd)
	addUser(t, db, e.rl.ID, "localbea", "local-bea-pw", e.clock.Now())
	e.setProviderConfig("connectionUrl", proxy)
	e.setProviderConfig("readTimeout", "6000")
	done := make(chan int, 4)
	for range 4 {
		go func() {
			r := do(t, http.MethodPost, e.srv.URL+"/realms/ldap-demo/protocol/openid-connect/token",
				map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic("ldap-app", "password")},
				strings.NewReader(url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {"password"}}.Encode()))
			done <- r.status
		}()
	}
	time.Sleep(time.Second) // the federated logins are waiting on their binds
	if st, body := e.grant("localbea", "local-bea-pw", "openid"); st != http.StatusOK {
		t.Errorf("local user while the directory hangs: %d %v", st, body)
	}
	if len(done) != 0 {
		t.Errorf("the local login waited for the directory's timeout")
	}
	for range 4 {
		if st := <-done; st != http.StatusServiceUnavailable {
			t.Errorf("federated login against a hanging directory: %d", st)
		}
	}
}

// hangingBinds is a TCP proxy to s that passes the connections binding as
// the service account and holds every other one open, unanswered.
func hangingBinds(t *testing.T, s *ldaptest.Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	upstream := strings.TrimPrefix(s.URL, "ldap://")
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				n, err := c.Read(buf)
				if err != nil || !strings.Contains(string(buf[:n]), ldaptest.BindDN) {
					io.Copy(io.Discard, c) // never answered
					return
				}
				u, err := net.Dial("tcp", upstream)
				if err != nil {
					return
				}
				defer u.Close()
				u.Write(buf[:n])
				go io.Copy(u, c)
				io.Copy(c, u)
			}()
		}
	}()
	return "ldap://" + l.Addr().String()
}
