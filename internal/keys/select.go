package keys

// Active returns the key that signs with alg: among enabled, active keys for
// that algorithm, the one with the highest priority, then the newest. The
// component id breaks a remaining tie so that every node picks the same key
// whatever order the store returned.
func Active(keys []Key, alg string) (Key, bool) {
	var best Key
	found := false
	for _, k := range keys {
		if !k.Enabled || !k.Active || k.Algorithm != alg {
			continue
		}
		if !found || better(k, best) {
			best, found = k, true
		}
	}
	return best, found
}

func better(a, b Key) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	if a.CreatedAt != b.CreatedAt {
		return a.CreatedAt > b.CreatedAt
	}
	return a.ID < b.ID
}

// Verification returns the enabled key, active or passive, with that kid: a
// passive key no longer signs but still verifies the tokens it signed.
// Disabled keys verify nothing.
//
// The caller must also check that the token's alg equals the key's
// Algorithm; otherwise a token could pick HS512 and be checked with an RSA
// key's bytes as the HMAC secret.
func Verification(keys []Key, kid string) (Key, bool) { return verification(keys, "", kid) }

// VerificationFor is Verification among the keys of algorithm alg only,
// the check the caller of Verification owes.
func VerificationFor(keys []Key, alg, kid string) (Key, bool) {
	if alg == "" {
		return Key{}, false
	}
	return verification(keys, alg, kid)
}

// verification is Verification among the keys of alg ("" for any).
func verification(keys []Key, alg, kid string) (Key, bool) {
	if kid == "" {
		return Key{}, false
	}
	var best Key
	found := false
	for _, k := range keys {
		if !k.Enabled || k.Kid != kid || (alg != "" && k.Algorithm != alg) {
			continue
		}
		if !found || better(k, best) {
			best, found = k, true
		}
	}
	return best, found
}
