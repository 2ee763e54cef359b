package ui

// The texts of linking an upstream identity to an existing account by
// email during a first broker login: the page shown while the mail is on
// its way, the mail itself, and the answers of its link. The keys are
// Keycloak's; the wording is Gatehouse's.
func init() {
	for k, v := range idpLinkMessagesEN {
		messagesEN[k] = v
	}
	for k, v := range idpLinkMessagesDE {
		messagesDE[k] = v
	}
}

var idpLinkMessagesEN = map[string]string{
	"emailLinkIdpTitle":                        "Link {0}",
	"emailLinkIdp1":                            "We sent an email to the address of your {2} account. Open its link to connect your {0} identity {1} to that account.",
	"emailLinkIdp2":                            "No email arrived?",
	"emailLinkIdp3":                            "Send it again",
	"identityProviderLinkSubject":              "Link {0}",
	"identityProviderLinkBody":                 "Someone asks to connect the {0} identity {1} to your account of {2}. If that was you, open the link below; afterwards you can sign in to {2} through {0}.",
	"identityProviderLinkIgnore":               "If it was not you, ignore this email and nothing is linked.",
	"identityProviderLinkStaleMessage":         "This link belongs to another sign-in. Go back to your application and sign in again.",
	"identityProviderLinkConfirmedAlreadyText": "The {0} identity {1} was already confirmed for this sign-in.",
	"confirmAccountLinking":                    "Link the {1} identity {0}?",
	"confirmAccountLinkingBody":                "Once the {1} identity {0} is linked to your account, you can sign in with either.",
	"identityProviderLinkConfirmedTitle":       "Link confirmed",
	"identityProviderLinkConfirmedElsewhere":   "The {0} identity {1} is confirmed. Go back to the browser where you signed in and reload the page to continue.",
}

var idpLinkMessagesDE = map[string]string{
	"emailLinkIdpTitle":                        "{0} verknüpfen",
	"emailLinkIdp1":                            "Wir haben eine E-Mail an die Adresse Ihres {2}-Kontos gesendet. Öffnen Sie den Link darin, um Ihre {0}-Identität {1} mit diesem Konto zu verbinden.",
	"emailLinkIdp2":                            "Keine E-Mail erhalten?",
	"emailLinkIdp3":                            "Erneut senden",
	"identityProviderLinkSubject":              "{0} verknüpfen",
	"identityProviderLinkBody":                 "Jemand möchte die {0}-Identität {1} mit Ihrem Konto bei {2} verbinden. Wenn Sie das waren, öffnen Sie den Link unten; danach können Sie sich über {0} bei {2} anmelden.",
	"identityProviderLinkIgnore":               "Wenn Sie es nicht waren, ignorieren Sie diese E-Mail; es wird nichts verknüpft.",
	"identityProviderLinkStaleMessage":         "Dieser Link gehört zu einer anderen Anmeldung. Kehren Sie zu Ihrer Anwendung zurück und melden Sie sich erneut an.",
	"identityProviderLinkConfirmedAlreadyText": "Die {0}-Identität {1} wurde für diese Anmeldung bereits bestätigt.",
	"confirmAccountLinking":                    "Die {1}-Identität {0} verknüpfen?",
	"confirmAccountLinkingBody":                "Sobald die {1}-Identität {0} mit Ihrem Konto verknüpft ist, können Sie sich mit beiden anmelden.",
	"identityProviderLinkConfirmedTitle":       "Verknüpfung bestätigt",
	"identityProviderLinkConfirmedElsewhere":   "Die {0}-Identität {1} ist bestätigt. Kehren Sie zu dem Browser zurück, in dem Sie sich angemeldet haben, und laden Sie die Seite neu.",
}
