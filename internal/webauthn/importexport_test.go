package webauthn_test

import (
	"time"

	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/webauthn"
	"github.com/gatehouse-iam/gatehouse/internal/webauthn/webauthntest"
)

// TestImportExportRoundTrip: a security key registered in one database
// leaves in the realm export with its credential id, public key and
// counter, and the realm's WebAuthn policies; imported into another
// database it logs in there, and its counter goes on from where it was.
func TestImportExportRoundTrip(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := t.Context()
		f := setup(t, open(t))
		pol := realm.DefaultWebAuthnPolicy()
		pol.RpEntityName, pol.ExtraOrigins = "Example", []string{"https://app.example.com"}
		if err := f.db.UpdateRealm(ctx, f.rl.ID, func(r *realm.Realm) error { r.WebAuthnPolicy = &pol; return nil }); err != nil {
			t.Fatal(err)
		}
		f.rl, _ = f.db.GetRealm(ctx, f.rl.ID)
		k := webauthntest.NewKey(t)
		c := f.register(t, k, webauthn.TypeTwoFactor)
		k.Counter = 3
		cer, _ := webauthn.BeginLogin(ctx, f.db, f.rl, webauthn.TypeTwoFactor, origin, &f.u)
		if _, _, err := webauthn.FinishLogin(ctx, f.db, f.rl, webauthn.TypeTwoFactor, origin, &f.u, cer.State, k.Get(t, cer.Options, origin, "login.example.com", nil), time.Now()); err != nil {
			t.Fatal(err)
		}
		out, err := rep.Export(ctx, f.db, f.rl.Name)
		if err != nil {
			t.Fatal(err)
		}
		var x struct {
			RpEntityName string   `json:"webAuthnPolicyRpEntityName"`
			ExtraOrigins []string `json:"webAuthnPolicyExtraOrigins"`
			Users        []struct {
				Credentials []struct {
					ID, Type, UserLabel, SecretData, CredentialData string
				} `json:"credentials"`
			} `json:"users"`
		}
		if err := json.Unmarshal(out, &x); err != nil || len(x.Users) != 1 || len(x.Users[0].Credentials) != 1 {
			t.Fatalf("export: %v %s", err, out)
		}
		if x.RpEntityName != "Example" || len(x.ExtraOrigins) != 1 {
			t.Errorf("exported policy: %q %v", x.RpEntityName, x.ExtraOrigins)
		}
		xc := x.Users[0].Credentials[0]
		if xc.ID != c.ID || xc.Type != "webauthn" || xc.UserLabel != "Key" || xc.SecretData != "{}" || !strings.Contains(xc.CredentialData, `"counter":3`) {
			t.Errorf("exported credential: %+v", xc)
		}

		b := open(t)
		if _, _, err := rep.ImportFile(ctx, b, out, rep.ImportOptions{Now: t0}); err != nil {
			t.Fatal(err)
		}
		rl, err := b.GetRealmByName(ctx, f.rl.Name)
		if err != nil {
			t.Fatal(err)
		}
		u, err := b.GetUserByUsername(ctx, rl.ID, "alice")
		if err != nil {
			t.Fatal(err)
		}
		login := func(counter uint32) error {
			k.Counter = counter
			cer, err := webauthn.BeginLogin(ctx, b, rl, webauthn.TypeTwoFactor, origin, &u)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = webauthn.FinishLogin(ctx, b, rl, webauthn.TypeTwoFactor, origin, &u, cer.State, k.Get(t, cer.Options, origin, "login.example.com", nil), time.Now())
			return err
		}
		refused(t, "imported key, counter not moved", login(3), "webauthn-error-auth-verification")
		if err := login(4); err != nil {
			t.Errorf("imported key: %v", err)
		}
	})
}
