// Package mail sends a realm's email: its SMTP settings (the realm's
// smtpServer map, Keycloak's keys), the messages Gatehouse writes (email
// verification, password reset, execute actions, the test message) in the
// user's locale, and the delivery itself over SMTP with implicit TLS or
// STARTTLS and optional authentication.
//
// A send is always bounded: the connection by DialTimeout, the whole
// exchange by Timeout, so a slow or silent mail server never holds a request
// for long. Callers send after their database transaction has committed, so
// a mail never announces a change that was rolled back.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// ErrNotConfigured is returned when the realm has no mail server or no
// sender address: there is nothing to send with.
var ErrNotConfigured = errors.New("mail: no SMTP host or sender address configured")

// Settings are a realm's SMTP settings, read from its smtpServer map.
type Settings struct {
	Host               string
	Port               int
	From               string
	FromDisplayName    string
	ReplyTo            string
	ReplyToDisplayName string
	EnvelopeFrom       string
	SSL                bool // implicit TLS from the first byte
	StartTLS           bool
	Auth               bool
	User               string
	Password           string
}

// ParseSettings reads Keycloak's smtpServer keys. The port defaults to 465
// with SSL and 25 otherwise, as Keycloak's does. Host and from are required.
func ParseSettings(m map[string]string) (Settings, error) {
	s := Settings{
		Host:               strings.TrimSpace(m["host"]),
		From:               strings.TrimSpace(m["from"]),
		FromDisplayName:    m["fromDisplayName"],
		ReplyTo:            strings.TrimSpace(m["replyTo"]),
		ReplyToDisplayName: m["replyToDisplayName"],
		EnvelopeFrom:       strings.TrimSpace(m["envelopeFrom"]),
		SSL:                m["ssl"] == "true",
		StartTLS:           m["starttls"] == "true",
		Auth:               m["auth"] == "true",
		User:               m["user"],
		Password:           m["password"],
	}
	if s.Host == "" || s.From == "" {
		return s, ErrNotConfigured
	}
	s.Port = 25
	if s.SSL {
		s.Port = 465
	}
	if p := strings.TrimSpace(m["port"]); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return s, fmt.Errorf("mail: invalid port %q", p)
		}
		s.Port = n
	}
	for _, a := range []string{s.From, s.ReplyTo, s.EnvelopeFrom} {
		if a == "" {
			continue
		}
		if _, err := mail.ParseAddress(a); err != nil {
			return s, errors.New("mail: invalid sender or reply-to address")
		}
	}
	return s, nil
}

// Message is one email: a plain text part and an HTML part of the same
// content.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Sender delivers messages. The zero value uses the default timeouts and the
// system's certificate roots.
type Sender struct {
	// DialTimeout bounds the TCP connection and TLS handshake; Timeout the
	// whole exchange. Zero means 10 s and 30 s.
	DialTimeout time.Duration
	Timeout     time.Duration
	// TLS, when set, is the base TLS configuration (tests trust their own
	// certificate authority through RootCAs); ServerName is always the host.
	TLS *tls.Config
	// Now dates the messages; nil leaves the Date header to the mail server.
	Now func() time.Time
}

func (s *Sender) timeouts() (dial, whole time.Duration) {
	dial, whole = 10*time.Second, 30*time.Second
	if s != nil && s.DialTimeout > 0 {
		dial = s.DialTimeout
	}
	if s != nil && s.Timeout > 0 {
		whole = s.Timeout
	}
	return dial, whole
}

func (s *Sender) tlsConfig(host string) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if s != nil && s.TLS != nil {
		c = s.TLS.Clone()
	}
	c.ServerName = host
	return c
}

// Send delivers m with the settings st. It returns when the server has
// accepted the message, refused it, or the time is up. Errors name the
// stage that failed, never the recipient or the credentials.
func (s *Sender) Send(ctx context.Context, st Settings, m Message) error {
	if st.Host == "" || st.From == "" {
		return ErrNotConfigured
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return errors.New("mail: invalid recipient address")
	}
	var date time.Time
	if s != nil && s.Now != nil {
		date = s.Now()
	}
	body, err := st.compose(m, to, date)
	if err != nil {
		return err
	}
	dialT, wholeT := s.timeouts()
	ctx, cancel := context.WithTimeout(ctx, wholeT)
	defer cancel()
	addr := net.JoinHostPort(st.Host, strconv.Itoa(st.Port))
	d := &net.Dialer{Timeout: dialT}
	var conn net.Conn
	if st.SSL {
		td := &tls.Dialer{NetDialer: d, Config: s.tlsConfig(st.Host)}
		dctx, dcancel := context.WithTimeout(ctx, dialT)
		conn, err = td.DialContext(dctx, "tcp", addr)
		dcancel()
	} else {
		dctx, dcancel := context.WithTimeout(ctx, dialT)
		conn, err = d.DialContext(dctx, "tcp", addr)
		dcancel()
	}
	if err != nil {
		return fmt.Errorf("mail: connect: %w", err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	// A cancelled context ends the exchange at once, whatever it waits on.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := smtp.NewClient(conn, st.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mail: greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("mail: hello: %w", err)
	}
	if st.StartTLS && !st.SSL {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("mail: the server does not offer STARTTLS")
		}
		if err := c.StartTLS(s.tlsConfig(st.Host)); err != nil {
			return fmt.Errorf("mail: starttls: %w", err)
		}
	}
	if st.Auth {
		// PLAIN over an encrypted connection (or to the loopback host):
		// net/smtp refuses to send the password in the clear elsewhere.
		if err := c.Auth(smtp.PlainAuth("", st.User, st.Password, st.Host)); err != nil {
			return fmt.Errorf("mail: authenticate: %w", err)
		}
	}
	from := st.From
	if st.EnvelopeFrom != "" {
		from = st.EnvelopeFrom
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("mail: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		// The server's reply usually quotes the address: only its code is kept.
		var te *textproto.Error
		if errors.As(err, &te) {
			return fmt.Errorf("mail: recipient refused (%d)", te.Code)
		}
		return errors.New("mail: recipient refused")
	}
	wc, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if _, err := wc.Write(body); err != nil {
		wc.Close()
		return fmt.Errorf("mail: write: %w", err)
	}
	if err := wc.Close(); err != nil {
		return fmt.Errorf("mail: message refused: %w", err)
	}
	if err := c.Quit(); err != nil && ctx.Err() != nil {
		return fmt.Errorf("mail: quit: %w", err)
	}
	return nil
}

// compose writes the RFC 5322 message: headers, then a multipart/alternative
// body with the text part first and the HTML part last (the preferred one).
func (st Settings) compose(m Message, to *mail.Address, date time.Time) ([]byte, error) {
	var buf bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&buf, "%s: %s\r\n", k, v) }
	h("From", (&mail.Address{Name: st.FromDisplayName, Address: st.From}).String())
	h("To", to.String())
	if st.ReplyTo != "" {
		h("Reply-To", (&mail.Address{Name: st.ReplyToDisplayName, Address: st.ReplyTo}).String())
	}
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	if !date.IsZero() {
		h("Date", date.UTC().Format(time.RFC1123Z))
	}
	var id [16]byte
	rand.Read(id[:])
	h("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+domainOf(st.From)+">")
	h("MIME-Version", "1.0")
	mw := multipart.NewWriter(&buf)
	h("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	buf.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		if part.body == "" {
			continue
		}
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=UTF-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(part.body)); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func domainOf(addr string) string {
	if a, err := mail.ParseAddress(addr); err == nil {
		addr = a.Address
	}
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "gatehouse"
}
