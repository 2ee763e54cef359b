package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The tokens tab edits the realm's device code lifespan and polling
// interval; a client's capability config has the device grant switch.
func TestDeviceGrantSettings(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) { testDeviceGrantSettings(t, open) })
}

func testDeviceGrantSettings(t *testing.T, open func(testing.TB) *store.DB) {
	e := newEnvOn(t, web.URLs{}, open)
	b := e.browser()
	home := b.signIn(masterConsole, "admin", "admin-pw")
	p := b.get("/admin/master/console/demo/realm-settings/tokens")
	if p.status != http.StatusOK {
		t.Fatalf("tokens tab: %d", p.status)
	}
	// Keycloak's defaults: 10 minutes, 5 seconds.
	for _, want := range []string{`name="oauth2DeviceCodeLifespan" value="10"`, `name="oauth2DevicePollingInterval" value="5"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("tokens tab lacks %s", want)
		}
	}
	form := formValues(p.body, "settings-form")
	form.Set("oauth2DeviceCodeLifespan", "3")
	form.Set("oauth2DeviceCodeLifespan.unit", "60")
	form.Set("oauth2DevicePollingInterval", "9")
	p = b.follow(b.post("/admin/master/console/demo/realm-settings/tokens", form))
	if p.status != http.StatusOK || !strings.Contains(p.body, "Your changes have been saved.") {
		t.Fatalf("save: %d %s", p.status, p.body)
	}
	if rl := e.realm("demo"); rl.OAuth2DeviceCodeLifespan != 180 || rl.OAuth2DevicePollingInterval != 9 {
		t.Errorf("stored lifespan %d, interval %d", rl.OAuth2DeviceCodeLifespan, rl.OAuth2DevicePollingInterval)
	}

	created := b.submit(home, "/admin/master/console/demo/clients/new", url.Values{"clientId": {"tv"}, "accessType": {"public"},
		"oauth2DeviceAuthorizationGrantEnabled": {"on"}})
	loc := strings.SplitN(created.header.Get("Location"), "?", 2)[0]
	id := loc[strings.LastIndexByte(loc, '/')+1:]
	c, err := e.db.GetClient(t.Context(), e.demo.ID, id)
	if err != nil || c.Attributes["oauth2.device.authorization.grant.enabled"] != "true" {
		t.Fatalf("created client: %+v %v", c.Attributes, err)
	}
	p = b.get("/admin/master/console/demo/clients/" + id)
	if !strings.Contains(p.body, `name="oauth2DeviceAuthorizationGrantEnabled"`) || !strings.Contains(p.body, "OAuth 2.0 Device Authorization Grant") {
		t.Fatalf("client page has no device grant switch: %s", p.body)
	}
	form = formValues(p.body, "client-form")
	form.Del("oauth2DeviceAuthorizationGrantEnabled")
	if p := b.submit(home, "/admin/master/console/demo/clients/"+id, form); p.status != http.StatusSeeOther {
		t.Fatalf("save client: %d %s", p.status, p.body)
	}
	if c, _ := e.db.GetClient(t.Context(), e.demo.ID, id); c.Attributes["oauth2.device.authorization.grant.enabled"] != "false" {
		t.Errorf("switch off: attribute %q", c.Attributes["oauth2.device.authorization.grant.enabled"])
	}
}
