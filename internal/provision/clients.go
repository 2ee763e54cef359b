package provision

import (
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// The built-in clients, configured as Keycloak configures them. URLs are
// relative to the server's base URL ("${authBaseUrl}" / "${authAdminUrl}").

func builtin(r realm.Realm, clientID, name string) client.Client {
	c := client.New(store.NewID(), r.ID, clientID)
	c.Name = name
	c.RedirectURIs, c.WebOrigins = []string{}, []string{}
	c.ProtocolMappers = []client.ProtocolMapper{}
	return c
}

func bearerOnly(r realm.Realm, clientID, name string) client.Client {
	c := builtin(r, clientID, name)
	c.BearerOnly = true
	c.StandardFlowEnabled = false
	c.FrontchannelLogout = false
	return c
}

func accountClient(r realm.Realm) client.Client {
	c := builtin(r, Account, "${client_account}")
	c.PublicClient = true
	c.RootURL = "${authBaseUrl}"
	c.BaseURL = "/realms/" + r.Name + "/account/"
	c.RedirectURIs = []string{"/realms/" + r.Name + "/account/*"}
	c.Attributes["post.logout.redirect.uris"] = "+"
	return c
}

func accountConsoleClient(r realm.Realm) client.Client {
	c := builtin(r, AccountConsole, "${client_account-console}")
	c.PublicClient = true
	c.FullScopeAllowed = false
	c.RootURL = "${authBaseUrl}"
	c.BaseURL = "/realms/" + r.Name + "/account/"
	c.RedirectURIs = []string{"/realms/" + r.Name + "/account/*"}
	c.Attributes["post.logout.redirect.uris"] = "+"
	c.Attributes["pkce.code.challenge.method"] = "S256"
	c.ProtocolMappers = []client.ProtocolMapper{mapper("audience resolve", "oidc-audience-resolve-mapper", map[string]string{})}
	return c
}

func adminCLIClient(r realm.Realm) client.Client {
	c := builtin(r, AdminCLI, "${client_admin-cli}")
	c.PublicClient = true
	c.StandardFlowEnabled = false
	c.DirectAccessGrantsEnabled = true
	c.Attributes["client.use.lightweight.access.token.enabled"] = "true"
	return c
}

func brokerClient(r realm.Realm) client.Client {
	c := bearerOnly(r, Broker, "${client_broker}")
	return c
}

func securityAdminConsoleClient(r realm.Realm) client.Client {
	c := builtin(r, SecurityAdminConsole, "${client_security-admin-console}")
	c.PublicClient = true
	c.RootURL = "${authAdminUrl}"
	c.BaseURL = "/admin/" + r.Name + "/console/"
	c.RedirectURIs = []string{"/admin/" + r.Name + "/console/*"}
	c.WebOrigins = []string{"+"}
	c.Attributes["post.logout.redirect.uris"] = "+"
	c.Attributes["pkce.code.challenge.method"] = "S256"
	c.Attributes["client.use.lightweight.access.token.enabled"] = "true"
	c.ProtocolMappers = []client.ProtocolMapper{mapper("locale", "oidc-usermodel-attribute-mapper", claimConfig(map[string]string{
		"user.attribute": "locale", "claim.name": "locale", "jsonType.label": "String"}, allTokens...))}
	return c
}
