package console

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// The Authentication section, as Keycloak's console lays it out: the
// realm's flows (which binding uses each), one flow's executions as a tree
// with their requirements, the required actions, and the password and OTP
// policies.
//
// The policies are realm settings and go through the admin API like every
// other realm setting. The flows and required actions are the realm's
// authentication model (flow.Config), which the admin REST API does not
// serve yet: until it does, these pages read and write the model in the
// store, in one transaction per change (store.UpdateAuthConfig), every
// change checked by flow.Validate, the model's one validation, and only for
// administrators holding manage-realm (view-realm to see), the admin API's
// own permission table (role.Permits). saveAuth is the one place that
// writes.

// bindingLabels name the bindings as Keycloak's "Used by" column does, in
// its order.
var bindingLabels = []struct{ Name, Label string }{
	{"browserFlow", "Browser flow"},
	{"registrationFlow", "Registration flow"},
	{"directGrantFlow", "Direct grant flow"},
	{"resetCredentialsFlow", "Reset credentials flow"},
	{"clientAuthenticationFlow", "Client authentication flow"},
	{"dockerAuthenticationFlow", "Docker authentication flow"},
	{"firstBrokerLoginFlow", "First broker login flow"},
}

// binding returns the field of b named name.
func binding(b *flow.Bindings, name string) *string {
	switch name {
	case "browserFlow":
		return &b.Browser
	case "registrationFlow":
		return &b.Registration
	case "directGrantFlow":
		return &b.DirectGrant
	case "resetCredentialsFlow":
		return &b.ResetCredentials
	case "clientAuthenticationFlow":
		return &b.ClientAuthentication
	case "dockerAuthenticationFlow":
		return &b.Docker
	case "firstBrokerLoginFlow":
		return &b.FirstBrokerLogin
	}
	return nil
}

// authenticatorNames are Keycloak's display names of its authenticators.
var authenticatorNames = map[string]string{
	"auth-cookie":                         "Cookie",
	"auth-spnego":                         "Kerberos",
	"identity-provider-redirector":        "Identity Provider Redirector",
	"auth-username-password-form":         "Username Password Form",
	"auth-username-form":                  "Username Form",
	"auth-password-form":                  "Password Form",
	"auth-otp-form":                       "OTP Form",
	"auth-conditional-otp-form":           "Conditional OTP Form",
	"conditional-user-configured":         "Condition - user configured",
	"conditional-user-role":               "Condition - user role",
	"conditional-credential":              "Condition - credential",
	"conditional-level-of-authentication": "Condition - Level Of Authentication",
	"direct-grant-validate-username":      "Username Validation",
	"direct-grant-validate-password":      "Password",
	"direct-grant-validate-otp":           "OTP",
	"registration-page-form":              "Registration Page",
	"registration-user-creation":          "Registration User Profile Creation",
	"registration-password-action":        "Password Validation",
	"registration-recaptcha-action":       "reCAPTCHA",
	"registration-terms-and-conditions":   "Terms and conditions",
	"reset-credentials-choose-user":       "Choose User",
	"reset-credential-email":              "Send Reset Email",
	"reset-password":                      "Reset Password",
	"reset-otp":                           "Reset OTP",
	"client-secret":                       "Client Id and Secret",
	"client-jwt":                          "Signed Jwt",
	"client-secret-jwt":                   "Signed Jwt with Client Secret",
	"client-x509":                         "X509 Certificate",
	"docker-http-basic-authenticator":     "Docker Authenticator",
	"idp-review-profile":                  "Review Profile",
	"idp-create-user-if-unique":           "Create User If Unique",
	"idp-confirm-link":                    "Confirm link existing account",
	"idp-email-verification":              "Verify existing account by Email",
	"idp-username-password-form":          "Username Password Form for identity provider reauthentication",
	"webauthn-authenticator":              "WebAuthn Authenticator",
	"auth-recovery-authn-code-form":       "Recovery Authentication Code Form",
}

func authenticatorName(id string) string {
	if n, ok := authenticatorNames[id]; ok {
		return n
	}
	return id
}

// flowRow is one flow of the flows list.
type flowRow struct {
	Alias, Description string
	BuiltIn            bool
	UsedBy             []string
}

// flowsData is the flows tab.
type flowsData struct {
	Flows    []flowRow
	Bindings []option // the bindings a flow can be bound to
	Editable bool
}

// execRow is one line of a flow's tree: an execution, indented by Level.
type execRow struct {
	ID, Name, Requirement string
	Level                 int
	SubFlow               bool
	// Parent is the alias of the flow the execution belongs to; First and
	// Last say whether it can move up or down among its siblings.
	Parent      string
	First, Last bool
	Choices     []option
}

// flowData is a flow's page.
type flowData struct {
	Alias, Description string
	BuiltIn            bool
	Rows               []execRow
	Parents            []option // flows executions can be added to
	Authenticators     []option
	Editable           bool
	Action             string
}

// actionRow is one required action of the required actions tab.
type actionRow struct {
	Alias, Name      string
	Enabled, Default bool
	First, Last      bool
}

type requiredActionsData struct {
	Actions  []actionRow
	Editable bool
	Action   string
}

// authTabs are the tabs of the Authentication section.
func (q *rq) authTabs(current string) []tabLink {
	return tabs(q.realmURL("/authentication"), current, "flows", "", "Flows",
		"required-actions", "/required-actions", "Required actions", "policies", "/policies", "Policies")
}

// authConfig reads the realm's authentication model, first giving every
// flow and execution that has none an id the pages can address them by
// (the built-in model of a realm that never stored one has none).
func (q *rq) authConfig() (string, flow.Config, error) {
	ctx := q.r.Context()
	rl, err := q.h.Store.GetRealmByName(ctx, q.target)
	if err != nil {
		return "", flow.Config{}, err
	}
	cfg, err := q.h.Store.GetAuthConfig(ctx, rl.ID)
	if err != nil {
		return "", cfg, err
	}
	if missingIDs(cfg) {
		err = q.h.Store.UpdateAuthConfig(ctx, rl.ID, func(c *flow.Config) error {
			c.AssignIDs(store.NewID)
			cfg = *c
			return nil
		})
	}
	return rl.ID, cfg, err
}

func missingIDs(c flow.Config) bool {
	for _, f := range c.Flows {
		if f.ID == "" || slices.ContainsFunc(f.Executions, func(e flow.Execution) bool { return e.ID == "" }) {
			return true
		}
	}
	return false
}

// authRefusal is a change the model's rules refuse; the page shows it.
type authRefusal struct{ msg string }

func (e *authRefusal) Error() string { return e.msg }

func refuse(msg string) error { return &authRefusal{msg: msg} }

// saveAuth applies edit to the realm's authentication model: only for
// administrators who may manage the realm, in one transaction, and only
// when the result passes flow.Validate. A refusal comes back as an
// *authRefusal (edit's own or the validation's message).
func (q *rq) saveAuth(realmID string, edit func(*flow.Config) error) error {
	if !q.perms.can("manage-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to manage the realm.")
	}
	err := q.h.Store.UpdateAuthConfig(q.r.Context(), realmID, func(c *flow.Config) error {
		c.AssignIDs(store.NewID)
		if err := edit(c); err != nil {
			return err
		}
		c.AssignIDs(store.NewID)
		return flow.Validate(*c)
	})
	var fe *flow.Error
	if errors.As(err, &fe) {
		return refuse(fe.Msg)
	}
	return err
}

// showRefusal renders page name again with a refused change's message, or
// passes any other error on.
func (q *rq) showRefusal(v *view, name string, err error, reload func() error) error {
	var ar *authRefusal
	if !errors.As(err, &ar) {
		return err
	}
	if err := reload(); err != nil {
		return err
	}
	v.Error = ar.msg
	return q.render(http.StatusBadRequest, name, v)
}

// authFlows serves the flows tab: the list, and its duplicate, bind and
// delete actions.
func (h *Handler) authFlows(q *rq) error {
	if !q.perms.can("view-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to view the realm settings.")
	}
	realmID, cfg, err := q.authConfig()
	if err != nil {
		return err
	}
	v := q.view("Authentication", "authentication", "flows")
	v.Tabs = q.authTabs("flows")
	d := &flowsData{Editable: q.perms.can("manage-realm")}
	v.Data = d
	fill := func() {
		d.Flows = nil
		for _, f := range cfg.Flows {
			if !f.TopLevel {
				continue
			}
			row := flowRow{Alias: f.Alias, Description: f.Description, BuiltIn: f.BuiltIn}
			for _, b := range bindingLabels {
				if *binding(&cfg.Bindings, b.Name) == f.Alias {
					row.UsedBy = append(row.UsedBy, b.Label)
				}
			}
			d.Flows = append(d.Flows, row)
		}
		slices.SortFunc(d.Flows, func(a, b flowRow) int { return strings.Compare(strings.ToLower(a.Alias), strings.ToLower(b.Alias)) })
		d.Bindings = nil
		for _, b := range bindingLabels {
			d.Bindings = append(d.Bindings, option{Value: b.Name, Label: b.Label})
		}
	}
	if !q.post() {
		fill()
		return q.render(http.StatusOK, "authentication-flows.html", v)
	}
	alias := q.form("flow")
	notice := "saved"
	err = q.saveAuth(realmID, func(c *flow.Config) error {
		f, ok := c.FlowByAlias(alias)
		if !ok || !f.TopLevel {
			return refuse("Flow " + alias + " does not exist")
		}
		switch q.form("action") {
		case "duplicate":
			notice = "created"
			return copyFlow(c, f, q.form("newName"), q.form("description"))
		case "bind":
			name := q.form("binding")
			dst := binding(&c.Bindings, name)
			if dst == nil {
				return refuse("Unknown binding")
			}
			if flow.Served(name) || name == "clientAuthenticationFlow" {
				if err := flow.CheckBindable(*c, alias); err != nil {
					return err
				}
			}
			*dst = alias
			return nil
		case "delete":
			notice = "deleted"
			if f.BuiltIn {
				return refuse("Can't delete built in flow")
			}
			for _, b := range bindingLabels {
				if *binding(&c.Bindings, b.Name) == alias {
					return refuse("Cannot delete flow, it's used as " + b.Label)
				}
			}
			removeFlow(c, alias)
			return nil
		}
		return refuse("Unknown action.")
	})
	if err != nil {
		return q.showRefusal(v, "authentication-flows.html", err, func() error {
			_, cfg, err = q.authConfig()
			fill()
			return err
		})
	}
	return q.redirect(q.realmURL("/authentication"), notice)
}

// copyFlow adds a copy of top-level flow f named name, its sub-flows copied
// too (named "<name> <sub-flow>", as Keycloak names them), none of it
// built in.
func copyFlow(c *flow.Config, f flow.Flow, name, description string) error {
	if name == "" {
		return refuse("Name is required")
	}
	if _, taken := c.FlowByAlias(name); taken {
		return refuse("Flow " + name + " already exists")
	}
	var cp func(src flow.Flow, alias string, top bool) error
	cp = func(src flow.Flow, alias string, top bool) error {
		nf := flow.Flow{Alias: alias, Description: src.Description, ProviderID: src.ProviderID, TopLevel: top}
		for _, e := range src.Executions {
			e.ID = ""
			if e.AuthenticatorFlow {
				sub, ok := c.FlowByAlias(e.FlowAlias)
				if !ok {
					return refuse("Flow " + src.Alias + ": sub-flow " + e.FlowAlias + " does not exist")
				}
				e.FlowAlias = name + " " + sub.Alias
				if err := cp(sub, e.FlowAlias, false); err != nil {
					return err
				}
			}
			nf.Executions = append(nf.Executions, e)
		}
		c.Flows = append(c.Flows, nf)
		return nil
	}
	if err := cp(f, name, true); err != nil {
		return err
	}
	if description != "" {
		for i := range c.Flows {
			if c.Flows[i].Alias == name {
				c.Flows[i].Description = description
			}
		}
	}
	return nil
}

// removeFlow removes flow alias and, recursively, the sub-flows its
// executions name.
func removeFlow(c *flow.Config, alias string) {
	f, ok := c.FlowByAlias(alias)
	if !ok {
		return
	}
	c.Flows = slices.DeleteFunc(c.Flows, func(x flow.Flow) bool { return x.Alias == alias })
	for _, e := range f.Executions {
		if e.AuthenticatorFlow {
			removeFlow(c, e.FlowAlias)
		}
	}
}

// sortedExecutions are a flow's executions in priority order.
func sortedExecutions(f flow.Flow) []flow.Execution {
	out := slices.Clone(f.Executions)
	slices.SortStableFunc(out, func(a, b flow.Execution) int { return cmp.Compare(a.Priority, b.Priority) })
	return out
}

// requirementChoices are the requirements an execution may take, as
// Keycloak offers them: sub-flows may be conditional, conditions are only
// required or disabled.
func requirementChoices(e flow.Execution) []string {
	switch {
	case e.AuthenticatorFlow:
		return []string{flow.Required, flow.Alternative, flow.Disabled, flow.Conditional}
	case strings.HasPrefix(e.Authenticator, "conditional-"):
		return []string{flow.Required, flow.Disabled}
	}
	return []string{flow.Required, flow.Alternative, flow.Disabled}
}

// flowTree lists a flow's executions depth first, sub-flows' executions
// under them one level deeper, as Keycloak's executions list does.
func flowTree(c flow.Config, f flow.Flow, level int, seen []string) []execRow {
	if slices.Contains(seen, f.Alias) {
		return nil
	}
	seen = append(seen, f.Alias)
	var out []execRow
	execs := sortedExecutions(f)
	for i, e := range execs {
		row := execRow{ID: e.ID, Requirement: e.Requirement, Level: level, SubFlow: e.AuthenticatorFlow, Parent: f.Alias,
			First: i == 0, Last: i == len(execs)-1}
		if e.AuthenticatorFlow {
			row.Name = e.FlowAlias
		} else {
			row.Name = authenticatorName(e.Authenticator)
		}
		for _, r := range requirementChoices(e) {
			row.Choices = append(row.Choices, option{Value: r, Label: strings.ToUpper(r[:1]) + strings.ToLower(r[1:]), Selected: r == e.Requirement})
		}
		out = append(out, row)
		if e.AuthenticatorFlow {
			if sub, ok := c.FlowByAlias(e.FlowAlias); ok {
				out = append(out, flowTree(c, sub, level+1, seen)...)
			}
		}
	}
	return out
}

// findExecution returns the flow holding execution id and its index there.
func findExecution(c *flow.Config, id string) (*flow.Flow, int) {
	for i := range c.Flows {
		for j := range c.Flows[i].Executions {
			if c.Flows[i].Executions[j].ID == id {
				return &c.Flows[i], j
			}
		}
	}
	return nil, -1
}

// inTree reports whether flow alias is top, or a sub-flow reached from it.
func inTree(c flow.Config, top, alias string) bool {
	f, ok := c.FlowByAlias(top)
	if !ok {
		return false
	}
	for _, r := range flowTree(c, f, 0, nil) {
		if r.SubFlow && r.Name == alias {
			return true
		}
	}
	return top == alias
}

// authFlow serves a flow's page: its executions, and the changes Keycloak's
// console makes there.
func (h *Handler) authFlow(q *rq) error {
	if !q.perms.can("view-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to view the realm settings.")
	}
	realmID, cfg, err := q.authConfig()
	if err != nil {
		return err
	}
	alias := q.r.PathValue("alias")
	top, ok := cfg.FlowByAlias(alias)
	if !ok || !top.TopLevel {
		return errPage(http.StatusNotFound, "Could not find flow.")
	}
	v := q.view("Authentication", "authentication", "flows")
	v.Back = &link{Label: "Authentication", URL: q.realmURL("/authentication")}
	v.Heading = alias
	d := &flowData{Alias: alias, Editable: q.perms.can("manage-realm"),
		Action: q.realmURL("/authentication/flows/" + url.PathEscape(alias))}
	v.Data = d
	fill := func() {
		top, _ = cfg.FlowByAlias(alias)
		d.Description, d.BuiltIn = top.Description, top.BuiltIn
		d.Rows = flowTree(cfg, top, 0, nil)
		d.Parents = []option{{Value: alias, Label: alias}}
		for _, r := range d.Rows {
			if r.SubFlow {
				d.Parents = append(d.Parents, option{Value: r.Name, Label: r.Name})
			}
		}
		d.Authenticators = nil
		for id := range flow.Runnable {
			d.Authenticators = append(d.Authenticators, option{Value: id, Label: authenticatorName(id)})
		}
		slices.SortFunc(d.Authenticators, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	}
	if !q.post() {
		fill()
		return q.render(http.StatusOK, "authentication-flow.html", v)
	}
	action := q.form("action")
	err = q.saveAuth(realmID, func(c *flow.Config) error {
		top, ok := c.FlowByAlias(alias)
		if !ok {
			return refuse("Could not find flow")
		}
		if top.BuiltIn && action != "requirement" {
			// Keycloak lets a built-in flow's requirements change, and
			// nothing else: duplicate it to change more.
			return refuse("It is illegal to modify a built in flow; duplicate it first")
		}
		switch action {
		case "requirement", "raise", "lower", "delete":
			f, i := findExecution(c, q.form("execution"))
			if f == nil || !inTree(*c, alias, f.Alias) {
				return refuse("Could not find execution")
			}
			e := &f.Executions[i]
			switch action {
			case "requirement":
				r := q.form("requirement")
				if !slices.Contains(requirementChoices(*e), r) {
					return refuse("Invalid requirement " + r)
				}
				e.Requirement = r
			case "raise", "lower":
				moveExecution(f, e.ID, action == "raise")
			case "delete":
				if e.AuthenticatorFlow {
					removeFlow(c, e.FlowAlias)
					f, i = findExecution(c, q.form("execution"))
				}
				f.Executions = slices.Delete(f.Executions, i, i+1)
			}
			return nil
		case "add-execution", "add-flow":
			parent := q.form("parent")
			if !inTree(*c, alias, parent) {
				return refuse("Could not find flow " + parent)
			}
			e := flow.Execution{Requirement: flow.Disabled}
			if action == "add-execution" {
				e.Authenticator = q.form("authenticator")
				if _, known := authenticatorNames[e.Authenticator]; !known && !flow.Runnable[e.Authenticator] {
					return refuse("Unknown authenticator " + e.Authenticator)
				}
			} else {
				name := q.form("alias")
				if name == "" {
					return refuse("Name is required")
				}
				if _, taken := c.FlowByAlias(name); taken {
					return refuse("Flow " + name + " already exists")
				}
				provider := q.form("provider")
				if provider != flow.FormFlow {
					provider = flow.BasicFlow
				}
				c.Flows = append(c.Flows, flow.Flow{Alias: name, Description: q.form("description"), ProviderID: provider})
				e.AuthenticatorFlow, e.FlowAlias = true, name
			}
			for i := range c.Flows {
				if c.Flows[i].Alias == parent {
					last := 0
					for _, x := range c.Flows[i].Executions {
						last = max(last, x.Priority)
					}
					e.Priority = last + 10
					c.Flows[i].Executions = append(c.Flows[i].Executions, e)
				}
			}
			return nil
		}
		return refuse("Unknown action.")
	})
	if err != nil {
		return q.showRefusal(v, "authentication-flow.html", err, func() error {
			_, cfg, err = q.authConfig()
			fill()
			return err
		})
	}
	return q.redirect(d.Action, "saved")
}

// moveExecution swaps execution id with its neighbour above (up) or below
// in priority order, exchanging their priorities as Keycloak's raise and
// lower do.
func moveExecution(f *flow.Flow, id string, up bool) {
	order := sortedExecutions(*f)
	// Equal priorities (an imported flow) first become distinct.
	for i := range order {
		order[i].Priority = (i + 1) * 10
	}
	i := slices.IndexFunc(order, func(e flow.Execution) bool { return e.ID == id })
	j := i + 1
	if up {
		j = i - 1
	}
	if i >= 0 && j >= 0 && j < len(order) {
		order[i].Priority, order[j].Priority = order[j].Priority, order[i].Priority
	}
	f.Executions = order
}

// authRequiredActions serves the required actions tab: each action's
// enabled and default switches and its place in the order.
func (h *Handler) authRequiredActions(q *rq) error {
	if !q.perms.can("view-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to view the realm settings.")
	}
	realmID, cfg, err := q.authConfig()
	if err != nil {
		return err
	}
	v := q.view("Authentication", "authentication", "required-actions")
	v.Tabs = q.authTabs("required-actions")
	d := &requiredActionsData{Editable: q.perms.can("manage-realm"), Action: q.realmURL("/authentication/required-actions")}
	v.Data = d
	fill := func() {
		list := authn.RealmRequiredActions(cfg)
		d.Actions = nil
		for i, a := range list {
			d.Actions = append(d.Actions, actionRow{Alias: a.Alias, Name: a.Name, Enabled: a.Enabled, Default: a.DefaultAction,
				First: i == 0, Last: i == len(list)-1})
		}
	}
	if !q.post() {
		fill()
		return q.render(http.StatusOK, "authentication-required-actions.html", v)
	}
	alias, action := q.form("alias"), q.form("action")
	err = q.saveAuth(realmID, func(c *flow.Config) error {
		// The realm's list from now on holds every action, defaults
		// included, so the order and switches are the realm's own.
		list := authn.RealmRequiredActions(*c)
		i := slices.IndexFunc(list, func(a flow.RequiredAction) bool { return a.Alias == alias })
		if i < 0 {
			return refuse("Required action " + alias + " not found")
		}
		on := q.form("value") == "on"
		switch action {
		case "enabled":
			list[i].Enabled = on
			if !on {
				list[i].DefaultAction = false
			}
		case "default":
			if on && !list[i].Enabled {
				return refuse("A disabled required action cannot be a default action")
			}
			list[i].DefaultAction = on
		case "raise", "lower":
			j := i + 1
			if action == "raise" {
				j = i - 1
			}
			if j < 0 || j >= len(list) {
				return nil
			}
			if list[i].Priority == list[j].Priority {
				for k := range list {
					list[k].Priority = (k + 1) * 10
				}
			}
			list[i].Priority, list[j].Priority = list[j].Priority, list[i].Priority
		default:
			return refuse("Unknown action.")
		}
		c.RequiredActions = list
		return nil
	})
	if err != nil {
		return q.showRefusal(v, "authentication-required-actions.html", err, func() error {
			_, cfg, err = q.authConfig()
			fill()
			return err
		})
	}
	return q.redirect(d.Action, "saved")
}

// policiesSpecs are the policies tab's realm settings: the password policy
// in Keycloak's policy syntax, and the OTP policy with Keycloak's fields.
var policiesSpecs = []spec{
	{Kind: kindSection, Label: "Password policy"},
	{Kind: kindText, Name: "passwordPolicy", Label: "Password policy",
		Help: "Policies joined with \"and\", e.g. length(12) and notUsername(undefined) and passwordHistory(3)."},
	{Kind: kindSection, Label: "OTP policy"},
	{Kind: kindSelect, Name: "otpPolicyType", Label: "OTP type", Help: "totp is Time-Based One Time Password. 'hotp' is a counter base one time password in which the server keeps a counter to hash against.",
		Options: []option{{Value: "totp", Label: "Time based"}, {Value: "hotp", Label: "Counter based"}}},
	{Kind: kindSelect, Name: "otpPolicyAlgorithm", Label: "OTP hash algorithm", Help: "What hashing algorithm should be used to generate the OTP.",
		Options: []option{{Value: "HmacSHA1", Label: "SHA1"}, {Value: "HmacSHA256", Label: "SHA256"}, {Value: "HmacSHA512", Label: "SHA512"}}},
	{Kind: kindNumber, Name: "otpPolicyDigits", Label: "Number of digits", Help: "How many digits should the OTP have?"},
	{Kind: kindNumber, Name: "otpPolicyLookAheadWindow", Label: "Look around window", Help: "How far ahead should the server look just in case the token generator and server are out of time sync or counter sync?"},
	{Kind: kindNumber, Name: "otpPolicyPeriod", Label: "OTP Token period", Help: "How many seconds should an OTP token be valid? Defaults to 30 seconds."},
	{Kind: kindNumber, Name: "otpPolicyInitialCounter", Label: "Initial counter", Help: "What should the initial counter value be?"},
	{Kind: kindBool, Name: "otpPolicyCodeReusable", Label: "Reusable token", Help: "Possibility to use the same OTP code again after successful authentication."},
}

// authPolicies serves the policies tab, a partial PUT of the realm through
// the admin API like every realm settings tab.
func (h *Handler) authPolicies(q *rq) error {
	return h.realmTab(q, realmTab{tab: "policies", title: "Policies", path: "/authentication/policies", specs: policiesSpecs,
		nav: "authentication", tabs: q.authTabs})
}
