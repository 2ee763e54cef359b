package admin_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// page is a browser's view of one answer.
type page struct {
	status int
	body   string
}

var (
	reFormAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	reHidden     = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// mailBrowser follows email links the way a browser would: cookies kept,
// redirects not followed, forms posted with their hidden fields.
type mailBrowser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newMailBrowser(t *testing.T, base string) *mailBrowser {
	jar, _ := cookiejar.New(nil)
	return &mailBrowser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *mailBrowser) send(req *http.Request) page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{res.StatusCode, string(body)}
}

func (b *mailBrowser) get(u string) page {
	req, _ := http.NewRequest("GET", u, nil)
	return b.send(req)
}

// submit posts p's form with its hidden fields and extra.
func (b *mailBrowser) submit(p page, extra map[string]string) page {
	b.t.Helper()
	m := reFormAction.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("no form (%d): %s", p.status, p.body)
	}
	action := html.UnescapeString(m[1])
	if strings.HasPrefix(action, "/") {
		action = b.base + action
	}
	form := url.Values{}
	for _, h := range reHidden.FindAllStringSubmatch(p.body, -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	for k, v := range extra {
		form.Set(k, v)
	}
	req, _ := http.NewRequest("POST", action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.send(req)
}

func TestUserActionEmails(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		s := newServer(t, open)
		e := newUsersEnv(t, s, "acme")
		noMail := e.create(map[string]any{"username": "nomail", "enabled": true})
		withMail := e.create(map[string]any{"username": "alice", "email": "alice@example.com", "enabled": true,
			"credentials": []map[string]any{{"type": "password", "value": "alice-old-pw"}}})
		e.want("POST", "/clients", e.tok, map[string]any{"clientId": "web", "redirectUris": []string{"https://web.example/*"}}, 201, "")
		actions := []string{"UPDATE_PASSWORD", "VERIFY_EMAIL"}
		e.want("PUT", "/users/"+noMail+"/execute-actions-email", e.tok, actions, 400, `{"errorMessage":"User email missing"}`)
		e.want("PUT", "/users/"+withMail+"/execute-actions-email", e.tok, []string{"NOT_AN_ACTION"}, 400, `{"errorMessage":"Provided invalid required actions"}`)
		e.want("PUT", "/users/"+withMail+"/execute-actions-email?client_id=ghost", e.tok, actions, 400, `{"errorMessage":"Client doesn't exist"}`)
		e.want("PUT", "/users/"+withMail+"/execute-actions-email?redirect_uri=https://web.example/x", e.tok, actions, 400, `{"errorMessage":"Client id missing"}`)
		e.want("PUT", "/users/"+withMail+"/execute-actions-email?client_id=web&redirect_uri=https://evil.example/x", e.tok, actions, 400, `{"errorMessage":"Invalid redirect uri."}`)
		// No mail server yet: Keycloak's 500s.
		e.want("PUT", "/users/"+withMail+"/execute-actions-email", e.tok, actions, 500,
			`{"errorMessage":"Failed to send execute actions email: mail: no SMTP host or sender address configured"}`)
		e.want("PUT", "/users/"+withMail+"/send-verify-email", e.tok, nil, 500, `{"errorMessage":"Failed to send verify email"}`)

		smtp := mailtest.Start(t)
		e.want("PUT", "", e.tok, map[string]any{"smtpServer": smtp.Settings()}, 204, "")
		all := []string{"UPDATE_PASSWORD", "UPDATE_PROFILE", "VERIFY_EMAIL"}
		e.want("PUT", "/users/"+withMail+"/execute-actions-email?client_id=web&redirect_uri=https://web.example/home", e.tok, all, 204, "")
		m := smtp.Wait(t, "alice@example.com", 1)
		if m.Subject != "Your account needs an update" || !strings.Contains(m.Text, "Update Password, Update Profile, Verify Email") || !strings.Contains(m.Text, "12 hours") {
			t.Errorf("execute actions mail: %q\n%s", m.Subject, m.Text)
		}
		link := m.Link(t, "/realms/acme/login-actions/action-token?key=")
		b := newMailBrowser(t, s.URL)
		confirm := b.get(link)
		if confirm.status != 200 || !strings.Contains(confirm.body, "Update Password, Update Profile, Verify Email") {
			t.Fatalf("confirm page: %d %s", confirm.status, confirm.body)
		}
		upd := b.submit(confirm, nil)
		if !strings.Contains(upd.body, "kc-passwd-update-form") {
			t.Fatalf("update password page: %d %s", upd.status, upd.body)
		}
		prof := b.submit(upd, map[string]string{"password-new": "alice-new-pw", "password-confirm": "alice-new-pw"})
		if !strings.Contains(prof.body, "kc-update-profile-form") {
			t.Fatalf("update profile page: %d %s", prof.status, prof.body)
		}
		done := b.submit(prof, map[string]string{"firstName": "Alice", "lastName": "Liddell", "email": "alice@example.com"})
		if done.status != 200 || !strings.Contains(done.body, "Your account has been updated.") || !strings.Contains(done.body, `href="https://web.example/home"`) {
			t.Fatalf("after the actions: %d %s", done.status, done.body)
		}
		if u := e.user(withMail); u["emailVerified"] != true || u["firstName"] != "Alice" {
			t.Errorf("after the actions: %v", u)
		}
		if st, _ := e.login("alice", "alice-new-pw"); st != 200 {
			t.Errorf("new password: %d", st)
		}
		if again := newMailBrowser(t, s.URL).submit(confirm, nil); again.status != 400 {
			t.Errorf("link used twice: %d", again.status)
		}

		// Verify email: the address changes, the old link is stale.
		e.want("PUT", "/users/"+withMail+"/send-verify-email?lifespan=600", e.tok, nil, 204, "")
		stale := smtp.Wait(t, "alice@example.com", 2).Link(t, "action-token")
		ctx := context.Background()
		if err := s.DB.UpdateUser(ctx, e.realm.ID, withMail, func(u *user.User) error { u.Email, u.EmailVerified = "alice2@example.com", false; return nil }); err != nil {
			t.Fatal(err)
		}
		if p := newMailBrowser(t, s.URL).get(stale); p.status != 400 || !strings.Contains(p.body, "old stale link") {
			t.Fatalf("stale link: %d %s", p.status, p.body)
		}
		e.want("PUT", "/users/"+withMail+"/send-verify-email", e.tok, nil, 204, "")
		vm := smtp.Wait(t, "alice2@example.com", 1)
		if vm.Subject != "Confirm your email address" || !strings.Contains(vm.Text, "12 hours") {
			t.Errorf("verify mail: %q %s", vm.Subject, vm.Text)
		}
		b = newMailBrowser(t, s.URL)
		confirm = b.get(vm.Link(t, "action-token"))
		if !strings.Contains(confirm.body, "alice2@example.com") {
			t.Fatalf("verify confirm page: %s", confirm.body)
		}
		if done := b.submit(confirm, nil); !strings.Contains(done.body, "Your email address has been verified.") {
			t.Fatalf("verified page: %d %s", done.status, done.body)
		}
		if u := e.user(withMail); u["emailVerified"] != true {
			t.Errorf("email not verified: %v", u)
		}
		if strings.Contains(s.Log.String(), "alice") && strings.Contains(s.Log.String(), "@example.com") {
			t.Error("an address reached the log")
		}
	})
}

func TestTestSMTPConnection(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		s := newServer(t, open)
		e := newUsersEnv(t, s, "acme")
		smtp := mailtest.StartWith(t, mailtest.Options{User: "mailer", Password: "mail-secret"})
		settings := smtp.Settings()
		e.want("POST", "/testSMTPConnection", e.tok, settings, 500, `{"errorMessage":"Logged in user does not have an e-mail."}`)
		setAdminEmail(t, s, "root@example.com")
		e.want("POST", "/testSMTPConnection", e.tok, settings, 204, "")
		if m := smtp.Wait(t, "root@example.com", 1); m.Subject != "[acme] mail settings test" {
			t.Errorf("test mail subject %q", m.Subject)
		}
		// The mask the realm representation shows stands for the stored password.
		e.want("PUT", "", e.tok, map[string]any{"smtpServer": settings}, 204, "")
		if got := e.want("GET", "", e.tok, nil, 200, ""); !strings.Contains(got, `"password":"**********"`) || strings.Contains(got, "mail-secret") {
			t.Errorf("realm representation: %s", got)
		}
		masked := smtp.Settings()
		masked["password"] = "**********"
		e.want("POST", "/testSMTPConnection", e.tok, masked, 204, "")
		smtp.Wait(t, "root@example.com", 2)
		masked["password"] = "wrong"
		e.want("POST", "/testSMTPConnection", e.tok, masked, 500, `{"errorMessage":"Failed to send email"}`)
		viewer := s.realmAdmin(e.realm, "viewer", "view-realm")
		e.want("POST", "/testSMTPConnection", viewer, settings, 403, "")
		if strings.Contains(s.Log.String(), "mail-secret") || strings.Contains(s.Log.String(), "root@example.com") {
			t.Error("a password or an address reached the log")
		}
	})
}

// TestSMTPMaskedPasswordStaysWithItsServer checks that the mask stands for
// the stored SMTP password only while the settings still name the stored
// server: naming another host, port or user asks for the password instead.
func TestSMTPMaskedPasswordStaysWithItsServer(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		s := newServer(t, open)
		e := newUsersEnv(t, s, "acme")
		setAdminEmail(t, s, "root@example.com")
		stored := mailtest.StartWith(t, mailtest.Options{User: "mailer", Password: "mail-secret"})
		e.want("PUT", "", e.tok, map[string]any{"smtpServer": stored.Settings()}, 204, "")
		// An administrator's own server, which would accept any password.
		own := mailtest.Start(t)
		const ask = `{"errorMessage":"The SMTP password is required when the host, port, user or authentication change"}`
		for name, edit := range map[string]func(m map[string]string){
			"host": func(m map[string]string) { m["host"] = "localhost" },
			"port": func(m map[string]string) { m["port"] = strconv.Itoa(own.Port) },
			"user": func(m map[string]string) { m["user"] = "someone" },
		} {
			m := stored.Settings()
			m["password"] = "**********"
			edit(m)
			e.want("POST", "/testSMTPConnection", e.tok, m, 400, ask)
			e.want("PUT", "", e.tok, map[string]any{"smtpServer": m}, 400, ask)
			if name == "port" && own.Count("root@example.com") != 0 {
				t.Error("the stored password reached another server")
			}
		}
		m := stored.Settings()
		m["password"] = "**********"
		m["fromDisplayName"] = "Acme"
		e.want("PUT", "", e.tok, map[string]any{"smtpServer": m}, 204, "")
		e.want("POST", "/testSMTPConnection", e.tok, m, 204, "")
		stored.Wait(t, "root@example.com", 1)
		moved := own.Settings()
		moved["password"] = "new-secret"
		moved["auth"], moved["user"] = "true", "mailer"
		e.want("PUT", "", e.tok, map[string]any{"smtpServer": moved}, 204, "")
		if got := e.want("GET", "", e.tok, nil, 200, ""); !strings.Contains(got, `"host":"127.0.0.1"`) {
			t.Errorf("realm representation: %s", got)
		}
	})
}

// TestExecuteActionsLinkRechecksRedirect: the redirect_uri of an
// execute-actions link is matched again when the link is used; once the
// client no longer allows it, the closing page leads nowhere.
func TestExecuteActionsLinkRechecksRedirect(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		s := newServer(t, open)
		e := newUsersEnv(t, s, "acme")
		smtp := mailtest.Start(t)
		e.want("PUT", "", e.tok, map[string]any{"smtpServer": smtp.Settings()}, 204, "")
		alice := e.create(map[string]any{"username": "alice", "email": "alice@example.com", "enabled": true})
		e.want("POST", "/clients", e.tok, map[string]any{"clientId": "web", "redirectUris": []string{"https://web.example/*"}}, 201, "")
		var clients []struct{ ID string }
		if err := json.Unmarshal([]byte(e.want("GET", "/clients?clientId=web", e.tok, nil, 200, "")), &clients); err != nil || len(clients) != 1 {
			t.Fatalf("client lookup: %v %v", err, clients)
		}
		send := func(n int) string {
			e.want("PUT", "/users/"+alice+"/execute-actions-email?client_id=web&redirect_uri=https://web.example/home", e.tok, []string{"VERIFY_EMAIL"}, 204, "")
			return smtp.Wait(t, "alice@example.com", n).Link(t, "/realms/acme/login-actions/action-token?key=")
		}
		follow := func(link string) page {
			b := newMailBrowser(t, s.URL)
			done := b.submit(b.get(link), nil)
			if done.status != 200 || !strings.Contains(done.body, "Your account has been updated.") {
				t.Fatalf("after the link: %d %s", done.status, done.body)
			}
			return done
		}
		if done := follow(send(1)); !strings.Contains(done.body, `href="https://web.example/home"`) {
			t.Errorf("allowed redirect not offered: %s", done.body)
		}
		link := send(2)
		e.want("PUT", "/clients/"+clients[0].ID, e.tok, map[string]any{"clientId": "web", "redirectUris": []string{"https://other.example/*"}}, 204, "")
		if done := follow(link); strings.Contains(done.body, "web.example") {
			t.Errorf("a redirect the client no longer allows is offered: %s", done.body)
		}
	})
}

// setAdminEmail gives the master realm's admin, the caller of e.tok, an
// address for the test mails.
func setAdminEmail(t *testing.T, s *testServer, addr string) {
	t.Helper()
	ctx := context.Background()
	master, err := s.DB.GetRealmByName(ctx, "master")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := s.DB.GetUserByUsername(ctx, master.ID, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DB.UpdateUser(ctx, master.ID, admin.ID, func(u *user.User) error { u.Email = addr; return nil }); err != nil {
		t.Fatal(err)
	}
}
