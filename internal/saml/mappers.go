package saml

import (
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// SAML protocol mapper types.
const (
	MapperUserProperty    = "saml-user-property-mapper"
	MapperUserAttribute   = "saml-user-attribute-mapper"
	MapperRoleList        = "saml-role-list-mapper"
	MapperHardcodedAttr   = "saml-hardcode-attribute-mapper"
	MapperGroupMembership = "saml-group-membership-mapper"
	MapperHardcodedRole   = "saml-hardcode-role-mapper"
	MapperRoleName        = "saml-role-name-mapper"
	MapperAudience        = "saml-audience-mapper"
	MapperFullName        = "saml-full-name-mapper"
)

// Subject is who an assertion is about.
type Subject struct {
	User        user.User
	RealmRoles  []string
	ClientRoles map[string][]string // clientId → roles
	Groups      []string            // full paths
}

// MapAttributes applies a client's SAML protocol mappers (its own and its
// client scopes') to s, in order. Mappers of other types are skipped.
func MapAttributes(mappers []client.ProtocolMapper, s Subject) []Attribute { return nil }

// MapperProperty is one field of a mapper type's configuration form
// (the admin API's ConfigPropertyRepresentation).
type MapperProperty struct {
	Name         string   `json:"name"`
	Label        string   `json:"label"`
	HelpText     string   `json:"helpText"`
	Type         string   `json:"type"`
	DefaultValue any      `json:"defaultValue,omitempty"`
	Options      []string `json:"options,omitempty"`
	Secret       bool     `json:"secret"`
	Required     bool     `json:"required"`
	ReadOnly     bool     `json:"readOnly"`
}

// MapperType is a SAML protocol mapper type (the admin API's
// ProtocolMapperTypeRepresentation).
type MapperType struct {
	ID         string           `json:"id"`
	Name       string           `json:"name"`
	Category   string           `json:"category"`
	HelpText   string           `json:"helpText"`
	Priority   int              `json:"priority"`
	Properties []MapperProperty `json:"properties"`
}

// MapperTypes are the SAML mapper types MapAttributes applies, for serverinfo.
var MapperTypes []MapperType

// NameID is the subject's NameID value and format for a client: the
// client's format when forced or when the request asked for none (or
// unspecified), else the requested one. email needs an email; persistent
// is stable per user and client ("G-" and a UUID derived from both);
// transient is random ("G-" and a random UUID); unspecified is the username.
func NameID(cs ClientSettings, requestedFormat string, u user.User) (value, format string, err error) {
	return "", "", errNotImplemented
}
