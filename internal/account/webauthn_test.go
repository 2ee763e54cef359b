package account_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// TestSecurityKeysInTheCredentialsAPI: a user's security key is listed
// under its type (two-factor, removable, set up with webauthn-register)
// without its credential data once the realm's 2FA step asks for security
// keys, and the user removes it.
func TestSecurityKeysInTheCredentialsAPI(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open)
		err := e.db.UpdateAuthConfig(context.Background(), e.realm.ID, func(c *flow.Config) error {
			for i, f := range c.Flows {
				for j, x := range f.Executions {
					if f.Alias == "Browser - Conditional 2FA" && x.Authenticator == "webauthn-authenticator" {
						c.Flows[i].Executions[j].Requirement = flow.Alternative
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		tok := e.login("user1", "password", "openid")["access_token"].(string)
		var u user.User
		u, err = e.db.GetUserByUsername(context.Background(), e.realm.ID, "user1")
		if err != nil {
			t.Fatal(err)
		}
		key := user.Credential{ID: store.NewID(), UserID: u.ID, Type: "webauthn", UserLabel: "YubiKey", CreatedDate: 1700000000000, SecretData: "{}",
			CredentialData: `{"aaguid":"00000000-0000-0000-0000-000000000000","credentialId":"AQID","counter":4,"credentialPublicKey":"pQECAyYgASFYIA","attestationStatementFormat":"none","transports":[]}`}
		if err := e.db.CreateCredential(context.Background(), key); err != nil {
			t.Fatal(err)
		}
		st, _, b := e.call("GET", "/account/credentials?type=webauthn", tok, nil)
		var got []struct {
			Type, Category, CreateAction string
			Removeable                   bool
			UserCredentialMetadatas      []struct {
				Credential map[string]any `json:"credential"`
			} `json:"userCredentialMetadatas"`
		}
		if err := json.Unmarshal(b, &got); err != nil || st != 200 {
			t.Fatalf("%d %s", st, b)
		}
		if len(got) != 1 || got[0].Category != "two-factor" || got[0].CreateAction != "webauthn-register" || !got[0].Removeable ||
			len(got[0].UserCredentialMetadatas) != 1 || got[0].UserCredentialMetadatas[0].Credential["userLabel"] != "YubiKey" {
			t.Errorf("?type=webauthn: %s", b)
		}
		if strings.Contains(string(b), "credentialPublicKey") || strings.Contains(string(b), "credentialData") {
			t.Errorf("credential data shown: %s", b)
		}
		// No flow of the realm runs passkeys and the user has none.
		if st, _, b := e.call("GET", "/account/credentials?type=webauthn-passwordless", tok, nil); st != 200 || string(b) != "[]" {
			t.Errorf("?type=webauthn-passwordless: %d %s", st, b)
		}
		if st, _, b := e.call("DELETE", "/account/credentials/"+key.ID, tok, nil); st != 204 {
			t.Fatalf("delete: %d %s", st, b)
		}
		if cs, _ := e.db.ListCredentials(context.Background(), u.ID); len(cs) != 1 || cs[0].Type != "password" {
			t.Errorf("after delete: %+v", cs)
		}
	})
}
