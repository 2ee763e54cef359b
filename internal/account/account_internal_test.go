package account

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/profile"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
)

func TestParseUserAgent(t *testing.T) {
	for _, tc := range []struct {
		ua   string
		want device
	}{
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.58 Safari/537.36",
			device{OS: "Linux", OSVersion: "Unknown", Browser: "Chrome/130.0.6723", Device: "Other"}},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
			device{OS: "Linux", OSVersion: "Unknown", Browser: "HeadlessChrome/156.0.0", Device: "Other"}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.2849.46",
			device{OS: "Windows", OSVersion: "10", Browser: "Edge/130.0.2849", Device: "Other"}},
		{"Mozilla/5.0 (Windows NT 6.1; rv:115.0) Gecko/20100101 Firefox/115.0",
			device{OS: "Windows", OSVersion: "7", Browser: "Firefox/115.0", Device: "Other"}},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
			device{OS: "Mac OS X", OSVersion: "10.15.7", Browser: "Safari/17.1", Device: "Mac"}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
			device{OS: "iOS", OSVersion: "17.1.2", Browser: "Mobile Safari/17.1.2", Device: "iPhone", Mobile: true}},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.58 Mobile Safari/537.36",
			device{OS: "Android", OSVersion: "14", Browser: "Chrome/130.0.6723", Device: "Generic Smartphone", Mobile: true}},
		{"curl/8.5.0", device{OS: "Other", OSVersion: "Unknown", Browser: "curl/8.5.0", Device: "Other"}},
		{"", unknownDevice},
		{string(make([]byte, 600)), unknownDevice},
	} {
		if got := parseUserAgent(tc.ua); got != tc.want {
			t.Errorf("%.60q:\n got %+v\nwant %+v", tc.ua, got, tc.want)
		}
	}
}

func TestValidEmail(t *testing.T) {
	for email, want := range map[string]bool{
		"user1@example.com":             true,
		"first.last+tag@sub.example":    true,
		"o'brien@example.ie":            true,
		"user@localhost":                true,
		"user@[192.0.2.1]":              true,
		"jürgen@müller.example":         true,
		"user@müller.example":           true,
		"":                              false,
		"user":                          false,
		"@example.com":                  false,
		"user@":                         false,
		"a@b@example.com":               false,
		"a b@example.com":               false,
		"user.@example.com":             false,
		".user@example.com":             false,
		"us..er@example.com":            false,
		"user@-example.com":             false,
		"user@example..com":             false,
		"a\u0085b@example.com":          false,
		"a\u00a0b@example.com":          false,
		"<script>@example.com":          false,
		"user@example.com\r\nBcc: x":    false,
		string(make([]byte, 65)) + "@x": false,
	} {
		if got := profile.ValidEmail(email); got != want {
			t.Errorf("ValidEmail(%q) = %v", email, got)
		}
	}
}

// Every message a console page or this package shows must exist in
// English, the fallback of every locale; a missing key would show as the
// key itself.
func TestConsoleMessagesExist(t *testing.T) {
	key := regexp.MustCompile(`\.T "([A-Za-z0-9_.-]+)"`)
	files, err := fs.Glob(ui.FS(), "templates/account/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v", err)
	}
	keys := []string{"accountLoginFailedMessage", "accountAccessDeniedMessage", "doTryAgain", "accountInvalidRequestMessage",
		"accountNoPermissionMessage", "accountSignOutSessionLabel", "accountRemoveAccessLabel", "accountOtherDevice",
		"accountProfileNotSavedMessage", "invalidPasswordExistingMessage", "accountSessionNotFoundMessage", "clientNotFoundMessage",
		"missingPasswordMessage", "notMatchPasswordMessage", "passwordMinLengthHint", "realmNotFoundMessage", "internalServerError",
		"invalidRequestMessage", "client_account-console", "client_admin-cli",
		// user profile errors and the attribute names they name
		"updateReadOnlyAttributesRejectedMessage", "missingUsernameMessage", "error-invalid-length", "error-invalid-length-too-long",
		"error-username-invalid-character", "usernameExistsMessage", "missingEmailMessage", "invalidEmailMessage", "emailExistsMessage",
		"missingFirstNameMessage", "missingLastNameMessage", "error-person-name-invalid-character",
		"username", "email", "firstName", "lastName"}
	for _, s := range []section{sectionPersonalInfo, sectionSigningIn, sectionDeviceActivity, sectionApplications} {
		keys = append(keys, s.title)
	}
	for _, k := range doneMessages {
		keys = append(keys, k)
	}
	for _, file := range files {
		b, _ := fs.ReadFile(ui.FS(), file)
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
	}
	for _, k := range keys {
		if ui.Text("en", k) == k {
			t.Errorf("message %q is missing", k)
		}
	}
	if _, err := templates(); err != nil {
		t.Fatal(err)
	}
}
