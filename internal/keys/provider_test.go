package keys

import (
	"encoding/base64"
	"strings"
	"testing"
)

// Every provider's key, written out as a component config and read back,
// is the same key: same kid, algorithm, use and material.
func TestComponentConfigRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		provider string
		config   map[string][]string
		alg, use string
	}{
		{ProviderRSAGenerated, map[string][]string{"algorithm": {"RS512"}}, RS512, UseSig},
		{ProviderRSAEncGenerated, nil, RSAOAEP, UseEnc},
		{ProviderECDSAGenerated, map[string][]string{"ecdsaEllipticCurveKey": {"P-521"}, "ecGenerateCertificate": {"true"}}, ES512, UseSig},
		{ProviderEdDSAGenerated, nil, EdDSA, UseSig},
		{ProviderHMACGenerated, map[string][]string{"algorithm": {"HS512"}, "secretSize": {"64"}}, HS512, UseSig},
		{ProviderAESGenerated, nil, AES, UseEnc},
	} {
		t.Run(tt.provider, func(t *testing.T) {
			k, err := FromComponent("id-1", Params{ProviderID: tt.provider, Name: "n", Config: tt.config}, "acme", testNow)
			if err != nil {
				t.Fatal(err)
			}
			if k.Algorithm != tt.alg || k.Use != tt.use || k.ID != "id-1" || k.Name != "n" || k.Kid == "" {
				t.Fatalf("generated %s/%s %q %q %q", k.Algorithm, k.Use, k.ID, k.Name, k.Kid)
			}
			cfg, err := ComponentConfig(k)
			if err != nil {
				t.Fatal(err)
			}
			back, err := FromComponent("id-1", Params{ProviderID: tt.provider, Name: "n", Config: cfg}, "acme", testNow)
			if err != nil {
				t.Fatal(err)
			}
			if back.Kid != k.Kid || back.Algorithm != k.Algorithm || string(back.Private) != string(k.Private) ||
				string(back.Certificate) != string(k.Certificate) {
				t.Errorf("round trip changed the key: %s/%s → %s/%s", k.Kid, k.Algorithm, back.Kid, back.Algorithm)
			}
			for name, v := range AdminConfig(k) {
				if strings.Contains(name, "rivate") || name == "secret" || (len(v) > 0 && len(v[0]) > 100) {
					t.Errorf("AdminConfig shows %s", name)
				}
			}
		})
	}
}

// RFC 7518 section 6.2.1.2: EC coordinates are the full size of the field
// (66 bytes for P-521) even when their leading bytes are zero.
func TestJWKSECCoordinatesArePadded(t *testing.T) {
	for range 20 {
		k, err := FromComponent("", Params{ProviderID: ProviderECDSAGenerated, Config: map[string][]string{"ecdsaEllipticCurveKey": {"P-521"}}}, "acme", testNow)
		if err != nil {
			t.Fatal(err)
		}
		set, err := JWKS([]Key{k})
		if err != nil {
			t.Fatal(err)
		}
		j := set.Keys[0]
		x, _ := base64.RawURLEncoding.DecodeString(j.X)
		y, _ := base64.RawURLEncoding.DecodeString(j.Y)
		if j.Kty != "EC" || j.Crv != "P-521" || len(x) != 66 || len(y) != 66 || j.N != "" {
			t.Fatalf("JWK %+v (x %d, y %d bytes)", j, len(x), len(y))
		}
	}
}

func TestFallback(t *testing.T) {
	for _, alg := range []string{RS256, PS384, ES256, ES384, ES512, EdDSA, HS256} {
		k, err := Fallback(alg, "acme", testNow)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if k.Algorithm != alg || k.Name != "fallback-"+alg || k.Priority != FallbackPriority || !k.Active || !k.Enabled {
			t.Errorf("%s: %+v", alg, k)
		}
	}
	if _, err := Fallback("none", "acme", testNow); err == nil {
		t.Error("Fallback(none) made a key")
	}
}

// A key stored before its provider settings were kept (empty Config)
// reports them from its material, and an update that sends them back
// unchanged, as a console does, keeps the key.
func TestSettingsOfKeysWithoutConfig(t *testing.T) {
	for _, tt := range []struct {
		provider, name, want string
	}{
		{ProviderRSAGenerated, "keySize", "2048"},
		{ProviderHMACGenerated, "secretSize", "64"},
		{ProviderECDSAGenerated, "ecdsaEllipticCurveKey", "P-256"},
		{ProviderEdDSAGenerated, "eddsaEllipticCurveKey", "Ed25519"},
	} {
		k, err := Generate(Params{ProviderID: tt.provider}, "acme", testNow)
		if err != nil {
			t.Fatal(err)
		}
		k.Config = nil
		if got := AdminConfig(k)[tt.name]; len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s: %s = %v, want %s", tt.provider, tt.name, got, tt.want)
		}
		if MaterialChanged(k, map[string][]string{tt.name: {tt.want}, "priority": {"5"}}) {
			t.Errorf("%s: sending %s back unchanged makes a new key", tt.provider, tt.name)
		}
		if tt.provider == ProviderRSAGenerated && !MaterialChanged(k, map[string][]string{tt.name: {"4096"}}) {
			t.Errorf("a new key size keeps the key")
		}
	}
}
