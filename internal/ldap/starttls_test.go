package ldap_test

import (
	"errors"
	"net"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
)

// stallAfterStartTLS is a server that accepts the StartTLS request and then
// says nothing more, leaving the TLS handshake hanging.
func stallAfterStartTLS(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := ber.ReadPacket(c)
				if err != nil || len(req.Children) == 0 {
					return
				}
				resp := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Response")
				resp.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, req.Children[0].Value, "MessageID"))
				ext := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 24, nil, "Extended Response")
				ext.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 0, "resultCode"))
				ext.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "matchedDN"))
				ext.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "diagnosticMessage"))
				resp.AppendChild(ext)
				c.Write(resp.Bytes())
				// Then nothing: the client's ClientHello is never answered.
				c.SetReadDeadline(time.Now().Add(30 * time.Second))
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "ldap://" + lis.Addr().String()
}

// A server that accepts StartTLS and stalls in the handshake is an outage
// after the connection timeout, not a hung login.
func TestStartTLSHandshakeHasDeadline(t *testing.T) {
	cfg, err := ldap.Parse(map[string][]string{"editMode": {"READ_ONLY"}, "connectionUrl": {stallAfterStartTLS(t)}, "vendor": {"other"},
		"usersDn": {"ou=People,dc=example,dc=org"}, "startTls": {"true"}, "connectionPooling": {"false"}, "connectionTimeout": {"500"}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = ldap.Authenticate(t.Context(), cfg, "uid=user1,ou=People,dc=example,dc=org", "password")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("StartTLS stall held the login %v", d)
	}
	if !errors.Is(err, ldap.ErrUnreachable) {
		t.Errorf("stalled StartTLS: %v", err)
	}
}
