package login_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// toLinkEmailPage walks a first login through corp in b up to the page
// that waits for the link confirmation mail (demo has an account with
// ann's address, and mail settings).
func (be *brokerEnv) toLinkEmailPage(b *browser) response {
	t := be.t
	t.Helper()
	res := b.get(be.toUpstream(b).String())
	if res.status != http.StatusOK || !strings.Contains(res.body, `value="linkAccount"`) {
		t.Fatalf("confirm link page expected: %d %s", res.status, res.body)
	}
	res = postForm(be.env, b, res, map[string]string{"submitAction": "linkAccount"})
	if res.status != http.StatusOK || !strings.Contains(res.body, "kc-idp-link-email-form") ||
		!strings.Contains(res.body, "Open its link to connect your corp identity ann") || !strings.Contains(res.body, "<title>Link corp") {
		t.Fatalf("link email page expected: %d %s", res.status, res.body)
	}
	return res
}

// withMailAndAnn gives demo mail settings (a real SMTP server), keeps the
// events of the link mail, and adds a local ann with the upstream ann's
// address.
func (be *brokerEnv) withMailAndAnn() (*mailtest.Server, user.User) {
	t := be.t
	t.Helper()
	smtp := mailtest.Start(t)
	if err := be.db.UpdateRealm(context.Background(), be.realm.ID, func(rl *realm.Realm) error {
		rl.SMTPServer = smtp.Settings()
		rl.EnabledEventTypes = append(rl.EnabledEventTypes, events.SendIdentityProviderLink, events.SendIdentityProviderLinkError,
			events.IdentityProviderLinkAccount, events.IdentityProviderLinkAccountError)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return smtp, be.addUser("ann", "local-ann-pw", func(u *user.User) { u.Email = "ann@corp.example" })
}

func TestBrokerLinksExistingAccountByEmail(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		be := newBrokerEnv(t, open, nil)
		smtp, local := be.withMailAndAnn()
		ctx := context.Background()
		linked := func() bool {
			_, err := be.db.FindUserByFederatedIdentity(ctx, be.realm.ID, "corp", be.corpUser.ID)
			return err == nil
		}

		b := be.browser()
		page := be.toLinkEmailPage(b)
		m := smtp.Wait(t, "ann@corp.example", 1)
		if m.Subject != "Link corp" || !strings.Contains(m.Text, "corp identity ann") || !strings.Contains(m.Text, "5 minutes") {
			t.Errorf("link mail: %q\n%s", m.Subject, m.Text)
		}
		first := m.Link(t, "/login-actions/action-token")
		if q, _ := url.Parse(first); q.Query().Get("client_id") != "app" {
			t.Errorf("link parameters: %s", first)
		}
		waitEvent(t, be.env, events.SendIdentityProviderLink)

		// Past its lifespan (300 s) the link is refused; resending mails a
		// fresh one.
		be.clock.Add(301 * time.Second)
		if r := b.get(first); r.status != http.StatusBadRequest || !strings.Contains(r.body, "Action expired") {
			t.Fatalf("expired link: %d %s", r.status, r.body)
		}
		if linked() {
			t.Fatal("linked by an expired link")
		}
		resent := postForm(be.env, b, page, map[string]string{"resend": "true"})
		if resent.status != http.StatusOK || !strings.Contains(resent.body, "kc-idp-link-email-form") {
			t.Fatalf("resend: %d %s", resent.status, resent.body)
		}
		spare := smtp.Wait(t, "ann@corp.example", 2).Link(t, "/login-actions/action-token")
		postForm(be.env, b, resent, map[string]string{"resend": "true"})
		fresh := smtp.Wait(t, "ann@corp.example", 3).Link(t, "/login-actions/action-token")

		// Another login of ann waits for its own mail. Its link, opened in
		// this browser, only offers to confirm that other login: this one
		// stays where it is.
		b2 := be.browser()
		be.toLinkEmailPage(b2)
		other := smtp.Wait(t, "ann@corp.example", 4).Link(t, "/login-actions/action-token")
		if r := b.get(other); r.status != http.StatusOK || !strings.Contains(r.body, "kc-action-confirm") {
			t.Fatalf("another login's link: %d %s", r.status, r.body)
		}
		if linked() {
			t.Fatal("linked by opening a link")
		}

		// Followed in the browser that waits, the link links corp's ann to
		// the existing account and the login ends at the client.
		res := b.get(fresh)
		if res.status != http.StatusFound || !strings.HasPrefix(res.header.Get("Location"), "https://app.example/cb?") {
			t.Fatalf("link followed: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
		}
		u, err := be.db.FindUserByFederatedIdentity(ctx, be.realm.ID, "corp", be.corpUser.ID)
		if err != nil || u.ID != local.ID {
			t.Fatalf("linked user = %v, %v", u.ID, err)
		}
		tokens := be.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {res.location(t).Query().Get("code")},
			"redirect_uri": {"https://app.example/cb"}})
		if at, _ := tokens["access_token"].(string); at == "" {
			t.Fatalf("no access token: %v", tokens)
		}
		ss := be.sessions("ann")
		if len(ss) != 1 || ss[0].Notes["identity_provider"] != "corp" {
			t.Errorf("sessions = %+v", ss)
		}
		// Used once; and a link of a login that is over is refused.
		if r := b.get(fresh); r.status != http.StatusBadRequest {
			t.Fatalf("link used twice: %d %s", r.status, r.body)
		}
		if r := b.get(spare); r.status != http.StatusBadRequest || !strings.Contains(r.body, "This link belongs to another sign-in") {
			t.Fatalf("link of a finished login: %d %s", r.status, r.body)
		}

		for typ, want := range map[string]int{events.IdentityProviderLinkAccount: 1, events.FederatedIdentityLink: 1,
			events.IdentityProviderFirstLogin: 1, events.SendIdentityProviderLink: 4} {
			evs, _ := be.db.ListEvents(ctx, be.realm.ID, store.EventQuery{Max: -1, Types: []string{typ}})
			if len(evs) != want {
				t.Errorf("%s events: %d, want %d", typ, len(evs), want)
				continue
			}
			if evs[0].UserID != local.ID || evs[0].Details["identity_provider"] != "corp" || evs[0].Details["identity_provider_identity"] != "ann" {
				t.Errorf("%s event = %+v", typ, evs[0])
			}
		}
		evs, _ := be.db.ListEvents(ctx, be.realm.ID, store.EventQuery{Max: -1, Types: []string{events.IdentityProviderLinkAccountError}})
		if len(evs) < 2 || evs[0].Error == "" {
			t.Errorf("refused links recorded: %+v", evs)
		}
		if strings.Contains(be.logs.String(), "ann@corp.example") || strings.Contains(be.logs.String(), "key=") {
			t.Error("an address or a token reached the log")
		}
	})
}

func TestBrokerEmailVerificationSkippedWithoutMail(t *testing.T) {
	// Without mail settings the step is only attempted: re-authentication
	// follows (TestBrokerLinksExistingAccountAfterReauthentication walks
	// it to the end), and nothing is sent.
	be := newBrokerEnv(t, storetest.Open, nil)
	smtp := mailtest.Start(t)
	be.addUser("ann", "local-ann-pw", func(u *user.User) { u.Email = "ann@corp.example" })
	b := be.browser()
	res := b.get(be.toUpstream(b).String())
	res = postForm(be.env, b, res, map[string]string{"submitAction": "linkAccount"})
	if res.status != http.StatusOK || !strings.Contains(res.body, `name="password"`) || strings.Contains(res.body, "kc-idp-link-email-form") {
		t.Fatalf("re-authentication page expected: %d %s", res.status, res.body)
	}
	if n := len(smtp.Mails()); n != 0 {
		t.Errorf("%d mails sent", n)
	}
}

func TestBrokerLinkConfirmedFromAnotherBrowser(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		be := newBrokerEnv(t, open, nil)
		smtp, local := be.withMailAndAnn()
		ctx := context.Background()
		b := be.browser()
		page := be.toLinkEmailPage(b)
		l := smtp.Wait(t, "ann@corp.example", 1).Link(t, "/login-actions/action-token")

		// Read on another device: a page to confirm on (a fetch of the
		// link alone confirms nothing), then the confirmation.
		phone := be.browser()
		confirm := phone.get(l)
		if confirm.status != http.StatusOK || !strings.Contains(confirm.body, "kc-action-confirm") {
			t.Fatalf("confirm page: %d %s", confirm.status, confirm.body)
		}
		if r := b.get(be.url("/login-actions/first-broker-login?" + mustQuery(t, page))); r.status != http.StatusOK ||
			!strings.Contains(r.body, "kc-idp-link-email-form") {
			t.Fatalf("before confirmation the login waits: %d %s", r.status, r.body)
		}
		done := postForm(be.env, phone, confirm, nil)
		if done.status != http.StatusOK || !strings.Contains(done.body, "Go back to the browser where you signed in") {
			t.Fatalf("confirmed: %d %s", done.status, done.body)
		}
		if r := postForm(be.env, phone, confirm, nil); r.status != http.StatusBadRequest {
			t.Fatalf("confirmed twice: %d %s", r.status, r.body)
		}
		// Reloaded, the waiting login goes on and links.
		res := b.get(be.url("/login-actions/first-broker-login?" + mustQuery(t, page)))
		if res.status != http.StatusFound || !strings.HasPrefix(res.header.Get("Location"), "https://app.example/cb?") {
			t.Fatalf("reload after confirmation: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
		}
		u, err := be.db.FindUserByFederatedIdentity(ctx, be.realm.ID, "corp", be.corpUser.ID)
		if err != nil || u.ID != local.ID {
			t.Fatalf("linked user = %v, %v", u.ID, err)
		}
	})
}

// mustQuery is the query of the form action of page.
func mustQuery(t *testing.T, page response) string {
	t.Helper()
	m := regexp.MustCompile(`action="([^"]*)"`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no form in %s", page.body)
	}
	u, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return u.RawQuery
}
