package uma

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/authz/decide"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

func TestParsePermission(t *testing.T) {
	for in, want := range map[string]Permission{
		"photo":             {ResourceID: "photo"},
		"photo#view":        {ResourceID: "photo", Scopes: []string{"view"}},
		"photo#view,delete": {ResourceID: "photo", Scopes: []string{"view", "delete"}},
		"#view":             {Scopes: []string{"view"}},
		"photo#view,,view":  {ResourceID: "photo", Scopes: []string{"view"}},
	} {
		if got := ParsePermission(in); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %+v, want %+v", in, got, want)
		}
	}
}

func testKey(t *testing.T) keys.Key {
	t.Helper()
	k, err := keys.Fallback("RS256", "test", time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestTicket(t *testing.T) {
	k := testKey(t)
	now := time.Unix(1700000000, 0)
	in := Ticket{Permissions: []Permission{{ResourceID: "r1", Scopes: []string{"view"}}}, Claims: map[string][]string{"ip": {"10.0.0.1"}},
		Audience: "photoz", Subject: "sa", IssuedFor: "photoz", ID: "t1", IssuedAt: now.Unix(), Expires: now.Unix() + 60}
	raw, err := SignTicket(in, k)
	if err != nil {
		t.Fatal(err)
	}
	got, err := VerifyTicket(raw, []keys.Key{k}, now)
	if err != nil || !reflect.DeepEqual(got, in) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, err := VerifyTicket(raw, []keys.Key{k}, now.Add(time.Minute)); err != ErrTicketInactive {
		t.Errorf("expired ticket: %v", err)
	}
	other := testKey(t)
	other.Kid = "other"
	if _, err := VerifyTicket(raw, []keys.Key{other}, now); err != ErrTicketSignature {
		t.Errorf("ticket of another key: %v", err)
	}
	// An access token is no ticket, even one with a permissions claim.
	access, err := token.Sign(map[string]any{"typ": "Bearer", "permissions": []any{}, "exp": now.Unix() + 60}, k)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyTicket(access, []keys.Key{k}, now); err != ErrTicketSignature {
		t.Errorf("access token as a ticket: %v", err)
	}
	// A signed JWT without permissions is no ticket either.
	bare, _ := token.Sign(map[string]any{"aud": "photoz"}, k)
	if _, err := VerifyTicket(bare, []keys.Key{k}, now); err != ErrTicketSignature {
		t.Errorf("JWT without permissions: %v", err)
	}
}

// model is a server "rs" with a server-owned photo, alice's album (owner
// managed) and bob's album of the same name.
func model() authz.Model {
	return authz.Model{
		Server: authz.ResourceServer{ID: "rs"},
		Scopes: []authz.Scope{{ID: "s-view", Name: "view"}, {ID: "s-share", Name: "share"}},
		Resources: []authz.Resource{
			{ID: "photo", Name: "photo", Owner: "rs", ScopeIDs: []string{"s-view"}, Type: "img"},
			{ID: "a-album", Name: "album", Owner: "alice", OwnerManagedAccess: true, ScopeIDs: []string{"s-view", "s-share"}, Type: "img"},
			{ID: "b-album", Name: "album", Owner: "bob", ScopeIDs: []string{"s-view"}},
		},
	}
}

func TestRequests(t *testing.T) {
	m := model()
	granted := []store.PermissionTicket{{ResourceID: "a-album", ScopeID: "s-view", GrantedTimestamp: 1, Requester: "carol"}}
	for _, tc := range []struct {
		name    string
		who     Asker
		perms   []Permission
		want    []decide.Requested
		errCode string
	}{
		{"by id", Asker{ID: "carol"}, []Permission{{ResourceID: "photo", Scopes: []string{"view"}}},
			[]decide.Requested{{ResourceID: "photo", Scopes: []string{"view"}}}, ""},
		{"own resource by name", Asker{ID: "bob"}, []Permission{{ResourceID: "album"}}, []decide.Requested{{ResourceID: "b-album"}}, ""},
		{"shared by a ticket, only the granted scopes", Asker{ID: "carol"}, []Permission{{ResourceID: "album", Scopes: []string{"view", "share"}}},
			[]decide.Requested{{ResourceID: "a-album", Scopes: []string{"view"}, Granted: true}}, ""},
		{"someone else's by name", Asker{ID: "dave"}, []Permission{{ResourceID: "album"}}, nil, "invalid_resource"},
		{"unknown scope", Asker{ID: "dave"}, []Permission{{ResourceID: "photo", Scopes: []string{"fly"}}}, nil, "invalid_scope"},
		{"scopes only", Asker{ID: "dave"}, []Permission{{Scopes: []string{"share"}}}, []decide.Requested{{Scopes: []string{"share"}}}, ""},
		{"resource type of the server", Asker{ID: "dave"}, []Permission{{ResourceID: "resource-type:img"}}, []decide.Requested{{ResourceID: "photo"}}, ""},
		{"resource type instances", Asker{ID: "dave"}, []Permission{{ResourceID: "resource-type-instance:img"}}, []decide.Requested{{ResourceID: "a-album"}}, ""},
		{"repeated resource merges scopes", Asker{ID: "dave"}, []Permission{{ResourceID: "photo", Scopes: []string{"view"}}, {ResourceID: "photo"}},
			[]decide.Requested{{ResourceID: "photo", Scopes: []string{"view"}}}, ""},
	} {
		got, err := Requests(m, tc.who, granted, tc.perms)
		var e *Error
		if tc.errCode != "" {
			if !errors.As(err, &e) || e.Code != tc.errCode {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.errCode)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v %v, want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestAllAndPending(t *testing.T) {
	m := model()
	granted := []store.PermissionTicket{{ResourceID: "a-album", ScopeID: "s-share", GrantedTimestamp: 1, Requester: "bob"}}
	got := All(m, Asker{ID: "bob"}, granted)
	want := []decide.Requested{{ResourceID: "photo"}, {ResourceID: "b-album"}, {ResourceID: "a-album", Scopes: []string{"share"}, Granted: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("All = %+v, want %+v", got, want)
	}
	if got := All(m, Asker{ID: "rs", Server: true}, nil); len(got) != 1 || got[0].ResourceID != "photo" {
		t.Errorf("All for the server = %+v", got)
	}
	// A denied request submits a ticket per scope, only on owner-managed
	// resources of others.
	p := Pending(m, Asker{ID: "bob"}, []Permission{{ResourceID: "a-album"}, {ResourceID: "photo"}, {ResourceID: "b-album"}})
	if len(p) != 2 || p[0].ScopeID != "s-view" || p[1].ScopeID != "s-share" || p[0].Owner != "alice" || p[0].Requester != "bob" {
		t.Errorf("Pending = %+v", p)
	}
	if p := Pending(m, Asker{ID: "alice"}, []Permission{{ResourceID: "a-album"}}); len(p) != 0 {
		t.Errorf("the owner's own request is pending: %+v", p)
	}
}

func TestCoversAndPrevious(t *testing.T) {
	m := model()
	reqs := Previous(m, []decide.Requested{{ResourceID: "photo"}}, []Permission{{ResourceID: "a-album", Scopes: []string{"share", "gone"}}, {ResourceID: "deleted"}})
	if want := []decide.Requested{{ResourceID: "photo"}, {ResourceID: "a-album", Scopes: []string{"share"}}}; !reflect.DeepEqual(reqs, want) {
		t.Errorf("Previous = %+v", reqs)
	}
	granted := []Permission{{ResourceID: "a-album", Scopes: []string{"view", "share"}}}
	if !Covers(granted, []decide.Requested{{ResourceID: "a-album", Scopes: []string{"share"}}}) {
		t.Error("a granted scope is not covered")
	}
	if Covers(granted, []decide.Requested{{ResourceID: "photo"}}) {
		t.Error("an ungranted resource is covered")
	}
}
