package authz

import (
	"errors"
	"testing"
)

func TestIsDefaultGrantScript(t *testing.T) {
	for _, c := range []struct {
		code string
		want bool
	}{
		{DefaultGrantScript, true},
		{"$evaluation.grant();", true},
		{"  \n$evaluation.grant();\n\n", true},
		{"// by default, grants any permission associated with this policy\r\n  $evaluation.grant();  ", true},
		{"", false},
		{"$evaluation.deny();", false},
		{"$evaluation.grant();\n$evaluation.grant();", false},
		{"// another comment\n$evaluation.grant();", false},
		{"$evaluation.grant(); // and more", false},
		{"if ($evaluation.getContext().getIdentity().hasRealmRole('admin')) $evaluation.grant();", false},
	} {
		if got := IsDefaultGrantScript(c.code); got != c.want {
			t.Errorf("IsDefaultGrantScript(%q) = %v, want %v", c.code, got, c.want)
		}
	}
}

// A JavaScript policy is accepted only with the default grant as its code,
// kept exactly as given; any other script is refused.
func TestScriptPolicyFromInput(t *testing.T) {
	ix := &Index{ServerID: "rs"}
	in, err := DecodePolicy([]byte(`{"name":"Default Policy","type":"js","logic":"POSITIVE","decisionStrategy":"AFFIRMATIVE",` +
		`"config":{"code":"// by default, grants any permission associated with this policy\n$evaluation.grant();\n"}}`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := PolicyFromInput(in, ix, dir{})
	if err != nil {
		t.Fatalf("default grant refused: %v", err)
	}
	if p.Config["code"] != DefaultGrantScript || !IsDefaultGrant(p) {
		t.Errorf("code not kept: %q", p.Config["code"])
	}
	if err := ValidatePolicy(p); err != nil {
		t.Errorf("validate default grant: %v", err)
	}
	typed, _ := DecodePolicy([]byte(`{"name":"p","type":"js","code":"$evaluation.grant();"}`))
	if p, err := PolicyFromInput(typed, ix, dir{}); err != nil || p.Config["code"] != "$evaluation.grant();" {
		t.Errorf("typed default grant: %+v %v", p, err)
	}
	for _, body := range []string{
		`{"name":"p","type":"js","config":{"code":"$evaluation.deny();"}}`,
		`{"name":"p","type":"js","code":"$evaluation.grant(); $evaluation.deny();"}`,
		`{"name":"p","type":"js"}`,
	} {
		in, _ := DecodePolicy([]byte(body))
		if _, err := PolicyFromInput(in, ix, dir{}); !errors.Is(err, ErrScript) {
			t.Errorf("%s: %v, want %v", body, err, ErrScript)
		}
	}
	if err := ValidatePolicy(Policy{Name: "p", Type: "js", Logic: Positive, DecisionStrategy: Unanimous, Config: map[string]string{"code": "x"}}); !errors.Is(err, ErrScript) {
		t.Errorf("validate other script: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	r, p, perm := Defaults("id-1", "photoz")
	if r.Name != "Default Resource" || r.Type != "urn:photoz:resources:default" || len(r.URIs) != 1 || r.URIs[0] != "/*" || r.Owner != "id-1" {
		t.Errorf("resource %+v", r)
	}
	if p.Type != "js" || !IsDefaultGrant(p) || p.DecisionStrategy != Affirmative || p.Logic != Positive || ValidatePolicy(p) != nil {
		t.Errorf("policy %+v", p)
	}
	if perm.Type != "resource" || perm.Config["defaultResourceType"] != r.Type || perm.DecisionStrategy != Unanimous ||
		perm.Description != "A permission that applies to the default resource type" {
		t.Errorf("permission %+v", perm)
	}
}
