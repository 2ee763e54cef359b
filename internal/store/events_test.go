package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

func mkEventRealm(t *testing.T, db *store.DB, name string) realm.Realm {
	t.Helper()
	r := realm.New(store.NewID(), name)
	if err := db.CreateRealm(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

func eventIDs(es []events.Event) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func adminEventIDs(es []events.AdminEvent) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestEvents(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		r, other := mkEventRealm(t, db, "ev"), mkEventRealm(t, db, "other")
		const day = 86400000
		for _, e := range []events.Event{
			{ID: "e1", Time: 10 * day, Type: events.Login, ClientID: "app", UserID: "u1", SessionID: "s1", IPAddress: "10.0.0.1",
				Details: map[string]string{"username": "alice", "auth_method": "openid-connect"}},
			{ID: "e2", Time: 10 * day, Type: events.LoginError, ClientID: "app", UserID: "u2", IPAddress: "10.0.0.2", Error: "invalid_user_credentials"},
			{ID: "e3", Time: 11 * day, Type: events.CodeToToken, ClientID: "web", UserID: "u1", SessionID: "s1", IPAddress: "10.0.0.1"},
			{ID: "e4", Time: 12*day + 5, Type: events.Logout, ClientID: "web", UserID: "u1", SessionID: "s1", IPAddress: "10.0.0.1"},
		} {
			e.RealmID = r.ID
			if err := db.CreateEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.CreateEvent(ctx, events.Event{ID: "x1", RealmID: other.ID, Time: 10 * day, Type: events.Login, UserID: "u1"}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			q    store.EventQuery
			want []string
		}{
			{"newest first; within a millisecond the later insert first; other realms left out", store.EventQuery{Max: -1}, []string{"e4", "e3", "e2", "e1"}},
			{"ascending", store.EventQuery{Max: -1, Ascending: true}, []string{"e1", "e2", "e3", "e4"}},
			{"types: any of them", store.EventQuery{Types: []string{events.Login, events.Logout}, Max: -1}, []string{"e4", "e1"}},
			{"client", store.EventQuery{ClientID: "web", Max: -1}, []string{"e4", "e3"}},
			{"user", store.EventQuery{UserID: "u2", Max: -1}, []string{"e2"}},
			{"ip address", store.EventQuery{IPAddress: "10.0.0.1", Max: -1}, []string{"e4", "e3", "e1"}},
			{"from and to are inclusive", store.EventQuery{From: 10*day + 1, To: 12*day + 5, Max: -1}, []string{"e4", "e3"}},
			{"to only", store.EventQuery{To: 10 * day, Max: -1}, []string{"e2", "e1"}},
			{"first and max page", store.EventQuery{First: 1, Max: 2}, []string{"e3", "e2"}},
			{"max 0 is an empty page", store.EventQuery{Max: 0}, []string{}},
			{"no match", store.EventQuery{UserID: "nobody", Max: -1}, []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := db.ListEvents(ctx, r.ID, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if ids := eventIDs(got); !slices.Equal(ids, tc.want) {
					t.Errorf("got %v, want %v", ids, tc.want)
				}
			})
		}

		got, err := db.ListEvents(ctx, r.ID, store.EventQuery{Types: []string{events.Login}, Max: -1})
		if err != nil || len(got) != 1 {
			t.Fatalf("login events: %v %v", got, err)
		}
		e := got[0]
		if e.RealmID != r.ID || e.Time != 10*day || e.ClientID != "app" || e.UserID != "u1" || e.SessionID != "s1" ||
			e.IPAddress != "10.0.0.1" || e.Details["username"] != "alice" || e.Details["auth_method"] != "openid-connect" {
			t.Errorf("stored event differs: %+v", e)
		}
		if got, _ := db.ListEvents(ctx, r.ID, store.EventQuery{UserID: "u2", Max: -1}); got[0].Error != "invalid_user_credentials" || got[0].Details == nil {
			t.Errorf("error event: %+v", got[0])
		}

		if err := db.DeleteEvents(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.ListEvents(ctx, r.ID, store.EventQuery{Max: -1}); len(got) != 0 {
			t.Errorf("after delete: %v", eventIDs(got))
		}
		if got, _ := db.ListEvents(ctx, other.ID, store.EventQuery{Max: -1}); len(got) != 1 {
			t.Errorf("delete reached another realm: %v", eventIDs(got))
		}
	})
}

func TestAdminEvents(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		r, other := mkEventRealm(t, db, "ev"), mkEventRealm(t, db, "other")
		for _, e := range []events.AdminEvent{
			{ID: "a1", Time: 1000, OperationType: events.OpCreate, ResourceType: events.ResourceUser, ResourcePath: "users/U-1",
				AuthRealmID: "master", AuthClientID: "cli", AuthUserID: "admin", AuthIPAddress: "10.0.0.9",
				Representation: `{"username":"bob"}`},
			{ID: "a2", Time: 2000, OperationType: events.OpCreate, ResourceType: events.ResourceRealmRoleMapping,
				ResourcePath: "users/u-1/role-mappings/realm", AuthRealmID: "master", AuthClientID: "cli", AuthUserID: "admin", AuthIPAddress: "10.0.0.9"},
			{ID: "a3", Time: 3000, OperationType: events.OpDelete, ResourceType: events.ResourceClient, ResourcePath: "clients/c_1",
				AuthRealmID: r.ID, AuthClientID: "cli2", AuthUserID: "ra", AuthIPAddress: "10.0.0.8"},
			{ID: "a4", Time: 4000, OperationType: events.OpAction, ResourceType: events.ResourceUser, ResourcePath: "users/u-1/reset-password",
				AuthRealmID: "master", AuthClientID: "cli", AuthUserID: "admin", AuthIPAddress: "10.0.0.9"},
		} {
			e.RealmID = r.ID
			if err := db.CreateAdminEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.CreateAdminEvent(ctx, events.AdminEvent{ID: "x1", RealmID: other.ID, Time: 1000, OperationType: events.OpCreate,
			ResourceType: events.ResourceUser, ResourcePath: "users/u-1"}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			q    store.AdminEventQuery
			want []string
		}{
			{"newest first, this realm only", store.AdminEventQuery{Max: -1}, []string{"a4", "a3", "a2", "a1"}},
			{"operation types", store.AdminEventQuery{OperationTypes: []string{events.OpCreate, events.OpAction}, Max: -1}, []string{"a4", "a2", "a1"}},
			{"resource types", store.AdminEventQuery{ResourceTypes: []string{events.ResourceUser}, Max: -1}, []string{"a4", "a1"}},
			{"resource path exact, ignoring case", store.AdminEventQuery{ResourcePath: "users/u-1", Max: -1}, []string{"a1"}},
			{"resource path with a wildcard", store.AdminEventQuery{ResourcePath: "users/*", Max: -1}, []string{"a4", "a2", "a1"}},
			{"resource path wildcard in the middle", store.AdminEventQuery{ResourcePath: "users/*/role-mappings/*", Max: -1}, []string{"a2"}},
			{"resource path underscore is literal", store.AdminEventQuery{ResourcePath: "clients/c_1", Max: -1}, []string{"a3"}},
			{"resource path underscore does not match any character", store.AdminEventQuery{ResourcePath: "clients/c_2", Max: -1}, []string{}},
			{"auth realm", store.AdminEventQuery{AuthRealmID: r.ID, Max: -1}, []string{"a3"}},
			{"auth client", store.AdminEventQuery{AuthClientID: "cli", Max: -1}, []string{"a4", "a2", "a1"}},
			{"auth user", store.AdminEventQuery{AuthUserID: "ra", Max: -1}, []string{"a3"}},
			{"auth ip", store.AdminEventQuery{AuthIPAddress: "10.0.0.8", Max: -1}, []string{"a3"}},
			{"time range", store.AdminEventQuery{From: 2000, To: 3000, Max: -1}, []string{"a3", "a2"}},
			{"paging ascending", store.AdminEventQuery{Ascending: true, First: 1, Max: 2}, []string{"a2", "a3"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := db.ListAdminEvents(ctx, r.ID, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if ids := adminEventIDs(got); !slices.Equal(ids, tc.want) {
					t.Errorf("got %v, want %v", ids, tc.want)
				}
			})
		}
		got, _ := db.ListAdminEvents(ctx, r.ID, store.AdminEventQuery{ResourcePath: "users/U-1", Max: -1})
		if len(got) != 1 || got[0].Representation != `{"username":"bob"}` || got[0].AuthUserID != "admin" ||
			got[0].AuthIPAddress != "10.0.0.9" || got[0].Time != 1000 || got[0].RealmID != r.ID {
			t.Errorf("stored admin event differs: %+v", got)
		}
		if err := db.DeleteAdminEvents(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.ListAdminEvents(ctx, r.ID, store.AdminEventQuery{Max: -1}); len(got) != 0 {
			t.Errorf("after delete: %v", adminEventIDs(got))
		}
		if got, _ := db.ListAdminEvents(ctx, other.ID, store.AdminEventQuery{Max: -1}); len(got) != 1 {
			t.Errorf("delete reached another realm: %v", adminEventIDs(got))
		}
	})
}

func TestDeleteExpiredEvents(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		r, keep := mkEventRealm(t, db, "ev"), mkEventRealm(t, db, "keep")
		const now = int64(1_000_000_000)
		for _, rl := range []realm.Realm{r, keep} {
			for i, age := range []int64{0, 59_000, 61_000} {
				id := rl.Name + string(rune('a'+i))
				if err := db.CreateEvent(ctx, events.Event{ID: id, RealmID: rl.ID, Time: now - age, Type: events.Login}); err != nil {
					t.Fatal(err)
				}
				if err := db.CreateAdminEvent(ctx, events.AdminEvent{ID: id, RealmID: rl.ID, Time: now - age,
					OperationType: events.OpUpdate, ResourceType: events.ResourceRealm}); err != nil {
					t.Fatal(err)
				}
			}
		}
		r.EventsExpiration = 60
		r.Attributes = map[string]string{store.AdminEventsExpiration: "30"}
		for _, rl := range []realm.Realm{r, keep} {
			if err := db.DeleteExpiredEvents(ctx, rl, now); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := db.ListEvents(ctx, r.ID, store.EventQuery{Max: -1})
		if ids := eventIDs(got); !slices.Equal(ids, []string{"eva", "evb"}) {
			t.Errorf("events older than eventsExpiration are removed, the rest stay: %v", ids)
		}
		adm, _ := db.ListAdminEvents(ctx, r.ID, store.AdminEventQuery{Max: -1})
		if ids := adminEventIDs(adm); !slices.Equal(ids, []string{"eva"}) {
			t.Errorf("admin events follow adminEventsExpiration: %v", ids)
		}
		got, _ = db.ListEvents(ctx, keep.ID, store.EventQuery{Max: -1})
		adm, _ = db.ListAdminEvents(ctx, keep.ID, store.AdminEventQuery{Max: -1})
		if len(got) != 3 || len(adm) != 3 {
			t.Errorf("a realm without expiration keeps everything: %d events, %d admin events", len(got), len(adm))
		}

		if err := db.DeleteRealm(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		got, _ = db.ListEvents(ctx, r.ID, store.EventQuery{Max: -1})
		adm, _ = db.ListAdminEvents(ctx, r.ID, store.AdminEventQuery{Max: -1})
		if len(got)+len(adm) != 0 {
			t.Errorf("a deleted realm's events go with it: %d, %d", len(got), len(adm))
		}
	})
}
