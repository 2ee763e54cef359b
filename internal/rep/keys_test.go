package rep_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// A realm file with a component of every key provider imports with each
// provider, and no other: its realm-level privateKey (pre-Keycloak-4) is
// ignored with a warning, and no default provider is added. Its export
// names the same providers with their settings and key material, and
// importing that export gives the same keys and the same export again. A
// java-keystore provider is reported in the log and left out.
func TestKeyProvidersRoundTrip(t *testing.T) {
	legacy, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	spki, _ := x509.MarshalPKIXPublicKey(&legacy.PublicKey)
	sum := sha256.Sum256(spki)
	legacyKid := base64.RawURLEncoding.EncodeToString(sum[:])
	comp := func(name, provider string, config map[string][]string) map[string]any {
		return map[string]any{"name": name, "providerId": provider, "config": config}
	}
	file, _ := json.Marshal(map[string]any{
		"realm": "allkeys", "enabled": true, "defaultSignatureAlgorithm": "ES384",
		"privateKey": base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(legacy)),
		"publicKey":  base64.StdEncoding.EncodeToString(spki),
		"components": map[string]any{"org.keycloak.keys.KeyProvider": []any{
			comp("rsa-ps", "rsa-generated", map[string][]string{"algorithm": {"PS512"}, "priority": {"90"}}),
			comp("rsa-enc", "rsa-enc-generated", map[string][]string{"algorithm": {"RSA-OAEP"}}),
			comp("ec", "ecdsa-generated", map[string][]string{"ecdsaEllipticCurveKey": {"P-384"}, "ecGenerateCertificate": {"true"}}),
			comp("ed", "eddsa-generated", map[string][]string{"eddsaEllipticCurveKey": {"Ed25519"}, "active": {"false"}}),
			comp("hmac", "hmac-generated", map[string][]string{"algorithm": {"HS256"}, "secretSize": {"32"}}),
			comp("aes", "aes-generated", map[string][]string{"secretSize": {"32"}, "enabled": {"false"}}),
			// A keystore file on the server that wrote the export: reported, not imported.
			comp("jks", "java-keystore", map[string][]string{"keystore": {"/opt/keys.jks"}, "keystorePassword": {"pw"}}),
		}},
	})
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := context.Background()
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		a := server(t, open)
		if _, _, err := rep.ImportFile(ctx, a, file, rep.ImportOptions{Now: now, Log: log}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(logs.Bytes(), []byte("$.privateKey")) {
			t.Errorf("no warning about the ignored legacy key: %s", logs.String())
		}
		if !bytes.Contains(logs.Bytes(), []byte(`key provider \"java-keystore\" is not supported`)) || bytes.Contains(logs.Bytes(), []byte("pw")) {
			t.Errorf("java-keystore not reported, or its password logged: %s", logs.String())
		}
		first, err := rep.Export(ctx, a, "allkeys")
		if err != nil {
			t.Fatal(err)
		}
		var x rep.Realm
		if err := json.Unmarshal(first, &x); err != nil {
			t.Fatal(err)
		}
		byName := map[string]rep.Component{}
		for _, c := range x.Components["org.keycloak.keys.KeyProvider"] {
			byName[c.Name] = c
		}
		want := []struct {
			name, provider string
			config         map[string]string
			material       []string
		}{
			{"rsa-ps", "rsa-generated", map[string]string{"algorithm": "PS512", "priority": "90", "keySize": "2048"}, []string{"privateKey", "certificate"}},
			{"rsa-enc", "rsa-enc-generated", map[string]string{"algorithm": "RSA-OAEP", "keyUse": "ENC"}, []string{"privateKey", "certificate"}},
			{"ec", "ecdsa-generated", map[string]string{"ecdsaEllipticCurveKey": "P-384", "ecGenerateCertificate": "true"}, []string{"ecdsaPrivateKey", "ecdsaPublicKey", "certificate"}},
			{"ed", "eddsa-generated", map[string]string{"eddsaEllipticCurveKey": "Ed25519", "active": "false"}, []string{"eddsaPrivateKey", "eddsaPublicKey"}},
			{"hmac", "hmac-generated", map[string]string{"algorithm": "HS256", "secretSize": "32"}, []string{"secret", "kid"}},
			{"aes", "aes-generated", map[string]string{"secretSize": "32", "enabled": "false"}, []string{"secret", "kid"}},
		}
		if len(byName) != len(want) {
			t.Errorf("export has %v, want the file's providers alone", slices.Sorted(maps.Keys(byName)))
		}
		for _, w := range want {
			c, ok := byName[w.name]
			if !ok || c.ProviderID != w.provider {
				t.Errorf("export lacks %s (%s): %v", w.name, w.provider, slices.Sorted(maps.Keys(byName)))
				continue
			}
			for k, v := range w.config {
				if got := c.Config[k]; len(got) != 1 || got[0] != v {
					t.Errorf("%s config %s = %v, want %s", w.name, k, got, v)
				}
			}
			for _, k := range w.material {
				if got := c.Config[k]; len(got) != 1 || got[0] == "" {
					t.Errorf("%s config lacks %s", w.name, k)
				}
			}
		}

		b := server(t, open)
		if _, _, err := rep.ImportFile(ctx, b, first, rep.ImportOptions{Now: now.Add(time.Hour)}); err != nil {
			t.Fatalf("re-import: %v", err)
		}
		second, err := rep.Export(ctx, b, "allkeys")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("export → import → export differs:\n%s", firstDiff(first, second))
		}
		kids := func(db *store.DB) []string {
			r, err := db.GetRealmByName(ctx, "allkeys")
			if err != nil {
				t.Fatal(err)
			}
			ks, err := db.ListKeys(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, k := range ks {
				out = append(out, k.DisplayName()+"="+k.Kid+"/"+k.Algorithm)
			}
			slices.Sort(out)
			return out
		}
		ka, kb := kids(a), kids(b)
		if !slices.Equal(ka, kb) {
			t.Errorf("keys differ after the round trip:\n%v\n%v", ka, kb)
		}
		for _, k := range ka {
			if strings.Contains(k, "="+legacyKid+"/") {
				t.Errorf("legacy realm key imported beside the file's providers: %v", ka)
			}
		}
	})
}

// A pre-Keycloak-4 file, with a realm-level privateKey (a 1024-bit key, as
// old files hold) and no key provider, imports that key as the "rsa"
// provider with a warning, beside the HS512 and AES defaults and no
// generated RSA key.
func TestLegacyRealmKey(t *testing.T) {
	legacy, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	spki, _ := x509.MarshalPKIXPublicKey(&legacy.PublicKey)
	sum := sha256.Sum256(spki)
	legacyKid := base64.RawURLEncoding.EncodeToString(sum[:])
	file, _ := json.Marshal(map[string]any{
		"realm": "oldkeys", "enabled": true,
		"privateKey": base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(legacy)),
		"publicKey":  base64.StdEncoding.EncodeToString(spki),
	})
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := context.Background()
		var logs bytes.Buffer
		db := server(t, open)
		if _, _, err := rep.ImportFile(ctx, db, file, rep.ImportOptions{Now: now, Log: slog.New(slog.NewTextHandler(&logs, nil))}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(logs.Bytes(), []byte("1024-bit RSA key")) || !bytes.Contains(logs.Bytes(), []byte("$.privateKey")) {
			t.Errorf("no warning about the 1024-bit legacy key: %s", logs.String())
		}
		r, err := db.GetRealmByName(ctx, "oldkeys")
		if err != nil {
			t.Fatal(err)
		}
		ks, err := db.ListKeys(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, k := range ks {
			got = append(got, k.DisplayName()+"/"+k.Algorithm)
			if k.Algorithm == "RS256" && k.Kid != legacyKid {
				t.Errorf("an RSA key other than the file's: %s", k.Kid)
			}
		}
		slices.Sort(got)
		if want := []string{"aes-generated/AES", "hmac-generated-hs512/HS512", "rsa/RS256"}; !slices.Equal(got, want) {
			t.Errorf("keys %v, want %v", got, want)
		}
	})
}
