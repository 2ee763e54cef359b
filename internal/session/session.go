// Package session owns user sessions (SSO and offline) and the client
// sessions inside them, and the rules of when each expires: idle and max
// lifespans, remember-me variants, client-specific overrides, and the
// refresh token expiry Keycloak derives from them.
package session

import (
	"strconv"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// UserSession is a login of a user: the SSO session, or an offline session
// (kept apart, with its own timeouts, surviving logout of the SSO session).
type UserSession struct {
	ID      string
	RealmID string
	UserID  string
	Offline bool
	// Started and LastRefresh are epoch seconds, Keycloak's session clock.
	Started     int64
	LastRefresh int64
	RememberMe  bool
	IPAddress   string
	AuthMethod  string // "openid-connect"
	// AuthTime is when the user last authenticated (epoch seconds), the
	// auth_time claim. For an offline session it is the original login's.
	AuthTime int64
	Notes    map[string]string
}

// ClientSession is what a client holds inside a user session: the scope it
// was granted and the refresh token rotation state.
type ClientSession struct {
	ID            string
	UserSessionID string
	ClientID      string // internal id of the client
	Offline       bool
	Started       int64 // epoch seconds
	// Timestamp is the last time a token was issued to the client (epoch
	// seconds); Keycloak's stale refresh token rule compares against it.
	Timestamp int64
	// CurrentRefreshToken and RefreshUseCount implement refresh token
	// rotation (revokeRefreshToken / refreshTokenMaxReuse).
	CurrentRefreshToken string
	RefreshUseCount     int
	Scope               string // granted scope names, space separated
	Nonce               string
	Notes               map[string]string
}

func seconds(s int) int64 { return int64(s) }

// idleTimeout is the SSO idle timeout that applies to s (remember-me realms
// may set a longer one).
func idleTimeout(r realm.Realm, s UserSession) int64 {
	if s.Offline {
		return seconds(r.OfflineSessionIdleTimeout)
	}
	if s.RememberMe && r.SSOSessionIdleTimeoutRememberMe > 0 {
		return max(seconds(r.SSOSessionIdleTimeout), seconds(r.SSOSessionIdleTimeoutRememberMe))
	}
	return seconds(r.SSOSessionIdleTimeout)
}

// maxLifespan is the SSO max lifespan that applies to s, or 0 for none
// (offline sessions without offlineSessionMaxLifespanEnabled).
func maxLifespan(r realm.Realm, s UserSession) int64 {
	if s.Offline {
		if !r.OfflineSessionMaxLifespanEnabled {
			return 0
		}
		return seconds(r.OfflineSessionMaxLifespan)
	}
	if s.RememberMe && r.SSOSessionMaxLifespanRememberMe > 0 {
		return max(seconds(r.SSOSessionMaxLifespan), seconds(r.SSOSessionMaxLifespanRememberMe))
	}
	return seconds(r.SSOSessionMaxLifespan)
}

// clientOverride returns the client's own idle or max setting when it is set
// and shorter, as Keycloak applies client.session.idle.timeout and friends.
func clientOverride(base int64, clientAttr string, c client.Client, realmValue int) int64 {
	v := base
	if realmValue > 0 && int64(realmValue) < v {
		v = int64(realmValue)
	}
	if n, ok := attrInt(c.Attributes[clientAttr]); ok && n > 0 && n < v {
		v = n
	}
	return v
}

func attrInt(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}

// ExpiresAt returns when the user session expires (epoch seconds) if it is
// not refreshed again: the earlier of idle and max.
func ExpiresAt(r realm.Realm, s UserSession) int64 {
	exp := s.LastRefresh + idleTimeout(r, s)
	if m := maxLifespan(r, s); m > 0 && s.Started+m < exp {
		exp = s.Started + m
	}
	return exp
}

// MaxExpiresAt returns when the user session ends however often it is
// refreshed (epoch seconds), 0 when it has no max lifespan.
func MaxExpiresAt(r realm.Realm, s UserSession) int64 {
	if m := maxLifespan(r, s); m > 0 {
		return s.Started + m
	}
	return 0
}

// Valid reports whether the user session is alive at now (epoch seconds).
func Valid(r realm.Realm, s UserSession, now int64) bool {
	return now < ExpiresAt(r, s)
}

// RefreshExpiry is the exp of a refresh token issued now for client c in
// session s: the session's idle deadline from now, never past its max, with
// the client's (or realm's) client-session timeouts when shorter. An offline
// token without a max lifespan has no expiry of its own: 0.
func RefreshExpiry(r realm.Realm, c client.Client, s UserSession, now int64) int64 {
	var idle, maxLife int64
	if s.Offline {
		idle = clientOverride(idleTimeout(r, s), "client.offline.session.idle.timeout", c, r.ClientOfflineSessionIdleTimeout)
		if !r.OfflineSessionMaxLifespanEnabled {
			return 0
		}
		maxLife = clientOverride(maxLifespan(r, s), "client.offline.session.max.lifespan", c, r.ClientOfflineSessionMaxLifespan)
	} else {
		idle = clientOverride(idleTimeout(r, s), "client.session.idle.timeout", c, r.ClientSessionIdleTimeout)
		maxLife = clientOverride(maxLifespan(r, s), "client.session.max.lifespan", c, r.ClientSessionMaxLifespan)
	}
	exp := now + idle
	if maxLife > 0 && s.Started+maxLife < exp {
		exp = s.Started + maxLife
	}
	return exp
}

// AccessExpiry is the exp of an access token issued now: the realm's (or
// client's access.token.lifespan) lifespan, never past the session's end.
func AccessExpiry(r realm.Realm, c client.Client, s UserSession, now int64) int64 {
	life := int64(r.AccessTokenLifespan)
	if n, ok := attrInt(c.Attributes["access.token.lifespan"]); ok && n > 0 {
		life = n
	}
	return capAccess(r, s, now+life)
}

// ImplicitAccessExpiry is AccessExpiry for an access token of the implicit
// flow (a response type with a token and no code): the realm's
// accessTokenLifespanForImplicitFlow, whatever the client's own lifespan,
// capped the same way.
func ImplicitAccessExpiry(r realm.Realm, s UserSession, now int64) int64 {
	return capAccess(r, s, now+int64(r.AccessTokenLifespanForImplicitFlow))
}

// capAccess ends an online session's access token no later than the session.
func capAccess(r realm.Realm, s UserSession, exp int64) int64 {
	if !s.Offline {
		if m := maxLifespan(r, s); m > 0 && s.Started+m < exp {
			exp = s.Started + m
		}
	}
	return exp
}

// Unix converts a time to the session clock.
func Unix(t time.Time) int64 { return t.Unix() }

// The user-session notes of a session an administrator opened by
// impersonation: who did (Keycloak's names, which the impersonator mappers
// read).
const (
	NoteImpersonatorID       = "IMPERSONATOR_ID"
	NoteImpersonatorUsername = "IMPERSONATOR_USERNAME"
)
