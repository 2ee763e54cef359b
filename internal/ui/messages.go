package ui

import (
	"strconv"
	"strings"
)

// A catalog is one locale's texts, keyed like Keycloak's
// messages_<locale>.properties so that themes and translators find the keys
// they know. A key missing from a locale falls back to English.
type catalog struct {
	messages map[string]string
	fallback map[string]string
}

func (c catalog) text(key string, args ...string) string {
	s, ok := c.messages[key]
	if !ok {
		if s, ok = c.fallback[key]; !ok {
			s = key
		}
	}
	if len(args) == 0 || !strings.Contains(s, "{") {
		return s
	}
	pairs := make([]string, 0, 2*len(args))
	for i, a := range args {
		pairs = append(pairs, "{"+strconv.Itoa(i)+"}", a)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

var catalogs = map[string]catalog{
	"en": {messages: messagesEN},
	"de": {messages: messagesDE, fallback: messagesEN},
}

// messagesEN holds Keycloak's English texts for its keys; keys Keycloak has
// no equivalent for are marked.
var messagesEN = map[string]string{
	"loginAccountTitle": "Sign in to your account",
	"loginTitle":        "Sign in to {0}",
	"username":          "Username",
	"usernameOrEmail":   "Username or email",
	"password":          "Password",
	"rememberMe":        "Remember me",
	"doLogIn":           "Sign In",
	"doSubmit":          "Submit",
	"doContinue":        "Continue",
	"doAccept":          "Accept",
	"doDecline":         "Decline",
	"doLogout":          "Logout",

	"invalidUserMessage":        "Invalid username or password.",
	"missingUsernameMessage":    "Please specify username.",
	"errorTitle":                "We are sorry...",
	"clientNotFoundMessage":     "Client not found.",
	"clientDisabledMessage":     "Client disabled.",
	"realmNotFoundMessage":      "Realm does not exist.", // Gatehouse
	"invalidParameterMessage":   "Invalid parameter: {0}",
	"missingParameterMessage":   "Missing parameters: {0}",
	"invalidRedirectUriMessage": "Invalid redirect uri",
	"invalidRequestMessage":     "Invalid Request",
	"bearerOnlyMessage":         "Bearer-only applications are not allowed to initiate browser login.",
	"standardFlowDisabledMessage": "Client is not allowed to initiate browser login with given response_type. " +
		"Standard flow is disabled for the client.",
	"internalServerError":     "An internal server error has occurred",
	"pageExpiredTitle":        "Page has expired",
	"expiredCodeMessage":      "Login timeout. Please sign in again.",
	"cookieNotFoundMessage":   "Cookie not found. Please make sure cookies are enabled in your browser.",
	"invalidCodeMessage":      "An error occurred, please login again through your application.",
	"sessionNotActiveMessage": "Session not active.",
	"backToApplication":       "« Back to Application",

	"updatePasswordTitle":                       "Update password",
	"updatePasswordMessage":                     "You need to change your password to activate your account.",
	"passwordNew":                               "New Password",
	"passwordConfirm":                           "Confirm password",
	"missingPasswordMessage":                    "Please specify password.",
	"notMatchPasswordMessage":                   "Passwords don't match.",
	"invalidPasswordMinLengthMessage":           "Invalid password: minimum length {0}.",
	"invalidPasswordMaxLengthMessage":           "Invalid password: maximum length {0}.",
	"invalidPasswordMinDigitsMessage":           "Invalid password: must contain at least {0} numerical digits.",
	"invalidPasswordMinLowerCaseCharsMessage":   "Invalid password: must contain at least {0} lower case characters.",
	"invalidPasswordMinUpperCaseCharsMessage":   "Invalid password: must contain at least {0} upper case characters.",
	"invalidPasswordMinSpecialCharsMessage":     "Invalid password: must contain at least {0} special characters.",
	"invalidPasswordNotUsernameMessage":         "Invalid password: must not be equal to the username.",
	"invalidPasswordNotEmailMessage":            "Invalid password: must not be equal to the email.",
	"invalidPasswordNotContainsUsernameMessage": "Invalid password: Can not contain the username.",
	"invalidPasswordRegexPatternMessage":        "Invalid password: fails to match regex pattern(s).",
	"invalidPasswordHistoryMessage":             "Invalid password: must not be equal to any of last {0} passwords.",
	"invalidPasswordGenericMessage":             "Invalid password: new password does not match password policies.",
	"passwordMinLengthHint":                     "At least {0} characters.", // Gatehouse

	"accountNeedsActionTitle": "Your account needs attention", // Gatehouse
	"accountNeedsActionMessage": "Before you can sign in, your account needs this action: {0}. " + // Gatehouse
		"This server cannot perform it yet; please contact your administrator.",
	"requiredAction.VERIFY_EMAIL":                   "Verify Email",
	"requiredAction.CONFIGURE_TOTP":                 "Configure OTP",
	"requiredAction.UPDATE_PROFILE":                 "Update Profile",
	"requiredAction.UPDATE_PASSWORD":                "Update Password",
	"requiredAction.TERMS_AND_CONDITIONS":           "Terms and Conditions",
	"requiredAction.webauthn-register":              "Webauthn Register",
	"requiredAction.CONFIGURE_RECOVERY_AUTHN_CODES": "Recovery Authentication Codes",
	"requiredAction.delete_account":                 "Delete Account",
	"requiredAction.delete_credential":              "Delete Credential",
	"requiredAction.VERIFY_PROFILE":                 "Verify Profile",
	"requiredAction.UPDATE_EMAIL":                   "Update Email",

	"doCancel":                  "Cancel",
	"termsTitle":                "Terms and Conditions",
	"termsText":                 "Terms and conditions to be defined",
	"loginProfileTitle":         "Update Account Information",
	"deleteAccountConfirm":      "Delete account confirmation",
	"irreversibleAction":        "This action is irreversible",
	"deletingImplies":           "Deleting your account implies:",
	"errasingData":              "Erasing all your data",
	"loggingOutImmediately":     "Logging you out immediately",
	"finalDeletionConfirmation": "If you delete your account, it cannot be restored. To keep your account, click Cancel.",
	"doConfirmDelete":           "Confirm deletion",
	"deletingAccountForbidden":  "You do not have enough permissions to delete your own account, contact admin.",
	"errorDeletingAccount":      "Error happened while deleting account",
	"userDeletedSuccessfully":   "User deleted successfully",
	"deleteCredentialTitle":     "Delete {0}",
	"deleteCredentialMessage":   "Do you want to delete {0}?",
	"credentialCannotBeRemoved": "Credential type cannot be removed", // Gatehouse: Keycloak shows the exception text

	"webauthn-login-title":                 "Security Key login",
	"passkey-login-title":                  "Passkey login",
	"webauthn-doAuthenticate":              "Sign in with Security Key",
	"passkey-doAuthenticate":               "Sign in with Passkey",
	"webauthn-registration-title":          "Security Key Registration",
	"passkey-registration-title":           "Passkey Registration",
	"webauthn-doRegister":                  "Register Security Key",
	"passkey-doRegister":                   "Register Passkey",
	"webauthn-registration-init-label":     "Security Key (Default Label)",
	"webauthn-label":                       "Label (optional)",
	"webauthn-error-title":                 "Security Key Error",
	"webauthn-error-registration":          "Failed to register your Security key.",
	"webauthn-error-api-get":               "Failed to authenticate by the Security key.",
	"webauthn-error-different-user":        "First authenticated user is not the one authenticated by the Security key.",
	"webauthn-error-auth-verification":     "Security key authentication result is invalid.",
	"webauthn-error-register-verification": "Security key registration result is invalid.",
	"webauthn-error-user-not-found":        "Unknown user authenticated by the Security key.",
	"webauthn-unsupported-browser-text":    "WebAuthn is not supported by this browser. Try another one or contact your administrator.",

	"loginTotpTitle":                    "Mobile Authenticator Setup",
	"configureTotpMessage":              "You need to set up Mobile Authenticator to activate your account.",
	"loginTotpStep1":                    "Install one of the following applications on your mobile:",
	"loginTotpStep2":                    "Open the application and scan the barcode:",
	"loginTotpStep3":                    "Enter the one-time code provided by the application and click Submit to finish the setup.",
	"loginTotpStep3DeviceName":          "Provide a Device Name to help you manage your OTP devices.",
	"loginTotpManualStep2":              "Open the application and enter the key:",
	"loginTotpManualStep3":              "Use the following configuration values if the application allows setting them:",
	"loginTotpUnableToScan":             "Unable to scan?",
	"loginTotpScanBarcode":              "Scan barcode?",
	"loginTotpType":                     "Type",
	"loginTotpAlgorithm":                "Algorithm",
	"loginTotpDigits":                   "Digits",
	"loginTotpInterval":                 "Interval",
	"loginTotpCounter":                  "Counter",
	"loginTotpDeviceName":               "Device Name",
	"loginTotp.totp":                    "Time-based",
	"loginTotp.hotp":                    "Counter-based",
	"loginTotpQrCodeAlt":                "QR code of the key", // Gatehouse
	"loginOtpOneTime":                   "One-time code",
	"totpAppFreeOTPName":                "FreeOTP",
	"totpAppGoogleName":                 "Google Authenticator",
	"totpAppMicrosoftAuthenticatorName": "Microsoft Authenticator",
	"missingTotpMessage":                "Please specify authenticator code.",
	"invalidTotpMessage":                "Invalid authenticator code.",
	"missingTotpDeviceNameMessage":      "Please specify device name.",
	"invalidTotpDeviceNameMessage":      "Device name is too long.", // Gatehouse

	"oauth2DeviceVerificationTitle":           "Device Login",
	"verifyOAuth2DeviceUserCode":              "Enter the code provided by your device and click Submit",
	"oauth2DeviceInvalidUserCodeMessage":      "Invalid code, please try again.",
	"oauth2DeviceExpiredUserCodeMessage":      "The code has expired. Please go back to your device and try connecting again.",
	"oauth2DeviceVerificationCompleteHeader":  "Device Login Successful",
	"oauth2DeviceVerificationCompleteMessage": "You may close this browser window and go back to your device.",
	"oauth2DeviceVerificationFailedHeader":    "Device Login Failed",
	"oauth2DeviceVerificationFailedMessage":   "You may close this browser window and go back to your device and try connecting again.",
	"oauth2DeviceConsentDeniedMessage":        "Consent denied for connecting the device.",

	"oauthGrantTitle":               "Grant Access to {0}",
	"oauthGrantRequest":             "Do you grant these access privileges?",
	"profileScopeConsentText":       "User profile",
	"emailScopeConsentText":         "Email address",
	"addressScopeConsentText":       "Address",
	"phoneScopeConsentText":         "Phone number",
	"offlineAccessScopeConsentText": "Offline Access",
	"rolesScopeConsentText":         "User roles",
	"organizationScopeConsentText":  "Organization",

	"logoutConfirmTitle":  "Logging out",
	"logoutConfirmHeader": "Do you want to log out?",
	"successLogout":       "You are logged out",
	"failedLogout":        "Logout failed",

	"frontchannel-logout.title":   "Logging out",
	"frontchannel-logout.message": "You are logging out from following apps",

	"formPostMessage": "Your browser did not continue automatically. Press the button to return to the application.", // Gatehouse

	// Account console (package account). Keys without a Keycloak
	// equivalent are prefixed "account".
	"accountConsoleTitle":                     "Account Console", // Gatehouse
	"accountSkipToContent":                    "Skip to content", // Gatehouse
	"accountNavigation":                       "Account",         // Gatehouse
	"accountSignOut":                          "Sign out",        // Gatehouse
	"personalInfo":                            "Personal info",
	"accountSecurity":                         "Account security",
	"signingIn":                               "Signing in",
	"deviceActivity":                          "Device activity",
	"applications":                            "Applications",
	"email":                                   "Email",
	"firstName":                               "First name",
	"lastName":                                "Last name",
	"doSave":                                  "Save",
	"doTryAgain":                              "Try again",
	"offlineAccess":                           "Offline access",
	"accountPersonalInfoDescription":          "Manage your basic information.",                                // Gatehouse
	"accountUsernameReadOnly":                 "Your username cannot be changed here.",                         // Gatehouse
	"accountEmailVerified":                    "Verified",                                                      // Gatehouse
	"accountEmailNotVerified":                 "Not verified",                                                  // Gatehouse
	"accountProfileNotSavedMessage":           "Your changes were not saved. Please correct the errors below.", // Gatehouse
	"accountUpdatedMessage":                   "Your account has been updated.",
	"accountSigningInDescription":             "Configure ways to sign in.", // Gatehouse
	"basic-authentication":                    "Basic authentication",
	"two-factor":                              "Two-factor authentication",
	"otp-display-name":                        "Authenticator application",
	"otp-help-text":                           "Enter a verification code from authenticator application.",
	"accountSetUpOTP":                         "Set up authenticator application",
	"webauthn-display-name":                   "Security key",
	"webauthn-help-text":                      "Use your security key to sign in.",
	"webauthn-passwordless-display-name":      "Passkey",
	"webauthn-passwordless-help-text":         "Use your Passkey for passwordless sign in.",
	"passwordless":                            "Passwordless",
	"accountSetUpKey":                         "Set up",      // Gatehouse
	"accountNoKey":                            "Not set up.", // Gatehouse
	"accountRemoveKeyLabel":                   "Remove {0}",  // Gatehouse
	"accountNoOTP":                            "Authenticator application is not set up.",
	"accountOTPCreated":                       "Set up",                               // Gatehouse
	"accountRemoveOTP":                        "Remove",                               // Gatehouse
	"accountRemoveOTPLabel":                   "Remove authenticator application {0}", // Gatehouse
	"password-display-name":                   "Password",
	"password-help-text":                      "Sign in by entering your password.",
	"accountPasswordCreated":                  "Set",                       // Gatehouse
	"accountPasswordNotSet":                   "You have no password yet.", // Gatehouse
	"accountChangePassword":                   "Change password",           // Gatehouse
	"accountCurrentPassword":                  "Current password",          // Gatehouse
	"accountSavePassword":                     "Change password",           // Gatehouse
	"logoutOtherSessions":                     "Sign out from other devices",
	"invalidPasswordExistingMessage":          "Invalid existing password.",
	"accountPasswordUpdatedMessage":           "Your password has been updated.",
	"accountDeviceActivityDescription":        "Sign out of any device you do not recognise.",                                                    // Gatehouse
	"accountSignedInDevices":                  "Signed in devices",                                                                               // Gatehouse
	"accountSignOutOtherDevices":              "Sign out all other devices",                                                                      // Gatehouse
	"accountSignOutSessionLabel":              "Sign out the session of {0} from {1}, started {2}",                                               // Gatehouse
	"accountCurrentDevice":                    "This device",                                                                                     // Gatehouse
	"accountCurrentSession":                   "Current session",                                                                                 // Gatehouse
	"accountOtherDevice":                      "Other device",                                                                                    // Gatehouse
	"accountBrowser":                          "Browser",                                                                                         // Gatehouse
	"accountIPAddress":                        "IP address",                                                                                      // Gatehouse
	"accountStarted":                          "Started",                                                                                         // Gatehouse
	"accountLastAccess":                       "Last access",                                                                                     // Gatehouse
	"accountExpires":                          "Expires",                                                                                         // Gatehouse
	"accountNoSessions":                       "No active sessions.",                                                                             // Gatehouse
	"accountSessionSignedOutMessage":          "The session was signed out.",                                                                     // Gatehouse
	"accountOtherSessionsSignedOutMessage":    "All other sessions were signed out.",                                                             // Gatehouse
	"accountSessionNotFoundMessage":           "That session was not found.",                                                                     // Gatehouse
	"accountApplicationsDescription":          "Applications you use, and what they may do on your behalf.",                                      // Gatehouse
	"accountAccess":                           "Access",                                                                                          // Gatehouse
	"accountInUse":                            "In use",                                                                                          // Gatehouse
	"accountConsentGiven":                     "Consent given",                                                                                   // Gatehouse
	"accountClientID":                         "Client ID",                                                                                       // Gatehouse
	"accountApplicationType":                  "Type",                                                                                            // Gatehouse
	"accountInternalApplication":              "Internal",                                                                                        // Gatehouse
	"accountThirdPartyApplication":            "Third-party",                                                                                     // Gatehouse
	"accountAccessGranted":                    "Access granted",                                                                                  // Gatehouse
	"accountGrantedPermissions":               "Granted permissions",                                                                             // Gatehouse
	"accountRemoveAccess":                     "Remove access",                                                                                   // Gatehouse
	"accountRemoveAccessLabel":                "Remove access for {0}",                                                                           // Gatehouse
	"accountNoApplications":                   "No applications.",                                                                                // Gatehouse
	"accountAccessRemovedMessage":             "Access was removed.",                                                                             // Gatehouse
	"accountLoginFailedMessage":               "You could not be signed in. Please make sure cookies are enabled in your browser and try again.", // Gatehouse
	"accountAccessDeniedMessage":              "Sign in was cancelled.",                                                                          // Gatehouse
	"accountInvalidRequestMessage":            "This request was refused. Please reload the page and try again.",                                 // Gatehouse
	"accountNoPermissionMessage":              "You do not have permission to do this.",                                                          // Gatehouse
	"missingEmailMessage":                     "Please specify email.",
	"missingFirstNameMessage":                 "Please specify first name.",
	"missingLastNameMessage":                  "Please specify last name.",
	"invalidEmailMessage":                     "Invalid email address.",
	"emailExistsMessage":                      "Email already exists.",
	"usernameExistsMessage":                   "Username already exists.",
	"updateReadOnlyAttributesRejectedMessage": "Update of read-only attribute rejected",
	"error-invalid-length":                    "{0} must have a length between {1} and {2}.",
	"error-invalid-length-too-long":           "{0} must have a maximum length of {2}.",
	"error-username-invalid-character":        "{0} contains invalid character.",
	"error-person-name-invalid-character":     "{0} contains invalid character.",
	"error-invalid-length-too-short":          "{0} must have a minimal length of {1}.",
	"error-invalid-value":                     "Invalid value.",
	"error-invalid-email":                     "Invalid email address.",
	"error-invalid-number":                    "Invalid number.",
	"error-number-out-of-range":               "{0} must be a number between {1} and {2}.",
	"error-number-out-of-range-too-small":     "{0} must have a minimal value of {1}.",
	"error-number-out-of-range-too-big":       "{0} must have a maximal value of {2}.",
	"error-pattern-no-match":                  "Invalid value.",
	"error-invalid-uri":                       "Invalid URL.",
	"error-invalid-uri-scheme":                "Invalid URL scheme.",
	"error-invalid-uri-fragment":              "Invalid URL fragment.",
	"error-user-attribute-required":           "Please specify {0}.",
	"error-invalid-multivalued-size":          "{0} must have at least {1} and at most {2} value(s).",
	"client_account":                          "Account",
	"client_account-console":                  "Account Console",
	"client_admin-cli":                        "Admin CLI",
	"client_security-admin-console":           "Security Admin Console",

	// Gatehouse's own (Keycloak has no page for overload): the 503 page.
	"temporarilyUnavailableMessage": "The server is busy. Please wait a moment, then try again.",

	// A user storage provider (LDAP) that cannot be reached during a login.
	"unexpectedErrorHandlingRequestMessage": "Unexpected error when handling authentication request to identity provider.",

	// The authentication flow's pages and refusals.
	"invalidUsernameMessage":  "Invalid username.",
	"invalidPasswordMessage":  "Invalid password.",
	"accountDisabledMessage":  "Account is disabled, contact your administrator.",
	"accessDenied":            "Access denied",
	"sessionLimitExceeded":    "There are too many sessions",
	"acrNotFulfilled":         "Authentication requirements not fulfilled",
	"credentialSetupRequired": "Cannot login, credential setup required.",
	"restartLoginTooltip":     "Restart login",
	"doTryAnotherWay":         "Try Another Way",
	"flowNotRunnableMessage":  "Login is not possible. Contact your administrator.", // Gatehouse
	"otp-reset-description":   "Which OTP configuration should be removed?",
	"resetOtpMissingIdError":  "An OTP configuration must be selected.",
}

var messagesDE = map[string]string{
	"loginAccountTitle": "Bei Ihrem Konto anmelden",
	"loginTitle":        "Anmeldung bei {0}",
	"username":          "Benutzername",
	"usernameOrEmail":   "Benutzername oder E-Mail",
	"password":          "Passwort",
	"rememberMe":        "Angemeldet bleiben",
	"doLogIn":           "Anmelden",
	"doSubmit":          "Absenden",
	"doContinue":        "Weiter",
	"doAccept":          "Akzeptieren",
	"doDecline":         "Ablehnen",
	"doLogout":          "Abmelden",

	"invalidUserMessage":      "Ungültiger Benutzername oder Passwort.",
	"errorTitle":              "Es tut uns leid …",
	"clientNotFoundMessage":   "Client nicht gefunden.",
	"clientDisabledMessage":   "Client deaktiviert.",
	"invalidParameterMessage": "Ungültiger Parameter: {0}",
	"pageExpiredTitle":        "Die Seite ist abgelaufen",
	"expiredCodeMessage":      "Zeitüberschreitung bei der Anmeldung. Bitte melden Sie sich erneut an.",

	"updatePasswordTitle":     "Passwort aktualisieren",
	"passwordNew":             "Neues Passwort",
	"passwordConfirm":         "Passwort bestätigen",
	"notMatchPasswordMessage": "Die Passwörter stimmen nicht überein.",

	"oauthGrantTitle":                         "Zugriff für {0} gewähren",
	"oauthGrantRequest":                       "Möchten Sie diese Zugriffsrechte gewähren?",
	"oauth2DeviceVerificationTitle":           "Geräteanmeldung",
	"verifyOAuth2DeviceUserCode":              "Geben Sie den Code ein, den Ihr Gerät anzeigt, und klicken Sie auf Absenden",
	"oauth2DeviceInvalidUserCodeMessage":      "Ungültiger Code, bitte versuchen Sie es erneut.",
	"oauth2DeviceExpiredUserCodeMessage":      "Der Code ist abgelaufen. Bitte kehren Sie zu Ihrem Gerät zurück und verbinden Sie sich erneut.",
	"oauth2DeviceVerificationCompleteHeader":  "Geräteanmeldung erfolgreich",
	"oauth2DeviceVerificationCompleteMessage": "Sie können dieses Browserfenster schließen und zu Ihrem Gerät zurückkehren.",
	"oauth2DeviceVerificationFailedHeader":    "Geräteanmeldung fehlgeschlagen",
	"oauth2DeviceVerificationFailedMessage":   "Sie können dieses Browserfenster schließen, zu Ihrem Gerät zurückkehren und sich erneut verbinden.",
	"oauth2DeviceConsentDeniedMessage":        "Zustimmung zum Verbinden des Geräts verweigert.",
	"profileScopeConsentText":                 "Benutzerprofil",
	"emailScopeConsentText":                   "E-Mail-Adresse",

	"logoutConfirmTitle":  "Abmelden",
	"logoutConfirmHeader": "Möchten Sie sich abmelden?",
	"successLogout":       "Sie sind abgemeldet",

	"frontchannel-logout.title":   "Abmelden",
	"frontchannel-logout.message": "Sie melden sich von den folgenden Anwendungen ab",
}
