// Package authz owns the authorization services model of a client acting as a resource server:
// its resources, scopes, policies and permissions, the rules that keep them valid, and the
// defaults a client receives when authorization services are turned on. It imports no HTTP or
// storage package, so the evaluator and the store share one set of types.
package authz

import "encoding/json"

// Policy enforcement modes of a resource server.
const (
	Enforcing  = "ENFORCING"
	Permissive = "PERMISSIVE"
	Disabled   = "DISABLED"
)

// Decision strategies of a resource server, a permission or an aggregate policy.
const (
	Unanimous   = "UNANIMOUS"
	Affirmative = "AFFIRMATIVE"
	Consensus   = "CONSENSUS"
)

// Logic of a policy: NEGATIVE inverts its outcome.
const (
	Positive = "POSITIVE"
	Negative = "NEGATIVE"
)

// ResourceServer holds the authorization settings of one client. ID is the client's internal id.
type ResourceServer struct {
	ID, RealmID                   string
	PolicyEnforcementMode         string
	DecisionStrategy              string
	AllowRemoteResourceManagement bool
	// AuthorizationSchema is kept exactly as given, so an export returns what was imported.
	AuthorizationSchema json.RawMessage
}

// Resource is a protected thing of a resource server.
type Resource struct {
	ID, ServerID, Name, DisplayName, Type, IconURI string
	URIs                                           []string
	ScopeIDs                                       []string
	// Owner is a user id, or the resource server's id when the server owns the resource.
	Owner              string
	OwnerManagedAccess bool
	Attributes         map[string][]string
}

// Scope is an action or extent of access on resources.
type Scope struct {
	ID, ServerID, Name, DisplayName, IconURI string
}

// Policy is a policy or a permission (Type "resource" or "scope").
type Policy struct {
	ID, ServerID, Name, Description, Type, Logic, DecisionStrategy, Owner string
	// Config holds the type's settings with values in their stored form:
	// role: "roles" = [{"id":roleId,"required":bool}], "fetchRoles"; user: "users" = [ids];
	// group: "groups" = [{"id","extendChildren"}], "groupsClaim"; client: "clients" = [ids];
	// client-scope: "clientScopes" = [{"id","required"}]; time: nbf, notOnOrAfter, dayMonth,
	// dayMonthEnd, month, monthEnd, year, yearEnd, hour, hourEnd, minute, minuteEnd;
	// regex: targetClaim, pattern, targetContextAttributes; resource permission: "resourceType",
	// "defaultResourceType".
	Config map[string]string
	// PolicyIDs, ResourceIDs and ScopeIDs are the associated policies, resources and scopes.
	PolicyIDs, ResourceIDs, ScopeIDs []string
}

// Model is one resource server with everything it holds (what the evaluator reads).
type Model struct {
	Server    ResourceServer
	Resources []Resource
	Scopes    []Scope
	Policies  []Policy
}

// DefaultServer is the resource server a client gets when authorization
// services are turned on: enforcing, unanimous, remote resource management
// allowed, and nothing in it. (Keycloak once added a "Default Resource", a
// JavaScript "Default Policy" and a "Default Permission"; current versions
// create the server empty, and so does Gatehouse.)
func DefaultServer(realmID, clientID string) ResourceServer {
	return ResourceServer{ID: clientID, RealmID: realmID, PolicyEnforcementMode: Enforcing, DecisionStrategy: Unanimous,
		AllowRemoteResourceManagement: true}
}

// UMAProtection is the client role a resource server's service account
// holds, which the protection API asks of a PAT.
const UMAProtection = "uma_protection"
