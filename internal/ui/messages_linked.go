package ui

// The texts of the account console's linked accounts: the identity
// providers a user signs in with, and the refusals of unlinking one. The
// keys are Keycloak's account theme keys where it has one.
func init() {
	for k, v := range linkedMessagesEN {
		messagesEN[k] = v
	}
	for k, v := range linkedMessagesDE {
		messagesDE[k] = v
	}
}

var linkedMessagesEN = map[string]string{
	"linkedAccounts":                               "Linked accounts",
	"accountLinkedAccountsDescription":             "Manage logins through third-party accounts.", // Gatehouse
	"accountLinkedLoginProviders":                  "Linked login providers",                      // Gatehouse
	"accountUnlinkedLoginProviders":                "Unlinked login providers",                    // Gatehouse
	"accountNoLinkedProviders":                     "You have not linked any login provider.",     // Gatehouse
	"accountNoUnlinkedProviders":                   "No other login provider is available.",       // Gatehouse
	"accountLinkAccount":                           "Link account",                                // Gatehouse
	"accountUnlinkAccount":                         "Unlink account",                              // Gatehouse
	"accountLinkAccountLabel":                      "Link your account at {0}",                    // Gatehouse
	"accountUnlinkAccountLabel":                    "Unlink your account at {0}",                  // Gatehouse
	"accountSocialLogin":                           "Social login",                                // Gatehouse
	"accountLinkedAs":                              "Linked as {0}",                               // Gatehouse
	"accountUnlinkedMessage":                       "The account was unlinked.",                   // Gatehouse
	"accountLinkedMessage":                         "The account was linked.",                     // Gatehouse
	"missingIdentityProviderMessage":               "Identity provider not specified.",
	"identityProviderNotFoundMessage":              "Specified identity provider not found.",
	"federatedIdentityLinkNotActiveMessage":        "This identity is not active anymore.",
	"federatedIdentityRemovingLastProviderMessage": "You can't remove last federated identity as you don't have a password.",
}

var linkedMessagesDE = map[string]string{
	"linkedAccounts":                               "Verknüpfte Konten",
	"accountLinkedAccountsDescription":             "Anmeldungen über Konten bei Drittanbietern verwalten.",
	"accountLinkedLoginProviders":                  "Verknüpfte Anmeldeanbieter",
	"accountUnlinkedLoginProviders":                "Nicht verknüpfte Anmeldeanbieter",
	"accountNoLinkedProviders":                     "Sie haben noch keinen Anmeldeanbieter verknüpft.",
	"accountNoUnlinkedProviders":                   "Kein weiterer Anmeldeanbieter verfügbar.",
	"accountLinkAccount":                           "Konto verknüpfen",
	"accountUnlinkAccount":                         "Verknüpfung aufheben",
	"accountLinkAccountLabel":                      "Ihr Konto bei {0} verknüpfen",
	"accountUnlinkAccountLabel":                    "Verknüpfung mit Ihrem Konto bei {0} aufheben",
	"accountSocialLogin":                           "Soziales Netzwerk",
	"accountLinkedAs":                              "Verknüpft als {0}",
	"accountUnlinkedMessage":                       "Die Verknüpfung wurde aufgehoben.",
	"accountLinkedMessage":                         "Das Konto wurde verknüpft.",
	"missingIdentityProviderMessage":               "Identity Provider nicht angegeben.",
	"identityProviderNotFoundMessage":              "Angegebener Identity Provider nicht gefunden.",
	"federatedIdentityLinkNotActiveMessage":        "Diese Identität ist nicht mehr aktiv.",
	"federatedIdentityRemovingLastProviderMessage": "Sie können den letzten Eintrag nicht entfernen, da Sie kein Passwort haben.",
}
