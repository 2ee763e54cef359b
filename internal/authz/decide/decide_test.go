package decide

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
)

const server = "rs-client"

// bank is the model of the guide's banking examples: an account resource with view and delete
// scopes, a typed account resource owned by the server, and a few policies.
func bank() authz.Model {
	return authz.Model{
		Server: authz.ResourceServer{ID: server, PolicyEnforcementMode: authz.Enforcing, DecisionStrategy: authz.Unanimous},
		Scopes: []authz.Scope{{ID: "s-view", Name: "view"}, {ID: "s-delete", Name: "delete"}, {ID: "s-transfer", Name: "transfer"}},
		Resources: []authz.Resource{
			{ID: "r-account", Name: "Bank Account", Owner: server, ScopeIDs: []string{"s-view", "s-delete"}},
			{ID: "r-report", Name: "Report", Owner: server},
		},
		Policies: []authz.Policy{
			{ID: "p-user", Name: "user policy", Type: "role", Config: map[string]string{"roles": `[{"id":"role-user","required":false}]`}},
			{ID: "p-admin", Name: "admin policy", Type: "role", Config: map[string]string{"roles": `[{"id":"role-admin","required":false}]`}},
			{ID: "p-alice", Name: "alice", Type: "user", Config: map[string]string{"users": `["u-alice"]`}},
			{ID: "p-always", Name: "always", Type: "aggregate", PolicyIDs: nil},
		},
	}
}

func perm(id, typ string, policies, resources, scopes []string, strategy string) authz.Policy {
	return authz.Policy{ID: id, Name: id, Type: typ, DecisionStrategy: strategy, PolicyIDs: policies, ResourceIDs: resources, ScopeIDs: scopes, Config: map[string]string{}}
}

func asUser(roles ...string) Identity {
	id := Identity{UserID: "u-alice", Username: "alice", RoleIDs: map[string]bool{}, Now: time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)}
	for _, r := range roles {
		id.RoleIDs[r] = true
	}
	return id
}

// granted renders the granted permissions as "resource#scope,scope" sorted, for comparison.
func grants(r Result) []string {
	out := []string{}
	for _, p := range r.Permissions {
		s := slices.Clone(p.Scopes)
		sort.Strings(s)
		out = append(out, p.ResourceName+"#"+strings.Join(s, ","))
	}
	sort.Strings(out)
	return out
}

func mustCompile(t *testing.T, m authz.Model) *Engine {
	t.Helper()
	e, err := Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestDecisionStrategies(t *testing.T) {
	m := bank()
	m.Policies = append(m.Policies,
		authz.Policy{ID: "p-not-admin", Name: "not admin", Type: "role", Logic: authz.Negative, Config: map[string]string{"roles": `[{"id":"role-admin"}]`}},
	)
	cases := []struct {
		name     string
		strategy string
		policies []string
		roles    []string
		want     bool
	}{
		{"unanimous: every policy permits", authz.Unanimous, []string{"p-user", "p-alice"}, []string{"role-user"}, true},
		{"unanimous: one policy denies", authz.Unanimous, []string{"p-user", "p-admin"}, []string{"role-user"}, false},
		{"affirmative: one policy permits", authz.Affirmative, []string{"p-user", "p-admin"}, []string{"role-user"}, true},
		{"affirmative: no policy permits", authz.Affirmative, []string{"p-admin"}, []string{"role-user"}, false},
		{"consensus: two permits against one deny", authz.Consensus, []string{"p-user", "p-alice", "p-admin"}, []string{"role-user"}, true},
		{"consensus: a tie denies", authz.Consensus, []string{"p-user", "p-admin"}, []string{"role-user"}, false},
		{"negative logic permits who lacks the role", authz.Unanimous, []string{"p-not-admin"}, nil, true},
		{"negative logic denies who holds the role", authz.Unanimous, []string{"p-not-admin"}, []string{"role-admin"}, false},
		{"empty strategy is unanimous", "", []string{"p-user", "p-admin"}, []string{"role-user"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := m
			m.Policies = append(slices.Clone(m.Policies), perm("perm", "resource", c.policies, []string{"r-report"}, nil, c.strategy))
			e := mustCompile(t, m)
			r := e.Evaluate(asUser(c.roles...), []Requested{{ResourceID: "r-report"}})
			if got := !r.Denied; got != c.want {
				t.Fatalf("granted = %v, want %v (%v)", got, c.want, grants(r))
			}
		})
	}
}

// The guide's example of a resource permission on a bank account with a scope permission that
// reserves "delete" to administrators: under UNANIMOUS a user keeps "view" only, under
// AFFIRMATIVE the resource permission is enough for both scopes.
func TestResourceServerStrategyOverScopes(t *testing.T) {
	for _, c := range []struct {
		strategy string
		roles    []string
		want     []string
	}{
		{authz.Unanimous, []string{"role-user"}, []string{"Bank Account#view"}},
		{authz.Affirmative, []string{"role-user"}, []string{"Bank Account#delete,view"}},
		{authz.Unanimous, []string{"role-user", "role-admin"}, []string{"Bank Account#delete,view"}},
		{authz.Unanimous, nil, []string{}},
	} {
		t.Run(c.strategy+" "+strings.Join(c.roles, "+"), func(t *testing.T) {
			m := bank()
			m.Server.DecisionStrategy = c.strategy
			m.Policies = append(m.Policies,
				perm("account permission", "resource", []string{"p-user"}, []string{"r-account"}, nil, ""),
				perm("delete permission", "scope", []string{"p-admin"}, []string{"r-account"}, []string{"s-delete"}, ""),
			)
			e := mustCompile(t, m)
			got := grants(e.Evaluate(asUser(c.roles...), []Requested{{ResourceID: "r-account"}}))
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestScopePermissions(t *testing.T) {
	m := bank()
	m.Policies = append(m.Policies,
		perm("view anywhere", "scope", []string{"p-user"}, nil, []string{"s-view"}, ""),
		perm("delete on account", "scope", []string{"p-admin"}, []string{"r-account"}, []string{"s-delete"}, ""),
	)
	e := mustCompile(t, m)
	cases := []struct {
		name  string
		roles []string
		req   []Requested
		want  []string
	}{
		{"scope permission grants its scope only", []string{"role-user"}, []Requested{{ResourceID: "r-account"}}, []string{"Bank Account#view"}},
		{"asking for a denied scope alone is refused", []string{"role-user"}, []Requested{{ResourceID: "r-account", Scopes: []string{"delete"}}}, []string{}},
		{"both scope permissions grant both", []string{"role-user", "role-admin"}, []Requested{{ResourceID: "r-account"}}, []string{"Bank Account#delete,view"}},
		{"a scope asked on any resource", []string{"role-user"}, []Requested{{Scopes: []string{"view"}}}, []string{"#view"}},
		{"an unknown resource is ignored", []string{"role-user"}, []Requested{{ResourceID: "nope"}}, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := grants(e.Evaluate(asUser(c.roles...), c.req))
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestEnforcementModes(t *testing.T) {
	for _, c := range []struct {
		mode string
		want []string
	}{
		// Report has no permission; the account's permission denies a user without roles.
		{authz.Enforcing, []string{}},
		{authz.Permissive, []string{"Report#"}},
		{authz.Disabled, []string{"Bank Account#delete,view", "Report#"}},
	} {
		t.Run(c.mode, func(t *testing.T) {
			m := bank()
			m.Server.PolicyEnforcementMode = c.mode
			m.Policies = append(m.Policies, perm("account permission", "resource", []string{"p-user"}, []string{"r-account"}, nil, ""))
			got := grants(mustCompile(t, m).Evaluate(asUser(), nil))
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

// A permission with no policy applies (so PERMISSIVE does not grant by default) but decides nothing.
func TestPermissionWithoutPoliciesGrantsNothing(t *testing.T) {
	m := bank()
	m.Server.PolicyEnforcementMode = authz.Permissive
	m.Policies = append(m.Policies, perm("empty", "resource", nil, []string{"r-report"}, nil, ""))
	if got := grants(mustCompile(t, m).Evaluate(asUser(), []Requested{{ResourceID: "r-report"}})); len(got) != 0 {
		t.Fatalf("got %v", got)
	}
}

// Resource types: a permission for every resource of a type applies to users' resources of that
// type, which also inherit the scopes of the server's resource of the type.
func TestTypedResources(t *testing.T) {
	m := bank()
	m.Resources = []authz.Resource{
		{ID: "r-type", Name: "Account type", Type: "urn:bank:account", Owner: server, ScopeIDs: []string{"s-view", "s-transfer"}},
		{ID: "r-alice", Name: "Alice Account", Type: "urn:bank:account", Owner: "u-alice"},
		{ID: "r-bob", Name: "Bob Account", Type: "urn:bank:account", Owner: "u-bob", ScopeIDs: []string{"s-view"}},
	}
	typed := perm("any account", "resource", []string{"p-user"}, nil, nil, "")
	typed.Config = map[string]string{"defaultResourceType": "urn:bank:account"}
	m.Policies = append(m.Policies, typed,
		perm("alice only on hers", "resource", []string{"p-alice"}, []string{"r-alice"}, nil, ""),
	)
	e := mustCompile(t, m)

	t.Run("owner's resources are evaluated with the server's", func(t *testing.T) {
		got := grants(e.Evaluate(asUser("role-user"), nil))
		want := []string{"Account type#transfer,view", "Alice Account#transfer,view"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("another user's resource is asked for explicitly", func(t *testing.T) {
		got := grants(e.Evaluate(asUser("role-user"), []Requested{{ResourceID: "r-bob"}}))
		want := []string{"Bob Account#transfer,view"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("a permission on the resource overrides the typed one", func(t *testing.T) {
		// Without role-user the typed permission denies; the permission on Alice's account grants.
		got := grants(e.Evaluate(asUser(), []Requested{{ResourceID: "r-alice"}}))
		want := []string{"Alice Account#transfer,view"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		bob := asUser()
		bob.UserID = "u-bob"
		if got := grants(e.Evaluate(bob, []Requested{{ResourceID: "r-bob"}})); len(got) != 0 {
			t.Fatalf("bob without the role: got %v", got)
		}
	})
	t.Run("permission on the server's typed resource applies to users' resources", func(t *testing.T) {
		m := m
		m.Policies = append(slices.Clone(m.Policies[:4]), perm("type resource", "resource", []string{"p-admin"}, []string{"r-type"}, nil, ""))
		e := mustCompile(t, m)
		if got := grants(e.Evaluate(asUser("role-admin"), []Requested{{ResourceID: "r-bob"}})); !reflect.DeepEqual(got, []string{"Bob Account#transfer,view"}) {
			t.Fatalf("admin: got %v", got)
		}
		if got := grants(e.Evaluate(asUser("role-user"), []Requested{{ResourceID: "r-bob"}})); len(got) != 0 {
			t.Fatalf("user: got %v", got)
		}
	})
}

func TestPolicyTypes(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	base := Identity{
		UserID: "u-alice", ClientID: "c-app",
		RoleIDs:           map[string]bool{"role-user": true, "client-role-reader": true},
		StoredRoleIDs:     map[string]bool{"role-user": true, "role-auditor": true},
		GroupIDs:          map[string]bool{"g-team": true},
		InheritedGroupIDs: map[string]bool{"g-dept": true},
		ClientScopeIDs:    map[string]bool{"cs-profile": true},
		Claims: map[string]any{
			"email":   "alice@example.com",
			"address": map[string]any{"country": "DE", "a.b": "dotted"},
			"tags":    []any{"x", "vip"},
			"groups":  []any{"/dept/team"},
			"names":   []any{"team"},
			"others":  []any{"other", "/department"},
		},
		Group: func(id string) (string, string, bool) {
			switch id {
			case "g-team":
				return "/dept/team", "team", true
			case "g-dept":
				return "/dept", "dept", true
			}
			return "", "", false
		},
		Attributes: map[string][]string{"env": {"prod"}, "doc": {`{"level":{"name":"high"}}`}},
		Now:        time.Date(2026, 3, 10, 8, 30, 0, 0, time.UTC), // 09:30 in Berlin
	}
	cases := []struct {
		name   string
		policy authz.Policy
		edit   func(*Identity)
		want   bool
		// unreadable: settings the engine cannot read deny under either logic.
		unreadable bool
	}{
		{"role: one of the roles", pol("role", "roles", `[{"id":"role-admin"},{"id":"role-user"}]`), nil, true, false},
		{"role: a client role", pol("role", "roles", `[{"id":"client-role-reader"}]`), nil, true, false},
		{"role: missing required role denies", pol("role", "roles", `[{"id":"role-admin","required":true},{"id":"role-user"}]`), nil, false, false},
		{"role: none held", pol("role", "roles", `[{"id":"role-admin"}]`), nil, false, false},
		{"role: fetchRoles reads stored roles", pol("role", "roles", `[{"id":"role-auditor"}]`, "fetchRoles", "true"), nil, true, false},
		{"role: without fetchRoles the token's roles count", pol("role", "roles", `[{"id":"role-auditor"}]`), nil, false, false},
		{"user: listed", pol("user", "users", `["u-bob","u-alice"]`), nil, true, false},
		{"user: not listed", pol("user", "users", `["u-bob"]`), nil, false, false},
		{"client: acting client listed", pol("client", "clients", `["c-app"]`), nil, true, false},
		{"client: other client", pol("client", "clients", `["c-other"]`), nil, false, false},
		{"group: direct member", pol("group", "groups", `[{"id":"g-team"}]`), nil, true, false},
		{"group: parent without extendChildren", pol("group", "groups", `[{"id":"g-dept","extendChildren":false}]`), nil, false, false},
		{"group: parent with extendChildren", pol("group", "groups", `[{"id":"g-dept","extendChildren":true}]`), nil, true, false},
		{"group claim: the group's path", pol("group", "groups", `[{"id":"g-team"}]`, "groupsClaim", "groups"), nil, true, false},
		{"group claim: a child's path without extendChildren", pol("group", "groups", `[{"id":"g-dept"}]`, "groupsClaim", "groups"), nil, false, false},
		{"group claim: a child's path with extendChildren", pol("group", "groups", `[{"id":"g-dept","extendChildren":true}]`, "groupsClaim", "groups"), nil, true, false},
		{"group claim: the group's name", pol("group", "groups", `[{"id":"g-team"}]`, "groupsClaim", "names"), nil, true, false},
		{"group claim: a path that only starts alike", pol("group", "groups", `[{"id":"g-dept","extendChildren":true}]`, "groupsClaim", "others"), nil, false, false},
		{"group claim: stored membership does not count", pol("group", "groups", `[{"id":"g-team"}]`, "groupsClaim", "others"), nil, false, false},
		{"group claim: missing claim", pol("group", "groups", `[{"id":"g-team"}]`, "groupsClaim", "nothing"), nil, false, false},
		{"group claim: unknown group", pol("group", "groups", `[{"id":"g-gone"}]`, "groupsClaim", "groups"), nil, false, false},
		{"client-scope: held", pol("client-scope", "clientScopes", `[{"id":"cs-profile"}]`), nil, true, false},
		{"client-scope: required missing", pol("client-scope", "clientScopes", `[{"id":"cs-profile"},{"id":"cs-email","required":true}]`), nil, false, false},
		{"time: within nbf and noa", pol("time", "nbf", "2026-01-01 00:00:00", "noa", "2026-12-31"), nil, true, false},
		{"time: before nbf", pol("time", "nbf", "2026-03-11"), nil, false, false},
		{"time: after noa", pol("time", "noa", "2026-03-09 23:59:59"), nil, false, false},
		{"time: nbf read in UTC", pol("time", "nbf", "2026-03-10 09:00:00"), nil, false, false},
		{"time: nbf read in the server's zone", pol("time", "nbf", "2026-03-10 09:00:00"), func(id *Identity) { id.Now = id.Now.In(berlin) }, true, false},
		{"time: hour range in UTC", pol("time", "hour", "8", "hourEnd", "8"), nil, true, false},
		{"time: hour range in the server's zone", pol("time", "hour", "8", "hourEnd", "8"), func(id *Identity) { id.Now = id.Now.In(berlin) }, false, false},
		{"time: month and day", pol("time", "month", "3", "dayMonth", "1", "dayMonthEnd", "15"), nil, true, false},
		{"time: year", pol("time", "year", "2025"), nil, false, false},
		{"time: context date overrides now", pol("time", "minute", "0", "minuteEnd", "5"), func(id *Identity) {
			id.Attributes = map[string][]string{"kc.time.date_time": {"2026-03-10 10:03:00"}}
		}, true, false},
		{"regex: whole claim value", pol("regex", "targetClaim", "email", "pattern", `.*@example\.com`), nil, true, false},
		{"regex: partial match is not enough", pol("regex", "targetClaim", "email", "pattern", `example`), nil, false, false},
		{"regex: nested claim", pol("regex", "targetClaim", "address.country", "pattern", "DE|FR"), nil, true, false},
		{"regex: escaped dot", pol("regex", "targetClaim", `address.a\.b`, "pattern", "dotted"), nil, true, false},
		{"regex: any value of a list", pol("regex", "targetClaim", "tags", "pattern", "vip"), nil, true, false},
		{"regex: missing claim", pol("regex", "targetClaim", "phone", "pattern", ".*"), nil, false, false},
		{"regex: context attribute", pol("regex", "targetClaim", "env", "pattern", "prod", "targetContextAttributes", "true"), nil, true, false},
		{"regex: path into a context attribute", pol("regex", "targetClaim", "doc.level.name", "pattern", "high", "targetContextAttributes", "true"), nil, true, false},
		{"js: the default grant grants", pol("js", "code", "$evaluation.grant();"), nil, true, false},
		{"js: any other script is never evaluated", pol("js", "code", "if (true) $evaluation.grant();"), nil, false, true},
		{"role: malformed roles", pol("role", "roles", `{not json`), nil, false, true},
		{"user: malformed users", pol("user", "users", `"u-alice"`), nil, false, true},
		{"group: malformed groups", pol("group", "groups", `[{"id":1}]`), nil, false, true},
		{"client-scope: malformed client scopes", pol("client-scope", "clientScopes", `[`), nil, false, true},
		// The bound is in the past, so a readable one would deny and NEGATIVE would grant.
		{"time: a bound without seconds", pol("time", "nbf", "2020-01-01 10:00"), nil, false, true},
		{"time: a bound that is no date", pol("time", "noa", "tomorrow"), nil, false, true},
		{"time: a range that is no number", pol("time", "hour", "8am"), nil, false, true},
		{"time: a range end that is no number", pol("time", "minute", "0", "minuteEnd", "half"), nil, false, true},
		{"regex: a bad pattern", pol("regex", "targetClaim", "email", "pattern", "(["), nil, false, true},
		{"regex: no claim", pol("regex", "pattern", ".*"), nil, false, true},
		{"aggregate: an associated policy that does not exist", authz.Policy{Type: "aggregate", PolicyIDs: []string{"p-gone"}}, nil, false, true},
		{"aggregate: one associated policy missing beside one that grants", authz.Policy{Type: "aggregate", DecisionStrategy: authz.Affirmative,
			PolicyIDs: []string{"p-gone", "p-alice"}}, nil, false, true},
		{"unknown type", pol("javascript-ish"), nil, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := bank()
			c.policy.ID, c.policy.Name = "p-under-test", "under test"
			m.Policies = append(m.Policies, c.policy, perm("perm", "resource", []string{"p-under-test"}, []string{"r-report"}, nil, ""))
			e := mustCompile(t, m)
			id := base
			if c.edit != nil {
				c.edit(&id)
			}
			if got := !e.Evaluate(id, []Requested{{ResourceID: "r-report"}}).Denied; got != c.want {
				t.Fatalf("granted = %v, want %v", got, c.want)
			}
			// NEGATIVE logic inverts every outcome, including "no effect", but not a policy
			// the engine cannot read: that one denies before its logic is applied.
			c.policy.Logic = authz.Negative
			m.Policies[len(m.Policies)-2] = c.policy
			e = mustCompile(t, m)
			want := !c.want
			if c.unreadable {
				want = false
			}
			r := e.Explain(id, []Requested{{ResourceID: "r-report"}})
			if got := !r.Denied; got != want {
				t.Fatalf("negative: granted = %v, want %v", got, want)
			}
			if got := !e.Evaluate(id, []Requested{{ResourceID: "r-report"}}).Denied; got != want {
				t.Fatalf("negative, evaluate: granted = %v, want %v", got, want)
			}
			// The evaluation tool reports the effect the decision used.
			wantEffect := effectName(want)
			if len(r.Policies) != 1 || len(r.Policies[0].Associated) != 1 || r.Policies[0].Associated[0].Effect != wantEffect {
				t.Fatalf("negative, explained: %+v, want the policy's effect %s", r.Policies, wantEffect)
			}
		})
	}
}

func pol(typ string, kv ...string) authz.Policy {
	p := authz.Policy{Type: typ, Config: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Config[kv[i]] = kv[i+1]
	}
	return p
}

func TestAggregates(t *testing.T) {
	cases := []struct {
		name     string
		strategy string
		members  []string
		want     bool
	}{
		{"unanimous aggregate", authz.Unanimous, []string{"p-user", "p-alice"}, true},
		{"unanimous aggregate with a deny", authz.Unanimous, []string{"p-user", "p-admin"}, false},
		{"affirmative aggregate", authz.Affirmative, []string{"p-admin", "p-alice"}, true},
		{"consensus aggregate", authz.Consensus, []string{"p-admin", "p-alice", "p-user"}, true},
		{"aggregate of an aggregate", authz.Unanimous, []string{"inner"}, true},
		{"empty aggregate denies", authz.Unanimous, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := bank()
			inner := authz.Policy{ID: "inner", Name: "inner", Type: "aggregate", DecisionStrategy: authz.Affirmative, PolicyIDs: []string{"p-admin", "p-user"}}
			agg := authz.Policy{ID: "agg", Name: "agg", Type: "aggregate", DecisionStrategy: c.strategy, PolicyIDs: c.members}
			m.Policies = append(m.Policies, inner, agg, perm("perm", "resource", []string{"agg"}, []string{"r-report"}, nil, ""))
			e := mustCompile(t, m)
			if got := !e.Evaluate(asUser("role-user"), []Requested{{ResourceID: "r-report"}}).Denied; got != c.want {
				t.Fatalf("granted = %v, want %v", got, c.want)
			}
		})
	}
}

// A permission naming an associated policy that does not exist cannot be read: it denies
// (and is reported as denying), whatever its strategy or the other policies say.
func TestPermissionWithMissingPolicyDenies(t *testing.T) {
	for _, strategy := range []string{authz.Unanimous, authz.Affirmative, authz.Consensus} {
		t.Run(strategy, func(t *testing.T) {
			m := bank()
			m.Server.PolicyEnforcementMode = authz.Permissive
			m.Policies = append(m.Policies, perm("perm", "resource", []string{"p-gone", "p-alice"}, []string{"r-report"}, nil, strategy))
			e := mustCompile(t, m)
			r := e.Explain(asUser(), []Requested{{ResourceID: "r-report"}})
			if !r.Denied {
				t.Fatalf("granted %v", grants(r))
			}
			if len(r.Policies) != 1 || r.Policies[0].PolicyID != "perm" || r.Policies[0].Effect != Deny {
				t.Fatalf("explained %+v", r.Policies)
			}
		})
	}
}

func TestCycleIsRefused(t *testing.T) {
	m := bank()
	m.Policies = append(m.Policies,
		authz.Policy{ID: "a", Name: "a", Type: "aggregate", PolicyIDs: []string{"b"}},
		authz.Policy{ID: "b", Name: "b", Type: "aggregate", PolicyIDs: []string{"a"}},
	)
	if _, err := Compile(m); err == nil {
		t.Fatal("a cycle of aggregates compiled")
	}
}

// A user-managed permission on a resource with owner-managed access grants its scopes to the
// requester, and never refuses the owner.
func TestUserManagedPermission(t *testing.T) {
	m := bank()
	m.Resources = append(m.Resources, authz.Resource{ID: "r-photo", Name: "Photo", Owner: "u-bob", OwnerManagedAccess: true, ScopeIDs: []string{"s-view", "s-delete"}})
	m.Policies = append(m.Policies, perm("uma", "uma", []string{"p-alice"}, []string{"r-photo"}, []string{"s-view"}, ""))
	e := mustCompile(t, m)
	if got := grants(e.Evaluate(asUser(), []Requested{{ResourceID: "r-photo"}})); !reflect.DeepEqual(got, []string{"Photo#view"}) {
		t.Fatalf("alice: got %v", got)
	}
	carol := asUser()
	carol.UserID = "u-carol"
	if got := grants(e.Evaluate(carol, []Requested{{ResourceID: "r-photo"}})); len(got) != 0 {
		t.Fatalf("carol: got %v", got)
	}
	bob := asUser()
	bob.UserID = "u-bob"
	if got := grants(e.Evaluate(bob, []Requested{{ResourceID: "r-photo"}})); !reflect.DeepEqual(got, []string{"Photo#view"}) {
		t.Fatalf("the owner: got %v", got)
	}
	// Shared without scopes: the whole resource.
	m.Policies = append(m.Policies, perm("uma whole", "uma", []string{"p-carol"}, []string{"r-photo"}, nil, ""),
		authz.Policy{ID: "p-carol", Name: "carol", Type: "user", Config: map[string]string{"users": `["u-carol"]`}})
	e = mustCompile(t, m)
	if got := grants(e.Evaluate(carol, []Requested{{ResourceID: "r-photo"}})); !reflect.DeepEqual(got, []string{"Photo#delete,view"}) {
		t.Fatalf("carol with the whole resource: got %v", got)
	}
	if got := grants(e.Evaluate(asUser(), []Requested{{ResourceID: "r-photo"}})); !reflect.DeepEqual(got, []string{"Photo#view"}) {
		t.Fatalf("alice beside carol: got %v", got)
	}
}

func TestExplain(t *testing.T) {
	m := bank()
	m.Policies = append(m.Policies,
		perm("account permission", "resource", []string{"p-user", "p-admin"}, []string{"r-account"}, nil, authz.Affirmative),
		perm("delete permission", "scope", []string{"p-admin"}, []string{"r-account"}, []string{"s-delete"}, ""),
	)
	e := mustCompile(t, m)
	r := e.Explain(asUser("role-user"), []Requested{{ResourceID: "r-account"}, {ResourceID: "r-report"}})
	if len(r.Resources) != 1 {
		t.Fatalf("resources %+v: only the account has permissions", r.Resources)
	}
	rr := r.Resources[0]
	if rr.ResourceID != "r-account" || rr.Effect != Permit || !reflect.DeepEqual(rr.ScopeIDs, []string{"s-view"}) {
		t.Fatalf("resource result %+v", rr)
	}
	want := []PolicyResult{
		{PolicyID: "delete permission", Effect: Deny, Associated: []PolicyResult{{PolicyID: "p-admin", Effect: Deny}}},
		{PolicyID: "account permission", Effect: Permit, Associated: []PolicyResult{{PolicyID: "p-user", Effect: Permit}, {PolicyID: "p-admin", Effect: Deny}}},
	}
	if !reflect.DeepEqual(rr.Policies, want) {
		t.Fatalf("policies\n got %+v\nwant %+v", rr.Policies, want)
	}
	if len(r.Policies) != 2 {
		t.Fatalf("flat policies %+v", r.Policies)
	}
	// Evaluate gives the same decision without the explanation.
	if got := e.Evaluate(asUser("role-user"), []Requested{{ResourceID: "r-account"}}); got.Resources != nil || !reflect.DeepEqual(grants(got), []string{"Bank Account#view"}) {
		t.Fatalf("evaluate %+v", got)
	}
}

// The default resource server: the Default Permission on the default resource type applies the
// Default Policy, a script whose code is the built-in grant. It grants (NEGATIVE inverts it as
// any policy); any other script denies whatever its logic.
func TestDefaultGrantScript(t *testing.T) {
	for _, c := range []struct {
		name, code, logic string
		want              []string
	}{
		{"default grant", authz.DefaultGrantScript, authz.Positive, []string{"Default Resource#"}},
		{"default grant, negative", authz.DefaultGrantScript, authz.Negative, []string{}},
		{"another script", "$evaluation.deny();", authz.Positive, []string{}},
		{"another script, negative", "$evaluation.deny();", authz.Negative, []string{}},
	} {
		r, p, pm := authz.Defaults(server, "rs")
		r.ID, p.ID, pm.ID = "r-default", "p-default", "perm-default"
		p.Config["code"], p.Logic = c.code, c.logic
		pm.PolicyIDs = []string{p.ID}
		m := authz.Model{Server: authz.DefaultServer("realm", server), Resources: []authz.Resource{r}, Policies: []authz.Policy{p, pm}}
		got := grants(mustCompile(t, m).Evaluate(asUser(), nil))
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: granted %v, want %v", c.name, got, c.want)
		}
	}
}
