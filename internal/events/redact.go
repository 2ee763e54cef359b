package events

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/secret"
)

// Detail names an event may carry: Keycloak's, and only those whose values
// are never secret. code_id is the user session's id (as it is in Keycloak,
// where the session takes the authentication session's id), never an
// authorization code; token_id and refresh_token_id are jti claims, which
// name a token without being usable as one.
const (
	DetailAuthMethod       = "auth_method"
	DetailAuthType         = "auth_type"
	DetailRedirectURI      = "redirect_uri"
	DetailConsent          = "consent"
	DetailCodeID           = "code_id"
	DetailUsername         = "username"
	DetailGrantType        = "grant_type"
	DetailScope            = "scope"
	DetailRefreshTokenType = "refresh_token_type"
	DetailTokenID          = "token_id"
	DetailRefreshTokenID   = "refresh_token_id"
	DetailResponseType     = "response_type"
	DetailResponseMode     = "response_mode"
	DetailRememberMe       = "remember_me"
	DetailRevokedClient    = "revoked_client"
	DetailCredentialType   = "credential_type"
	DetailCredentialID     = "credential_id"
	DetailCustomAction     = "custom_required_action"
	// The administrator's username and realm on IMPERSONATE.
	DetailImpersonator      = "impersonator"
	DetailImpersonatorRealm = "impersonator_realm"
	// A token exchange's requested audience, requested token type and the
	// client the subject token was issued to (client ids and a token type URN).
	DetailAudience             = "audience"
	DetailRequestedTokenType   = "requested_token_type"
	DetailSubjectTokenClientID = "subject_token_client_id"
	// The address a mail went to or a registration gave, and how the user
	// registered ("form"), as Keycloak records them.
	DetailEmail          = "email"
	DetailRegisterMethod = "register_method"
	// The action token's type on EXECUTE_ACTION_TOKEN events.
	DetailAction = "action"
	// The identity provider's alias and the user's username there, on
	// identity brokering events.
	DetailIdentityProvider         = "identity_provider"
	DetailIdentityProviderIdentity = "identity_provider_identity"
)

var allowedDetails = map[string]bool{
	DetailAuthMethod: true, DetailAuthType: true, DetailRedirectURI: true, DetailConsent: true,
	DetailCodeID: true, DetailUsername: true, DetailGrantType: true, DetailScope: true,
	DetailRefreshTokenType: true, DetailTokenID: true, DetailRefreshTokenID: true,
	DetailResponseType: true, DetailResponseMode: true, DetailRememberMe: true,
	DetailRevokedClient: true, DetailCredentialType: true, DetailCredentialID: true, DetailCustomAction: true, DetailImpersonator: true, DetailImpersonatorRealm: true,
	DetailAudience: true, DetailRequestedTokenType: true, DetailSubjectTokenClientID: true,
	DetailEmail: true, DetailRegisterMethod: true, DetailAction: true,
	DetailIdentityProvider: true, DetailIdentityProviderIdentity: true,
}

// maxDetail bounds a detail's value; a redirect URI is the longest one.
const maxDetail = 2048

// cleanDetails keeps the allowed, non-empty details, bounded. Anything else
// a caller passes is dropped rather than trusted: a new detail becomes
// visible only by being added to the list above.
func cleanDetails(d map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range d {
		if allowedDetails[k] && v != "" {
			out[k] = boundTo(v, maxDetail)
		}
	}
	return out
}

// MaxRepresentation is the largest request body kept as a representation;
// a larger one (a big partial import) is recorded without it.
const MaxRepresentation = 256 << 10

// MaskRepresentation returns body, a JSON request body of the admin API,
// with the value of every secret-looking field replaced by secret.Mask, at any
// depth: client secrets, credential values and hashes, passwords (the SMTP
// one too), tokens and codes. A body that is not one JSON value, or is
// larger than MaxRepresentation, gives "": what cannot be parsed cannot be
// checked, so it is not kept.
func MaskRepresentation(body []byte) string {
	if len(body) > MaxRepresentation {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return ""
	}
	if _, err := dec.Token(); err != io.EOF {
		return ""
	}
	b, err := json.Marshal(mask(v))
	if err != nil {
		return ""
	}
	return string(b)
}

func mask(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if _, isBool := val.(bool); secretKey(k) && !isBool && val != nil {
				x[k] = secret.Mask
				continue
			}
			x[k] = mask(val)
		}
	case []any:
		for i := range x {
			x[i] = mask(x[i])
		}
	}
	return v
}

// secretNames are field names (lower case, without '.', '_' and '-') whose
// values are secret whatever their container.
var secretNames = map[string]bool{
	"value": true, "salt": true, "hashedsaltedvalue": true, "privatekey": true, "bindcredential": true,
	"token": true, "accesstoken": true, "refreshtoken": true, "idtoken": true, "registrationaccesstoken": true,
	"code": true, "codeverifier": true, "otp": true, "totp": true,
}

// secretKey reports whether a field's value must be masked: a name listed
// above, or any name mentioning a secret or a password ("secret",
// "clientSecret", "secretData", "client.secret.rotated", "password",
// "authTokenClientSecret"), except the password policy, which is a setting.
// Boolean values are never masked ("resetPasswordAllowed"): one bit is not
// a secret, and the setting stays readable.
func secretKey(k string) bool {
	n := strings.Map(func(r rune) rune {
		switch r {
		case '.', '_', '-':
			return -1
		}
		return r
	}, strings.ToLower(k))
	if secretNames[n] {
		return true
	}
	if n == "passwordpolicy" {
		return false
	}
	return strings.Contains(n, "secret") || strings.Contains(n, "password")
}
