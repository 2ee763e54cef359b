package ui

// The texts of the SAML identity provider's refusals (package login's
// saml.go), with Keycloak's keys and English wording.
func init() {
	for k, v := range samlMessagesEN {
		messagesEN[k] = v
	}
	for k, v := range samlMessagesDE {
		messagesDE[k] = v
	}
}

var samlMessagesEN = map[string]string{
	"loginRequesterNotEnabledMessage": "Login requester not enabled",
	"invalidRequesterMessage":         "Invalid requester",
	"unsupportedNameIdFormatMessage":  "Unsupported NameIDFormat",
	"wrongClientProtocolMessage":      "Wrong client protocol.", // Gatehouse: Keycloak shows this text without a key
}

var samlMessagesDE = map[string]string{
	"loginRequesterNotEnabledMessage": "Anmeldender ist nicht aktiviert",
	"invalidRequesterMessage":         "Ungültiger Anfragender",
	"unsupportedNameIdFormatMessage":  "Nicht unterstütztes NameIDFormat",
	"wrongClientProtocolMessage":      "Falsches Client-Protokoll.",
}
