package admin_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// child POSTs a subgroup and returns its id, checking the 201, the Location
// under /groups and the body Keycloak sends back.
func (e *crgEnv) child(parentID, name string) string {
	e.t.Helper()
	h, b := e.want("POST", "/groups/"+parentID+"/children", e.tok, map[string]any{"name": name}, 201, "")
	var g map[string]any
	if err := json.Unmarshal([]byte(b), &g); err != nil {
		e.t.Fatalf("child body: %s", b)
	}
	if h.Get("Location") != e.s.URL+e.path("/groups/"+fmt.Sprint(g["id"])) || g["name"] != name || g["parentId"] != parentID {
		e.t.Fatalf("child %s: Location %q, body %s", name, h.Get("Location"), b)
	}
	return g["id"].(string)
}

func TestGroupsTree(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		eng := e.create("/groups", map[string]any{"name": "eng", "attributes": map[string][]string{"cost-center": {"42"}}})
		sales := e.create("/groups", map[string]any{"name": "sales"})
		e.want("POST", "/groups", e.tok, map[string]any{"name": "eng"}, 409, `{"errorMessage":"Top level group named 'eng' already exists."}`)
		e.want("POST", "/groups", e.tok, map[string]any{"name": " "}, 400, `{"errorMessage":"Group name is missing"}`)
		backend := e.child(eng, "backend")
		deep := e.child(backend, "deep")
		e.child(eng, "frontend")
		e.want("POST", "/groups/"+eng+"/children", e.tok, map[string]any{"name": "backend"}, 409, `{"errorMessage":"Sibling group named 'backend' already exists."}`)
		// The same name under another parent is another group.
		e.child(sales, "backend")

		// Top level, with how many children each has.
		top := e.list("/groups", e.tok)
		if got := crgField(top, "name"); !slices.Equal(got, []string{"eng", "sales"}) {
			t.Fatalf("top level: %v", got)
		}
		if top[0]["subGroupCount"] != 2.0 || fmt.Sprint(top[0]["subGroups"]) != "[]" || top[0]["path"] != "/eng" {
			t.Fatalf("eng in the list: %v", top[0])
		}
		if _, ok := top[0]["attributes"]; ok {
			t.Fatalf("brief listing has attributes: %v", top[0])
		}
		if got := e.list("/groups?first=1&max=1", e.tok); len(got) != 1 || got[0]["name"] != "sales" {
			t.Fatalf("page: %v", got)
		}
		e.want("GET", "/groups/count", e.tok, nil, 200, `{"count":6}`)
		e.want("GET", "/groups/count?top=true", e.tok, nil, 200, `{"count":2}`)
		e.want("GET", "/groups/count?search=END", e.tok, nil, 200, `{"count":3}`)

		// Search: the matches inside their ancestors.
		found := e.list("/groups?search=dee", e.tok)
		if len(found) != 1 || found[0]["name"] != "eng" {
			t.Fatalf("search: %v", found)
		}
		sub := found[0]["subGroups"].([]any)
		if len(sub) != 1 || sub[0].(map[string]any)["name"] != "backend" {
			t.Fatalf("search branch: %v", found)
		}
		leaf := sub[0].(map[string]any)["subGroups"].([]any)[0].(map[string]any)
		if leaf["id"] != deep || leaf["path"] != "/eng/backend/deep" {
			t.Fatalf("search leaf: %v", leaf)
		}
		if got := e.list("/groups?search=backend", e.tok); len(got) != 2 {
			t.Fatalf("backend under eng and sales: %v", got)
		}
		if got := e.list("/groups?q=cost-center:42", e.tok); len(got) != 1 || got[0]["id"] != eng {
			t.Fatalf("q: %v", got)
		}

		// One group, full.
		g := e.obj("/groups/" + backend)
		if g["path"] != "/eng/backend" || g["parentId"] != eng || g["subGroupCount"] != 1.0 || fmt.Sprint(g["attributes"]) != "map[]" ||
			fmt.Sprint(g["realmRoles"]) != "[]" || fmt.Sprint(g["clientRoles"]) != "map[]" || g["access"] == nil {
			t.Fatalf("group: %v", g)
		}
		if got := crgField(e.list("/groups/"+eng+"/children", e.tok), "name"); !slices.Equal(got, []string{"backend", "frontend"}) {
			t.Fatalf("children: %v", got)
		}
		if got := crgField(e.list("/groups/"+eng+"/children?first=1&max=1", e.tok), "name"); !slices.Equal(got, []string{"frontend"}) {
			t.Fatalf("children page: %v", got)
		}

		// Move backend (with its subtree) under sales: a clash there first.
		e.want("POST", "/groups/"+sales+"/children", e.tok, map[string]any{"id": backend, "name": "backend"},
			409, `{"errorMessage":"Sibling group named 'backend' already exists."}`)
		e.want("PUT", "/groups/"+backend, e.tok, map[string]any{"name": "platform"}, 204, "")
		e.want("POST", "/groups/"+sales+"/children", e.tok, map[string]any{"id": backend, "name": "platform"}, 204, "")
		if g := e.obj("/groups/" + deep); g["path"] != "/sales/platform/deep" {
			t.Fatalf("after the move: %v", g)
		}
		e.want("POST", "/groups/"+deep+"/children", e.tok, map[string]any{"id": sales, "name": "sales"},
			400, `{"errorMessage":"Cannot move group sales under itself or one of its subgroups"}`)
		e.want("POST", "/groups/"+deep+"/children", e.tok, map[string]any{"id": store.NewID(), "name": "x"}, 404, `{"error":"Could not find child by id"}`)
		// Back to the top level.
		e.want("POST", "/groups", e.tok, map[string]any{"id": backend, "name": "platform"}, 204, "")
		if g := e.obj("/groups/" + deep); g["path"] != "/platform/deep" {
			t.Fatalf("after moving to the top: %v", g)
		}
		e.want("PUT", "/groups/"+backend, e.tok, map[string]any{"name": "eng"}, 409, `{"errorMessage":"Sibling group named 'eng' already exists."}`)
		e.want("PUT", "/groups/"+backend, e.tok, map[string]any{"id": eng, "name": "x"}, 400, `{"errorMessage":"Invalid group id"}`)

		// Deleting a group deletes its subtree.
		e.want("DELETE", "/groups/"+backend, e.tok, nil, 204, "")
		for _, id := range []string{backend, deep} {
			if _, err := s.DB.GetGroup(e.ctx(), e.realm.ID, id); err == nil {
				t.Fatalf("group %s survived its parent's deletion", id)
			}
			for _, p := range []string{"", "/children", "/members"} {
				e.want("GET", "/groups/"+id+p, e.tok, nil, 404, `{"error":"Could not find group by id"}`)
			}
			e.want("PUT", "/groups/"+id, e.tok, map[string]any{"name": "x"}, 404, `{"error":"Could not find group by id"}`)
			e.want("DELETE", "/groups/"+id, e.tok, nil, 404, `{"error":"Could not find group by id"}`)
		}
		e.want("GET", "/groups/count", e.tok, nil, 200, `{"count":4}`)
	})
}

func TestGroupsMembers(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		team := e.create("/groups", map[string]any{"name": "team"})
		for _, n := range []string{"zoe", "adam", "mia"} {
			u := e.mkUser(n)
			s.DB.AddGroupMember(e.ctx(), team, u.ID)
		}
		e.mkUser("outsider")
		ms := e.list("/groups/"+team+"/members", e.tok)
		if got := crgField(ms, "username"); !slices.Equal(got, []string{"adam", "mia", "zoe"}) {
			t.Fatalf("members: %v", got)
		}
		if _, ok := ms[0]["requiredActions"]; !ok {
			t.Fatalf("full representation expected by default: %v", ms[0])
		}
		brief := e.list("/groups/"+team+"/members?briefRepresentation=true&first=1&max=1", e.tok)
		if len(brief) != 1 || brief[0]["username"] != "mia" {
			t.Fatalf("brief page: %v", brief)
		}
		if _, ok := brief[0]["requiredActions"]; ok {
			t.Fatalf("brief representation has requiredActions: %v", brief[0])
		}
		_, b := e.want("GET", "/groups/"+team+"/members", e.tok, nil, 200, "")
		if strings.Contains(b, "credentials") || strings.Contains(b, "pw-") {
			t.Fatalf("member listing leaks credentials: %s", b)
		}
	})
}

// SECURITY.md M2 for groups: a view-users admin reads groups but is refused
// every write; a query-groups admin only lists and counts.
func TestGroupsViewerCannotWrite(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		eng := e.create("/groups", map[string]any{"name": "eng"})
		backend := e.child(eng, "backend")
		viewer := s.realmAdmin(e.realm, "viewer", "view-users", "view-realm", "view-clients")
		e.forbiddenWrites(viewer, []crgCall{
			{"POST", "/groups", map[string]any{"name": "new"}},
			{"POST", "/groups", map[string]any{"id": backend, "name": "backend"}},
			{"PUT", "/groups/" + eng, map[string]any{"name": "renamed"}},
			{"DELETE", "/groups/" + eng, nil},
			{"POST", "/groups/" + eng + "/children", map[string]any{"name": "new"}},
			{"POST", "/groups/" + backend + "/children", map[string]any{"id": eng, "name": "eng"}},
		})
		e.want("GET", "/groups/"+eng, viewer, nil, 200, "")
		e.want("GET", "/groups/"+eng+"/members", viewer, nil, 200, "[]")

		querier := s.realmAdmin(e.realm, "querier", "query-groups")
		if got := e.list("/groups", querier); len(got) != 1 {
			t.Fatalf("query-groups list: %v", got)
		}
		e.want("GET", "/groups/count", querier, nil, 200, `{"count":2}`)
		e.want("GET", "/groups/"+eng, querier, nil, 403, `{"error":"HTTP 403 Forbidden"}`)
		e.want("GET", "/groups/"+eng+"/members", querier, nil, 403, `{"error":"HTTP 403 Forbidden"}`)
		clientsOnly := s.realmAdmin(e.realm, "clients-only", "manage-clients")
		e.want("GET", "/groups", clientsOnly, nil, 403, `{"error":"HTTP 403 Forbidden"}`)
	})
}
