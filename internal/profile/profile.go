// Package profile owns the declarative user profile: which attributes a
// realm's users have, who may see and edit each (administrators through the
// admin API, users through the account API and console), which are required
// and how their values are validated, and what happens to attributes the
// profile does not name. Every path that changes a user's attributes asks
// this package, so a rule holds wherever the attribute is written.
//
// A realm keeps its profile as Keycloak's UPConfig JSON document; a realm
// that never stored one has Default().
package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// Config is Keycloak's UPConfig.
type Config struct {
	Attributes []Attribute `json:"attributes"`
	Groups     []Group     `json:"groups,omitempty"`
	// UnmanagedAttributePolicy says what becomes of attributes the profile
	// does not name: "" (Keycloak's DISABLED: neither stored nor shown),
	// ENABLED (anyone who may edit the user may edit them), ADMIN_VIEW
	// (administrators see them, nobody edits them) or ADMIN_EDIT
	// (administrators see and edit them, users never see them).
	UnmanagedAttributePolicy string `json:"unmanagedAttributePolicy,omitempty"`
}

// Attribute is Keycloak's UPAttribute.
type Attribute struct {
	Name        string                    `json:"name"`
	DisplayName string                    `json:"displayName,omitempty"`
	Validations map[string]map[string]any `json:"validations,omitempty"`
	Annotations map[string]any            `json:"annotations,omitempty"`
	Required    *Required                 `json:"required,omitempty"`
	Permissions *Permissions              `json:"permissions,omitempty"`
	Selector    *Selector                 `json:"selector,omitempty"`
	Group       string                    `json:"group,omitempty"`
	Multivalued bool                      `json:"multivalued"`
}

// Required makes an attribute required for the roles named ("admin",
// "user"), or for everyone when Roles and Scopes are both empty.
type Required struct {
	Roles  []string `json:"roles,omitempty"`
	Scopes []string `json:"scopes,omitempty"`
}

// Permissions name the roles ("admin", "user") that may view and edit an
// attribute; edit implies view.
type Permissions struct {
	View []string `json:"view"`
	Edit []string `json:"edit"`
}

// Selector limits an attribute to logins that request one of Scopes.
type Selector struct {
	Scopes []string `json:"scopes,omitempty"`
}

// Group is Keycloak's UPGroup, a heading attributes are shown under.
type Group struct {
	Name               string         `json:"name"`
	DisplayHeader      string         `json:"displayHeader,omitempty"`
	DisplayDescription string         `json:"displayDescription,omitempty"`
	Annotations        map[string]any `json:"annotations,omitempty"`
}

// The unmanaged attribute policies.
const (
	UnmanagedEnabled   = "ENABLED"
	UnmanagedAdminView = "ADMIN_VIEW"
	UnmanagedAdminEdit = "ADMIN_EDIT"
)

// The roles of permissions and required: who acts on the user.
const (
	RoleAdmin = "admin"
	RoleUser  = "user"
)

// Root attributes are the user's own fields rather than free attributes.
var Root = []string{"username", "email", "firstName", "lastName"}

// IsRoot reports whether name is a root attribute.
func IsRoot(name string) bool { return slices.Contains(Root, name) }

// Default is Keycloak's default profile: the four root attributes with their
// validators, editable by administrators and users, email and names required
// of users. Unmanaged attributes are administrators' own (ADMIN_EDIT), as
// they have always been in Gatehouse: administrators keep seeing and editing
// the attributes they set, and users never see them.
func Default() Config {
	both := func() *Permissions {
		return &Permissions{View: []string{RoleAdmin, RoleUser}, Edit: []string{RoleAdmin, RoleUser}}
	}
	name := func(n string) Attribute {
		return Attribute{Name: n, DisplayName: "${" + n + "}", Permissions: both(), Required: &Required{Roles: []string{RoleUser}},
			Validations: map[string]map[string]any{"length": {"max": 255}, "person-name-prohibited-characters": {}}}
	}
	return Config{
		Attributes: []Attribute{
			{Name: "username", DisplayName: "${username}", Permissions: both(),
				Validations: map[string]map[string]any{"length": {"min": 3, "max": 255}, "username-prohibited-characters": {}, "up-username-not-idn-homograph": {}}},
			{Name: "email", DisplayName: "${email}", Permissions: both(), Required: &Required{Roles: []string{RoleUser}},
				Validations: map[string]map[string]any{"email": {}, "length": {"max": 255}}},
			name("firstName"),
			name("lastName"),
		},
		Groups:                   []Group{{Name: "user-metadata", DisplayHeader: "User metadata", DisplayDescription: "Attributes, which refer to user metadata"}},
		UnmanagedAttributePolicy: UnmanagedAdminEdit,
	}
}

// Load is the realm's profile from its stored document; an empty document
// is Default().
func Load(raw []byte) Config {
	if len(raw) == 0 {
		return Default()
	}
	var c Config
	if err := json.Unmarshal(raw, &c); err != nil {
		// Stored documents passed Parse; a broken one must not open every
		// attribute, so it falls back to the default.
		return Default()
	}
	return c
}

// ConfigError is a profile document Parse refuses, with Keycloak's message.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

var attrName = regexp.MustCompile(`^[a-zA-Z0-9._\-]+$`)

// Parse reads and checks a profile document: attribute names are unique,
// well formed and include username and email; every validator is one this
// package runs, with a configuration it understands; groups an attribute
// names exist; roles are admin or user; the unmanaged policy is known.
func Parse(b []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, &ConfigError{"Invalid user profile configuration: " + err.Error()}
	}
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, &ConfigError{fmt.Sprintf(format, args...)}
	}
	switch c.UnmanagedAttributePolicy {
	case "", UnmanagedEnabled, UnmanagedAdminView, UnmanagedAdminEdit:
	default:
		return bad("Invalid unmanagedAttributePolicy: %s", c.UnmanagedAttributePolicy)
	}
	groups := map[string]bool{}
	for _, g := range c.Groups {
		if g.Name == "" {
			return bad("Name is required for group")
		}
		if groups[g.Name] {
			return bad("Duplicated group name '%s'", g.Name)
		}
		groups[g.Name] = true
	}
	seen := map[string]bool{}
	for _, a := range c.Attributes {
		if a.Name == "" {
			return bad("Attribute configuration without 'name' is not allowed")
		}
		if !attrName.MatchString(a.Name) {
			return bad("Invalid attribute name (only letters, numbers and '.' '_' '-' special characters allowed): %s", a.Name)
		}
		if seen[a.Name] {
			return bad("Duplicated attribute name '%s'", a.Name)
		}
		seen[a.Name] = true
		if a.Group != "" && !groups[a.Group] {
			return bad("Attribute '%s' references unknown group '%s'", a.Name, a.Group)
		}
		for _, roles := range [][]string{rolesOf(a.Required), viewOf(a.Permissions), editOf(a.Permissions)} {
			for _, r := range roles {
				if r != RoleAdmin && r != RoleUser {
					return bad("Invalid role '%s' in attribute '%s'", r, a.Name)
				}
			}
		}
		for v, cfg := range a.Validations {
			if err := checkValidatorConfig(v, cfg); err != nil {
				return bad("Invalid validator configuration for attribute '%s': %s", a.Name, err)
			}
		}
	}
	for _, must := range []string{"username", "email"} {
		if !seen[must] {
			return bad("The attribute '%s' can not be removed", must)
		}
	}
	return c, nil
}

func rolesOf(r *Required) []string {
	if r == nil {
		return nil
	}
	return r.Roles
}

func viewOf(p *Permissions) []string {
	if p == nil {
		return nil
	}
	return p.View
}

func editOf(p *Permissions) []string {
	if p == nil {
		return nil
	}
	return p.Edit
}

// Attribute returns the profile's attribute name.
func (c Config) Attribute(name string) (Attribute, bool) {
	for _, a := range c.Attributes {
		if a.Name == name {
			return a, true
		}
	}
	return Attribute{}, false
}

// number reads a validator's numeric setting, given as a JSON number or a
// string of one.
func number(cfg map[string]any, key string) (float64, bool, error) {
	v, ok := cfg[key]
	if !ok || v == nil {
		return 0, false, nil
	}
	switch x := v.(type) {
	case float64:
		return x, true, nil
	case int:
		return float64(x), true, nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0, false, fmt.Errorf("'%s' is not a number", key)
		}
		return f, true, nil
	}
	return 0, false, fmt.Errorf("'%s' is not a number", key)
}

func stringList(cfg map[string]any, key string) ([]string, bool) {
	v, ok := cfg[key].([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(v))
	for _, x := range v {
		s, ok := x.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

var errUnknownValidator = errors.New("unknown validator")

// Metadata is Keycloak's UserProfileMetadata: the attributes ctx sees, as
// forms render them.
type Metadata struct {
	Attributes []AttributeMetadata `json:"attributes"`
	Groups     []GroupMetadata     `json:"groups"`
}

// AttributeMetadata describes one attribute to a form.
type AttributeMetadata struct {
	Name        string                    `json:"name"`
	DisplayName string                    `json:"displayName"`
	Required    bool                      `json:"required"`
	ReadOnly    bool                      `json:"readOnly"`
	Annotations map[string]any            `json:"annotations"`
	Validators  map[string]map[string]any `json:"validators"`
	Multivalued bool                      `json:"multivalued"`
	Group       string                    `json:"group,omitempty"`
}

// GroupMetadata describes a group of attributes to a form.
type GroupMetadata struct {
	Name               string         `json:"name"`
	DisplayHeader      string         `json:"displayHeader,omitempty"`
	DisplayDescription string         `json:"displayDescription,omitempty"`
	Annotations        map[string]any `json:"annotations,omitempty"`
}

// Metadata returns the attributes ctx may see, in profile order, and the
// groups they are shown under. Each validator's configuration carries
// "ignore.empty.value", as an empty value is the required check's business.
func (c Config) Metadata(ctx Context) Metadata {
	m := Metadata{Attributes: []AttributeMetadata{}, Groups: []GroupMetadata{}}
	used := map[string]bool{}
	for _, a := range c.Attributes {
		if !c.CanView(ctx, a.Name) {
			continue
		}
		vs := map[string]map[string]any{}
		for id, cfg := range a.Validations {
			x := map[string]any{"ignore.empty.value": true}
			for k, v := range cfg {
				x[k] = v
			}
			vs[id] = x
		}
		ann := a.Annotations
		if ann == nil {
			ann = map[string]any{}
		}
		m.Attributes = append(m.Attributes, AttributeMetadata{Name: a.Name, DisplayName: c.display(a.Name),
			Required: c.IsRequired(ctx, a.Name), ReadOnly: !c.CanEdit(ctx, a.Name), Annotations: ann,
			Validators: vs, Multivalued: a.Multivalued, Group: a.Group})
		if a.Group != "" {
			used[a.Group] = true
		}
	}
	for _, g := range c.Groups {
		if used[g.Name] {
			m.Groups = append(m.Groups, GroupMetadata(g))
		}
	}
	return m
}
