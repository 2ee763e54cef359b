package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// usersEnv drives the users and role-mappings API of one realm as one admin.
type usersEnv struct {
	*testServer
	t     *testing.T
	realm realm.Realm
	tok   string
}

func newUsersEnv(t *testing.T, s *testServer, realmName string) *usersEnv {
	t.Helper()
	return &usersEnv{testServer: s, t: t, realm: s.newRealm(realmName), tok: s.adminToken()}
}

func (e *usersEnv) path(p string) string { return "/admin/realms/" + e.realm.Name + p }

// call sends an admin request as tok and returns status and body.
func (e *usersEnv) call(method, p, tok string, body any) (int, string) {
	e.t.Helper()
	st, _, b := e.do(method, e.path(p), tok, body)
	return st, string(b)
}

// want checks status and, when body is not empty, the exact body.
func (e *usersEnv) want(method, p, tok string, body any, status int, wantBody string) string {
	e.t.Helper()
	st, got := e.call(method, p, tok, body)
	if st != status || wantBody != "" && got != wantBody {
		e.t.Fatalf("%s %s: got %d %s, want %d %s", method, p, st, got, status, wantBody)
	}
	return got
}

// create posts a user representation and returns the new id.
func (e *usersEnv) create(x map[string]any) string {
	e.t.Helper()
	st, h, b := e.do("POST", e.path("/users"), e.tok, x)
	if st != http.StatusCreated {
		e.t.Fatalf("create %v: %d %s", x["username"], st, b)
	}
	loc := h.Get("Location")
	prefix := e.URL + e.path("/users/")
	if !strings.HasPrefix(loc, prefix) {
		e.t.Fatalf("Location %q, want prefix %q", loc, prefix)
	}
	return strings.TrimPrefix(loc, prefix)
}

// user reads a user representation as a generic map.
func (e *usersEnv) user(id string) map[string]any {
	e.t.Helper()
	var m map[string]any
	e.get(e.path("/users/"+id), e.tok, &m)
	return m
}

// login runs the password grant through admin-cli of the env's realm.
func (e *usersEnv) login(username, password string) (int, map[string]any) {
	e.t.Helper()
	return e.form("/realms/"+e.realm.Name+"/protocol/openid-connect/token", url.Values{
		"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {username}, "password": {password}}, "", "")
}

// form posts to a protocol endpoint and decodes the JSON answer.
func (e *usersEnv) form(p string, v url.Values, basicUser, basicPass string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.URL+p, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(basicUser, basicPass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func (e *usersEnv) userNames(p string) []string {
	e.t.Helper()
	var us []map[string]any
	e.get(e.path(p), e.tok, &us)
	out := []string{}
	for _, u := range us {
		out = append(out, u["username"].(string))
	}
	return out
}

func (e *usersEnv) ctx() context.Context { return context.Background() }

func (e *usersEnv) mustRole(name string) role.Role {
	e.t.Helper()
	r := role.Role{ID: store.NewID(), RealmID: e.realm.ID, Name: name}
	if err := e.DB.CreateRole(e.ctx(), r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *usersEnv) mustGroup(name, parentID string, roles ...role.Role) role.Group {
	e.t.Helper()
	g := role.Group{ID: store.NewID(), RealmID: e.realm.ID, ParentID: parentID, Name: name}
	if err := e.DB.CreateGroup(e.ctx(), g); err != nil {
		e.t.Fatal(err)
	}
	for _, r := range roles {
		if err := e.DB.AddGroupRoles(e.ctx(), g.ID, r.ID); err != nil {
			e.t.Fatal(err)
		}
	}
	return g
}

func (e *usersEnv) adminRole(name string) role.Role {
	e.t.Helper()
	rm, err := e.DB.GetClientByClientID(e.ctx(), e.realm.ID, provision.RealmManagement)
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := e.DB.GetClientRole(e.ctx(), e.realm.ID, rm.ID, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *usersEnv) directRoleNames(userID string) []string {
	e.t.Helper()
	rs, err := e.DB.ListUserRoles(e.ctx(), userID)
	if err != nil {
		e.t.Fatal(err)
	}
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Name)
	}
	slices.Sort(out)
	return out
}

func TestUserCreateReadUpdateDelete(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "acme")
		id := e.create(map[string]any{"username": "Alice", "email": "Alice@Example.com", "firstName": "Alice",
			"lastName": "Liddell", "enabled": true, "attributes": map[string][]string{"dept": {"R&D"}}})

		u := e.user(id)
		if u["id"] != id || u["username"] != "alice" || u["email"] != "alice@example.com" || u["firstName"] != "Alice" ||
			u["enabled"] != true || u["emailVerified"] != false || u["totp"] != false {
			t.Fatalf("read back: %v", u)
		}
		if attrs, _ := u["attributes"].(map[string]any); fmt.Sprint(attrs["dept"]) != "[R&D]" {
			t.Fatalf("attributes: %v", u["attributes"])
		}
		if _, ok := u["credentials"]; ok {
			t.Fatalf("representation carries credentials: %v", u)
		}
		if access, _ := u["access"].(map[string]any); access["manage"] != true || access["view"] != true {
			t.Fatalf("access: %v", u["access"])
		}
		if ct, _ := u["createdTimestamp"].(float64); ct < float64(time.Now().Add(-time.Minute).UnixMilli()) {
			t.Fatalf("createdTimestamp %v is not epoch ms of now", u["createdTimestamp"])
		}
		// The realm's default role comes with every new user.
		if got := e.directRoleNames(id); !slices.Equal(got, []string{realm.DefaultRoleName("acme")}) {
			t.Fatalf("roles of a new user: %v", got)
		}

		e.want("POST", "/users", e.tok, map[string]any{"username": "ALICE"}, 409, `{"errorMessage":"User exists with same username"}`)
		e.want("POST", "/users", e.tok, map[string]any{"username": "alice2", "email": "ALICE@example.com"}, 409,
			`{"errorMessage":"User exists with same email"}`)
		e.want("POST", "/users", e.tok, map[string]any{"email": "x@example.com"}, 400, `{"errorMessage":"User name is missing"}`)
		e.want("POST", "/users", e.tok, map[string]any{"username": "  "}, 400, `{"errorMessage":"User name is missing"}`)
		e.want("POST", "/users", e.tok, `{"username": `, 400, `{"error":"invalid_request","error_description":"Cannot parse the JSON"}`)

		// Update is partial: absent fields keep their values.
		e.want("PUT", "/users/"+id, e.tok, map[string]any{"firstName": "Alicia", "requiredActions": []string{"VERIFY_EMAIL", "BOGUS"}}, 204, "")
		u = e.user(id)
		if u["firstName"] != "Alicia" || u["lastName"] != "Liddell" || u["email"] != "alice@example.com" ||
			fmt.Sprint(u["requiredActions"]) != "[VERIFY_EMAIL]" {
			t.Fatalf("after update: %v", u)
		}
		bob := e.create(map[string]any{"username": "bob", "email": "bob@example.com", "enabled": true})
		e.want("PUT", "/users/"+bob, e.tok, map[string]any{"username": "Alice"}, 409, `{"errorMessage":"User exists with same username"}`)
		e.want("PUT", "/users/"+bob, e.tok, map[string]any{"email": "alice@EXAMPLE.com"}, 409, `{"errorMessage":"User exists with same email"}`)
		if u := e.user(bob); u["username"] != "bob" || u["email"] != "bob@example.com" {
			t.Fatalf("refused update changed the user: %v", u)
		}
		e.want("PUT", "/users/"+bob, e.tok, map[string]any{"username": "robert"}, 204, "")
		if u := e.user(bob); u["username"] != "robert" {
			t.Fatalf("rename: %v", u)
		}

		e.want("DELETE", "/users/"+id, e.tok, nil, 204, "")
		e.want("GET", "/users/"+id, e.tok, nil, 404, `{"error":"User not found"}`)
		e.want("DELETE", "/users/"+id, e.tok, nil, 404, `{"error":"User not found"}`)
		e.want("PUT", "/users/"+id, e.tok, map[string]any{"firstName": "x"}, 404, `{"error":"User not found"}`)
	})
}

// SECURITY.md M6: oversized attributes are refused and nothing is stored.
func TestUserCreateRefusesOversizedAttributes(t *testing.T) {
	s := newServer(t, storetest.Open)
	e := newUsersEnv(t, s, "acme")
	many := map[string][]string{}
	for i := range 1001 {
		many[fmt.Sprintf("a%d", i)] = []string{"v"}
	}
	for name, attrs := range map[string]map[string][]string{
		"10 KB value":     {"blob": {strings.Repeat("x", 10<<10)}},
		"1001 attributes": many,
	} {
		st, body := e.call("POST", "/users", e.tok, map[string]any{"username": "big", "attributes": attrs})
		if st != 400 || !strings.Contains(body, `"errorMessage"`) {
			t.Fatalf("%s: %d %s", name, st, body)
		}
		if _, err := s.DB.GetUserByUsername(e.ctx(), e.realm.ID, "big"); err == nil {
			t.Fatalf("%s: refused user was stored", name)
		}
	}
	id := e.create(map[string]any{"username": "small"})
	st, _ := e.call("PUT", "/users/"+id, e.tok, map[string]any{"attributes": map[string][]string{"blob": {strings.Repeat("x", 10<<10)}}})
	if st != 400 {
		t.Fatalf("update with 10 KB value: %d", st)
	}
}

func TestUserCreateWithPasswordGroupsAndRoles(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "acme")
		editor := e.mustRole("editor")
		staff := e.mustGroup("staff", "")
		team := e.mustGroup("team", staff.ID)
		id := e.create(map[string]any{"username": "carol", "enabled": true,
			"credentials": []map[string]any{{"type": "password", "value": "Carol-pw-1", "temporary": false}},
			"groups":      []string{"/staff/team"}, "realmRoles": []string{"editor"}})
		if st, body := e.login("carol", "Carol-pw-1"); st != 200 {
			t.Fatalf("login with the password set at creation: %d %v", st, body)
		}
		if got := e.directRoleNames(id); !slices.Contains(got, editor.Name) {
			t.Fatalf("realmRoles not granted: %v", got)
		}
		gs, _ := s.DB.ListUserGroups(e.ctx(), id)
		if len(gs) != 1 || gs[0].ID != team.ID {
			t.Fatalf("groups: %v", gs)
		}

		e.create(map[string]any{"username": "dave", "enabled": true,
			"credentials": []map[string]any{{"type": "password", "value": "Dave-pw-1", "temporary": true}}})
		if st, body := e.login("dave", "Dave-pw-1"); st != 400 || body["error_description"] != "Account is not fully set up" {
			t.Fatalf("temporary password: %d %v", st, body)
		}

		e.want("POST", "/users", e.tok, map[string]any{"username": "erin", "groups": []string{"/nope"}}, 400,
			`{"errorMessage":"Group /nope not found"}`)
		e.want("POST", "/users", e.tok, map[string]any{"username": "erin", "realmRoles": []string{"ghost"}}, 400,
			`{"errorMessage":"Role ghost not found"}`)
		if _, err := s.DB.GetUserByUsername(e.ctx(), e.realm.ID, "erin"); err == nil {
			t.Fatal("refused user was stored")
		}
	})
}

func TestUserSearch(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "acme")
		e.create(map[string]any{"username": "alice", "email": "alice@example.com", "firstName": "Alice", "lastName": "Liddell",
			"enabled": true, "attributes": map[string][]string{"dept": {"Research"}}})
		e.create(map[string]any{"username": "bob", "email": "bob@example.org", "firstName": "Bob", "lastName": "Alison", "enabled": true})
		e.create(map[string]any{"username": "carol", "email": "carol@example.com", "firstName": "Carol", "enabled": false,
			"attributes": map[string][]string{"dept": {"Sales"}}})
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"", []string{"alice", "bob", "carol"}},
			{"?search=ALI", []string{"alice", "bob"}},
			{"?search=*example.com", []string{"alice", "carol"}},
			{"?search=%22carol%22", []string{"carol"}},
			{"?search=%25", []string{}},
			{"?username=AL", []string{"alice"}},
			{"?username=ali&exact=true", []string{}},
			{"?username=ALICE&exact=true", []string{"alice"}},
			{"?email=.org", []string{"bob"}},
			{"?firstName=car&lastName=", []string{"carol"}},
			{"?enabled=false", []string{"carol"}},
			{"?q=dept:research", []string{"alice"}},
			{"?q=dept:sales%20missing:x", []string{}},
			{"?first=1&max=1", []string{"bob"}},
		} {
			if got := e.userNames("/users" + tc.query); !slices.Equal(got, tc.want) {
				t.Errorf("users%s: got %v, want %v", tc.query, got, tc.want)
			}
			countQuery := tc.query
			if strings.Contains(countQuery, "first=") {
				continue
			}
			if st, body := e.call("GET", "/users/count"+countQuery, e.tok, nil); st != 200 || body != fmt.Sprint(len(tc.want)) {
				t.Errorf("users/count%s: %d %s, want %d", countQuery, st, body, len(tc.want))
			}
		}
		e.want("GET", "/users?first=-1", e.tok, nil, 400, "")
		e.want("GET", "/users?max=-5", e.tok, nil, 400, "")

		var brief []map[string]any
		e.get(e.path("/users?briefRepresentation=true&username=alice&exact=true"), e.tok, &brief)
		if len(brief) != 1 || brief[0]["attributes"] != nil || brief[0]["username"] != "alice" {
			t.Fatalf("brief: %v", brief)
		}
	})
}

func TestUserListDefaultsToHundred(t *testing.T) {
	s := newServer(t, storetest.Open)
	e := newUsersEnv(t, s, "acme")
	for i := range 105 {
		u := user.User{ID: store.NewID(), RealmID: e.realm.ID, Username: fmt.Sprintf("u%03d", i), Enabled: true}
		if err := s.DB.CreateUser(e.ctx(), u); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.userNames("/users"); len(got) != 100 || got[0] != "u000" {
		t.Fatalf("default page: %d users", len(got))
	}
	if got := e.userNames("/users?max=1000000"); len(got) != 105 {
		t.Fatalf("large max: %d users", len(got))
	}
	if got := e.userNames("/users?first=100"); len(got) != 5 {
		t.Fatalf("second page: %d users", len(got))
	}
	e.want("GET", "/users/count", e.tok, nil, 200, "105")
}

// A view-users admin can list and read users but never sees a credential,
// and cannot change anything (SECURITY.md M2, M8).
func TestUserViewerSeesNoSecrets(t *testing.T) {
	s := newServer(t, storetest.Open)
	e := newUsersEnv(t, s, "acme")
	id := e.create(map[string]any{"username": "alice", "enabled": true,
		"credentials": []map[string]any{{"type": "password", "value": "Alice-pw-1"}}})
	viewer := s.realmAdmin(e.realm, "viewer", "view-users")
	for _, p := range []string{"/users", "/users/" + id, "/users/" + id + "/credentials", "/users?briefRepresentation=false"} {
		body := e.want("GET", p, viewer, nil, 200, "")
		if strings.Contains(body, "secretData") || strings.Contains(body, `"credentials"`) || strings.Contains(body, `"salt`) {
			t.Fatalf("%s leaks a secret: %s", p, body)
		}
	}
	var u map[string]any
	e.get(e.path("/users/"+id), viewer, &u)
	if access := u["access"].(map[string]any); access["manage"] != false || access["view"] != true {
		t.Fatalf("viewer access: %v", access)
	}
	e.want("PUT", "/users/"+id, viewer, map[string]any{"firstName": "x"}, 403, `{"error":"HTTP 403 Forbidden"}`)
	e.want("DELETE", "/users/"+id, viewer, nil, 403, `{"error":"HTTP 403 Forbidden"}`)
	e.want("PUT", "/users/"+id+"/reset-password", viewer, map[string]any{"value": "Other-pw-1"}, 403, "")
	if st, _ := e.login("alice", "Alice-pw-1"); st != 200 {
		t.Fatalf("password changed by a refused call: %d", st)
	}
	if u := e.user(id); u["firstName"] != nil {
		t.Fatalf("refused update changed the user: %v", u)
	}
	// query-users alone may list but not read one user.
	querier := s.realmAdmin(e.realm, "querier", "query-users")
	e.want("GET", "/users", querier, nil, 200, "")
	e.want("GET", "/users/"+id, querier, nil, 403, "")
}

func TestResetPassword(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "acme")
		id := e.create(map[string]any{"username": "alice", "email": "alice@example.com", "enabled": true,
			"credentials": []map[string]any{{"type": "password", "value": "Old-pw-1"}}})
		if err := s.DB.UpdateRealm(e.ctx(), e.realm.ID, func(r *realm.Realm) error {
			r.PasswordPolicy = "length(8) and digits(1) and upperCase and notUsername and specialChars(1)"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ pw, body string }{
			{"Sh0rt!", `{"error":"invalidPasswordMinLengthMessage","error_description":"Invalid password: minimum length 8."}`},
			{"Nodigits-here", `{"error":"invalidPasswordMinDigitsMessage","error_description":"Invalid password: must contain at least 1 numerical digits."}`},
			{"lower-case-1", `{"error":"invalidPasswordMinUpperCaseCharsMessage","error_description":"Invalid password: must contain at least 1 upper case characters."}`},
			{"NoSpecial1", `{"error":"invalidPasswordMinSpecialCharsMessage","error_description":"Invalid password: must contain at least 1 special characters."}`},
		} {
			e.want("PUT", "/users/"+id+"/reset-password", e.tok, map[string]any{"type": "password", "value": tc.pw}, 400, tc.body)
		}
		// A refused password leaves the old one working (SECURITY.md M9).
		if st, body := e.login("alice", "Old-pw-1"); st != 200 {
			t.Fatalf("old password after refused reset: %d %v", st, body)
		}
		e.want("PUT", "/users/"+id+"/reset-password", e.tok, map[string]any{"type": "password"}, 400, `{"error":"No password provided"}`)
		e.want("PUT", "/users/"+id+"/reset-password", e.tok, map[string]any{"value": " "}, 400, `{"error":"Empty password not allowed"}`)
		e.want("PUT", "/users/nope/reset-password", e.tok, map[string]any{"value": "New-pw-22"}, 404, `{"error":"User not found"}`)

		e.want("PUT", "/users/"+id+"/reset-password", e.tok, map[string]any{"type": "password", "value": "New-pw-22", "temporary": false}, 204, "")
		if st, body := e.login("alice", "New-pw-22"); st != 200 {
			t.Fatalf("new password: %d %v", st, body)
		}
		if st, body := e.login("alice", "Old-pw-1"); st != 401 || body["error"] != "invalid_grant" {
			t.Fatalf("old password after reset: %d %v", st, body)
		}

		// A temporary password must be changed at the next login.
		e.want("PUT", "/users/"+id+"/reset-password", e.tok, map[string]any{"value": "Temp-pw-33", "temporary": true}, 204, "")
		if u := e.user(id); fmt.Sprint(u["requiredActions"]) != "[UPDATE_PASSWORD]" {
			t.Fatalf("temporary password: %v", u["requiredActions"])
		}
		if st, body := e.login("alice", "Temp-pw-33"); st != 400 || body["error_description"] != "Account is not fully set up" {
			t.Fatalf("login with a temporary password: %d %v", st, body)
		}
		e.want("PUT", "/users/"+id+"/reset-password", e.tok, map[string]any{"value": "Final-pw-44"}, 204, "")
		if u := e.user(id); u["requiredActions"] != nil && fmt.Sprint(u["requiredActions"]) != "[]" {
			t.Fatalf("UPDATE_PASSWORD kept after a permanent password: %v", u["requiredActions"])
		}
		if st, _ := e.login("alice", "Final-pw-44"); st != 200 {
			t.Fatalf("final password: %d", st)
		}

		for _, pw := range []string{"Sh0rt!", "Old-pw-1", "New-pw-22", "Temp-pw-33", "Final-pw-44"} {
			if strings.Contains(s.Log.String(), pw) {
				t.Fatalf("password %q in the log", pw)
			}
		}
	})
}

func TestPasswordPolicyTerms(t *testing.T) {
	s := newServer(t, storetest.Open)
	e := newUsersEnv(t, s, "acme")
	id := e.create(map[string]any{"username": "alice", "email": "alice@example.com", "enabled": true,
		"credentials": []map[string]any{{"type": "password", "value": "Current-pw-1"}}})
	for _, tc := range []struct{ policy, pw, key string }{
		{"notUsername", "alice", "invalidPasswordNotUsernameMessage"},
		{"notEmail", "ALICE@example.com", "invalidPasswordNotEmailMessage"},
		{"maxLength(10)", "much-too-long-password", "invalidPasswordMaxLengthMessage"},
		{"lowerCase(2)", "ABCDEFGHIj", "invalidPasswordMinLowerCaseCharsMessage"},
		{"regexPattern([a-z]+)", "abc1", "invalidPasswordRegexPatternMessage"},
		{"passwordHistory(3)", "Current-pw-1", "invalidPasswordHistoryMessage"},
		{"length", "seven77", "invalidPasswordMinLengthMessage"},
	} {
		if err := s.DB.UpdateRealm(e.ctx(), e.realm.ID, func(r *realm.Realm) error { r.PasswordPolicy = tc.policy; return nil }); err != nil {
			t.Fatal(err)
		}
		st, body := e.call("PUT", "/users/"+id+"/reset-password", e.tok, map[string]any{"value": tc.pw})
		if st != 400 || !strings.Contains(body, `"error":"`+tc.key+`"`) {
			t.Errorf("%s with %q: %d %s", tc.policy, tc.pw, st, body)
		}
	}
	// Creating a user with a password the policy refuses stores nothing.
	st, body := e.call("POST", "/users", e.tok, map[string]any{"username": "bob",
		"credentials": []map[string]any{{"type": "password", "value": "x"}}})
	if st != 400 || !strings.Contains(body, `"error":"invalidPasswordMinLengthMessage"`) {
		t.Fatalf("create with a weak password: %d %s", st, body)
	}
	if _, err := s.DB.GetUserByUsername(e.ctx(), e.realm.ID, "bob"); err == nil {
		t.Fatal("user with a refused password was stored")
	}
}

func TestUserCredentials(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "acme")
		id := e.create(map[string]any{"username": "alice", "enabled": true,
			"credentials": []map[string]any{{"type": "password", "value": "Alice-pw-1"}}})
		body := e.want("GET", "/users/"+id+"/credentials", e.tok, nil, 200, "")
		var creds []map[string]any
		json.Unmarshal([]byte(body), &creds)
		if len(creds) != 1 || creds[0]["type"] != "password" || creds[0]["id"] == nil || creds[0]["createdDate"] == nil {
			t.Fatalf("credentials: %s", body)
		}
		if _, ok := creds[0]["secretData"]; ok || !strings.Contains(fmt.Sprint(creds[0]["credentialData"]), "argon2") {
			t.Fatalf("credential fields: %s", body)
		}
		credID := creds[0]["id"].(string)
		e.want("DELETE", "/users/"+id+"/credentials/"+credID, e.tok, nil, 204, "")
		e.want("GET", "/users/"+id+"/credentials", e.tok, nil, 200, "[]")
		e.want("DELETE", "/users/"+id+"/credentials/"+credID, e.tok, nil, 404, `{"error":"Credential not found"}`)
		if st, _ := e.login("alice", "Alice-pw-1"); st != 401 {
			t.Fatalf("login after the password was deleted: %d", st)
		}
		e.want("GET", "/users/"+id+"/configured-user-storage-credential-types", e.tok, nil, 200, "[]")
		e.want("GET", "/users/nope/credentials", e.tok, nil, 404, `{"error":"User not found"}`)
	})
}

func TestUserGroupMembership(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "acme")
		id := e.create(map[string]any{"username": "alice", "enabled": true})
		staff := e.mustGroup("staff", "")
		team := e.mustGroup("team", staff.ID)
		other := e.mustGroup("other", "")
		e.want("PUT", "/users/"+id+"/groups/"+team.ID, e.tok, nil, 204, "")
		e.want("PUT", "/users/"+id+"/groups/"+team.ID, e.tok, nil, 204, "")
		e.want("PUT", "/users/"+id+"/groups/"+other.ID, e.tok, nil, 204, "")
		var gs []map[string]any
		e.get(e.path("/users/"+id+"/groups"), e.tok, &gs)
		if len(gs) != 2 || gs[0]["path"] != "/other" || gs[1]["path"] != "/staff/team" || gs[1]["id"] != team.ID {
			t.Fatalf("groups: %v", gs)
		}
		e.get(e.path("/users/"+id+"/groups?search=TEA"), e.tok, &gs)
		if len(gs) != 1 || gs[0]["name"] != "team" {
			t.Fatalf("groups search: %v", gs)
		}
		e.get(e.path("/users/"+id+"/groups?first=1&max=5"), e.tok, &gs)
		if len(gs) != 1 || gs[0]["name"] != "team" {
			t.Fatalf("groups page: %v", gs)
		}
		e.want("GET", "/users/"+id+"/groups/count", e.tok, nil, 200, `{"count":2}`)
		e.want("GET", "/users/"+id+"/groups/count?search=OTH", e.tok, nil, 200, `{"count":1}`)
		e.want("DELETE", "/users/"+id+"/groups/"+other.ID, e.tok, nil, 204, "")
		e.want("DELETE", "/users/"+id+"/groups/"+other.ID, e.tok, nil, 204, "")
		e.want("GET", "/users/"+id+"/groups/count", e.tok, nil, 200, `{"count":1}`)
		e.want("PUT", "/users/"+id+"/groups/nope", e.tok, nil, 404, `{"error":"Group not found"}`)
		e.want("PUT", "/users/nope/groups/"+team.ID, e.tok, nil, 404, `{"error":"User not found"}`)
	})
}

func TestUserSessionsAndLogout(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "acme")
		id := e.create(map[string]any{"username": "alice", "enabled": true,
			"credentials": []map[string]any{{"type": "password", "value": "Alice-pw-1"}}})
		st, tokens := e.login("alice", "Alice-pw-1")
		if st != 200 {
			t.Fatalf("login: %d %v", st, tokens)
		}
		cli, _ := s.DB.GetClientByClientID(e.ctx(), e.realm.ID, "admin-cli")
		var ss []map[string]any
		e.get(e.path("/users/"+id+"/sessions"), e.tok, &ss)
		if len(ss) != 1 || ss[0]["userId"] != id || ss[0]["username"] != "alice" || ss[0]["transientUser"] != false {
			t.Fatalf("sessions: %v", ss)
		}
		if clients := ss[0]["clients"].(map[string]any); clients[cli.ID] != "admin-cli" {
			t.Fatalf("session clients: %v", clients)
		}
		if start := ss[0]["start"].(float64); start < float64(time.Now().Add(-time.Minute).UnixMilli()) {
			t.Fatalf("start is not epoch ms: %v", start)
		}
		e.want("GET", "/users/"+id+"/offline-sessions/"+cli.ID, e.tok, nil, 200, "[]")
		e.want("GET", "/users/"+id+"/offline-sessions/nope", e.tok, nil, 404, `{"error":"Client not found"}`)

		e.want("POST", "/users/"+id+"/logout", e.tok, nil, 204, "")
		e.want("GET", "/users/"+id+"/sessions", e.tok, nil, 200, "[]")
		st, body := e.form("/realms/acme/protocol/openid-connect/token", url.Values{"grant_type": {"refresh_token"},
			"client_id": {"admin-cli"}, "refresh_token": {tokens["refresh_token"].(string)}}, "", "")
		if st != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("refresh after logout: %d %v", st, body)
		}
		e.want("POST", "/users/nope/logout", e.tok, nil, 404, `{"error":"User not found"}`)
	})
}

// Story 1: an administrator revokes a user's offline access through the
// admin API, after which the offline token is refused.
func TestAdminRevokesOfflineAccess(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		data, err := os.ReadFile("../rep/testdata/ldap-demo-realm.json")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := rep.ImportFile(context.Background(), s.DB, data, rep.ImportOptions{Now: time.Now()}); err != nil {
			t.Fatal(err)
		}
		rl, _ := s.DB.GetRealmByName(context.Background(), "ldap-demo")
		e := &usersEnv{testServer: s, t: t, realm: rl, tok: s.adminToken()}
		app, _ := s.DB.GetClientByClientID(e.ctx(), rl.ID, "ldap-app")
		u1, _ := s.DB.GetUserByUsername(e.ctx(), rl.ID, "user1")
		tokenPath := "/realms/ldap-demo/protocol/openid-connect/token"

		st, tokens := e.form(tokenPath, url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {"password"},
			"scope": {"openid info offline_access"}}, "ldap-app", "password")
		if st != 200 {
			t.Fatalf("offline token: %d %v", st, tokens)
		}
		offline := tokens["refresh_token"].(string)

		e.want("GET", "/users/"+u1.ID+"/consents", e.tok, nil, 200,
			`[{"clientId":"ldap-app","grantedClientScopes":[],"createdDate":null,"lastUpdatedDate":null,`+
				`"additionalGrants":[{"client":"`+app.ID+`","key":"Offline Token"}]}]`)
		var ss []map[string]any
		e.get(e.path("/users/"+u1.ID+"/offline-sessions/"+app.ID), e.tok, &ss)
		if len(ss) != 1 || ss[0]["clients"].(map[string]any)[app.ID] != "ldap-app" {
			t.Fatalf("offline sessions: %v", ss)
		}
		// Still usable before the revocation.
		if st, body := e.form(tokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {offline}}, "ldap-app", "password"); st != 200 {
			t.Fatalf("refresh before revocation: %d %v", st, body)
		}

		e.want("DELETE", "/users/"+u1.ID+"/consents/ldap-app", e.tok, nil, 204, "")
		st, body := e.form(tokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {offline}}, "ldap-app", "password")
		if st != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("offline token after revocation: %d %v", st, body)
		}
		e.want("GET", "/users/"+u1.ID+"/consents", e.tok, nil, 200, `[]`)
		e.want("GET", "/users/"+u1.ID+"/offline-sessions/"+app.ID, e.tok, nil, 200, `[]`)
		e.want("DELETE", "/users/"+u1.ID+"/consents/ldap-app", e.tok, nil, 404, `{"error":"Consent nor offline token not found"}`)
		e.want("DELETE", "/users/"+u1.ID+"/consents/no-such-client", e.tok, nil, 404, `{"error":"Client not found"}`)

		// A view-users admin may list consents but not revoke them.
		viewer := s.realmAdmin(rl, "viewer", "view-users")
		e.want("GET", "/users/"+u1.ID+"/consents", viewer, nil, 200, "")
		e.want("DELETE", "/users/"+u1.ID+"/consents/ldap-app", viewer, nil, 403, "")
	})
}

func TestUserConsentWithScopes(t *testing.T) {
	s := newServer(t, storetest.Open)
	e := newUsersEnv(t, s, "acme")
	id := e.create(map[string]any{"username": "alice", "enabled": true})
	acc, _ := s.DB.GetClientByClientID(e.ctx(), e.realm.ID, "account-console")
	profile, err := s.DB.GetClientScopeByName(e.ctx(), e.realm.ID, "profile")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DB.GrantConsent(e.ctx(), id, acc.ID, []string{profile.ID}, 1700000000123); err != nil {
		t.Fatal(err)
	}
	e.want("GET", "/users/"+id+"/consents", e.tok, nil, 200,
		`[{"clientId":"account-console","grantedClientScopes":["profile"],"createdDate":1700000000123,"lastUpdatedDate":1700000000123,"additionalGrants":[]}]`)
	e.want("DELETE", "/users/"+id+"/consents/account-console", e.tok, nil, 204, "")
	e.want("GET", "/users/"+id+"/consents", e.tok, nil, 200, `[]`)
}

func TestUserEndpointsNotFound(t *testing.T) {
	s := newServer(t, storetest.Open)
	e := newUsersEnv(t, s, "acme")
	for _, c := range []struct{ method, path string }{
		{"GET", "/users/nope"}, {"GET", "/users/nope/sessions"}, {"GET", "/users/nope/consents"},
		{"GET", "/users/nope/groups"}, {"GET", "/users/nope/groups/count"}, {"DELETE", "/users/nope/consents/admin-cli"},
		{"GET", "/users/nope/role-mappings"}, {"GET", "/users/nope/role-mappings/realm/composite"},
	} {
		e.want(c.method, c.path, e.tok, nil, 404, `{"error":"User not found"}`)
	}
	if st, _, _ := s.do("GET", "/admin/realms/nowhere/users", e.tok, nil); st != 404 {
		t.Fatalf("unknown realm: %d", st)
	}
	if st, _, b := s.do("GET", e.path("/users"), "", nil); st != 401 || string(b) != `{"error":"HTTP 401 Unauthorized"}` {
		t.Fatalf("no token: %d %s", st, b)
	}
}
