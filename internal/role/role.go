// Package role owns realm roles, client roles and groups, and the expansion of
// composite roles and group membership into a user's effective roles.
package role

import "errors"

// Role is a realm role (ClientID empty) or a client role.
type Role struct {
	ID          string
	RealmID     string
	ClientID    string // internal id of the owning client; empty for realm roles
	Name        string
	Description string
	Attributes  map[string][]string
}

// Validate checks the invariants of a stored role.
func (r Role) Validate() error {
	if r.Name == "" {
		return errors.New("role name is missing")
	}
	if len(r.Name) > 255 {
		return errors.New("role name is longer than 255 characters")
	}
	return nil
}

// Group is a node in a realm's group tree; members inherit its role mappings
// and those of its ancestors.
type Group struct {
	ID          string
	RealmID     string
	ParentID    string // empty for a top-level group
	Name        string
	Description string
	Attributes  map[string][]string
}

// Validate checks the invariants of a stored group.
func (g Group) Validate() error {
	if g.Name == "" {
		return errors.New("group name is missing")
	}
	return nil
}

// Expand returns the ids of every role reachable from roots through composite
// edges, roots included. composites maps a role id to its direct children. It
// tolerates cycles, which Keycloak allows.
func Expand(roots []string, composites map[string][]string) []string {
	seen := make(map[string]bool, len(roots))
	out := make([]string, 0, len(roots))
	stack := append([]string(nil), roots...)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
		stack = append(stack, composites[id]...)
	}
	return out
}
