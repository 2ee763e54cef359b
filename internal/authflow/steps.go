package authflow

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Authenticators that decide without a page of their own, Keycloak's ids
// and config names.
const (
	Cookie                   = "auth-cookie"
	IdentityProviderRedirect = "identity-provider-redirector"
	DenyAccess               = "deny-access-authenticator"
	AllowAccess              = "allow-access-authenticator"
	UserSessionLimits        = "user-session-limits"

	ConfigDenyErrorMessage  = "denyErrorMessage"
	ConfigUserRealmLimit    = "userRealmLimit"
	ConfigUserClientLimit   = "userClientLimit"
	ConfigBehavior          = "behavior"
	ConfigErrorMessage      = "errorMessage"
	BehaviorDenyNewSession  = "Deny new session"
	BehaviorTerminateOldest = "Terminate oldest session"
)

func init() {
	Register(Cookie, cookie{})
	Register(IdentityProviderRedirect, idpRedirector{})
	Register(DenyAccess, denyAccess{})
	Register(AllowAccess, allowAccess{})
	Register(UserSessionLimits, sessionLimits{})
}

// simple holds the answers of authenticators that need no user setup.
type simple struct{}

func (simple) Action(c *Context) error                         { return c.Authenticator().Authenticate(c) }
func (simple) RequiresUser() bool                              { return false }
func (simple) ConfiguredFor(*Context, user.User) (bool, error) { return true, nil }
func (simple) SetRequiredActions(*Context, user.User) error    { return nil }

// Authenticator is the authenticator of the context's execution.
func (c *Context) Authenticator() Authenticator {
	a, _ := Lookup(c.Execution.Authenticator)
	return a
}

// cookie logs in with the browser's SSO session. It only names the user
// when the client forces a new authentication (prompt=login, max_age) or
// asks a level the session has not reached: the steps that follow
// authenticate them.
type cookie struct{ simple }

func (cookie) Authenticate(c *Context) error {
	sso := c.Req.SSO
	if sso == nil || c.Req.Kind != Browser {
		c.Attempted()
		return nil
	}
	c.State.Levels = DecodeLevels(sso.Session.Notes[NoteLoAMap])
	if c.Req.Reauthenticate {
		c.State.Level = NoLoA
		c.Attempted()
		return nil
	}
	c.SetUser(sso.User)
	prev := previousLevel(c)
	c.State.Level = prev
	if c.Req.RequestedLoA > prev {
		// Step-up: the session's user must pass the higher level.
		c.Attempted()
		return nil
	}
	c.State.SSOSession = sso.Session.ID
	c.Success()
	return nil
}

// idpRedirector sends the browser to the identity provider kc_idp_hint
// names, or else the one its config's defaultProvider names. A hint naming
// no enabled provider (or one that only links accounts) is ignored, as
// Keycloak ignores it: the next alternative (the login form) runs.
type idpRedirector struct{ simple }

func (idpRedirector) Authenticate(c *Context) error {
	for _, alias := range []string{c.Req.IDPHint, c.Config["defaultProvider"]} {
		if alias == "" || c.Req.Kind != Browser {
			continue
		}
		p, err := c.Store.GetIdentityProvider(c, c.Realm.ID, alias)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (!p.Enabled || p.LinkOnly)) {
			if c.Log != nil {
				c.Log.DebugContext(c, "identity provider not found", "realm", c.Realm.Name, "alias", alias)
			}
			continue
		}
		if err != nil {
			return err
		}
		c.Challenge(Page{IdentityProvider: p.Alias})
		return nil
	}
	c.Attempted()
	return nil
}

// denyAccess ends the login with an error page (denyErrorMessage, or
// "accessDenied").
type denyAccess struct{ simple }

func (denyAccess) Authenticate(c *Context) error {
	msg := c.Config[ConfigDenyErrorMessage]
	if msg == "" {
		msg = "accessDenied"
	}
	e := &Error{Event: "access_denied", Key: msg, Status: http.StatusUnauthorized,
		OAuth: OAuthError{http.StatusUnauthorized, "access_denied", "Access denied"}}
	if c.User != nil {
		e.UserID, e.Username = c.User.ID, c.User.Username
	}
	c.Failure(e, nil)
	return nil
}

// allowAccess succeeds.
type allowAccess struct{ simple }

func (allowAccess) Authenticate(c *Context) error { c.Success(); return nil }

// sessionLimits bounds the user's sessions in the realm (userRealmLimit)
// and with this client (userClientLimit): a login that would exceed a limit
// is refused ("Deny new session") or logs the oldest sessions out
// ("Terminate oldest session"). A login inside the browser's existing
// session creates none and is never refused.
type sessionLimits struct{ simple }

func (sessionLimits) Authenticate(c *Context) error {
	if c.Config == nil {
		return fmt.Errorf("%w: user-session-limits has no configuration", ErrFlowConfig)
	}
	if c.User == nil {
		c.Success()
		return nil
	}
	realmLimit, clientLimit := intConfig(c.Config[ConfigUserRealmLimit]), intConfig(c.Config[ConfigUserClientLimit])
	all, err := c.Store.ListUserSessions(c, c.Realm.ID, c.User.ID, false)
	if err != nil {
		return err
	}
	var current *session.UserSession
	if sso := c.Req.SSO; sso != nil && sso.User.ID == c.User.ID {
		current = &sso.Session
	}
	newUserSession := current == nil
	var forClient []session.UserSession
	newClientSession := true
	if clientLimit > 0 {
		for _, us := range all {
			if _, err := c.Store.GetClientSession(c, us.ID, c.Client.ID); err == nil {
				forClient = append(forClient, us)
				if current != nil && us.ID == current.ID {
					newClientSession = false
				}
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
	switch {
	case newUserSession && exceeds(len(all), realmLimit):
		removed, denied, err := limitExceeded(c, forClient, clientLimit)
		if err != nil || denied {
			return err
		}
		if exceeds(len(all)-len(removed), realmLimit) {
			var rest []session.UserSession
			for _, us := range all {
				if !removed[us.ID] {
					rest = append(rest, us)
				}
			}
			if _, denied, err := limitExceeded(c, rest, realmLimit); err != nil || denied {
				return err
			}
		}
	case newClientSession && exceeds(len(forClient), clientLimit):
		if _, denied, err := limitExceeded(c, forClient, clientLimit); err != nil || denied {
			return err
		}
	}
	c.Success()
	return nil
}

func intConfig(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return -1
	}
	return n
}

// exceeds: one more session would pass limit (0 or less: no limit).
func exceeds(count, limit int) bool { return limit > 0 && count-(limit-1) > 0 }

// limitExceeded applies the configured behaviour to sessions: deny the
// login, or log out the least recently used sessions until one more fits.
func limitExceeded(c *Context, sessions []session.UserSession, limit int) (map[string]bool, bool, error) {
	switch c.Config[ConfigBehavior] {
	case BehaviorTerminateOldest:
		n := len(sessions) - (limit - 1)
		sort.SliceStable(sessions, func(i, j int) bool { return sessions[i].LastRefresh < sessions[j].LastRefresh })
		removed := map[string]bool{}
		for i := 0; i < n && i < len(sessions); i++ {
			if err := c.Store.DeleteUserSession(c, c.Realm.ID, sessions[i].ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, false, err
			}
			removed[sessions[i].ID] = true
		}
		return removed, false, nil
	default: // Deny new session
		msg := c.Config[ConfigErrorMessage]
		if msg == "" {
			msg = "sessionLimitExceeded"
		}
		c.Failure(&Error{Event: "generic_authentication_error", Key: msg, Status: http.StatusForbidden,
			UserID: c.User.ID, Username: c.User.Username,
			OAuth: OAuthError{http.StatusForbidden, "access_denied", msg}}, nil)
		return nil, true, nil
	}
}
