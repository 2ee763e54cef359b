package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/ldap/ldaptest"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// slapdProvider is a provider body for the test directory, its users under
// usersDN.
func slapdProvider(d *ldaptest.Server, name, usersDN string) map[string]any {
	p := ldapProvider(name, d.URL, ldaptest.BindPW)
	cfg := p["config"].(map[string][]string)
	cfg["bindDn"] = []string{ldaptest.BindDN}
	cfg["usersDn"] = []string{usersDN}
	cfg["editMode"] = []string{"READ_ONLY"}
	return p
}

// Testing a connection and a bind before saving, against a real slapd:
// Keycloak's 204, or its 400 with the failure's code; the masked
// credential of a saved provider stands for the stored one.
func TestLDAPConnectionTest(t *testing.T) {
	d := ldaptest.Start(t)
	both(t, func(t *testing.T, s *testServer) {
		s.newRealm("ldt")
		admin := s.adminToken()
		path := "/admin/realms/ldt/testLDAPConnection"
		body := func(action, u, dn, pw, comp string) map[string]string {
			return map[string]string{"action": action, "connectionUrl": u, "bindDn": dn, "bindCredential": pw, "componentId": comp,
				"useTruststoreSpi": "always", "connectionTimeout": "", "startTls": "", "authType": "simple"}
		}
		check := func(what string, b any, wantStatus int, wantBody string) {
			t.Helper()
			st, _, got := s.do("POST", path, admin, b)
			if st != wantStatus || string(got) != wantBody {
				t.Errorf("%s: %d %s, want %d %s", what, st, got, wantStatus, wantBody)
			}
		}
		check("connection", body("testConnection", d.URL, "", "", ""), 204, "")
		check("bind", body("testAuthentication", d.URL, ldaptest.BindDN, ldaptest.BindPW, ""), 204, "")
		check("wrong password", body("testAuthentication", d.URL, ldaptest.BindDN, "nope", ""), 400, `{"errorMessage":"AuthenticationFailure"}`)
		check("nothing listening", body("testConnection", ldaptest.DeadURL(t), "", "", ""), 400, `{"errorMessage":"ConnectionFailed"}`)
		check("unknown action", body("ping", d.URL, "", "", ""), 400, `{"errorMessage":"UnknownError"}`)
		check("no URL", body("testConnection", "", "", "", ""), 400, `{"errorMessage":"MalformedURL"}`)
		bad := body("testConnection", d.URL, "", "", "")
		bad["connectionTimeout"] = "soon"
		check("bad timeout", bad, 400, `{"errorMessage":"Connection Timeout must be a number"}`)

		id := s.createComponent("ldt", admin, slapdProvider(d, "corp", ldaptest.PeopleDN))
		check("stored credential", body("testAuthentication", d.URL, ldaptest.BindDN, secret.Mask, id), 204, "")
		check("mask without a provider", body("testAuthentication", d.URL, ldaptest.BindDN, secret.Mask, ""), 400, `{"errorMessage":"AuthenticationFailure"}`)
		check("another realm's provider", body("testAuthentication", d.URL, ldaptest.BindDN, secret.Mask, store.NewID()), 404, `{"error":"Could not find component"}`)

		// The mask never sends the stored password elsewhere: with another
		// URL or bind DN the test is refused before any connection, for a
		// bind test and for the capabilities.
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer lis.Close()
		var got atomic.Int64
		go func() {
			for {
				c, err := lis.Accept()
				if err != nil {
					return
				}
				buf := make([]byte, 4096)
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				n, _ := c.Read(buf)
				got.Add(int64(n))
				c.Close()
			}
		}()
		elsewhere := "ldap://" + lis.Addr().String()
		for _, b := range []map[string]string{
			body("testAuthentication", elsewhere, ldaptest.BindDN, secret.Mask, id),
			body("testConnection", elsewhere, ldaptest.BindDN, secret.Mask, id),
			body("testAuthentication", d.URL, "uid=user1,"+ldaptest.PeopleDN, secret.Mask, id),
		} {
			if st, _, rb := s.do("POST", path, admin, b); st != 400 || !strings.Contains(string(rb), "errorMessage") {
				t.Errorf("mask with another URL or bind DN: %d %s", st, rb)
			}
		}
		if st, _, rb := s.do("POST", "/admin/realms/ldt/ldap-server-capabilities", admin, body("", elsewhere, ldaptest.BindDN, secret.Mask, id)); st != 400 {
			t.Errorf("capabilities with the mask and another URL: %d %s", st, rb)
		}
		time.Sleep(100 * time.Millisecond)
		if n := got.Load(); n != 0 {
			t.Errorf("the other server received %d bytes", n)
		}

		// The form older consoles post.
		form := url.Values{"action": {"testAuthentication"}, "connectionUrl": {d.URL}, "bindDn": {ldaptest.BindDN}, "bindCredential": {ldaptest.BindPW}}
		req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 204 {
			t.Errorf("form post: %v %v", resp.StatusCode, err)
		}
		if strings.Contains(s.Log.String(), ldaptest.BindPW) || strings.Contains(s.Log.String(), "nope") {
			t.Errorf("a bind credential reached the log")
		}

		// Capabilities of the directory's root DSE.
		st, _, b := s.do("POST", "/admin/realms/ldt/ldap-server-capabilities", admin, body("", d.URL, ldaptest.BindDN, secret.Mask, id))
		var caps []struct{ OID, Type string }
		json.Unmarshal(b, &caps)
		found := false
		for _, c := range caps {
			// The password modify extended operation, which slapd offers.
			found = found || c.OID == "1.3.6.1.4.1.4203.1.11.1" && c.Type == "EXTENSION"
		}
		if st != 200 || !found {
			t.Errorf("capabilities: %d %s", st, b)
		}
		if st, _, b := s.do("POST", "/admin/realms/ldt/ldap-server-capabilities", admin, body("", d.URL, ldaptest.BindDN, "nope", "")); st != 400 || string(b) != `{"errorMessage":"AuthenticationFailure"}` {
			t.Errorf("capabilities with a wrong password: %d %s", st, b)
		}
	})
}

// The user storage actions that need no directory: a provider's name,
// removing and unlinking its imported users.
func TestUserStorageActions(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		r := s.newRealm("usa")
		admin := s.adminToken()
		id := s.createComponent("usa", admin, ldapProvider("corp", "ldap://127.0.0.1:1", "pw"))
		var name map[string]string
		s.get("/admin/realms/usa/user-storage/"+id+"/name", admin, &name)
		if name["id"] != id || name["name"] != "corp" {
			t.Errorf("name: %v", name)
		}
		if st, _, b := s.do("GET", "/admin/realms/usa/user-storage/"+store.NewID()+"/name", admin, nil); st != 404 || string(b) != `{"error":"Could not find component"}` {
			t.Errorf("unknown provider: %d %s", st, b)
		}
		var mappers []policyComp
		s.get("/admin/realms/usa/components?parent="+id, admin, &mappers)
		if st, _, b := s.do("POST", "/admin/realms/usa/user-storage/"+mappers[0].ID+"/unlink-users", admin, nil); st != 404 || string(b) != `{"error":"found, but not a UserStorageProvider"}` {
			t.Errorf("a mapper as provider: %d %s", st, b)
		}
		mk := func(name string) string {
			u := user.User{ID: store.NewID(), RealmID: r.ID, Username: name, Enabled: true, FederationLink: id}
			if err := s.DB.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			return u.ID
		}
		a := mk("a")
		if st, _, b := s.do("POST", "/admin/realms/usa/user-storage/"+id+"/unlink-users", admin, nil); st != 204 {
			t.Fatalf("unlink: %d %s", st, b)
		}
		if u, _ := s.DB.GetUser(ctx, r.ID, a); u.FederationLink != "" {
			t.Errorf("still linked")
		}
		b := mk("b")
		if st, _, body := s.do("POST", "/admin/realms/usa/user-storage/"+id+"/remove-imported-users", admin, nil); st != 204 {
			t.Fatalf("remove: %d %s", st, body)
		}
		if _, err := s.DB.GetUser(ctx, r.ID, b); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("imported user kept: %v", err)
		}
		if _, err := s.DB.GetUser(ctx, r.ID, a); err != nil {
			t.Errorf("unlinked user removed: %v", err)
		}
		// A realm admin who may only view users cannot remove them.
		viewer := s.realmAdmin(r, "viewer", "view-users")
		if st, _, _ := s.do("POST", "/admin/realms/usa/user-storage/"+id+"/remove-imported-users", viewer, nil); st != 403 {
			t.Errorf("viewer removed users: %d", st)
		}
	})
}
