package decide

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
)

// randomModel builds a small model from fuzz input: resources, scopes, role and user policies,
// aggregates over earlier policies only (so no cycle), and permissions of every kind.
func randomModel(data []byte) authz.Model {
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return int(b)
	}
	m := authz.Model{Server: authz.ResourceServer{ID: server,
		PolicyEnforcementMode: []string{authz.Enforcing, authz.Permissive, authz.Disabled}[next()%3],
		DecisionStrategy:      []string{authz.Unanimous, authz.Affirmative, authz.Consensus}[next()%3]}}
	nScopes := 1 + next()%4
	for i := range nScopes {
		m.Scopes = append(m.Scopes, authz.Scope{ID: fmt.Sprint("s", i), Name: fmt.Sprint("scope", i)})
	}
	pickScopes := func() []string {
		var out []string
		bits := next()
		for i := range nScopes {
			if bits&(1<<i) != 0 {
				out = append(out, fmt.Sprint("s", i))
			}
		}
		return out
	}
	nRes := 1 + next()%6
	for i := range nRes {
		r := authz.Resource{ID: fmt.Sprint("r", i), Name: fmt.Sprint("res", i), Owner: server, ScopeIDs: pickScopes()}
		switch next() % 4 {
		case 1:
			r.Type = "t"
		case 2:
			r.Type, r.Owner, r.OwnerManagedAccess = "t", "u1", next()%2 == 0
		}
		m.Resources = append(m.Resources, r)
	}
	nPol := 1 + next()%8
	var ids []string
	for i := range nPol {
		p := authz.Policy{ID: fmt.Sprint("p", i), Name: fmt.Sprint("p", i), Config: map[string]string{}}
		if next()%2 == 0 {
			p.Logic = authz.Negative
		}
		switch k := next() % 3; {
		case k == 0:
			p.Type, p.Config["roles"] = "role", fmt.Sprintf(`[{"id":"role%d","required":%v}]`, next()%3, next()%2 == 0)
		case k == 1 || i == 0:
			p.Type, p.Config["users"] = "user", fmt.Sprintf(`["u%d"]`, next()%3)
		default:
			p.Type, p.DecisionStrategy = "aggregate", []string{authz.Unanimous, authz.Affirmative, authz.Consensus}[next()%3]
			p.PolicyIDs = []string{ids[next()%len(ids)], ids[next()%len(ids)]}
		}
		ids = append(ids, p.ID)
		m.Policies = append(m.Policies, p)
	}
	nPerm := next() % 6
	for i := range nPerm {
		p := authz.Policy{ID: fmt.Sprint("perm", i), Name: fmt.Sprint("perm", i), Config: map[string]string{},
			DecisionStrategy: []string{authz.Unanimous, authz.Affirmative, authz.Consensus}[next()%3],
			PolicyIDs:        []string{ids[next()%len(ids)]}}
		switch next() % 4 {
		case 0:
			p.Type, p.ResourceIDs = "resource", []string{fmt.Sprint("r", next()%nRes)}
		case 1:
			p.Type, p.Config["defaultResourceType"] = "resource", "t"
		case 2:
			p.Type, p.ScopeIDs = "scope", pickScopes()
			if next()%2 == 0 {
				p.ResourceIDs = []string{fmt.Sprint("r", next()%nRes)}
			}
		default:
			p.Type, p.ResourceIDs, p.ScopeIDs = "uma", []string{fmt.Sprint("r", next()%nRes)}, pickScopes()
		}
		m.Policies = append(m.Policies, p)
	}
	return m
}

func FuzzEvaluate(f *testing.F) {
	f.Add([]byte{0, 0, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{1, 1, 3, 7, 5, 0, 2, 5, 1, 7, 3, 6, 0, 1, 2, 1, 0, 3, 2, 1, 5, 4, 3, 2, 1, 0, 9, 8})
	f.Add([]byte{2, 2, 1, 255, 3, 2, 2, 2, 2, 4, 1, 1, 1, 0, 2, 2, 0, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		m := randomModel(data)
		e, err := Compile(m)
		if err != nil {
			t.Fatalf("compile: %v", err)
		}
		for _, u := range []string{"u0", "u1", "u2"} {
			id := Identity{UserID: u, RoleIDs: map[string]bool{"role" + u[1:]: true}, Now: time.Unix(0, 0).UTC()}
			all := e.Evaluate(id, nil)
			got := map[string][]string{}
			for _, p := range all.Permissions {
				got[p.ResourceID] = p.Scopes
			}
			for _, r := range m.Resources {
				if r.Owner != server && r.Owner != u {
					if _, ok := got[r.ID]; ok {
						t.Fatalf("%s: another user's resource %s was evaluated", u, r.ID)
					}
					continue
				}
				one := e.Evaluate(id, []Requested{{ResourceID: r.ID}})
				scopes, ok := got[r.ID]
				if one.Denied == ok {
					t.Fatalf("%s on %s: alone denied=%v, with all granted=%v", u, r.ID, one.Denied, ok)
				}
				if !ok {
					if m.Server.PolicyEnforcementMode == authz.Disabled {
						t.Fatalf("%s on %s: denied while enforcement is disabled", u, r.ID)
					}
					continue
				}
				if !slices.Equal(one.Permissions[0].Scopes, scopes) {
					t.Fatalf("%s on %s: alone %v, with all %v", u, r.ID, one.Permissions[0].Scopes, scopes)
				}
				for _, s := range scopes {
					sid, _ := e.ScopeID(s)
					inherited := r.Type != "" && r.Owner != server
					if !slices.Contains(r.ScopeIDs, sid) && !inherited {
						t.Fatalf("%s on %s: granted scope %s the resource does not have", u, r.ID, s)
					}
				}
				// Explain decides the same.
				ex := e.Explain(id, []Requested{{ResourceID: r.ID}})
				if ex.Denied != one.Denied {
					t.Fatalf("%s on %s: explain denied=%v, evaluate denied=%v", u, r.ID, ex.Denied, one.Denied)
				}
			}
		}
	})
}
