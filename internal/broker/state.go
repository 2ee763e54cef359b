package broker

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"strings"
)

// The state sent upstream names the login in progress it belongs to and
// carries a one-time secret kept with that login: "<login id>.<secret>".
// The callback finds the login by its id, requires the browser that
// started it (its AUTH_SESSION_ID cookie), compares the secret in
// constant time, and forgets the secret before redeeming the code, so a
// state is good once, in one browser, for one login.

// ErrState is a callback whose state is forged, replayed, or of another
// login.
var ErrState = errors.New("broker: invalid state")

// Pending is what a login keeps while the browser is at the upstream.
type Pending struct {
	Alias    string `json:"alias"`
	Secret   string `json:"secret"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier,omitempty"`
	// RequestID is the ID of the AuthnRequest sent to a SAML provider,
	// which its Response must answer.
	RequestID string `json:"request_id,omitempty"`
	// Link is set when the login links the identity to the user already
	// signed in (client-initiated account linking) rather than logging in.
	Link bool `json:"link,omitempty"`
}

// NewPending starts a request to the upstream alias: fresh secret, nonce
// and (when pkce) code verifier.
func NewPending(alias string, pkce bool) Pending {
	p := Pending{Alias: alias, Secret: randomText(), Nonce: randomText()}
	if pkce {
		p.Verifier = randomText() + randomText()
	}
	return p
}

// State is the state parameter of the request for the login loginID.
func (p Pending) State(loginID string) string { return loginID + "." + p.Secret }

// SplitState returns the login a state names, and its secret.
func SplitState(state string) (loginID, secret string, err error) {
	i := strings.LastIndexByte(state, '.')
	if i <= 0 || i == len(state)-1 || len(state) > 512 {
		return "", "", ErrState
	}
	return state[:i], state[i+1:], nil
}

// Check compares a callback's secret with the pending request's.
func (p Pending) Check(alias, secret string) error {
	if p.Secret == "" || p.Alias != alias || !equal(p.Secret, secret) {
		return ErrState
	}
	return nil
}

func randomText() string { return rand.Text() }

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
