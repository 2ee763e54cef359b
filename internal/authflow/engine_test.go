package authflow

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// scripted is a test authenticator that decides what its id says.
type scripted struct {
	decide func(c *Context)
	user   bool
}

func (s scripted) Authenticate(c *Context) error { s.decide(c); return nil }
func (s scripted) Action(c *Context) error {
	if c.Form.Get("ok") == "yes" {
		c.SetUser(user.User{ID: "u1", Username: "pat", Enabled: true})
		c.Success()
		return nil
	}
	c.Failure(&Error{Event: "invalid_user_credentials"}, &Page{Template: "again"})
	return nil
}
func (s scripted) RequiresUser() bool                              { return s.user }
func (s scripted) ConfiguredFor(*Context, user.User) (bool, error) { return true, nil }
func (s scripted) SetRequiredActions(*Context, user.User) error    { return nil }

type fixedCondition struct {
	condition
	match bool
}

func (fixedCondition) RequiresUser() bool             { return false }
func (f fixedCondition) Match(*Context) (bool, error) { return f.match, nil }

func init() {
	for _, id := range []string{"test-identify", "test-ok", "test-attempted", "test-page", "test-fail", "test-needs-user", "test-cond-true", "test-cond-false"} {
		flow.Runnable[id] = true
	}
	Register("test-identify", scripted{decide: func(c *Context) {
		c.SetUser(user.User{ID: "u1", Username: "pat", Enabled: true})
		c.Success()
	}})
	Register("test-ok", scripted{decide: func(c *Context) { c.Success() }})
	Register("test-attempted", scripted{decide: func(c *Context) { c.Attempted() }})
	Register("test-page", scripted{decide: func(c *Context) { c.Challenge(Page{Template: c.Execution.ID}) }})
	Register("test-fail", scripted{decide: func(c *Context) { c.Failure(&Error{Event: "boom"}, nil) }})
	Register("test-needs-user", scripted{user: true, decide: func(c *Context) { c.Success() }})
	Register("test-cond-true", fixedCondition{match: true})
	Register("test-cond-false", fixedCondition{match: false})
}

func ex(id, auth, req string) flow.Execution {
	return flow.Execution{ID: id, Authenticator: auth, Requirement: req}
}

func subflow(id, alias, req string) flow.Execution {
	return flow.Execution{ID: id, AuthenticatorFlow: true, FlowAlias: alias, Requirement: req}
}

func runFlow(t *testing.T, model flow.Config, form map[string]string, action string, st *State) Outcome {
	t.Helper()
	top, _ := model.FlowByAlias("top")
	if st.FlowID == "" {
		*st = NewState(top)
	}
	c := &Context{Context: context.Background(), Now: time.Unix(1e9, 0), Model: model, State: st, Req: Request{RequestedLoA: NoLoA}}
	c.Form = map[string][]string{}
	for k, v := range form {
		c.Form.Set(k, v)
	}
	out, err := Action(c, action)
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	return out
}

func TestRequirements(t *testing.T) {
	top := func(execs ...flow.Execution) flow.Flow {
		for i := range execs {
			execs[i].Priority = 10 * (i + 1)
		}
		return flow.Flow{ID: "top", Alias: "top", ProviderID: flow.BasicFlow, TopLevel: true, Executions: execs}
	}
	sub := func(alias string, execs ...flow.Execution) flow.Flow {
		return flow.Flow{ID: alias, Alias: alias, ProviderID: flow.BasicFlow, Executions: execs}
	}
	cases := []struct {
		name  string
		flows []flow.Flow
		// want: "done", "page:<execution id>", "fail:<event>"
		want string
	}{
		{"all required succeed", []flow.Flow{top(ex("a", "test-identify", flow.Required), ex("b", "test-ok", flow.Required))}, "done"},
		{"a required page stops the walk", []flow.Flow{top(ex("a", "test-identify", flow.Required), ex("b", "test-page", flow.Required))}, "page:b"},
		{"a required failure fails the login", []flow.Flow{top(ex("a", "test-identify", flow.Required), ex("b", "test-fail", flow.Required))}, "fail:boom"},
		{"disabled executions are not run", []flow.Flow{top(ex("a", "test-identify", flow.Required), ex("b", "test-fail", flow.Disabled))}, "done"},
		{"first alternative to succeed ends the level", []flow.Flow{top(ex("a", "test-identify", flow.Alternative), ex("b", "test-fail", flow.Alternative))}, "done"},
		{"attempted alternative goes on to the next", []flow.Flow{top(ex("a", "test-attempted", flow.Alternative), ex("b", "test-page", flow.Alternative))}, "page:b"},
		{"failed alternative goes on to the next", []flow.Flow{top(ex("a", "test-fail", flow.Alternative), ex("b", "test-identify", flow.Alternative))}, "done"},
		{"all alternatives failing fails with the first error", []flow.Flow{top(ex("a", "test-fail", flow.Alternative), ex("b", "test-attempted", flow.Alternative))}, "fail:boom"},
		{"alternatives beside a required execution are ignored", []flow.Flow{top(ex("a", "test-page", flow.Alternative), ex("b", "test-identify", flow.Required))}, "done"},
		{"nothing succeeding is a failure", []flow.Flow{top(ex("a", "test-attempted", flow.Alternative))}, "fail:invalid_user_credentials"},
		{"success without a user is a failure", []flow.Flow{top(ex("a", "test-ok", flow.Required))}, "fail:user_not_found"},
		{"a step needing a user before one is known fails", []flow.Flow{top(ex("a", "test-needs-user", flow.Required))}, "fail:user_not_found"},
		{"sub-flow runs its executions", []flow.Flow{top(subflow("s", "s", flow.Required)), sub("s", ex("a", "test-identify", flow.Required), ex("b", "test-page", flow.Required))}, "page:b"},
		{"conditional sub-flow whose condition matches applies",
			[]flow.Flow{top(ex("a", "test-identify", flow.Required), subflow("s", "s", flow.Conditional)), sub("s", ex("c", "test-cond-true", flow.Required), ex("b", "test-page", flow.Required))}, "page:b"},
		{"conditional sub-flow whose condition fails is skipped",
			[]flow.Flow{top(ex("a", "test-identify", flow.Required), subflow("s", "s", flow.Conditional)), sub("s", ex("c", "test-cond-false", flow.Required), ex("b", "test-page", flow.Required))}, "done"},
		{"one false condition among true ones skips the sub-flow",
			[]flow.Flow{top(ex("a", "test-identify", flow.Required), subflow("s", "s", flow.Conditional)), sub("s", ex("c", "test-cond-true", flow.Required), ex("d", "test-cond-false", flow.Required), ex("b", "test-page", flow.Required))}, "done"},
		{"conditional sub-flow without conditions is skipped",
			[]flow.Flow{top(ex("a", "test-identify", flow.Required), subflow("s", "s", flow.Conditional)), sub("s", ex("b", "test-page", flow.Required))}, "done"},
		{"disabled condition does not count",
			[]flow.Flow{top(ex("a", "test-identify", flow.Required), subflow("s", "s", flow.Conditional)), sub("s", ex("c", "test-cond-false", flow.Disabled), ex("d", "test-cond-true", flow.Required), ex("b", "test-page", flow.Required))}, "page:b"},
		{"failed sub-flow alternative falls to the next one",
			[]flow.Flow{top(subflow("s", "s", flow.Alternative), ex("b", "test-identify", flow.Alternative)), sub("s", ex("a", "test-fail", flow.Required))}, "done"},
		{"alternative sub-flow with only attempted steps is not a success",
			[]flow.Flow{top(subflow("s", "s", flow.Alternative), ex("b", "test-page", flow.Alternative)), sub("s", ex("a", "test-attempted", flow.Alternative))}, "page:b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var st State
			out := runFlow(t, flow.Config{Flows: tc.flows}, nil, "", &st)
			got := "done"
			switch {
			case out.Challenge != nil:
				got = "page:" + out.Challenge.Template
			case out.Failure != nil:
				got = "fail:" + out.Failure.Event
			case !out.Done:
				got = "nothing"
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestActionResumesFromStoredState(t *testing.T) {
	model := flow.Config{Flows: []flow.Flow{
		{ID: "top", Alias: "top", TopLevel: true, Executions: []flow.Execution{
			{ID: "a", Authenticator: "test-page", Requirement: flow.Required, Priority: 10},
			{ID: "b", Authenticator: "test-needs-user", Requirement: flow.Required, Priority: 20},
		}},
	}}
	var st State
	out := runFlow(t, model, nil, "", &st)
	if out.Challenge == nil || st.Current != "a" {
		t.Fatalf("first walk: %+v, current %q", out, st.Current)
	}
	// A POST for another execution only shows the current page again.
	if out = runFlow(t, model, map[string]string{"ok": "yes"}, "b", &st); out.Challenge == nil || out.Challenge.Template != "a" {
		t.Fatalf("stale POST: %+v", out)
	}
	if out = runFlow(t, model, map[string]string{"ok": "no"}, "a", &st); out.Challenge == nil || out.Failure == nil || out.Challenge.Template != "again" {
		t.Fatalf("refused POST: %+v", out)
	}
	if out = runFlow(t, model, map[string]string{"ok": "yes"}, "a", &st); !out.Done || out.User.ID != "u1" {
		t.Fatalf("accepted POST: %+v", out)
	}
}

func TestUnknownAuthenticatorRefused(t *testing.T) {
	model := flow.Config{Flows: []flow.Flow{
		{ID: "top", Alias: "top", TopLevel: true, Executions: []flow.Execution{
			{ID: "a", Authenticator: "test-identify", Requirement: flow.Alternative, Priority: 10},
			{ID: "b", Authenticator: "no-such-authenticator", Requirement: flow.Alternative, Priority: 20},
		}},
	}}
	st := NewState(model.Flows[0])
	c := &Context{Context: context.Background(), Model: model, State: &st}
	if _, err := Run(c); !errors.Is(err, ErrFlowConfig) {
		t.Fatalf("got %v, want ErrFlowConfig", err)
	}
	// Disabled, it is not looked at.
	model.Flows[0].Executions[1].Requirement = flow.Disabled
	if out, err := Run(c); err != nil || !out.Done {
		t.Fatalf("got %+v %v", out, err)
	}
}

func TestTryAnotherWayAndRestart(t *testing.T) {
	model := flow.Config{Flows: []flow.Flow{
		{ID: "top", Alias: "top", TopLevel: true, Executions: []flow.Execution{
			{ID: "a", Authenticator: "test-page", Requirement: flow.Alternative, Priority: 10},
			{ID: "b", Authenticator: "test-page", Requirement: flow.Alternative, Priority: 20},
		}},
	}}
	st := NewState(model.Flows[0])
	c := &Context{Context: context.Background(), Model: model, State: &st, Req: Request{RequestedLoA: NoLoA}}
	out, err := Run(c)
	if err != nil || out.Challenge == nil || out.Challenge.Template != "a" {
		t.Fatalf("first page: %+v %v", out, err)
	}
	if !HasOtherAlternative(model, st.Current) {
		t.Error("a has an alternative beside it")
	}
	if out, err = TryAnotherWay(c); err != nil || out.Challenge == nil || out.Challenge.Template != "b" {
		t.Fatalf("another way: %+v %v", out, err)
	}
	if out, err = Restart(c); err != nil || out.Challenge == nil || out.Challenge.Template != "a" {
		t.Fatalf("restart: %+v %v", out, err)
	}
}

type testFormPage struct{}

func (testFormPage) Render(c *Context, errs []FieldError) Page {
	p := Page{Template: "register"}
	if len(errs) > 0 {
		p.Error = errs[0].Key
	}
	return p
}

type testFormAction struct{ field string }

func (a testFormAction) BuildPage(*Context, *ui.Page) {}
func (a testFormAction) Validate(c *Context) ([]FieldError, error) {
	if c.Form.Get(a.field) == "" {
		return []FieldError{{Field: a.field, Key: "missing-" + a.field}}, nil
	}
	return nil, nil
}
func (a testFormAction) Success(c *Context) error {
	if a.field == "username" {
		c.SetUser(user.User{ID: "new", Username: c.Form.Get("username"), Enabled: true})
	}
	return nil
}
func (a testFormAction) RequiresUser() bool { return false }

func TestFormFlow(t *testing.T) {
	for _, id := range []string{"test-form-page", "test-form-username", "test-form-password"} {
		flow.Runnable[id] = true
	}
	RegisterFormAuthenticator("test-form-page", testFormPage{})
	RegisterFormAction("test-form-username", testFormAction{field: "username"})
	RegisterFormAction("test-form-password", testFormAction{field: "password"})
	model := flow.Config{Flows: []flow.Flow{
		{ID: "top", Alias: "top", TopLevel: true, Executions: []flow.Execution{
			{ID: "form", Authenticator: "test-form-page", AuthenticatorFlow: true, FlowAlias: "form", Requirement: flow.Required, Priority: 10},
		}},
		{ID: "form", Alias: "form", ProviderID: flow.FormFlow, Executions: []flow.Execution{
			{ID: "u", Authenticator: "test-form-username", Requirement: flow.Required, Priority: 10},
			{ID: "p", Authenticator: "test-form-password", Requirement: flow.Required, Priority: 20},
		}},
	}}
	var st State
	if out := runFlow(t, model, nil, "", &st); out.Challenge == nil || out.Challenge.Template != "register" || st.Current != "form" {
		t.Fatalf("form page: %+v", out)
	}
	// Every action validates before any applies.
	if out := runFlow(t, model, map[string]string{"username": "pat"}, "form", &st); out.Challenge == nil || out.Challenge.Error != "missing-password" {
		t.Fatalf("refused form: %+v", out)
	}
	out := runFlow(t, model, map[string]string{"username": "pat", "password": "x"}, "form", &st)
	if !out.Done || out.User.Username != "pat" {
		t.Fatalf("accepted form: %+v", out)
	}
}

// testTakenAction refuses at Success what it validated (a name taken
// meanwhile); testGate refuses to show the form when configured.
type testTakenAction struct{ testFormAction }

func (testTakenAction) Success(c *Context) error {
	if c.Form.Get("username") == "taken" {
		return FieldErrors{{Field: "username", Key: "usernameExistsMessage"}}
	}
	c.SetUser(user.User{ID: "new", Username: c.Form.Get("username"), Enabled: true})
	return nil
}

type testGate struct{ testFormAction }

func (testGate) Gate(c *Context) *Error {
	if c.Execution.AuthenticatorConfig != "" {
		return &Error{Event: "invalid_registration", Key: "gated"}
	}
	return nil
}

func TestFormFlowRefusalsAfterValidation(t *testing.T) {
	for _, id := range []string{"test-taken-page", "test-taken-username", "test-gate"} {
		flow.Runnable[id] = true
	}
	RegisterFormAuthenticator("test-taken-page", testFormPage{})
	RegisterFormAction("test-taken-username", testTakenAction{testFormAction{field: "username"}})
	RegisterFormAction("test-gate", testGate{testFormAction{field: "username"}})
	model := func(gateConfig string) flow.Config {
		return flow.Config{Flows: []flow.Flow{
			{ID: "top", Alias: "top", TopLevel: true, Executions: []flow.Execution{
				{ID: "form", Authenticator: "test-taken-page", AuthenticatorFlow: true, FlowAlias: "form", Requirement: flow.Required, Priority: 10},
			}},
			{ID: "form", Alias: "form", ProviderID: flow.FormFlow, Executions: []flow.Execution{
				{ID: "u", Authenticator: "test-taken-username", Requirement: flow.Required, Priority: 10},
				{ID: "g", Authenticator: "test-gate", Requirement: flow.Required, Priority: 20, AuthenticatorConfig: gateConfig},
			}},
		}}
	}
	var st State
	runFlow(t, model(""), nil, "", &st)
	// A refusal found while applying shows the page again with it.
	if out := runFlow(t, model(""), map[string]string{"username": "taken"}, "form", &st); out.Challenge == nil || out.Challenge.Error != "usernameExistsMessage" || out.Done {
		t.Fatalf("taken: %+v", out)
	}
	if out := runFlow(t, model(""), map[string]string{"username": "pat"}, "form", &st); !out.Done || out.User.Username != "pat" {
		t.Fatalf("free: %+v", out)
	}
	// A gate that refuses ends the login before any page.
	var gated State
	if out := runFlow(t, model("cfg"), nil, "", &gated); out.Failure == nil || out.Failure.Key != "gated" || out.Challenge != nil {
		t.Fatalf("gated: %+v", out)
	}
}
