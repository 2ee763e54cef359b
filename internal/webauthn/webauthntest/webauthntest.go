// Package webauthntest is a software authenticator for tests: what a
// security key does on the client side (a COSE key, authenticator data,
// ECDSA P-256 signatures over them), so that the server's checks can be
// fed answers a browser would never produce (another origin, another
// relying party, a counter going backwards).
package webauthntest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// Key is one credential of a software authenticator.
type Key struct {
	priv *ecdsa.PrivateKey
	ID   []byte
	// Counter is the signature counter the next answer carries.
	Counter uint32
	aaguid  [16]byte
}

// NewKey makes a key with a fresh P-256 key pair and credential id.
func NewKey(t testing.TB) *Key {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	rand.Read(id)
	k := &Key{priv: priv, ID: id}
	copy(k.aaguid[:], []byte("gatehouse-test-k"))
	return k
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (k *Key) cose(t testing.TB) []byte {
	pub, err := k.priv.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	raw := pub.Bytes() // 0x04 | X | Y
	b, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: raw[1:33], -3: raw[33:65]})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// authData is the authenticator data for rpID: user present and
// verified, the counter, and (registering) the attested credential.
func (k *Key) authData(t testing.TB, rpID string, attested bool) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append([]byte{}, h[:]...)
	flags := byte(0x01 | 0x04)
	if attested {
		flags |= 0x40
	}
	out = append(out, flags)
	out = binary.BigEndian.AppendUint32(out, k.Counter)
	if attested {
		out = append(out, k.aaguid[:]...)
		out = binary.BigEndian.AppendUint16(out, uint16(len(k.ID)))
		out = append(out, k.ID...)
		out = append(out, k.cose(t)...)
	}
	return out
}

func challengeOf(t testing.TB, options string) string {
	t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal([]byte(options), &o); err != nil || o.PublicKey.Challenge == "" {
		t.Fatalf("options %s: %v", options, err)
	}
	return o.PublicKey.Challenge
}

func clientData(typ, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

// Create answers navigator.credentials.create for options, from origin,
// for relying party rpID.
func (k *Key) Create(t testing.TB, options, origin, rpID string) string {
	t.Helper()
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(t, rpID, true)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"id": b64(k.ID), "rawId": b64(k.ID), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64(clientData("webauthn.create", challengeOf(t, options), origin)),
			"attestationObject": b64(att), "transports": []string{"usb"}}})
	return string(b)
}

// Get answers navigator.credentials.get for options, with the key's
// current counter.
func (k *Key) Get(t testing.TB, options, origin, rpID string, userHandle []byte) string {
	t.Helper()
	ad := k.authData(t, rpID, false)
	cd := clientData("webauthn.get", challengeOf(t, options), origin)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	resp := map[string]any{"clientDataJSON": b64(cd), "authenticatorData": b64(ad), "signature": b64(sig)}
	if userHandle != nil {
		resp["userHandle"] = b64(userHandle)
	}
	b, _ := json.Marshal(map[string]any{"id": b64(k.ID), "rawId": b64(k.ID), "type": "public-key", "response": resp})
	return string(b)
}
