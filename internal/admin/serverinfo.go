package admin

import (
	"context"
	"fmt"
	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/regpolicy"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/clientpolicy"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// KeycloakVersion is the Keycloak release whose behaviour Gatehouse
// implements, reported as systemInfo.version of GET /admin/serverinfo:
// admin clients parse it to choose their requests, and Terraform's Keycloak
// provider refuses to log in to a server whose version is not a release.
const KeycloakVersion = "26.4.0"

// Version is Gatehouse's own build version, reported as
// systemInfo.gatehouseVersion. The binary sets it from its build version
// (cmd/gatehouse's version).
var Version = "dev"

func (h *Handler) serverInfoRoutes(mux Mux) {
	// The server's start as the handler's clock knew it; nothing else here
	// reads the wall clock.
	started := h.Started
	if started.IsZero() {
		started = h.Now()
	}
	// Only administrators read it, as in Keycloak (AdminRoot.getServerInfo
	// requires isAdmin): it tells an attacker the version, memory and
	// providers of the server, which a realm's plain user has no need for.
	h.handle(mux, "GET /admin/serverinfo", "", func(rq *Request) error {
		ok, err := h.isAnyAdmin(rq.R.Context(), rq.Caller)
		if err != nil {
			return err
		}
		if !ok {
			return errForbidden
		}
		return rq.JSON(serverInfo(started, rq.Now()))
	})
}

// isAnyAdmin reports whether the caller administers anything: for master's
// users, the admin or create-realm role or any admin role over some realm;
// for anyone else, an admin role over their own realm.
func (h *Handler) isAnyAdmin(ctx context.Context, c *Caller) (bool, error) {
	if c.holdsAllAdmin() {
		return true, nil
	}
	if ok, err := h.mayCreateRealm(ctx, c); ok || err != nil {
		return ok, err
	}
	realms, err := h.realmsAdministered(ctx, c)
	return len(realms) > 0, err
}

// configProperty is Keycloak's ConfigPropertyRepresentation: one field of a
// provider's configuration form.
type configProperty struct {
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

// mapperType is Keycloak's ProtocolMapperTypeRepresentation.
type mapperType struct {
	ID         string           `json:"id"`
	Name       string           `json:"name"`
	Category   string           `json:"category"`
	HelpText   string           `json:"helpText"`
	Priority   int              `json:"priority"`
	Properties []configProperty `json:"properties"`
}

// protocolMapperTypes lists, by protocol, the protocol mapper types that
// internal/token applies, with the configuration each one reads. It is what
// serverinfo advertises and what every admin endpoint that stores mappers
// (client scopes, clients) must accept and nothing more: a mapper of another
// type would be stored and then silently ignored when tokens are built.
// Use supportedMapperType to check a mapper.
//
// Priorities are token's ordering (sub first, audience resolve after the
// role mappers know the roles, role mappers last).
var protocolMapperTypes = map[string][]mapperType{
	protocolSAML: samlMapperTypes(),
	rep.OpenIDConnect: {
		{ID: token.MapperUserProperty, Name: "User Property", Category: mapperCategoryToken,
			HelpText: "Map a built in user property (email, firstName, lastName) to a token claim.",
			Properties: mapperProps(required(mapperProp("user.attribute", "Property", "Name of the property method in the UserModel interface. For example, a value of 'email' would reference the UserModel.getEmail() method.", "String", nil)),
				propClaimName, propJSONType, propAllTokenFlags)},
		{ID: token.MapperUserAttribute, Name: "User Attribute", Category: mapperCategoryToken,
			HelpText: "Map a custom user attribute to a token claim.",
			Properties: mapperProps(required(mapperProp("user.attribute", "User Attribute", "Name of stored user attribute which is the name of an attribute within the UserModel.attribute map.", "UserProfileAttributeList", nil)),
				propClaimName, propJSONType, propMultivalued, propAllTokenFlags)},
		{ID: token.MapperFullName, Name: "User's full name", Category: mapperCategoryToken,
			HelpText:   "Maps the user's first and last name to the OpenID Connect 'name' claim. Format is <first> + ' ' + <last>",
			Properties: mapperProps(propAllTokenFlags)},
		{ID: token.MapperHardcodedClaim, Name: "Hardcoded claim", Category: mapperCategoryToken,
			HelpText: "Hardcode a claim into the token.",
			Properties: mapperProps(required(propClaimName), mapperProp("claim.value", "Claim value", "Value of the claim you want to hard code. 'true' and 'false' can be used for boolean values.", "String", nil),
				propJSONType, propAllTokenFlags)},
		{ID: token.MapperAudience, Name: "Audience", Category: mapperCategoryToken,
			HelpText: "Add specified audience to the audience (aud) field of token",
			Properties: mapperProps(mapperProp("included.client.audience", "Included Client Audience", "The Client ID of the specified audience client will be included in audience (aud) field of the token. If there are existing audiences in the token, the specified value is just added to them. It won't override existing audiences.", "ClientList", nil),
				mapperProp("included.custom.audience", "Included Custom Audience", "This is used just if 'Included Client Audience' is not filled. Specified value will be included in audience (aud) field of the token. If there are existing audiences in the token, the specified value is just added to them. It won't override existing audiences.", "String", nil),
				mapperFlags(propFlagIDOff, propFlagAccess, propFlagLightweight, propFlagIntrospection))},
		{ID: token.MapperAudienceResolve, Name: "Audience Resolve", Category: mapperCategoryToken, Priority: 30,
			HelpText:   "Adds all client_ids of \"allowed\" clients to the audience field of the token. Allowed client means the client for which user has at least one client role",
			Properties: mapperProps(mapperFlags(propFlagAccess, propFlagLightweight, propFlagIntrospection))},
		{ID: token.MapperRealmRole, Name: "User Realm Role", Category: mapperCategoryToken, Priority: 40,
			HelpText: "Map a user realm role to a token claim.",
			Properties: mapperProps(mapperProp("usermodel.realmRoleMapping.rolePrefix", "Realm Role prefix", "A prefix for each Realm Role (optional).", "String", nil),
				propMultivalued, propClaimName, propJSONType, propAllTokenFlags)},
		{ID: token.MapperClientRole, Name: "User Client Role", Category: mapperCategoryToken, Priority: 40,
			HelpText: "Map a user client role to a token claim.",
			Properties: mapperProps(mapperProp("usermodel.clientRoleMapping.clientId", "Client ID", "Client ID for role mappings. Just client roles of this client will be added to the token. If this is unset, client roles of all clients will be added to the token.", "ClientList", nil),
				mapperProp("usermodel.clientRoleMapping.rolePrefix", "Client Role prefix", "A prefix for each client role (optional).", "String", nil),
				propMultivalued, propClaimName, propJSONType, propAllTokenFlags)},
		{ID: token.MapperAllowedOrigins, Name: "Allowed Web Origins", Category: mapperCategoryToken,
			HelpText:   "Adds all allowed web origins to the 'allowed-origins' claim in the token",
			Properties: mapperProps(mapperFlags(propFlagAccess, propFlagLightweight, propFlagIntrospection))},
		{ID: token.MapperACR, Name: "Authentication Context Class Reference (ACR)", Category: mapperCategoryToken,
			HelpText:   "Maps the achieved LoA (Level of Authentication) to the 'acr' claim of the token",
			Properties: mapperProps(mapperFlags(propFlagID, propFlagAccess, propFlagLightweight, propFlagIntrospection))},
		{ID: token.MapperSub, Name: "Subject (sub)", Category: mapperCategoryToken, Priority: -10,
			HelpText:   "Add the 'sub' claim to the token.",
			Properties: mapperProps(mapperFlags(propFlagAccess, propFlagLightweight, propFlagIntrospection))},
		{ID: token.MapperSessionNote, Name: "User Session Note", Category: mapperCategoryToken,
			HelpText: "Map a custom user session note to a token claim.",
			Properties: mapperProps(required(mapperProp("user.session.note", "User Session Note", "Name of stored user session note within the UserSessionModel.note map.", "String", nil)),
				propClaimName, propJSONType, mapperFlags(propFlagID, propFlagAccess, propFlagLightweight, propFlagIntrospection))},
		{ID: token.MapperAddress, Name: "User Address", Category: mapperCategoryToken,
			HelpText: "Maps user address attributes (street, locality, region, postal_code, and country) to the OpenID Connect 'address' claim.",
			Properties: mapperProps(
				mapperProp("user.attribute.formatted", "User Attribute Name for Formatted Address", "Name of the user attribute which will be used to map to 'formatted' subclaim of the 'address' claim.", "String", "formatted"),
				mapperProp("user.attribute.country", "User Attribute Name for Country", "Name of the user attribute which will be used to map to 'country' subclaim of the 'address' claim.", "String", "country"),
				mapperProp("user.attribute.postal_code", "User Attribute Name for Postal Code", "Name of the user attribute which will be used to map to 'postal_code' subclaim of the 'address' claim.", "String", "postal_code"),
				mapperProp("user.attribute.street", "User Attribute Name for Street", "Name of the user attribute which will be used to map to 'street_address' subclaim of the 'address' claim.", "String", "street"),
				mapperProp("user.attribute.region", "User Attribute Name for Region", "Name of the user attribute which will be used to map to 'region' subclaim of the 'address' claim.", "String", "region"),
				mapperProp("user.attribute.locality", "User Attribute Name for Locality", "Name of the user attribute which will be used to map to 'locality' subclaim of the 'address' claim.", "String", "locality"),
				propAllTokenFlags)},
		{ID: token.MapperHardcodedRole, Name: "Hardcoded Role", Category: mapperCategoryToken,
			HelpText:   "Hardcode a role into the access token.",
			Properties: mapperProps(required(mapperProp("role", "Role", "Role you want added to the token.  Click 'Select Role' button to browse roles, or just type it in the textbox.  To reference a client role the syntax is clientname.clientrole, i.e. myclient.myrole", "Role", nil)))},
		{ID: token.MapperGroups, Name: "Group Membership", Category: mapperCategoryToken,
			HelpText: "Map user group membership",
			Properties: mapperProps(propClaimName,
				mapperProp("full.path", "Full group path", "Include full path to group i.e. /top/level1/level2, false will just specify the group name", "boolean", "true"),
				propAllTokenFlags)},
	},
}

// supportedMapperType reports whether Gatehouse applies protocol mappers of
// type typ for protocol.
func supportedMapperType(protocol, typ string) bool {
	return slices.ContainsFunc(protocolMapperTypes[protocol], func(m mapperType) bool { return m.ID == typ })
}

const mapperCategoryToken = "Token mapper"

func mapperProp(name, label, help, typ string, def any) []configProperty {
	return []configProperty{{Name: name, Label: label, HelpText: help, Type: typ, DefaultValue: def}}
}

// required marks a mapper property a mapper cannot work without: the admin
// API refuses a mapper that leaves it empty (checkProtocolMapper).
func required(ps []configProperty) []configProperty {
	out := slices.Clone(ps)
	for i := range out {
		out[i].Required = true
	}
	return out
}

func mapperProps(groups ...[]configProperty) []configProperty { return slices.Concat(groups...) }

var (
	propClaimName = mapperProp("claim.name", "Token Claim Name", "Name of the claim to insert into the token. This can be a fully qualified name like 'address.street'. In this case, a nested json object will be created. To prevent nesting and use dot literally, escape the dot with backslash (\\.).", "String", nil)
	propJSONType  = []configProperty{{Name: "jsonType.label", Label: "Claim JSON Type",
		HelpText: "JSON type that should be used to populate the json claim in the token.  long, int, boolean, String and JSON are valid values.",
		Type:     "List", Options: []string{"String", "long", "int", "boolean", "JSON"}}}
	propMultivalued = mapperProp("multivalued", "Multivalued", "Indicates if attribute supports multiple values. If true, the list of all values of this attribute will be set as claim. If false, just first value will be set as claim", "boolean", nil)

	propFlagID            = configProperty{Name: "id.token.claim", Label: "Add to ID token", HelpText: "Indicates if the claim should be added to the ID token.", Type: "boolean", DefaultValue: "true"}
	propFlagIDOff         = configProperty{Name: "id.token.claim", Label: "Add to ID token", HelpText: "Indicates if the claim should be added to the ID token.", Type: "boolean", DefaultValue: "false"}
	propFlagAccess        = configProperty{Name: "access.token.claim", Label: "Add to access token", HelpText: "Indicates if the claim should be added to the access token.", Type: "boolean", DefaultValue: "true"}
	propFlagLightweight   = configProperty{Name: "lightweight.claim", Label: "Add to lightweight access token", HelpText: "Indicates if the claim should be added to the access token even when the lightweight access token is used.", Type: "boolean", DefaultValue: "false"}
	propFlagUserinfo      = configProperty{Name: "userinfo.token.claim", Label: "Add to userinfo", HelpText: "Indicates if the claim should be added to the userinfo.", Type: "boolean", DefaultValue: "true"}
	propFlagIntrospection = configProperty{Name: "introspection.token.claim", Label: "Add to token introspection", HelpText: "Indicates if the claim should be added to the token introspection response.", Type: "boolean", DefaultValue: "true"}
	propAllTokenFlags     = mapperFlags(propFlagID, propFlagAccess, propFlagLightweight, propFlagUserinfo, propFlagIntrospection)
)

func mapperFlags(ps ...configProperty) []configProperty { return ps }

// builtinMappers are the mappers Keycloak offers as "predefined" (the
// serverinfo builtinProtocolMappers): the mappers of the built-in client
// scopes, all of types Gatehouse applies.
func builtinMappers() []rep.ProtocolMapper {
	oidc := func(name, typ string, config map[string]string) rep.ProtocolMapper {
		return rep.ProtocolMapper{Name: name, Protocol: rep.OpenIDConnect, ProtocolMapper: typ, Config: config}
	}
	all := func(extra map[string]string, tokens ...string) map[string]string {
		c := map[string]string{}
		for _, t := range tokens {
			c[t+".token.claim"] = "true"
		}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	allTokens := []string{"id", "access", "userinfo", "introspection"}
	attr := func(name, attribute, claim, typ string) rep.ProtocolMapper {
		return oidc(name, token.MapperUserAttribute, all(map[string]string{"user.attribute": attribute, "claim.name": claim, "jsonType.label": typ}, allTokens...))
	}
	return []rep.ProtocolMapper{
		oidc("acr loa level", token.MapperACR, all(nil, "id", "access", "introspection")),
		attr("birthdate", "birthdate", "birthdate", "String"),
		oidc("address", token.MapperAddress, all(map[string]string{"user.attribute.formatted": "formatted", "user.attribute.country": "country",
			"user.attribute.postal_code": "postal_code", "user.attribute.street": "street", "user.attribute.region": "region", "user.attribute.locality": "locality"}, allTokens...)),
		oidc("allowed web origins", token.MapperAllowedOrigins, all(nil, "access", "introspection")),
		oidc("audience resolve", token.MapperAudienceResolve, all(nil, "access", "introspection")),
		oidc("auth_time", token.MapperSessionNote, all(map[string]string{"user.session.note": "AUTH_TIME", "claim.name": "auth_time", "jsonType.label": "long"}, "id", "access", "introspection")),
		oidc("client roles", token.MapperClientRole, all(map[string]string{"user.attribute": "foo", "claim.name": "resource_access.${client_id}.roles", "jsonType.label": "String", "multivalued": "true"}, "access", "introspection")),
		attr("email", "email", "email", "String"),
		oidc("email verified", token.MapperUserProperty, all(map[string]string{"user.attribute": "emailVerified", "claim.name": "email_verified", "jsonType.label": "boolean"}, allTokens...)),
		attr("family name", "lastName", "family_name", "String"),
		oidc("full name", token.MapperFullName, all(nil, allTokens...)),
		attr("gender", "gender", "gender", "String"),
		attr("given name", "firstName", "given_name", "String"),
		oidc("groups", token.MapperRealmRole, all(map[string]string{"user.attribute": "foo", "claim.name": "groups", "jsonType.label": "String", "multivalued": "true"}, allTokens...)),
		// Offered, not in any default scope: a client adds them to carry the
		// impersonator's id and username as the "impersonator" claim.
		oidc("impersonator id", token.MapperSessionNote, all(map[string]string{"user.session.note": session.NoteImpersonatorID, "claim.name": "impersonator.id", "jsonType.label": "String"}, "id", "access", "introspection")),
		oidc("impersonator username", token.MapperSessionNote, all(map[string]string{"user.session.note": session.NoteImpersonatorUsername, "claim.name": "impersonator.username", "jsonType.label": "String"}, "id", "access", "introspection")),
		attr("locale", "locale", "locale", "String"),
		attr("middle name", "middleName", "middle_name", "String"),
		attr("nickname", "nickname", "nickname", "String"),
		attr("phone number", "phoneNumber", "phone_number", "String"),
		attr("phone number verified", "phoneNumberVerified", "phone_number_verified", "boolean"),
		attr("picture", "picture", "picture", "String"),
		attr("profile", "profile", "profile", "String"),
		oidc("realm roles", token.MapperRealmRole, all(map[string]string{"user.attribute": "foo", "claim.name": "realm_access.roles", "jsonType.label": "String", "multivalued": "true"}, "access", "introspection")),
		oidc("sub", token.MapperSub, all(nil, "access", "introspection")),
		attr("updated at", "updatedAt", "updated_at", "long"),
		attr("upn", "username", "upn", "String"),
		attr("username", "username", "preferred_username", "String"),
		attr("website", "website", "website", "String"),
		attr("zoneinfo", "zoneinfo", "zoneinfo", "String"),
	}
}

// passwordPolicyType is Keycloak's PasswordPolicyTypeRepresentation.
type passwordPolicyType struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	ConfigType        string `json:"configType,omitempty"`
	DefaultValue      string `json:"defaultValue,omitempty"`
	MultipleSupported bool   `json:"multipleSupported"`
}

// passwordPolicies are the password policy terms Gatehouse enforces
// (user.CheckPassword, user.PasswordExpired and the hashing policy), with
// Keycloak's display names and defaults, sorted by id. A term it would
// store without enforcing is not advertised.
var passwordPolicies = []passwordPolicyType{
	{ID: "digits", DisplayName: "Digits", ConfigType: "int", DefaultValue: "1"},
	{ID: "forceExpiredPasswordChange", DisplayName: "Expire Password", ConfigType: "int", DefaultValue: "365"},
	{ID: "hashAlgorithm", DisplayName: "Hashing Algorithm", ConfigType: "String", DefaultValue: user.HashArgon2},
	// -1 leaves the algorithm's own default number of iterations.
	{ID: "hashIterations", DisplayName: "Hashing Iterations", ConfigType: "int", DefaultValue: "-1"},
	{ID: "length", DisplayName: "Minimum length", ConfigType: "int", DefaultValue: "8"},
	{ID: "lowerCase", DisplayName: "Lowercase Characters", ConfigType: "int", DefaultValue: "1"},
	{ID: "maxLength", DisplayName: "Maximum Length", ConfigType: "int", DefaultValue: "64"},
	{ID: "notContainsUsername", DisplayName: "Not Contains Username"},
	{ID: "notEmail", DisplayName: "Not Email"},
	{ID: "notUsername", DisplayName: "Not Username"},
	{ID: "passwordAge", DisplayName: "Not Recently Used (In Days)", ConfigType: "int", DefaultValue: "365"},
	{ID: "passwordHistory", DisplayName: "Not Recently Used", ConfigType: "int", DefaultValue: "3"},
	{ID: "regexPattern", DisplayName: "Regular Expression", ConfigType: "String", MultipleSupported: true},
	{ID: "specialChars", DisplayName: "Special Characters", ConfigType: "int", DefaultValue: "1"},
	{ID: "upperCase", DisplayName: "Uppercase Characters", ConfigType: "int", DefaultValue: "1"},
}

// passwordPolicyIDs are the ids of passwordPolicies.
func passwordPolicyIDs() []string {
	ids := make([]string, len(passwordPolicies))
	for i, p := range passwordPolicies {
		ids[i] = p.ID
	}
	return ids
}

// themeInfo is Keycloak's ThemeInfoRepresentation.
type themeInfo struct {
	Name    string   `json:"name"`
	Locales []string `json:"locales"`
}

// serverThemes lists, by theme type, the theme names a realm may choose;
// Gatehouse renders each of them with its one embedded theme, in every
// locale it has texts for.
func serverThemes() map[string][]themeInfo {
	names := map[string][]string{
		"login":   {"base", "keycloak", "keycloak.v2"},
		"account": {"base", "keycloak.v2"},
		"admin":   {"base", "keycloak.v2"},
		"email":   {"base", "keycloak"},
		"common":  {"base", "keycloak"},
		"welcome": {"keycloak"},
	}
	out := map[string][]themeInfo{}
	for typ, ns := range names {
		for _, n := range ns {
			out[typ] = append(out[typ], themeInfo{Name: n, Locales: ui.Locales()})
		}
	}
	return out
}

// clientInstallation is Keycloak's ClientInstallationRepresentation: the
// adapter configurations clients/{id}/installation/providers/{id} answers.
type clientInstallation struct {
	ID           string `json:"id"`
	Protocol     string `json:"protocol"`
	DownloadOnly bool   `json:"downloadOnly"`
	DisplayType  string `json:"displayType"`
	HelpText     string `json:"helpText"`
	Filename     string `json:"filename"`
	MediaType    string `json:"mediaType"`
}

var clientInstallations = []clientInstallation{
	{ID: "keycloak-oidc-keycloak-json", Protocol: rep.OpenIDConnect, DisplayType: "Keycloak OIDC JSON",
		HelpText: "keycloak.json file used by the Keycloak OIDC client adapter to configure clients.",
		Filename: "keycloak.json", MediaType: "application/json"},
	{ID: "keycloak-oidc-jboss-subsystem", Protocol: rep.OpenIDConnect, DisplayType: "Keycloak OIDC JBoss Subsystem XML",
		HelpText: "XML snippet to add to the Keycloak OIDC subsystem of the application server.",
		Filename: "keycloak-oidc-subsystem.xml", MediaType: "application/xml"},
}

// spiInfo is Keycloak's SpiInfoRepresentation.
type spiInfo struct {
	Internal  bool                    `json:"internal"`
	Providers map[string]providerInfo `json:"providers"`
}

type providerInfo struct {
	Order int `json:"order"`
}

// keyProviderTypes describes each key provider's settings as Keycloak's
// ComponentTypeRepresentation does, for consoles that build their forms
// from it.
func keyProviderTypes() []map[string]any {
	common := []keys.Setting{
		{Name: "priority", Label: "Priority", HelpText: "Priority for the provider", Type: "String", DefaultValue: "0"},
		{Name: "enabled", Label: "Enabled", HelpText: "Set if the keys are enabled", Type: "boolean", DefaultValue: "true"},
		{Name: "active", Label: "Active", HelpText: "Set if the keys can be used for signing", Type: "boolean", DefaultValue: "true"},
	}
	out := []map[string]any{}
	for _, id := range keys.Providers {
		out = append(out, map[string]any{"id": id, "helpText": keys.Description[id],
			"properties": append(slices.Clone(common), keys.Settings(id)...), "metadata": map[string]any{}})
	}
	return out
}

func spiOf(ids ...string) spiInfo {
	s := spiInfo{Providers: map[string]providerInfo{}}
	for _, id := range ids {
		s.Providers[id] = providerInfo{}
	}
	return s
}

// serverInfo is Keycloak's ServerInfoRepresentation, filled with what this
// server actually does. Keycloak's Java-specific fields (javaVersion,
// javaHome, …) are left out rather than invented.
func serverInfo(started, now time.Time) map[string]any {
	mapperIDs := []string{}
	for _, p := range []string{rep.OpenIDConnect, protocolSAML} {
		for _, m := range protocolMapperTypes[p] {
			mapperIDs = append(mapperIDs, m.ID)
		}
	}
	up := max(now.Sub(started), 0)
	return map[string]any{
		"systemInfo": map[string]any{
			"version":          KeycloakVersion,
			"gatehouseVersion": Version,
			"serverTime":       now.UTC().Format("Mon Jan 02 15:04:05 MST 2006"),
			"uptime":           serverUptime(up),
			"uptimeMillis":     up.Milliseconds(),
			"osName":           runtime.GOOS,
			"osArchitecture":   runtime.GOARCH,
			"fileEncoding":     "UTF-8",
			"userTimezone":     "UTC",
		},
		"memoryInfo": serverMemoryInfo(),
		"profileInfo": map[string]any{
			"name":                 "community",
			"disabledFeatures":     []string{},
			"previewFeatures":      []string{},
			"experimentalFeatures": []string{},
		},
		"features": []any{},
		"cryptoInfo": map[string]any{
			"cryptoProvider":         "go",
			"supportedKeystoreTypes": []string{"PKCS12"},
			// What a client may sign its assertions (client_secret_jwt,
			// private_key_jwt) and request objects with.
			"clientSignatureSymmetricAlgorithms":  keys.HMACAlgorithms,
			"clientSignatureAsymmetricAlgorithms": keys.AsymmetricAlgorithms,
		},
		"themes":            serverThemes(),
		"socialProviders":   providerKinds(true),
		"identityProviders": providerKinds(false),
		"clientImporters":   []any{},
		"providers": map[string]spiInfo{
			"login-protocol":          spiOf(rep.OpenIDConnect, protocolSAML),
			"client-authenticator":    spiOf("client-secret", "client-jwt", "client-secret-jwt"),
			"keys":                    spiOf(keys.Providers...),
			"password-hashing":        spiOf(user.HashArgon2, user.HashPBKDF2SHA512, user.HashPBKDF2SHA256, user.HashPBKDF2SHA1),
			"password-policy":         spiOf(passwordPolicyIDs()...),
			"protocol-mapper":         spiOf(mapperIDs...),
			"client-policy-executor":  spiOf(clientpolicy.Executors()...),
			"client-policy-condition": spiOf(clientpolicy.Conditions()...),
		},
		"protocolMapperTypes":    protocolMapperTypes,
		"builtinProtocolMappers": map[string][]rep.ProtocolMapper{rep.OpenIDConnect: builtinMappers(), protocolSAML: samlBuiltinMappers()},
		"clientInstallations":    map[string][]clientInstallation{rep.OpenIDConnect: clientInstallations, protocolSAML: samlInstallations},
		"componentTypes":         map[string]any{KeyProviderType: keyProviderTypes(), regpolicy.ProviderType: regpolicy.Providers()},
		"passwordPolicies":       passwordPolicies,
		"enums": map[string][]string{
			"sslRequired":   {"ALL", "EXTERNAL", "NONE"},
			"eventType":     events.Types(),
			"operationType": {events.OpCreate, events.OpUpdate, events.OpDelete, events.OpAction},
			"resourceType":  events.ResourceTypes(),
		},
	}
}

// serverUptime is Keycloak's uptime text: "1 days, 2 hours, 3 minutes, 4 seconds".
func serverUptime(d time.Duration) string {
	s := int64(d / time.Second)
	return fmt.Sprintf("%d days, %d hours, %d minutes, %d seconds", s/86400, s%86400/3600, s%3600/60, s%60)
}

// serverMemoryInfo is Keycloak's MemoryInfoRepresentation for the Go runtime:
// total is the memory obtained from the operating system, free the part of
// it the heap holds idle and has not returned.
func serverMemoryInfo() map[string]any {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	total := int64(m.Sys)
	free := int64(m.HeapIdle - m.HeapReleased)
	used := total - free
	pct := int64(0)
	if total > 0 {
		pct = free * 100 / total
	}
	return map[string]any{
		"total":          total,
		"totalFormated":  memMegabytes(total),
		"used":           used,
		"usedFormated":   memMegabytes(used),
		"free":           free,
		"freePercentage": pct,
		"freeFormated":   memMegabytes(free),
	}
}

func memMegabytes(n int64) string { return fmt.Sprintf("%d MB", n>>20) }

// checkProtocolMapper validates a protocol mapper an admin wants to store on an
// owner (client scope or client) of protocol ownerProtocol: it needs a
// name, its protocol defaults to the owner's, and its type must be one
// Gatehouse applies. The error is the admin API's answer.
func checkProtocolMapper(m *client.ProtocolMapper, ownerProtocol string) error {
	if m.Name == "" {
		return badRequest("Protocol mapper name is missing")
	}
	if m.Protocol == "" {
		m.Protocol = ownerProtocol
	}
	if !supportedMapperType(m.Protocol, m.ProtocolMapper) {
		// Keycloak's words when no provider has the mapper's type.
		return notFound("ProtocolMapper provider not found")
	}
	if m.Config == nil {
		m.Config = map[string]string{}
	}
	i := slices.IndexFunc(protocolMapperTypes[m.Protocol], func(t mapperType) bool { return t.ID == m.ProtocolMapper })
	for _, p := range protocolMapperTypes[m.Protocol][i].Properties {
		if p.Required && strings.TrimSpace(m.Config[p.Name]) == "" {
			// field names the config key, as the console's form does.
			return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{
				"field": p.Name, "errorMessage": p.Label + " is required for a " + protocolMapperTypes[m.Protocol][i].Name + " mapper"}}
		}
	}
	return nil
}

// providerKinds lists the identity provider kinds serverinfo advertises,
// the social ones or the others, as {id, name}; kinds the broker cannot
// sign in with are left out.
func providerKinds(social bool) []map[string]string {
	out := []map[string]string{}
	for _, id := range idp.KindIDs() {
		if k := idp.Kinds[id]; k.Social == social && !k.NoLogin {
			out = append(out, map[string]string{"id": k.ID, "name": k.Name})
		}
	}
	return out
}
