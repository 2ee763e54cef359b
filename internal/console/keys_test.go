package console_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
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

// The providers of the keys tab: each type can be added with its own
// settings, edited (a new curve is a new key) and deleted; a 1024-bit
// imported key is accepted and marked weak; a view-only administrator sees
// the form but cannot save it.
func TestKeyProviderPages(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		testKeyProviderPages(t, newEnvOn(t, web.URLs{}, open))
	})
}

func testKeyProviderPages(t *testing.T, e *env) {
	ctx := context.Background()
	named := func(name string) (keys.Key, bool) {
		t.Helper()
		ks, err := e.db.ListKeys(ctx, e.demo.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			if k.Name == name {
				return k, true
			}
		}
		return keys.Key{}, false
	}
	b := e.browser()
	b.signIn(masterConsole, "admin", "admin-pw")
	keysPath := "/admin/master/console/demo/realm-settings/keys"
	p := b.get(keysPath)
	for _, want := range []string{`id="providers"`, `providers/new?provider=ecdsa-generated`, `providers/new?provider=rsa`, ">rsa-generated</a>"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("keys page lacks %s", want)
		}
	}

	newEC := keysPath + "/providers/new?provider=ecdsa-generated"
	p = b.get(newEC)
	if p.status != http.StatusOK || !strings.Contains(p.body, `name="ecdsaEllipticCurveKey"`) || !strings.Contains(p.body, `value="P-384"`) {
		t.Fatalf("new ecdsa provider form: %d %s", p.status, p.body)
	}
	if q := b.submit(p, newEC, url.Values{"name": {"ec"}, "priority": {"soon"}, "enabled": {"on"}, "active": {"on"}}); q.status != http.StatusBadRequest ||
		!strings.Contains(q.body, "Enter a whole number.") {
		t.Errorf("bad priority: %d", q.status)
	}
	q := b.submit(p, newEC, url.Values{"name": {"ec-384"}, "priority": {"50"}, "enabled": {"on"}, "active": {"on"},
		"ecdsaEllipticCurveKey": {"P-384"}, "ecGenerateCertificate": {"on"}})
	if q.status != http.StatusSeeOther {
		t.Fatalf("add ecdsa: %d %s", q.status, q.body)
	}
	k, ok := named("ec-384")
	if !ok || k.Algorithm != "ES384" || k.Priority != 50 || len(k.Certificate) == 0 {
		t.Fatalf("ecdsa provider: %+v", k)
	}
	p = b.follow(q)
	if !strings.Contains(p.body, k.Kid) || !strings.Contains(p.body, ">ec-384</a>") {
		t.Errorf("keys page lacks the new key and its provider")
	}

	// Edit: a new curve is a new key under the same provider.
	edit := keysPath + "/providers/" + k.ID
	p = b.get(edit)
	if !strings.Contains(p.body, `value="ec-384"`) || !strings.Contains(p.body, `<option value="P-384" selected>`) {
		t.Fatalf("edit form: %s", p.body)
	}
	if q := b.submit(p, edit, url.Values{"name": {"ec-521"}, "priority": {"60"}, "enabled": {"on"}, "active": {"on"},
		"ecdsaEllipticCurveKey": {"P-521"}}); q.status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", q.status, q.body)
	}
	k2, ok := named("ec-521")
	if !ok || k2.ID != k.ID || k2.Kid == k.Kid || k2.Algorithm != "ES512" || k2.Priority != 60 {
		t.Errorf("after edit: %+v", k2)
	}

	// An imported 1024-bit RSA key is accepted and shown as weak.
	priv, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)}))
	newRSA := keysPath + "/providers/new?provider=rsa"
	p = b.get(newRSA)
	if q := b.submit(p, newRSA, url.Values{"name": {"old-rsa"}, "priority": {"10"}, "enabled": {"on"}, "algorithm": {"RS256"}, "privateKey": {pemKey}}); q.status != http.StatusSeeOther {
		t.Fatalf("add rsa: %d %s", q.status, q.body)
	}
	weak, ok := named("old-rsa")
	if !ok || weak.Active {
		t.Fatalf("rsa provider: %+v", weak)
	}
	p = b.get(keysPath)
	if !strings.Contains(p.body, "weak-key") || !strings.Contains(p.body, "1024-bit RSA key") {
		t.Errorf("the 1024-bit key is not marked weak")
	}
	// Its edit form never shows the private key.
	if p := b.get(keysPath + "/providers/" + weak.ID); strings.Contains(p.body, "PRIVATE KEY-----\n") || strings.Contains(p.body, "**********") {
		t.Errorf("edit form shows the private key")
	}

	// Delete from the providers table.
	if q := b.submit(p, keysPath, url.Values{"action": {"delete"}, "key": {weak.ID}}); q.status != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", q.status, q.body)
	}
	if _, ok := named("old-rsa"); ok {
		t.Errorf("provider not deleted")
	}

	// A view-only administrator reads the form but cannot save it.
	e.addUser(e.demo, "viewer", "viewer-pw", "view-realm")
	v := e.browser()
	v.signIn("/admin/demo/console/", "viewer", "viewer-pw")
	p = v.get("/admin/demo/console/demo/realm-settings/keys/providers/" + k.ID)
	if p.status != http.StatusOK || strings.Contains(p.body, `id="save-provider"`) || !strings.Contains(p.body, "<fieldset disabled>") {
		t.Errorf("viewer provider page: %d", p.status)
	}
	if q := v.submit(p, "/admin/demo/console/demo/realm-settings/keys/providers/"+k.ID, url.Values{"name": {"x"}, "priority": {"1"}}); q.status != http.StatusForbidden {
		t.Errorf("viewer save: %d", q.status)
	}
	if p := b.get(keysPath + "/providers/new?provider=java-keystore"); p.status != http.StatusNotFound {
		t.Errorf("unknown provider type: %d", p.status)
	}
}
