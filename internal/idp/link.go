package idp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// LinkHash is the hash that binds a client-initiated account link request
// (/broker/{alias}/link?nonce=…&hash=…) to the user session that asked for
// it: the unpadded base64url SHA-256 of nonce, the user session id, the
// client_id and the provider alias, concatenated. Keycloak's clients compute
// it the same way, so a link URL built by one is accepted by the other.
//
// The session id never leaves the server in the URL: a link request can
// only be completed by the browser whose session made the hash, so a link
// URL stolen or planted in another browser does nothing.
func LinkHash(nonce, userSessionID, clientID, alias string) string {
	sum := sha256.Sum256([]byte(nonce + userSessionID + clientID + alias))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// LinkHashValid reports, in constant time, whether hash is the LinkHash of
// the other values.
func LinkHashValid(hash, nonce, userSessionID, clientID, alias string) bool {
	want := LinkHash(nonce, userSessionID, clientID, alias)
	return subtle.ConstantTimeCompare([]byte(hash), []byte(want)) == 1
}
