package admin_test

import (
	"context"
	"encoding/base32"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-iam/gatehouse/internal/otp"
)

// TestOTPCredentialsInTheAdminAPI: real authenticator apps, set up as the
// setup page does, are listed without their secret, make the user's totp
// and disableableCredentialTypes, and go with DELETE and remove-totp, after
// which their codes no longer log in.
func TestOTPCredentialsInTheAdminAPI(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "otpadm")
		id := e.create(map[string]any{"username": "olga", "credentials": []any{map[string]any{"type": "password", "value": "Olga-pw-1"}}})
		ctx := context.Background()
		u, err := s.DB.GetUser(ctx, e.realm.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		secrets := map[string]string{}
		for _, label := range []string{"phone", "tablet"} {
			sec := otp.NewSecret()
			code, _ := totp.GenerateCode(base32.StdEncoding.EncodeToString([]byte(sec)), now)
			c, err := otp.Setup(ctx, s.DB, e.realm, u, sec, code, label, now)
			if err != nil {
				t.Fatal(err)
			}
			secrets[c.ID] = sec
		}
		var creds []map[string]any
		s.get(e.path("/users/"+id+"/credentials"), e.tok, &creds)
		if len(creds) != 3 || creds[1]["type"] != "otp" || creds[1]["userLabel"] != "phone" ||
			creds[1]["credentialData"] != `{"subType":"totp","digits":6,"counter":0,"period":30,"algorithm":"HmacSHA1"}` {
			t.Fatalf("credentials: %v", creds)
		}
		for _, c := range creds {
			if _, ok := c["secretData"]; ok {
				t.Errorf("secretData listed: %v", c)
			}
		}
		var x map[string]any
		s.get(e.path("/users/"+id), e.tok, &x)
		if x["totp"] != true || len(x["disableableCredentialTypes"].([]any)) != 1 || x["disableableCredentialTypes"].([]any)[0] != "otp" {
			t.Errorf("user: totp %v, disableable %v", x["totp"], x["disableableCredentialTypes"])
		}
		// DELETE one app: its codes stop working, the other's still do.
		phone := creds[1]["id"].(string)
		e.want("DELETE", "/users/"+id+"/credentials/"+phone, e.tok, nil, 204, "")
		check := func(credID string, at time.Time) bool {
			code, _ := totp.GenerateCode(base32.StdEncoding.EncodeToString([]byte(secrets[credID])), at)
			ok, err := otp.Check(ctx, s.DB, e.realm, u, code, at)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		tablet := creds[2]["id"].(string)
		if check(phone, now.Add(time.Minute)) || !check(tablet, now.Add(2*time.Minute)) {
			t.Error("after deleting one app")
		}
		e.want("PUT", "/users/"+id+"/remove-totp", e.tok, nil, 204, "")
		if check(tablet, now.Add(3*time.Minute)) {
			t.Error("a code works after remove-totp")
		}
		s.get(e.path("/users/"+id), e.tok, &x)
		s.get(e.path("/users/"+id+"/credentials"), e.tok, &creds)
		if x["totp"] != false || len(x["disableableCredentialTypes"].([]any)) != 0 || len(creds) != 1 || creds[0]["type"] != "password" {
			t.Errorf("after remove-totp: totp %v, %v, %v", x["totp"], x["disableableCredentialTypes"], creds)
		}
		for _, sec := range secrets {
			if strings.Contains(s.Log.String(), sec) {
				t.Error("a secret reached the log")
			}
		}
	})
}
