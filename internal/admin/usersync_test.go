package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/ldap/ldaptest"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/usersync/synctest"
)

type syncResult struct {
	Ignored                         bool
	Added, Updated, Removed, Failed int
	Status                          string
}

// Sync through the admin API against a real slapd: a full sync imports
// every user of the provider's unit, a second one updates them, a
// changed-users sync picks up only what ldapmodify changed since, a lease
// held by another node makes a sync ignored, and directory failures and
// bad requests answer Keycloak's JSON.
func TestLDAPUserSync(t *testing.T) {
	d := ldaptest.Start(t)
	both(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		r := s.newRealm("sync")
		admin := s.adminToken()
		const n = 25
		prefix := "s" + string(s.DB.Dialect())[:2]
		ou := synctest.AddOU(t, d, "sync-"+prefix+fmt.Sprint(time.Now().UnixNano()), prefix, n)
		time.Sleep(1100 * time.Millisecond) // the creations are a second older than the first sync
		id := s.createComponent("sync", admin, slapdProvider(d, "corp", ou))
		syncPath := "/admin/realms/sync/user-storage/" + id + "/sync?action="
		run := func(action string) syncResult {
			t.Helper()
			st, _, b := s.do("POST", syncPath+action, admin, nil)
			var res syncResult
			if err := json.Unmarshal(b, &res); st != 200 || err != nil {
				t.Fatalf("%s: %d %s", action, st, b)
			}
			if !strings.Contains(string(b), `"status"`) || !strings.Contains(string(b), `"ignored"`) {
				t.Errorf("result lacks Keycloak's members: %s", b)
			}
			return res
		}

		res := run("triggerFullSync")
		if res.Added != n || res.Updated != 0 || res.Failed != 0 || res.Ignored || res.Status != fmt.Sprintf("%d imported users, 0 updated users", n) {
			t.Fatalf("first full sync: %+v", res)
		}
		u, err := s.DB.GetUserByUsername(ctx, r.ID, synctest.UID(prefix, 3))
		if err != nil || u.FederationLink != id || u.Email != synctest.UID(prefix, 3)+"@example.org" || u.FirstName != "Given3" {
			t.Fatalf("imported user: %+v %v", u, err)
		}
		if res := run("triggerFullSync"); res.Added != 0 || res.Updated != n {
			t.Errorf("second full sync: %+v", res)
		}

		time.Sleep(1100 * time.Millisecond)
		d.Modify(t, fmt.Sprintf("dn: uid=%s,%s\nchangetype: modify\nreplace: mail\nmail: changed@example.org\n", synctest.UID(prefix, 7), ou))
		if res := run("triggerChangedUsersSync"); res.Added != 0 || res.Updated != 1 || res.Failed != 0 {
			t.Errorf("changed-users sync: %+v", res)
		}
		if u, _ := s.DB.GetUserByUsername(ctx, r.ID, synctest.UID(prefix, 7)); u.Email != "changed@example.org" {
			t.Errorf("edit not synced: %q", u.Email)
		}
		if st, _ := s.DB.GetSyncState(ctx, id); st.LastFullSync == 0 || st.LastChangedSync < st.LastFullSync {
			t.Errorf("last sync times: %+v", st)
		}

		// Another node holds the lease: the sync is ignored, nothing runs.
		now := time.Now()
		if ok, err := s.DB.AcquireSyncLease(ctx, r.ID, id, "other-node", now.UnixMilli(), now.Add(time.Minute).UnixMilli()); !ok || err != nil {
			t.Fatalf("lease: %v %v", ok, err)
		}
		if res := run("triggerFullSync"); !res.Ignored || res.Added+res.Updated != 0 {
			t.Errorf("sync while another node holds the lease: %+v", res)
		}
		s.DB.ReleaseSyncLease(ctx, id, "other-node")

		// Bad requests and failing directories.
		want := func(what, path string, status int, body string) {
			t.Helper()
			st, _, b := s.do("POST", path, admin, nil)
			if st != status || string(b) != body {
				t.Errorf("%s: %d %s, want %d %s", what, st, b, status, body)
			}
		}
		want("no action", "/admin/realms/sync/user-storage/"+id+"/sync", 400, `{"error":"Missing action"}`)
		want("unknown action", syncPath+"sync", 400, `{"error":"Unknown action: sync"}`)
		want("unknown provider", "/admin/realms/sync/user-storage/"+store.NewID()+"/sync?action=triggerFullSync", 404, `{"error":"Could not find component"}`)
		dead := slapdProvider(d, "dead", ou)
		dead["config"].(map[string][]string)["connectionUrl"] = []string{ldaptest.DeadURL(t)}
		deadID := s.createComponent("sync", admin, dead)
		want("directory down", "/admin/realms/sync/user-storage/"+deadID+"/sync?action=triggerFullSync", 400, `{"errorMessage":"ConnectionFailed"}`)
		wrong := slapdProvider(d, "wrong", ou)
		wrong["config"].(map[string][]string)["bindCredential"] = []string{"wrong"}
		wrongID := s.createComponent("sync", admin, wrong)
		want("wrong bind password", "/admin/realms/sync/user-storage/"+wrongID+"/sync?action=triggerChangedUsersSync", 400, `{"errorMessage":"AuthenticationFailure"}`)
		if strings.Contains(s.Log.String(), ldaptest.BindPW) {
			t.Errorf("the bind credential reached the log")
		}

		// A group mapper's groups come into the realm.
		gm := map[string]any{"name": "groups", "providerId": "group-ldap-mapper", "providerType": "org.keycloak.storage.ldap.mappers.LDAPStorageMapper",
			"parentId": id, "config": map[string][]string{"groups.dn": {ldaptest.GroupsDN}, "mode": {"READ_ONLY"}, "membership.ldap.attribute": {"member"}}}
		gmID := s.createComponent("sync", admin, gm)
		st, _, b := s.do("POST", "/admin/realms/sync/user-storage/"+id+"/mappers/"+gmID+"/sync?direction=fedToKeycloak", admin, nil)
		var mres syncResult
		json.Unmarshal(b, &mres)
		if st != 200 || mres.Added != 2 {
			t.Errorf("group mapper sync: %d %s", st, b)
		}
		gs, _ := s.DB.ListGroups(ctx, r.ID)
		var names []string
		for _, g := range gs {
			names = append(names, g.Name)
		}
		if !strings.Contains(strings.Join(names, ","), "ldap-admins") || !strings.Contains(strings.Join(names, ","), "ldap-users") {
			t.Errorf("groups after the mapper sync: %v", names)
		}
		if st, _, b := s.do("POST", "/admin/realms/sync/user-storage/"+id+"/mappers/"+gmID+"/sync?direction=fedToKeycloak", admin, nil); st != 200 || !strings.Contains(string(b), `"updated":2`) {
			t.Errorf("second group mapper sync: %d %s", st, b)
		}
		want("Gatehouse to directory", "/admin/realms/sync/user-storage/"+id+"/mappers/"+gmID+"/sync?direction=keycloakToFed", 400,
			`{"errorMessage":"only the directory-to-Gatehouse sync of group and role mappers is available"}`)
		want("unknown direction", "/admin/realms/sync/user-storage/"+id+"/mappers/"+gmID+"/sync?direction=up", 400, `{"error":"Unknown direction: up"}`)
		want("mapper of another provider", "/admin/realms/sync/user-storage/"+deadID+"/mappers/"+gmID+"/sync?direction=fedToKeycloak", 404, `{"error":"Mapper model not found"}`)
	})
}
