package clientpolicy

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
)

func set(execs []Executor, conds ...Condition) Set {
	if conds == nil {
		conds = []Condition{{Condition: CondAnyClient}}
	}
	return Set{
		Profiles: Profiles{Profiles: []Profile{{Name: "p", Executors: execs}}},
		Policies: Policies{Policies: []Policy{{Name: "x", Enabled: true, Conditions: conds, Profiles: []string{"p"}}}},
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		pr   Profiles
		po   Policies
		want string
	}{
		{"an executor Gatehouse does not run", Profiles{Profiles: []Profile{{Name: "a", Executors: []Executor{{Executor: "holder-of-key-enforcer"}}}}}, Policies{}, "executor not supported: holder-of-key-enforcer"},
		{"two profiles of one name", Profiles{Profiles: []Profile{{Name: "a"}, {Name: "a"}}}, Policies{}, "duplicated profile name: a"},
		{"a profile without a name", Profiles{Profiles: []Profile{{Name: " "}}}, Policies{}, "profile name is missing"},
		{"a policy naming a missing profile", Profiles{}, Policies{Policies: []Policy{{Name: "x", Profiles: []string{"gone"}}}}, "profile not found: gone"},
		{"a condition Gatehouse does not evaluate", Profiles{}, Policies{Policies: []Policy{{Name: "x", Conditions: []Condition{{Condition: "client-roles"}}}}}, "condition not supported: client-roles"},
		{"valid", Profiles{Profiles: []Profile{{Name: "a", Executors: []Executor{{Executor: ExecPKCE}}}}}, Policies{Policies: []Policy{{Name: "x", Profiles: []string{"a"}}}}, ""},
	} {
		err := ValidateProfiles(c.pr)
		if err == nil {
			err = ValidatePolicies(c.po, c.pr)
		}
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestOnSave(t *testing.T) {
	auto := map[string]any{"auto-configure": "true"}
	conf := client.Client{ClientID: "c", FullScopeAllowed: true, ClientAuthenticatorType: "client-secret", RedirectURIs: []string{"https://a.example/cb"}}
	for _, c := range []struct {
		name  string
		s     Set
		in    client.Client
		check func(client.Client) bool
		err   string
	}{
		{"full scope turned off by auto-configure", set([]Executor{{Executor: ExecFullScopeDisabled, Configuration: auto}}), conf,
			func(c client.Client) bool { return !c.FullScopeAllowed }, ""},
		{"full scope refused without auto-configure", set([]Executor{{Executor: ExecFullScopeDisabled}}), conf, nil, "Full scope is not allowed for this client"},
		{"consent turned on", set([]Executor{{Executor: ExecConsentRequired, Configuration: auto}}), conf,
			func(c client.Client) bool { return c.ConsentRequired }, ""},
		{"pkce configured", set([]Executor{{Executor: ExecPKCE, Configuration: auto}}), conf,
			func(c client.Client) bool { return c.Attributes["pkce.code.challenge.method"] == "S256" }, ""},
		{"http redirect refused", set([]Executor{{Executor: ExecSecureRedirectURIs}}),
			client.Client{RedirectURIs: []string{"http://a.example/cb"}}, nil, "Invalid client metadata: redirect_uris http://a.example/cb"},
		{"http redirect allowed by config", set([]Executor{{Executor: ExecSecureRedirectURIs, Configuration: map[string]any{"allow-http-scheme": true}}}),
			client.Client{RedirectURIs: []string{"http://a.example/cb"}}, func(client.Client) bool { return true }, ""},
		{"authenticator not allowed", set([]Executor{{Executor: ExecClientAuthenticator, Configuration: map[string]any{"allowed-client-authenticators": []any{"client-jwt"}}}}),
			conf, nil, "Invalid client metadata: token_endpoint_auth_method"},
		{"a public client does not match confidential access type",
			set([]Executor{{Executor: ExecFullScopeDisabled}}, Condition{Condition: CondAccessType, Configuration: map[string]any{"type": []any{"confidential"}}}),
			client.Client{PublicClient: true, FullScopeAllowed: true}, func(c client.Client) bool { return c.FullScopeAllowed }, ""},
	} {
		got := c.in
		err := c.s.OnSave(&got)
		var pe *Error
		switch {
		case c.err != "" && (!errors.As(err, &pe) || pe.Description != c.err):
			t.Errorf("%s: %v, want %q", c.name, err, c.err)
		case c.err == "" && (err != nil || !c.check(got)):
			t.Errorf("%s: %v %+v", c.name, err, got)
		}
	}
}

func TestOnAuthenticateAndRotation(t *testing.T) {
	s := set([]Executor{{Executor: ExecConfidentialClient}, {Executor: ExecSecretRotation, Configuration: map[string]any{"rotated-expiration-period": float64(600)}}})
	if err := s.OnAuthenticate(client.Client{PublicClient: true}); err == nil {
		t.Error("public client passed confidential-client")
	}
	if err := s.OnAuthenticate(client.Client{}); err != nil {
		t.Errorf("confidential client: %v", err)
	}
	if got := s.RotatedSecretLife(client.Client{}); got != 10*time.Minute {
		t.Errorf("rotated life %v", got)
	}
	off := s
	off.Policies.Policies = []Policy{{Name: "x", Enabled: false, Conditions: []Condition{{Condition: CondAnyClient}}, Profiles: []string{"p"}}}
	if off.RotatedSecretLife(client.Client{}) != 0 || off.OnAuthenticate(client.Client{PublicClient: true}) != nil {
		t.Error("a disabled policy applied")
	}
}
