package webauthn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	wa "github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Error is a refused ceremony: the login page's message key and Keycloak's
// event error. Detail goes to the log only.
type Error struct {
	Key    string
	Event  string
	Detail string
}

func (e *Error) Error() string { return e.Event + ": " + e.Detail }

// Keycloak's messages and event errors for refused ceremonies.
const (
	keyRegistration = "webauthn-error-registration"
	keyAuth         = "webauthn-error-auth-verification"
	keyUserNotFound = "webauthn-error-user-not-found"
	keyDifferent    = "webauthn-error-different-user"
	// keyNoRelyingParty: the page's address names no domain (an IP
	// address) and the policy sets no relying party id, so no browser
	// would run the ceremony.
	keyNoRelyingParty = "webauthn-error-rp-id"
	eventNotAllowed   = "not_allowed"
	eventInvalid      = "invalid_user_credentials"
	eventNotFound     = "user_not_found"
	eventRegister     = "invalid_registration"
	maxLabel          = 255
	maxResponse       = 64 << 10
)

func refuse(key, event, format string, args ...any) *Error {
	return &Error{Key: key, Event: event, Detail: fmt.Sprintf(format, args...)}
}

// Ceremony is what the page runs (Options, the JSON the browser's
// navigator.credentials call takes) and what the login keeps until the
// answer comes (State).
type Ceremony struct {
	Options string
	State   string
}

// relyingParty is the library configured by the realm's policy for typ,
// for a page served at origin (scheme://host[:port]). The relying party id
// is the policy's, else origin's host; origins are origin and the policy's
// extra origins.
func relyingParty(rl realm.Realm, typ, origin string) (*wa.WebAuthn, realm.WebAuthnPolicy, error) {
	p := Policy(rl, typ)
	o, err := url.Parse(origin)
	if err != nil || o.Host == "" {
		return nil, p, fmt.Errorf("webauthn: bad origin %q", origin)
	}
	cfg := &wa.Config{RPID: p.RpID, RPDisplayName: p.RpEntityName, RPOrigins: append([]string{origin}, p.ExtraOrigins...)}
	if cfg.RPID == "" {
		cfg.RPID = o.Hostname()
	}
	if err := protocol.ValidateRPID(cfg.RPID); err != nil {
		return nil, p, refuse(keyNoRelyingParty, eventNotAllowed, "relying party id %q: %v", cfg.RPID, err)
	}
	if cfg.RPDisplayName == "" {
		cfg.RPDisplayName = "keycloak"
	}
	switch p.AttestationConveyancePreference {
	case "none", "indirect", "direct", "enterprise":
		cfg.AttestationPreference = protocol.ConveyancePreference(p.AttestationConveyancePreference)
	}
	sel := protocol.AuthenticatorSelection{}
	switch p.AuthenticatorAttachment {
	case "platform", "cross-platform":
		sel.AuthenticatorAttachment = protocol.AuthenticatorAttachment(p.AuthenticatorAttachment)
	}
	switch p.RequireResidentKey {
	case "Yes":
		sel.RequireResidentKey, sel.ResidentKey = protocol.ResidentKeyRequired(), protocol.ResidentKeyRequirementRequired
	case "No":
		sel.RequireResidentKey, sel.ResidentKey = protocol.ResidentKeyNotRequired(), protocol.ResidentKeyRequirementDiscouraged
	}
	switch p.UserVerificationRequirement {
	case "required", "preferred", "discouraged":
		sel.UserVerification = protocol.UserVerificationRequirement(p.UserVerificationRequirement)
	}
	cfg.AuthenticatorSelection = sel
	if p.CreateTimeout > 0 {
		d := time.Duration(p.CreateTimeout) * time.Second
		cfg.Timeouts.Registration = wa.TimeoutConfig{Enforce: true, Timeout: d, TimeoutUVD: d}
		cfg.Timeouts.Login = wa.TimeoutConfig{Enforce: true, Timeout: d, TimeoutUVD: d}
	}
	lib, err := wa.New(cfg)
	return lib, p, err
}

// algorithms maps the policy's signature algorithm names to COSE.
var algorithms = map[string]webauthncose.COSEAlgorithmIdentifier{
	"ES256": webauthncose.AlgES256, "ES384": webauthncose.AlgES384, "ES512": webauthncose.AlgES512,
	"RS256": webauthncose.AlgRS256, "RS384": webauthncose.AlgRS384, "RS512": webauthncose.AlgRS512,
	"RS1": webauthncose.AlgRS1, "Ed25519": webauthncose.AlgEdDSA, "EdDSA": webauthncose.AlgEdDSA,
}

func credentialParameters(p realm.WebAuthnPolicy) []protocol.CredentialParameter {
	var out []protocol.CredentialParameter
	for _, name := range p.SignatureAlgorithms {
		if alg, ok := algorithms[name]; ok {
			out = append(out, protocol.CredentialParameter{Type: protocol.PublicKeyCredentialType, Algorithm: alg})
		}
	}
	return out
}

func ceremony(options any, session *wa.SessionData) (Ceremony, error) {
	o, err := json.Marshal(options)
	if err != nil {
		return Ceremony{}, err
	}
	return Ceremony{Options: string(o), State: marshal(session)}, nil
}

func readState(state string) (wa.SessionData, bool) {
	var s wa.SessionData
	if state == "" || json.Unmarshal([]byte(state), &s) != nil || s.Challenge == "" {
		return s, false
	}
	return s, true
}

// BeginRegistration starts registering a credential of typ for u: the
// options ask for the policy's algorithms, attachment, resident key and
// user verification, and leave out the user's registered authenticators
// when the policy avoids registering the same one twice.
func BeginRegistration(ctx context.Context, db *store.DB, rl realm.Realm, typ, origin string, u user.User) (Ceremony, error) {
	lib, p, err := relyingParty(rl, typ, origin)
	if err != nil {
		return Ceremony{}, err
	}
	all, err := db.ListCredentials(ctx, u.ID)
	if err != nil {
		return Ceremony{}, err
	}
	acct := account{u: u, creds: credentialsOf(all, typ)}
	var opts []wa.RegistrationOption
	if params := credentialParameters(p); len(params) > 0 {
		opts = append(opts, wa.WithCredentialParameters(params))
	}
	if p.AvoidSameAuthenticatorRegister {
		opts = append(opts, wa.WithExclusions(wa.Credentials(acct.WebAuthnCredentials()).CredentialDescriptors()))
	}
	creation, session, err := lib.BeginRegistration(acct, opts...)
	if err != nil {
		return Ceremony{}, err
	}
	return ceremony(creation, session)
}

// FinishRegistration checks the browser's answer (response, the
// PublicKeyCredential as JSON) to the ceremony state and stores the new
// credential of typ with label. A refused answer is an *Error and stores
// nothing.
func FinishRegistration(ctx context.Context, db *store.DB, rl realm.Realm, typ, origin string, u user.User, state, response, label string, now time.Time) (user.Credential, error) {
	lib, p, err := relyingParty(rl, typ, origin)
	if err != nil {
		return user.Credential{}, err
	}
	label = strings.TrimSpace(label)
	if utf8.RuneCountInString(label) > maxLabel {
		return user.Credential{}, refuse(keyRegistration, eventRegister, "label too long")
	}
	session, ok := readState(state)
	if !ok {
		return user.Credential{}, refuse(keyRegistration, eventRegister, "no registration in progress")
	}
	if len(response) > maxResponse {
		return user.Credential{}, refuse(keyRegistration, eventRegister, "response too large")
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(response))
	if err != nil {
		return user.Credential{}, refuse(keyRegistration, eventRegister, "unreadable response: %v", err)
	}
	all, err := db.ListCredentials(ctx, u.ID)
	if err != nil {
		return user.Credential{}, err
	}
	acct := account{u: u, creds: credentialsOf(all, typ)}
	cred, err := lib.CreateCredential(acct, session, parsed)
	if err != nil {
		return user.Credential{}, refuse(keyRegistration, eventRegister, "%v", err)
	}
	cd := dataOf(cred)
	if len(p.AcceptableAaguids) > 0 && !slices.ContainsFunc(p.AcceptableAaguids, func(a string) bool { return strings.EqualFold(a, cd.AAGUID) }) {
		return user.Credential{}, refuse(keyRegistration, eventRegister, "authenticator %s not acceptable", cd.AAGUID)
	}
	// A credential id is one authenticator's key: registered once.
	for _, t := range []string{TypeTwoFactor, TypePasswordless} {
		for _, s := range credentialsOf(all, t) {
			if slices.Equal(s.lib.ID, cred.ID) {
				return user.Credential{}, refuse(keyRegistration, eventRegister, "credential already registered")
			}
		}
	}
	priority := 0
	for _, c := range all {
		priority = max(priority, c.Priority)
	}
	if label == "" {
		label = defaultLabel(cd.AAGUID)
	}
	nc := user.Credential{ID: store.NewID(), UserID: u.ID, Type: typ, UserLabel: label, CreatedDate: now.UnixMilli(),
		SecretData: "{}", CredentialData: marshal(cd), Priority: priority + 10}
	if err := db.CreateCredential(ctx, nc); err != nil {
		return user.Credential{}, fmt.Errorf("store WebAuthn credential of user %s: %w", u.ID, err)
	}
	return nc, nil
}

// defaultLabel names a credential registered without a label: its
// authenticator model, as far as the AAGUID tells.
func defaultLabel(aaguid string) string {
	if aaguid == "" || aaguid == uuid.Nil.String() {
		return "Passkey"
	}
	return "Passkey " + aaguid[:8]
}

// BeginLogin starts an assertion: for u's credentials of typ when u is not
// nil, else (a passkey login, nobody identified yet) for any discoverable
// credential.
func BeginLogin(ctx context.Context, db *store.DB, rl realm.Realm, typ, origin string, u *user.User) (Ceremony, error) {
	lib, _, err := relyingParty(rl, typ, origin)
	if err != nil {
		return Ceremony{}, err
	}
	uv := lib.Config.AuthenticatorSelection.UserVerification
	var opts []wa.LoginOption
	if uv != "" {
		opts = append(opts, wa.WithUserVerification(uv))
	}
	if u == nil {
		assertion, session, err := lib.BeginDiscoverableLogin(opts...)
		if err != nil {
			return Ceremony{}, err
		}
		return ceremony(assertion, session)
	}
	all, err := db.ListCredentials(ctx, u.ID)
	if err != nil {
		return Ceremony{}, err
	}
	acct := account{u: *u, creds: credentialsOf(all, typ)}
	if len(acct.creds) == 0 {
		return Ceremony{}, refuse(keyAuth, eventInvalid, "user has no %s credential", typ)
	}
	assertion, session, err := lib.BeginLogin(acct, opts...)
	if err != nil {
		return Ceremony{}, err
	}
	return ceremony(assertion, session)
}

// BeginConditionalLogin starts the passkey assertion a username field
// offers through the browser's autofill (conditional mediation): any
// discoverable credential, under the passwordless policy. It is finished
// by FinishLogin with typ TypePasswordless and no user.
func BeginConditionalLogin(rl realm.Realm, origin string) (Ceremony, error) {
	lib, _, err := relyingParty(rl, TypePasswordless, origin)
	if err != nil {
		return Ceremony{}, err
	}
	var opts []wa.LoginOption
	if uv := lib.Config.AuthenticatorSelection.UserVerification; uv != "" {
		opts = append(opts, wa.WithUserVerification(uv))
	}
	assertion, session, err := lib.BeginDiscoverableMediatedLogin(protocol.MediationConditional, opts...)
	if err != nil {
		return Ceremony{}, err
	}
	return ceremony(assertion, session)
}

// FinishLogin checks the browser's assertion (response, the
// PublicKeyCredential as JSON) against the ceremony state. u is the user
// identified before (nil for a passkey login, which finds the user by the
// assertion's user handle and must find an enabled one). The signature
// counter must move forward unless both are zero; the stored counter is
// then advanced, compare-and-swap, so a replayed assertion never passes
// twice. A refused assertion is an *Error and changes nothing.
//
// Once the user is known, the check is an attempt under the realm's
// brute-force detection (authn.Attempt), as a password or an OTP code is:
// a refused assertion counts as a failed login, and a locked-out user's
// assertion is refused without being looked at. The client's address for
// the failure record comes from ctx (authn.WithClientIP).
func FinishLogin(ctx context.Context, db *store.DB, rl realm.Realm, typ, origin string, u *user.User, state, response string, now time.Time) (user.User, user.Credential, error) {
	lib, _, err := relyingParty(rl, typ, origin)
	if err != nil {
		return user.User{}, user.Credential{}, err
	}
	session, ok := readState(state)
	if !ok {
		return user.User{}, user.Credential{}, refuse(keyAuth, eventInvalid, "no assertion in progress")
	}
	if len(response) > maxResponse {
		return user.User{}, user.Credential{}, refuse(keyAuth, eventInvalid, "response too large")
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(response))
	if err != nil {
		return user.User{}, user.Credential{}, refuse(keyAuth, eventInvalid, "unreadable response: %v", err)
	}
	if u == nil {
		handle := string(parsed.Response.UserHandle)
		found, err := db.GetUser(ctx, rl.ID, handle)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !found.Enabled) || handle == "" {
			return user.User{}, user.Credential{}, refuse(keyUserNotFound, eventNotFound, "no user for the user handle")
		}
		if err != nil {
			return user.User{}, user.Credential{}, err
		}
		u = &found
	} else if h := parsed.Response.UserHandle; len(h) > 0 && string(h) != u.ID {
		return user.User{}, user.Credential{}, refuse(keyDifferent, eventInvalid, "assertion of another user")
	}
	var (
		refusal *Error
		used    user.Credential
	)
	verify := func(tx *store.DB, cur user.User) (bool, error) {
		refusal = nil
		c, why, err := checkAssertion(ctx, tx, lib, session, parsed, cur, typ)
		if err != nil || why != nil {
			refusal = why
			return false, err
		}
		used = c
		return true, nil
	}
	cur, verdict, err := authn.Attempt(ctx, db, nil, rl, *u, authn.ClientIP(ctx), now, verify)
	if err != nil {
		return *u, user.Credential{}, err
	}
	switch verdict {
	case authn.Locked:
		return *u, user.Credential{}, refuse(keyAuth, eventInvalid, "user locked by brute-force detection")
	case authn.Gone:
		return user.User{}, user.Credential{}, refuse(keyUserNotFound, eventNotFound, "user deleted meanwhile")
	case authn.Refused:
		if refusal == nil {
			refusal = refuse(keyAuth, eventInvalid, "assertion refused")
		}
		return *u, user.Credential{}, refusal
	}
	return cur, used, nil
}

// checkAssertion verifies parsed, an assertion of u's credential of typ,
// against the ceremony's session, and advances the stored counter through
// db. A refusal is why (err stays nil); nothing is stored then.
func checkAssertion(ctx context.Context, db *store.DB, lib *wa.WebAuthn, session wa.SessionData, parsed *protocol.ParsedCredentialAssertionData,
	u user.User, typ string) (user.Credential, *Error, error) {
	all, err := db.ListCredentials(ctx, u.ID)
	if err != nil {
		return user.Credential{}, nil, err
	}
	acct := account{u: u, creds: credentialsOf(all, typ)}
	i := slices.IndexFunc(acct.creds, func(s stored) bool { return slices.Equal(s.lib.ID, parsed.RawID) })
	if i < 0 {
		return user.Credential{}, refuse(keyAuth, eventInvalid, "unknown credential id"), nil
	}
	var cred *wa.Credential
	if len(session.UserID) == 0 {
		cred, err = lib.ValidateDiscoverableLogin(func([]byte, []byte) (wa.User, error) { return acct, nil }, session, parsed)
	} else {
		cred, err = lib.ValidateLogin(acct, session, parsed)
	}
	if err != nil {
		return user.Credential{}, refuse(keyAuth, eventInvalid, "%v", err), nil
	}
	if cred.Authenticator.CloneWarning {
		return user.Credential{}, refuse(keyAuth, eventInvalid, "signature counter did not increase (%d after %d)",
			parsed.Response.AuthenticatorData.Counter, acct.creds[i].data.Counter), nil
	}
	sc := acct.creds[i]
	if next := int64(parsed.Response.AuthenticatorData.Counter); next != sc.data.Counter {
		cd := sc.data
		cd.Counter = next
		err := db.UpdateCredentialData(ctx, sc.ID, sc.CredentialData, marshal(cd))
		if errors.Is(err, store.ErrNotFound) {
			return user.Credential{}, refuse(keyAuth, eventInvalid, "credential used concurrently"), nil
		}
		if err != nil {
			return user.Credential{}, nil, err
		}
		sc.CredentialData = marshal(cd)
	}
	return sc.Credential, nil, nil
}
