package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
)

// The Authentication section, as Keycloak's console lays it out: the
// realm's flows (which binding uses each), one flow's executions as a tree
// with their requirements, the required actions, and the password and OTP
// policies. Like every console page it reads and writes through the admin
// API (/admin/realms/{realm}/authentication/...), so the API's rules
// (built-in flows, requirement choices, bindable flows) are the only ones.

// bindingLabels name the bindings (realm representation fields) as
// Keycloak's "Used by" column does, in its order.
var bindingLabels = []struct{ Name, Label string }{
	{"browserFlow", "Browser flow"},
	{"registrationFlow", "Registration flow"},
	{"directGrantFlow", "Direct grant flow"},
	{"resetCredentialsFlow", "Reset credentials flow"},
	{"clientAuthenticationFlow", "Client authentication flow"},
	{"dockerAuthenticationFlow", "Docker authentication flow"},
	{"firstBrokerLoginFlow", "First broker login flow"},
}

// flowRep is the admin API's AuthenticationFlowRepresentation, as far as
// the pages use it.
type flowRep struct {
	ID          string `json:"id"`
	Alias       string `json:"alias"`
	Description string `json:"description"`
	TopLevel    bool   `json:"topLevel"`
	BuiltIn     bool   `json:"builtIn"`
}

// executionRep is the admin API's AuthenticationExecutionInfoRepresentation.
type executionRep struct {
	ID                 string   `json:"id"`
	Requirement        string   `json:"requirement"`
	DisplayName        string   `json:"displayName"`
	RequirementChoices []string `json:"requirementChoices"`
	AuthenticationFlow *bool    `json:"authenticationFlow"`
	Level              int      `json:"level"`
	Index              int      `json:"index"`
}

// flowRow is one flow of the flows list.
type flowRow struct {
	ID, Alias, Description string
	BuiltIn                bool
	UsedBy                 []string
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
	SubFlow, First        bool
	Choices               []option
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
		"required-actions", "/required-actions", "Required actions", "policies", "/policies", "Policies",
		"webauthn-policy", "/policies/webauthn", "Webauthn Policy",
		"webauthn-passwordless-policy", "/policies/webauthn-passwordless", "Webauthn Passwordless Policy")
}

// authPath is the admin API path of the realm's authentication resource p.
func (q *rq) authPath(p string) string { return q.adminPath("/authentication" + p) }

// authFlows serves the flows tab: the list, and its duplicate, bind and
// delete actions.
func (h *Handler) authFlows(q *rq) error {
	if !q.perms.can("view-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to view the realm settings.")
	}
	v := q.view("Authentication", "authentication", "flows")
	v.Tabs = q.authTabs("flows")
	d := &flowsData{Editable: q.perms.can("manage-realm")}
	v.Data = d
	var flows []flowRep
	if err := q.get(q.authPath("/flows"), &flows); err != nil {
		return err
	}
	var realmRep map[string]any
	if err := q.get(q.adminPath(""), &realmRep); err != nil {
		return err
	}
	for _, f := range flows {
		if !f.TopLevel {
			continue
		}
		row := flowRow{ID: f.ID, Alias: f.Alias, Description: f.Description, BuiltIn: f.BuiltIn}
		for _, b := range bindingLabels {
			if bound, _ := realmRep[b.Name].(string); bound == f.Alias {
				row.UsedBy = append(row.UsedBy, b.Label)
			}
		}
		d.Flows = append(d.Flows, row)
	}
	slices.SortFunc(d.Flows, func(a, b flowRow) int { return strings.Compare(strings.ToLower(a.Alias), strings.ToLower(b.Alias)) })
	for _, b := range bindingLabels {
		d.Bindings = append(d.Bindings, option{Value: b.Name, Label: b.Label})
	}
	if !q.post() {
		return q.render(http.StatusOK, "authentication-flows.html", v)
	}
	alias := q.form("flow")
	i := slices.IndexFunc(d.Flows, func(f flowRow) bool { return f.Alias == alias })
	if i < 0 {
		return errPage(http.StatusNotFound, "Could not find flow.")
	}
	var err error
	notice := "saved"
	switch q.form("action") {
	case "duplicate":
		notice = "created"
		_, err = q.api(http.MethodPost, q.authPath("/flows/"+url.PathEscape(alias)+"/copy"),
			map[string]string{"newName": q.form("newName")}, nil)
	case "bind":
		name := q.form("binding")
		if !slices.ContainsFunc(bindingLabels, func(b struct{ Name, Label string }) bool { return b.Name == name }) {
			return errPage(http.StatusBadRequest, "Unknown binding.")
		}
		_, err = q.api(http.MethodPut, q.adminPath(""), map[string]string{name: alias}, nil)
	case "delete":
		notice = "deleted"
		_, err = q.api(http.MethodDelete, q.authPath("/flows/"+url.PathEscape(d.Flows[i].ID)), nil, nil)
	default:
		return errPage(http.StatusBadRequest, "Unknown action.")
	}
	if err != nil {
		return q.refused(v, "authentication-flows.html", err)
	}
	return q.redirect(q.realmURL("/authentication"), notice)
}

// authFlow serves a flow's page: its executions, and the changes Keycloak's
// console makes there.
func (h *Handler) authFlow(q *rq) error {
	if !q.perms.can("view-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to view the realm settings.")
	}
	alias := q.r.PathValue("alias")
	var flows []flowRep
	if err := q.get(q.authPath("/flows"), &flows); err != nil {
		return err
	}
	i := slices.IndexFunc(flows, func(f flowRep) bool { return f.Alias == alias && f.TopLevel })
	if i < 0 {
		return errPage(http.StatusNotFound, "Could not find flow.")
	}
	v := q.view("Authentication", "authentication", "flows")
	v.Back = &link{Label: "Authentication", URL: q.realmURL("/authentication")}
	v.Heading = alias
	d := &flowData{Alias: alias, Description: flows[i].Description, BuiltIn: flows[i].BuiltIn,
		Editable: q.perms.can("manage-realm"), Action: q.realmURL("/authentication/flows/" + url.PathEscape(alias))}
	v.Data = d
	var execs []executionRep
	if err := q.get(q.authPath("/flows/"+url.PathEscape(alias)+"/executions"), &execs); err != nil {
		return err
	}
	d.Parents = []option{{Value: alias, Label: alias}}
	for _, e := range execs {
		row := execRow{ID: e.ID, Name: e.DisplayName, Requirement: e.Requirement, Level: e.Level,
			SubFlow: e.AuthenticationFlow != nil && *e.AuthenticationFlow, First: e.Index == 0}
		for _, r := range e.RequirementChoices {
			row.Choices = append(row.Choices, option{Value: r, Label: strings.ToUpper(r[:1]) + strings.ToLower(r[1:]), Selected: r == e.Requirement})
		}
		if row.SubFlow {
			d.Parents = append(d.Parents, option{Value: e.DisplayName, Label: e.DisplayName})
		}
		d.Rows = append(d.Rows, row)
	}
	var providers []struct{ ID, DisplayName string }
	if err := q.get(q.authPath("/authenticator-providers"), &providers); err != nil {
		return err
	}
	for _, p := range providers {
		d.Authenticators = append(d.Authenticators, option{Value: p.ID, Label: p.DisplayName})
	}
	slices.SortFunc(d.Authenticators, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	if !q.post() {
		return q.render(http.StatusOK, "authentication-flow.html", v)
	}
	exec := url.PathEscape(q.form("execution"))
	var err error
	switch q.form("action") {
	case "requirement":
		_, err = q.api(http.MethodPut, q.authPath("/flows/"+url.PathEscape(alias)+"/executions"),
			map[string]string{"id": q.form("execution"), "requirement": q.form("requirement")}, nil)
	case "raise":
		_, err = q.api(http.MethodPost, q.authPath("/executions/"+exec+"/raise-priority"), nil, nil)
	case "lower":
		_, err = q.api(http.MethodPost, q.authPath("/executions/"+exec+"/lower-priority"), nil, nil)
	case "delete":
		_, err = q.api(http.MethodDelete, q.authPath("/executions/"+exec), nil, nil)
	case "add-execution":
		_, err = q.api(http.MethodPost, q.authPath("/flows/"+url.PathEscape(q.form("parent"))+"/executions/execution"),
			map[string]string{"provider": q.form("authenticator")}, nil)
	case "add-flow":
		body := map[string]string{"alias": q.form("alias"), "description": q.form("description"), "type": q.form("provider")}
		if body["type"] == "form-flow" {
			body["provider"] = "registration-page-form" // the form's page, as Keycloak's console sends it
		}
		_, err = q.api(http.MethodPost, q.authPath("/flows/"+url.PathEscape(q.form("parent"))+"/executions/flow"), body, nil)
	default:
		return errPage(http.StatusBadRequest, "Unknown action.")
	}
	if err != nil {
		return q.refused(v, "authentication-flow.html", err)
	}
	return q.redirect(d.Action, "saved")
}

// authRequiredActions serves the required actions tab: each action's
// enabled and default switches and its place in the order.
func (h *Handler) authRequiredActions(q *rq) error {
	if !q.perms.can("view-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to view the realm settings.")
	}
	v := q.view("Authentication", "authentication", "required-actions")
	v.Tabs = q.authTabs("required-actions")
	d := &requiredActionsData{Editable: q.perms.can("manage-realm"), Action: q.realmURL("/authentication/required-actions")}
	v.Data = d
	var list []rep.RequiredAction
	if err := q.get(q.authPath("/required-actions"), &list); err != nil {
		return err
	}
	for i, a := range list {
		d.Actions = append(d.Actions, actionRow{Alias: a.Alias, Name: a.Name, Enabled: a.Enabled, Default: a.DefaultAction,
			First: i == 0, Last: i == len(list)-1})
	}
	if !q.post() {
		return q.render(http.StatusOK, "authentication-required-actions.html", v)
	}
	alias := q.form("alias")
	i := slices.IndexFunc(list, func(a rep.RequiredAction) bool { return a.Alias == alias })
	if i < 0 {
		return errPage(http.StatusNotFound, "Could not find required action.")
	}
	path := q.authPath("/required-actions/" + url.PathEscape(alias))
	a := list[i]
	on := q.form("value") == "on"
	var err error
	switch q.form("action") {
	case "enabled", "default":
		if q.form("action") == "enabled" {
			a.Enabled = on
		} else {
			a.DefaultAction = on
		}
		_, err = q.api(http.MethodPut, path, a, nil)
	case "raise":
		_, err = q.api(http.MethodPost, path+"/raise-priority", nil, nil)
	case "lower":
		_, err = q.api(http.MethodPost, path+"/lower-priority", nil, nil)
	default:
		return errPage(http.StatusBadRequest, "Unknown action.")
	}
	if err != nil {
		return q.refused(v, "authentication-required-actions.html", err)
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

// webAuthnPolicySpecs are the fields of one of the realm's WebAuthn
// policies under the representation's names: prefix is
// "webAuthnPolicy" (security keys) or "webAuthnPolicyPasswordless"
// (passkeys, which also has the switch offering passkeys on the login
// forms). The choices are the values the policy's ceremonies understand.
func webAuthnPolicySpecs(prefix string, passkeys bool) []spec {
	unset := option{Value: "not specified", Label: "Not specified"}
	specs := []spec{
		{Kind: kindText, Name: prefix + "RpEntityName", Label: "Relying party entity name", Help: "The name of this server that authenticators show when registering."},
		{Kind: kindList, Name: prefix + "SignatureAlgorithms", Label: "Signature algorithms", Help: "The key algorithms a new credential may use, one a line, preferred first.",
			Options: []option{{Value: "ES256"}, {Value: "ES384"}, {Value: "ES512"}, {Value: "RS256"}, {Value: "RS384"}, {Value: "RS512"}, {Value: "RS1"}, {Value: "EdDSA"}, {Value: "Ed25519"}}},
		{Kind: kindText, Name: prefix + "RpId", Label: "Relying party ID", Help: "The domain credentials are bound to. Empty: the host name of the login page, which must then be a domain, not an IP address."},
		{Kind: kindSelect, Name: prefix + "AttestationConveyancePreference", Label: "Attestation conveyance preference", Help: "Whether the authenticator is asked for an attestation of its make.",
			Options: []option{unset, {Value: "none", Label: "None"}, {Value: "indirect", Label: "Indirect"}, {Value: "direct", Label: "Direct"}}},
		{Kind: kindSelect, Name: prefix + "AuthenticatorAttachment", Label: "Authenticator attachment", Help: "Which authenticators may register: built into the device (platform), removable (cross-platform), or either.",
			Options: []option{unset, {Value: "platform", Label: "Platform"}, {Value: "cross-platform", Label: "Cross platform"}}},
		{Kind: kindSelect, Name: prefix + "RequireResidentKey", Label: "Require discoverable credential", Help: "Whether the credential must be discoverable (kept on the authenticator with the user), as a passkey is.",
			Options: []option{unset, {Value: "Yes", Label: "Yes"}, {Value: "No", Label: "No"}}},
		{Kind: kindSelect, Name: prefix + "UserVerificationRequirement", Label: "User verification requirement", Help: "Whether the authenticator must verify the user (PIN, fingerprint) besides their presence.",
			Options: []option{unset, {Value: "required", Label: "Required"}, {Value: "preferred", Label: "Preferred"}, {Value: "discouraged", Label: "Discouraged"}}},
		{Kind: kindNumber, Name: prefix + "CreateTimeout", Label: "Timeout", Help: "Seconds a registration or login ceremony may take; 0 leaves it to the browser."},
		{Kind: kindBool, Name: prefix + "AvoidSameAuthenticatorRegister", Label: "Avoid same authenticator registration", Help: "Refuse to register an authenticator the user has registered already."},
		{Kind: kindList, Name: prefix + "AcceptableAaguids", Label: "Acceptable AAGUIDs", Help: "Authenticator models (AAGUIDs) that may register, one a line; empty allows any."},
		{Kind: kindList, Name: prefix + "ExtraOrigins", Label: "Extra Origins", Help: "Origins besides the login pages' own that ceremonies may come from (native applications), one a line."},
	}
	if passkeys {
		specs = append(specs, spec{Kind: kindBool, Name: prefix + "PasskeysEnabled", Label: "Enable Passkeys",
			Help: "Offer passkeys on the login forms: the username field's autofill signs in with a passkey, no password typed."})
	}
	return specs
}

var (
	webAuthnSpecs             = webAuthnPolicySpecs("webAuthnPolicy", false)
	webAuthnPasswordlessSpecs = webAuthnPolicySpecs("webAuthnPolicyPasswordless", true)
)

// authWebAuthnPolicy and authWebAuthnPasswordlessPolicy serve the two
// WebAuthn policy tabs, partial PUTs of the realm like the policies tab.
func (h *Handler) authWebAuthnPolicy(q *rq) error {
	return h.realmTab(q, realmTab{tab: "webauthn-policy", title: "Webauthn Policy", path: "/authentication/policies/webauthn",
		specs: webAuthnSpecs, nav: "authentication", tabs: q.authTabs})
}

func (h *Handler) authWebAuthnPasswordlessPolicy(q *rq) error {
	return h.realmTab(q, realmTab{tab: "webauthn-passwordless-policy", title: "Webauthn Passwordless Policy",
		path: "/authentication/policies/webauthn-passwordless", specs: webAuthnPasswordlessSpecs, nav: "authentication", tabs: q.authTabs})
}
