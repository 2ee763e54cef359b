package webauthn_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/webauthn"
)

const origin = "https://login.example.com"

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// key is a software authenticator's credential: what a security key does
// on the client side (RFC 8152 COSE key, WebAuthn authenticator data,
// ECDSA P-256 signatures), so that the server's checks can be fed answers
// a browser would never produce.
type key struct {
	priv    *ecdsa.PrivateKey
	id      []byte
	counter uint32
	aaguid  [16]byte
}

func newKey(t *testing.T) *key {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	rand.Read(id)
	k := &key{priv: priv, id: id}
	copy(k.aaguid[:], []byte("gatehouse-test-k"))
	return k
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (k *key) cose(t *testing.T) []byte {
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
func (k *key) authData(t *testing.T, rpID string, attested bool) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append([]byte{}, h[:]...)
	flags := byte(0x01 | 0x04)
	if attested {
		flags |= 0x40
	}
	out = append(out, flags)
	out = binary.BigEndian.AppendUint32(out, k.counter)
	if attested {
		out = append(out, k.aaguid[:]...)
		out = binary.BigEndian.AppendUint16(out, uint16(len(k.id)))
		out = append(out, k.id...)
		out = append(out, k.cose(t)...)
	}
	return out
}

func challengeOf(t *testing.T, options string) string {
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

// create answers navigator.credentials.create for options, from origin,
// for relying party rpID.
func (k *key) create(t *testing.T, options, origin, rpID string) string {
	t.Helper()
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(t, rpID, true)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"id": b64(k.id), "rawId": b64(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64(clientData("webauthn.create", challengeOf(t, options), origin)),
			"attestationObject": b64(att), "transports": []string{"usb"}}})
	return string(b)
}

// get answers navigator.credentials.get for options, with the key's
// current counter.
func (k *key) get(t *testing.T, options, origin, rpID string, userHandle []byte) string {
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
	b, _ := json.Marshal(map[string]any{"id": b64(k.id), "rawId": b64(k.id), "type": "public-key", "response": resp})
	return string(b)
}

type fixture struct {
	db *store.DB
	rl realm.Realm
	u  user.User
}

func setup(t *testing.T, db *store.DB) fixture {
	t.Helper()
	rl := realm.New(store.NewID(), "wa-"+strings.ToLower(rand.Text()[:8]))
	if err := db.CreateRealm(t.Context(), rl); err != nil {
		t.Fatal(err)
	}
	u := user.User{ID: store.NewID(), RealmID: rl.ID, Username: "alice", Enabled: true}
	if err := db.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return fixture{db, rl, u}
}

func (f fixture) register(t *testing.T, k *key, typ string) user.Credential {
	t.Helper()
	cer, err := webauthn.BeginRegistration(t.Context(), f.db, f.rl, typ, origin, f.u)
	if err != nil {
		t.Fatal(err)
	}
	c, err := webauthn.FinishRegistration(t.Context(), f.db, f.rl, typ, origin, f.u, cer.State, k.create(t, cer.Options, origin, "login.example.com"), "Key", t0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f fixture) credentials(t *testing.T) []user.Credential {
	t.Helper()
	cs, err := f.db.ListCredentials(t.Context(), f.u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func refused(t *testing.T, what string, err error, key string) {
	t.Helper()
	var we *webauthn.Error
	if !errors.As(err, &we) || we.Key != key {
		t.Errorf("%s: %v, want refusal %s", what, err, key)
	}
}

// A registration is stored in Keycloak's layout; a registration answered
// from another origin or for another relying party is refused and stores
// nothing.
func TestRegistration(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		f := setup(t, open(t))
		k := newKey(t)
		for _, bad := range []struct{ what, origin, rpID string }{
			{"wrong origin", "https://evil.example.com", "login.example.com"},
			{"wrong relying party", origin, "evil.example.com"},
		} {
			cer, err := webauthn.BeginRegistration(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, f.u)
			if err != nil {
				t.Fatal(err)
			}
			_, err = webauthn.FinishRegistration(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, f.u, cer.State,
				k.create(t, cer.Options, bad.origin, bad.rpID), "", t0)
			refused(t, bad.what, err, "webauthn-error-registration")
		}
		if cs := f.credentials(t); len(cs) != 0 {
			t.Fatalf("a refused registration stored %+v", cs)
		}
		c := f.register(t, k, webauthn.TypeTwoFactor)
		var cd webauthn.CredentialData
		if err := json.Unmarshal([]byte(c.CredentialData), &cd); err != nil {
			t.Fatal(err)
		}
		if c.Type != "webauthn" || c.SecretData != "{}" || c.UserLabel != "Key" || c.CreatedDate != t0.UnixMilli() ||
			cd.CredentialID != base64.StdEncoding.EncodeToString(k.id) || cd.AAGUID != "67617465-686f-7573-652d-746573742d6b" ||
			cd.AttestationStatementFormat != "none" || cd.CredentialPublicKey == "" || len(cd.Transports) != 1 {
			t.Errorf("stored credential %+v data %+v", c, cd)
		}
		// The same authenticator twice is refused.
		cer, _ := webauthn.BeginRegistration(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, f.u)
		_, err := webauthn.FinishRegistration(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, f.u, cer.State, k.create(t, cer.Options, origin, "login.example.com"), "", t0)
		refused(t, "same key again", err, "webauthn-error-registration")
		if cs := f.credentials(t); len(cs) != 1 {
			t.Errorf("%d credentials after a duplicate", len(cs))
		}
	})
}

// An assertion passes once with a counter that moves forward; a replayed
// one, one from another origin or relying party, one of an unknown
// credential and one whose counter went backwards are refused and change
// nothing.
func TestLoginRefusals(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		f := setup(t, open(t))
		k := newKey(t)
		f.register(t, k, webauthn.TypeTwoFactor)
		login := func(k *key, originSent, rpID string) error {
			t.Helper()
			cer, err := webauthn.BeginLogin(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, &f.u)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = webauthn.FinishLogin(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, &f.u, cer.State, k.get(t, cer.Options, originSent, rpID, nil))
			return err
		}
		k.counter = 5
		if err := login(k, origin, "login.example.com"); err != nil {
			t.Fatalf("a good assertion: %v", err)
		}
		stored := f.credentials(t)[0].CredentialData
		if !strings.Contains(stored, `"counter":5`) {
			t.Errorf("counter not advanced: %s", stored)
		}
		// Replay: the same challenge and answer again.
		cer, _ := webauthn.BeginLogin(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, &f.u)
		k.counter = 6
		resp := k.get(t, cer.Options, origin, "login.example.com", nil)
		if _, _, err := webauthn.FinishLogin(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, &f.u, cer.State, resp); err != nil {
			t.Fatal(err)
		}
		_, _, err := webauthn.FinishLogin(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, &f.u, cer.State, resp)
		refused(t, "replayed assertion", err, "webauthn-error-auth-verification")
		stored = f.credentials(t)[0].CredentialData

		k.counter = 7
		err = login(k, "https://evil.example.com", "login.example.com")
		refused(t, "wrong origin", err, "webauthn-error-auth-verification")
		err = login(k, origin, "evil.example.com")
		refused(t, "wrong relying party", err, "webauthn-error-auth-verification")
		k.counter = 2
		err = login(k, origin, "login.example.com")
		refused(t, "counter backwards", err, "webauthn-error-auth-verification")
		other := newKey(t)
		other.counter = 9
		err = login(other, origin, "login.example.com")
		refused(t, "unknown credential", err, "webauthn-error-auth-verification")
		_, _, err = webauthn.FinishLogin(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, &f.u, "", resp)
		refused(t, "no ceremony", err, "webauthn-error-auth-verification")
		if after := f.credentials(t)[0].CredentialData; after != stored {
			t.Errorf("refused assertions changed the credential: %s, was %s", after, stored)
		}
	})
}

// A passkey login names the user by the assertion's user handle; a handle
// naming nobody is refused.
func TestPasskeyLoginFindsTheUser(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		f := setup(t, open(t))
		k := newKey(t)
		f.register(t, k, webauthn.TypePasswordless)
		cer, err := webauthn.BeginLogin(t.Context(), f.db, f.rl, webauthn.TypePasswordless, origin, nil)
		if err != nil {
			t.Fatal(err)
		}
		k.counter = 1
		u, c, err := webauthn.FinishLogin(t.Context(), f.db, f.rl, webauthn.TypePasswordless, origin, nil, cer.State,
			k.get(t, cer.Options, origin, "login.example.com", []byte(f.u.ID)))
		if err != nil || u.ID != f.u.ID || c.Type != "webauthn-passwordless" {
			t.Fatalf("passkey login: %v %s %s", err, u.ID, c.Type)
		}
		cer, _ = webauthn.BeginLogin(t.Context(), f.db, f.rl, webauthn.TypePasswordless, origin, nil)
		k.counter = 2
		_, _, err = webauthn.FinishLogin(t.Context(), f.db, f.rl, webauthn.TypePasswordless, origin, nil, cer.State,
			k.get(t, cer.Options, origin, "login.example.com", []byte("nobody")))
		refused(t, "unknown user handle", err, "webauthn-error-user-not-found")
	})
}
