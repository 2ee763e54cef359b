package keys

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Names of the key providers a new realm gets.
const (
	nameRSAGenerated    = ProviderRSAGenerated
	nameRSAEncGenerated = ProviderRSAEncGenerated
	nameHMACGenerated   = "hmac-generated-hs512"
	nameAESGenerated    = ProviderAESGenerated
)

// Defaults makes the keys of a new realm, and of an imported realm whose
// file has no key provider, as Keycloak 26 creates them: "rsa-generated"
// (RS256), "rsa-enc-generated" (RSA-OAEP), "hmac-generated-hs512" (HS512)
// and "aes-generated", each at priority 100. The two RSA keys are generated
// at the same time, so a new realm costs about one RSA key's time.
func Defaults(realmName string, now time.Time) ([]Key, error) {
	type result struct {
		k   Key
		err error
	}
	enc := make(chan result, 1)
	go func() {
		if sharedEnc.on.Load() {
			k, err := sharedEncKey(realmName, now)
			enc <- result{k, err}
			return
		}
		k, err := generateNamed(ProviderRSAEncGenerated, nameRSAEncGenerated, nil, realmName, now)
		enc <- result{k, err}
	}()
	sig, err := generateNamed(ProviderRSAGenerated, nameRSAGenerated, nil, realmName, now)
	e := <-enc
	if err != nil {
		return nil, err
	}
	if e.err != nil {
		return nil, e.err
	}
	secrets, err := DefaultSecrets(now)
	if err != nil {
		return nil, err
	}
	return append([]Key{sig, e.k}, secrets...), nil
}

// sharedEnc is the one "rsa-enc-generated" key Defaults gives every realm
// once ShareEncKeyInTests was called.
var sharedEnc struct {
	on   atomic.Bool
	once sync.Once
	k    Key
	err  error
}

// ShareEncKeyInTests makes Defaults give every new realm of this process
// the same RSA-OAEP key, under a component id of its own, instead of
// generating one. Test binaries create hundreds of realms, each of which
// would otherwise cost a second 2048-bit key; Gatehouse never signs with
// that key, so no signature check is weakened. Only test support code
// (storetest) calls it; a server never does.
func ShareEncKeyInTests() { sharedEnc.on.Store(true) }

func sharedEncKey(realmName string, now time.Time) (Key, error) {
	sharedEnc.once.Do(func() {
		sharedEnc.k, sharedEnc.err = generateNamed(ProviderRSAEncGenerated, nameRSAEncGenerated, nil, realmName, now)
	})
	k := sharedEnc.k
	k.ID, k.CreatedAt, k.Config = newID(), now.UnixMilli(), maps.Clone(k.Config)
	return k, sharedEnc.err
}

// DefaultSecrets makes the "hmac-generated-hs512" (HS512) and
// "aes-generated" keys that a realm imported with a realm-level privateKey
// gets beside the "rsa" provider made of that key.
func DefaultSecrets(now time.Time) ([]Key, error) {
	hmac, err := GenerateHMAC(now)
	if err != nil {
		return nil, err
	}
	aes, err := generateNamed(ProviderAESGenerated, nameAESGenerated, nil, "", now)
	if err != nil {
		return nil, err
	}
	return []Key{hmac, aes}, nil
}

func generateNamed(providerID, name string, cfg map[string][]string, realmName string, now time.Time) (Key, error) {
	return Generate(Params{ProviderID: providerID, Name: name, Config: cfg}, realmName, now)
}

// Signs reports whether alg is a JWS algorithm realm keys sign with: the
// values a realm's defaultSignatureAlgorithm may take, and the algorithms
// an access or ID token of the realm may carry.
func Signs(alg string) bool { return slices.Contains(SignatureAlgorithms, alg) }
