// Package events owns what Gatehouse records about logins and about
// administration: Keycloak's event and admin event types and fields, which
// of them a realm keeps (eventsEnabled, enabledEventTypes,
// adminEventsEnabled, adminEventsDetailsEnabled), and the rule that no
// secret, password, code or token ever reaches a record.
//
// Keeping that rule here rather than at each call site is the point: a
// handler hands over what it knows, and the Recorder keeps only detail names
// known to be harmless and masks every secret-looking field of an admin
// request body before anything is stored.
package events

import (
	"context"
	"log/slog"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// Event types Gatehouse records, with Keycloak's names. An error event is
// its type followed by "_ERROR".
const (
	Login                = "LOGIN"
	LoginError           = "LOGIN_ERROR"
	Logout               = "LOGOUT"
	LogoutError          = "LOGOUT_ERROR"
	CodeToToken          = "CODE_TO_TOKEN"
	CodeToTokenError     = "CODE_TO_TOKEN_ERROR"
	ClientLogin          = "CLIENT_LOGIN"
	ClientLoginError     = "CLIENT_LOGIN_ERROR"
	RefreshToken         = "REFRESH_TOKEN"
	RefreshTokenError    = "REFRESH_TOKEN_ERROR"
	IntrospectToken      = "INTROSPECT_TOKEN"
	IntrospectTokenError = "INTROSPECT_TOKEN_ERROR"
	RevokeGrant          = "REVOKE_GRANT"
	RevokeGrantError     = "REVOKE_GRANT_ERROR"
	UpdatePassword       = "UPDATE_PASSWORD"
	UpdatePasswordError  = "UPDATE_PASSWORD_ERROR"
	UpdateTOTP           = "UPDATE_TOTP"
	RemoveTOTP           = "REMOVE_TOTP"
	// A user unlinked an identity provider account (account console).
	RemoveFederatedIdentity      = "REMOVE_FEDERATED_IDENTITY"
	RemoveFederatedIdentityError = "REMOVE_FEDERATED_IDENTITY_ERROR"
	CustomRequiredAction         = "CUSTOM_REQUIRED_ACTION"
	CustomRequiredActionError    = "CUSTOM_REQUIRED_ACTION_ERROR"
	Impersonate                  = "IMPERSONATE"
	TokenExchange                = "TOKEN_EXCHANGE"

	PushedAuthorizationRequest      = "PUSHED_AUTHORIZATION_REQUEST"
	PushedAuthorizationRequestError = "PUSHED_AUTHORIZATION_REQUEST_ERROR"

	// Email links and self-service: registration, email verification,
	// password reset, actions asked for by an administrator.
	Register                = "REGISTER"
	RegisterError           = "REGISTER_ERROR"
	SendVerifyEmail         = "SEND_VERIFY_EMAIL"
	SendVerifyEmailError    = "SEND_VERIFY_EMAIL_ERROR"
	VerifyEmail             = "VERIFY_EMAIL"
	SendResetPassword       = "SEND_RESET_PASSWORD"
	SendResetPasswordError  = "SEND_RESET_PASSWORD_ERROR"
	ResetPassword           = "RESET_PASSWORD"
	ResetPasswordError      = "RESET_PASSWORD_ERROR"
	ExecuteActions          = "EXECUTE_ACTIONS"
	ExecuteActionsError     = "EXECUTE_ACTIONS_ERROR"
	ExecuteActionToken      = "EXECUTE_ACTION_TOKEN"
	ExecuteActionTokenError = "EXECUTE_ACTION_TOKEN_ERROR"

	// Identity brokering: a login through an identity provider, the first
	// one of an upstream account, and an upstream account linked.
	IdentityProviderLogin           = "IDENTITY_PROVIDER_LOGIN"
	IdentityProviderLoginError      = "IDENTITY_PROVIDER_LOGIN_ERROR"
	IdentityProviderFirstLogin      = "IDENTITY_PROVIDER_FIRST_LOGIN"
	IdentityProviderFirstLoginError = "IDENTITY_PROVIDER_FIRST_LOGIN_ERROR"
	FederatedIdentityLink           = "FEDERATED_IDENTITY_LINK"
	FederatedIdentityLinkError      = "FEDERATED_IDENTITY_LINK_ERROR"
	// The first broker login's email verification: the mail asking the
	// existing account to confirm the link, and its link followed.
	SendIdentityProviderLink         = "SEND_IDENTITY_PROVIDER_LINK"
	SendIdentityProviderLinkError    = "SEND_IDENTITY_PROVIDER_LINK_ERROR"
	IdentityProviderLinkAccount      = "IDENTITY_PROVIDER_LINK_ACCOUNT"
	IdentityProviderLinkAccountError = "IDENTITY_PROVIDER_LINK_ACCOUNT_ERROR"
)

// Event is a login event: something a user or client did through the
// protocol endpoints (Keycloak's EventRepresentation).
type Event struct {
	ID   string
	Time int64 // epoch milliseconds
	Type string
	// RealmID is set by the Recorder from the realm it records for.
	RealmID string
	// ClientID is the OAuth client_id, not the internal id, as in Keycloak.
	ClientID  string
	UserID    string
	SessionID string
	IPAddress string
	// Error is Keycloak's error code ("invalid_user_credentials"), set on
	// *_ERROR events only.
	Error   string
	Details map[string]string
}

// Operation types of admin events.
const (
	OpCreate = "CREATE"
	OpUpdate = "UPDATE"
	OpDelete = "DELETE"
	OpAction = "ACTION"
)

// AdminEvent is a change made through the admin API (Keycloak's
// AdminEventRepresentation). The Auth fields describe the administrator:
// the realm their token is from, the internal id of the client it was
// issued to, their user id and address.
type AdminEvent struct {
	ID            string
	Time          int64 // epoch milliseconds
	RealmID       string
	AuthRealmID   string
	AuthClientID  string
	AuthUserID    string
	AuthIPAddress string
	OperationType string
	ResourceType  string
	// ResourcePath is relative to the realm: "users/<id>".
	ResourcePath string
	// Representation is the request body with every secret masked, kept
	// only when the realm asks for details.
	Representation string
	Error          string
}

// Store is where events go; store.DB is the one implementation. It is an
// interface only so that this package sits below the store and the store
// can keep these types without an import cycle.
type Store interface {
	CreateEvent(ctx context.Context, e Event) error
	CreateAdminEvent(ctx context.Context, e AdminEvent) error
}

// Recorder applies a realm's event settings and stores what they keep.
// A failure to store is logged and otherwise ignored: a login does not fail
// because its audit record could not be written.
type Recorder struct {
	Store Store
	Now   func() time.Time
	Log   *slog.Logger
}

// Wants reports whether realm rl keeps events of type typ: events must be
// enabled, and the type listed in enabledEventTypes or, when that list is
// empty, saved by default (Keycloak leaves REFRESH_TOKEN and
// INTROSPECT_TOKEN out by default). Callers use it to skip look-ups that
// only an event would need.
func Wants(rl realm.Realm, typ string) bool {
	if !rl.EventsEnabled {
		return false
	}
	if len(rl.EnabledEventTypes) > 0 {
		return slices.Contains(rl.EnabledEventTypes, typ)
	}
	return SavedByDefault(typ)
}

// Record stores e for realm rl when the realm keeps its type. Details are
// cut down to the known harmless names; free text is bounded.
func (rc Recorder) Record(ctx context.Context, rl realm.Realm, e Event) {
	if !Wants(rl, e.Type) {
		return
	}
	e.RealmID = rl.ID
	e.Time = rc.Now().UnixMilli()
	e.ClientID = bound(e.ClientID)
	e.UserID = bound(e.UserID)
	e.SessionID = bound(e.SessionID)
	e.IPAddress = bound(e.IPAddress)
	e.Error = bound(e.Error)
	e.Details = cleanDetails(e.Details)
	if err := rc.Store.CreateEvent(ctx, e); err != nil {
		rc.log().WarnContext(ctx, "record event", "realm", rl.Name, "type", e.Type, "err", err)
	}
}

// RecordAdmin stores e for realm rl when the realm keeps admin events. body
// is the request body: it becomes the representation, secrets masked, only
// when the realm asks for details.
func (rc Recorder) RecordAdmin(ctx context.Context, rl realm.Realm, e AdminEvent, body []byte) {
	if !rl.AdminEventsEnabled {
		return
	}
	e.RealmID = rl.ID
	e.Time = rc.Now().UnixMilli()
	e.Representation = ""
	if rl.AdminEventsDetails && len(body) > 0 {
		e.Representation = MaskRepresentation(body)
	}
	if err := rc.Store.CreateAdminEvent(ctx, e); err != nil {
		rc.log().WarnContext(ctx, "record admin event", "realm", rl.Name, "operation", e.OperationType,
			"resource", e.ResourceType, "err", err)
	}
}

func (rc Recorder) log() *slog.Logger {
	if rc.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return rc.Log
}

// maxField bounds every text an event keeps; a username or client_id typed
// by anyone must not grow the table without limit.
const maxField = 255

func bound(s string) string { return boundTo(s, maxField) }

// boundTo cuts s to at most n bytes without splitting a character.
func boundTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for i := 0; i < utf8.UTFMax-1 && len(s) > 0; i++ {
		if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size != 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}
