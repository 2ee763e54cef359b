package webauthn_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/webauthn"
	"github.com/gatehouse-iam/gatehouse/internal/webauthn/webauthntest"
)

const origin = "https://login.example.com"

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

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

func (f fixture) register(t *testing.T, k *webauthntest.Key, typ string) user.Credential {
	t.Helper()
	cer, err := webauthn.BeginRegistration(t.Context(), f.db, f.rl, typ, origin, f.u)
	if err != nil {
		t.Fatal(err)
	}
	c, err := webauthn.FinishRegistration(t.Context(), f.db, f.rl, typ, origin, f.u, cer.State, k.Create(t, cer.Options, origin, "login.example.com"), "Key", t0)
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
		k := webauthntest.NewKey(t)
		for _, bad := range []struct{ what, origin, rpID string }{
			{"wrong origin", "https://evil.example.com", "login.example.com"},
			{"wrong relying party", origin, "evil.example.com"},
		} {
			cer, err := webauthn.BeginRegistration(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, f.u)
			if err != nil {
				t.Fatal(err)
			}
			_, err = webauthn.FinishRegistration(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, f.u, cer.State,
				k.Create(t, cer.Options, bad.origin, bad.rpID), "", t0)
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
			cd.CredentialID != base64.StdEncoding.EncodeToString(k.ID) || cd.AAGUID != "67617465-686f-7573-652d-746573742d6b" ||
			cd.AttestationStatementFormat != "none" || cd.CredentialPublicKey == "" || len(cd.Transports) != 1 {
			t.Errorf("stored credential %+v data %+v", c, cd)
		}
		// The same authenticator twice is refused.
		cer, _ := webauthn.BeginRegistration(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, f.u)
		_, err := webauthn.FinishRegistration(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, f.u, cer.State, k.Create(t, cer.Options, origin, "login.example.com"), "", t0)
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
		k := webauthntest.NewKey(t)
		f.register(t, k, webauthn.TypeTwoFactor)
		login := func(k *webauthntest.Key, originSent, rpID string) error {
			t.Helper()
			cer, err := webauthn.BeginLogin(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, &f.u)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = webauthn.FinishLogin(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, &f.u, cer.State, k.Get(t, cer.Options, originSent, rpID, nil), time.Now())
			return err
		}
		k.Counter = 5
		if err := login(k, origin, "login.example.com"); err != nil {
			t.Fatalf("a good assertion: %v", err)
		}
		stored := f.credentials(t)[0].CredentialData
		if !strings.Contains(stored, `"counter":5`) {
			t.Errorf("counter not advanced: %s", stored)
		}
		// Replay: the same challenge and answer again.
		cer, _ := webauthn.BeginLogin(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, &f.u)
		k.Counter = 6
		resp := k.Get(t, cer.Options, origin, "login.example.com", nil)
		if _, _, err := webauthn.FinishLogin(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, &f.u, cer.State, resp, time.Now()); err != nil {
			t.Fatal(err)
		}
		_, _, err := webauthn.FinishLogin(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, &f.u, cer.State, resp, time.Now())
		refused(t, "replayed assertion", err, "webauthn-error-auth-verification")
		stored = f.credentials(t)[0].CredentialData

		k.Counter = 7
		err = login(k, "https://evil.example.com", "login.example.com")
		refused(t, "wrong origin", err, "webauthn-error-auth-verification")
		err = login(k, origin, "evil.example.com")
		refused(t, "wrong relying party", err, "webauthn-error-auth-verification")
		k.Counter = 2
		err = login(k, origin, "login.example.com")
		refused(t, "counter backwards", err, "webauthn-error-auth-verification")
		other := webauthntest.NewKey(t)
		other.Counter = 9
		err = login(other, origin, "login.example.com")
		refused(t, "unknown credential", err, "webauthn-error-auth-verification")
		_, _, err = webauthn.FinishLogin(t.Context(), f.db, f.rl, webauthn.TypeTwoFactor, origin, &f.u, "", resp, time.Now())
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
		k := webauthntest.NewKey(t)
		f.register(t, k, webauthn.TypePasswordless)
		cer, err := webauthn.BeginLogin(t.Context(), f.db, f.rl, webauthn.TypePasswordless, origin, nil)
		if err != nil {
			t.Fatal(err)
		}
		k.Counter = 1
		u, c, err := webauthn.FinishLogin(t.Context(), f.db, f.rl, webauthn.TypePasswordless, origin, nil, cer.State,
			k.Get(t, cer.Options, origin, "login.example.com", []byte(f.u.ID)), time.Now())
		if err != nil || u.ID != f.u.ID || c.Type != "webauthn-passwordless" {
			t.Fatalf("passkey login: %v %s %s", err, u.ID, c.Type)
		}
		cer, _ = webauthn.BeginLogin(t.Context(), f.db, f.rl, webauthn.TypePasswordless, origin, nil)
		k.Counter = 2
		_, _, err = webauthn.FinishLogin(t.Context(), f.db, f.rl, webauthn.TypePasswordless, origin, nil, cer.State,
			k.Get(t, cer.Options, origin, "login.example.com", []byte("nobody")), time.Now())
		refused(t, "unknown user handle", err, "webauthn-error-user-not-found")
	})
}
