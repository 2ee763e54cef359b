// Package device owns the rules of the device authorization grant (RFC
// 8628) that the device authorization endpoint, the verification page and
// the token endpoint share: whether a client may use it, how long a code
// lives and how often it may be polled, and the shape of user codes.
package device

import (
	"crypto/rand"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// Client attributes, as Keycloak names them.
const (
	AttrEnabled  = "oauth2.device.authorization.grant.enabled"
	attrLifespan = "oauth2.device.code.lifespan"
	attrInterval = "oauth2.device.polling.interval"
)

// GrantType is the token endpoint's grant_type for a device code.
const GrantType = "urn:ietf:params:oauth:grant-type:device_code"

// Enabled reports whether the client's device grant switch is on (it is
// off unless the attribute is exactly "true").
func Enabled(c client.Client) bool { return c.Attributes[AttrEnabled] == "true" }

// Lifespan is how long a device code lives, in seconds: the client's own
// setting when positive, else the realm's (default 600).
func Lifespan(rl realm.Realm, c client.Client) int64 {
	return setting(c, attrLifespan, rl.OAuth2DeviceCodeLifespan, 600)
}

// Interval is the minimum time between two polls, in seconds: the client's
// own setting when positive, else the realm's (default 5).
func Interval(rl realm.Realm, c client.Client) int64 {
	return setting(c, attrInterval, rl.OAuth2DevicePollingInterval, 5)
}

func setting(c client.Client, attr string, realmValue, def int) int64 {
	if n, err := strconv.Atoi(c.Attributes[attr]); err == nil && n > 0 {
		return int64(n)
	}
	if realmValue > 0 {
		return int64(realmValue)
	}
	return int64(def)
}

// userCodeLen is the number of letters of a user code: 26^8 (about 2e11)
// codes, each valid for minutes and tried only by a user at a login page.
const userCodeLen = 8

// NewUserCode returns a random user code of upper-case letters, stored
// and compared in this form (Normalize).
func NewUserCode() string {
	var out [userCodeLen]byte
	var b [1]byte
	for i := 0; i < userCodeLen; {
		rand.Read(b[:]) // never fails: crypto/rand crashes the program instead
		// 234 = 9*26: rejecting the rest keeps every letter equally likely.
		if b[0] < 234 {
			out[i] = 'A' + b[0]%26
			i++
		}
	}
	return string(out[:])
}

// Display is how a user code is shown: "WDJB-MJHT".
func Display(code string) string {
	if len(code) != userCodeLen {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// Normalize turns what a user typed into the stored form: dashes and
// spaces dropped, upper case.
func Normalize(typed string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(typed)))
}
