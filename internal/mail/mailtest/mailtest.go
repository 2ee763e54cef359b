// Package mailtest runs a real SMTP server on a loopback port for tests: it
// accepts every message (over plain SMTP, STARTTLS or implicit TLS, with or
// without authentication), keeps it in memory, and lets a test wait for the
// message sent to an address and follow the link inside it.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options choose how the server is reached.
type Options struct {
	// TLS makes the server speak TLS from the first byte (the realm's
	// "ssl"); StartTLS offers the STARTTLS upgrade. Either way the
	// certificate is the server's own, trusted by ClientTLS.
	TLS      bool
	StartTLS bool
	// User and Password, when set, are required (AUTH PLAIN).
	User, Password string
}

// Mail is one received message.
type Mail struct {
	From    string
	To      []string
	Subject string
	Header  mail.Header
	Text    string
	HTML    string
	Raw     []byte
}

// Server is a running test SMTP server.
type Server struct {
	Host string
	Port int
	opts Options
	ca   *x509.CertPool

	mu     sync.Mutex
	mails  []Mail
	notify chan struct{}
}

// Start runs a plain SMTP server for the test's lifetime.
func Start(t testing.TB) *Server { return StartWith(t, Options{}) }

// StartWith runs a server with opts for the test's lifetime.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	cert, pool := selfSigned(t)
	s := &Server{opts: opts, ca: pool, notify: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.AllowInsecureAuth = !opts.StartTLS && !opts.TLS
	if opts.StartTLS {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.TLS {
		l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}})
	}
	addr := l.Addr().(*net.TCPAddr)
	s.Host, s.Port = "127.0.0.1", addr.Port
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Settings are a realm's smtpServer settings that reach this server.
func (s *Server) Settings() map[string]string {
	m := map[string]string{
		"host": s.Host, "port": strconv.Itoa(s.Port),
		"from": "noreply@gatehouse.test", "fromDisplayName": "Gatehouse",
	}
	if s.opts.TLS {
		m["ssl"] = "true"
	}
	if s.opts.StartTLS {
		m["starttls"] = "true"
	}
	if s.opts.User != "" {
		m["auth"], m["user"], m["password"] = "true", s.opts.User, s.opts.Password
	}
	return m
}

// ClientTLS is a TLS configuration that trusts the server's certificate.
func (s *Server) ClientTLS() *tls.Config { return &tls.Config{RootCAs: s.ca} }

// Mails returns every message received so far.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Count is the number of messages received so far for the address.
func (s *Server) Count(to string) int {
	n := 0
	for _, m := range s.Mails() {
		if m.sentTo(to) {
			n++
		}
	}
	return n
}

func (m Mail) sentTo(to string) bool {
	for _, r := range m.To {
		if strings.EqualFold(r, to) {
			return true
		}
	}
	return false
}

// Wait returns the n-th message (from 1) received for to, waiting up to ten
// seconds for it; the test fails when it does not come.
func (s *Server) Wait(t testing.TB, to string, n int) Mail {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		ch := s.notify
		seen := 0
		for _, m := range s.mails {
			if m.sentTo(to) {
				if seen++; seen == n {
					s.mu.Unlock()
					return m
				}
			}
		}
		s.mu.Unlock()
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("mailtest: no message #%d", n)
			return Mail{}
		}
	}
}

var reLink = regexp.MustCompile(`https?://[^\s"<>]+`)

// Link returns the first link in the text part that contains substr.
func (m Mail) Link(t testing.TB, substr string) string {
	t.Helper()
	for _, l := range reLink.FindAllString(m.Text, -1) {
		if strings.Contains(l, substr) {
			return l
		}
	}
	t.Fatalf("mailtest: no link containing %q in the message", substr)
	return ""
}

func (s *Server) add(m Mail) {
	s.mu.Lock()
	s.mails = append(s.mails, m)
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
}

type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

func (x *session) AuthMechanisms() []string {
	if x.s.opts.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != x.s.opts.User || pass != x.s.opts.Password {
			return errors.New("invalid credentials")
		}
		x.authed = true
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.opts.User != "" && !x.authed {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "unreadable message: " + err.Error()}
	}
	m.From, m.To = x.from, x.to
	x.s.add(m)
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// parse reads the headers and the text and HTML parts of a message.
func parse(raw []byte) (Mail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Mail{}, err
	}
	m := Mail{Header: msg.Header, Raw: raw}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return m, err
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return m, err
	}
	if !strings.HasPrefix(mt, "multipart/") {
		b, err := io.ReadAll(msg.Body)
		m.Text = string(b)
		return m, err
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return m, nil
		}
		if err != nil {
			return m, err
		}
		var body io.Reader = p // multipart decodes quoted-printable itself
		if p.Header.Get("Content-Transfer-Encoding") == "base64" {
			return m, errors.New("base64 parts are not read")
		}
		if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			body = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			return m, err
		}
		switch pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt {
		case "text/plain":
			m.Text = string(b)
		case "text/html":
			m.HTML = string(b)
		}
	}
}

// selfSigned makes the server's certificate for 127.0.0.1 and localhost.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Unix(0, 0),
		NotAfter:              time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
