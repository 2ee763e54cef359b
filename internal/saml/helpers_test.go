package saml

import (
	"crypto/rsa"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

// Keys are generated once per test binary: RSA generation dominates the
// run time otherwise.
var (
	keyOnce       sync.Once
	idpKey, spKey keys.Key
	idpKey2       keys.Key
	keyErr        error
	ecKeys        = map[string]keys.Key{}
	ecMu          sync.Mutex
)

func realmKeys(t testing.TB) (idp, idp2, sp keys.Key) {
	t.Helper()
	keyOnce.Do(func() {
		now := time.Now()
		if idpKey, keyErr = keys.GenerateRSA("test", now); keyErr != nil {
			return
		}
		if idpKey2, keyErr = keys.GenerateRSA("test", now); keyErr != nil {
			return
		}
		spKey, keyErr = keys.GenerateRSA("sp", now)
	})
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	idpKey.Enabled, idpKey.Active = true, true
	idpKey2.Enabled, idpKey2.Active = true, false
	return idpKey, idpKey2, spKey
}

func ecKey(t *testing.T, curve string) keys.Key {
	t.Helper()
	ecMu.Lock()
	defer ecMu.Unlock()
	if k, ok := ecKeys[curve]; ok {
		return k
	}
	k, err := keys.Generate(keys.Params{ProviderID: keys.ProviderECDSAGenerated,
		Config: map[string][]string{"ecdsaEllipticCurveKey": {curve}, "ecGenerateCertificate": {"true"}}}, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ecKeys[curve] = k
	return k
}

func cert(t *testing.T, k keys.Key) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(k.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rsaPriv(t *testing.T, k keys.Key) *rsa.PrivateKey {
	t.Helper()
	p, err := k.RSAPrivate()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func signer(t *testing.T, k keys.Key, alg string) *Signer {
	t.Helper()
	s, err := SignerFromKey(k, alg)
	if err != nil {
		t.Fatal(err)
	}
	return &s
}

// postRequest is an HTTP request posting a message by the POST binding.
func postRequest(param string, xml []byte, relayState string) *http.Request {
	form := url.Values{param: {PostValue(xml)}}
	if relayState != "" {
		form.Set("RelayState", relayState)
	}
	r := httptest.NewRequest(http.MethodPost, "https://idp.example/realms/r/protocol/saml", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func mustRead(t *testing.T, r *http.Request) *Message {
	t.Helper()
	m, err := ReadMessage(r)
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	return m
}
