package mail_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/mail"
	"github.com/gatehouse-iam/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

func TestSendOverEveryTransport(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts mailtest.Options
	}{
		{"plain", mailtest.Options{}},
		{"starttls+auth", mailtest.Options{StartTLS: true, User: "mailer", Password: "mail-pass"}},
		{"ssl+auth", mailtest.Options{TLS: true, User: "mailer", Password: "mail-pass"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailtest.StartWith(t, tc.opts)
			st, err := mail.ParseSettings(srv.Settings())
			if err != nil {
				t.Fatal(err)
			}
			s := &mail.Sender{TLS: srv.ClientTLS(), Now: func() time.Time { return time.Unix(1700000000, 0) }}
			msg := mail.Message{To: "Ann <ann@example.test>", Subject: "Grüße", Text: "hello https://x.test/a?b=c", HTML: "<p>hello</p>"}
			if err := s.Send(context.Background(), st, msg); err != nil {
				t.Fatal(err)
			}
			got := srv.Wait(t, "ann@example.test", 1)
			if got.Subject != "Grüße" || !strings.Contains(got.Text, "hello") || got.HTML != "<p>hello</p>" {
				t.Errorf("received %+v", got)
			}
			if got.From != "noreply@gatehouse.test" || got.Header.Get("From") != `"Gatehouse" <noreply@gatehouse.test>` {
				t.Errorf("from %q / %q", got.From, got.Header.Get("From"))
			}
			if l := got.Link(t, "x.test"); l != "https://x.test/a?b=c" {
				t.Errorf("link %q", l)
			}
		})
	}
}

func TestSendRefusals(t *testing.T) {
	srv := mailtest.StartWith(t, mailtest.Options{StartTLS: true, User: "mailer", Password: "mail-pass"})
	settings := srv.Settings()
	settings["password"] = "wrong"
	st, _ := mail.ParseSettings(settings)
	s := &mail.Sender{TLS: srv.ClientTLS()}
	if err := s.Send(context.Background(), st, mail.Message{To: "a@example.test", Text: "x"}); err == nil || !strings.Contains(err.Error(), "authenticate") {
		t.Errorf("wrong password: %v", err)
	}
	// An untrusted certificate is refused: STARTTLS never falls back.
	st, _ = mail.ParseSettings(srv.Settings())
	if err := (&mail.Sender{}).Send(context.Background(), st, mail.Message{To: "a@example.test", Text: "x"}); err == nil || !strings.Contains(err.Error(), "starttls") {
		t.Errorf("untrusted certificate: %v", err)
	}
	if srv.Count("a@example.test") != 0 {
		t.Error("a refused send delivered mail")
	}
	if _, err := mail.ParseSettings(map[string]string{"host": "h"}); !errors.Is(err, mail.ErrNotConfigured) {
		t.Errorf("no from: %v", err)
	}
	if _, err := mail.ParseSettings(map[string]string{"host": "h", "from": "a@b", "port": "x"}); err == nil {
		t.Error("bad port accepted")
	}
}

// A server that accepts the connection and never speaks is given up on:
// the send is bounded by the sender's timeout, never by the server.
func TestSendToASilentServerIsBounded(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	st, _ := mail.ParseSettings(map[string]string{"host": "127.0.0.1", "port": strconv.Itoa(port), "from": "a@b.test"})
	s := &mail.Sender{Timeout: 200 * time.Millisecond}
	if err := s.Send(context.Background(), st, mail.Message{To: "x@y.test", Text: "x"}); err == nil {
		t.Fatal("a silent server accepted the message")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (&mail.Sender{}).Send(ctx, st, mail.Message{To: "x@y.test", Text: "x"}); err == nil {
		t.Fatal("a cancelled send went on")
	}
}

func TestRenderInTheUsersLocale(t *testing.T) {
	rl := realm.Realm{Name: "acme", DisplayName: "ACME <Corp>", InternationalizationEnabled: true, SupportedLocales: []string{"en", "de"}}
	u := user.User{Attributes: map[string][]string{"locale": {"de"}}}
	if l := mail.Locale(rl, u); l != "de" {
		t.Fatalf("locale %q", l)
	}
	if l := mail.Locale(realm.Realm{}, u); l != "en" {
		t.Fatalf("locale without internationalization %q", l)
	}
	link := "https://id.test/realms/acme/login-actions/action-token?key=abc&client_id=app"
	m := mail.Render(mail.Content{Kind: mail.KindPasswordReset, Locale: "de", Realm: rl, Link: link, Expires: 300}, "a@b.test")
	if m.Subject != "Neues Passwort wählen" || !strings.Contains(m.Text, link) || !strings.Contains(m.Text, "5 Minuten") {
		t.Errorf("german reset mail: %q\n%s", m.Subject, m.Text)
	}
	if !strings.Contains(m.HTML, `href="https://id.test/realms/acme/login-actions/action-token?key=abc&amp;client_id=app"`) || !strings.Contains(m.HTML, "ACME &lt;Corp&gt;") {
		t.Errorf("html part not escaped as expected:\n%s", m.HTML)
	}
	m = mail.Render(mail.Content{Kind: mail.KindExecuteActions, Locale: "en", Realm: rl, Link: link, Expires: 43200, Actions: []string{"UPDATE_PASSWORD", "VERIFY_EMAIL"}}, "a@b.test")
	if !strings.Contains(m.Text, "Update Password, Verify Email") || !strings.Contains(m.Text, "12 hours") {
		t.Errorf("execute actions mail:\n%s", m.Text)
	}
	for kind, subject := range map[string]string{mail.KindVerifyEmail: "Confirm your email address", mail.KindTest: "[ACME <Corp>] mail settings test"} {
		if m := mail.Render(mail.Content{Kind: kind, Locale: "en", Realm: rl, Link: link, Expires: 86400}, "a@b.test"); m.Subject != subject {
			t.Errorf("%s subject %q", kind, m.Subject)
		}
	}
	if got := mail.Period("en", 90); got != "2 minutes" {
		t.Errorf("period %q", got)
	}
}
