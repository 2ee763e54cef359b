package rep

import (
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/role"
)

// Role is Keycloak's RoleRepresentation. Field order follows Keycloak's export.
type Role struct {
	ID          string      `json:"id,omitempty"`
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Composite   bool        `json:"composite"`
	Composites  *Composites `json:"composites,omitempty"`
	ClientRole  bool        `json:"clientRole"`
	// ContainerID is the realm's id for a realm role and the owning client's
	// internal id for a client role.
	ContainerID string              `json:"containerId,omitempty"`
	Attributes  map[string][]string `json:"attributes,omitzero"`
}

// Composites names a composite role's children: realm role names, and client
// role names keyed by the owning client's clientId.
type Composites struct {
	Realm  []string            `json:"realm,omitempty"`
	Client map[string][]string `json:"client,omitempty"`
	// Application is Client's name before Keycloak 4 (input only).
	Application map[string][]string `json:"application,omitempty"`
}

// RoleFromDomain returns the role as Keycloak shows it. composite says
// whether the role has children (the store knows); Composites, which an
// export lists, is left to the caller.
func RoleFromDomain(r role.Role, composite bool) Role {
	x := Role{
		ID:          r.ID,
		Name:        r.Name,
		Description: r.Description,
		Composite:   composite,
		ClientRole:  r.ClientID != "",
		ContainerID: r.RealmID,
		Attributes:  cloneMulti(r.Attributes),
	}
	if r.ClientID != "" {
		x.ContainerID = r.ClientID
	}
	return x
}

// ToDomain returns the role in realmID, owned by the client with internal id
// clientID, or a realm role when clientID is empty. containerId and
// clientRole in x are ignored: the caller knows where the role is being
// written, and an import's container ids are the exporting server's.
func (x Role) ToDomain(realmID, clientID string) role.Role {
	return role.Role{
		ID:          x.ID,
		RealmID:     realmID,
		ClientID:    clientID,
		Name:        x.Name,
		Description: x.Description,
		Attributes:  cloneMulti(x.Attributes),
	}
}

// Group is Keycloak's GroupRepresentation.
type Group struct {
	ID          string  `json:"id,omitempty"`
	Name        string  `json:"name"`
	Description *string `json:"description,omitempty"`
	// Path is the group's place in the tree, "/parent/child".
	Path     string `json:"path,omitempty"`
	ParentID string `json:"parentId,omitempty"`
	// SubGroupCount is set by admin listings that do not nest subGroups.
	SubGroupCount *int64              `json:"subGroupCount,omitempty"`
	SubGroups     []Group             `json:"subGroups,omitzero"`
	Attributes    map[string][]string `json:"attributes,omitzero"`
	// RealmRoles and ClientRoles (keyed by clientId) are role names.
	RealmRoles  []string            `json:"realmRoles,omitzero"`
	ClientRoles map[string][]string `json:"clientRoles,omitzero"`
	Access      map[string]bool     `json:"access,omitzero"`
}

// GroupFromDomain returns the group at path (see GroupPath) with empty lists
// for subgroups and role mappings, which the caller fills.
func GroupFromDomain(g role.Group, path string) Group {
	return Group{
		ID:          g.ID,
		Name:        g.Name,
		Description: optional(g.Description),
		Path:        path,
		ParentID:    g.ParentID,
		SubGroups:   []Group{},
		Attributes:  cloneMulti(g.Attributes),
		RealmRoles:  []string{},
		ClientRoles: map[string][]string{},
	}
}

// ToDomain returns the group in realmID under parentID ("" for a top-level
// group). SubGroups are not included: each becomes its own domain group with
// this group's id as parent.
func (x Group) ToDomain(realmID, parentID string) role.Group {
	return role.Group{
		ID:          x.ID,
		RealmID:     realmID,
		ParentID:    parentID,
		Name:        x.Name,
		Description: value(x.Description),
		Attributes:  cloneMulti(x.Attributes),
	}
}

// GroupTree nests a realm's flat group list into Keycloak's tree, with paths
// set and siblings sorted by name. A group whose parent is missing from the
// list is placed at the top so that it is not lost; a group caught in a
// parent cycle, which the store should never hold, is dropped.
func GroupTree(groups []role.Group) []Group {
	known := make(map[string]bool, len(groups))
	for _, g := range groups {
		known[g.ID] = true
	}
	children := make(map[string][]role.Group)
	for _, g := range groups {
		parent := g.ParentID
		if !known[parent] {
			parent = ""
		}
		children[parent] = append(children[parent], g)
	}
	seen := make(map[string]bool, len(groups))
	var build func(parentID, parentPath string) []Group
	build = func(parentID, parentPath string) []Group {
		kids := children[parentID]
		slices.SortStableFunc(kids, func(a, b role.Group) int {
			if c := strings.Compare(a.Name, b.Name); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		out := make([]Group, 0, len(kids))
		for _, g := range kids {
			if seen[g.ID] {
				continue
			}
			seen[g.ID] = true
			x := GroupFromDomain(g, role.GroupPath(parentPath, g.Name))
			x.SubGroups = build(g.ID, x.Path)
			out = append(out, x)
		}
		return out
	}
	return build("", "")
}
