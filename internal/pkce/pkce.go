// Package pkce owns the rules of Proof Key for Code Exchange (RFC 7636)
// that the authorization endpoint and the device authorization endpoint
// apply to a challenge, and that the token endpoint applies to the verifier
// when the authorization code or the device code is redeemed.
package pkce

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"regexp"
	"sync"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/clientpolicy"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// AttrMethod is the client attribute that forces PKCE with one method.
const AttrMethod = "pkce.code.challenge.method"

// unreserved is RFC 7636 §4.1 and §4.2's shape of both code_verifier and
// code_challenge: 43 to 128 unreserved characters. Compiled on first use,
// as the counted repetition makes a large program.
var unreserved = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`) })

// RequiredMethod is the method c must use, "" when PKCE is optional: the
// client's own attribute, or S256 when a pkce-enforcer client policy of
// the realm applies to c.
func RequiredMethod(rl realm.Realm, c client.Client) string {
	if set, err := clientpolicy.FromRealm(rl.ClientProfiles, rl.ClientPolicies); err == nil && set.RequiresPKCE(c) {
		return "S256"
	}
	return c.Attributes[AttrMethod]
}

// CheckChallenge applies the request-side rules to a code_challenge and
// code_challenge_method. A client with a required method must send a
// challenge with exactly that method; other clients may send one with S256
// or plain (the default, RFC 7636 §4.3), or none. It returns the method to
// store with the challenge, or the invalid_request error description.
func CheckChallenge(required, challenge, method string) (storedMethod, desc string) {
	if required != "" {
		switch {
		case method == "":
			return "", "Missing parameter: code_challenge_method"
		case method != required:
			return "", "Invalid parameter: code challenge method is not configured one"
		case challenge == "":
			return "", "Missing parameter: code_challenge"
		}
	} else {
		if challenge == "" {
			if method != "" {
				return "", "Missing parameter: code_challenge"
			}
			return "", ""
		}
		if method == "" {
			method = "plain"
		}
		if method != "plain" && method != "S256" {
			return "", "Invalid parameter: invalid code_challenge_method"
		}
	}
	if !unreserved().MatchString(challenge) {
		return "", "Invalid parameter: code_challenge"
	}
	return method, ""
}

// Verify checks a code_verifier against the challenge stored with a code.
// A code issued with a challenge needs the matching verifier; a code issued
// without one must not be redeemed with a verifier either (a downgrade, RFC
// 9700 §4.8). It returns the invalid_grant error description, "" when the
// verifier is right.
func Verify(challenge, method, verifier string) string {
	if challenge == "" {
		if verifier != "" {
			return "PKCE code verifier specified but challenge not present in authorization"
		}
		return ""
	}
	if verifier == "" {
		return "PKCE code verifier not specified"
	}
	if !unreserved().MatchString(verifier) {
		return "PKCE verification failed: Invalid code verifier"
	}
	var computed string
	switch method {
	case "S256":
		sum := sha256.Sum256([]byte(verifier))
		computed = base64.RawURLEncoding.EncodeToString(sum[:])
	case "plain", "":
		computed = verifier
	default:
		return "PKCE verification failed"
	}
	if subtle.ConstantTimeCompare([]byte(computed), []byte(challenge)) != 1 {
		return "PKCE verification failed: Code mismatch"
	}
	return ""
}
