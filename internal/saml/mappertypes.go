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
	prop(cfgFriendlyName, "Friendly Name", "String", nil, "Standard SAML attribute setting. An optional, more human-readable form of the attribute's name that can be provided if the actual attribute name is cryptic."),
	prop(cfgAttributeName, "SAML Attribute Name", "String", nil, "SAML Attribute Name"),
	{Name: cfgNameFormat, Label: "SAML Attribute NameFormat", Type: "List", HelpText: "SAML Attribute NameFormat. Can be basic, URI reference, or unspecified.",
		Options: []string{"Basic", "URI Reference", "Unspecified"}},
}

func withAttributeProps(ps ...MapperProperty) []MapperProperty {
	return append(ps, attributeProps...)
}

func init() {
	MapperTypes = []MapperType{
		{ID: MapperUserProperty, Name: "User Property", Category: categoryAttribute,
			HelpText: "Map a built in user property (email, firstName, lastName) to a SAML attribute type.",
			Properties: withAttributeProps(prop(cfgUserAttribute, "Property", "String", nil,
				"Name of the property method in the UserModel interface. For example, a value of 'email' would reference the UserModel.getEmail() method."))},
		{ID: MapperUserAttribute, Name: "User Attribute", Category: categoryAttribute,
			HelpText: "Map a custom user attribute to a to a SAML attribute.",
			Properties: withAttributeProps(
				prop(cfgUserAttribute, "User Attribute", "UserProfileAttributeList", nil, "Name of stored user attribute which is the name of an attribute within the UserModel.attribute map."),
				prop(cfgAggregate, "Aggregate attribute values", "boolean", "false", "Indicates if attribute values should be aggregated with the group attributes. If using OpenID Connect mapper the multivalued option needs to be enabled too in order to get all the values. Duplicated values are discarded and the order of values is not guaranteed with this option."))},
		{ID: MapperHardcodedAttr, Name: "Hardcoded attribute", Category: categoryAttribute,
			HelpText:   "Hardcode an attribute into the SAML Assertion.",
			Properties: withAttributeProps(prop(cfgAttributeValue, "Attribute value", "String", nil, "Value of the attribute you want to hard code."))},
		{ID: MapperGroupMembership, Name: "Group list", Category: categoryAttribute,
			HelpText: "Group names are stored in an attribute value. There is either one attribute with multiple attribute values, or an attribute per group name depending on how you configure it. You can also specify the attribute name i.e. 'member' or 'memberOf' being examples.",
			Properties: []MapperProperty{
				prop(cfgAttributeName, "Group attribute name", "String", "member", "Name of the SAML attribute you want to put your groups into. i.e. 'member', 'memberOf'."),
				attributeProps[0], attributeProps[2],
				prop(cfgSingle, "Single Group Attribute", "boolean", "true", "If true, all groups will be stored under one attribute with multiple attribute values."),
				prop(cfgFullPath, "Full group path", "boolean", "true", "Include full path to group i.e. /top/level1/level2, false will just specify the group name"),
			}},
		{ID: MapperRoleList, Name: "Role list", Category: categoryRole,
			HelpText: "Role names are stored in an attribute value. There is either one attribute with multiple attribute values, or an attribute per role name depending on how you configure it. You can also specify the attribute name i.e. 'Role' or 'memberOf' being examples.",
			Properties: []MapperProperty{
				prop(cfgAttributeName, "Role attribute name", "String", "Role", "Name of the SAML attribute you want to put your roles into. i.e. 'Role', 'memberOf'."),
				attributeProps[0], attributeProps[2],
				prop(cfgSingle, "Single Role Attribute", "boolean", "true", "If true, all roles will be stored under one attribute with multiple attribute values."),
			}},
		{ID: MapperHardcodedRole, Name: "Hardcoded role", Category: categoryRole,
			HelpText: "Hardcode role into SAML Assertion.",
			Properties: []MapperProperty{prop(cfgRole, "Role", "Role", nil,
				"Arbitrary role name you want to hardcode. This role does not have to exist in current realm and can be just any string you need")}},
		{ID: MapperRoleName, Name: "Role Name Mapper", Category: categoryRole,
			HelpText: "Map an assigned role to a new name",
			Properties: []MapperProperty{
				prop(cfgRole, "Role", "Role", nil, "Role name you want changed. Click 'Select Role' button to browse roles, or just type it in the textbox. To reference a client role the syntax is clientname.clientrole, i.e. myclient.myrole"),
				prop(cfgNewRoleName, "New Role Name", "String", nil, "The new role name."),
			}},
		{ID: MapperAudience, Name: "Audience", Category: categoryAudience,
			HelpText: "Add specified audience to the audience conditions in the assertion.",
			Properties: []MapperProperty{
				prop(cfgClientAudience, "Included Client Audience", "ClientList", nil, "The Client ID of the specified audience client will be included in audience (aud) field of the token. If there are existing audiences in the token, the specified value is just added to them. It won't override existing audiences."),
				prop(cfgCustomAudience, "Included Custom Audience", "String", nil, "This is used just if 'Included Client Audience' is not filled. Specified value will be included in audience (aud) field of the token. If there are existing audiences in the token, the specified value is just added to them. It won't override existing audiences."),
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
