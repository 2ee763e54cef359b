package admin_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// rtExpect checks an answer's status and, when want is not "", that its
// body is exactly the JSON want.
func rtExpect(t *testing.T, what string, st int, body []byte, wantStatus int, want string) {
	t.Helper()
	if st != wantStatus {
		t.Fatalf("%s: status %d, want %d; body %s", what, st, wantStatus, body)
	}
	if want == "" {
		return
	}
	var got, exp any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%s: body %q is not JSON: %v", what, body, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("%s: bad expectation %q: %v", what, want, err)
	}
	g, _ := json.Marshal(got)
	e, _ := json.Marshal(exp)
	if string(g) != string(e) {
		t.Fatalf("%s: body %s, want %s", what, g, e)
	}
}

// rtRealm loads a realm from the store by name.
func rtRealm(t *testing.T, s *testServer, name string) (realm.Realm, bool) {
	t.Helper()
	r, err := s.DB.GetRealmByName(context.Background(), name)
	if errors.Is(err, store.ErrNotFound) {
		return r, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return r, true
}

func rtHasClient(t *testing.T, s *testServer, realmName, clientID string) bool {
	t.Helper()
	r, ok := rtRealm(t, s, realmName)
	if !ok {
		return false
	}
	_, err := s.DB.GetClientByClientID(context.Background(), r.ID, clientID)
	return err == nil
}

// rtMasterUser creates a master user holding the given master realm roles
// and returns its admin-cli token.
func rtMasterUser(t *testing.T, s *testServer, username string, roles ...string) string {
	t.Helper()
	ctx := context.Background()
	m, _ := rtRealm(t, s, realm.MasterName)
	u := user.User{ID: store.NewID(), RealmID: m.ID, Username: username, Enabled: true, CreatedTimestamp: time.Now().UnixMilli()}
	if err := s.DB.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	cred, _ := user.NewPasswordCredential(store.NewID(), u.ID, "pw-"+username, time.Now().UnixMilli(), user.HashPolicy{})
	if err := s.DB.CreateCredential(ctx, cred); err != nil {
		t.Fatal(err)
	}
	for _, name := range roles {
		ro, err := s.DB.GetRealmRole(ctx, m.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DB.AddUserRoles(ctx, u.ID, ro.ID); err != nil {
			t.Fatal(err)
		}
	}
	return s.token(realm.MasterName, "admin-cli", username, "pw-"+username)
}

func TestRealmLifecycle(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		admin := s.adminToken()
		body := map[string]any{
			"realm": "acme", "displayName": "Acme", "accessTokenLifespan": 600,
			"clients": []any{map[string]any{"clientId": "app", "secret": "s3cret", "redirectUris": []string{"https://app.example/*"}}},
			"roles":   map[string]any{"realm": []any{map[string]any{"name": "editor"}}},
			"groups":  []any{map[string]any{"name": "staff", "realmRoles": []string{"editor"}}},
			"users": []any{map[string]any{"username": "alice", "enabled": true, "groups": []string{"/staff"},
				"credentials": []any{map[string]any{"type": "password", "value": "alice-pw"}}}},
		}
		st, hdr, b := s.do("POST", "/admin/realms", admin, body)
		rtExpect(t, "create", st, b, http.StatusCreated, "")
		if got, want := hdr.Get("Location"), s.URL+"/admin/realms/acme"; got != want {
			t.Errorf("Location = %q, want %q", got, want)
		}

		// Built-in clients, the realm's own, and its admin client in master.
		for _, c := range []string{"account", "account-console", "admin-cli", "broker", "realm-management", "security-admin-console", "app"} {
			if !rtHasClient(t, s, "acme", c) {
				t.Errorf("client %s missing from the new realm", c)
			}
		}
		if !rtHasClient(t, s, realm.MasterName, "acme-realm") {
			t.Error("master has no acme-realm client")
		}
		// The nested user can log in: users, credentials and groups were imported.
		s.token("acme", "admin-cli", "alice", "alice-pw")

		var got map[string]any
		s.get("/admin/realms/acme", admin, &got)
		if got["realm"] != "acme" || got["displayName"] != "Acme" || got["accessTokenLifespan"] != 600.0 || got["enabled"] != true {
			t.Errorf("GET realm = %v", got)
		}
		for _, k := range []string{"users", "clients", "groups", "roles", "components"} {
			if _, ok := got[k]; ok {
				t.Errorf("GET realm carries %q; settings only", k)
			}
		}
		if dr, _ := got["defaultRole"].(map[string]any); dr["name"] != "default-roles-acme" || dr["description"] != "${role_default-roles}" {
			t.Errorf("defaultRole = %v", got["defaultRole"])
		}

		st, _, b = s.do("POST", "/admin/realms", admin, map[string]any{"realm": "acme"})
		rtExpect(t, "duplicate", st, b, http.StatusConflict, `{"errorMessage":"Conflict detected. See logs for details"}`)
		st, _, b = s.do("POST", "/admin/realms", admin, map[string]any{"displayName": "nameless"})
		rtExpect(t, "no name", st, b, http.StatusBadRequest, `{"errorMessage":"Realm name cannot be empty"}`)
		st, _, b = s.do("POST", "/admin/realms", admin, `{"realm":`)
		rtExpect(t, "bad JSON", st, b, http.StatusBadRequest, `{"error":"invalid_request","error_description":"Cannot parse the JSON"}`)

		// Partial update: only what is sent changes.
		st, _, b = s.do("PUT", "/admin/realms/acme", admin, map[string]any{"accessTokenLifespan": 120})
		rtExpect(t, "update", st, b, http.StatusNoContent, "")
		r, _ := rtRealm(t, s, "acme")
		if r.AccessTokenLifespan != 120 || r.SSOSessionIdleTimeout != 1800 || r.DisplayName != "Acme" {
			t.Errorf("after partial update: lifespan %d, idle %d, display %q", r.AccessTokenLifespan, r.SSOSessionIdleTimeout, r.DisplayName)
		}

		// Invalid values change nothing.
		for _, c := range []struct {
			body any
			want string
		}{
			{map[string]any{"accessTokenLifespan": -1, "displayName": "changed"}, `{"errorMessage":"accessTokenLifespan must not be negative"}`},
			{map[string]any{"sslRequired": "sometimes"}, `{"errorMessage":"sslRequired must be one of none, external, all"}`},
			{map[string]any{"realm": "bad name"}, `{"errorMessage":"realm name may contain only letters, digits, '.', '_' and '-'"}`},
			{map[string]any{"accessCodeLifespanLogin": 0, "accessCodeLifespanUserAction": 300}, `{"errorMessage":"AccessCodeLifespanLogin or AccessCodeLifespanUserAction cannot be 0"}`},
		} {
			st, _, b = s.do("PUT", "/admin/realms/acme", admin, c.body)
			rtExpect(t, "invalid update", st, b, http.StatusBadRequest, c.want)
		}
		if r2, _ := rtRealm(t, s, "acme"); r2.AccessTokenLifespan != 120 || r2.DisplayName != "Acme" || r2.SSLRequired != r.SSLRequired {
			t.Errorf("a refused update changed the realm: %+v", r2)
		}
		st, _, b = s.do("PUT", "/admin/realms/acme", admin, map[string]any{"accessTokenLifespan": "long"})
		rtExpect(t, "wrong type", st, b, http.StatusBadRequest, `{"error":"invalid_request","error_description":"Cannot parse the JSON"}`)

		// The SMTP password is never shown, and the mask GET shows keeps it.
		st, _, b = s.do("PUT", "/admin/realms/acme", admin, map[string]any{"smtpServer": map[string]string{"host": "mail.example", "password": "mail-secret"}})
		rtExpect(t, "set smtp", st, b, http.StatusNoContent, "")
		st, _, b = s.do("GET", "/admin/realms/acme", admin, nil)
		if st != 200 || strings.Contains(string(b), "mail-secret") || !strings.Contains(string(b), `"password":"**********"`) {
			t.Errorf("GET realm shows the SMTP password: %s", b)
		}
		st, _, b = s.do("PUT", "/admin/realms/acme", admin, map[string]any{"smtpServer": map[string]string{"host": "mail.example", "from": "noreply@mail.example", "password": "**********"}})
		rtExpect(t, "resend smtp", st, b, http.StatusNoContent, "")
		if r3, _ := rtRealm(t, s, "acme"); r3.SMTPServer["password"] != "mail-secret" || r3.SMTPServer["from"] != "noreply@mail.example" {
			t.Errorf("smtp after PUT with the mask: %v", r3.SMTPServer)
		}

		// Renames: to a taken name, of master, then for real.
		st, _, b = s.do("PUT", "/admin/realms/acme", admin, map[string]any{"realm": "master"})
		rtExpect(t, "rename onto master", st, b, http.StatusConflict, `{"errorMessage":"Realm with same name exists"}`)
		st, _, b = s.do("PUT", "/admin/realms/master", admin, map[string]any{"realm": "boss"})
		rtExpect(t, "rename master", st, b, http.StatusBadRequest, `{"errorMessage":"Can't rename master realm"}`)
		st, _, b = s.do("PUT", "/admin/realms/acme", admin, map[string]any{"realm": "acme2"})
		rtExpect(t, "rename", st, b, http.StatusNoContent, "")
		st, _, b = s.do("GET", "/admin/realms/acme", admin, nil)
		rtExpect(t, "old name", st, b, http.StatusNotFound, `{"error":"Realm not found."}`)
		if !rtHasClient(t, s, realm.MasterName, "acme2-realm") || rtHasClient(t, s, realm.MasterName, "acme-realm") {
			t.Error("master's admin client did not follow the rename")
		}
		s.get("/admin/realms/acme2", admin, &got) // master's admin still administers it
		r2, _ := rtRealm(t, s, "acme2")
		sac, _ := s.DB.GetClientByClientID(context.Background(), r2.ID, "security-admin-console")
		if sac.BaseURL != "/admin/acme2/console/" || !slices.Equal(sac.RedirectURIs, []string{"/admin/acme2/console/*"}) {
			t.Errorf("security-admin-console URLs after rename: %q %v", sac.BaseURL, sac.RedirectURIs)
		}

		// List: full, then brief.
		var list []map[string]any
		s.get("/admin/realms", admin, &list)
		var names []string
		for _, x := range list {
			names = append(names, x["realm"].(string))
		}
		if !slices.Equal(names, []string{"acme2", "master"}) || list[0]["accessTokenLifespan"] != 120.0 {
			t.Errorf("list = %v", list)
		}
		list = nil
		s.get("/admin/realms?briefRepresentation=true", admin, &list)
		for _, x := range list {
			for k := range x {
				if !slices.Contains([]string{"id", "realm", "displayName", "displayNameHtml", "enabled"}, k) {
					t.Errorf("brief representation carries %q", k)
				}
			}
			if x["id"] == nil || x["realm"] == nil {
				t.Errorf("brief representation %v lacks id or realm", x)
			}
		}

		// Delete.
		st, _, b = s.do("DELETE", "/admin/realms/master", admin, nil)
		rtExpect(t, "delete master", st, b, http.StatusBadRequest, `{"errorMessage":"Can't remove master realm"}`)
		st, _, b = s.do("DELETE", "/admin/realms/acme2", admin, nil)
		rtExpect(t, "delete", st, b, http.StatusNoContent, "")
		if _, ok := rtRealm(t, s, "acme2"); ok {
			t.Error("realm survived DELETE")
		}
		if rtHasClient(t, s, realm.MasterName, "acme2-realm") {
			t.Error("master's acme2-realm client survived the realm")
		}
		st, _, b = s.do("DELETE", "/admin/realms/acme2", admin, nil)
		rtExpect(t, "delete again", st, b, http.StatusNotFound, `{"error":"Realm not found."}`)
		st, _, b = s.do("GET", "/admin/realms/acme2", admin, nil)
		rtExpect(t, "get deleted", st, b, http.StatusNotFound, `{"error":"Realm not found."}`)
	})
}

// A realm admin holding only view-realm reads the realm and is refused
// everything else, and a refused call changes nothing.
func TestRealmPermissions(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		r := s.newRealm("perm")
		viewer := s.realmAdmin(r, "viewer", "view-realm")
		before, _ := rtRealm(t, s, "perm")

		for _, c := range []struct {
			method, path string
			body         any
			want         int
		}{
			{"GET", "/admin/realms/perm", nil, 200},
			{"GET", "/admin/realms/perm/keys", nil, 200},
			{"PUT", "/admin/realms/perm", map[string]any{"accessTokenLifespan": 1, "enabled": false}, 403},
			{"DELETE", "/admin/realms/perm", nil, 403},
			{"POST", "/admin/realms/perm/partialImport", map[string]any{"roles": map[string]any{"realm": []any{map[string]any{"name": "sneaky"}}}}, 403},
			{"POST", "/admin/realms/perm/partial-export", nil, 403},
			{"POST", "/admin/realms/perm/logout-all", nil, 403},
			{"POST", "/admin/realms/perm/push-revocation", nil, 403},
			{"GET", "/admin/realms/perm/default-default-client-scopes", nil, 403},
			{"GET", "/admin/realms/perm/default-optional-client-scopes", nil, 403},
			{"DELETE", "/admin/realms/perm/default-default-client-scopes/" + store.NewID(), nil, 403},
			{"GET", "/admin/realms/perm/attack-detection/brute-force/users/" + store.NewID(), nil, 403},
			{"DELETE", "/admin/realms/perm/attack-detection/brute-force/users", nil, 403},
			{"DELETE", "/admin/realms/perm/sessions/" + store.NewID(), nil, 403},
			{"POST", "/admin/realms", map[string]any{"realm": "mine"}, 403},
		} {
			st, _, b := s.do(c.method, c.path, viewer, c.body)
			want := ""
			if c.want == 403 {
				want = `{"error":"HTTP 403 Forbidden"}`
			}
			rtExpect(t, c.method+" "+c.path, st, b, c.want, want)
		}
		after, ok := rtRealm(t, s, "perm")
		if !ok || after.AccessTokenLifespan != before.AccessTokenLifespan || !after.Enabled || after.NotBefore != before.NotBefore {
			t.Errorf("refused calls changed the realm: %+v", after)
		}
		if _, err := s.DB.GetRealmRole(context.Background(), r.ID, "sneaky"); err == nil {
			t.Error("a refused partial import created a role")
		}
		if _, ok := rtRealm(t, s, "mine"); ok {
			t.Error("a realm admin created a realm")
		}

		// The viewer lists only its own realm.
		var list []map[string]any
		s.get("/admin/realms", viewer, &list)
		if len(list) != 1 || list[0]["realm"] != "perm" || list[0]["accessTokenLifespan"] == nil {
			t.Errorf("viewer's realm list = %v", list)
		}
		// An admin without view-realm sees the name only.
		usersAdmin := s.realmAdmin(r, "ops", "manage-users")
		var name map[string]any
		s.get("/admin/realms/perm", usersAdmin, &name)
		if len(name) != 1 || name["realm"] != "perm" {
			t.Errorf("GET realm without view-realm = %v", name)
		}
		list = nil
		s.get("/admin/realms", usersAdmin, &list)
		if len(list) != 1 || len(list[0]) != 1 {
			t.Errorf("list without view-realm = %v", list)
		}

		// A token of one realm is nothing on another, existing or not.
		s.newRealm("other")
		for _, p := range []string{"/admin/realms/other", "/admin/realms/nowhere", "/admin/realms/master"} {
			st, _, b := s.do("GET", p, viewer, nil)
			rtExpect(t, "cross realm "+p, st, b, http.StatusForbidden, `{"error":"HTTP 403 Forbidden"}`)
		}
		// No token, or a forged one.
		for _, tok := range []string{"", "not-a-jwt", viewer[:len(viewer)-4] + "AAAA"} {
			for _, p := range []string{"/admin/realms", "/admin/realms/perm", "/admin/serverinfo"} {
				st, _, b := s.do("GET", p, tok, nil)
				rtExpect(t, "unauthenticated "+p, st, b, http.StatusUnauthorized, `{"error":"HTTP 401 Unauthorized"}`)
			}
		}
	})
}

// A master user holding create-realm but not admin creates a realm and is
// given the admin roles over it, as Keycloak does; one without create-realm
// cannot create.
func TestCreateRealmRole(t *testing.T) {
	s := newServer(t, storetest.Open)
	creator := rtMasterUser(t, s, "creator", provision.CreateRealmRole)
	plain := rtMasterUser(t, s, "plain")
	st, _, b := s.do("POST", "/admin/realms", plain, map[string]any{"realm": "nope"})
	rtExpect(t, "without create-realm", st, b, http.StatusForbidden, `{"error":"HTTP 403 Forbidden"}`)
	st, _, b = s.do("POST", "/admin/realms", creator, map[string]any{"realm": "made"})
	rtExpect(t, "with create-realm", st, b, http.StatusCreated, "")
	// The creator's token still carries its old roles, but roles are read
	// from the store on every call: it manages the new realm at once.
	st, _, b = s.do("PUT", "/admin/realms/made", creator, map[string]any{"displayName": "Made"})
	rtExpect(t, "creator updates", st, b, http.StatusNoContent, "")
	var list []map[string]any
	s.get("/admin/realms", creator, &list)
	if len(list) != 1 || list[0]["realm"] != "made" {
		t.Errorf("creator sees %v, want only its realm", list)
	}
	st, _, _ = s.do("GET", "/admin/realms/master", creator, nil)
	if st != http.StatusForbidden {
		t.Errorf("creator reads master: %d", st)
	}
}

func TestLogoutAllAndSessions(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		admin := s.adminToken()
		r := s.newRealm("sess")
		ops := s.realmAdmin(r, "ops", "manage-users", "view-realm")
		opsUser, _ := s.DB.GetUserByUsername(ctx, r.ID, "ops")
		off := session.UserSession{ID: store.NewID(), RealmID: r.ID, UserID: opsUser.ID, Offline: true,
			Started: time.Now().Unix(), LastRefresh: time.Now().Unix()}
		if err := s.DB.CreateUserSession(ctx, off); err != nil {
			t.Fatal(err)
		}

		// DELETE /sessions/{id}: the kind must match, and a second delete is 404.
		online := session.UserSession{ID: store.NewID(), RealmID: r.ID, UserID: opsUser.ID,
			Started: time.Now().Unix(), LastRefresh: time.Now().Unix()}
		if err := s.DB.CreateUserSession(ctx, online); err != nil {
			t.Fatal(err)
		}
		st, _, b := s.do("DELETE", "/admin/realms/sess/sessions/"+online.ID+"?isOffline=true", admin, nil)
		rtExpect(t, "online session as offline", st, b, http.StatusNotFound, `{"error":"Session not found"}`)
		st, _, b = s.do("DELETE", "/admin/realms/sess/sessions/"+online.ID, admin, nil)
		rtExpect(t, "delete session", st, b, http.StatusNoContent, "")
		st, _, b = s.do("DELETE", "/admin/realms/sess/sessions/"+online.ID, admin, nil)
		rtExpect(t, "delete session again", st, b, http.StatusNotFound, `{"error":"Session not found"}`)

		// The ops token works, then logout-all ends its session.
		st, _, _ = s.do("GET", "/admin/realms/sess", ops, nil)
		if st != 200 {
			t.Fatalf("ops token before logout-all: %d", st)
		}
		st, _, b = s.do("POST", "/admin/realms/sess/logout-all", ops, nil)
		rtExpect(t, "logout-all", st, b, http.StatusOK, `{}`)
		st, _, b = s.do("GET", "/admin/realms/sess", ops, nil)
		rtExpect(t, "token after logout-all", st, b, http.StatusUnauthorized, `{"error":"HTTP 401 Unauthorized"}`)
		got, _ := rtRealm(t, s, "sess")
		if got.NotBefore == 0 {
			t.Error("logout-all did not set notBefore")
		}
		if _, err := s.DB.GetUserSession(ctx, r.ID, off.ID); err != nil {
			t.Errorf("logout-all ended an offline session: %v", err)
		}
		st, _, b = s.do("DELETE", "/admin/realms/sess/sessions/"+off.ID+"?isOffline=true", admin, nil)
		rtExpect(t, "delete offline session", st, b, http.StatusNoContent, "")
	})
}

func TestPushRevocation(t *testing.T) {
	s := newServer(t, storetest.Open)
	admin := s.adminToken()
	r := s.newRealm("rev")
	st, _, b := s.do("POST", "/admin/realms/rev/push-revocation", admin, nil)
	rtExpect(t, "push-revocation", st, b, http.StatusOK, `{}`)
	if got, _ := rtRealm(t, s, "rev"); got.NotBefore != r.NotBefore {
		t.Errorf("push-revocation changed notBefore to %d", got.NotBefore)
	}
	// A client with an admin URL would be told in Keycloak; Gatehouse says
	// it was not.
	st, _, b = s.do("POST", "/admin/realms/rev/partialImport", admin, map[string]any{
		"clients": []any{map[string]any{"clientId": "legacy", "rootUrl": "https://legacy.example", "adminUrl": "/admin"}}})
	rtExpect(t, "import client", st, b, http.StatusOK, "")
	st, _, b = s.do("POST", "/admin/realms/rev/push-revocation", admin, nil)
	rtExpect(t, "push-revocation with an admin URL", st, b, http.StatusOK, `{"failedRequests":["https://legacy.example/admin"]}`)
}

func TestRealmKeys(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		s.newRealm("k")
		var got struct {
			Active map[string]string `json:"active"`
			Keys   []map[string]any  `json:"keys"`
		}
		s.get("/admin/realms/k/keys", s.adminToken(), &got)
		if len(got.Keys) != 4 || got.Active["RS256"] == "" || got.Active["HS512"] == "" || got.Active["RSA-OAEP"] == "" || got.Active["AES"] == "" {
			t.Fatalf("keys = %+v", got)
		}
		for _, k := range got.Keys {
			use := "SIG"
			if k["algorithm"] == "RSA-OAEP" || k["algorithm"] == "AES" {
				use = "ENC"
			}
			if k["status"] != "ACTIVE" || k["use"] != use || k["providerPriority"] != 100.0 || k["providerId"] == "" {
				t.Errorf("key %v", k)
			}
			switch k["algorithm"] {
			case "RSA-OAEP":
				if k["type"] != "RSA" || k["kid"] != got.Active["RSA-OAEP"] || k["publicKey"] == nil {
					t.Errorf("RSA-OAEP key %v", k)
				}
			case "AES":
				if k["type"] != "OCT" || k["publicKey"] != nil || k["kid"] != got.Active["AES"] {
					t.Errorf("AES key %v", k)
				}
			case "RS256":
				if k["type"] != "RSA" || k["kid"] != got.Active["RS256"] {
					t.Errorf("RSA key %v", k)
				}
				der, err := base64.StdEncoding.DecodeString(k["publicKey"].(string))
				if err != nil {
					t.Fatal(err)
				}
				pub, err := x509.ParsePKIXPublicKey(der)
				if _, ok := pub.(*rsa.PublicKey); err != nil || !ok {
					t.Fatalf("publicKey does not parse as RSA: %v", err)
				}
				der, _ = base64.StdEncoding.DecodeString(k["certificate"].(string))
				cert, err := x509.ParseCertificate(der)
				if err != nil || !cert.PublicKey.(*rsa.PublicKey).Equal(pub) {
					t.Fatalf("certificate: %v", err)
				}
				if k["validTo"] != float64(cert.NotAfter.UnixMilli()) {
					t.Errorf("validTo %v, certificate ends %d", k["validTo"], cert.NotAfter.UnixMilli())
				}
			case "HS512":
				if k["type"] != "OCT" || k["publicKey"] != nil || k["certificate"] != nil || k["kid"] != got.Active["HS512"] {
					t.Errorf("HMAC key %v", k)
				}
			default:
				t.Errorf("unexpected key %v", k)
			}
		}
	})
}

func TestRealmDefaultClientScopes(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		admin := s.adminToken()
		s.newRealm("ds")
		type brief struct{ ID, Name, Protocol string }
		list := func(which string) []string {
			var xs []brief
			s.get("/admin/realms/ds/default-"+which+"-client-scopes", admin, &xs)
			var names []string
			for _, x := range xs {
				wantProtocol := "openid-connect"
				if x.Name == "role_list" || x.Name == "saml_organization" {
					wantProtocol = "saml"
				}
				if x.ID == "" || x.Protocol != wantProtocol {
					t.Errorf("entry %+v", x)
				}
				names = append(names, x.Name)
			}
			return names
		}
		if got := list("default"); !slices.Equal(got, []string{"acr", "basic", "email", "profile", "role_list", "roles", "saml_organization", "web-origins"}) {
			t.Errorf("default-default = %v", got)
		}
		if got := list("optional"); !slices.Equal(got, []string{"address", "microprofile-jwt", "offline_access", "phone"}) {
			t.Errorf("default-optional = %v", got)
		}
		st, hdr, b := s.do("POST", "/admin/realms/ds/client-scopes", admin, map[string]any{"name": "extra", "protocol": "openid-connect"})
		rtExpect(t, "create scope", st, b, http.StatusCreated, "")
		id := hdr.Get("Location")[strings.LastIndex(hdr.Get("Location"), "/")+1:]

		st, _, b = s.do("PUT", "/admin/realms/ds/default-default-client-scopes/"+id, admin, nil)
		rtExpect(t, "add default", st, b, http.StatusNoContent, "")
		for _, which := range []string{"default", "optional"} {
			st, _, b = s.do("PUT", "/admin/realms/ds/default-"+which+"-client-scopes/"+id, admin, nil)
			rtExpect(t, "add again to "+which, st, b, http.StatusConflict, `{"error":"conflict","error_description":"Duplicate resource error"}`)
		}
		if got := list("default"); !slices.Contains(got, "extra") {
			t.Errorf("extra not a default: %v", got)
		}
		// DELETE takes the scope out of whichever list holds it.
		st, _, b = s.do("DELETE", "/admin/realms/ds/default-optional-client-scopes/"+id, admin, nil)
		rtExpect(t, "remove", st, b, http.StatusNoContent, "")
		if got := list("default"); slices.Contains(got, "extra") {
			t.Errorf("extra still a default: %v", got)
		}
		st, _, b = s.do("DELETE", "/admin/realms/ds/default-default-client-scopes/"+id, admin, nil)
		rtExpect(t, "remove again", st, b, http.StatusNoContent, "")
		st, _, b = s.do("PUT", "/admin/realms/ds/default-optional-client-scopes/"+id, admin, nil)
		rtExpect(t, "add optional", st, b, http.StatusNoContent, "")
		if got := list("optional"); !slices.Contains(got, "extra") {
			t.Errorf("extra not optional: %v", got)
		}
		for _, m := range []string{"PUT", "DELETE"} {
			st, _, b = s.do(m, "/admin/realms/ds/default-default-client-scopes/"+store.NewID(), admin, nil)
			rtExpect(t, m+" unknown scope", st, b, http.StatusNotFound, `{"error":"Client scope not found"}`)
		}
		// view-clients reads, manage-clients writes.
		r, _ := rtRealm(t, s, "ds")
		viewer := s.realmAdmin(r, "cv", "view-clients")
		st, _, _ = s.do("GET", "/admin/realms/ds/default-default-client-scopes", viewer, nil)
		if st != 200 {
			t.Errorf("view-clients reads default scopes: %d", st)
		}
		st, _, b = s.do("DELETE", "/admin/realms/ds/default-optional-client-scopes/"+id, viewer, nil)
		rtExpect(t, "view-clients removes", st, b, http.StatusForbidden, `{"error":"HTTP 403 Forbidden"}`)
		if got := list("optional"); !slices.Contains(got, "extra") {
			t.Error("a refused DELETE removed the link")
		}
	})
}

func TestAttackDetection(t *testing.T) {
	s := newServer(t, storetest.Open)
	r := s.newRealm("bf")
	viewer := s.realmAdmin(r, "uv", "view-users")
	st, _, b := s.do("GET", "/admin/realms/bf/attack-detection/brute-force/users/"+store.NewID(), viewer, nil)
	rtExpect(t, "status", st, b, http.StatusOK,
		`{"disabled":false,"numFailures":0,"numTemporaryLockouts":0,"lastFailure":0,"lastIPFailure":"n/a","failedLoginNotBefore":0}`)
	for _, p := range []string{"/" + store.NewID(), ""} {
		st, _, b = s.do("DELETE", "/admin/realms/bf/attack-detection/brute-force/users"+p, viewer, nil)
		rtExpect(t, "clear without manage-users", st, b, http.StatusForbidden, `{"error":"HTTP 403 Forbidden"}`)
		st, _, b = s.do("DELETE", "/admin/realms/bf/attack-detection/brute-force/users"+p, s.adminToken(), nil)
		rtExpect(t, "clear", st, b, http.StatusNoContent, "")
	}
}

// rtImport posts a partial import and decodes its results.
type rtImportResults struct {
	Added, Overwritten, Skipped int
	Results                     []struct{ Action, ResourceType, ResourceName, ID string }
}

func rtImport(t *testing.T, s *testServer, realmName, token string, body map[string]any, wantStatus int, want string) rtImportResults {
	t.Helper()
	st, _, b := s.do("POST", "/admin/realms/"+realmName+"/partialImport", token, body)
	rtExpect(t, "partialImport", st, b, wantStatus, want)
	var res rtImportResults
	if st == http.StatusOK {
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
	}
	return res
}

func (r rtImportResults) action(typ, name string) (string, string) {
	for _, x := range r.Results {
		if x.ResourceType == typ && x.ResourceName == name {
			return x.Action, x.ID
		}
	}
	return "", ""
}

func TestPartialImport(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		admin := s.adminToken()
		r := s.newRealm("pi")
		first := map[string]any{
			"ifResourceExists": "FAIL",
			"clients":          []any{map[string]any{"clientId": "svc", "serviceAccountsEnabled": true}},
			"roles": map[string]any{
				"realm":  []any{map[string]any{"name": "editor", "description": "edits"}},
				"client": map[string]any{"svc": []any{map[string]any{"name": "reader"}}},
			},
			"groups": []any{map[string]any{"name": "team", "realmRoles": []string{"editor"},
				"subGroups": []any{map[string]any{"name": "core", "clientRoles": map[string]any{"svc": []string{"reader"}}}}}},
			"users": []any{map[string]any{"username": "bob", "enabled": true, "groups": []string{"/team/core"},
				"realmRoles": []string{"editor"}, "credentials": []any{map[string]any{"type": "password", "value": "bob-pw"}}}},
		}
		res := rtImport(t, s, "pi", admin, first, http.StatusOK, "")
		if res.Added != 5 || res.Overwritten != 0 || res.Skipped != 0 || len(res.Results) != 5 {
			t.Fatalf("first import = %+v", res)
		}
		for _, want := range [][2]string{{"CLIENT", "svc"}, {"REALM_ROLE", "editor"}, {"CLIENT_ROLE", "svc-->reader"}, {"GROUP", "team"}, {"USER", "bob"}} {
			if a, id := res.action(want[0], want[1]); a != "ADDED" || id == "" {
				t.Errorf("%s %s: %q %q", want[0], want[1], a, id)
			}
		}
		_, bobID := res.action("USER", "bob")
		s.token("pi", "admin-cli", "bob", "bob-pw")
		svc, err := s.DB.GetClientByClientID(ctx, r.ID, "svc")
		if err != nil || svc.Secret == "" {
			t.Fatalf("svc: %+v %v; a confidential client gets a secret", svc, err)
		}
		if _, err := s.DB.GetServiceAccount(ctx, r.ID, svc.ID); err != nil {
			t.Errorf("svc has no service account: %v", err)
		}
		if links, _ := s.DB.ClientScopeLinks(ctx, r.ID, svc.ID); len(links) < 6 {
			t.Errorf("svc inherited %d scope links, want the realm's defaults", len(links))
		}

		// FAIL: the first existing resource refuses everything, nothing lands.
		again := map[string]any{
			"clients": []any{map[string]any{"clientId": "svc"}},
			"users":   []any{map[string]any{"username": "carol", "enabled": true}},
		}
		rtImport(t, s, "pi", admin, again, http.StatusConflict, `{"errorMessage":"Client id 'svc' already exists"}`)
		if _, err := s.DB.GetUserByUsername(ctx, r.ID, "carol"); err == nil {
			t.Error("a refused import created a user")
		}
		for _, c := range []struct {
			body map[string]any
			want string
		}{
			{map[string]any{"users": []any{map[string]any{"username": "BOB"}}}, `{"errorMessage":"User with user name bob already exists."}`},
			{map[string]any{"groups": []any{map[string]any{"name": "team"}}}, `{"errorMessage":"Group '/team' already exists"}`},
			{map[string]any{"roles": map[string]any{"realm": []any{map[string]any{"name": "editor"}}}}, `{"errorMessage":"Realm role 'editor' already exists."}`},
			{map[string]any{"roles": map[string]any{"client": map[string]any{"svc": []any{map[string]any{"name": "reader"}}}}}, `{"errorMessage":"Client role 'reader' for client 'svc' already exists."}`},
			{map[string]any{"roles": map[string]any{"client": map[string]any{"nope": []any{map[string]any{"name": "x"}}}}}, `{"errorMessage":"Can not import client roles for nonexistent client named nope"}`},
			{map[string]any{"ifResourceExists": "MERGE"}, `{"error":"invalid_request","error_description":"Cannot parse the JSON"}`},
		} {
			want := http.StatusConflict
			switch {
			case strings.Contains(c.want, "nonexistent"):
				want = http.StatusPreconditionFailed
			case strings.Contains(c.want, "parse"), strings.Contains(c.want, "ghost"):
				want = http.StatusBadRequest
			}
			rtImport(t, s, "pi", admin, c.body, want, c.want)
		}

		// A user naming a role the realm lacks gets it created, as
		// Keycloak's import of a user does.
		rtImport(t, s, "pi", admin, map[string]any{"users": []any{map[string]any{"username": "dan", "realmRoles": []string{"ghost"}}}}, http.StatusOK, "")
		if code, _, body := s.do("GET", "/admin/realms/pi/roles/ghost", admin, nil); code != http.StatusOK {
			t.Fatalf("role ghost: %d %s", code, body)
		}

		// SKIP leaves what exists and adds the rest.
		res = rtImport(t, s, "pi", admin, map[string]any{"ifResourceExists": "SKIP",
			"users": []any{map[string]any{"username": "bob", "firstName": "Robert"}, map[string]any{"username": "carol", "enabled": true}}}, http.StatusOK, "")
		if res.Added != 1 || res.Skipped != 1 {
			t.Errorf("SKIP = %+v", res)
		}
		if a, id := res.action("USER", "bob"); a != "SKIPPED" || id != bobID {
			t.Errorf("bob under SKIP: %s %s, want SKIPPED %s", a, id, bobID)
		}
		if u, _ := s.DB.GetUserByUsername(ctx, r.ID, "bob"); u.FirstName != "" {
			t.Error("SKIP changed bob")
		}

		// OVERWRITE replaces; admin clients and roles are never overwritten.
		res = rtImport(t, s, "pi", admin, map[string]any{"ifResourceExists": "OVERWRITE",
			"users":   []any{map[string]any{"username": "bob", "firstName": "Robert", "enabled": true}},
			"clients": []any{map[string]any{"clientId": "svc", "description": "new"}, map[string]any{"clientId": "realm-management", "bearerOnly": false}},
			"roles": map[string]any{"realm": []any{map[string]any{"name": "editor", "description": "changed"}},
				"client": map[string]any{"realm-management": []any{map[string]any{"name": "realm-admin"}}}},
		}, http.StatusOK, "")
		if res.Overwritten != 3 || res.Skipped != 2 || res.Added != 0 {
			t.Errorf("OVERWRITE = %+v", res)
		}
		if a, _ := res.action("CLIENT", "realm-management"); a != "SKIPPED" {
			t.Errorf("realm-management under OVERWRITE: %s", a)
		}
		if a, _ := res.action("CLIENT_ROLE", "realm-management-->realm-admin"); a != "SKIPPED" {
			t.Errorf("realm-admin under OVERWRITE: %s", a)
		}
		if rm, _ := s.DB.GetClientByClientID(ctx, r.ID, "realm-management"); !rm.BearerOnly {
			t.Error("realm-management was overwritten")
		}
		bob, _ := s.DB.GetUserByUsername(ctx, r.ID, "bob")
		if bob.FirstName != "Robert" || bob.ID == bobID {
			t.Errorf("bob after OVERWRITE: %+v (old id %s)", bob, bobID)
		}
		svc2, _ := s.DB.GetClientByClientID(ctx, r.ID, "svc")
		if svc2.ID != svc.ID || svc2.Description != "new" || svc2.Secret != svc.Secret {
			t.Errorf("svc after OVERWRITE: id %s→%s, secret kept %v", svc.ID, svc2.ID, svc2.Secret == svc.Secret)
		}
		if ed, _ := s.DB.GetRealmRole(ctx, r.ID, "editor"); ed.Description != "changed" {
			t.Errorf("editor after OVERWRITE: %+v", ed)
		}
	})
}

// CVE-2026-11577: partialImport let an admin create users and groups holding
// admin roles they do not hold. Every way an import grants a role is checked.
func TestPartialImportCannotEscalate(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		r := s.newRealm("esc")
		// manage-realm, manage-users and manage-clients, but not realm-admin.
		importer := s.realmAdmin(r, "importer", "manage-realm", "manage-users", "manage-clients")
		forbidden := `{"error":"HTTP 403 Forbidden"}`
		adminRole := map[string]any{"realm-management": []string{"realm-admin"}}
		for _, c := range []struct {
			name, user, role string
			body             map[string]any
		}{
			{"user with realm-admin", "evil1", "", map[string]any{"users": []any{map[string]any{"username": "evil1", "clientRoles": adminRole}}}},
			{"group with an admin role in a subgroup", "", "", map[string]any{"groups": []any{map[string]any{"name": "evil2",
				"subGroups": []any{map[string]any{"name": "deeper", "clientRoles": map[string]any{"realm-management": []string{"view-users"}}}}}}}},
			{"role composed of realm-admin", "", "evil3", map[string]any{"roles": map[string]any{"realm": []any{map[string]any{"name": "evil3",
				"composites": map[string]any{"client": adminRole}}}}}},
			{"user with a role composed of an admin role", "evil4", "evil4", map[string]any{
				"roles": map[string]any{"realm": []any{map[string]any{"name": "evil4", "composites": map[string]any{"client": map[string]any{"realm-management": []string{"impersonation"}}}}}},
				"users": []any{map[string]any{"username": "evil4", "realmRoles": []string{"evil4"}}}}},
		} {
			t.Run(c.name, func(t *testing.T) {
				rtImport(t, s, "esc", importer, c.body, http.StatusForbidden, forbidden)
				if _, err := s.DB.GetUserByUsername(ctx, r.ID, c.user); c.user != "" && err == nil {
					t.Error("user created")
				}
				if _, err := s.DB.GetRealmRole(ctx, r.ID, c.role); c.role != "" && err == nil {
					t.Error("role created")
				}
				if gs, _ := s.DB.ListGroups(ctx, r.ID); len(gs) != 0 {
					t.Errorf("groups created: %v", gs)
				}
			})
		}
		// A user joining an existing group that carries realm-admin.
		master := s.adminToken()
		rtImport(t, s, "esc", master, map[string]any{"groups": []any{map[string]any{"name": "admins", "clientRoles": adminRole}}}, http.StatusOK, "")
		rtImport(t, s, "esc", importer, map[string]any{"users": []any{map[string]any{"username": "evil5", "groups": []string{"/admins"}}}}, http.StatusForbidden, forbidden)
		if _, err := s.DB.GetUserByUsername(ctx, r.ID, "evil5"); err == nil {
			t.Error("a user joined a group carrying realm-admin")
		}
		// Roles the importer holds, and ordinary roles, are fine.
		rtImport(t, s, "esc", importer, map[string]any{"users": []any{
			map[string]any{"username": "helper", "clientRoles": map[string]any{"realm-management": []string{"manage-users"}}}}}, http.StatusOK, "")
		// Without manage-users, no users or groups at all.
		realmOnly := s.realmAdmin(r, "realmonly", "manage-realm")
		rtImport(t, s, "esc", realmOnly, map[string]any{"users": []any{map[string]any{"username": "plain"}}}, http.StatusForbidden, forbidden)
		rtImport(t, s, "esc", realmOnly, map[string]any{"clients": []any{map[string]any{"clientId": "plain"}}}, http.StatusForbidden, forbidden)
		rtImport(t, s, "esc", realmOnly, map[string]any{"roles": map[string]any{"realm": []any{map[string]any{"name": "plain"}}}}, http.StatusOK, "")
		// Master's admin may grant anything.
		rtImport(t, s, "esc", master, map[string]any{"users": []any{map[string]any{"username": "boss", "clientRoles": adminRole}}}, http.StatusOK, "")
	})
}

func TestPartialExport(t *testing.T) {
	s := newServer(t, storetest.Open)
	admin := s.adminToken()
	s.newRealm("px")
	rtImport(t, s, "px", admin, map[string]any{
		"clients": []any{map[string]any{"clientId": "conf", "secret": "top-secret", "serviceAccountsEnabled": true},
			map[string]any{"clientId": "pub", "publicClient": true},
			map[string]any{"clientId": "sp", "protocol": "saml", "attributes": map[string]any{
				"saml.signing.private.key": "SIGNING-PRIVATE", "saml.encryption.private.key": "ENCRYPTION-PRIVATE"}}},
		"roles":  map[string]any{"realm": []any{map[string]any{"name": "editor"}}},
		"groups": []any{map[string]any{"name": "team"}},
		"users":  []any{map[string]any{"username": "humanuser", "credentials": []any{map[string]any{"type": "password", "value": "pw"}}}},
	}, http.StatusOK, "")

	var x map[string]any
	st, _, b := s.do("POST", "/admin/realms/px/partial-export?exportClients=true&exportGroupsAndRoles=true", admin, nil)
	rtExpect(t, "export", st, b, http.StatusOK, "")
	if strings.Contains(string(b), "top-secret") || strings.Contains(string(b), "humanuser") || strings.Contains(string(b), "privateKey") {
		t.Fatalf("export leaks a secret, a user or a key: %s", b)
	}
	json.Unmarshal(b, &x)
	secrets := map[string]any{}
	for _, c := range x["clients"].([]any) {
		c := c.(map[string]any)
		secrets[c["clientId"].(string)] = c["secret"]
	}
	if secrets["conf"] != "**********" || secrets["pub"] != nil {
		t.Errorf("secrets = %v", secrets)
	}
	// A SAML client's private keys are masked like the secret.
	for _, c := range x["clients"].([]any) {
		if c := c.(map[string]any); c["clientId"] == "sp" {
			a, _ := c["attributes"].(map[string]any)
			if a["saml.signing.private.key"] != "**********" || a["saml.encryption.private.key"] != "**********" {
				t.Errorf("SAML client attributes in the export: %v", a)
			}
		}
	}
	users := x["users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["username"] != "service-account-conf" {
		t.Errorf("users = %v; only service accounts travel with their clients", users)
	}
	if x["roles"] == nil || x["groups"] == nil || x["clientScopes"] == nil {
		t.Errorf("export sections: roles %v groups %v scopes %v", x["roles"] != nil, x["groups"] != nil, x["clientScopes"] != nil)
	}
	// Of the components only the client registration policies travel:
	// never the keys.
	if cs, _ := x["components"].(map[string]any); len(cs) != 1 || cs[regPolicyType] == nil {
		t.Errorf("export components: %v", x["components"])
	}

	x = nil
	st, _, b = s.do("POST", "/admin/realms/px/partial-export", admin, nil)
	rtExpect(t, "bare export", st, b, http.StatusOK, "")
	json.Unmarshal(b, &x)
	for _, k := range []string{"clients", "roles", "groups", "users"} {
		if x[k] != nil {
			t.Errorf("bare export carries %s", k)
		}
	}
	if cs, _ := x["components"].(map[string]any); len(cs) != 1 || cs[regPolicyType] == nil {
		t.Errorf("bare export components: %v", x["components"])
	}
	if x["realm"] != "px" || x["clientScopes"] == nil {
		t.Errorf("bare export = %v", x)
	}

	// The export imports back into another realm (secrets regenerated).
	var body map[string]any
	_, _, b = s.do("POST", "/admin/realms/px/partial-export?exportClients=true&exportGroupsAndRoles=true", admin, nil)
	json.Unmarshal(b, &body)
	s.newRealm("py")
	delete(body, "users") // service accounts are recreated with their clients
	res := rtImport(t, s, "py", admin, map[string]any{"ifResourceExists": "SKIP", "clients": body["clients"], "roles": body["roles"], "groups": body["groups"]}, http.StatusOK, "")
	if a, _ := res.action("CLIENT", "conf"); a != "ADDED" {
		t.Errorf("conf into py: %s", a)
	}
	r, _ := rtRealm(t, s, "py")
	conf, _ := s.DB.GetClientByClientID(context.Background(), r.ID, "conf")
	if conf.Secret == "" || conf.Secret == "**********" || conf.Secret == "top-secret" {
		t.Errorf("imported masked secret became %q", conf.Secret)
	}
	// A masked private key is no key: a new client goes without it, an
	// overwritten one keeps the stored one.
	if sp, _ := s.DB.GetClientByClientID(context.Background(), r.ID, "sp"); sp.Attributes["saml.signing.private.key"] != "" {
		t.Errorf("imported masked private key became %q", sp.Attributes["saml.signing.private.key"])
	}
	rtImport(t, s, "px", admin, map[string]any{"ifResourceExists": "OVERWRITE", "clients": body["clients"]}, http.StatusOK, "")
	px, _ := rtRealm(t, s, "px")
	sp, _ := s.DB.GetClientByClientID(context.Background(), px.ID, "sp")
	if sp.Attributes["saml.signing.private.key"] != "SIGNING-PRIVATE" || sp.Attributes["saml.encryption.private.key"] != "ENCRYPTION-PRIVATE" {
		t.Errorf("overwrite with the export replaced the private keys: %v", sp.Attributes)
	}
}
