package authz

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Error is a representation the model refuses; Msg says why, for the caller.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func invalid(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// PolicyTypes are the policy and permission types an administrator may
// create. "js" is not among them: Gatehouse runs no uploaded scripts.
var PolicyTypes = []string{"aggregate", "client", "client-scope", "group", "regex", "role", "time", "user", "resource", "scope"}

// Provider is one entry of the policy providers catalogue.
type Provider struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Group string `json:"group"`
}

// Providers is the catalogue the admin API lists, in PolicyTypes order.
var Providers = []Provider{
	{"aggregate", "Aggregated", "Others"},
	{"client", "Client", "Identity Based"},
	{"client-scope", "Client Scope", "Identity Based"},
	{"group", "Group", "Identity Based"},
	{"regex", "Regex", "Rule Based"},
	{"role", "Role", "Identity Based"},
	{"time", "Time", "Time Based"},
	{"user", "User", "Identity Based"},
	{"resource", "Resource", "Others"},
	{"scope", "Scope", "Others"},
}

// IsPermission reports whether a policy type is a permission's.
func IsPermission(typ string) bool { return typ == "resource" || typ == "scope" || typ == "uma" }

// ErrScript is the refusal of a JavaScript policy: uploading scripts is
// off, as in Keycloak by default, and Gatehouse has no deployed scripts.
var ErrScript = &Error{Msg: "Script upload is disabled"}

// ValidateServer checks a resource server's settings.
func ValidateServer(s ResourceServer) error {
	if !slices.Contains([]string{Enforcing, Permissive, Disabled}, s.PolicyEnforcementMode) {
		return invalid("Invalid policy enforcement mode [%s]", s.PolicyEnforcementMode)
	}
	if !slices.Contains([]string{Unanimous, Affirmative, Consensus}, s.DecisionStrategy) {
		return invalid("Invalid decision strategy [%s]", s.DecisionStrategy)
	}
	return nil
}

// ValidateResource checks a resource before it is stored.
func ValidateResource(r Resource) error {
	if r.Name == "" {
		return invalid("Resource name is required")
	}
	if r.Owner == "" {
		return invalid("You must specify the resource owner.")
	}
	return nil
}

// ValidateScope checks a scope before it is stored.
func ValidateScope(s Scope) error {
	if s.Name == "" {
		return invalid("Scope name is required")
	}
	return nil
}

// ValidatePolicy checks a policy or permission before it is stored.
func ValidatePolicy(p Policy) error {
	if p.Type == "js" {
		return ErrScript
	}
	if !slices.Contains(PolicyTypes, p.Type) && p.Type != "uma" {
		return invalid("Policy provider for [%s] not found", p.Type)
	}
	if p.Name == "" {
		return invalid("Policy name is required")
	}
	if !slices.Contains([]string{Positive, Negative}, p.Logic) {
		return invalid("Invalid logic [%s]", p.Logic)
	}
	if !slices.Contains([]string{Unanimous, Affirmative, Consensus}, p.DecisionStrategy) {
		return invalid("Invalid decision strategy [%s]", p.DecisionStrategy)
	}
	if slices.Contains(p.PolicyIDs, p.ID) && p.ID != "" {
		return invalid("Policy [%s] cannot depend on itself", p.Name)
	}
	switch p.Type {
	case "time":
		for _, k := range []string{"nbf", "noa"} {
			if v := p.Config[k]; v != "" && !validTime(v) {
				return invalid("Could not parse a date using format [%s]", v)
			}
		}
		if len(p.Config) == 0 {
			return invalid("You must provide at least one time condition")
		}
	case "regex":
		if p.Config["targetClaim"] == "" || p.Config["pattern"] == "" {
			return invalid("A target claim and a pattern are required")
		}
		if err := checkPattern(p.Config["pattern"]); err != nil {
			return err
		}
	case "role", "user", "group", "client", "client-scope":
		key := map[string]string{"role": "roles", "user": "users", "group": "groups", "client": "clients", "client-scope": "clientScopes"}[p.Type]
		if p.Config[key] == "" && !(p.Type == "group" && p.Config["groupsClaim"] != "") {
			return invalid("You must provide at least one %s", map[string]string{"role": "role", "user": "user", "group": "group", "client": "client", "client-scope": "client scope"}[p.Type])
		}
	}
	return nil
}

// validTime reports whether v is a date in the time policy's format,
// "yyyy-MM-dd HH:mm:ss", the seconds optional.
func validTime(v string) bool {
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if _, err := time.Parse(layout, v); err == nil {
			return true
		}
	}
	return false
}

// checkPattern compiles a regex policy's pattern, so a bad one is refused
// when it is stored rather than when it is evaluated.
func checkPattern(p string) error {
	if _, err := regexp.Compile(p); err != nil {
		return invalid("Invalid pattern [%s]", p)
	}
	return nil
}
