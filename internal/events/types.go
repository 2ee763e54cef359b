package events

import "strings"

// eventTypes is Keycloak 26's EventType enum in its order: each type with
// whether it is stored when a realm lists no enabledEventTypes. The error
// type of each is saved by default exactly when the type is, except where
// Keycloak says otherwise (the three marked below).
var eventTypes = []struct {
	name          string
	saved         bool
	errorNotSaved bool // the _ERROR type is not saved by default though the type is
}{
	{"LOGIN", true, false},
	{"REGISTER", true, false},
	{"LOGOUT", true, false},
	{"CODE_TO_TOKEN", true, false},
	{"CLIENT_LOGIN", true, false},
	{"REFRESH_TOKEN", false, false},
	{"VALIDATE_ACCESS_TOKEN", false, false},
	{"INTROSPECT_TOKEN", false, false},
	{"FEDERATED_IDENTITY_LINK", true, false},
	{"REMOVE_FEDERATED_IDENTITY", true, false},
	{"UPDATE_EMAIL", true, false},
	{"UPDATE_PROFILE", true, false},
	{"UPDATE_PASSWORD", true, false},
	{"UPDATE_TOTP", true, false},
	{"VERIFY_EMAIL", true, false},
	{"VERIFY_PROFILE", true, false},
	{"REMOVE_TOTP", true, false},
	{"GRANT_CONSENT", true, false},
	{"UPDATE_CONSENT", true, false},
	{"REVOKE_GRANT", true, false},
	{"SEND_VERIFY_EMAIL", true, false},
	{"SEND_RESET_PASSWORD", true, false},
	{"SEND_IDENTITY_PROVIDER_LINK", true, false},
	{"RESET_PASSWORD", true, false},
	{"RESTART_AUTHENTICATION", true, false},
	{"INVALID_SIGNATURE", false, false},
	{"REGISTER_NODE", false, false},
	{"UNREGISTER_NODE", false, false},
	{"USER_INFO_REQUEST", false, false},
	{"IDENTITY_PROVIDER_LINK_ACCOUNT", true, false},
	{"IDENTITY_PROVIDER_LOGIN", false, false},
	{"IDENTITY_PROVIDER_FIRST_LOGIN", true, false},
	{"IDENTITY_PROVIDER_POST_LOGIN", true, false},
	{"IDENTITY_PROVIDER_RESPONSE", false, false},
	{"IDENTITY_PROVIDER_RETRIEVE_TOKEN", false, false},
	{"IMPERSONATE", true, false},
	{"CUSTOM_REQUIRED_ACTION", true, false},
	{"EXECUTE_ACTIONS", true, false},
	{"EXECUTE_ACTION_TOKEN", true, false},
	{"CLIENT_INFO", false, false},
	{"CLIENT_REGISTER", true, false},
	{"CLIENT_UPDATE", true, false},
	{"CLIENT_DELETE", true, false},
	{"CLIENT_INITIATED_ACCOUNT_LINKING", true, false},
	{"TOKEN_EXCHANGE", true, false},
	{"OAUTH2_DEVICE_AUTH", true, false},
	{"OAUTH2_DEVICE_VERIFY_USER_CODE", true, false},
	{"OAUTH2_DEVICE_CODE_TO_TOKEN", true, false},
	{"AUTHREQID_TO_TOKEN", true, false},
	{"PERMISSION_TOKEN", true, true},
	{"DELETE_ACCOUNT", true, false},
	{"PUSHED_AUTHORIZATION_REQUEST", false, false},
	{"USER_DISABLED_BY_PERMANENT_LOCKOUT", true, true},
	{"USER_DISABLED_BY_TEMPORARY_LOCKOUT", true, true},
	{"OAUTH2_EXTENSION_GRANT", true, false},
	{"JWT_BEARER", true, false},
}

// Types returns every event type Keycloak defines, each followed by its
// error type.
func Types() []string {
	out := make([]string, 0, 2*len(eventTypes))
	for _, t := range eventTypes {
		out = append(out, t.name, t.name+"_ERROR")
	}
	return out
}

// DefaultTypes returns the types a realm stores when it lists none, which
// is what Keycloak's events/config shows for such a realm.
func DefaultTypes() []string {
	var out []string
	for _, t := range eventTypes {
		if t.saved {
			out = append(out, t.name)
		}
		if t.saved && !t.errorNotSaved {
			out = append(out, t.name+"_ERROR")
		}
	}
	return out
}

// SavedByDefault reports whether typ is stored when a realm lists no types.
func SavedByDefault(typ string) bool {
	base, isErr := strings.CutSuffix(typ, "_ERROR")
	for _, t := range eventTypes {
		if t.name == base {
			return t.saved && !(isErr && t.errorNotSaved)
		}
	}
	return false
}

// Resource types of admin events that the admin API produces, with
// Keycloak's names.
const (
	ResourceRealm                    = "REALM"
	ResourceRealmRole                = "REALM_ROLE"
	ResourceRealmRoleMapping         = "REALM_ROLE_MAPPING"
	ResourceProtocolMapper           = "PROTOCOL_MAPPER"
	ResourceUser                     = "USER"
	ResourceUserLoginFailure         = "USER_LOGIN_FAILURE"
	ResourceUserSession              = "USER_SESSION"
	ResourceGroup                    = "GROUP"
	ResourceGroupMembership          = "GROUP_MEMBERSHIP"
	ResourceClient                   = "CLIENT"
	ResourceClientRole               = "CLIENT_ROLE"
	ResourceClientRoleMapping        = "CLIENT_ROLE_MAPPING"
	ResourceClientScope              = "CLIENT_SCOPE"
	ResourceClientScopeClientMapping = "CLIENT_SCOPE_CLIENT_MAPPING"
	ResourceRealmScopeMapping        = "REALM_SCOPE_MAPPING"
	ResourceClientScopeMapping       = "CLIENT_SCOPE_MAPPING"
	ResourceAuthFlow                 = "AUTH_FLOW"
	ResourceAuthExecution            = "AUTH_EXECUTION"
	ResourceAuthExecutionFlow        = "AUTH_EXECUTION_FLOW"
	ResourceAuthenticatorConfig      = "AUTHENTICATOR_CONFIG"
	ResourceRequiredAction           = "REQUIRED_ACTION"
	ResourceIdentityProvider         = "IDENTITY_PROVIDER"
	ResourceIdentityProviderMapper   = "IDENTITY_PROVIDER_MAPPER"
	ResourceAuthzResourceServer      = "AUTHORIZATION_RESOURCE_SERVER"
	ResourceAuthzResource            = "AUTHORIZATION_RESOURCE"
	ResourceAuthzScope               = "AUTHORIZATION_SCOPE"
	ResourceAuthzPolicy              = "AUTHORIZATION_POLICY"
)

// ResourceTypes returns the resource types of admin events that the admin
// API produces, as serverinfo lists them for the console's filters.
func ResourceTypes() []string {
	return []string{ResourceRealm, ResourceRealmRole, ResourceRealmRoleMapping, ResourceProtocolMapper, ResourceUser,
		ResourceUserLoginFailure, ResourceUserSession, ResourceGroup, ResourceGroupMembership, ResourceClient,
		ResourceClientRole, ResourceClientRoleMapping, ResourceClientScope, ResourceClientScopeClientMapping,
		ResourceRealmScopeMapping, ResourceClientScopeMapping, ResourceAuthFlow, ResourceAuthExecution,
		ResourceAuthExecutionFlow, ResourceAuthenticatorConfig, ResourceRequiredAction,
		ResourceAuthzResourceServer, ResourceAuthzResource, ResourceAuthzScope, ResourceAuthzPolicy}
}
