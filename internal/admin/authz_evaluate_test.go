package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// authzEnv is a realm with a resource server "photos": a Photo resource with view and delete,
// a Note resource no permission covers, readers may use photos, only editors may delete, and a
// group policy for the staff group and its subgroups on Note's sibling "Archive".
type authzEnv struct {
	path                           string // the resource server's admin path
	server                         string // the resource server's (client's) id
	alice, bob, carol              string // user ids: alice reads; bob nothing; carol in staff/ops
	photo, note, archive, readerID string
}

func newAuthzEnv(t *testing.T, s *testServer) authzEnv {
	t.Helper()
	ctx := context.Background()
	r := s.newRealm("shop")
	db := s.DB
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	c := client.New(store.NewID(), r.ID, "photos")
	must(db.CreateClient(ctx, c))
	must(db.PutResourceServer(ctx, authz.ResourceServer{ID: c.ID, RealmID: r.ID, PolicyEnforcementMode: authz.Enforcing, DecisionStrategy: authz.Unanimous}))
	reader := role.Role{ID: store.NewID(), RealmID: r.ID, Name: "reader"}
	editor := role.Role{ID: store.NewID(), RealmID: r.ID, Name: "editor"}
	must(db.CreateRole(ctx, reader))
	must(db.CreateRole(ctx, editor))
	staff := role.Group{ID: store.NewID(), RealmID: r.ID, Name: "staff"}
	ops := role.Group{ID: store.NewID(), RealmID: r.ID, ParentID: staff.ID, Name: "ops"}
	must(db.CreateGroup(ctx, staff))
	must(db.CreateGroup(ctx, ops))
	newUser := func(name string) string {
		u := user.User{ID: store.NewID(), RealmID: r.ID, Username: name, Enabled: true, CreatedTimestamp: time.Now().UnixMilli()}
		must(db.CreateUser(ctx, u))
		return u.ID
	}
	e := authzEnv{path: "/admin/realms/shop/clients/" + c.ID + "/authz/resource-server", server: c.ID, alice: newUser("alice"), bob: newUser("bob"), carol: newUser("carol"), readerID: reader.ID}
	must(db.AddUserRoles(ctx, e.alice, reader.ID))
	must(db.AddGroupMember(ctx, ops.ID, e.carol))

	view, err := db.CreateScope(ctx, authz.Scope{ServerID: c.ID, Name: "view"})
	must(err)
	del, err := db.CreateScope(ctx, authz.Scope{ServerID: c.ID, Name: "delete"})
	must(err)
	res := func(name string, scopes ...string) string {
		x, err := db.CreateResource(ctx, authz.Resource{ServerID: c.ID, Name: name, Owner: c.ID, ScopeIDs: scopes})
		must(err)
		return x.ID
	}
	e.photo, e.note, e.archive = res("Photo", view.ID, del.ID), res("Note"), res("Archive")
	pol := func(p authz.Policy) string {
		p.ServerID = c.ID
		if p.Logic == "" {
			p.Logic = authz.Positive
		}
		if p.DecisionStrategy == "" {
			p.DecisionStrategy = authz.Unanimous
		}
		x, err := db.CreatePolicy(ctx, p)
		must(err)
		return x.ID
	}
	readers := pol(authz.Policy{Name: "readers", Type: "role", Config: map[string]string{"roles": fmt.Sprintf(`[{"id":%q,"required":false}]`, reader.ID)}})
	editors := pol(authz.Policy{Name: "editors", Type: "role", Config: map[string]string{"roles": fmt.Sprintf(`[{"id":%q,"required":false}]`, editor.ID)}})
	staffP := pol(authz.Policy{Name: "staff", Type: "group", Config: map[string]string{"groups": fmt.Sprintf(`[{"id":%q,"extendChildren":true}]`, staff.ID)}})
	pol(authz.Policy{Name: "photo permission", Type: "resource", PolicyIDs: []string{readers}, ResourceIDs: []string{e.photo}, Config: map[string]string{}})
	pol(authz.Policy{Name: "delete permission", Type: "scope", PolicyIDs: []string{editors}, ResourceIDs: []string{e.photo}, ScopeIDs: []string{del.ID}, Config: map[string]string{}})
	pol(authz.Policy{Name: "archive permission", Type: "resource", PolicyIDs: []string{staffP}, ResourceIDs: []string{e.archive}, Config: map[string]string{}})
	return e
}

type evalAnswer struct {
	Status  string `json:"status"`
	Results []struct {
		Resource struct {
			ID   string `json:"_id"`
			Name string `json:"name"`
		} `json:"resource"`
		Status        string `json:"status"`
		AllowedScopes []struct {
			Name string `json:"name"`
		} `json:"allowedScopes"`
		Policies []struct {
			Policy struct {
				Name string `json:"name"`
			} `json:"policy"`
			Status             string `json:"status"`
			AssociatedPolicies []struct {
				Policy struct {
					Name string `json:"name"`
				} `json:"policy"`
				Status string `json:"status"`
			} `json:"associatedPolicies"`
		} `json:"policies"`
	} `json:"results"`
	RPT struct {
		AZP           string `json:"azp"`
		Authorization struct {
			Permissions []struct {
				RSID   string   `json:"rsid"`
				RSName string   `json:"rsname"`
				Scopes []string `json:"scopes"`
			} `json:"permissions"`
		} `json:"authorization"`
	} `json:"rpt"`
}

func (s *testServer) evaluate(t *testing.T, path, tok string, body any) evalAnswer {
	t.Helper()
	st, _, b := s.do("POST", path, tok, body)
	if st != 200 {
		t.Fatalf("POST %s: %d %s", path, st, b)
	}
	var a evalAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return a
}

func TestAuthzEvaluate(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newAuthzEnv(t, s)
		tok := s.adminToken()

		t.Run("a reader views the photo but may not delete it", func(t *testing.T) {
			a := s.evaluate(t, e.path+"/policy/evaluate", tok, map[string]any{
				"userId": e.alice, "resources": []any{map[string]any{"_id": e.photo}}})
			if a.Status != "PERMIT" || len(a.Results) != 1 {
				t.Fatalf("%+v", a)
			}
			r := a.Results[0]
			if r.Status != "PERMIT" || r.Resource.Name != "Photo with scopes [view]" || len(r.AllowedScopes) != 1 || r.AllowedScopes[0].Name != "view" {
				t.Fatalf("result %+v", r)
			}
			effects := map[string]string{}
			for _, p := range r.Policies {
				effects[p.Policy.Name] = p.Status
				for _, ap := range p.AssociatedPolicies {
					effects[p.Policy.Name+"/"+ap.Policy.Name] = ap.Status
				}
			}
			want := map[string]string{"photo permission": "PERMIT", "photo permission/readers": "PERMIT",
				"delete permission": "DENY", "delete permission/editors": "DENY"}
			if fmt.Sprint(effects) != fmt.Sprint(want) {
				t.Fatalf("policies %v, want %v", effects, want)
			}
			perms := a.RPT.Authorization.Permissions
			if len(perms) != 1 || perms[0].RSID != e.photo || perms[0].RSName != "Photo" || !slices.Equal(perms[0].Scopes, []string{"view"}) {
				t.Fatalf("rpt permissions %+v", perms)
			}
			if a.RPT.AZP != "photos" {
				t.Fatalf("rpt azp %q", a.RPT.AZP)
			}
		})

		t.Run("a user without the role is denied, by username", func(t *testing.T) {
			a := s.evaluate(t, e.path+"/permission/evaluate", tok, map[string]any{
				"userId": "bob", "resources": []any{map[string]any{"_id": e.photo}}})
			if a.Status != "DENY" || len(a.Results) != 1 || a.Results[0].Status != "DENY" || len(a.RPT.Authorization.Permissions) != 0 {
				t.Fatalf("%+v", a)
			}
		})

		t.Run("roles given to the evaluation count", func(t *testing.T) {
			a := s.evaluate(t, e.path+"/policy/evaluate", tok, map[string]any{
				"userId": e.bob, "roleIds": []string{"reader"}, "resources": []any{map[string]any{"_id": e.photo, "scopes": []any{map[string]any{"name": "view"}}}}})
			if a.Status != "PERMIT" || len(a.RPT.Authorization.Permissions) != 1 {
				t.Fatalf("%+v", a)
			}
		})

		t.Run("every resource: a member of a subgroup reaches the archive; a resource without permission is left out", func(t *testing.T) {
			a := s.evaluate(t, e.path+"/policy/evaluate", tok, map[string]any{"userId": e.carol})
			byName := map[string]string{}
			for _, r := range a.Results {
				byName[r.Resource.Name] = r.Status
			}
			want := map[string]string{"Archive": "PERMIT", "Photo with scopes [view, delete]": "DENY"}
			if fmt.Sprint(byName) != fmt.Sprint(want) {
				t.Fatalf("results %v, want %v", byName, want)
			}
			if a.Status != "DENY" || len(a.RPT.Authorization.Permissions) != 1 || a.RPT.Authorization.Permissions[0].RSName != "Archive" {
				t.Fatalf("%+v", a)
			}
		})

		t.Run("a policy change is seen by the next evaluation", func(t *testing.T) {
			ctx := context.Background()
			ps, err := s.DB.ListPolicies(ctx, e.server, store.PolicyFilter{ExactName: true, Name: "photo permission", Max: -1})
			if err != nil || len(ps) != 1 {
				t.Fatalf("%v %v", ps, err)
			}
			if _, err := s.DB.UpdatePolicy(ctx, ps[0].ServerID, ps[0].ID, func(p *authz.Policy) error {
				p.DecisionStrategy = authz.Affirmative
				p.PolicyIDs = nil
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			a := s.evaluate(t, e.path+"/policy/evaluate", tok, map[string]any{
				"userId": e.alice, "resources": []any{map[string]any{"_id": e.photo}}})
			if a.Status != "DENY" {
				t.Fatalf("a permission without policies still granted: %+v", a)
			}
		})

		t.Run("refusals", func(t *testing.T) {
			if st, _, _ := s.do("POST", e.path+"/policy/evaluate", "", map[string]any{}); st != 401 {
				t.Fatalf("no token: %d", st)
			}
			viewer := s.realmAdmin(s.mustRealm("shop"), "viewer", "view-clients")
			if st, _, _ := s.do("POST", e.path+"/policy/evaluate", viewer, map[string]any{}); st != 403 {
				t.Fatalf("view-clients only: %d", st)
			}
			if st, _, b := s.do("POST", e.path+"/policy/evaluate", tok, "{"); st != 400 {
				t.Fatalf("bad JSON: %d %s", st, b)
			}
			if st, _, _ := s.do("POST", "/admin/realms/shop/clients/nope/authz/resource-server/policy/evaluate", tok, map[string]any{}); st != 404 {
				t.Fatalf("unknown client: %d", st)
			}
		})
	})
}

func (s *testServer) mustRealm(name string) realm.Realm {
	s.t.Helper()
	r, err := s.DB.GetRealmByName(context.Background(), name)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}
