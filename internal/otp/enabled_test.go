package otp_test

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/otp"
)

func TestEnabled(t *testing.T) {
	model := func(otpReq, subReq string) flow.Config {
		return flow.Config{Flows: []flow.Flow{
			{Alias: "browser", TopLevel: true, Executions: []flow.Execution{
				{Authenticator: "auth-cookie", Requirement: flow.Alternative},
				{AuthenticatorFlow: true, FlowAlias: "forms", Requirement: subReq},
			}},
			{Alias: "forms", Executions: []flow.Execution{
				{Authenticator: "auth-username-password-form", Requirement: flow.Required},
				{Authenticator: "auth-otp-form", Requirement: otpReq},
			}},
			// A sub-flow nobody reaches does not count.
			{Alias: "orphan", Executions: []flow.Execution{{Authenticator: "auth-otp-form", Requirement: flow.Required}}},
		}}
	}
	for _, tt := range []struct {
		name string
		cfg  flow.Config
		want bool
	}{
		{"no flows: Keycloak's built-in ones", flow.Config{}, true},
		{"OTP form conditional in a sub-flow", model(flow.Conditional, flow.Alternative), true},
		{"OTP form disabled", model(flow.Disabled, flow.Alternative), false},
		{"its sub-flow disabled", model(flow.Required, flow.Disabled), false},
	} {
		if got := otp.Enabled(tt.cfg); got != tt.want {
			t.Errorf("%s: %v", tt.name, got)
		}
	}
}
