package ui

// The texts of the mail Gatehouse sends and of the pages its links and the
// login page's "forgot password" and "register" links lead to. The keys are
// Keycloak's where Keycloak has one; the wording of the mail is Gatehouse's.
func init() {
	for k, v := range mailMessagesEN {
		messagesEN[k] = v
	}
	for k, v := range mailMessagesDE {
		messagesDE[k] = v
	}
}

var mailMessagesEN = map[string]string{
	"emailLinkText":            "Open the link",
	"emailLinkExpiry":          "The link stops working in {0}.",
	"emailVerificationSubject": "Confirm your email address",
	"emailVerificationBody":    "An account of {0} now uses this email address. To confirm that the address is yours, open the link below.",
	"emailVerificationIgnore":  "If you know of no such account, you can ignore this email.",
	"passwordResetSubject":     "Choose a new password",
	"passwordResetBody":        "A new password was asked for your account of {0}. To choose one, open the link below.",
	"passwordResetIgnore":      "If you did not ask for it, ignore this email: your password stays as it is.",
	"executeActionsSubject":    "Your account needs an update",
	"executeActionsBody":       "An administrator of {0} asks you to update your account: {1}. To start, open the link below.",
	"executeActionsIgnore":     "If this request surprises you, ignore this email and nothing changes.",
	"emailTestSubject":         "[{0}] mail settings test",
	"emailTestBody":            "This message from {0} shows that its mail settings work.",
	"periodMinute":             "1 minute",
	"periodMinutes":            "{0} minutes",
	"periodHour":               "1 hour",
	"periodHours":              "{0} hours",
	"periodDay":                "1 day",
	"periodDays":               "{0} days",

	"doForgotPassword":              "Forgot Password?",
	"emailForgotTitle":              "Forgot Your Password?",
	"emailInstruction":              "Enter your username or email address and we will send you instructions on how to create a new password.",
	"emailSentMessage":              "You should receive an email shortly with further instructions.",
	"emailSendErrorMessage":         "Failed to send email, please try again later.",
	"backToLogin":                   "« Back to Login",
	"noAccount":                     "New user?",
	"doRegister":                    "Register",
	"registerTitle":                 "Register",
	"acceptTerms":                   "I agree to the terms and conditions",
	"termsAcceptanceRequired":       "You must agree to our terms and conditions.",
	"recaptchaNotConfigured":        "Registration needs a reCAPTCHA check, which this server does not support. Please contact your administrator.", // Gatehouse
	"registrationNotAllowedMessage": "Registration not allowed",

	"emailVerifyTitle":                       "Email verification",
	"emailVerifyInstruction1":                "An email with instructions to verify your email address has been sent to your address {0}.",
	"emailVerifyInstruction2":                "Haven't received a verification code in your email?",
	"emailVerifyResend":                      "Click here to re-send the email.",
	"emailVerifiedMessage":                   "Your email address has been verified.",
	"confirmEmailAddressVerification":        "Confirm validity of e-mail address {0}.",
	"confirmExecutionOfActions":              "Perform the following action(s)",
	"proceedWithAction":                      "» Click here to proceed",
	"expiredActionMessage":                   "Action expired. Please continue with login now.",
	"expiredActionTokenNoSessionMessage":     "Action expired.",
	"expiredActionTokenSessionExistsMessage": "Action expired. Please start again.",
	"accountDisabledMessage":                 "Account is disabled, contact your administrator.",
	"staleEmailVerificationLink":             "The link you clicked is an old stale link and is no longer valid. Maybe you have already verified your email.",
	"resetCredentialNotAllowedMessage":       "Reset Credential not allowed",
	"invalidRegistrationMessage":             "Invalid registration.", // Gatehouse
	"accountUpdatedTitle":                    "Account updated",       // Gatehouse
}

var mailMessagesDE = map[string]string{
	"emailLinkText":            "Link öffnen",
	"emailLinkExpiry":          "Der Link ist {0} lang gültig.",
	"emailVerificationSubject": "Bestätigen Sie Ihre E-Mail-Adresse",
	"emailVerificationBody":    "Ein Konto bei {0} verwendet jetzt diese E-Mail-Adresse. Öffnen Sie den folgenden Link, um zu bestätigen, dass die Adresse Ihnen gehört.",
	"emailVerificationIgnore":  "Wenn Sie kein solches Konto kennen, können Sie diese E-Mail ignorieren.",
	"passwordResetSubject":     "Neues Passwort wählen",
	"passwordResetBody":        "Für Ihr Konto bei {0} wurde ein neues Passwort angefordert. Öffnen Sie den folgenden Link, um eines zu wählen.",
	"passwordResetIgnore":      "Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Ihr Passwort bleibt unverändert.",
	"executeActionsSubject":    "Ihr Konto muss aktualisiert werden",
	"executeActionsBody":       "Ein Administrator von {0} bittet Sie, Ihr Konto zu aktualisieren: {1}. Öffnen Sie dazu den folgenden Link.",
	"executeActionsIgnore":     "Wenn Sie diese Anfrage nicht erwartet haben, ignorieren Sie diese E-Mail; es ändert sich nichts.",
	"emailTestSubject":         "[{0}] Test der E-Mail-Einstellungen",
	"emailTestBody":            "Diese Nachricht von {0} zeigt, dass die E-Mail-Einstellungen funktionieren.",
	"periodMinute":             "1 Minute",
	"periodMinutes":            "{0} Minuten",
	"periodHour":               "1 Stunde",
	"periodHours":              "{0} Stunden",
	"periodDay":                "1 Tag",
	"periodDays":               "{0} Tage",

	"doForgotPassword":     "Passwort vergessen?",
	"emailForgotTitle":     "Passwort vergessen?",
	"emailSentMessage":     "Sie sollten in Kürze eine E-Mail mit weiteren Anweisungen erhalten.",
	"backToLogin":          "« Zurück zur Anmeldung",
	"noAccount":            "Neuer Benutzer?",
	"doRegister":           "Registrieren",
	"registerTitle":        "Registrierung",
	"emailVerifyTitle":     "E-Mail verifizieren",
	"emailVerifiedMessage": "Ihre E-Mail-Adresse wurde verifiziert.",
	"proceedWithAction":    "» Klicken Sie hier, um fortzufahren",
}
