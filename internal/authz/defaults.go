package authz

import "strings"

// DefaultGrantScript is the code of the "Default Policy" a client receives
// when authorization services are turned on: the one script Gatehouse
// accepts, because it does nothing but grant.
const DefaultGrantScript = "// by default, grants any permission associated with this policy\n$evaluation.grant();\n"

// IsDefaultGrantScript reports whether a JavaScript policy's code is the
// built-in default grant: after dropping the comment line and surrounding
// whitespace, exactly "$evaluation.grant();". Any other script is refused.
func IsDefaultGrantScript(code string) bool {
	var rest []string
	for _, line := range strings.Split(code, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line == "// by default, grants any permission associated with this policy" {
			continue
		}
		rest = append(rest, line)
	}
	return len(rest) == 1 && rest[0] == "$evaluation.grant();"
}

// IsDefaultGrant reports whether p is a JavaScript policy with the built-in
// default grant as its code: it grants, like any policy, subject to its logic.
func IsDefaultGrant(p Policy) bool { return p.Type == "js" && IsDefaultGrantScript(p.Config["code"]) }

// Names and descriptions of the objects a new resource server starts with.
const (
	DefaultResourceName   = "Default Resource"
	DefaultPolicyName     = "Default Policy"
	DefaultPermissionName = "Default Permission"
)

// DefaultResourceType is the type of a resource server's default resource.
func DefaultResourceType(clientID string) string { return "urn:" + clientID + ":resources:default" }

// Defaults are what a client gets in its new resource server when
// authorization services are turned on: a resource for everything ("/*")
// of the default type, owned by the server; a policy that grants; and a
// resource permission on the default type applying that policy. serverID
// is the client's internal id, clientID its clientId. IDs are left empty;
// the permission names its policy in PolicyIDs by name, for the caller to
// replace with the stored policy's id.
func Defaults(serverID, clientID string) (Resource, Policy, Policy) {
	typ := DefaultResourceType(clientID)
	r := Resource{ServerID: serverID, Name: DefaultResourceName, Type: typ, URIs: []string{"/*"}, Owner: serverID}
	p := Policy{ServerID: serverID, Name: DefaultPolicyName, Description: "A policy that grants access only for users within this realm",
		Type: "js", Logic: Positive, DecisionStrategy: Affirmative, Config: map[string]string{"code": DefaultGrantScript}}
	perm := Policy{ServerID: serverID, Name: DefaultPermissionName, Description: "A permission that applies to the default resource type",
		Type: "resource", Logic: Positive, DecisionStrategy: Unanimous, Config: map[string]string{"defaultResourceType": typ}}
	return r, p, perm
}
