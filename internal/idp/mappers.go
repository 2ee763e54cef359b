package idp

import "encoding/json"

// Mapper types (Mapper.IdentityProviderMapper) and the configuration keys
// they read.
const (
	MapperHardcodedRole      = "oidc-hardcoded-role-idp-mapper"
	MapperHardcodedAttribute = "hardcoded-attribute-idp-mapper"
	MapperHardcodedGroup     = "oidc-hardcoded-group-idp-mapper"
	MapperAttributeImporter  = "oidc-user-attribute-idp-mapper"
	MapperUsernameTemplate   = "oidc-username-idp-mapper"
	MapperAdvancedClaimRole  = "oidc-advanced-role-idp-mapper"
	MapperAdvancedClaimGroup = "oidc-advanced-group-idp-mapper"

	// SAML ones read the upstream's assertion: an attribute is found by its
	// Name or its FriendlyName.
	MapperSAMLAttributeImporter = "saml-user-attribute-idp-mapper"
	MapperSAMLAttributeToRole   = "saml-role-idp-mapper"
	MapperSAMLAdvancedRole      = "saml-advanced-role-idp-mapper"
	MapperSAMLAdvancedGroup     = "saml-advanced-group-idp-mapper"
	MapperSAMLUsernameTemplate  = "saml-username-idp-mapper"

	// MapperConfigSyncMode is each mapper's own sync mode: INHERIT (the
	// provider's), IMPORT, LEGACY or FORCE.
	MapperConfigSyncMode = "syncMode"
	MapperSyncInherit    = "INHERIT"

	MapperConfigRole           = "role"            // a role: "name" or "clientId.name"
	MapperConfigGroup          = "group"           // a group path
	MapperConfigAttribute      = "attribute"       // hardcoded attribute: the user attribute
	MapperConfigAttributeValue = "attribute.value" // hardcoded attribute: its value
	MapperConfigClaim          = "claim"           // attribute importer: the claim (dotted path)
	MapperConfigUserAttribute  = "user.attribute"  // attribute importer: the user attribute or property
	MapperConfigTemplate       = "template"        // username template, e.g. ${CLAIM.email}
	MapperConfigTarget         = "target"          // username template: LOCAL, BROKER_ID or BROKER_USERNAME
	MapperConfigClaims         = "claims"          // advanced: JSON [{"key": claim, "value": value}]
	MapperConfigClaimsRegex    = "are.claim.values.regex"

	MapperConfigAttributeName     = "attribute.name"             // SAML: the attribute's Name
	MapperConfigAttributeFriendly = "attribute.friendly.name"    // SAML: or its FriendlyName
	MapperConfigAttributeNameFmt  = "attribute.name.format"      // SAML: the Name's format (informative)
	MapperConfigAttributeValueIs  = "attribute.value"            // SAML attribute to role: the value it must have
	MapperConfigAttributes        = "attributes"                 // SAML advanced: JSON [{"key": name, "value": value}]
	MapperConfigAttributesRegex   = "are.attribute.values.regex" // SAML advanced: values are patterns
)

// Username template targets: where the template's result goes.
const (
	TargetLocal          = "LOCAL"
	TargetBrokerID       = "BROKER_ID"
	TargetBrokerUsername = "BROKER_USERNAME"
)

// Property is one field of a mapper type's configuration form; Type is
// the form field kind the admin console knows ("String", "boolean",
// "List", "Role", "Group", "Map", "UserProfileAttributeList").
type Property struct {
	Name, Label, HelpText, Type string
	Default                     string
	Options                     []string
}

// MapperType is a kind of identity provider mapper.
type MapperType struct {
	ID, Name, Category, HelpText string
	Properties                   []Property
	// ClaimBased types read the upstream's claims, which only the OIDC
	// kinds hand over as such; SAMLBased ones read a SAML assertion; the
	// others apply to every provider.
	ClaimBased bool
	SAMLBased  bool
	// NotSAML types have a SAML counterpart that SAML kinds list instead.
	NotSAML bool
}

var (
	propRole   = Property{Name: MapperConfigRole, Label: "Role", Type: "Role", HelpText: "Role to grant to the user. To name a client role, write clientId.roleName."}
	propGroup  = Property{Name: MapperConfigGroup, Label: "Group", Type: "Group", HelpText: "Group the user is put in, by path."}
	propClaims = Property{Name: MapperConfigClaims, Label: "Claims", Type: "Map",
		HelpText: "The claims the token must hold, each with the value it must have; a name with dots looks into nested claims."}
	propRegex = Property{Name: MapperConfigClaimsRegex, Label: "Regex Claim Values", Type: "boolean", Default: "false",
		HelpText: "Whether the claim values are regular expressions."}
	propAttributes = Property{Name: MapperConfigAttributes, Label: "Attributes", Type: "Map",
		HelpText: "The attributes (by Name or FriendlyName) the assertion must hold, each with a value it must have."}
	propAttrRegex = Property{Name: MapperConfigAttributesRegex, Label: "Regex Attribute Values", Type: "boolean", Default: "false",
		HelpText: "Whether the attribute values are regular expressions."}
	propAttrName = Property{Name: MapperConfigAttributeName, Label: "Attribute Name", Type: "String",
		HelpText: "Name of the attribute in the assertion; leave it blank to use the friendly name."}
	propAttrFriendly = Property{Name: MapperConfigAttributeFriendly, Label: "Friendly Name", Type: "String",
		HelpText: "Friendly name of the attribute in the assertion; leave it blank to use the name."}
)

// MapperTypes are the mapper types Gatehouse applies, in the order the
// admin console lists them.
var MapperTypes = []MapperType{
	{ID: MapperAdvancedClaimGroup, Name: "Advanced Claim to Group", Category: "Group Importer", ClaimBased: true,
		HelpText:   "When every listed claim is present with its value, put the user in the group.",
		Properties: []Property{propClaims, propRegex, propGroup}},
	{ID: MapperAdvancedClaimRole, Name: "Advanced Claim to Role", Category: "Role Importer", ClaimBased: true,
		HelpText:   "When every listed claim is present with its value, grant the user the role.",
		Properties: []Property{propClaims, propRegex, propRole}},
	{ID: MapperAttributeImporter, Name: "Attribute Importer", Category: "Attribute Importer", ClaimBased: true,
		HelpText: "Import a claim of the ID token or the user info into a user attribute or property.",
		Properties: []Property{
			{Name: MapperConfigClaim, Label: "Claim", Type: "String", HelpText: "Name of the claim; a name with dots looks into nested claims."},
			{Name: MapperConfigUserAttribute, Label: "User Attribute Name", Type: "UserProfileAttributeList",
				HelpText: "User attribute or property (email, firstName, lastName, username) the claim is stored in."},
		}},
	{ID: MapperHardcodedAttribute, Name: "Hardcoded Attribute", Category: "Attribute Importer",
		HelpText: "When a user is imported from the provider, set an attribute to a fixed value.",
		Properties: []Property{
			{Name: MapperConfigAttribute, Label: "User Attribute", Type: "UserProfileAttributeList", HelpText: "Name of the user attribute to set."},
			{Name: MapperConfigAttributeValue, Label: "Attribute Value", Type: "String", HelpText: "Value the attribute is set to."},
		}},
	{ID: MapperHardcodedGroup, Name: "Hardcoded Group", Category: "Group Importer",
		HelpText: "When a user is imported from the provider, put the user in a group.", Properties: []Property{propGroup}},
	{ID: MapperHardcodedRole, Name: "Hardcoded Role", Category: "Role Importer",
		HelpText: "When a user is imported from the provider, grant the user a role.", Properties: []Property{propRole}},
	{ID: MapperSAMLAdvancedGroup, Name: "Advanced Attribute to Group", Category: "Group Importer", SAMLBased: true,
		HelpText:   "When every listed attribute is present with its value, put the user in the group.",
		Properties: []Property{propAttributes, propAttrRegex, propGroup}},
	{ID: MapperSAMLAdvancedRole, Name: "Advanced Attribute to Role", Category: "Role Importer", SAMLBased: true,
		HelpText:   "When every listed attribute is present with its value, grant the user the role.",
		Properties: []Property{propAttributes, propAttrRegex, propRole}},
	{ID: MapperSAMLAttributeImporter, Name: "Attribute Importer", Category: "Attribute Importer", SAMLBased: true,
		HelpText: "Import an attribute of the assertion, when present, into a user attribute or property.",
		Properties: []Property{propAttrName, propAttrFriendly,
			{Name: MapperConfigAttributeNameFmt, Label: "Name Format", Type: "List", Options: []string{"ATTRIBUTE_FORMAT_BASIC", "ATTRIBUTE_FORMAT_URI", "ATTRIBUTE_FORMAT_UNSPECIFIED"},
				HelpText: "The format of the attribute's Name."},
			{Name: MapperConfigUserAttribute, Label: "User Attribute Name", Type: "UserProfileAttributeList",
				HelpText: "User attribute or property (email, firstName, lastName) the attribute is stored in."},
		}},
	{ID: MapperSAMLAttributeToRole, Name: "SAML Attribute to Role", Category: "Role Importer", SAMLBased: true,
		HelpText: "When the assertion has the attribute with the value, grant the user the role.",
		Properties: []Property{propAttrName, propAttrFriendly,
			{Name: MapperConfigAttributeValueIs, Label: "Attribute Value", Type: "String", HelpText: "Value the attribute must have."}, propRole}},
	{ID: MapperSAMLUsernameTemplate, Name: "Username Template Importer", Category: "Preprocessor", SAMLBased: true,
		HelpText: "Format the username to import: ${ALIAS} is the provider's alias, ${NAMEID} the subject's NameID, ${ATTRIBUTE.<name>} an attribute; | lowercase and | uppercase transform a part.",
		Properties: []Property{
			{Name: MapperConfigTemplate, Label: "Template", Type: "String", Default: "${ALIAS}.${NAMEID}", HelpText: "Template of the username."},
			{Name: MapperConfigTarget, Label: "Target", Type: "List", Default: TargetLocal, Options: []string{TargetLocal, TargetBrokerID, TargetBrokerUsername},
				HelpText: "What the template sets: the local username, or the user's id or username at the provider."},
		}},
	{ID: MapperUsernameTemplate, Name: "Username Template Importer", Category: "Preprocessor", NotSAML: true,
		HelpText: "Format the username to import: ${ALIAS} is the provider's alias, ${CLAIM.<name>} a claim, ${UUID} a random id; | lowercase and | uppercase transform a part.",
		Properties: []Property{
			{Name: MapperConfigTemplate, Label: "Template", Type: "String", Default: "${ALIAS}.${CLAIM.preferred_username}",
				HelpText: "Template of the username."},
			{Name: MapperConfigTarget, Label: "Target", Type: "List", Default: TargetLocal, Options: []string{TargetLocal, TargetBrokerID, TargetBrokerUsername},
				HelpText: "What the template sets: the local username, or the user's id or username at the provider."},
		}},
}

// MapperTypesFor lists the mapper types a provider kind supports.
func MapperTypesFor(providerID string) []MapperType {
	k, ok := Kinds[providerID]
	if !ok {
		return nil
	}
	var out []MapperType
	for _, t := range MapperTypes {
		if (!t.ClaimBased || k.OIDC) && (!t.SAMLBased || k.SAML) && !(t.NotSAML && k.SAML) {
			out = append(out, t)
		}
	}
	return out
}

// MapperSyncModes are the values a mapper's syncMode may take.
var MapperSyncModes = []string{MapperSyncInherit, SyncImport, SyncLegacy, SyncForce}

// CheckFor checks a mapper fits a provider of kind providerID: a type the
// kind supports, and the configuration its type needs in the right form.
// Whether the role or group it names exists is for the caller, which has
// the store.
func (m Mapper) CheckFor(providerID string) error {
	if err := m.Validate(); err != nil {
		return err
	}
	supported := false
	for _, t := range MapperTypesFor(providerID) {
		supported = supported || t.ID == m.IdentityProviderMapper
	}
	if !supported {
		return invalid("Mapper type [" + m.IdentityProviderMapper + "] is not supported by identity provider [" + providerID + "]")
	}
	if v := m.Config[MapperConfigSyncMode]; v != "" && v != MapperSyncInherit && v != SyncImport && v != SyncLegacy && v != SyncForce {
		return invalid("Invalid sync mode [" + v + "]")
	}
	c := m.Config
	switch m.IdentityProviderMapper {
	case MapperHardcodedRole, MapperAdvancedClaimRole, MapperSAMLAttributeToRole, MapperSAMLAdvancedRole:
		if c[MapperConfigRole] == "" {
			return invalid("Role is missing")
		}
	case MapperHardcodedGroup, MapperAdvancedClaimGroup, MapperSAMLAdvancedGroup:
		if c[MapperConfigGroup] == "" {
			return invalid("Group is missing")
		}
	case MapperHardcodedAttribute:
		if c[MapperConfigAttribute] == "" {
			return invalid("User attribute is missing")
		}
	case MapperAttributeImporter:
		if c[MapperConfigClaim] == "" || c[MapperConfigUserAttribute] == "" {
			return invalid("Claim and user attribute are required")
		}
	case MapperSAMLAttributeImporter:
		if (c[MapperConfigAttributeName] == "" && c[MapperConfigAttributeFriendly] == "") || c[MapperConfigUserAttribute] == "" {
			return invalid("Attribute name or friendly name, and user attribute are required")
		}
	case MapperUsernameTemplate, MapperSAMLUsernameTemplate:
		if t := c[MapperConfigTarget]; t != "" && t != TargetLocal && t != TargetBrokerID && t != TargetBrokerUsername {
			return invalid("Invalid target [" + t + "]")
		}
	}
	if m.IdentityProviderMapper == MapperAdvancedClaimRole || m.IdentityProviderMapper == MapperAdvancedClaimGroup ||
		m.IdentityProviderMapper == MapperSAMLAdvancedRole || m.IdentityProviderMapper == MapperSAMLAdvancedGroup {
		if _, err := m.Claims(); err != nil {
			return err
		}
	}
	return nil
}

// ClaimCondition is one entry of an advanced mapper's claims: the claim
// (a name with dots looks into nested objects) and the value it must have.
type ClaimCondition struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Claims reads an advanced mapper's claim conditions (a SAML advanced
// mapper's attribute conditions).
func (m Mapper) Claims() ([]ClaimCondition, error) {
	raw := m.Config[MapperConfigClaims]
	if m.IdentityProviderMapper == MapperSAMLAdvancedRole || m.IdentityProviderMapper == MapperSAMLAdvancedGroup {
		raw = m.Config[MapperConfigAttributes]
	}
	if raw == "" {
		return nil, nil
	}
	var out []ClaimCondition
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil, invalid("Claims must be a JSON list of key and value pairs")
	}
	return out, nil
}
