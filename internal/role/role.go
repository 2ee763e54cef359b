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

// GroupPath returns the path of a group named name under the group at
// parentPath ("" for a top-level group). A "/" inside a name is not escaped:
// Keycloak writes it as "~/" only when its escape-slashes-in-group-path
// option is on, and that option is off by default.
func GroupPath(parentPath, name string) string {
	return parentPath + "/" + name
}

// GroupPaths returns each group's path ("/parent/child") by id. A group
// whose parent is missing is placed at the top; a parent cycle, which the
// store should never hold, is cut rather than followed forever.
func GroupPaths(groups []Group) map[string]string {
	byID := make(map[string]Group, len(groups))
	for _, g := range groups {
		byID[g.ID] = g
	}
	paths := make(map[string]string, len(groups))
	var path func(id string, depth int) string
	path = func(id string, depth int) string {
		if p, ok := paths[id]; ok {
			return p
		}
		g := byID[id]
		parent := ""
		if _, ok := byID[g.ParentID]; ok && depth < len(groups) {
			parent = path(g.ParentID, depth+1)
		}
		paths[id] = GroupPath(parent, g.Name)
		return paths[id]
	}
	for _, g := range groups {
		path(g.ID, 0)
	}
	return paths
}

// Subtree returns the ids of the group rootID and of all its descendants
// among groups, the root first. A parent cycle, which the store should
// never hold, is cut.
func Subtree(groups []Group, rootID string) []string {
	children := map[string][]string{}
	for _, g := range groups {
		children[g.ParentID] = append(children[g.ParentID], g.ID)
	}
	return subtree(children, rootID, map[string]bool{}, nil)
}

func subtree(children map[string][]string, id string, seen map[string]bool, out []string) []string {
	if seen[id] {
		return out
	}
	seen[id] = true
	out = append(out, id)
	for _, k := range children[id] {
		out = subtree(children, k, seen, out)
	}
	return out
}
