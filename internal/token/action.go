package token

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// Action token types: the typ of the tokens inside email links, Keycloak's.
const (
	ActionVerifyEmail      = "verify-email"
	ActionResetCredentials = "reset-credentials"
	ActionExecuteActions   = "execute-actions"
	// ActionIdpVerifyAccountLink confirms, from the existing account's
	// mailbox, that an upstream identity may be linked to it during a
	// first broker login.
	ActionIdpVerifyAccountLink = "idp-verify-account-via-email"
)

// ErrActionExpired is a well-signed action token past its exp.
var ErrActionExpired = errors.New("token: action token expired")

// Action is an action token: what an email link lets its holder do, for
// which user, until when. It is an internal token (HS512 with the realm's
// HMAC key), issued and audienced to the realm, like Keycloak's
// DefaultActionToken.
type Action struct {
	Type     string
	UserID   string
	Issuer   string // the realm URL: iss and aud
	ClientID string // azp: the client the link returns to
	ID       string // jti: what single use is recorded under
	IssuedAt int64
	Expires  int64
	// Email is the address a verify-email token confirms (eml): a link
	// sent before the address changed confirms nothing.
	Email string
	// Actions and RedirectURI are an execute-actions token's required
	// actions (rqac) and where the browser goes afterwards (reduri).
	Actions     []string
	RedirectURI string
	// AuthSession is the login in progress that asked for the link (asid),
	// which the link may continue in the same browser.
	AuthSession string
	// IdentityProviderAlias and IdentityProviderUsername are the upstream
	// identity an idp-verify-account-via-email token links (idpa, idpu).
	IdentityProviderAlias    string
	IdentityProviderUsername string
}

// Claims returns the token's claims.
func (a Action) Claims() map[string]any {
	c := map[string]any{
		"typ": a.Type, "sub": a.UserID, "iss": a.Issuer, "aud": a.Issuer,
		"jti": a.ID, "iat": a.IssuedAt, "exp": a.Expires,
	}
	if a.ClientID != "" {
		c["azp"] = a.ClientID
	}
	if a.Email != "" {
		c["eml"] = a.Email
	}
	if len(a.Actions) > 0 {
		c["rqac"] = a.Actions
	}
	if a.RedirectURI != "" {
		c["reduri"] = a.RedirectURI
	}
	if a.AuthSession != "" {
		c["asid"] = a.AuthSession
	}
	if a.IdentityProviderAlias != "" {
		c["idpa"] = a.IdentityProviderAlias
	}
	if a.IdentityProviderUsername != "" {
		c["idpu"] = a.IdentityProviderUsername
	}
	return c
}

// VerifyAction checks raw as an action token of realm issuer at now (epoch
// seconds): the HS512 signature with one of ks, a known action typ, iss
// and aud both the realm, a subject and an id. A token that passes all but
// the expiry is returned with ErrActionExpired.
func VerifyAction(raw string, ks []keys.Key, issuer string, now int64) (Action, error) {
	claims, err := Verify(raw, ks, keys.HS512)
	if err != nil {
		return Action{}, err
	}
	p, err := Parse(claims)
	if err != nil {
		return Action{}, err
	}
	if !slices.Contains([]string{ActionVerifyEmail, ActionResetCredentials, ActionExecuteActions, ActionIdpVerifyAccountLink}, p.Typ) {
		return Action{}, fmt.Errorf("%w: not an action token", ErrInvalid)
	}
	if p.Iss != issuer || !slices.Equal(p.Aud, []string{issuer}) || p.Sub == "" || p.Jti == "" || p.Exp == 0 {
		return Action{}, fmt.Errorf("%w: action token of another realm or incomplete", ErrInvalid)
	}
	a := Action{Type: p.Typ, UserID: p.Sub, Issuer: p.Iss, ClientID: p.Azp, ID: p.Jti, IssuedAt: p.Iat, Expires: p.Exp}
	a.Email, _ = claims["eml"].(string)
	a.RedirectURI, _ = claims["reduri"].(string)
	a.AuthSession, _ = claims["asid"].(string)
	a.IdentityProviderAlias, _ = claims["idpa"].(string)
	a.IdentityProviderUsername, _ = claims["idpu"].(string)
	if list, ok := claims["rqac"].([]any); ok {
		for _, x := range list {
			if s, ok := x.(string); ok {
				a.Actions = append(a.Actions, s)
			}
		}
	}
	if now >= a.Expires {
		return a, ErrActionExpired
	}
	return a, nil
}

// ActionLifespan is how long (seconds) an action token of typ lives: the
// realm's lifespan for links an administrator sends, or for links users ask
// for themselves, where a realm attribute
// "actionTokenGeneratedByUserLifespan.<typ>" overrides it per type.
func ActionLifespan(rl realm.Realm, typ string, byAdmin bool) int {
	if byAdmin {
		return rl.ActionTokenGeneratedByAdminLifespan
	}
	if v, err := strconv.Atoi(rl.Attributes["actionTokenGeneratedByUserLifespan."+typ]); err == nil && v > 0 {
		return v
	}
	return rl.ActionTokenGeneratedByUserLifespan
}
