package server_test

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/ldap/ldaptest"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// entryAttrs reads attributes of dn from the directory with ldapsearch.
func entryAttrs(t *testing.T, s *ldaptest.Server, dn string, attrs ...string) map[string]string {
	t.Helper()
	args := append([]string{"-x", "-LLL", "-o", "ldif-wrap=no", "-H", s.URL, "-D", ldaptest.RootDN, "-w", ldaptest.RootPW, "-s", "base", "-b", dn}, attrs...)
	out, err := exec.Command("ldapsearch", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ldapsearch %s: %v: %s", dn, err, out)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			m[k] = v
		}
	}
	return m
}

// accountPost sends the user's own profile change to the account API with
// a token of the user.
func (e *ldEnv) accountPost(username, password string, body map[string]any) response {
	e.t.Helper()
	st, tok := e.grant(username, password, "openid")
	if st != http.StatusOK {
		e.t.Fatalf("login %s: %d %v", username, st, tok)
	}
	b, _ := json.Marshal(body)
	return do(e.t, http.MethodPost, e.srv.URL+"/realms/ldap-demo/account/",
		map[string]string{"Authorization": "Bearer " + tok["access_token"].(string), "Content-Type": "application/json"}, strings.NewReader(string(b)))
}

// Profile edits of a federated user: in WRITABLE mode the admin API and
// the account API write them to the directory; in READ_ONLY mode both
// refuse them with the read-only error and neither side changes.
func TestLDAPProfileEdits(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		uid := "pe" + strings.ToLower(store.NewID()[:8])
		e := newLDEnv(t, db, nil)
		dn := e.slapd.AddUser(t, uid, "profile-pw-1")
		if st, _ := e.grant(uid, "profile-pw-1", "openid"); st != http.StatusOK {
			t.Fatalf("first login: %d", st)
		}
		u := e.user(uid)

		// WRITABLE, admin API.
		r := e.admin(http.MethodPut, "/users/"+u.ID, map[string]any{"email": uid + "-admin@example.org", "firstName": "Adminset", "lastName": "Byadmin"})
		if r.status != http.StatusNoContent {
			t.Fatalf("writable admin edit: %d %s", r.status, r.body)
		}
		got := entryAttrs(t, e.slapd, dn, "mail", "cn", "sn")
		if got["mail"] != uid+"-admin@example.org" || got["cn"] != "Adminset" || got["sn"] != "Byadmin" {
			t.Errorf("directory after admin edit: %v", got)
		}
		// A login refreshes from the directory and keeps the edit.
		if st, _ := e.grant(uid, "profile-pw-1", "openid"); st != http.StatusOK {
			t.Fatalf("login after edit: %d", st)
		}
		if u := e.user(uid); u.Email != uid+"-admin@example.org" || u.FirstName != "Adminset" {
			t.Errorf("local user after refresh: %+v", u)
		}

		// WRITABLE, account API.
		r = e.accountPost(uid, "profile-pw-1", map[string]any{"username": uid, "email": uid + "-self@example.org", "firstName": "Selfset", "lastName": "Byuser"})
		if r.status != http.StatusNoContent {
			t.Fatalf("writable account edit: %d %s", r.status, r.body)
		}
		got = entryAttrs(t, e.slapd, dn, "mail", "cn", "sn")
		if got["mail"] != uid+"-self@example.org" || got["cn"] != "Selfset" || got["sn"] != "Byuser" {
			t.Errorf("directory after account edit: %v", got)
		}

		// READ_ONLY: refused by both, nothing changes anywhere.
		e.setProviderConfig("editMode", "READ_ONLY")
		r = e.admin(http.MethodPut, "/users/"+u.ID, map[string]any{"email": uid + "-ro@example.org"})
		var body map[string]any
		json.Unmarshal(r.body, &body)
		if r.status != http.StatusBadRequest || body["errorMessage"] != "error-user-attribute-read-only" || body["field"] != "email" {
			t.Errorf("read-only admin edit: %d %s", r.status, r.body)
		}
		r = e.accountPost(uid, "profile-pw-1", map[string]any{"username": uid, "email": uid + "-self@example.org", "firstName": "Changed", "lastName": "Byuser"})
		body = nil
		json.Unmarshal(r.body, &body)
		if r.status != http.StatusBadRequest || body["errorMessage"] != "error-user-attribute-read-only" || body["field"] != "firstName" {
			t.Errorf("read-only account edit: %d %s", r.status, r.body)
		}
		// The account API's metadata shows them read-only.
		_, tok := e.grant(uid, "profile-pw-1", "openid")
		r = do(t, http.MethodGet, e.srv.URL+"/realms/ldap-demo/account/?userProfileMetadata=true",
			map[string]string{"Authorization": "Bearer " + tok["access_token"].(string)}, strings.NewReader(""))
		var acc struct {
			UserProfileMetadata struct {
				Attributes []struct {
					Name     string `json:"name"`
					ReadOnly bool   `json:"readOnly"`
				} `json:"attributes"`
			} `json:"userProfileMetadata"`
		}
		json.Unmarshal(r.body, &acc)
		ro := map[string]bool{}
		for _, a := range acc.UserProfileMetadata.Attributes {
			ro[a.Name] = a.ReadOnly
		}
		if r.status != http.StatusOK || !ro["email"] || !ro["firstName"] || !ro["lastName"] {
			t.Errorf("read-only metadata: %d %v", r.status, ro)
		}
		// An unchanged profile is still accepted.
		r = e.accountPost(uid, "profile-pw-1", map[string]any{"username": uid, "email": uid + "-self@example.org", "firstName": "Selfset", "lastName": "Byuser"})
		if r.status != http.StatusNoContent {
			t.Errorf("read-only unchanged account post: %d %s", r.status, r.body)
		}
		if u := e.user(uid); u.Email != uid+"-self@example.org" || u.FirstName != "Selfset" {
			t.Errorf("local user after refusals: %+v", u)
		}
		if got := entryAttrs(t, e.slapd, dn, "mail", "cn"); got["mail"] != uid+"-self@example.org" || got["cn"] != "Selfset" {
			t.Errorf("directory after refusals: %v", got)
		}
	})
}

// adminUsers runs GET /users with query and returns the usernames and
// federation links found.
func (e *ldEnv) adminUsers(query string) map[string]string {
	e.t.Helper()
	r := e.admin(http.MethodGet, "/users?"+query, nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("GET /users?%s: %d %s", query, r.status, r.body)
	}
	var us []map[string]any
	if err := json.Unmarshal(r.body, &us); err != nil {
		e.t.Fatalf("GET /users?%s: %v %s", query, err, r.body)
	}
	out := map[string]string{}
	for _, u := range us {
		link, _ := u["federationLink"].(string)
		out[u["username"].(string)] = link
	}
	return out
}

// The admin user search also asks the realm's directory: users found
// there are imported and listed; a directory outage leaves the search of
// local users working.
func TestLDAPAdminUserSearch(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		tag := strings.ToLower(store.NewID()[:6])
		e := newLDEnv(t, db, nil)
		e.slapd.AddUser(t, "sa"+tag, "search-pw-1")
		e.slapd.AddUser(t, "sb"+tag, "search-pw-1")
		e.slapd.AddUser(t, "sc"+tag, "search-pw-1")

		got := e.adminUsers("search=sa" + tag)
		if len(got) != 1 || got["sa"+tag] != e.providerID {
			t.Errorf("search=sa%s: %v", tag, got)
		}
		if u := e.user("sa" + tag); u.FederationLink != e.providerID || u.Email != "sa"+tag+"@example.org" {
			t.Errorf("imported user: %+v", u)
		}
		got = e.adminUsers("username=sb" + tag + "&exact=true")
		if len(got) != 1 || got["sb"+tag] != e.providerID {
			t.Errorf("username=sb%s: %v", tag, got)
		}
		got = e.adminUsers("email=sc" + tag + "@example.org")
		if len(got) != 1 || got["sc"+tag] != e.providerID {
			t.Errorf("email=sc%s: %v", tag, got)
		}
		// A search finding the same users again imports nothing twice.
		got = e.adminUsers("search=*" + tag)
		if len(got) != 3 {
			t.Errorf("search=*%s: %v", tag, got)
		}

		// Outage: local users are still found.
		e.setProviderConfig("enabled", "false")
		e.createComponent(map[string]any{"name": "dead", "providerId": "ldap", "providerType": ldap.ProviderType, "parentId": e.rl.ID,
			"config": map[string][]string{"vendor": {"other"}, "editMode": {"READ_ONLY"}, "connectionUrl": {ldaptest.DeadURL(t)},
				"bindDn": {ldaptest.BindDN}, "bindCredential": {ldaptest.BindPW}, "usersDn": {ldaptest.PeopleDN},
				"usernameLDAPAttribute": {"uid"}, "rdnLDAPAttribute": {"uid"}, "uuidLDAPAttribute": {"entryUUID"},
				"userObjectClasses": {"inetOrgPerson"}, "connectionTimeout": {"500"}, "enabled": {"true"}}})
		got = e.adminUsers("search=newcomer")
		if _, ok := got["newcomer"]; !ok || len(got) != 1 {
			t.Errorf("search during an outage: %v", got)
		}
		if got = e.adminUsers("username=newcomer"); len(got) != 1 {
			t.Errorf("username= during an outage: %v", got)
		}
	})
}

// A group mapper's sync and a login build the same group tree: the
// directory's nested groups become /parent/child once, whichever comes
// first, and the user is a member of the child.
func TestLDAPMapperSyncThenLogin(t *testing.T) {
	bothStores(t, func(t *testing.T, db *store.DB) {
		tag := strings.ToLower(store.NewID()[:6])
		e := newLDEnv(t, db, nil)
		uid := "ms" + tag
		dn := e.slapd.AddUser(t, uid, "mapper-pw-1")
		child, parent := "child"+tag, "parent"+tag
		e.slapd.Modify(t, "dn: cn="+child+","+ldaptest.GroupsDN+"\nchangetype: add\nobjectClass: groupOfNames\ncn: "+child+"\nmember: "+dn+"\n\n"+
			"dn: cn="+parent+","+ldaptest.GroupsDN+"\nchangetype: add\nobjectClass: groupOfNames\ncn: "+parent+"\nmember: cn="+child+","+ldaptest.GroupsDN+"\n")

		r := e.admin(http.MethodGet, "/components?parent="+e.providerID+"&name=groups", nil)
		var cs []map[string]any
		json.Unmarshal(r.body, &cs)
		if r.status != http.StatusOK || len(cs) != 1 {
			t.Fatalf("groups mapper: %d %s", r.status, r.body)
		}
		r = e.admin(http.MethodPost, "/user-storage/"+e.providerID+"/mappers/"+cs[0]["id"].(string)+"/sync?direction=fedToKeycloak", nil)
		if r.status != http.StatusOK {
			t.Fatalf("mapper sync: %d %s", r.status, r.body)
		}
		if st, _ := e.grant(uid, "mapper-pw-1", "openid"); st != http.StatusOK {
			t.Fatalf("login: %d", st)
		}
		gs, err := db.ListGroups(t.Context(), e.rl.ID)
		if err != nil {
			t.Fatal(err)
		}
		paths := role.GroupPaths(gs)
		var mine []string
		for _, p := range paths {
			if strings.Contains(p, tag) {
				mine = append(mine, p)
			}
		}
		slices.Sort(mine)
		if want := []string{"/" + parent, "/" + parent + "/" + child}; !slices.Equal(mine, want) {
			t.Errorf("group tree: %v, want %v", mine, want)
		}
		ug, err := db.ListUserGroups(t.Context(), e.user(uid).ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ug) != 1 || paths[ug[0].ID] != "/"+parent+"/"+child {
			t.Errorf("user's groups: %+v", ug)
		}
	})
}
