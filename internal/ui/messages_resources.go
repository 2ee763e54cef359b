package ui

// The texts of the account console's Resources page (user-managed
// access): the user's resources, sharing them with other users, and the
// requests for access. The keys are Keycloak's account theme keys where it
// has one.
func init() {
	for k, v := range resourcesMessagesEN {
		messagesEN[k] = v
	}
	for k, v := range resourcesMessagesDE {
		messagesDE[k] = v
	}
}

var resourcesMessagesEN = map[string]string{
	"resources":                       "Resources",
	"myResources":                     "My resources",
	"sharedWithMe":                    "Shared with me",
	"accountResourcesDescription":     "Share your resources with other people, and see what others shared with you.", // Gatehouse
	"accountNoResources":              "You own no resources.",                                                        // Gatehouse
	"accountNothingShared":            "Nothing is shared with you.",                                                  // Gatehouse
	"accountResourceClient":           "Application",                                                                  // Gatehouse
	"accountResourceScopes":           "Permissions",                                                                  // Gatehouse
	"accountSharedWith":               "Shared with",                                                                  // Gatehouse
	"accountNotShared":                "Not shared with anyone.",                                                      // Gatehouse
	"accountShareWithUser":            "Share with (username)",                                                        // Gatehouse
	"accountShare":                    "Share",                                                                        // Gatehouse
	"accountShareLabel":               "Share {0}",                                                                    // Gatehouse
	"accountRevoke":                   "Revoke",                                                                       // Gatehouse
	"accountRevokeLabel":              "Stop sharing {0} with {1}",                                                    // Gatehouse
	"accountPendingRequests":          "Requests waiting for you",                                                     // Gatehouse
	"accountApprove":                  "Approve",                                                                      // Gatehouse
	"accountApproveLabel":             "Approve the request of {0} for {1}",                                           // Gatehouse
	"accountDeny":                     "Deny",                                                                         // Gatehouse
	"accountDenyLabel":                "Deny the request of {0} for {1}",                                              // Gatehouse
	"accountMyRequests":               "Your requests waiting for approval",                                           // Gatehouse
	"accountResourceSharedMessage":    "The resource was shared.",                                                     // Gatehouse
	"accountResourceRevokedMessage":   "The access was revoked.",                                                      // Gatehouse
	"accountRequestApprovedMessage":   "The request was approved.",                                                    // Gatehouse
	"accountRequestDeniedMessage":     "The request was denied.",                                                      // Gatehouse
	"accountResourceNotFoundMessage":  "The resource was not found.",                                                  // Gatehouse
	"accountResourcesOffMessage":      "This realm does not let users manage their resources.",                        // Gatehouse
	"accountShareUserNotFoundMessage": "There is no user with that username.",                                         // Gatehouse
	"accountShareWithYourselfMessage": "You cannot share a resource with yourself.",                                   // Gatehouse
	"accountShareChooseScopesMessage": "Choose at least one permission to share.",                                     // Gatehouse
}

var resourcesMessagesDE = map[string]string{
	"resources":                       "Ressourcen",
	"myResources":                     "Meine Ressourcen",
	"sharedWithMe":                    "Mit mir geteilt",
	"accountResourcesDescription":     "Teilen Sie Ihre Ressourcen mit anderen und sehen Sie, was andere mit Ihnen geteilt haben.",
	"accountNoResources":              "Sie besitzen keine Ressourcen.",
	"accountNothingShared":            "Niemand hat etwas mit Ihnen geteilt.",
	"accountResourceClient":           "Anwendung",
	"accountResourceScopes":           "Berechtigungen",
	"accountSharedWith":               "Geteilt mit",
	"accountNotShared":                "Mit niemandem geteilt.",
	"accountShareWithUser":            "Teilen mit (Benutzername)",
	"accountShare":                    "Teilen",
	"accountShareLabel":               "{0} teilen",
	"accountRevoke":                   "Entziehen",
	"accountRevokeLabel":              "{0} nicht mehr mit {1} teilen",
	"accountPendingRequests":          "Anfragen, die auf Sie warten",
	"accountApprove":                  "Genehmigen",
	"accountApproveLabel":             "Die Anfrage von {0} für {1} genehmigen",
	"accountDeny":                     "Ablehnen",
	"accountDenyLabel":                "Die Anfrage von {0} für {1} ablehnen",
	"accountMyRequests":               "Ihre Anfragen, die auf Genehmigung warten",
	"accountResourceSharedMessage":    "Die Ressource wurde geteilt.",
	"accountResourceRevokedMessage":   "Der Zugriff wurde entzogen.",
	"accountRequestApprovedMessage":   "Die Anfrage wurde genehmigt.",
	"accountRequestDeniedMessage":     "Die Anfrage wurde abgelehnt.",
	"accountResourceNotFoundMessage":  "Die Ressource wurde nicht gefunden.",
	"accountResourcesOffMessage":      "Dieser Realm erlaubt Benutzern nicht, ihre Ressourcen zu verwalten.",
	"accountShareUserNotFoundMessage": "Es gibt keinen Benutzer mit diesem Benutzernamen.",
	"accountShareWithYourselfMessage": "Sie können eine Ressource nicht mit sich selbst teilen.",
	"accountShareChooseScopesMessage": "Wählen Sie mindestens eine Berechtigung zum Teilen.",
}
