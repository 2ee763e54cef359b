package provision

import (
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// claimConfig is the usual "put this claim in these tokens" mapper config.
func claimConfig(extra map[string]string, tokens ...string) map[string]string {
	c := map[string]string{}
	for _, t := range tokens {
		c[t+".token.claim"] = "true"
	}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

var allTokens = []string{"id", "access", "userinfo", "introspection"}

func mapper(name, typ string, config map[string]string) client.ProtocolMapper {
	return client.ProtocolMapper{ID: store.NewID(), Name: name, Protocol: "openid-connect", ProtocolMapper: typ, Config: config}
}

func attrMapper(name, attr, claim, jsonType string) client.ProtocolMapper {
	return mapper(name, "oidc-usermodel-attribute-mapper", claimConfig(map[string]string{
		"user.attribute": attr, "claim.name": claim, "jsonType.label": jsonType}, allTokens...))
}

func propMapper(name, prop, claim, jsonType string) client.ProtocolMapper {
	return mapper(name, "oidc-usermodel-property-mapper", claimConfig(map[string]string{
		"user.attribute": prop, "claim.name": claim, "jsonType.label": jsonType}, allTokens...))
}

func scopeAttrs(consent, consentText, includeInScope string) map[string]string {
	a := map[string]string{"display.on.consent.screen": consent, "include.in.token.scope": includeInScope}
	if consentText != "" {
		a["consent.screen.text"] = consentText
	}
	return a
}

// builtinScope describes one of the client scopes Keycloak creates in every
// realm, and whether new clients get it as a default or optional scope.
type builtinScope struct {
	scope client.Scope
	link  bool // linked to new clients at all
	dflt  bool // as a default scope (else optional)
}

// builtinScopes returns fresh copies (new ids) of Keycloak's built-in OpenID
// Connect client scopes with their protocol mappers.
func builtinScopes(realmID string) []builtinScope {
	oidc := func(name, desc string, attrs map[string]string, mappers ...client.ProtocolMapper) client.Scope {
		if mappers == nil {
			mappers = []client.ProtocolMapper{}
		}
		return client.Scope{ID: store.NewID(), RealmID: realmID, Name: name, Description: desc,
			Protocol: "openid-connect", Attributes: attrs, ProtocolMappers: mappers}
	}
	return []builtinScope{
		{link: true, dflt: true, scope: oidc("profile", "OpenID Connect built-in scope: profile",
			scopeAttrs("true", "${profileScopeConsentText}", "true"),
			mapper("full name", "oidc-full-name-mapper", claimConfig(nil, allTokens...)),
			attrMapper("family name", "lastName", "family_name", "String"),
			attrMapper("given name", "firstName", "given_name", "String"),
			attrMapper("middle name", "middleName", "middle_name", "String"),
			attrMapper("nickname", "nickname", "nickname", "String"),
			attrMapper("username", "username", "preferred_username", "String"),
			attrMapper("profile", "profile", "profile", "String"),
			attrMapper("picture", "picture", "picture", "String"),
			attrMapper("website", "website", "website", "String"),
			attrMapper("gender", "gender", "gender", "String"),
			attrMapper("birthdate", "birthdate", "birthdate", "String"),
			attrMapper("zoneinfo", "zoneinfo", "zoneinfo", "String"),
			attrMapper("locale", "locale", "locale", "String"),
			attrMapper("updated at", "updatedAt", "updated_at", "long"),
		)},
		{link: true, dflt: true, scope: oidc("email", "OpenID Connect built-in scope: email",
			scopeAttrs("true", "${emailScopeConsentText}", "true"),
			attrMapper("email", "email", "email", "String"),
			propMapper("email verified", "emailVerified", "email_verified", "boolean"),
		)},
		{link: true, dflt: true, scope: oidc("roles", "OpenID Connect scope for add user roles to the access token",
			scopeAttrs("true", "${rolesScopeConsentText}", "false"),
			mapper("realm roles", "oidc-usermodel-realm-role-mapper", claimConfig(map[string]string{
				"user.attribute": "foo", "claim.name": "realm_access.roles", "jsonType.label": "String", "multivalued": "true"},
				"access", "introspection")),
			mapper("client roles", "oidc-usermodel-client-role-mapper", claimConfig(map[string]string{
				"user.attribute": "foo", "claim.name": "resource_access.${client_id}.roles", "jsonType.label": "String", "multivalued": "true"},
				"access", "introspection")),
			mapper("audience resolve", "oidc-audience-resolve-mapper", claimConfig(nil, "access", "introspection")),
		)},
		{link: true, dflt: true, scope: oidc("web-origins", "OpenID Connect scope for add allowed web origins to the access token",
			scopeAttrs("false", "", "false"),
			mapper("allowed web origins", "oidc-allowed-origins-mapper", claimConfig(nil, "access", "introspection")),
		)},
		{link: true, dflt: true, scope: oidc("acr", "OpenID Connect scope for add acr (authentication context class reference) to the token",
			scopeAttrs("false", "", "false"),
			mapper("acr loa level", "oidc-acr-mapper", claimConfig(nil, "id", "access", "introspection")),
		)},
		{link: true, dflt: true, scope: oidc("basic", "OpenID Connect scope for add all basic claims to the token",
			scopeAttrs("false", "", "false"),
			mapper("auth_time", "oidc-usersessionmodel-note-mapper", claimConfig(map[string]string{
				"user.session.note": "AUTH_TIME", "claim.name": "auth_time", "jsonType.label": "long"},
				"id", "access", "introspection")),
			mapper("sub", "oidc-sub-mapper", claimConfig(nil, "access", "introspection")),
		)},
		{link: true, dflt: false, scope: oidc("offline_access", "OpenID Connect built-in scope: offline_access",
			scopeAttrs("true", "${offlineAccessScopeConsentText}", "true"))},
		{link: true, dflt: false, scope: oidc("address", "OpenID Connect built-in scope: address",
			scopeAttrs("true", "${addressScopeConsentText}", "true"),
			mapper("address", "oidc-address-mapper", claimConfig(map[string]string{
				"user.attribute.formatted": "formatted", "user.attribute.country": "country",
				"user.attribute.postal_code": "postal_code", "user.attribute.street": "street",
				"user.attribute.region": "region", "user.attribute.locality": "locality"}, allTokens...)),
		)},
		{link: true, dflt: false, scope: oidc("phone", "OpenID Connect built-in scope: phone",
			scopeAttrs("true", "${phoneScopeConsentText}", "true"),
			attrMapper("phone number", "phoneNumber", "phone_number", "String"),
			attrMapper("phone number verified", "phoneNumberVerified", "phone_number_verified", "boolean"),
		)},
		{link: true, dflt: false, scope: oidc("microprofile-jwt", "Microprofile - JWT built-in scope",
			scopeAttrs("false", "", "true"),
			attrMapper("upn", "username", "upn", "String"),
			mapper("groups", "oidc-usermodel-realm-role-mapper", claimConfig(map[string]string{
				"user.attribute": "foo", "claim.name": "groups", "jsonType.label": "String", "multivalued": "true"}, allTokens...)),
		)},
		// SAML clients' defaults: the realm roles as one "Role" attribute,
		// and the user's organizations.
		{link: true, dflt: true, scope: client.Scope{ID: store.NewID(), RealmID: realmID, Name: "role_list",
			Description: "SAML role list", Protocol: "saml",
			Attributes: map[string]string{"display.on.consent.screen": "true", "consent.screen.text": "${samlRoleListScopeConsentText}"},
			ProtocolMappers: []client.ProtocolMapper{{ID: store.NewID(), Name: "role list", Protocol: "saml",
				ProtocolMapper: "saml-role-list-mapper",
				Config:         map[string]string{"single": "false", "attribute.nameformat": "Basic", "attribute.name": "Role"}}}}},
		{link: true, dflt: true, scope: client.Scope{ID: store.NewID(), RealmID: realmID, Name: "saml_organization",
			Description: "Organization Membership", Protocol: "saml",
			Attributes: map[string]string{"display.on.consent.screen": "false"},
			ProtocolMappers: []client.ProtocolMapper{{ID: store.NewID(), Name: "organization", Protocol: "saml",
				ProtocolMapper: "saml-organization-membership-mapper", Config: map[string]string{}}}}},
		// Linked to a client only when its service account is enabled.
		{link: false, scope: oidc("service_account", "Specific scope for a client enabled for service accounts",
			scopeAttrs("false", "", "false"),
			mapper("Client ID", "oidc-usersessionmodel-note-mapper", claimConfig(map[string]string{
				"user.session.note": "client_id", "claim.name": "client_id", "jsonType.label": "String"}, "id", "access", "introspection")),
			mapper("Client Host", "oidc-usersessionmodel-note-mapper", claimConfig(map[string]string{
				"user.session.note": "clientHost", "claim.name": "clientHost", "jsonType.label": "String"}, "id", "access", "introspection")),
			mapper("Client IP Address", "oidc-usersessionmodel-note-mapper", claimConfig(map[string]string{
				"user.session.note": "clientAddress", "claim.name": "clientAddress", "jsonType.label": "String"}, "id", "access", "introspection")),
		)},
	}
}
