package saml

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

// MapperTypes are the SAML mapper types MapAttributes and MapAudiences
// apply, for serverinfo.
var MapperTypes []MapperType

// Mapper type categories, as the admin console groups them.
const (
	categoryAttribute = "AttributeStatement Mapper"
	categoryRole      = "Role Mapper"
	categoryAudience  = "Audience Mapper"
)

func prop(name, label, typ string, def any, help string) MapperProperty {
	return MapperProperty{Name: name, Label: label, Type: typ, DefaultValue: def, HelpText: help}
}

// attributeProps are the fields every attribute statement mapper has.
var attributeProps = []MapperProperty{
	prop(cfgFriendlyName, "Friendly Name", "String", nil, "An optional readable name sent beside the attribute's name, for names such as OIDs."),
	prop(cfgAttributeName, "SAML Attribute Name", "String", nil, "The Name of the saml:Attribute."),
	{Name: cfgNameFormat, Label: "SAML Attribute NameFormat", Type: "List", HelpText: "The attribute's NameFormat: Basic, URI Reference or Unspecified.",
		Options: []string{"Basic", "URI Reference", "Unspecified"}},
}

func withAttributeProps(ps ...MapperProperty) []MapperProperty {
	return append(ps, attributeProps...)
}

func init() {
	MapperTypes = []MapperType{
		{ID: MapperUserProperty, Name: "User Property", Category: categoryAttribute,
			HelpText: "Sends a property of the user (username, email, firstName, lastName, id) as a SAML attribute.",
			Properties: withAttributeProps(prop(cfgUserAttribute, "Property", "String", nil,
				"The user property to send: username, email, firstName, lastName, id, emailVerified or createdTimestamp."))},
		{ID: MapperUserAttribute, Name: "User Attribute", Category: categoryAttribute,
			HelpText: "Sends the values of a user attribute as a SAML attribute.",
			Properties: withAttributeProps(
				prop(cfgUserAttribute, "User Attribute", "UserProfileAttributeList", nil, "The name of the user attribute whose values are sent."),
				prop(cfgAggregate, "Aggregate attribute values", "boolean", "false", "Merge the values, dropping duplicates; their order is then not kept."))},
		{ID: MapperHardcodedAttr, Name: "Hardcoded attribute", Category: categoryAttribute,
			HelpText:   "Sends the same attribute value for every user.",
			Properties: withAttributeProps(prop(cfgAttributeValue, "Attribute value", "String", nil, "The value sent."))},
		{ID: MapperGroupMembership, Name: "Group list", Category: categoryAttribute,
			HelpText: "Sends the user's groups: as the values of one attribute, or as one attribute per group.",
			Properties: []MapperProperty{
				prop(cfgAttributeName, "Group attribute name", "String", "member", "The attribute that carries the groups, such as member or memberOf."),
				attributeProps[0], attributeProps[2],
				prop(cfgSingle, "Single Group Attribute", "boolean", "true", "On: one attribute with a value per group. Off: one attribute per group."),
				prop(cfgFullPath, "Full group path", "boolean", "true", "On: the group's path, such as /staff/engineering. Off: its name only."),
			}},
		{ID: MapperRoleList, Name: "Role list", Category: categoryRole,
			HelpText: "Sends the user's roles in the client's scope: as the values of one attribute, or as one attribute per role.",
			Properties: []MapperProperty{
				prop(cfgAttributeName, "Role attribute name", "String", "Role", "The attribute that carries the roles, such as Role or memberOf."),
				attributeProps[0], attributeProps[2],
				prop(cfgSingle, "Single Role Attribute", "boolean", "true", "On: one attribute with a value per role. Off: one attribute per role."),
			}},
		{ID: MapperHardcodedRole, Name: "Hardcoded role", Category: categoryRole,
			HelpText: "Adds a fixed role to the role list.",
			Properties: []MapperProperty{prop(cfgRole, "Role", "Role", nil,
				"The role name added; it need not exist in the realm.")}},
		{ID: MapperRoleName, Name: "Role Name Mapper", Category: categoryRole,
			HelpText: "Sends a role under another name in the role list.",
			Properties: []MapperProperty{
				prop(cfgRole, "Role", "Role", nil, "The role to rename: a realm role's name, or clientId.roleName for a client role."),
				prop(cfgNewRoleName, "New Role Name", "String", nil, "The name sent instead."),
			}},
		{ID: MapperNameID, Name: "User Attribute Mapper For NameID", Category: "NameID Mapper",
			HelpText: "Takes the NameID of one format from a user attribute.",
			Properties: []MapperProperty{
				{Name: cfgNameIDFormat, Label: "Name ID Format", Type: "List", HelpText: "The NameID format this mapper gives the value of.",
					Options: []string{NameIDUnspecified, NameIDEmail, "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName",
						"urn:oasis:names:tc:SAML:1.1:nameid-format:WindowsDomainQualifiedName", "urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos",
						"urn:oasis:names:tc:SAML:2.0:nameid-format:entity", NameIDPersistent, NameIDTransient}},
				prop(cfgUserAttribute, "User Attribute", "UserProfileAttributeList", nil, "The name of the user attribute whose values are sent."),
			}},
		{ID: MapperOrganization, Name: "Organization Membership", Category: categoryAttribute,
			HelpText: "Sends the organizations the user belongs to.", Properties: []MapperProperty{}},
		{ID: MapperAudience, Name: "Audience", Category: categoryAudience,
			HelpText: "Adds an audience to the assertion's AudienceRestriction.",
			Properties: []MapperProperty{
				prop(cfgClientAudience, "Included Client Audience", "ClientList", nil, "The clientId of a client to add as an audience, besides the client itself."),
				prop(cfgCustomAudience, "Included Custom Audience", "String", nil, "Any audience URI to add, used when no client is chosen above."),
			}},
	}
}

// SupportedMapper reports whether MapAttributes (or MapAudiences) applies
// mappers of type typ.
func SupportedMapper(typ string) bool {
	for _, t := range MapperTypes {
		if t.ID == typ {
			return true
		}
	}
	return false
}
