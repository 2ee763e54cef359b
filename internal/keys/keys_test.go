package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// RSA generation takes tens of milliseconds, so the tests share one key.
var sharedRSA = sync.OnceValues(func() (Key, error) { return GenerateRSA("acme", testNow) })

func rsaKey(t *testing.T) Key {
	t.Helper()
	k, err := sharedRSA()
	if err != nil {
		t.Fatalf("GenerateRSA: %v", err)
	}
	return k
}

func rsaPrivate(t *testing.T, k Key) *rsa.PrivateKey {
	t.Helper()
	priv, err := k.RSAPrivate()
	if err != nil {
		t.Fatalf("RSAPrivate: %v", err)
	}
	return priv
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := newID()
		if !uuidV4.MatchString(id) {
			t.Fatalf("newID() = %q, not an RFC 4122 v4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("newID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestGenerateRSA(t *testing.T) {
	k := rsaKey(t)
	priv := rsaPrivate(t, k)
	cert, err := x509.ParseCertificate(k.Certificate)
	if err != nil {
		t.Fatalf("certificate does not parse: %v", err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	wantKid := sha256.Sum256(spki)
	tenYears := testNow.AddDate(10, 0, 0)

	tests := []struct {
		name string
		ok   bool
	}{
		{"provider is rsa-generated", k.ProviderID == "rsa-generated"},
		{"algorithm is RS256", k.Algorithm == "RS256"},
		{"use is sig", k.Use == "sig"},
		{"priority is 100", k.Priority == 100},
		{"enabled and active", k.Enabled && k.Active},
		{"created at now in epoch milliseconds", k.CreatedAt == testNow.UnixMilli()},
		{"id is a v4 UUID", uuidV4.MatchString(k.ID)},
		{"kid is base64url SHA-256 of the public key", k.Kid == base64.RawURLEncoding.EncodeToString(wantKid[:])},
		{"private key is 2048 bits", priv.N.BitLen() == 2048},
		{"certificate subject is CN=<realm>", cert.Subject.String() == "CN=acme"},
		{"certificate issuer is CN=<realm>", cert.Issuer.String() == "CN=acme"},
		{"certificate is signed SHA256WithRSA", cert.SignatureAlgorithm == x509.SHA256WithRSA},
		{"certificate self-signature verifies", cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) == nil},
		{"certificate holds the key's public key", priv.PublicKey.Equal(cert.PublicKey)},
		{"certificate valid now", !cert.NotBefore.After(testNow) && cert.NotAfter.After(testNow)},
		{"certificate validity starts within minutes of now", testNow.Sub(cert.NotBefore) <= 5*time.Minute},
		{"certificate valid about ten years", cert.NotAfter.Sub(tenYears).Abs() <= 24*time.Hour},
		{"certificate serial is positive", cert.SerialNumber.Sign() > 0},
		{"certificate base64 is the DER", k.CertificateBase64() == base64.StdEncoding.EncodeToString(k.Certificate)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.ok {
				t.Errorf("%s: does not hold for %+v", tt.name, Key{ID: k.ID, Kid: k.Kid, ProviderID: k.ProviderID, Algorithm: k.Algorithm, Use: k.Use, Priority: k.Priority, Enabled: k.Enabled, Active: k.Active, CreatedAt: k.CreatedAt})
			}
		})
	}
}

func TestPublicKeyBase64(t *testing.T) {
	k := rsaKey(t)
	priv := rsaPrivate(t, k)
	b64, err := k.PublicKeyBase64()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b64, "-----") || strings.ContainsAny(b64, "\r\n") {
		t.Fatalf("public_key has PEM armour or line breaks: %q", b64)
	}
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("public_key is not standard base64: %v", err)
	}
	parsed, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatalf("public_key is not a SubjectPublicKeyInfo: %v", err)
	}
	pub, ok := parsed.(*rsa.PublicKey)
	if !ok {
		t.Fatalf("public_key is a %T, want *rsa.PublicKey", parsed)
	}
	if pub.N.BitLen() != 2048 {
		t.Errorf("public key has %d bits, want 2048", pub.N.BitLen())
	}
	if !pub.Equal(&priv.PublicKey) {
		t.Error("public_key does not match the private key")
	}
}

func TestCertificateCommonName(t *testing.T) {
	priv := rsaPrivate(t, rsaKey(t))
	tests := []struct {
		name, realm, wantCN string
	}{
		{"plain realm name", "master", "master"},
		{"non-ASCII realm name kept", "société", "société"},
		{"long realm name truncated to 64 characters like Keycloak", strings.Repeat("é", 100), strings.Repeat("é", 64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := selfSignedCertificate(priv, tt.realm, testNow)
			if err != nil {
				t.Fatal(err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			if cert.Subject.CommonName != tt.wantCN || cert.Issuer.CommonName != tt.wantCN {
				t.Errorf("subject CN %q, issuer CN %q; want %q (%d runes)", cert.Subject.CommonName, cert.Issuer.CommonName, tt.wantCN, utf8.RuneCountInString(tt.wantCN))
			}
		})
	}
}

func TestRSAPrivateRejectsBadKeys(t *testing.T) {
	hmac, err := GenerateHMAC(testNow)
	if err != nil {
		t.Fatal(err)
	}
	ecPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ecPriv)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  Key
	}{
		{"no private key", Key{Kid: "a"}},
		{"HMAC secret is not an RSA key", hmac},
		{"EC key is not an RSA key", Key{Kid: "ec", Private: ecDER}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.key.RSAPrivate(); err == nil {
				t.Error("RSAPrivate succeeded, want an error")
			}
			if _, err := tt.key.PublicKeyBase64(); err == nil && tt.key.Kid != "ec" {
				t.Error("PublicKeyBase64 succeeded, want an error")
			}
		})
	}
}

func TestGenerateHMAC(t *testing.T) {
	a, err := GenerateHMAC(testNow)
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateHMAC(testNow)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ok   bool
	}{
		{"provider is hmac-generated", a.ProviderID == "hmac-generated"},
		{"algorithm is HS512", a.Algorithm == "HS512"},
		{"use is sig", a.Use == "sig"},
		{"priority is 100", a.Priority == 100},
		{"enabled and active", a.Enabled && a.Active},
		{"secret is 64 bytes", len(a.Private) == 64},
		{"no certificate", len(a.Certificate) == 0},
		{"kid is a v4 UUID", uuidV4.MatchString(a.Kid)},
		{"id is a v4 UUID", uuidV4.MatchString(a.ID)},
		{"created at now", a.CreatedAt == testNow.UnixMilli()},
		{"secrets differ between keys", !bytes.Equal(a.Private, b.Private)},
		{"kids differ between keys", a.Kid != b.Kid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.ok {
				t.Errorf("%s: does not hold (kid %q, alg %q, %d-byte secret)", tt.name, a.Kid, a.Algorithm, len(a.Private))
			}
		})
	}
}

func TestExportRSA(t *testing.T) {
	k := rsaKey(t)
	priv := rsaPrivate(t, k)
	privB64, certB64, err := ExportRSA(k)
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(privB64)
	if err != nil {
		t.Fatalf("privateKey is not standard base64: %v", err)
	}
	// Keycloak writes PKCS#1, so an export must be PKCS#1 too.
	exported, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		t.Fatalf("privateKey is not PKCS#1: %v", err)
	}
	if !exported.Equal(priv) {
		t.Error("exported private key differs")
	}
	if certB64 != base64.StdEncoding.EncodeToString(k.Certificate) {
		t.Error("certificate is not the base64 DER")
	}

	t.Run("key without certificate is refused", func(t *testing.T) {
		noCert := k
		noCert.Certificate = nil
		if _, _, err := ExportRSA(noCert); err == nil {
			t.Error("ExportRSA succeeded, want an error")
		}
	})
}

func TestImportRSA(t *testing.T) {
	k := rsaKey(t)
	priv := rsaPrivate(t, k)
	pkcs1 := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(priv))
	pkcs8 := base64.StdEncoding.EncodeToString(k.Private)
	pemPKCS1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)}))
	// Base64 broken into 64-character lines, as a PEM body without armour.
	var wrapped strings.Builder
	for i := 0; i < len(pkcs1); i += 64 {
		wrapped.WriteString(pkcs1[i:min(i+64, len(pkcs1))] + "\n")
	}
	cert := k.CertificateBase64()

	ecPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecCertDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{}, &x509.Certificate{}, &ecPriv.PublicKey, ecPriv)
	if err != nil {
		t.Fatal(err)
	}
	otherCert := base64.StdEncoding.EncodeToString(ecCertDER)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakB64 := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(weak))

	tests := []struct {
		name, provider, private, cert string
		wantErr                       bool
		wantAlg, wantUse              string
		wantSameCert                  bool
	}{
		{name: "PKCS#1 as Keycloak exports it", provider: "rsa-generated", private: pkcs1, cert: cert, wantAlg: "RS256", wantUse: "sig", wantSameCert: true},
		{name: "PKCS#8", provider: "rsa", private: pkcs8, cert: cert, wantAlg: "RS256", wantUse: "sig", wantSameCert: true},
		{name: "PEM with armour", provider: "rsa", private: pemPKCS1, cert: cert, wantAlg: "RS256", wantUse: "sig", wantSameCert: true},
		{name: "base64 broken into lines", provider: "rsa", private: wrapped.String(), cert: cert, wantAlg: "RS256", wantUse: "sig", wantSameCert: true},
		{name: "no certificate: one is generated", provider: "rsa", private: pkcs1, wantAlg: "RS256", wantUse: "sig"},
		{name: "encryption provider gives RSA-OAEP enc", provider: "rsa-enc-generated", private: pkcs1, cert: cert, wantAlg: "RSA-OAEP", wantUse: "enc", wantSameCert: true},
		{name: "certificate of another key is refused", provider: "rsa", private: pkcs1, cert: otherCert, wantErr: true},
		{name: "malformed certificate is refused", provider: "rsa", private: pkcs1, cert: "bm90IGEgY2VydA==", wantErr: true},
		{name: "not base64 is refused", provider: "rsa", private: "!!!", cert: cert, wantErr: true},
		{name: "not a key is refused", provider: "rsa", private: "bm90IGEga2V5", cert: cert, wantErr: true},
		// Keycloak accepts 1024-bit keys; old realm files carry them.
		{name: "1024-bit key is accepted", provider: "rsa", private: weakB64, wantAlg: "RS256", wantUse: "sig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ImportRSA("comp-1", "realm-1", tt.provider, tt.private, tt.cert, 150, true, false, "acme", testNow)
			if tt.wantErr {
				if err == nil {
					t.Fatal("ImportRSA succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != "comp-1" || got.RealmID != "realm-1" || got.ProviderID != tt.provider ||
				got.Priority != 150 || !got.Enabled || got.Active || got.CreatedAt != testNow.UnixMilli() {
				t.Errorf("metadata not kept: %+v", Key{ID: got.ID, RealmID: got.RealmID, ProviderID: got.ProviderID, Priority: got.Priority, Enabled: got.Enabled, Active: got.Active, CreatedAt: got.CreatedAt})
			}
			if got.Algorithm != tt.wantAlg || got.Use != tt.wantUse {
				t.Errorf("alg/use = %s/%s, want %s/%s", got.Algorithm, got.Use, tt.wantAlg, tt.wantUse)
			}
			if tt.private == weakB64 {
				if w := got.Weakness(); !strings.Contains(w, "1024-bit") {
					t.Errorf("Weakness() = %q, want it to name the 1024-bit key", w)
				}
				return
			}
			if w := got.Weakness(); w != "" {
				t.Errorf("Weakness() = %q for a 2048-bit key", w)
			}
			if got.Kid != k.Kid {
				t.Errorf("kid = %q, want %q (derived from the public key)", got.Kid, k.Kid)
			}
			if !bytes.Equal(got.Private, k.Private) {
				t.Error("private key not stored as the same PKCS#8")
			}
			if tt.wantSameCert != bytes.Equal(got.Certificate, k.Certificate) {
				t.Errorf("certificate kept = %v, want %v", !tt.wantSameCert, tt.wantSameCert)
			}
			c, err := x509.ParseCertificate(got.Certificate)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject.CommonName != "acme" || !priv.PublicKey.Equal(c.PublicKey) {
				t.Errorf("certificate CN %q or public key wrong", c.Subject.CommonName)
			}
		})
	}

	t.Run("empty id and provider get defaults", func(t *testing.T) {
		got, err := ImportRSA("", "r", "", pkcs1, cert, 100, true, true, "acme", testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !uuidV4.MatchString(got.ID) || got.ProviderID != "rsa" {
			t.Errorf("id %q provider %q", got.ID, got.ProviderID)
		}
	})

	t.Run("export then import round trips", func(t *testing.T) {
		privB64, certB64, err := ExportRSA(k)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ImportRSA(k.ID, k.RealmID, k.ProviderID, privB64, certB64, k.Priority, k.Enabled, k.Active, "acme", testNow)
		if err != nil {
			t.Fatal(err)
		}
		if got.Kid != k.Kid || !bytes.Equal(got.Private, k.Private) || !bytes.Equal(got.Certificate, k.Certificate) {
			t.Error("round trip changed the key")
		}
	})
}

func TestHMACExportImport(t *testing.T) {
	k, err := GenerateHMAC(testNow)
	if err != nil {
		t.Fatal(err)
	}
	secret := ExportHMAC(k)
	if strings.ContainsAny(secret, "+/=") {
		t.Errorf("secret %q is not unpadded base64url", secret)
	}
	padded := base64.URLEncoding.EncodeToString(k.Private)
	short := base64.RawURLEncoding.EncodeToString(make([]byte, 8))

	tests := []struct {
		name, kid, secret, alg string
		wantErr                bool
		wantAlg                string
	}{
		{name: "round trip", kid: k.Kid, secret: secret, alg: "HS512", wantAlg: "HS512"},
		{name: "padded base64url accepted", kid: k.Kid, secret: padded, alg: "HS512", wantAlg: "HS512"},
		{name: "no algorithm means Keycloak's default HS256", kid: k.Kid, secret: secret, wantAlg: "HS256"},
		{name: "HS384 accepted", kid: k.Kid, secret: secret, alg: "HS384", wantAlg: "HS384"},
		{name: "missing kid gets a new one", secret: secret, alg: "HS512", wantAlg: "HS512"},
		{name: "RSA algorithm refused", kid: k.Kid, secret: secret, alg: "RS256", wantErr: true},
		{name: "secret shorter than 16 bytes refused", kid: k.Kid, secret: short, alg: "HS512", wantErr: true},
		{name: "empty secret refused", kid: k.Kid, secret: "", alg: "HS512", wantErr: true},
		{name: "not base64url refused", kid: k.Kid, secret: "***", alg: "HS512", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ImportHMAC("comp-1", "realm-1", tt.kid, tt.secret, tt.alg, 100, true, true, testNow)
			if tt.wantErr {
				if err == nil {
					t.Fatal("ImportHMAC succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Private, k.Private) {
				t.Error("secret changed")
			}
			if got.Algorithm != tt.wantAlg {
				t.Errorf("algorithm = %q, want %q", got.Algorithm, tt.wantAlg)
			}
			wantKid := tt.kid
			if wantKid == "" {
				if !uuidV4.MatchString(got.Kid) {
					t.Errorf("generated kid %q is not a UUID", got.Kid)
				}
				wantKid = got.Kid
			}
			if got.Kid != wantKid || got.ID != "comp-1" || got.RealmID != "realm-1" || got.ProviderID != "hmac-generated" || got.Use != "sig" {
				t.Errorf("metadata not kept: id %q realm %q kid %q provider %q use %q", got.ID, got.RealmID, got.Kid, got.ProviderID, got.Use)
			}
			if _, ok := Verification([]Key{got}, wantKid); !ok {
				t.Error("imported key is not found for verification")
			}
		})
	}
}
