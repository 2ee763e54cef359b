package rep

import (
	"encoding/json"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/clientpolicy"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// RealmPolicies are the realm's otpPolicy* and webAuthnPolicy* settings, in
// Keycloak's flat field names (embedded in Realm). They are stored and read
// back as written, so tools that compare a realm after applying it see no
// drift.
type RealmPolicies struct {
	OTPPolicyType            *string  `json:"otpPolicyType,omitempty"`
	OTPPolicyAlgorithm       *string  `json:"otpPolicyAlgorithm,omitempty"`
	OTPPolicyInitialCounter  *int     `json:"otpPolicyInitialCounter,omitempty"`
	OTPPolicyDigits          *int     `json:"otpPolicyDigits,omitempty"`
	OTPPolicyLookAheadWindow *int     `json:"otpPolicyLookAheadWindow,omitempty"`
	OTPPolicyPeriod          *int     `json:"otpPolicyPeriod,omitempty"`
	OTPPolicyCodeReusable    *bool    `json:"otpPolicyCodeReusable,omitempty"`
	OTPSupportedApplications []string `json:"otpSupportedApplications,omitzero"`

	WebAuthnPolicyRpEntityName                    *string  `json:"webAuthnPolicyRpEntityName,omitempty"`
	WebAuthnPolicySignatureAlgorithms             []string `json:"webAuthnPolicySignatureAlgorithms,omitzero"`
	WebAuthnPolicyRpID                            *string  `json:"webAuthnPolicyRpId,omitempty"`
	WebAuthnPolicyAttestationConveyancePreference *string  `json:"webAuthnPolicyAttestationConveyancePreference,omitempty"`
	WebAuthnPolicyAuthenticatorAttachment         *string  `json:"webAuthnPolicyAuthenticatorAttachment,omitempty"`
	WebAuthnPolicyRequireResidentKey              *string  `json:"webAuthnPolicyRequireResidentKey,omitempty"`
	WebAuthnPolicyUserVerificationRequirement     *string  `json:"webAuthnPolicyUserVerificationRequirement,omitempty"`
	WebAuthnPolicyCreateTimeout                   *int     `json:"webAuthnPolicyCreateTimeout,omitempty"`
	WebAuthnPolicyAvoidSameAuthenticatorRegister  *bool    `json:"webAuthnPolicyAvoidSameAuthenticatorRegister,omitempty"`
	WebAuthnPolicyAcceptableAaguids               []string `json:"webAuthnPolicyAcceptableAaguids,omitzero"`
	WebAuthnPolicyExtraOrigins                    []string `json:"webAuthnPolicyExtraOrigins,omitzero"`

	WebAuthnPolicyPasswordlessRpEntityName                    *string  `json:"webAuthnPolicyPasswordlessRpEntityName,omitempty"`
	WebAuthnPolicyPasswordlessSignatureAlgorithms             []string `json:"webAuthnPolicyPasswordlessSignatureAlgorithms,omitzero"`
	WebAuthnPolicyPasswordlessRpID                            *string  `json:"webAuthnPolicyPasswordlessRpId,omitempty"`
	WebAuthnPolicyPasswordlessAttestationConveyancePreference *string  `json:"webAuthnPolicyPasswordlessAttestationConveyancePreference,omitempty"`
	WebAuthnPolicyPasswordlessAuthenticatorAttachment         *string  `json:"webAuthnPolicyPasswordlessAuthenticatorAttachment,omitempty"`
	WebAuthnPolicyPasswordlessRequireResidentKey              *string  `json:"webAuthnPolicyPasswordlessRequireResidentKey,omitempty"`
	WebAuthnPolicyPasswordlessUserVerificationRequirement     *string  `json:"webAuthnPolicyPasswordlessUserVerificationRequirement,omitempty"`
	WebAuthnPolicyPasswordlessCreateTimeout                   *int     `json:"webAuthnPolicyPasswordlessCreateTimeout,omitempty"`
	WebAuthnPolicyPasswordlessAvoidSameAuthenticatorRegister  *bool    `json:"webAuthnPolicyPasswordlessAvoidSameAuthenticatorRegister,omitempty"`
	WebAuthnPolicyPasswordlessAcceptableAaguids               []string `json:"webAuthnPolicyPasswordlessAcceptableAaguids,omitzero"`
	WebAuthnPolicyPasswordlessExtraOrigins                    []string `json:"webAuthnPolicyPasswordlessExtraOrigins,omitzero"`
	WebAuthnPolicyPasswordlessPasskeysEnabled                 *bool    `json:"webAuthnPolicyPasswordlessPasskeysEnabled,omitempty"`

	// ClientProfiles and ClientPolicies are the realm's client policy
	// documents ({"profiles": […]}, {"policies": […]}), as an export
	// carries them.
	ClientProfiles json.RawMessage `json:"clientProfiles,omitempty"`
	ClientPolicies json.RawMessage `json:"clientPolicies,omitempty"`
}

func realmPoliciesFromDomain(r realm.Realm) RealmPolicies {
	o, w, pl := r.OTP(), r.WebAuthn(), r.WebAuthnPasswordless()
	return RealmPolicies{
		OTPPolicyType: &o.Type, OTPPolicyAlgorithm: &o.Algorithm, OTPPolicyInitialCounter: &o.InitialCounter,
		OTPPolicyDigits: &o.Digits, OTPPolicyLookAheadWindow: &o.LookAheadWindow, OTPPolicyPeriod: &o.Period,
		OTPPolicyCodeReusable: &o.CodeReusable, OTPSupportedApplications: o.SupportedApplications(),

		WebAuthnPolicyRpEntityName: &w.RpEntityName, WebAuthnPolicySignatureAlgorithms: cloneList(w.SignatureAlgorithms),
		WebAuthnPolicyRpID: &w.RpID, WebAuthnPolicyAttestationConveyancePreference: &w.AttestationConveyancePreference,
		WebAuthnPolicyAuthenticatorAttachment: &w.AuthenticatorAttachment, WebAuthnPolicyRequireResidentKey: &w.RequireResidentKey,
		WebAuthnPolicyUserVerificationRequirement: &w.UserVerificationRequirement, WebAuthnPolicyCreateTimeout: &w.CreateTimeout,
		WebAuthnPolicyAvoidSameAuthenticatorRegister: &w.AvoidSameAuthenticatorRegister,
		WebAuthnPolicyAcceptableAaguids:              cloneList(w.AcceptableAaguids), WebAuthnPolicyExtraOrigins: cloneList(w.ExtraOrigins),

		WebAuthnPolicyPasswordlessRpEntityName: &pl.RpEntityName, WebAuthnPolicyPasswordlessSignatureAlgorithms: cloneList(pl.SignatureAlgorithms),
		WebAuthnPolicyPasswordlessRpID: &pl.RpID, WebAuthnPolicyPasswordlessAttestationConveyancePreference: &pl.AttestationConveyancePreference,
		WebAuthnPolicyPasswordlessAuthenticatorAttachment: &pl.AuthenticatorAttachment, WebAuthnPolicyPasswordlessRequireResidentKey: &pl.RequireResidentKey,
		WebAuthnPolicyPasswordlessUserVerificationRequirement: &pl.UserVerificationRequirement, WebAuthnPolicyPasswordlessCreateTimeout: &pl.CreateTimeout,
		WebAuthnPolicyPasswordlessAvoidSameAuthenticatorRegister: &pl.AvoidSameAuthenticatorRegister,
		WebAuthnPolicyPasswordlessAcceptableAaguids:              cloneList(pl.AcceptableAaguids), WebAuthnPolicyPasswordlessExtraOrigins: cloneList(pl.ExtraOrigins),
		WebAuthnPolicyPasswordlessPasskeysEnabled: &pl.PasskeysEnabled,
		ClientProfiles: rawOrNil(r.ClientProfiles), ClientPolicies: rawOrNil(r.ClientPolicies),
	}
}

func rawOrNil(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// ClientPoliciesError reports why the client policy documents x carries,
// with the realm's stored ones where x leaves one out, cannot be stored (an
// executor or condition Gatehouse does not run, a policy naming a missing
// profile); nil when they can or x carries none. ApplyTo keeps only valid
// documents, so callers answering an API check this first.
func (x RealmPolicies) ClientPoliciesError(r realm.Realm) error {
	_, _, err := x.clientPolicyDocs(r)
	return err
}

func (x RealmPolicies) clientPolicyDocs(r realm.Realm) (profiles, policies string, err error) {
	profiles, policies = r.ClientProfiles, r.ClientPolicies
	if x.ClientProfiles == nil && x.ClientPolicies == nil {
		return profiles, policies, nil
	}
	if x.ClientProfiles != nil {
		profiles = string(x.ClientProfiles)
	}
	if x.ClientPolicies != nil {
		policies = string(x.ClientPolicies)
	}
	pr, po, err := clientpolicy.Parse(profiles, policies)
	if err != nil {
		return "", "", err
	}
	if err := clientpolicy.ValidateProfiles(pr); err != nil {
		return "", "", err
	}
	if err := clientpolicy.ValidatePolicies(po, pr); err != nil {
		return "", "", err
	}
	return profiles, policies, nil
}

// applyTo sets the fields x carries onto the realm's policies; absent
// fields keep their values. A policy is stored once a write changes it, so a
// realm read and written back unchanged keeps following the defaults.
func (x RealmPolicies) applyTo(r *realm.Realm) {
	if profiles, policies, err := x.clientPolicyDocs(*r); err == nil {
		r.ClientProfiles, r.ClientPolicies = profiles, policies
	}
	o := r.OTP()
	before := o
	if x.OTPPolicyType != nil || x.OTPPolicyAlgorithm != nil || x.OTPPolicyInitialCounter != nil || x.OTPPolicyDigits != nil ||
		x.OTPPolicyLookAheadWindow != nil || x.OTPPolicyPeriod != nil || x.OTPPolicyCodeReusable != nil {
		set(&o.Type, x.OTPPolicyType)
		set(&o.Algorithm, x.OTPPolicyAlgorithm)
		set(&o.InitialCounter, x.OTPPolicyInitialCounter)
		set(&o.Digits, x.OTPPolicyDigits)
		set(&o.LookAheadWindow, x.OTPPolicyLookAheadWindow)
		set(&o.Period, x.OTPPolicyPeriod)
		set(&o.CodeReusable, x.OTPPolicyCodeReusable)
		if o != before {
			r.OTPPolicy = &o
		}
	}
	w := r.WebAuthn()
	if applyWebAuthn(&w, webAuthnFields{x.WebAuthnPolicyRpEntityName, x.WebAuthnPolicySignatureAlgorithms, x.WebAuthnPolicyRpID,
		x.WebAuthnPolicyAttestationConveyancePreference, x.WebAuthnPolicyAuthenticatorAttachment, x.WebAuthnPolicyRequireResidentKey,
		x.WebAuthnPolicyUserVerificationRequirement, x.WebAuthnPolicyCreateTimeout, x.WebAuthnPolicyAvoidSameAuthenticatorRegister,
		x.WebAuthnPolicyAcceptableAaguids, x.WebAuthnPolicyExtraOrigins, nil}) {
		r.WebAuthnPolicy = &w
	}
	pl := r.WebAuthnPasswordless()
	if applyWebAuthn(&pl, webAuthnFields{x.WebAuthnPolicyPasswordlessRpEntityName, x.WebAuthnPolicyPasswordlessSignatureAlgorithms,
		x.WebAuthnPolicyPasswordlessRpID, x.WebAuthnPolicyPasswordlessAttestationConveyancePreference,
		x.WebAuthnPolicyPasswordlessAuthenticatorAttachment, x.WebAuthnPolicyPasswordlessRequireResidentKey,
		x.WebAuthnPolicyPasswordlessUserVerificationRequirement, x.WebAuthnPolicyPasswordlessCreateTimeout,
		x.WebAuthnPolicyPasswordlessAvoidSameAuthenticatorRegister, x.WebAuthnPolicyPasswordlessAcceptableAaguids,
		x.WebAuthnPolicyPasswordlessExtraOrigins, x.WebAuthnPolicyPasswordlessPasskeysEnabled}) {
		r.WebAuthnPasswordlessPolicy = &pl
	}
}

// webAuthnFields are one WebAuthn policy's fields of a representation.
type webAuthnFields struct {
	rpEntityName        *string
	signatureAlgorithms []string
	rpID, attestation   *string
	attachment          *string
	residentKey         *string
	userVerification    *string
	createTimeout       *int
	avoidSame           *bool
	aaguids, origins    []string
	passkeys            *bool
}

// applyWebAuthn writes the fields f carries into p and reports whether p
// changed.
func applyWebAuthn(p *realm.WebAuthnPolicy, f webAuthnFields) bool {
	changed := false
	str := func(dst *string, src *string) {
		if src != nil && *src != *dst {
			*dst, changed = *src, true
		}
	}
	list := func(dst *[]string, src []string) {
		if src != nil && !slices.Equal(src, *dst) {
			*dst, changed = slices.Clone(src), true
		}
	}
	str(&p.RpEntityName, f.rpEntityName)
	list(&p.SignatureAlgorithms, f.signatureAlgorithms)
	str(&p.RpID, f.rpID)
	str(&p.AttestationConveyancePreference, f.attestation)
	str(&p.AuthenticatorAttachment, f.attachment)
	str(&p.RequireResidentKey, f.residentKey)
	str(&p.UserVerificationRequirement, f.userVerification)
	if f.createTimeout != nil && *f.createTimeout != p.CreateTimeout {
		p.CreateTimeout, changed = *f.createTimeout, true
	}
	if f.avoidSame != nil && *f.avoidSame != p.AvoidSameAuthenticatorRegister {
		p.AvoidSameAuthenticatorRegister, changed = *f.avoidSame, true
	}
	list(&p.AcceptableAaguids, f.aaguids)
	list(&p.ExtraOrigins, f.origins)
	if f.passkeys != nil && *f.passkeys != p.PasskeysEnabled {
		p.PasskeysEnabled, changed = *f.passkeys, true
	}
	return changed
}
