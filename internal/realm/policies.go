package realm

import "slices"

// OTPPolicy is how the realm's one-time-password credentials are made and
// checked: Keycloak's otpPolicy* settings.
type OTPPolicy struct {
	Type            string `json:"type"`      // "totp" or "hotp"
	Algorithm       string `json:"algorithm"` // "HmacSHA1", "HmacSHA256", "HmacSHA512"
	InitialCounter  int    `json:"initialCounter"`
	Digits          int    `json:"digits"`
	LookAheadWindow int    `json:"lookAheadWindow"`
	Period          int    `json:"period"`
	CodeReusable    bool   `json:"codeReusable"`
}

// DefaultOTPPolicy is Keycloak's default: six-digit TOTP with HMAC-SHA1
// every 30 seconds, one step of clock skew allowed.
func DefaultOTPPolicy() OTPPolicy {
	return OTPPolicy{Type: "totp", Algorithm: "HmacSHA1", Digits: 6, LookAheadWindow: 1, Period: 30}
}

// SupportedApplications are the authenticator apps Keycloak names for the
// policy, as message keys; for HOTP only FreeOTP keeps counters.
func (p OTPPolicy) SupportedApplications() []string {
	if p.Type == "hotp" {
		return []string{"totpAppFreeOTPName"}
	}
	return []string{"totpAppFreeOTPName", "totpAppGoogleName", "totpAppMicrosoftAuthenticatorName"}
}

// WebAuthnPolicy is the realm's WebAuthn registration and authentication
// policy (Keycloak's webAuthnPolicy* settings, and webAuthnPolicyPasswordless*
// for passkeys).
type WebAuthnPolicy struct {
	RpEntityName                    string   `json:"rpEntityName"`
	SignatureAlgorithms             []string `json:"signatureAlgorithms"`
	RpID                            string   `json:"rpId"`
	AttestationConveyancePreference string   `json:"attestationConveyancePreference"`
	AuthenticatorAttachment         string   `json:"authenticatorAttachment"`
	RequireResidentKey              string   `json:"requireResidentKey"`
	UserVerificationRequirement     string   `json:"userVerificationRequirement"`
	CreateTimeout                   int      `json:"createTimeout"`
	AvoidSameAuthenticatorRegister  bool     `json:"avoidSameAuthenticatorRegister"`
	AcceptableAaguids               []string `json:"acceptableAaguids"`
	ExtraOrigins                    []string `json:"extraOrigins"`
	PasskeysEnabled                 bool     `json:"passkeysEnabled,omitempty"`
}

// DefaultWebAuthnPolicy is Keycloak's default two-factor WebAuthn policy.
func DefaultWebAuthnPolicy() WebAuthnPolicy {
	const unset = "not specified"
	return WebAuthnPolicy{RpEntityName: "keycloak", SignatureAlgorithms: []string{"ES256", "RS256"},
		AttestationConveyancePreference: unset, AuthenticatorAttachment: unset, RequireResidentKey: unset,
		UserVerificationRequirement: unset, AcceptableAaguids: []string{}, ExtraOrigins: []string{}}
}

// DefaultWebAuthnPasswordlessPolicy is Keycloak's default passwordless
// (passkey) policy: the same, but a resident key and user verification are
// required.
func DefaultWebAuthnPasswordlessPolicy() WebAuthnPolicy {
	p := DefaultWebAuthnPolicy()
	p.RequireResidentKey, p.UserVerificationRequirement = "Yes", "required"
	return p
}

// OTP returns the realm's OTP policy, Keycloak's default when none was set.
func (r Realm) OTP() OTPPolicy {
	if r.OTPPolicy == nil {
		return DefaultOTPPolicy()
	}
	return *r.OTPPolicy
}

// WebAuthn returns the realm's WebAuthn policy, or the default.
func (r Realm) WebAuthn() WebAuthnPolicy {
	if r.WebAuthnPolicy == nil {
		return DefaultWebAuthnPolicy()
	}
	return r.WebAuthnPolicy.clone()
}

// WebAuthnPasswordless returns the realm's passwordless WebAuthn policy, or
// the default.
func (r Realm) WebAuthnPasswordless() WebAuthnPolicy {
	if r.WebAuthnPasswordlessPolicy == nil {
		return DefaultWebAuthnPasswordlessPolicy()
	}
	return r.WebAuthnPasswordlessPolicy.clone()
}

func (p WebAuthnPolicy) clone() WebAuthnPolicy {
	p.SignatureAlgorithms = slices.Clone(p.SignatureAlgorithms)
	p.AcceptableAaguids = slices.Clone(p.AcceptableAaguids)
	p.ExtraOrigins = slices.Clone(p.ExtraOrigins)
	return p
}
