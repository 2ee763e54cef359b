package user

import (
	"strings"
	"testing"
	"time"
)

func TestCheckPolicy(t *testing.T) {
	alice := User{Username: "alice", Email: "alice@example.com"}
	for _, tc := range []struct {
		name, policy, password string
		key, message           string // "" passes
	}{
		{"no policy takes anything", "", "x", "", ""},
		{"length: short is refused", "length(8)", "Sh0rt!", "invalidPasswordMinLengthMessage", "Invalid password: minimum length 8."},
		{"length: exactly the minimum passes", "length(8)", "12345678", "", ""},
		{"length without a config is 8", "length", "seven77", "invalidPasswordMinLengthMessage", "Invalid password: minimum length 8."},
		{"length counts UTF-16 units, as Java does", "length(4)", "😀😀", "", ""},
		{"maxLength: long is refused", "maxLength(10)", "much-too-long-password", "invalidPasswordMaxLengthMessage", "Invalid password: maximum length 10."},
		{"maxLength without a config is 64", "maxLength", strings.Repeat("a", 65), "invalidPasswordMaxLengthMessage", "Invalid password: maximum length 64."},
		{"maxLength: 64 passes the default", "maxLength", strings.Repeat("a", 64), "", ""},
		{"over MaxPasswordLength bytes is refused whatever the policy", "", strings.Repeat("a", MaxPasswordLength+1), "invalidPasswordMaxLengthMessage", "Invalid password: maximum length 1024."},
		{"digits: too few", "digits(2)", "abc1", "invalidPasswordMinDigitsMessage", "Invalid password: must contain at least 2 numerical digits."},
		{"digits: enough", "digits(2)", "a1b2", "", ""},
		{"lowerCase: too few", "lowerCase(2)", "ABCDEFGHIj", "invalidPasswordMinLowerCaseCharsMessage", "Invalid password: must contain at least 2 lower case characters."},
		{"lowerCase: enough", "lowerCase(2)", "ABcd", "", ""},
		{"upperCase without a config is 1", "upperCase", "lower-case-1", "invalidPasswordMinUpperCaseCharsMessage", "Invalid password: must contain at least 1 upper case characters."},
		{"upperCase: enough", "upperCase(1)", "Upper", "", ""},
		{"specialChars: none", "specialChars(1)", "NoSpecial1", "invalidPasswordMinSpecialCharsMessage", "Invalid password: must contain at least 1 special characters."},
		{"specialChars: a space counts, as in Java", "specialChars(1)", "has space", "", ""},
		{"notUsername: equal ignoring case", "notUsername", "ALICE", "invalidPasswordNotUsernameMessage", "Invalid password: must not be equal to the username."},
		{"notUsername: containing is fine", "notUsername", "alice2", "", ""},
		{"notContainsUsername: containing is refused", "notContainsUsername", "myALICEpw", "invalidPasswordNotContainsUsernameMessage", "Invalid password: Can not contain the username."},
		{"notContainsUsername: other words pass", "notContainsUsername", "bob-pw", "", ""},
		{"notEmail: equal ignoring case", "notEmail", "ALICE@example.com", "invalidPasswordNotEmailMessage", "Invalid password: must not be equal to the email."},
		{"notEmail: different passes", "notEmail", "alice@example.org", "", ""},
		{"regexPattern must match the whole password", "regexPattern([a-z]+)", "abc1", "invalidPasswordRegexPatternMessage", "Invalid password: fails to match regex pattern(s)."},
		{"regexPattern: a match passes", "regexPattern([a-z]+[0-9])", "abc1", "", ""},
		{"regexPattern: every repetition applies", "regexPattern(.*[0-9].*) and regexPattern(.*[A-Z].*)", "abc1", "invalidPasswordRegexPatternMessage", "Invalid password: fails to match regex pattern(s)."},
		{"regexPattern that cannot compile refuses", "regexPattern((?=x))", "x", "invalidPasswordRegexPatternMessage", "Invalid password: fails to match regex pattern(s)."},
		{"terms are checked in order", "length(12) and digits(1)", "short", "invalidPasswordMinLengthMessage", "Invalid password: minimum length 12."},
		{"terms are checked in order, other order", "digits(1) and length(12)", "short", "invalidPasswordMinDigitsMessage", "Invalid password: must contain at least 1 numerical digits."},
		{"hashing and expiry terms do not constrain", "hashAlgorithm(pbkdf2-sha256) and hashIterations(27500) and forceExpiredPasswordChange(365) and maxAuthAge(300)", "x", "", ""},
		{"a full policy passes a good password", "length(8) and digits(1) and lowerCase(1) and upperCase(1) and specialChars(1) and notUsername and notEmail and notContainsUsername and maxLength(64)", "G00d-Passw0rd", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := CheckPolicy(tc.policy, tc.password, alice, nil)
			switch {
			case tc.key == "" && e != nil:
				t.Fatalf("refused: %s %s", e.Key, e.Message)
			case tc.key != "" && e == nil:
				t.Fatalf("passed, want %s", tc.key)
			case tc.key != "" && (e.Key != tc.key || e.Message != tc.message):
				t.Fatalf("got %s %q, want %s %q", e.Key, e.Message, tc.key, tc.message)
			}
		})
	}
}

func TestCheckPolicyParams(t *testing.T) {
	e := CheckPolicy("length(8)", "short", User{}, nil)
	if e == nil || len(e.Params) != 1 || e.Params[0] != "8" {
		t.Fatalf("params: %+v", e)
	}
	if e := CheckPolicy("notUsername", "bob", User{Username: "bob"}, nil); e == nil || len(e.Params) != 0 {
		t.Fatalf("notUsername params: %+v", e)
	}
}

// cheap hashes keep the history tests fast.
var cheap = HashPolicy{Algorithm: HashPBKDF2SHA256, Iterations: 1}

func cred(t *testing.T, typ, pw string, created int64) Credential {
	t.Helper()
	c, err := NewPasswordCredential("id-"+pw, "u", pw, created, cheap)
	if err != nil {
		t.Fatal(err)
	}
	c.Type = typ
	return c
}

func TestCheckPolicyHistory(t *testing.T) {
	u := User{Username: "alice"}
	creds := []Credential{
		cred(t, CredentialPassword, "current", 5000),
		cred(t, CredentialPasswordHistory, "old-1", 4000), // newest kept
		cred(t, CredentialPasswordHistory, "old-3", 2000),
		cred(t, CredentialPasswordHistory, "old-2", 3000),
	}
	for _, tc := range []struct {
		name, policy, password string
		refused                bool
	}{
		{"passwordHistory(3): the current password", "passwordHistory(3)", "current", true},
		{"passwordHistory(3): the newest old one", "passwordHistory(3)", "old-1", true},
		{"passwordHistory(3): the second newest old one", "passwordHistory(3)", "old-2", true},
		{"passwordHistory(3): the third old one is allowed again", "passwordHistory(3)", "old-3", false},
		{"passwordHistory(3): a new one", "passwordHistory(3)", "fresh", false},
		{"passwordHistory without a config is 3", "passwordHistory", "old-2", true},
		{"passwordHistory(1): only the current one", "passwordHistory(1)", "old-1", false},
		{"passwordHistory(0): still the current one, as in Keycloak", "passwordHistory(0)", "current", true},
		{"passwordHistory(-1): nothing", "passwordHistory(-1)", "current", false},
		{"passwordAge: the current one", "passwordAge(30)", "current", true},
		{"passwordAge: every kept one", "passwordAge(30)", "old-3", true},
		{"no history policy: the current one is fine", "length(1)", "current", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := CheckPolicy(tc.policy, tc.password, u, creds)
			if (e != nil) != tc.refused {
				t.Fatalf("refused = %v (%+v), want %v", e != nil, e, tc.refused)
			}
			if e != nil && strings.HasPrefix(tc.policy, "passwordHistory") && e.Key != "invalidPasswordHistoryMessage" {
				t.Fatalf("key %s", e.Key)
			}
			if e != nil && strings.HasPrefix(tc.policy, "passwordAge") && e.Key != "invalidPasswordGenericMessage" {
				t.Fatalf("key %s", e.Key)
			}
		})
	}
	e := CheckPolicy("passwordHistory(3)", "old-1", u, creds)
	if e.Message != "Invalid password: must not be equal to any of last 3 passwords." {
		t.Fatalf("message %q", e.Message)
	}
}

func TestValidatePolicyString(t *testing.T) {
	for _, tc := range []struct{ policy, err string }{
		{"", ""},
		{"length(8) and digits(1) and lowerCase(1) and upperCase(1) and specialChars(1) and notUsername and notEmail and notContainsUsername and maxLength(64) and regexPattern([a-z0-9]+) and passwordHistory(3) and forceExpiredPasswordChange(365) and hashAlgorithm(pbkdf2-sha256) and hashIterations(27500) and passwordAge(30) and maxAuthAge(300)", ""},
		{"length", ""},
		{"hashAlgorithm(argon2) and hashIterations(3)", ""},
		{"lenght(8)", "Password policy not found"},
		{"length(8) and bogus", "Password policy not found"},
		{"length(eight)", "Invalid config for length: Not a valid number"},
		{"passwordHistory(1.5)", "Invalid config for passwordHistory: Not a valid number"},
		{"regexPattern", "Invalid config for regexPattern: Config required"},
		{"regexPattern( )", "Invalid config for regexPattern: White space not acepted"},
		{"regexPattern([a-z)", "Invalid config for regexPattern: Not a valid regular expression"},
		{"regexPattern((?=.*[A-Z]).*)", "Invalid config for regexPattern: Not a valid regular expression"},
		{"hashAlgorithm", "Invalid config for hashAlgorithm: Password hashing provider id must be set"},
		{"hashAlgorithm(md5)", "Invalid config for hashAlgorithm: Password hashing provider not found"},
		{"hashAlgorithm(pbkdf2-sha256) and hashIterations(999999999)", "Invalid config for hashIterations: too many iterations for pbkdf2-sha256"},
		{"passwordBlacklist(rockyou.txt)", "Invalid config for passwordBlacklist: Password blacklist rockyou.txt not found!"},
	} {
		err := ValidatePolicyString(tc.policy)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.policy, err)
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("%q: got %v, want %q", tc.policy, err, tc.err)
		}
	}
}

func TestHistoryRetention(t *testing.T) {
	for _, tc := range []struct {
		policy string
		want   HistoryRetention
	}{
		{"", HistoryRetention{}},
		{"passwordHistory(3)", HistoryRetention{Count: 2}},
		{"passwordHistory", HistoryRetention{Count: 2}},
		{"passwordHistory(1)", HistoryRetention{}},
		{"passwordAge(10)", HistoryRetention{MaxAge: 240 * time.Hour}},
	} {
		if got := PolicyHistoryRetention(tc.policy); got != tc.want {
			t.Errorf("%q: %+v, want %+v", tc.policy, got, tc.want)
		}
	}
	r := HistoryRetention{Count: 1, MaxAge: time.Hour}
	now := int64(10 * time.Hour / time.Millisecond)
	if !r.Keep(0, 0, now) || r.Keep(1, 0, now) || !r.Keep(5, now-1000, now) {
		t.Fatal("Keep")
	}
}

func TestPasswordExpired(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	day := int64(24 * time.Hour / time.Millisecond)
	set := func(daysAgo int64) Credential { return Credential{CreatedDate: now.UnixMilli() - daysAgo*day} }
	for _, tc := range []struct {
		name, policy string
		c            Credential
		want         bool
	}{
		{"no policy never expires", "", set(1000), false},
		{"within the period", "forceExpiredPasswordChange(30)", set(29), false},
		{"past the period", "forceExpiredPasswordChange(30)", Credential{CreatedDate: set(30).CreatedDate - 1}, true},
		{"default is 365 days", "forceExpiredPasswordChange", set(366), true},
		{"no creation date has expired", "forceExpiredPasswordChange(30)", Credential{}, true},
	} {
		if got := PasswordExpired(tc.policy, tc.c, now); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}
