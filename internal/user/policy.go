package user

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
)

// A realm's password policy is Keycloak's policy string: terms joined by
// " and ", each an id with an optional (config), such as
// "length(8) and digits(1) and notUsername and passwordHistory(3)".
// New realms have none. A policy applies to new passwords only; the terms
// that concern hashing (hashAlgorithm, hashIterations) are read by
// ParseHashPolicy, and forceExpiredPasswordChange by PasswordExpired.

// CredentialPasswordHistory is the type of a replaced password kept so that
// passwordHistory and passwordAge can refuse its reuse (Keycloak's
// PasswordCredentialModel.PASSWORD_HISTORY).
const CredentialPasswordHistory = "password-history"

// PolicyError is a new password the policy refuses, in Keycloak's terms.
type PolicyError struct {
	// Key is Keycloak's message key, e.g. "invalidPasswordMinLengthMessage".
	Key string
	// Message is the English message with its parameters filled in, e.g.
	// "Invalid password: minimum length 8.".
	Message string
	// Params are the message's parameters ({0}...) for a translated page.
	Params []string
	// Cause is what refused the password when it was not the realm's
	// policy (a user storage provider), for errors.Is and errors.As.
	Cause error
}

func (e *PolicyError) Error() string { return e.Message }
func (e *PolicyError) Unwrap() error { return e.Cause }

// PolicyConfigError is a policy string Keycloak would refuse to store. Its
// message is Keycloak's, meant for the admin API's errorMessage.
type PolicyConfigError struct{ Message string }

func (e *PolicyConfigError) Error() string { return e.Message }

// policyTerm is one id(config) of a policy string.
type policyTerm struct {
	id     string
	config string
	hasArg bool
}

// parsePolicy splits a policy string as Keycloak's PasswordPolicy.Builder
// does: on " and ", the id up to "(", the config between it and the last
// character. Keycloak keeps one config per id (the last); every
// occurrence is kept here, so a repeated regexPattern must match each time.
func parsePolicy(s string) []policyTerm {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var terms []policyTerm
	for part := range strings.SplitSeq(s, " and ") {
		part = strings.TrimSpace(part)
		i := strings.IndexByte(part, '(')
		if i < 0 {
			terms = append(terms, policyTerm{id: part})
			continue
		}
		t := policyTerm{id: strings.TrimSpace(part[:i]), hasArg: true}
		if len(part)-1 > i {
			t.config = part[i+1 : len(part)-1]
		}
		terms = append(terms, t)
	}
	return terms
}

// policyInt is parseInteger of Keycloak's PasswordPolicyProvider: no
// config means the default; a config that is not a whole number is an error.
func (t policyTerm) policyInt(def int) (int, error) {
	if !t.hasArg {
		return def, nil
	}
	n, err := strconv.Atoi(t.config)
	if err != nil {
		return 0, &PolicyConfigError{"Invalid config for " + t.id + ": Not a valid number"}
	}
	return n, nil
}

// intOr reads a number from a stored policy, falling back to the default
// for a config that ValidatePolicyString would have refused.
func (t policyTerm) intOr(def int) int {
	n, err := t.policyInt(def)
	if err != nil {
		return def
	}
	return n
}

// Keycloak's default for each numeric policy added without a config.
var policyIntDefaults = map[string]int{
	"length":                        8,
	"maxLength":                     64,
	"digits":                        1,
	"lowerCase":                     1,
	"upperCase":                     1,
	"specialChars":                  1,
	"passwordHistory":               3,
	"passwordAge":                   365,
	"forceExpiredPasswordChange":    365,
	"hashIterations":                -1,
	"maxAuthAge":                    300,
	"recoveryCodesWarningThreshold": 4,
}

// ValidatePolicyString checks a policy string as Keycloak does before it
// stores one: every id must be a known policy ("Password policy not
// found"), numbers must be whole ("Invalid config for length: Not a valid
// number"), hashAlgorithm must name an algorithm Gatehouse hashes with, and
// regexPattern must compile. An empty string is no policy.
//
// Two refusals are Gatehouse's own: regexPattern takes RE2 syntax, so a Java
// pattern with look-around or back-references is refused rather than
// silently never matched, and passwordBlacklist is refused because no
// blacklist files exist here, which is Keycloak's answer for a missing file.
func ValidatePolicyString(s string) error {
	hash := HashPolicy{}
	for _, t := range parsePolicy(s) {
		if def, ok := policyIntDefaults[t.id]; ok {
			n, err := t.policyInt(def)
			if err != nil {
				return err
			}
			if t.id == "hashIterations" {
				hash.Iterations = n
			}
			continue
		}
		switch t.id {
		case "notUsername", "notEmail", "notContainsUsername":
		case "hashAlgorithm":
			if !t.hasArg {
				return &PolicyConfigError{"Invalid config for hashAlgorithm: Password hashing provider id must be set"}
			}
			if _, err := (HashPolicy{Algorithm: t.config}).params(); err != nil {
				return &PolicyConfigError{"Invalid config for hashAlgorithm: Password hashing provider not found"}
			}
			hash.Algorithm = t.config
		case "regexPattern":
			switch {
			case !t.hasArg:
				return &PolicyConfigError{"Invalid config for regexPattern: Config required"}
			case strings.TrimSpace(t.config) == "":
				// Keycloak's spelling.
				return &PolicyConfigError{"Invalid config for regexPattern: White space not acepted"}
			}
			if _, err := compilePolicyRegex(t.config); err != nil {
				return &PolicyConfigError{"Invalid config for regexPattern: Not a valid regular expression"}
			}
		case "passwordBlacklist":
			return &PolicyConfigError{"Invalid config for passwordBlacklist: Password blacklist " + strings.TrimSpace(t.config) + " not found!"}
		default:
			return &PolicyConfigError{"Password policy not found"}
		}
	}
	if hash.Iterations > 0 {
		if _, err := hash.params(); err != nil {
			return &PolicyConfigError{"Invalid config for hashIterations: too many iterations for " + cmp.Or(hash.Algorithm, HashArgon2)}
		}
	}
	return nil
}

// compilePolicyRegex compiles a regexPattern so that it must match the whole
// password, as Java's Matcher.matches() does.
func compilePolicyRegex(pattern string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + pattern + `)$`)
}

func policyError(key, format string, params ...any) *PolicyError {
	e := &PolicyError{Key: key, Message: fmt.Sprintf(format, params...)}
	for _, p := range params {
		e.Params = append(e.Params, fmt.Sprint(p))
	}
	return e
}

// Keycloak's messages for refused passwords (messages_en.properties).
const (
	msgMinLength           = "Invalid password: minimum length %d."
	msgMaxLength           = "Invalid password: maximum length %d."
	msgMinDigits           = "Invalid password: must contain at least %d numerical digits."
	msgMinLowerCase        = "Invalid password: must contain at least %d lower case characters."
	msgMinUpperCase        = "Invalid password: must contain at least %d upper case characters."
	msgMinSpecialChars     = "Invalid password: must contain at least %d special characters."
	msgNotUsername         = "Invalid password: must not be equal to the username."
	msgNotContainsUsername = "Invalid password: Can not contain the username."
	msgNotEmail            = "Invalid password: must not be equal to the email."
	msgRegexPattern        = "Invalid password: fails to match regex pattern(s)."
	msgHistory             = "Invalid password: must not be equal to any of last %d passwords."
	msgGeneric             = "Invalid password: new password does not match password policies."
)

// CheckPolicy applies a realm's password policy to a new password for u,
// term by term in the policy's order, and returns the first refusal, or nil.
// history is the user's stored credentials: the current password and the
// kept "password-history" ones, which passwordHistory(n) (the current
// password and the n-1 newest kept ones) and passwordAge (the current
// password and every kept one) refuse to reuse. Terms that do not constrain
// the password (hashAlgorithm, hashIterations, forceExpiredPasswordChange,
// maxAuthAge) pass, and so does passwordBlacklist, which
// ValidatePolicyString refuses to store.
//
// Lengths count UTF-16 code units, as Java's String.length() does, so a
// password Keycloak accepts is accepted here. A password longer than
// MaxPasswordLength bytes is refused whatever the policy: it would never
// be hashed.
func CheckPolicy(policy string, password string, u User, history []Credential) *PolicyError {
	if len(password) > MaxPasswordLength {
		return policyError("invalidPasswordMaxLengthMessage", msgMaxLength, MaxPasswordLength)
	}
	count := func(pred func(rune) bool) int {
		n := 0
		for _, r := range password {
			if pred(r) {
				n++
			}
		}
		return n
	}
	for _, t := range parsePolicy(policy) {
		switch t.id {
		case "length":
			if n := t.intOr(8); javaLength(password) < n {
				return policyError("invalidPasswordMinLengthMessage", msgMinLength, n)
			}
		case "maxLength":
			if n := t.intOr(64); javaLength(password) > n {
				return policyError("invalidPasswordMaxLengthMessage", msgMaxLength, n)
			}
		case "digits":
			if n := t.intOr(1); count(unicode.IsDigit) < n {
				return policyError("invalidPasswordMinDigitsMessage", msgMinDigits, n)
			}
		case "lowerCase":
			if n := t.intOr(1); count(unicode.IsLower) < n {
				return policyError("invalidPasswordMinLowerCaseCharsMessage", msgMinLowerCase, n)
			}
		case "upperCase":
			if n := t.intOr(1); count(unicode.IsUpper) < n {
				return policyError("invalidPasswordMinUpperCaseCharsMessage", msgMinUpperCase, n)
			}
		case "specialChars":
			// Character.isLetterOrDigit: a space is special too.
			special := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
			if n := t.intOr(1); count(special) < n {
				return policyError("invalidPasswordMinSpecialCharsMessage", msgMinSpecialChars, n)
			}
		case "notUsername":
			if u.Username != "" && strings.EqualFold(password, u.Username) {
				return policyError("invalidPasswordNotUsernameMessage", msgNotUsername)
			}
		case "notContainsUsername":
			if u.Username != "" && strings.Contains(strings.ToLower(password), strings.ToLower(u.Username)) {
				return policyError("invalidPasswordNotContainsUsernameMessage", msgNotContainsUsername)
			}
		case "notEmail":
			if u.Email != "" && strings.EqualFold(password, u.Email) {
				return policyError("invalidPasswordNotEmailMessage", msgNotEmail)
			}
		case "regexPattern":
			// A pattern that does not compile refuses every password: the
			// policy asked for a rule that cannot be checked.
			re, err := compilePolicyRegex(t.config)
			if err != nil || !re.MatchString(password) {
				return policyError("invalidPasswordRegexPatternMessage", msgRegexPattern)
			}
		case "passwordHistory":
			n := t.intOr(3)
			if n == -1 {
				continue
			}
			if reused(password, history, max(n-1, 0)) {
				return policyError("invalidPasswordHistoryMessage", msgHistory, n)
			}
		case "passwordAge":
			days := t.intOr(365)
			if days == -1 {
				continue
			}
			keep := 0
			if days > 0 {
				keep = len(history)
			}
			if reused(password, history, keep) {
				e := policyError("invalidPasswordGenericMessage", msgGeneric)
				e.Params = []string{strconv.Itoa(days)}
				return e
			}
		}
	}
	return nil
}

// reused reports whether password is the current password or one of the
// newest kept old ones.
func reused(password string, creds []Credential, kept int) bool {
	var old []Credential
	for _, c := range creds {
		switch c.Type {
		case CredentialPassword:
			if ok, _ := VerifyPassword(password, c); ok {
				return true
			}
		case CredentialPasswordHistory:
			old = append(old, c)
		}
	}
	slices.SortStableFunc(old, func(a, b Credential) int { return cmp.Compare(b.CreatedDate, a.CreatedDate) })
	for _, c := range old[:min(kept, len(old))] {
		if ok, _ := VerifyPassword(password, c); ok {
			return true
		}
	}
	return false
}

// javaLength is Java's String.length(): UTF-16 code units.
func javaLength(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

// HistoryRetention is how many replaced passwords a policy keeps as
// "password-history" credentials, and for how long (Keycloak's
// PasswordCredentialProvider.createCredential).
type HistoryRetention struct {
	// Count keeps the newest Count old passwords: passwordHistory(n) keeps
	// n-1, as the current password is the n-th.
	Count int
	// MaxAge also keeps those replaced more recently than this:
	// passwordAge(days).
	MaxAge time.Duration
}

// Any reports whether replaced passwords are kept at all.
func (r HistoryRetention) Any() bool { return r.Count > 0 || r.MaxAge > 0 }

// Keep reports whether the i-th newest kept password (0 = newest), created
// at createdMs, stays when a password is replaced at nowMs.
func (r HistoryRetention) Keep(i int, createdMs, nowMs int64) bool {
	return i < r.Count || r.MaxAge > 0 && createdMs >= nowMs-r.MaxAge.Milliseconds()
}

// PolicyHistoryRetention reads passwordHistory and passwordAge from a policy.
func PolicyHistoryRetention(policy string) HistoryRetention {
	var r HistoryRetention
	for _, t := range parsePolicy(policy) {
		switch t.id {
		case "passwordHistory":
			r.Count = max(t.intOr(3)-1, 0)
		case "passwordAge":
			r.MaxAge = time.Duration(max(t.intOr(365), 0)) * 24 * time.Hour
		}
	}
	return r
}

// PolicyMinLength is the policy's length(n), for the hint beside a new
// password field; 0 when the policy has no length term.
func PolicyMinLength(policy string) int {
	n := 0
	for _, t := range parsePolicy(policy) {
		if t.id == "length" {
			n = t.intOr(policyIntDefaults["length"])
		}
	}
	return n
}

// PasswordExpired reports whether the policy's forceExpiredPasswordChange
// (days) has run out for a password set at c.CreatedDate, so that the user
// must choose a new one (Keycloak's UpdatePassword.evaluateTriggers). A
// password without a creation date has expired.
func PasswordExpired(policy string, c Credential, now time.Time) bool {
	days := -1
	for _, t := range parsePolicy(policy) {
		if t.id == "forceExpiredPasswordChange" {
			days = t.intOr(365)
		}
	}
	if days < 0 {
		return false
	}
	if c.CreatedDate == 0 {
		return true
	}
	return now.UnixMilli()-c.CreatedDate > int64(days)*24*time.Hour.Milliseconds()
}

// PolicyMaxAuthAge is the policy's maxAuthAge(seconds): how recent a login
// must be for an application-initiated password update; -1 when the policy
// has no such term.
func PolicyMaxAuthAge(policy string) int {
	n := -1
	for _, t := range parsePolicy(policy) {
		if t.id == "maxAuthAge" {
			n = t.intOr(policyIntDefaults["maxAuthAge"])
		}
	}
	return n
}
