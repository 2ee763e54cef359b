package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The settings of a client turn standard token exchange on and off; the
// creation form leaves it alone.
func TestClientStandardTokenExchangeSwitch(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	home := b.signIn(masterConsole, "admin", "admin-pw")
	r := "/admin/master/console/demo"
	created := b.submit(home, r+"/clients/new", url.Values{"clientId": {"gw"}, "accessType": {"confidential"},
		"standardFlowEnabled": {"on"}, "redirectUris": {"http://localhost/*"}})
	if created.status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	settings := strings.TrimSuffix(created.header.Get("Location"), "?notice=created")
	attr := func() string {
		c, err := e.db.GetClientByClientID(context.Background(), e.realm("demo").ID, "gw")
		if err != nil {
			t.Fatal(err)
		}
		return c.Attributes["standard.token.exchange.enabled"]
	}
	if got := attr(); got == "true" {
		t.Fatalf("a new client has standard token exchange on")
	}
	page := b.get(settings)
	if !strings.Contains(page.body, `name="standardTokenExchange"`) {
		t.Fatalf("the settings show no Standard Token Exchange switch")
	}
	form := url.Values{"clientId": {"gw"}, "accessType": {"confidential"}, "enabled": {"on"}, "standardFlowEnabled": {"on"},
		"redirectUris": {"http://localhost/*"}, "standardTokenExchange": {"on"}}
	if p := b.submit(page, settings, form); p.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.status, p.body)
	}
	if got := attr(); got != "true" {
		t.Fatalf("switched on, the attribute is %q", got)
	}
	page = b.get(settings)
	form.Del("standardTokenExchange")
	if p := b.submit(page, settings, form); p.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.status, p.body)
	}
	if got := attr(); got != "false" {
		t.Fatalf("switched off, the attribute is %q", got)
	}
}
