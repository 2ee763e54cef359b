package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// searchFixture is a realm with a few people and one service account.
func searchFixture(t *testing.T, db *store.DB) realm.Realm {
	t.Helper()
	ctx := context.Background()
	r := realm.New(store.NewID(), "search")
	if err := db.CreateRealm(ctx, r); err != nil {
		t.Fatal(err)
	}
	c := client.New(store.NewID(), r.ID, "svc")
	if err := db.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, u := range []user.User{
		{Username: "alice", Email: "alice@example.com", FirstName: "Alice", LastName: "Liddell", Enabled: true, EmailVerified: true,
			Attributes: map[string][]string{"dept": {"Research"}, "site": {"Oxford", "London"}}},
		{Username: "bob", Email: "bob@example.org", FirstName: "Bob", LastName: "Alison", Enabled: true,
			Attributes: map[string][]string{"dept": {"Sales"}}},
		{Username: "carol", Email: "carol@example.com", FirstName: "Carol", LastName: "Smith", Enabled: false,
			Attributes: map[string][]string{"dept": {"research and development"}}},
		{Username: "dan_100%", Email: "dan@example.com", FirstName: "Dan", LastName: "Brown", Enabled: true},
		{Username: "service-account-svc", Enabled: true, ServiceAccountClientID: c.ID},
	} {
		u.ID, u.RealmID, u.CreatedTimestamp = store.NewID(), r.ID, 1700000000000
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func names(us []user.User) []string {
	out := []string{}
	for _, u := range us {
		out = append(out, u.Username)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func TestSearchUsers(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		r := searchFixture(t, db)
		ctx := context.Background()
		for _, tc := range []struct {
			name string
			q    store.UserQuery
			want []string
		}{
			{"no filter lists people, not service accounts", store.UserQuery{}, []string{"alice", "bob", "carol", "dan_100%"}},
			{"search matches by prefix on any name field, ignoring case", store.UserQuery{Search: "ALI"}, []string{"alice", "bob"}},
			{"search prefix does not match inside a word", store.UserQuery{Search: "lice"}, []string{}},
			{"search * is a wildcard", store.UserQuery{Search: "*lice*"}, []string{"alice"}},
			{"search on email domain with wildcard", store.UserQuery{Search: "*example.com"}, []string{"alice", "carol", "dan_100%"}},
			{"quoted search term matches exactly", store.UserQuery{Search: `"al"`}, []string{}},
			{"quoted search term on a last name", store.UserQuery{Search: `"smith"`}, []string{"carol"}},
			{"every search term must match", store.UserQuery{Search: "a* *example.org"}, []string{"bob"}},
			{"search percent sign is literal", store.UserQuery{Search: "%"}, []string{}},
			{"search underscore is literal", store.UserQuery{Search: "*_*"}, []string{"dan_100%"}},
			{"search leaves out service accounts", store.UserQuery{Search: "service"}, []string{}},
			{"search with enabled", store.UserQuery{Search: "*a*", Enabled: ptr(false)}, []string{"carol"}},
			{"username is a substring match", store.UserQuery{Username: ptr("AR"), IncludeServiceAccounts: true}, []string{"carol"}},
			{"username filter finds service accounts", store.UserQuery{Username: ptr("service"), IncludeServiceAccounts: true}, []string{"service-account-svc"}},
			{"exact username", store.UserQuery{Username: ptr("ALICE"), Exact: ptr(true), IncludeServiceAccounts: true}, []string{"alice"}},
			{"exact username does not match a part", store.UserQuery{Username: ptr("alic"), Exact: ptr(true), IncludeServiceAccounts: true}, []string{}},
			{"first and last name combine with AND", store.UserQuery{FirstName: ptr("b"), LastName: ptr("ali")}, []string{"bob"}},
			{"email filter", store.UserQuery{Email: ptr(".ORG")}, []string{"bob"}},
			{"email verified", store.UserQuery{EmailVerified: ptr(true)}, []string{"alice"}},
			{"percent in a filter is literal", store.UserQuery{Username: ptr("%")}, []string{"dan_100%"}},
			{"attribute matches exactly, ignoring case", store.UserQuery{Attributes: map[string]string{"dept": "research"}}, []string{"alice"}},
			{"attribute substring when exact=false", store.UserQuery{Attributes: map[string]string{"dept": "research"}, Exact: ptr(false)}, []string{"alice", "carol"}},
			{"attribute matches any of its values", store.UserQuery{Attributes: map[string]string{"site": "london"}}, []string{"alice"}},
			{"all attributes must match", store.UserQuery{Attributes: map[string]string{"dept": "research", "site": "paris"}}, []string{}},
			{"attribute with another filter", store.UserQuery{Attributes: map[string]string{"dept": "sales"}, Enabled: ptr(true)}, []string{"bob"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := db.SearchUsers(ctx, r.ID, tc.q, 0, -1)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(names(got), tc.want) {
					t.Fatalf("got %v, want %v", names(got), tc.want)
				}
				n, err := db.CountUsersMatching(ctx, r.ID, tc.q)
				if err != nil || n != len(tc.want) {
					t.Fatalf("count %d (%v), want %d", n, err, len(tc.want))
				}
			})
		}
	})
}

func TestSearchUsersPaging(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		r := searchFixture(t, db)
		ctx := context.Background()
		got, err := db.SearchUsers(ctx, r.ID, store.UserQuery{}, 1, 2)
		if err != nil || !slices.Equal(names(got), []string{"bob", "carol"}) {
			t.Fatalf("page: %v %v", names(got), err)
		}
		// Paging applies after the attribute filter.
		q := store.UserQuery{Attributes: map[string]string{"dept": "e"}, Exact: ptr(false)}
		got, err = db.SearchUsers(ctx, r.ID, q, 1, 1)
		if err != nil || !slices.Equal(names(got), []string{"bob"}) {
			t.Fatalf("attribute page: %v %v", names(got), err)
		}
		got, err = db.SearchUsers(ctx, r.ID, store.UserQuery{}, 0, 0)
		if err != nil || len(got) != 0 {
			t.Fatalf("max 0: %v %v", names(got), err)
		}
	})
}

// The listing of an administrator who may see only some groups' members:
// InGroups filters in the query, so pages and counts hold only members.
func TestSearchUsersInGroups(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		r := searchFixture(t, db)
		ctx := context.Background()
		staff := role.Group{ID: store.NewID(), RealmID: r.ID, Name: "staff"}
		other := role.Group{ID: store.NewID(), RealmID: r.ID, Name: "other"}
		for _, g := range []role.Group{staff, other} {
			if err := db.CreateGroup(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
		for name, g := range map[string]string{"alice": staff.ID, "carol": staff.ID, "dan_100%": staff.ID, "bob": other.ID} {
			u, err := db.GetUserByUsername(ctx, r.ID, name)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.AddGroupMember(ctx, g, u.ID); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name       string
			q          store.UserQuery
			first, max int
			want       []string
			count      int
		}{
			{"members of one group", store.UserQuery{InGroups: []string{staff.ID}}, 0, -1, []string{"alice", "carol", "dan_100%"}, 3},
			{"a page counts members only", store.UserQuery{InGroups: []string{staff.ID}}, 1, 1, []string{"carol"}, 3},
			{"with another filter", store.UserQuery{InGroups: []string{staff.ID}, Enabled: ptr(true)}, 0, -1, []string{"alice", "dan_100%"}, 2},
			{"several groups", store.UserQuery{InGroups: []string{staff.ID, other.ID}}, 0, -1, []string{"alice", "bob", "carol", "dan_100%"}, 4},
			{"no group keeps no one", store.UserQuery{InGroups: []string{}}, 0, -1, []string{}, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := db.SearchUsers(ctx, r.ID, tc.q, tc.first, tc.max)
				if err != nil || !slices.Equal(names(got), tc.want) {
					t.Fatalf("got %v (%v), want %v", names(got), err, tc.want)
				}
				n, err := db.CountUsersMatching(ctx, r.ID, tc.q)
				if err != nil || n != tc.count {
					t.Fatalf("count %d (%v), want %d", n, err, tc.count)
				}
			})
		}
	})
}

func TestUsersWithCredentialType(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		r := searchFixture(t, db)
		ctx := context.Background()
		alice, _ := db.GetUserByUsername(ctx, r.ID, "alice")
		bob, _ := db.GetUserByUsername(ctx, r.ID, "bob")
		if err := db.CreateCredential(ctx, user.Credential{ID: store.NewID(), UserID: bob.ID, Type: "otp", SecretData: "{}", CredentialData: "{}"}); err != nil {
			t.Fatal(err)
		}
		has, err := db.UsersWithCredentialType(ctx, []string{alice.ID, bob.ID}, "otp")
		if err != nil || !has[bob.ID] || has[alice.ID] || len(has) != 1 {
			t.Fatalf("otp users: %v %v", has, err)
		}
		has, err = db.UsersWithCredentialType(ctx, nil, "otp")
		if err != nil || len(has) != 0 {
			t.Fatalf("no users: %v %v", has, err)
		}
	})
}
