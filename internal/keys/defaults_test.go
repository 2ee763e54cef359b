package keys_test

import (
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

// Defaults makes Keycloak's four default keys, two distinct RSA keys among
// them.
func TestDefaults(t *testing.T) {
	ks, err := keys.Defaults("r", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]keys.Key{}
	for _, k := range ks {
		got[k.DisplayName()+" "+k.ProviderID+" "+k.Algorithm+" "+k.Use] = k
		if k.Priority != 100 || !k.Active || !k.Enabled {
			t.Errorf("%s: priority %d, active %v, enabled %v", k.DisplayName(), k.Priority, k.Active, k.Enabled)
		}
	}
	sig, enc := got["rsa-generated rsa-generated RS256 sig"], got["rsa-enc-generated rsa-enc-generated RSA-OAEP enc"]
	if len(got) != 4 || sig.Kid == "" || enc.Kid == "" || sig.Kid == enc.Kid ||
		got["hmac-generated-hs512 hmac-generated HS512 sig"].Kid == "" || got["aes-generated aes-generated AES enc"].Kid == "" {
		t.Errorf("defaults: %v", got)
	}
}

// BenchmarkDefaultKeys is what a new realm's keys cost: the two RSA keys
// are generated at the same time.
func BenchmarkDefaultKeys(b *testing.B) {
	for range b.N {
		if _, err := keys.Defaults("r", time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGenerateRSA is one RSA key, for comparison with
// BenchmarkDefaultKeys.
func BenchmarkGenerateRSA(b *testing.B) {
	for range b.N {
		if _, err := keys.GenerateRSA("r", time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
