package account_test

import (
	"context"
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/otp"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

type credentialsJSON []struct {
	Type                    string `json:"type"`
	CreateAction            string `json:"createAction"`
	UpdateAction            string `json:"updateAction"`
	Removeable              bool   `json:"removeable"`
	UserCredentialMetadatas []struct {
		Credential map[string]any `json:"credential"`
	} `json:"userCredentialMetadatas"`
}

// addOTP sets up an authenticator app for a user as the setup page does.
func (e *env) addOTP(userID, label string) user.Credential {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.db.GetUser(ctx, e.realm.ID, userID)
	if err != nil {
		e.t.Fatal(err)
	}
	s := otp.NewSecret()
	now := time.Now()
	code, err := totp.GenerateCode(b32(s), now)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := otp.Setup(ctx, e.db, e.realm, u, s, code, label, now)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func b32(s string) string {
	return strings.ReplaceAll(otp.ManualKey(s), " ", "")
}

// TestOTPCredentials: the account API lists authenticator apps as
// Keycloak does (createAction CONFIGURE_TOTP, removeable, no secrets),
// removes one of the caller's own, and leaves OTP out of a realm whose
// flows never ask for a code.
func TestOTPCredentials(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open)
		tok := e.login("user1", "password", "openid")["access_token"].(string)
		list := func() credentialsJSON {
			t.Helper()
			var got credentialsJSON
			st, _, b := e.call("GET", "/account/credentials", tok, nil)
			if st != 200 || json.Unmarshal(b, &got) != nil {
				t.Fatalf("credentials: %d %s", st, b)
			}
			for _, s := range []string{"secretData", "credentialData", "HmacSHA1", "value"} {
				if strings.Contains(string(b), s) {
					t.Errorf("credentials show %q: %s", s, b)
				}
			}
			return got
		}
		got := list()
		if len(got) != 2 || got[1].Type != "otp" || got[1].CreateAction != "CONFIGURE_TOTP" || got[1].UpdateAction != "" ||
			!got[1].Removeable || got[1].UserCredentialMetadatas == nil || len(got[1].UserCredentialMetadatas) != 0 {
			t.Fatalf("without an app: %+v", got)
		}
		phone := e.addOTP(user1ID, "phone")
		e.addOTP(user1ID, "tablet")
		other := e.addOTP(user2ID, "theirs")
		got = list()
		if len(got) != 2 || len(got[1].UserCredentialMetadatas) != 2 || got[1].CreateAction != "CONFIGURE_TOTP" ||
			got[1].UserCredentialMetadatas[0].Credential["userLabel"] != "phone" || got[1].UserCredentialMetadatas[1].Credential["userLabel"] != "tablet" {
			t.Fatalf("with two apps: %+v", got)
		}

		creds, _ := e.db.ListCredentials(context.Background(), user1ID)
		password := creds[0]
		for _, tc := range []struct {
			name, id string
			status   int
		}{
			{"another user's app", other.ID, 404},
			{"unknown id", "nope", 404},
			{"the password", password.ID, 400},
			{"own app", phone.ID, 204},
			{"own app again", phone.ID, 404},
		} {
			if st, _, b := e.call("DELETE", "/account/credentials/"+tc.id, tok, nil); st != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, st, b, tc.status)
			}
		}
		if cs, _ := e.db.ListCredentials(context.Background(), user2ID); len(cs) != 2 {
			t.Errorf("the other user's credentials changed: %d", len(cs))
		}
		if got := list(); len(got[1].UserCredentialMetadatas) != 1 || got[1].UserCredentialMetadatas[0].Credential["userLabel"] != "tablet" {
			t.Errorf("after removing one: %+v", got)
		}

		// A realm whose only flow never asks for a code has no OTP to offer.
		err := e.db.PutAuthConfig(context.Background(), e.realm.ID, flow.Config{Flows: []flow.Flow{{Alias: "browser", TopLevel: true, ProviderID: flow.BasicFlow,
			Executions: []flow.Execution{{Authenticator: "auth-username-password-form", Requirement: flow.Required}}}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := list(); len(got) != 1 || got[0].Type != "password" {
			t.Errorf("OTP offered without a flow using it: %+v", got)
		}
	})
}

// TestSigningInPageListsAuthenticatorApps: the console's Signing in page
// lists the apps and leads to setting one up and removing one through the
// login's actions (kc_action), as Keycloak's console does.
func TestSigningInPageListsAuthenticatorApps(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("user1", "password")
	_, page := b.do("GET", "/realms/ldap-demo/account/account-security/signing-in", nil)
	if !strings.Contains(page, `id="otp-none"`) {
		t.Fatalf("no authenticator yet: %s", page)
	}
	c := e.addOTP(user1ID, "my <phone>")
	_, page = b.do("GET", "/realms/ldap-demo/account/account-security/signing-in", nil)
	if !strings.Contains(page, "my &lt;phone&gt;") || !strings.Contains(page, "Authenticator application") {
		t.Fatalf("app not listed: %s", page)
	}
	link := func(re string) url.Values {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no %s in %s", re, page)
		}
		u, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil || !strings.HasSuffix(u.Path, "/realms/ldap-demo/protocol/openid-connect/auth") {
			t.Fatalf("link %q", m[1])
		}
		return u.Query()
	}
	if q := link(`id="otp-set-up"[^>]*href="([^"]+)"`); q.Get("kc_action") != "CONFIGURE_TOTP" || q.Get("client_id") != "account-console" ||
		q.Get("code_challenge_method") != "S256" || !strings.HasSuffix(q.Get("redirect_uri"), "/account/account-security/signing-in") {
		t.Errorf("set up link: %v", q)
	}
	if q := link(`id="otp-` + c.ID + `"[\s\S]*?href="([^"]+)"`); q.Get("kc_action") != "delete_credential:"+c.ID {
		t.Errorf("remove link: %v", q)
	}
}
