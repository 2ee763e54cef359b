package idp

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
)
