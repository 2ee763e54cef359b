package ldap

// The mapper types an ldap provider accepts, with the fields of each as the
// admin API lists them (sub-component types) and the console shows them.
// Defaults depend on the provider: its edit mode, whether it imports users,
// its vendor and username attribute.

// Property types, as the admin API names them.
const (
	PropString     = "String"
	PropBoolean    = "boolean"
	PropList       = "List"
	PropRole       = "Role"
	PropClientList = "ClientList"
)

// MapperProperty is one field of a mapper type (the admin API's
// ConfigPropertyRepresentation).
type MapperProperty struct {
	Name         string   `json:"name"`
	Label        string   `json:"label"`
	HelpText     string   `json:"helpText"`
	Type         string   `json:"type"`
	DefaultValue string   `json:"defaultValue,omitempty"`
	Options      []string `json:"options,omitempty"`
	Secret       bool     `json:"secret"`
	Required     bool     `json:"required"`
}

// MapperType is a kind of mapper (the admin API's
// ComponentTypeRepresentation).
type MapperType struct {
	ID         string           `json:"id"`
	HelpText   string           `json:"helpText"`
	Properties []MapperProperty `json:"properties"`
	Metadata   map[string]any   `json:"metadata"`
}

func prop(name, label, typ, def, help string) MapperProperty {
	return MapperProperty{Name: name, Label: label, Type: typ, DefaultValue: def, HelpText: help}
}

func required(p MapperProperty) MapperProperty { p.Required = true; return p }

func list(p MapperProperty, options ...string) MapperProperty { p.Options = options; return p }

// syncMetadata marks a mapper type whose memberships can be synced both
// ways, with the message keys of its two sync actions.
func syncMetadata(what string) map[string]any {
	return map[string]any{
		"fedToKeycloakSyncSupported": true, "fedToKeycloakSyncMessage": "sync-ldap-" + what + "-to-keycloak",
		"keycloakToFedSyncSupported": true, "keycloakToFedSyncMessage": "sync-keycloak-" + what + "-to-ldap",
	}
}

// MapperTypes are the mapper types of a provider with config c.
func MapperTypes(c Config) []MapperType {
	readOnly := boolText(c.EditMode != Writable)
	mode := "READ_ONLY"
	if c.EditMode == Writable {
		mode = "LDAP_ONLY"
	}
	classes := "groupOfNames"
	if c.ActiveDirectory() {
		classes = "group"
	}
	memberUser := c.UsernameAttribute
	if memberUser == "" {
		memberUser = "uid"
	}
	attribute := []MapperProperty{
		required(prop("user.model.attribute", "User Model Attribute", PropString, "", "The user's field or attribute the LDAP attribute maps to: username, email, firstName, lastName, or any attribute name.")),
		required(prop("ldap.attribute", "LDAP Attribute", PropString, "", "The attribute of the LDAP entry, such as mail, sn or telephoneNumber.")),
		prop("read.only", "Read Only", PropBoolean, readOnly, "The value is read from LDAP but never written back to it."),
	}
	if c.ImportEnabled {
		attribute = append(attribute, prop("always.read.value.from.ldap", "Always Read Value From LDAP", PropBoolean, "false",
			"The value is read from LDAP each time the user is loaded, instead of the imported copy."))
	}
	attribute = append(attribute,
		prop("is.mandatory.in.ldap", "Is Mandatory In LDAP", PropBoolean, "false", "An empty value is written to LDAP when the user has none, for attributes the directory requires."),
		prop("is.binary.attribute", "Is Binary Attribute", PropBoolean, "false", "The LDAP attribute holds binary data; it must then always be read from LDAP."))
	certificate := append(append([]MapperProperty{}, attribute...),
		prop("is.der.formatted", "DER Formatted", PropBoolean, "false", "The certificate is stored in DER rather than PEM; needs Is Binary Attribute."))

	groupModes := []string{"LDAP_ONLY", "READ_ONLY", "IMPORT"}
	if !c.ImportEnabled {
		groupModes = []string{"LDAP_ONLY", "READ_ONLY"}
	}
	groupStrategies := []string{"LOAD_GROUPS_BY_MEMBER_ATTRIBUTE", "GET_GROUPS_FROM_USER_MEMBEROF_ATTRIBUTE"}
	roleStrategies := []string{"LOAD_ROLES_BY_MEMBER_ATTRIBUTE", "GET_ROLES_FROM_USER_MEMBEROF_ATTRIBUTE"}
	if c.ActiveDirectory() {
		groupStrategies = append(groupStrategies, "LOAD_GROUPS_BY_MEMBER_ATTRIBUTE_RECURSIVELY")
		roleStrategies = append(roleStrategies, "LOAD_ROLES_BY_MEMBER_ATTRIBUTE_RECURSIVELY")
	}
	membershipHelp := "DN: the group lists its members by their full DN (member). UID: by their username (memberUid)."

	return []MapperType{
		{ID: MapperUserAttribute, HelpText: "Maps one LDAP attribute onto a field or attribute of the user.", Properties: attribute},
		{ID: MapperFullName, HelpText: "Maps one LDAP attribute holding the full name (usually cn) onto the user's first and last name.", Properties: []MapperProperty{
			required(prop("ldap.full.name.attribute", "LDAP Full Name Attribute", PropString, "cn", "The LDAP attribute holding the full name.")),
			prop("read.only", "Read Only", PropBoolean, readOnly, "The name is read from LDAP but never written back to it."),
			prop("write.only", "Write Only", PropBoolean, boolText(c.EditMode == Writable), "The name is written to LDAP but never read from it; needs a WRITABLE provider."),
		}},
		{ID: MapperHardcodedRole, HelpText: "Grants a role to every user of the provider.", Properties: []MapperProperty{
			required(prop("role", "Role", PropRole, "", "The role to grant: a realm role's name, or clientId.roleName for a client role.")),
		}},
		{ID: MapperHardcodedGroup, HelpText: "Adds every user of the provider to a group.", Properties: []MapperProperty{
			required(prop("group", "Group", PropString, "", "The full path of the group, such as /staff/engineering.")),
		}},
		{ID: MapperHardcodedAttribute, HelpText: "Writes a fixed LDAP attribute on every user registered here; needs Sync Registrations.", Properties: []MapperProperty{
			required(prop("ldap.attribute.name", "LDAP Attribute Name", PropString, "", "The LDAP attribute set on new entries.")),
			required(prop("ldap.attribute.value", "LDAP Attribute Value", PropString, "", "Its value; "+RandomAttributeValue+" stands for a fresh random value.")),
		}},
		{ID: MapperGroup, HelpText: "Maps the LDAP groups under a DN onto groups, and the users' memberships with them.", Metadata: syncMetadata("groups"), Properties: []MapperProperty{
			required(prop("groups.dn", "LDAP Groups DN", PropString, "", "The DN under which the groups are, such as ou=Groups,dc=example,dc=org.")),
			prop("groups.relative.create.dn", "Relative creation DN", PropString, "", "Where new groups are created, relative to the groups DN."),
			prop("group.name.ldap.attribute", "Group Name LDAP Attribute", PropString, "cn", "The attribute naming a group, also its RDN."),
			prop("group.object.classes", "Group Object Classes", PropString, classes, "Object classes of group entries, separated by commas."),
			prop("preserve.group.inheritance", "Preserve Group Inheritance", PropBoolean, "true", "Nested LDAP groups become subgroups; off, every group is top level."),
			prop("ignore.missing.groups", "Ignore Missing Groups", PropBoolean, "false", "Skip groups of the hierarchy that are missing."),
			prop("membership.ldap.attribute", "Membership LDAP Attribute", PropString, "member", "The attribute of a group listing its members."),
			list(prop("membership.attribute.type", "Membership Attribute Type", PropList, "DN", membershipHelp), "DN", "UID"),
			prop("membership.user.ldap.attribute", "Membership User LDAP Attribute", PropString, memberUser, "With UID membership: the user attribute the group's member values name."),
			prop("groups.ldap.filter", "LDAP Filter", PropString, "", "An extra filter on the groups, in parentheses; empty for all."),
			list(prop("mode", "Mode", PropList, mode, "LDAP_ONLY: memberships are read from and written to LDAP. READ_ONLY: read from LDAP, new ones kept here. IMPORT: read once, when the user is imported."), groupModes...),
			list(prop("user.roles.retrieve.strategy", "User Groups Retrieve Strategy", PropList, "LOAD_GROUPS_BY_MEMBER_ATTRIBUTE", "How a user's groups are found: by searching the groups' member attribute, or from the user's memberOf attribute."), groupStrategies...),
			prop("memberof.ldap.attribute", "Member-Of LDAP Attribute", PropString, "memberOf", "With the memberOf strategy: the user attribute listing the groups."),
			prop("mapped.group.attributes", "Mapped Group Attributes", PropString, "", "LDAP attributes of a group copied onto the group, separated by commas."),
			prop("drop.non.existing.groups.during.sync", "Drop non-existing groups during sync", PropBoolean, "false", "A group sync deletes the groups that are no longer in LDAP."),
			prop("groups.path", "Groups Path", PropString, "/", "The existing group under which the LDAP groups are placed; / for the top level."),
		}},
		{ID: MapperRole, HelpText: "Maps the LDAP groups under a DN onto realm or client roles of the users.", Metadata: syncMetadata("roles"), Properties: []MapperProperty{
			required(prop("roles.dn", "LDAP Roles DN", PropString, "", "The DN under which the role entries are, such as ou=Roles,dc=example,dc=org.")),
			prop("role.name.ldap.attribute", "Role Name LDAP Attribute", PropString, "cn", "The attribute naming a role, also its RDN."),
			prop("role.object.classes", "Role Object Classes", PropString, classes, "Object classes of role entries, separated by commas."),
			prop("membership.ldap.attribute", "Membership LDAP Attribute", PropString, "member", "The attribute of a role entry listing its members."),
			list(prop("membership.attribute.type", "Membership Attribute Type", PropList, "DN", membershipHelp), "DN", "UID"),
			prop("membership.user.ldap.attribute", "Membership User LDAP Attribute", PropString, memberUser, "With UID membership: the user attribute the role's member values name."),
			prop("roles.ldap.filter", "LDAP Filter", PropString, "", "An extra filter on the role entries, in parentheses; empty for all."),
			list(prop("mode", "Mode", PropList, mode, "LDAP_ONLY: role mappings are read from and written to LDAP. READ_ONLY: read from LDAP, new ones kept here. IMPORT: read once, when the user is imported."), "LDAP_ONLY", "READ_ONLY", "IMPORT"),
			list(prop("user.roles.retrieve.strategy", "User Roles Retrieve Strategy", PropList, "LOAD_ROLES_BY_MEMBER_ATTRIBUTE", "How a user's roles are found: by searching the role entries' member attribute, or from the user's memberOf attribute."), roleStrategies...),
			prop("memberof.ldap.attribute", "Member-Of LDAP Attribute", PropString, "memberOf", "With the memberOf strategy: the user attribute listing the role entries."),
			prop("use.realm.roles.mapping", "Use Realm Roles Mapping", PropBoolean, "true", "The LDAP roles become realm roles; off, roles of the client below."),
			prop("client.id", "Client ID", PropClientList, "", "The client whose roles the LDAP roles become, when realm roles are not used."),
		}},
		{ID: MapperCertificate, HelpText: "Maps an LDAP attribute holding a certificate onto an attribute of the user.", Properties: certificate},
		{ID: MapperMSADAccountControl, HelpText: "Active Directory only: userAccountControl and pwdLastSet decide whether the user is enabled and must change the password, and AD's bind errors are reported as such.", Properties: []MapperProperty{}},
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
