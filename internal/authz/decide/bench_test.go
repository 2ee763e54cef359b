package decide

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
)

// bigModel is a resource server with 1,000 resources (10 scopes, 3 per resource, a quarter of
// them typed and owned by users), 1,000 policies of every evaluable type, one resource
// permission per resource over three policies, and 50 scope permissions.
func bigModel() (authz.Model, Identity) {
	m := authz.Model{Server: authz.ResourceServer{ID: server, PolicyEnforcementMode: authz.Enforcing, DecisionStrategy: authz.Unanimous}}
	for i := range 10 {
		m.Scopes = append(m.Scopes, authz.Scope{ID: fmt.Sprintf("s%d", i), Name: fmt.Sprintf("scope%d", i)})
	}
	for i := range 1000 {
		r := authz.Resource{ID: fmt.Sprintf("r%d", i), Name: fmt.Sprintf("resource %d", i), Owner: server,
			ScopeIDs: []string{fmt.Sprintf("s%d", i%10), fmt.Sprintf("s%d", (i+3)%10), fmt.Sprintf("s%d", (i+7)%10)}}
		if i%4 == 0 {
			r.Type = fmt.Sprintf("urn:type:%d", i%20)
			r.Owner = fmt.Sprintf("u%d", i%3)
			r.ScopeIDs = nil
		}
		m.Resources = append(m.Resources, r)
	}
	for i := range 20 {
		m.Resources = append(m.Resources, authz.Resource{ID: fmt.Sprintf("t%d", i), Name: fmt.Sprintf("type %d", i),
			Type: fmt.Sprintf("urn:type:%d", i), Owner: server, ScopeIDs: []string{"s1", "s2"}})
	}
	for i := range 1000 {
		p := authz.Policy{ID: fmt.Sprintf("p%d", i), Name: fmt.Sprintf("policy %d", i)}
		switch i % 6 {
		case 0:
			p.Type, p.Config = "role", map[string]string{"roles": fmt.Sprintf(`[{"id":"role%d"},{"id":"role%d","required":false}]`, i%40, (i+1)%40)}
		case 1:
			p.Type, p.Config = "user", map[string]string{"users": fmt.Sprintf(`["u%d","u%d"]`, i%3, i%7)}
		case 2:
			p.Type, p.Config = "group", map[string]string{"groups": fmt.Sprintf(`[{"id":"g%d","extendChildren":true}]`, i%30)}
		case 3:
			p.Type, p.Config = "time", map[string]string{"hour": "0", "hourEnd": "23", "nbf": "2020-01-01 00:00:00"}
		case 4:
			p.Type, p.Config = "regex", map[string]string{"targetClaim": "email", "pattern": fmt.Sprintf(`.*@example%d\.com`, i%2)}
		case 5:
			p.Type, p.PolicyIDs, p.DecisionStrategy = "aggregate", []string{fmt.Sprintf("p%d", i-5), fmt.Sprintf("p%d", i-4)}, authz.Affirmative
		}
		if i%11 == 0 {
			p.Logic = authz.Negative
		}
		m.Policies = append(m.Policies, p)
	}
	for i := range 1000 {
		p := authz.Policy{ID: fmt.Sprintf("perm%d", i), Name: fmt.Sprintf("permission %d", i), Type: "resource",
			DecisionStrategy: []string{authz.Unanimous, authz.Affirmative, authz.Consensus}[i%3],
			PolicyIDs:        []string{fmt.Sprintf("p%d", i), fmt.Sprintf("p%d", (i*7)%1000), fmt.Sprintf("p%d", (i*13)%1000)},
			ResourceIDs:      []string{fmt.Sprintf("r%d", i)}, Config: map[string]string{}}
		if i%50 == 0 {
			p.ResourceIDs, p.Config["defaultResourceType"] = nil, fmt.Sprintf("urn:type:%d", i%20)
		}
		m.Policies = append(m.Policies, p)
	}
	for i := range 50 {
		m.Policies = append(m.Policies, authz.Policy{ID: fmt.Sprintf("sperm%d", i), Name: fmt.Sprintf("scope permission %d", i), Type: "scope",
			PolicyIDs: []string{fmt.Sprintf("p%d", i*17)}, ScopeIDs: []string{fmt.Sprintf("s%d", i%10)}, Config: map[string]string{}})
	}
	id := Identity{UserID: "u1", ClientID: "c1",
		RoleIDs:           map[string]bool{},
		GroupIDs:          map[string]bool{"g1": true, "g7": true},
		InheritedGroupIDs: map[string]bool{"g2": true},
		Claims:            map[string]any{"email": "alice@example1.com"},
		Now:               time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)}
	for i := range 20 {
		id.RoleIDs[fmt.Sprintf("role%d", i*2)] = true
	}
	return m, id
}

// BenchmarkEvaluateAll decides every resource of a 1,000-policy, 1,000-resource server for one
// user in one request.
func BenchmarkEvaluateAll(b *testing.B) {
	m, id := bigModel()
	e, err := Compile(m)
	if err != nil {
		b.Fatal(err)
	}
	r := e.Evaluate(id, nil)
	b.ReportMetric(float64(len(r.Permissions)), "granted")
	b.ReportAllocs()
	for b.Loop() {
		e.Evaluate(id, nil)
	}
}

// BenchmarkEvaluateOne decides one resource and one scope of the same server.
func BenchmarkEvaluateOne(b *testing.B) {
	m, id := bigModel()
	e, err := Compile(m)
	if err != nil {
		b.Fatal(err)
	}
	req := []Requested{{ResourceID: "r501", Scopes: []string{"scope1"}}}
	b.ReportAllocs()
	for b.Loop() {
		e.Evaluate(id, req)
	}
}

func BenchmarkCompile(b *testing.B) {
	m, _ := bigModel()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(m); err != nil {
			b.Fatal(err)
		}
	}
}

// The big model's decisions do not depend on evaluation order or on the memo: evaluating each
// resource alone gives what evaluating all of them at once gives.
func TestEvaluateAllMatchesOneByOne(t *testing.T) {
	m, id := bigModel()
	e := mustCompile(t, m)
	all := e.Evaluate(id, nil)
	if len(all.Permissions) == 0 || len(all.Permissions) == len(m.Resources) {
		t.Fatalf("%d of %d granted: the model should grant some and deny some", len(all.Permissions), len(m.Resources))
	}
	byID := map[string][]string{}
	for _, p := range all.Permissions {
		byID[p.ResourceID] = p.Scopes
	}
	for _, r := range m.Resources {
		if r.Owner != server && r.Owner != id.UserID {
			continue
		}
		one := e.Evaluate(id, []Requested{{ResourceID: r.ID}})
		want, ok := byID[r.ID]
		if one.Denied == ok {
			t.Fatalf("%s: alone denied=%v, in all granted=%v", r.ID, one.Denied, ok)
		}
		if ok && fmt.Sprint(one.Permissions[0].Scopes) != fmt.Sprint(want) {
			t.Fatalf("%s: alone %v, in all %v", r.ID, one.Permissions[0].Scopes, want)
		}
	}
}
