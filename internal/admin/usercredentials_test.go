package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Credential labels, order and disabling a type, with good and bad input.
func TestUserCredentialOrderAndLabels(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "creds")
		st, h, b := s.do("POST", e.path("/users"), e.tok, map[string]any{"username": "carol",
			"credentials": []any{map[string]any{"type": "password", "value": "Carol-pw-1"}}})
		if st != 201 {
			t.Fatalf("create: %d %s", st, b)
		}
		id := h.Get("Location")[strings.LastIndex(h.Get("Location"), "/")+1:]
		ctx := context.Background()
		for _, label := range []string{"phone", "tablet"} {
			if err := s.DB.CreateCredential(ctx, user.Credential{ID: store.NewID(), UserID: id, Type: "otp", UserLabel: label,
				CreatedDate: time.Now().UnixMilli(), SecretData: `{"value":"x"}`, CredentialData: `{}`, Priority: 20}); err != nil {
				t.Fatal(err)
			}
		}
		type cred struct{ ID, Type, UserLabel string }
		list := func() []cred {
			var cs []cred
			s.get(e.path("/users/"+id+"/credentials"), e.tok, &cs)
			return cs
		}
		order := func() string {
			var out []string
			for _, c := range list() {
				out = append(out, c.Type+":"+c.UserLabel)
			}
			return strings.Join(out, ",")
		}
		cs := list()
		if len(cs) != 3 || cs[0].Type != "password" {
			t.Fatalf("credentials: %v", cs)
		}
		pw, phone, tablet := cs[0].ID, cs[1].ID, cs[2].ID
		if cs[1].UserLabel != "phone" {
			phone, tablet = tablet, phone
		}
		base := e.path("/users/" + id + "/credentials/")

		// userLabel: the body is the label as plain text.
		if st, _, b := s.do("PUT", base+phone+"/userLabel", e.tok, "work phone"); st != 204 {
			t.Fatalf("label: %d %s", st, b)
		}
		if st, _, _ := s.do("PUT", base+"nope/userLabel", e.tok, "x"); st != 404 {
			t.Errorf("label of an unknown credential: %d", st)
		}
		if st, _, _ := s.do("PUT", base+phone+"/userLabel", e.tok, strings.Repeat("x", 256)); st != 400 {
			t.Errorf("label too long: %d", st)
		}

		// Order.
		if st, _, b := s.do("POST", base+tablet+"/moveToFirst", e.tok, nil); st != 204 {
			t.Fatalf("moveToFirst: %d %s", st, b)
		}
		if got := order(); got != "otp:tablet,password:,otp:work phone" {
			t.Errorf("after moveToFirst: %s", got)
		}
		if st, _, b := s.do("POST", base+tablet+"/moveAfter/"+phone, e.tok, nil); st != 204 {
			t.Fatalf("moveAfter: %d %s", st, b)
		}
		if got := order(); got != "password:,otp:work phone,otp:tablet" {
			t.Errorf("after moveAfter: %s", got)
		}
		for _, path := range []string{"nope/moveToFirst", tablet + "/moveAfter/nope", tablet + "/moveAfter/" + tablet} {
			if st, _, _ := s.do("POST", base+path, e.tok, nil); st != 404 {
				t.Errorf("%s: %d", path, st)
			}
		}
		if got := order(); got != "password:,otp:work phone,otp:tablet" {
			t.Errorf("refused moves changed the order: %s", got)
		}

		// Disabling OTP removes both OTP credentials; the password stays.
		dis := e.path("/users/" + id + "/disable-credential-types")
		if st, _, _ := s.do("PUT", dis, e.tok, `{"otp"}`); st != 400 {
			t.Errorf("bad JSON: %d", st)
		}
		if st, _, b := s.do("PUT", dis, e.tok, []string{"otp", "password"}); st != 204 {
			t.Fatalf("disable: %d %s", st, b)
		}
		if cs := list(); len(cs) != 1 || cs[0].ID != pw {
			t.Errorf("after disabling otp: %v", cs)
		}
		if st, _, _ := s.do("PUT", e.path("/users/nope/disable-credential-types"), e.tok, []string{"otp"}); st != 404 {
			t.Errorf("unknown user: %d", st)
		}

		// remove-totp removes OTP credentials only.
		if err := s.DB.CreateCredential(ctx, user.Credential{ID: store.NewID(), UserID: id, Type: "otp", UserLabel: "again",
			CreatedDate: time.Now().UnixMilli(), SecretData: `{"value":"x"}`, CredentialData: `{}`}); err != nil {
			t.Fatal(err)
		}
		if st, _, b := s.do("PUT", e.path("/users/"+id+"/remove-totp"), e.tok, nil); st != 204 {
			t.Fatalf("remove-totp: %d %s", st, b)
		}
		if cs := list(); len(cs) != 1 || cs[0].ID != pw {
			t.Errorf("after remove-totp: %v", cs)
		}
		if st, _, _ := s.do("PUT", e.path("/users/nope/remove-totp"), e.tok, nil); st != 404 {
			t.Errorf("remove-totp of an unknown user: %d", st)
		}
	})
}

// Impersonation: a session for the user, its SSO cookies, the account
// console's address, no admin event (the login event IMPERSONATE instead:
// TestImpersonationSessionsAndClaims); refused for disabled users, unknown
// users and callers without the impersonation role.
func TestImpersonation(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "imp")
		if err := s.DB.UpdateRealm(context.Background(), e.realm.ID, func(r *realm.Realm) error {
			r.AdminEventsEnabled = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		st, h, b := s.do("POST", e.path("/users"), e.tok, map[string]any{"username": "dave", "enabled": true})
		if st != 201 {
			t.Fatalf("create: %d %s", st, b)
		}
		id := h.Get("Location")[strings.LastIndex(h.Get("Location"), "/")+1:]

		st, h, b = s.do("POST", e.path("/users/"+id+"/impersonation"), e.tok, nil)
		var out struct {
			SameRealm bool   `json:"sameRealm"`
			Redirect  string `json:"redirect"`
		}
		json.Unmarshal(b, &out)
		if st != 200 || out.SameRealm || out.Redirect != s.URL+"/realms/imp/account" {
			t.Fatalf("impersonate: %d %s", st, b)
		}
		var identity *http.Cookie
		for _, c := range (&http.Response{Header: h}).Cookies() {
			if c.Name == "KEYCLOAK_IDENTITY" {
				identity = c
			}
		}
		if identity == nil || identity.Path != "/realms/imp/" || !identity.HttpOnly {
			t.Fatalf("identity cookie: %v", h["Set-Cookie"])
		}
		ss, _ := s.DB.ListUserSessions(context.Background(), e.realm.ID, id, false)
		if len(ss) != 1 || ss[0].Notes["IMPERSONATOR_USERNAME"] != "admin" {
			t.Fatalf("sessions: %+v", ss)
		}
		// The cookie signs a browser in to the account console as dave.
		req, _ := http.NewRequest("GET", s.URL+"/realms/imp/account/", nil)
		req.Header.Set("Accept", "text/html")
		req.AddCookie(identity)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(page), "dave") {
			t.Errorf("account console with the cookie: %d", resp.StatusCode)
		}
		var evs []struct {
			ResourcePath string `json:"resourcePath"`
		}
		s.get(e.path("/admin-events"), e.tok, &evs)
		for _, ev := range evs {
			if ev.ResourcePath == "users/"+id+"/impersonation" {
				t.Errorf("impersonation recorded as an admin event: %+v", evs)
			}
		}

		if st, _, _ := s.do("POST", e.path("/users/nope/impersonation"), e.tok, nil); st != 404 {
			t.Errorf("unknown user: %d", st)
		}
		viewer := s.realmAdmin(e.realm, "viewer", "view-users", "manage-users")
		if st, _, _ := s.do("POST", e.path("/users/"+id+"/impersonation"), viewer, nil); st != 403 {
			t.Errorf("without the impersonation role: %d", st)
		}
		if st, _, b := s.do("PUT", e.path("/users/"+id), e.tok, map[string]any{"enabled": false}); st != 204 {
			t.Fatalf("disable: %d %s", st, b)
		}
		st, _, b = s.do("POST", e.path("/users/"+id+"/impersonation"), e.tok, nil)
		if st != 400 || !strings.Contains(string(b), "User is disabled") {
			t.Errorf("disabled user: %d %s", st, b)
		}
	})
}
