package keys

import (
	"crypto/rand"
	"fmt"
)

// newID returns a random RFC 4122 version 4 UUID in its 36-character text
// form, the shape Keycloak uses for component ids and HMAC kids
// (KeycloakModelUtils.generateId).
func newID() string {
	var b [16]byte
	rand.Read(b[:])         // never fails: crypto/rand crashes the program instead
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant 10 (RFC 4122)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
