package login

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// maxUsername bounds the login name; stored usernames are at most 255 bytes.
const maxUsername = 255

// checkCredentials is the login form's password check, the same rules as
// the token endpoint's password grant: a username, or an email where the
// realm allows it; service accounts never log in; the stored hash is
// upgraded to the realm's policy after a success; brute-force detection
// counts failures and refuses locked users. Unknown, disabled, locked and
// wrong-password users all come back as false, at the cost of one hash, so
// the page says the same thing for each. Malformed input is refused before
// anything is looked up or hashed.
func (h *Handler) checkCredentials(ctx context.Context, rl realm.Realm, username, password, ip string) (user.User, bool, error) {
	username = strings.TrimSpace(username)
	if username == "" || len(username) > maxUsername || !utf8.ValidString(username) || strings.ContainsRune(username, 0) ||
		password == "" || len(password) > user.MaxPasswordLength || !utf8.ValidString(password) {
		return user.User{}, false, nil
	}
	u, outcome, err := authn.Checker{Store: h.Store, Log: h.Log, Hashes: h.Hashes}.Login(ctx, rl, username, password, ip, h.Now())
	if err != nil || outcome != authn.OK {
		return user.User{}, false, err
	}
	return u, true, nil
}

// policyViolation checks a new password against the parts of the realm's
// password policy the update-password form enforces (length, maxLength,
// digits, lowerCase, upperCase, specialChars, notUsername, notEmail) and
// returns the message key and argument of the first one it breaks.
func policyViolation(policy string, u user.User, password string) (key, arg string) {
	for _, term := range strings.Split(policy, " and ") {
		name, param, _ := strings.Cut(strings.TrimSpace(term), "(")
		param = strings.TrimSuffix(param, ")")
		n, err := strconv.Atoi(param)
		if err != nil {
			n = 1
		}
		count := func(f func(rune) bool) int {
			k := 0
			for _, r := range password {
				if f(r) {
					k++
				}
			}
			return k
		}
		switch name {
		case "length":
			if utf8.RuneCountInString(password) < n {
				return "invalidPasswordMinLengthMessage", strconv.Itoa(n)
			}
		case "maxLength":
			if utf8.RuneCountInString(password) > n {
				return "invalidPasswordMaxLengthMessage", strconv.Itoa(n)
			}
		case "digits":
			if count(unicode.IsDigit) < n {
				return "invalidPasswordMinDigitsMessage", strconv.Itoa(n)
			}
		case "lowerCase":
			if count(unicode.IsLower) < n {
				return "invalidPasswordMinLowerCaseCharsMessage", strconv.Itoa(n)
			}
		case "upperCase":
			if count(unicode.IsUpper) < n {
				return "invalidPasswordMinUpperCaseCharsMessage", strconv.Itoa(n)
			}
		case "specialChars":
			if count(func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsSpace(r) }) < n {
				return "invalidPasswordMinSpecialCharsMessage", strconv.Itoa(n)
			}
		case "notUsername":
			if strings.EqualFold(password, u.Username) {
				return "invalidPasswordNotUsernameMessage", ""
			}
		case "notEmail":
			if u.Email != "" && strings.EqualFold(password, u.Email) {
				return "invalidPasswordNotEmailMessage", ""
			}
		}
	}
	if len(password) > user.MaxPasswordLength {
		return "invalidPasswordMaxLengthMessage", fmt.Sprint(user.MaxPasswordLength)
	}
	return "", ""
}

// minLength is the policy's length(n), 0 when there is none.
func minLength(policy string) int {
	for _, term := range strings.Split(policy, " and ") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(term), "length("); ok {
			if n, err := strconv.Atoi(strings.TrimSuffix(v, ")")); err == nil {
				return n
			}
		}
	}
	return 0
}
