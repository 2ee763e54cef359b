package admin_test

import (
	"context"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// TestWebAuthnCredentialsInTheAdminAPI: a user's security key and passkey,
// stored in Keycloak's layout, are listed with their credentialData (the
// credential id, public key and counter) and go with DELETE, one at a
// time; an id already gone is 404.
func TestWebAuthnCredentialsInTheAdminAPI(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "waadm")
		id := e.create(map[string]any{"username": "wanda", "credentials": []any{map[string]any{"type": "password", "value": "Wanda-pw-1"}}})
		ctx := context.Background()
		data := `{"aaguid":"00000000-0000-0000-0000-000000000000","credentialId":"AQID","counter":4,"credentialPublicKey":"pQECAyYgASFYIA","attestationStatementFormat":"none","transports":["usb"]}`
		for i, typ := range []string{"webauthn", "webauthn-passwordless"} {
			c := user.Credential{ID: store.NewID(), UserID: id, Type: typ, UserLabel: typ + " key", CreatedDate: 1700000000000,
				SecretData: "{}", CredentialData: data, Priority: 20 + i*10}
			if err := s.DB.CreateCredential(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		var creds []map[string]any
		s.get(e.path("/users/"+id+"/credentials"), e.tok, &creds)
		if len(creds) != 3 || creds[1]["type"] != "webauthn" || creds[2]["type"] != "webauthn-passwordless" ||
			creds[1]["credentialData"] != data || creds[1]["userLabel"] != "webauthn key" {
			t.Fatalf("credentials: %v", creds)
		}
		for _, c := range creds {
			if _, ok := c["secretData"]; ok {
				t.Errorf("secretData listed: %v", c)
			}
		}
		key := creds[1]["id"].(string)
		e.want("DELETE", "/users/"+id+"/credentials/"+key, e.tok, nil, 204, "")
		e.want("DELETE", "/users/"+id+"/credentials/"+key, e.tok, nil, 404, `{"error":"Credential not found"}`)
		s.get(e.path("/users/"+id+"/credentials"), e.tok, &creds)
		if len(creds) != 2 || creds[1]["type"] != "webauthn-passwordless" {
			t.Errorf("after DELETE: %v", creds)
		}
	})
}
