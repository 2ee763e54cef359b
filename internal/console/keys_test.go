package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

// The keys tab adds, rotates, disables and deletes keys through the
// components API, shows the API's refusals, and offers nothing to a
// view-only administrator.
func TestRealmKeysPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rsaKeys := func() []keys.Key {
		t.Helper()
		ks, err := e.db.ListKeys(ctx, e.demo.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []keys.Key
		for _, k := range ks {
			if k.Algorithm == keys.RS256 {
				out = append(out, k)
			}
		}
		return out
	}
	old := rsaKeys()
	if len(old) != 1 {
		t.Fatalf("demo starts with %d RS256 keys", len(old))
	}
	b := e.browser()
	b.signIn(masterConsole, "admin", "admin-pw")
	path := "/admin/master/console/demo/realm-settings/keys"
	p := b.get(path)
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="add-key"`) || !strings.Contains(p.body, "Make passive") {
		t.Fatalf("keys page for an admin: %d %s", p.status, p.body)
	}

	// Bad input is shown next to its field.
	if p := b.submit(p, path, url.Values{"action": {"add"}, "providerId": {"rsa-generated"}, "priority": {"high"}}); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, "Enter a whole number.") {
		t.Errorf("bad priority: %d", p.status)
	}

	p = b.submit(p, path, url.Values{"action": {"add"}, "providerId": {"rsa-generated"}, "priority": {"200"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("add key: %d %s", p.status, p.body)
	}
	p = b.follow(p)
	ks := rsaKeys()
	if len(ks) != 2 || ks[0].Priority != 200 {
		t.Fatalf("after add: %+v", ks)
	}
	if strings.Count(p.body, `class="mono wrap kid"`) < 3 || !strings.Contains(p.body, ks[0].Kid) || !strings.Contains(p.body, old[0].Kid) {
		t.Errorf("new key not listed: %s", p.body)
	}

	// Rotate: the old key becomes passive, then is disabled and deleted.
	for _, a := range []string{"passive", "disable"} {
		if p := b.submit(p, path, url.Values{"action": {a}, "key": {old[0].ID}}); p.status != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", a, p.status, p.body)
		}
	}
	ks = rsaKeys()
	if ks[1].ID != old[0].ID || ks[1].Active || ks[1].Enabled {
		t.Errorf("old key after passive+disable: %+v", ks[1])
	}
	if p := b.submit(p, path, url.Values{"action": {"delete"}, "key": {old[0].ID}}); p.status != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", p.status, p.body)
	}
	// The API's refusal to delete the last RS256 key is shown inline.
	p = b.submit(p, path, url.Values{"action": {"delete"}, "key": {ks[0].ID}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="form-error"`) || !strings.Contains(p.body, "at least one active and enabled RS256 key") {
		t.Errorf("delete last key: %d %s", p.status, p.body)
	}
	if ks := rsaKeys(); len(ks) != 1 {
		t.Errorf("RS256 keys left: %d", len(ks))
	}

	// A view-only administrator sees the keys and no button.
	e.addUser(e.demo, "viewer", "viewer-pw", "view-realm")
	v := e.browser()
	v.signIn("/admin/demo/console/", "viewer", "viewer-pw")
	p = v.get("/admin/demo/console/demo/realm-settings/keys")
	if p.status != http.StatusOK || !strings.Contains(p.body, ks[0].Kid) {
		t.Fatalf("viewer keys page: %d", p.status)
	}
	for _, btn := range submitButton.FindAllString(p.body, -1) {
		if !strings.Contains(btn, `id="sign-out"`) {
			t.Errorf("viewer is offered %s", btn)
		}
	}
	for _, s := range []string{`id="add-key"`, "Make passive", ">Delete<", ">Disable<"} {
		if strings.Contains(p.body, s) {
			t.Errorf("viewer page contains %s", s)
		}
	}
	// A forged post is the API's 403.
	p = v.submit(p, "/admin/demo/console/demo/realm-settings/keys", url.Values{"action": {"add"}, "providerId": {"hmac-generated"}, "priority": {"1"}})
	if p.status != http.StatusForbidden {
		t.Errorf("viewer add: %d", p.status)
	}
}
