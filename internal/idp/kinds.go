package idp

import "sort"

// Kind is a provider implementation: what ProviderID names.
type Kind struct {
	ID   string
	Name string // as the admin console shows it
	// Social kinds have fixed endpoints (below); the others (OIDC) take
	// theirs from the provider's configuration or its discovery document.
	Social bool
	// OIDC kinds read their endpoints from configuration.
	OIDC bool
	// SAML kinds are SAML 2.0 identity providers (see saml.go).
	SAML bool
	// The fixed endpoints of a social kind.
	AuthorizationURL string
	TokenURL         string
	UserInfoURL      string // the profile endpoint
	EmailsURL        string // GitHub only: where the verified emails are
	JWKSURL          string // kinds whose ID tokens the broker checks
	Issuer           string
	DefaultScope     string
	// NoLogin kinds are kept where realms carry them, but the broker
	// cannot sign in with them (Twitter's OAuth 1.0a).
	NoLogin bool
}

// Kinds are the provider implementations Gatehouse has, by ID.
var Kinds = map[string]Kind{
	"oidc":          {ID: "oidc", Name: "OpenID Connect v1.0", OIDC: true, DefaultScope: "openid"},
	"keycloak-oidc": {ID: "keycloak-oidc", Name: "Keycloak OpenID Connect", OIDC: true, DefaultScope: "openid"},
	"saml":          {ID: "saml", Name: "SAML v2.0", SAML: true},
	"google": {ID: "google", Name: "Google", Social: true,
		AuthorizationURL: "https://accounts.google.com/o/oauth2/v2/auth",
		TokenURL:         "https://oauth2.googleapis.com/token",
		UserInfoURL:      "https://openidconnect.googleapis.com/v1/userinfo",
		JWKSURL:          "https://www.googleapis.com/oauth2/v3/certs",
		Issuer:           "https://accounts.google.com",
		DefaultScope:     "openid profile email"},
	"github": {ID: "github", Name: "GitHub", Social: true,
		AuthorizationURL: "https://github.com/login/oauth/authorize",
		TokenURL:         "https://github.com/login/oauth/access_token",
		UserInfoURL:      "https://api.github.com/user",
		EmailsURL:        "https://api.github.com/user/emails",
		DefaultScope:     "user:email"},
	"gitlab": {ID: "gitlab", Name: "GitLab", Social: true,
		AuthorizationURL: "https://gitlab.com/oauth/authorize",
		TokenURL:         "https://gitlab.com/oauth/token",
		UserInfoURL:      "https://gitlab.com/api/v4/user",
		JWKSURL:          "https://gitlab.com/oauth/discovery/keys",
		Issuer:           "https://gitlab.com",
		DefaultScope:     "openid read_user"},
	"microsoft": {ID: "microsoft", Name: "Microsoft", Social: true,
		AuthorizationURL: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
		TokenURL:         "https://login.microsoftonline.com/common/oauth2/v2.0/token",
		UserInfoURL:      "https://graph.microsoft.com/v1.0/me/",
		DefaultScope:     "User.read"},
	"facebook": {ID: "facebook", Name: "Facebook", Social: true,
		AuthorizationURL: "https://graph.facebook.com/oauth/authorize",
		TokenURL:         "https://graph.facebook.com/oauth/access_token",
		UserInfoURL:      "https://graph.facebook.com/me?fields=id,name,email,first_name,last_name",
		DefaultScope:     "email"},
	"linkedin-openid-connect": {ID: "linkedin-openid-connect", Name: "LinkedIn OpenID Connect", Social: true,
		AuthorizationURL: "https://www.linkedin.com/oauth/v2/authorization",
		TokenURL:         "https://www.linkedin.com/oauth/v2/accessToken",
		UserInfoURL:      "https://api.linkedin.com/v2/userinfo",
		JWKSURL:          "https://www.linkedin.com/oauth/openid/jwks",
		Issuer:           "https://www.linkedin.com/oauth",
		DefaultScope:     "openid profile email"},
	"twitter": {ID: "twitter", Name: "Twitter", Social: true, NoLogin: true},
}

// KindIDs lists the known provider IDs in order.
func KindIDs() []string {
	out := make([]string, 0, len(Kinds))
	for id := range Kinds {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
