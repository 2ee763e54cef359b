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

// Clients → client → Advanced saves the PAR and request object switches
// as the client's attributes, leaving its other settings alone.
func TestClientAdvancedTab(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		clientAdvancedTab(t, newEnvOn(t, web.URLs{}, open))
	})
}

func clientAdvancedTab(t *testing.T, e *env) {
	b := e.browser()
	home := b.signIn(masterConsole, "admin", "admin-pw")
	r := "/admin/master/console/demo"
	p := b.submit(home, r+"/clients/new", url.Values{"clientId": {"app"}, "accessType": {"confidential"},
		"standardFlowEnabled": {"on"}, "redirectUris": {"http://localhost/*"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("create client: %d %s", p.status, p.body)
	}
	client := strings.TrimSuffix(p.header.Get("Location"), "?notice=created")
	page := b.get(client + "/advanced")
	if page.status != 200 || !strings.Contains(page.body, "Pushed authorization request required") ||
		!strings.Contains(page.body, `<option value="any" selected>`) {
		t.Fatalf("advanced tab: %d\n%s", page.status, page.body)
	}
	p = b.submit(page, client+"/advanced", url.Values{"require.pushed.authorization.requests": {"on"},
		"request.object.signature.alg": {"RS256"}, "request.object.required": {"request only"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.status, p.body)
	}
	page = b.get(client + "/advanced")
	for _, want := range []string{`name="require.pushed.authorization.requests" value="on" checked`,
		`<option value="RS256" selected>`, `<option value="request only" selected>`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("saved tab lacks %s", want)
		}
	}
	if settings := b.get(client); !strings.Contains(settings.body, "http://localhost/*") {
		t.Errorf("the client's other settings changed")
	}
	p = b.submit(page, client+"/advanced", url.Values{"request.object.signature.alg": {"XX999"}, "request.object.required": {"request only"}})
	if p.status != http.StatusBadRequest {
		t.Errorf("unknown algorithm: %d", p.status)
	}
}
