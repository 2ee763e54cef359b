package login_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

func TestUpdatePasswordRequiredAction(t *testing.T) {
	e := newEnv(t, func(r *realm.Realm) { r.PasswordPolicy = "length(10)" })
	e.addUser("carol", "carol-old-pw", func(u *realmUser) { u.RequiredActions = []string{"UPDATE_PASSWORD"} })
	b := e.browser()
	page := e.login(b, b.get(e.codeRequest(nil)), "carol", "carol-old-pw")
	if page.status != http.StatusOK || !strings.Contains(page.body, "Update password") || !strings.Contains(page.body, "At least 10 characters.") {
		t.Fatalf("update password page: %d %s", page.status, page.body)
	}
	action, fields := e.form(page)
	try := func(pw, confirm string) response {
		f := url.Values{}
		for k, v := range fields {
			f[k] = v
		}
		f.Set("password-new", pw)
		f.Set("password-confirm", confirm)
		return b.post(action, f)
	}
	for _, tt := range []struct{ pw, confirm, want string }{
		{"", "", "Please specify password."},
		{"new-password-1", "new-password-2", "Passwords don&#39;t match."},
		{"short", "short", "Invalid password: minimum length 10."},
	} {
		if res := try(tt.pw, tt.confirm); res.status != http.StatusOK || !strings.Contains(res.body, tt.want) {
			t.Errorf("%q/%q: %d, want %q in %s", tt.pw, tt.confirm, res.status, tt.want, res.body)
		}
	}
	if n := len(e.sessions("carol")); n != 0 {
		t.Fatal("a session exists before the action is done")
	}
	res := try("new-password-ok", "new-password-ok")
	if res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
		t.Fatalf("after the update: %d %s", res.status, res.body)
	}
	if u := e.user("carol"); len(u.RequiredActions) != 0 {
		t.Errorf("required actions left: %v", u.RequiredActions)
	}
	b2 := e.browser()
	if res := e.login(b2, b2.get(e.codeRequest(nil)), "carol", "new-password-ok"); res.status != http.StatusFound {
		t.Errorf("new password does not work: %d", res.status)
	}
	b3 := e.browser()
	if res := e.login(b3, b3.get(e.codeRequest(nil)), "carol", "carol-old-pw"); res.status != http.StatusOK {
		t.Errorf("old password still works: %d", res.status)
	}
}

func TestOtherRequiredActionIsExplained(t *testing.T) {
	e := newEnv(t)
	e.addUser("vera", "vera-pw", func(u *realmUser) { u.RequiredActions = []string{"CONFIGURE_RECOVERY_AUTHN_CODES"} })
	b := e.browser()
	res := e.login(b, b.get(e.codeRequest(nil)), "vera", "vera-pw")
	if res.status != http.StatusForbidden || !strings.Contains(res.body, "Recovery Authentication Codes") || res.header.Get("Location") != "" {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if n := len(e.sessions("vera")); n != 0 {
		t.Error("session created")
	}
	if res := b.get(e.codeRequest(map[string]string{"prompt": "none"})); res.location(t).Query().Get("error") != "login_required" {
		t.Errorf("prompt=none: %s", res.location(t))
	}
}
