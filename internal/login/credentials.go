package login

import (
	"context"
	"strings"
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
