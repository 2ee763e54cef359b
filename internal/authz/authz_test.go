package authz

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// dir is a realm of a few named objects, for conversions without a store.
type dir map[string]map[string]string // kind → id → name

func (d dir) Lookup(kind, ref string) (string, bool) {
	for id, name := range d[kind] {
		if id == ref || name == ref {
			return id, true
		}
	}
	return "", false
}

func (d dir) Name(kind, id string) (string, bool) {
	n, ok := d[kind][id]
	return n, ok
}

var realmDir = dir{
	"role":         {"r1": "reader", "r2": "shop/admin"},
	"user":         {"u1": "alice"},
	"group":        {"g1": "/staff/eu"},
	"client":       {"c1": "shop", "rs": "api"},
	"client-scope": {"s1": "profile"},
}

func TestDropReference(t *testing.T) {
	for _, c := range []struct {
		name, in, id, want string
		changed            bool
	}{
		{"a plain id among others", `["a","b"]`, "a", `["b"]`, true},
		{"the last id", `["a"]`, "a", ``, true},
		{"an object entry keeps its fields", `[{"id":"a","required":true},{"id":"b","required":true}]`, "a", `[{"id":"b","required":true}]`, true},
		{"an id not there", `["a"]`, "z", `["a"]`, false},
	} {
		got, changed, err := DropReference(c.in, c.id)
		if err != nil || got != c.want || changed != c.changed {
			t.Errorf("%s: %q %v %v, want %q %v", c.name, got, changed, err, c.want, c.changed)
		}
	}
	if _, _, err := DropReference("not json", "a"); err == nil {
		t.Error("a value that is no list was read")
	}
}

func TestPolicyFromInput(t *testing.T) {
	ix := &Index{ServerID: "rs",
		Resources: []Resource{{ID: "res1", Name: "Doc", Owner: "rs"}},
		Scopes:    []Scope{{ID: "sc1", Name: "read"}},
		Policies:  []Policy{{ID: "p1", Name: "readers"}},
	}
	decode := func(s string) PolicyInput {
		in, err := DecodePolicy([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	for _, c := range []struct {
		name, body string
		check      func(p Policy) bool
		err        string
	}{
		{"typed role policy by names", `{"name":"p","type":"role","roles":[{"id":"reader"},{"id":"shop/admin","required":true}],"fetchRoles":true}`,
			func(p Policy) bool {
				return p.Config["roles"] == `[{"id":"r1","required":false},{"id":"r2","required":true}]` && p.Config["fetchRoles"] == "true" &&
					p.Logic == Positive && p.DecisionStrategy == Unanimous
			}, ""},
		{"generic user policy by username", `{"name":"p","type":"user","config":{"users":"[\"alice\"]"}}`,
			func(p Policy) bool { return p.Config["users"] == `["u1"]` }, ""},
		{"group by path", `{"name":"p","type":"group","groups":[{"path":"/staff/eu","extendChildren":true}]}`,
			func(p Policy) bool { return p.Config["groups"] == `[{"id":"g1","extendChildren":true}]` }, ""},
		{"time fields to their stored keys", `{"name":"p","type":"time","notBefore":"2030-01-01 00:00:00","hour":9,"hourEnd":"17"}`,
			func(p Policy) bool {
				return p.Config["nbf"] == "2030-01-01 00:00:00" && p.Config["hour"] == "9" && p.Config["hourEnd"] == "17"
			}, ""},
		{"permission from an export's config", `{"name":"p","type":"scope","config":{"resources":"[\"Doc\"]","scopes":"[\"read\"]","applyPolicies":"[\"readers\"]"}}`,
			func(p Policy) bool {
				return slices.Equal(p.ResourceIDs, []string{"res1"}) && slices.Equal(p.ScopeIDs, []string{"sc1"}) && slices.Equal(p.PolicyIDs, []string{"p1"}) &&
					len(p.Config) == 0
			}, ""},
		{"resource type", `{"name":"p","type":"resource","resourceType":"urn:x","policies":["p1"]}`,
			func(p Policy) bool { return p.Config["defaultResourceType"] == "urn:x" }, ""},
		{"a script", `{"name":"p","type":"js","code":"x"}`, nil, "Script upload is disabled"},
		{"an unknown role", `{"name":"p","type":"role","roles":[{"id":"writer"}]}`, nil, "Error while updating policy [p]. Role [writer] could not be found."},
		{"no name", `{"type":"user","users":["alice"]}`, nil, "Policy name is required"},
		{"a bad logic", `{"name":"p","type":"user","users":["alice"],"logic":"MAYBE"}`, nil, "Invalid logic [MAYBE]"},
		{"no users", `{"name":"p","type":"user","users":[]}`, nil, "You must provide at least one user"},
		{"an unknown type", `{"name":"p","type":"mood"}`, nil, "Policy provider for [mood] not found"},
	} {
		p, err := PolicyFromInput(decode(c.body), ix, realmDir)
		var ae *Error
		switch {
		case c.err != "":
			if !errors.As(err, &ae) || ae.Msg != c.err {
				t.Errorf("%s: %v, want %q", c.name, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case !c.check(p):
			t.Errorf("%s: %+v", c.name, p)
		}
	}
}

// An export names what a policy refers to; reading the export back gives
// the same policy.
func TestExportPolicyRoundTrip(t *testing.T) {
	ix := &Index{ServerID: "rs", Resources: []Resource{{ID: "res1", Name: "Doc", Owner: "rs"}}, Scopes: []Scope{{ID: "sc1", Name: "read"}},
		Policies: []Policy{{ID: "p1", Name: "readers", Type: "role", Logic: Positive, DecisionStrategy: Unanimous,
			Config: map[string]string{"roles": `[{"id":"r2","required":true}]`}}}}
	perm := Policy{ID: "p2", ServerID: "rs", Name: "read docs", Type: "scope", Logic: Negative, DecisionStrategy: Affirmative,
		Config: map[string]string{}, ResourceIDs: []string{"res1"}, ScopeIDs: []string{"sc1"}, PolicyIDs: []string{"p1"}}
	for _, p := range []Policy{ix.Policies[0], perm} {
		x := ExportPolicy(p, ix, realmDir)
		b, _ := json.Marshal(x)
		in, err := DecodePolicy(b)
		if err != nil {
			t.Fatal(err)
		}
		in.ID = ""
		back, err := PolicyFromInput(in, ix, realmDir)
		if err != nil {
			t.Fatalf("%s: %v (%s)", p.Name, err, b)
		}
		back.ID = p.ID
		if back.Name != p.Name || back.Logic != p.Logic || back.DecisionStrategy != p.DecisionStrategy ||
			!slices.Equal(back.ResourceIDs, p.ResourceIDs) && len(p.ResourceIDs) > 0 || !slices.Equal(back.PolicyIDs, p.PolicyIDs) && len(p.PolicyIDs) > 0 ||
			back.Config["roles"] != p.Config["roles"] {
			t.Errorf("%s: through export %s came back %+v", p.Name, b, back)
		}
	}
	if x := ExportPolicy(ix.Policies[0], ix, realmDir); x.Config["roles"] != `[{"id":"shop/admin","required":true}]` {
		t.Errorf("exported role policy: %v", x.Config)
	}
}

func TestResourceRepReading(t *testing.T) {
	var r ResourceRep
	if err := json.Unmarshal([]byte(`{"name":"a","uri":"/a","owner":"u1","resource_scopes":[{"name":"read"}],"attributes":{"k":"v"}}`), &r); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.URIs, []string{"/a"}) || r.Owner == nil || r.Owner.ID != "u1" || len(r.Scopes) != 1 || !slices.Equal(r.Attributes["k"], []string{"v"}) {
		t.Errorf("older and protection API forms: %+v", r)
	}
	res, _, err := ResourceFromRep(ResourceRep{Name: "a", Owner: &OwnerRep{Name: "api"}}, "rs", realmDir)
	if err != nil || res.Owner != "rs" {
		t.Errorf("owned by the server's clientId: %+v %v", res, err)
	}
	if _, _, err := ResourceFromRep(ResourceRep{Name: "a", Owner: &OwnerRep{ID: "mallory"}}, "rs", realmDir); !errors.Is(err, ErrOwner) {
		t.Errorf("an owner who is nobody: %v", err)
	}
}
