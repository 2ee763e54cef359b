package authflow

import (
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// The conditions of conditional sub-flows, Keycloak's ids and config names.
const (
	ConditionUserConfigured = "conditional-user-configured"
	ConditionUserRole       = "conditional-user-role"
	ConditionLoA            = conditionalLoA
	ConfigCondUserRole      = "condUserRole"
	ConfigNegate            = "negate"
)

func init() {
	Register(ConditionUserConfigured, userConfigured{})
	Register(ConditionUserRole, userRole{})
	Register(ConditionLoA, levelCondition{})
}

// condition holds what every condition answers as an authenticator: it is
// never run as a step.
type condition struct{}

func (condition) Authenticate(c *Context) error { c.Success(); return nil }
func (condition) Action(c *Context) error       { c.Success(); return nil }
func (condition) ConfiguredFor(*Context, user.User) (bool, error) {
	return true, nil
}
func (condition) SetRequiredActions(*Context, user.User) error { return nil }

// userConfigured matches when the user is configured for the other steps
// of its flow: all REQUIRED ones, or else any ALTERNATIVE one, looking into
// sub-flows the same way.
type userConfigured struct{ condition }

func (userConfigured) RequiresUser() bool { return true }

func (userConfigured) Match(c *Context) (bool, error) {
	return configuredInFlow(c, c.Flow, 0)
}

func configuredInFlow(c *Context, f flow.Flow, depth int) (bool, error) {
	if depth > maxDepth {
		return false, nil
	}
	var req, alt []flow.Execution
	for _, e := range f.Executions {
		if isCondition(e) {
			continue
		}
		switch e.Requirement {
		case flow.Required:
			req = append(req, e)
		case flow.Alternative:
			alt = append(alt, e)
		}
	}
	check := func(e flow.Execution) (bool, error) {
		if e.AuthenticatorFlow {
			sub, ok := c.Model.FlowByAlias(e.FlowAlias)
			if !ok {
				return false, nil
			}
			return configuredInFlow(c, sub, depth+1)
		}
		a, ok := Lookup(e.Authenticator)
		if !ok {
			return false, nil
		}
		return a.ConfiguredFor(c, *c.User)
	}
	if len(req) > 0 {
		for _, e := range req {
			if ok, err := check(e); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	}
	if len(alt) > 0 {
		for _, e := range alt {
			if ok, err := check(e); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	return true, nil
}

// userRole matches when the user holds the role condUserRole (a realm
// role "name", or a client role "clientId.name"), directly, through a
// group or through a composite; negate inverts it.
type userRole struct{ condition }

func (userRole) RequiresUser() bool { return true }

func (userRole) Match(c *Context) (bool, error) {
	want := strings.TrimSpace(c.Config[ConfigCondUserRole])
	negate := c.Config[ConfigNegate] == "true"
	if want == "" {
		return false, nil
	}
	roles, err := c.Store.EffectiveRoles(c, c.Realm.ID, c.User.ID)
	if err != nil {
		return false, err
	}
	has := false
	for _, r := range roles {
		if (r.ClientID == "" && r.Name == want) || (r.ClientID != "" && r.ClientClientID+"."+r.Name == want) {
			has = true
			break
		}
	}
	return has != negate, nil
}

// levelCondition guards a sub-flow that grants a level of authentication
// (loa-condition-level): it applies on a login that reached no level yet,
// and to a level the client asked for and the session has not reached
// within loa-max-age. Its sub-flow's success records the level.
type levelCondition struct{ condition }

func (levelCondition) RequiresUser() bool { return false }

func (levelCondition) Match(c *Context) (bool, error) {
	level, ok, maxAge := loaConfig(c.Config)
	if !ok {
		level = MinimumLoA
	}
	st := c.State
	if st.Level < MinimumLoA {
		return true, nil
	}
	if c.Req.RequestedLoA < level {
		return false, nil
	}
	previously := false
	if !c.Req.Reauthenticate {
		if at, ok := st.Levels[level]; ok && at+maxAge >= c.Now.Unix() {
			previously = true
		}
	}
	if previously && st.Level < level {
		st.Level = level
	}
	return !previously, nil
}

func (levelCondition) OnParentFlowSuccess(c *Context) error {
	level, ok, maxAge := loaConfig(c.Config)
	if !ok {
		return nil
	}
	c.State.Level = level
	if maxAge > 0 {
		if c.State.Levels == nil {
			c.State.Levels = map[int]int64{}
		}
		c.State.Levels[level] = c.Now.Unix()
	}
	return nil
}
