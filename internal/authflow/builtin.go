package authflow

import "github.com/gatehouse-iam/gatehouse/internal/flow"

// OTP authenticators' ids, run by the built-in flows' conditional OTP
// sub-flows when they are registered.
const (
	OTPForm        = "auth-otp-form"
	DirectGrantOTP = "direct-grant-validate-otp"
)

// Builtin is the model a realm without flows of its own runs: Keycloak's
// "browser" and "direct grant" flows. flow.Defaults() is the model new
// realms are given; this one only serves realms whose stored model holds
// no flows at all.
func Builtin() flow.Config {
	exec := func(id, req string, prio int) flow.Execution {
		return flow.Execution{ID: "builtin-" + id, Authenticator: id, Requirement: req, Priority: prio}
	}
	sub := func(id, alias, req string, prio int) flow.Execution {
		return flow.Execution{ID: "builtin-" + id, AuthenticatorFlow: true, FlowAlias: alias, Requirement: req, Priority: prio}
	}
	forms := flow.Flow{ID: "builtin-forms", Alias: "forms", ProviderID: flow.BasicFlow, BuiltIn: true,
		Executions: []flow.Execution{exec(UsernamePasswordForm, flow.Required, 10)}}
	dg := flow.Flow{ID: "builtin-direct-grant", Alias: "direct grant", ProviderID: flow.BasicFlow, TopLevel: true, BuiltIn: true,
		Executions: []flow.Execution{exec(DirectGrantUsername, flow.Required, 10), exec(DirectGrantPassword, flow.Required, 20)}}
	c := flow.Config{Bindings: flow.Bindings{Browser: "browser", DirectGrant: "direct grant"}}
	if _, ok := Lookup(OTPForm); ok {
		forms.Executions = append(forms.Executions, sub("browser-otp", "Browser - Conditional OTP", flow.Conditional, 20))
		c.Flows = append(c.Flows, flow.Flow{ID: "builtin-browser-otp-flow", Alias: "Browser - Conditional OTP", ProviderID: flow.BasicFlow, BuiltIn: true,
			Executions: []flow.Execution{exec(ConditionUserConfigured, flow.Required, 10), exec(OTPForm, flow.Required, 20)}})
	}
	if _, ok := Lookup(DirectGrantOTP); ok {
		dg.Executions = append(dg.Executions, sub("direct-grant-otp", "Direct Grant - Conditional OTP", flow.Conditional, 30))
		c.Flows = append(c.Flows, flow.Flow{ID: "builtin-direct-grant-otp-flow", Alias: "Direct Grant - Conditional OTP", ProviderID: flow.BasicFlow, BuiltIn: true,
			Executions: []flow.Execution{
				{ID: "builtin-dg-otp-cond", Authenticator: ConditionUserConfigured, Requirement: flow.Required, Priority: 10},
				exec(DirectGrantOTP, flow.Required, 20)}})
	}
	browser := flow.Flow{ID: "builtin-browser", Alias: "browser", ProviderID: flow.BasicFlow, TopLevel: true, BuiltIn: true,
		Executions: []flow.Execution{
			exec(Cookie, flow.Alternative, 10),
			exec(IdentityProviderRedirect, flow.Alternative, 25),
			sub("forms", "forms", flow.Alternative, 30),
		}}
	c.Flows = append(c.Flows, browser, forms, dg)
	return c
}
