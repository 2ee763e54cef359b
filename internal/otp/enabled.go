package otp

import "github.com/gatehouse-iam/gatehouse/internal/flow"

// authenticators are the authenticators that ask for an OTP code, whose
// presence in a flow makes OTP a credential type of the realm.
var authenticators = map[string]bool{
	"auth-otp-form":             true,
	"direct-grant-validate-otp": true,
	"auth-conditional-otp-form": true,
}

// Enabled reports whether the realm's authentication model lets anyone log
// in with an OTP code: some flow that is not effectively disabled (itself
// or through a parent's DISABLED execution) runs an OTP authenticator that
// is not DISABLED. This is Keycloak's rule for which credential types the
// account console offers. A realm with no flows at all has Keycloak's
// built-in ones, whose browser flow holds the conditional OTP form.
func Enabled(cfg flow.Config) bool {
	if len(cfg.Flows) == 0 {
		return true
	}
	return cfg.Runs(func(id string) bool { return authenticators[id] })
}
