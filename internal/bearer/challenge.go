package bearer

import (
	"errors"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

// Refusal is a token refused at a resource endpoint where DPoP (RFC 9449)
// was involved: the token was presented under the DPoP scheme, or it is
// bound to a key (or its client requires DPoP) and came as Bearer. Its 401
// carries a DPoP challenge (RFC 9449 §7.1). A Refusal is ErrInvalid.
type Refusal struct {
	Realm string // the realm's name
	// Code is invalid_token for the token itself, invalid_dpop_proof for a
	// missing or failed proof.
	Code string
	Desc string
}

func (e *Refusal) Error() string        { return e.Code + ": " + e.Desc }
func (e *Refusal) Is(target error) bool { return target == ErrInvalid }

// tokenRefusal and proofRefusal are the DPoP refusals of a token and of its proof.
func tokenRefusal(rl string, desc string) error {
	return &Refusal{Realm: rl, Code: "invalid_token", Desc: desc}
}
func proofRefusal(rl string, desc string) error {
	return &Refusal{Realm: rl, Code: "invalid_dpop_proof", Desc: desc}
}

// Challenge is the WWW-Authenticate value of a 401 for err, a refusal of
// ValidateRequest in realm realmName (DPoPChallenge when DPoP was
// involved, else RFC 6750's Bearer invalid_token challenge), with the error
// and description the body repeats.
func Challenge(realmName string, err error) (header, code, desc string) {
	var rf *Refusal
	if errors.As(err, &rf) {
		return DPoPChallenge(err), rf.Code, rf.Desc
	}
	code, desc = "invalid_token", "Token verification failed"
	return `Bearer realm="` + quoted(realmName) + `", error="` + code + `", error_description="` + desc + `"`, code, desc
}

// DPoPChallenge is RFC 9449 §7.1's challenge for a Refusal err: the DPoP
// scheme with the proof algorithms accepted, the realm, error and
// description. It is "" when err is no Refusal.
func DPoPChallenge(err error) string {
	var rf *Refusal
	if !errors.As(err, &rf) {
		return ""
	}
	return `DPoP algs="` + strings.Join(keys.AsymmetricAlgorithms, " ") + `", realm="` + quoted(rf.Realm) +
		`", error="` + rf.Code + `", error_description="` + quoted(rf.Desc) + `"`
}

// quoted makes s safe inside an auth-param's quoted-string.
func quoted(s string) string {
	return strings.NewReplacer(`"`, `'`, `\`, `/`, "\r", " ", "\n", " ").Replace(s)
}
