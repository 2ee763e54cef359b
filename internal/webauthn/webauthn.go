// Package webauthn owns security keys and passkeys as Keycloak keeps them:
// credentials of type "webauthn" (a second factor) and
// "webauthn-passwordless" (a passkey that logs in alone), registered and
// checked under the realm's two WebAuthn policies. The ceremonies
// themselves (challenges, attestation, assertion signatures, origin and
// relying-party checks) are github.com/go-webauthn/webauthn's.
//
// A credential is stored in Keycloak's layout, so exports move between
// Keycloak and Gatehouse unchanged: secretData "{}" and credentialData
// {"aaguid":..., "credentialId":<base64>, "counter":n,
// "credentialPublicKey":<base64url COSE key>,
// "attestationStatementFormat":"none", "transports":[...]}.
//
// A ceremony's state (its challenge) is a string the caller keeps in the
// authentication session in the database, so a ceremony started on one
// node finishes on another; it is used once.
package webauthn

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	wa "github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// The credential types, Keycloak's WebAuthnCredentialModel types.
const (
	TypeTwoFactor    = "webauthn"
	TypePasswordless = "webauthn-passwordless"
)

// The required actions that register a credential of each type.
const (
	ActionRegister             = "webauthn-register"
	ActionRegisterPasswordless = "webauthn-register-passwordless"
)

// RegisterAction is the required action that registers a credential of typ.
func RegisterAction(typ string) string {
	if typ == TypePasswordless {
		return ActionRegisterPasswordless
	}
	return ActionRegister
}

// Policy is the realm's policy for credentials of typ.
func Policy(rl realm.Realm, typ string) realm.WebAuthnPolicy {
	if typ == TypePasswordless {
		return rl.WebAuthnPasswordless()
	}
	return rl.WebAuthn()
}

// CredentialData is Keycloak's WebAuthnCredentialData.
type CredentialData struct {
	AAGUID                     string   `json:"aaguid"`
	CredentialID               string   `json:"credentialId"`
	Counter                    int64    `json:"counter"`
	AttestationStatement       string   `json:"attestationStatement,omitempty"`
	CredentialPublicKey        string   `json:"credentialPublicKey"`
	AttestationStatementFormat string   `json:"attestationStatementFormat"`
	Transports                 []string `json:"transports"`
}

var errMalformed = errors.New("malformed WebAuthn credential")

// decodeBytes reads Keycloak's base64 (standard or URL alphabet, padded or
// not).
func decodeBytes(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "+/") {
		return base64.RawStdEncoding.DecodeString(s)
	}
	return base64.RawURLEncoding.DecodeString(s)
}

// stored is a stored credential read for the library.
type stored struct {
	user.Credential
	data CredentialData
	lib  wa.Credential
}

// decode reads a stored credential; an unreadable one is an error naming
// the credential, never its key.
func decode(c user.Credential) (stored, error) {
	var cd CredentialData
	if err := json.Unmarshal([]byte(c.CredentialData), &cd); err != nil {
		return stored{}, fmt.Errorf("credential %s: %w: credential data", c.ID, errMalformed)
	}
	id, err := decodeBytes(cd.CredentialID)
	if err != nil || len(id) == 0 {
		return stored{}, fmt.Errorf("credential %s: %w: credential id", c.ID, errMalformed)
	}
	pk, err := decodeBytes(cd.CredentialPublicKey)
	if err != nil || len(pk) == 0 || cd.Counter < 0 || cd.Counter > 1<<32-1 {
		return stored{}, fmt.Errorf("credential %s: %w: public key", c.ID, errMalformed)
	}
	lc := wa.Credential{ID: id, PublicKey: pk, AttestationFormat: cd.AttestationStatementFormat,
		Authenticator: wa.Authenticator{SignCount: uint32(cd.Counter)}}
	if a, err := uuid.Parse(cd.AAGUID); err == nil {
		lc.Authenticator.AAGUID = a[:]
	}
	for _, t := range cd.Transports {
		lc.Transport = append(lc.Transport, protocol.AuthenticatorTransport(t))
	}
	return stored{Credential: c, data: cd, lib: lc}, nil
}

// dataOf is the credentialData of a credential the library just verified.
func dataOf(c *wa.Credential) CredentialData {
	cd := CredentialData{CredentialID: base64.StdEncoding.EncodeToString(c.ID),
		CredentialPublicKey:        base64.RawURLEncoding.EncodeToString(c.PublicKey),
		Counter:                    int64(c.Authenticator.SignCount),
		AttestationStatementFormat: c.AttestationFormat, Transports: []string{}}
	if a, err := uuid.FromBytes(c.Authenticator.AAGUID); err == nil {
		cd.AAGUID = a.String()
	} else {
		cd.AAGUID = uuid.Nil.String()
	}
	if cd.AttestationStatementFormat == "" {
		cd.AttestationStatementFormat = "none"
	}
	for _, t := range c.Transport {
		cd.Transports = append(cd.Transports, string(t))
	}
	return cd
}

func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs always marshal
	}
	return string(b)
}

// account is a user as the library sees it: the user handle is the user's
// id (its UTF-8 bytes), as Keycloak sends it.
type account struct {
	u     user.User
	creds []stored
}

func (a account) WebAuthnID() []byte          { return []byte(a.u.ID) }
func (a account) WebAuthnName() string        { return a.u.Username }
func (a account) WebAuthnDisplayName() string { return a.u.Username }
func (a account) WebAuthnCredentials() []wa.Credential {
	out := make([]wa.Credential, len(a.creds))
	for i, c := range a.creds {
		out[i] = c.lib
	}
	return out
}

// credentialsOf are u's readable credentials of typ; unreadable ones are
// skipped (they can never match).
func credentialsOf(all []user.Credential, typ string) []stored {
	var out []stored
	for _, c := range all {
		if c.Type != typ {
			continue
		}
		if s, err := decode(c); err == nil {
			out = append(out, s)
		}
	}
	return out
}

// Enabled reports whether the realm's flows let anyone log in with a
// credential of typ: some flow runs its authenticator (flow.Config.Runs).
func Enabled(cfg flow.Config, typ string) bool {
	id := Authenticator(typ)
	return cfg.Runs(func(a string) bool { return a == id })
}

// Authenticator is the flow step that logs in with a credential of typ.
func Authenticator(typ string) string {
	if typ == TypePasswordless {
		return "webauthn-authenticator-passwordless"
	}
	return "webauthn-authenticator"
}
