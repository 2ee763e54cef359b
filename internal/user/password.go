package user

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Password hash algorithms, named as Keycloak names its hash providers in
// credentialData and in the hashAlgorithm(...) password policy.
const (
	HashArgon2       = "argon2"        // Keycloak 25+ default outside FIPS mode
	HashPBKDF2SHA512 = "pbkdf2-sha512" // Keycloak 24 default, FIPS default
	HashPBKDF2SHA256 = "pbkdf2-sha256" // Keycloak ≤ 23 default
	HashPBKDF2SHA1   = "pbkdf2"
)

// MaxPasswordLength is the longest password, in bytes, that is hashed or
// checked. Without a bound any client could make the server buffer and hash
// megabytes per login attempt; 1024 bytes is far above what people and
// password managers use.
const MaxPasswordLength = 1024

var (
	// ErrPasswordTooLong reports a password longer than MaxPasswordLength.
	// VerifyPassword returns it with ok == false: treat it as a failed attempt.
	ErrPasswordTooLong = fmt.Errorf("password is longer than %d bytes", MaxPasswordLength)
	// ErrUnsupportedHash reports a stored hash or a policy whose algorithm or
	// variant Gatehouse cannot compute (argon2d, Argon2 version 1.0, unknown names).
	ErrUnsupportedHash = errors.New("unsupported password hash")
	// ErrHashLimits reports a stored hash whose parameters are beyond the
	// bounds of hashParams.check: verifying it would cost the server more
	// than any hash Keycloak's providers make.
	ErrHashLimits = errors.New("password hash parameters out of bounds")
)

// Keycloak's defaults for new hashes (Argon2PasswordHashProviderFactory,
// Pbkdf2*PasswordHashProviderFactory, Keycloak 24+).
const (
	argon2DefaultIterations  = 5
	argon2DefaultMemory      = 7168 // KiB
	argon2DefaultParallelism = 1
	argon2DefaultHashLength  = 32 // bytes
	argon2DefaultType        = "id"
	argon2DefaultVersion     = "1.3"
	pbkdf2KeyLength          = 64 // DEFAULT_DERIVED_KEY_SIZE = 512 bits
	saltLength               = 16
)

var pbkdf2DefaultIterations = map[string]int{
	HashPBKDF2SHA512: 210_000,
	HashPBKDF2SHA256: 600_000,
	HashPBKDF2SHA1:   1_300_000,
}

// Bounds on every password hash Gatehouse computes, whether its parameters
// come from a stored, imported or admin-supplied credential or from a realm's
// password policy. A credential is data a realm admin can write: without
// these, one whose Argon2 parameters ask for 1 GiB made every wrong password
// for that user allocate 1 GiB (issue 12). The bounds admit every hash
// Keycloak's own providers make, and little more:
//
//   - Argon2PasswordHashProviderFactory writes 7168 KiB, 5 passes, 1 lane and
//     a 32-byte hash, and takes a policy's hashIterations only up to 100.
//     64 MiB admits RFC 9106's second recommended setting (64 MiB, 3 passes,
//     4 lanes) and every OWASP one, at 9 times Keycloak's memory; the passes
//     are bounded by Keycloak's 100, and memory × passes by Keycloak's memory
//     at 100 passes, so 64 MiB goes up to 10 passes. On a loaded two-core
//     machine one hash took 0.1 s at Keycloak's default, 0.6 s at 7 MiB × 100
//     and 1.5 s at 64 MiB × 10.
//     16 lanes is four times RFC 9106's 4; lanes cost goroutines, not memory.
//   - The PBKDF2 providers write a 64-byte key (32 before Keycloak 24) at
//     210,000 (SHA-512), 600,000 (SHA-256) and 1,300,000 (SHA-1) iterations,
//     OWASP's 2023 figures, tuned to cost alike (27,500 before Keycloak 24).
//     Twice that leaves room for an operator who raised them while keeping a
//     login within twice the CPU Keycloak chose; PBKDF2 needs no memory.
//
// With these, one hash holds at most maxArgon2Memory: the per-node bound on
// memory is this times the hash slots of authn's semaphore.
const (
	maxArgon2Memory      = 64 << 10 // KiB: 64 MiB
	maxArgon2Iterations  = 100
	maxArgon2Work        = argon2DefaultMemory * maxArgon2Iterations // KiB × passes
	maxArgon2Parallelism = 16
	maxArgon2HashLength  = 1024 // bytes; the output costs next to nothing
	maxPBKDF2KeyLength   = pbkdf2KeyLength
	maxSaltLength        = 1024 // bytes
)

// MaxArgon2MemoryBytes is the most memory one password hash can need.
const MaxArgon2MemoryBytes = maxArgon2Memory << 10

var maxPBKDF2Iterations = map[string]int{
	HashPBKDF2SHA512: 2 * pbkdf2DefaultIterations[HashPBKDF2SHA512],
	HashPBKDF2SHA256: 2 * pbkdf2DefaultIterations[HashPBKDF2SHA256],
	HashPBKDF2SHA1:   2 * pbkdf2DefaultIterations[HashPBKDF2SHA1],
}

// maxPolicyIterations is the largest hashIterations(...) a policy may hold:
// Keycloak ignores PBKDF2-sized counts under Argon2, so realms moved from
// PBKDF2 keep one (often 27500), but none beyond what some algorithm takes.
var maxPolicyIterations = max(maxPBKDF2Iterations[HashPBKDF2SHA512], maxPBKDF2Iterations[HashPBKDF2SHA256], maxPBKDF2Iterations[HashPBKDF2SHA1])

// HashPolicy chooses how new password hashes are made, from a realm's password
// policy (see ParseHashPolicy). The zero value means Keycloak's default:
// Argon2id, version 1.3, 5 iterations, 7168 KiB, parallelism 1, 32-byte hash.
type HashPolicy struct {
	Algorithm  string // HashArgon2, HashPBKDF2SHA512, HashPBKDF2SHA256 or HashPBKDF2SHA1; "" means HashArgon2
	Iterations int    // 0 means the algorithm's Keycloak default
}

// hashParams is everything that determines a hash besides password and salt.
// Two credentials with equal hashParams were hashed the same way.
type hashParams struct {
	algorithm  string
	iterations int
	keyLength  int // bytes
	// Argon2 only.
	argonType   string
	version     string
	memory      int // KiB
	parallelism int
}

// params resolves the policy into the parameters of a new hash.
func (p HashPolicy) params() (hashParams, error) {
	switch alg := p.Algorithm; alg {
	case "", HashArgon2:
		iter := argon2DefaultIterations
		switch {
		case p.Iterations > maxPolicyIterations:
			return hashParams{}, fmt.Errorf("password hash policy: hash iterations %d out of range 1..%d", p.Iterations, maxPolicyIterations)
		case p.Iterations > 0 && p.Iterations <= maxArgon2Iterations:
			iter = p.Iterations
		}
		return hashParams{
			algorithm:   HashArgon2,
			iterations:  iter,
			keyLength:   argon2DefaultHashLength,
			argonType:   argon2DefaultType,
			version:     argon2DefaultVersion,
			memory:      argon2DefaultMemory,
			parallelism: argon2DefaultParallelism,
		}, nil
	case HashPBKDF2SHA512, HashPBKDF2SHA256, HashPBKDF2SHA1:
		iter := pbkdf2DefaultIterations[alg]
		if p.Iterations > 0 {
			iter = p.Iterations
		}
		hp := hashParams{algorithm: alg, iterations: iter, keyLength: pbkdf2KeyLength}
		if err := hp.check(); err != nil {
			return hashParams{}, fmt.Errorf("password hash policy: %w", err)
		}
		return hp, nil
	default:
		return hashParams{}, fmt.Errorf("password hash policy: algorithm %q: %w", alg, ErrUnsupportedHash)
	}
}

// check is the one bound on hash parameters: every hash Gatehouse computes
// passes it first (HashPassword through HashPolicy.params, VerifyPassword and
// CheckStoredPassword through parseStored), so that derive never panics, never
// needs more than maxArgon2Memory and never runs longer than Keycloak's own
// providers make a login run.
func (p hashParams) check() error {
	if p.iterations < 1 {
		return fmt.Errorf("hash iterations %d out of range", p.iterations)
	}
	switch p.algorithm {
	case HashArgon2:
		if p.argonType != "id" && p.argonType != "i" {
			// argon2d is not in golang.org/x/crypto; Keycloak never defaults to it.
			return fmt.Errorf("argon2 type %q: %w", p.argonType, ErrUnsupportedHash)
		}
		if p.version != "1.3" {
			// x/crypto implements only version 1.3 (0x13); 1.0 hashes differ.
			return fmt.Errorf("argon2 version %q: %w", p.version, ErrUnsupportedHash)
		}
		if p.iterations > maxArgon2Iterations {
			return fmt.Errorf("argon2 iterations %d out of range 1..%d", p.iterations, maxArgon2Iterations)
		}
		if p.keyLength < 4 || p.keyLength > maxArgon2HashLength {
			return fmt.Errorf("argon2 hash length %d out of range 4..%d", p.keyLength, maxArgon2HashLength)
		}
		if p.parallelism < 1 || p.parallelism > maxArgon2Parallelism {
			return fmt.Errorf("argon2 parallelism %d out of range 1..%d", p.parallelism, maxArgon2Parallelism)
		}
		if p.memory < 1 || p.memory > maxArgon2Memory {
			return fmt.Errorf("argon2 memory %d KiB out of range 1..%d", p.memory, maxArgon2Memory)
		}
		// Argon2 raises memory to 8 blocks per lane, so count at least that.
		if max(p.memory, 8*p.parallelism)*p.iterations > maxArgon2Work {
			return fmt.Errorf("argon2 cost %d KiB × %d iterations exceeds %d", p.memory, p.iterations, maxArgon2Work)
		}
	default:
		if _, err := pbkdf2Hash(p.algorithm); err != nil {
			return err
		}
		if limit := maxPBKDF2Iterations[p.algorithm]; p.iterations > limit {
			return fmt.Errorf("%s iterations %d out of range 1..%d", p.algorithm, p.iterations, limit)
		}
		if p.keyLength < 1 || p.keyLength > maxPBKDF2KeyLength {
			return fmt.Errorf("pbkdf2 hash length %d out of range 1..%d", p.keyLength, maxPBKDF2KeyLength)
		}
	}
	return nil
}

func pbkdf2Hash(algorithm string) (func() hash.Hash, error) {
	switch algorithm {
	case HashPBKDF2SHA512:
		return sha512.New, nil
	case HashPBKDF2SHA256:
		return sha256.New, nil
	case HashPBKDF2SHA1:
		return sha1.New, nil
	}
	return nil, fmt.Errorf("algorithm %q: %w", algorithm, ErrUnsupportedHash)
}

// derive computes the hash of password with p, which must have passed check.
//
// Keycloak pads PBKDF2 passwords shorter than 14 characters with NUL
// characters (for BC-FIPS). HMAC zero-pads its key to the block size anyway,
// so the padded and unpadded passwords give the same hash and none is added here.
func derive(password string, salt []byte, p hashParams) ([]byte, error) {
	if p.algorithm == HashArgon2 {
		t, m, l, n := uint32(p.iterations), uint32(p.memory), uint8(p.parallelism), uint32(p.keyLength)
		if p.argonType == "i" {
			return argon2.Key([]byte(password), salt, t, m, l, n), nil
		}
		return argon2.IDKey([]byte(password), salt, t, m, l, n), nil
	}
	h, err := pbkdf2Hash(p.algorithm)
	if err != nil {
		return nil, err
	}
	return pbkdf2.Key(h, password, salt, p.iterations, p.keyLength)
}

// passwordSecret and passwordData are Keycloak's PasswordSecretData and
// PasswordCredentialData; field order follows Keycloak's exports.
type passwordSecret struct {
	Value                string              `json:"value"`
	Salt                 string              `json:"salt"`
	AdditionalParameters map[string][]string `json:"additionalParameters"`
}

type passwordData struct {
	HashIterations       int             `json:"hashIterations"`
	Algorithm            string          `json:"algorithm"`
	AdditionalParameters json.RawMessage `json:"additionalParameters"`
}

// argon2Parameters is the Argon2 additionalParameters object, every value a
// one-element string array, in the order Keycloak writes them.
type argon2Parameters struct {
	HashLength  []string `json:"hashLength"`
	Memory      []string `json:"memory"`
	Type        []string `json:"type"`
	Version     []string `json:"version"`
	Parallelism []string `json:"parallelism"`
}

// HashPassword hashes password as the policy asks, with a fresh 16-byte salt,
// and returns the secretData and credentialData JSON documents of a Keycloak
// password credential.
func HashPassword(password string, policy HashPolicy) (secretData, credentialData string, err error) {
	if len(password) > MaxPasswordLength {
		return "", "", ErrPasswordTooLong
	}
	p, err := policy.params()
	if err != nil {
		return "", "", err
	}
	salt := make([]byte, saltLength)
	rand.Read(salt) // never fails since Go 1.24
	sum, err := derive(password, salt, p)
	if err != nil {
		return "", "", fmt.Errorf("hash password: %w", err)
	}
	sd, err := json.Marshal(passwordSecret{
		Value:                base64.StdEncoding.EncodeToString(sum),
		Salt:                 base64.StdEncoding.EncodeToString(salt),
		AdditionalParameters: map[string][]string{},
	})
	if err != nil {
		return "", "", fmt.Errorf("encode password secret data: %w", err)
	}
	extra := json.RawMessage(`{}`)
	if p.algorithm == HashArgon2 {
		extra, err = json.Marshal(argon2Parameters{
			HashLength:  []string{strconv.Itoa(p.keyLength)},
			Memory:      []string{strconv.Itoa(p.memory)},
			Type:        []string{p.argonType},
			Version:     []string{p.version},
			Parallelism: []string{strconv.Itoa(p.parallelism)},
		})
		if err != nil {
			return "", "", fmt.Errorf("encode argon2 parameters: %w", err)
		}
	}
	cd, err := json.Marshal(passwordData{HashIterations: p.iterations, Algorithm: p.algorithm, AdditionalParameters: extra})
	if err != nil {
		return "", "", fmt.Errorf("encode password credential data: %w", err)
	}
	return string(sd), string(cd), nil
}

// NewPasswordCredential returns a password credential for userID holding a
// hash of password made as the policy asks.
func NewPasswordCredential(id, userID, password string, createdMs int64, policy HashPolicy) (Credential, error) {
	sd, cd, err := HashPassword(password, policy)
	if err != nil {
		return Credential{}, err
	}
	return Credential{
		ID:             id,
		UserID:         userID,
		Type:           CredentialPassword,
		CreatedDate:    createdMs,
		SecretData:     sd,
		CredentialData: cd,
	}, nil
}

// storedHash is a parsed password credential.
type storedHash struct {
	params     hashParams
	salt, hash []byte
}

// parseStored reads a credential in Keycloak's layout and checks its
// parameters against the resource limits before anything is computed.
func parseStored(c Credential) (storedHash, error) {
	var sd passwordSecret
	if err := json.Unmarshal([]byte(c.SecretData), &sd); err != nil {
		return storedHash{}, fmt.Errorf("parse password secret data: %w", err)
	}
	var cd passwordData
	if err := json.Unmarshal([]byte(c.CredentialData), &cd); err != nil {
		return storedHash{}, fmt.Errorf("parse password credential data: %w", err)
	}
	sum, err := decodeBase64(sd.Value)
	if err != nil {
		return storedHash{}, fmt.Errorf("decode password hash: %w", err)
	}
	salt, err := decodeBase64(sd.Salt)
	if err != nil {
		return storedHash{}, fmt.Errorf("decode password salt: %w", err)
	}
	if len(salt) > maxSaltLength {
		return storedHash{}, fmt.Errorf("password salt is longer than %d bytes", maxSaltLength)
	}
	p := hashParams{algorithm: cd.Algorithm, iterations: cd.HashIterations, keyLength: len(sum)}
	switch cd.Algorithm {
	case HashArgon2:
		var extra map[string][]string
		if len(cd.AdditionalParameters) > 0 {
			if err := json.Unmarshal(cd.AdditionalParameters, &extra); err != nil {
				return storedHash{}, fmt.Errorf("parse argon2 parameters: %w", err)
			}
		}
		if p.argonType, err = firstParam(extra, "type"); err != nil {
			return storedHash{}, err
		}
		if p.version, err = firstParam(extra, "version"); err != nil {
			return storedHash{}, err
		}
		if p.keyLength, err = intParam(extra, "hashLength"); err != nil {
			return storedHash{}, err
		}
		if p.memory, err = intParam(extra, "memory"); err != nil {
			return storedHash{}, err
		}
		if p.parallelism, err = intParam(extra, "parallelism"); err != nil {
			return storedHash{}, err
		}
		if p.keyLength != len(sum) {
			return storedHash{}, fmt.Errorf("argon2 hash is %d bytes, hashLength says %d", len(sum), p.keyLength)
		}
	case HashPBKDF2SHA512, HashPBKDF2SHA256, HashPBKDF2SHA1:
		// The derived key length is not stored: Keycloak infers it from the
		// stored hash (64 bytes today, 32 in old releases).
	default:
		return storedHash{}, fmt.Errorf("password algorithm %q: %w", cd.Algorithm, ErrUnsupportedHash)
	}
	if err := p.check(); err != nil {
		return storedHash{}, fmt.Errorf("stored password hash: %w: %w", ErrHashLimits, err)
	}
	return storedHash{params: p, salt: salt, hash: sum}, nil
}

// decodeBase64 reads standard base64 as Keycloak writes it, tolerating
// missing padding from other exporters.
func decodeBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if b2, err2 := base64.RawStdEncoding.DecodeString(s); err2 == nil {
			return b2, nil
		}
	}
	return b, err
}

func firstParam(params map[string][]string, key string) (string, error) {
	v := params[key]
	if len(v) == 0 {
		return "", fmt.Errorf("argon2 parameter %q is missing", key)
	}
	return v[0], nil
}

func intParam(params map[string][]string, key string) (int, error) {
	s, err := firstParam(params, key)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("argon2 parameter %q: %w", key, err)
	}
	return n, nil
}

// VerifyPassword reports whether password matches the credential's hash.
// An error means the credential could not be checked (malformed, unsupported,
// or over the resource limits) or the password is too long; ok is then false.
func VerifyPassword(password string, c Credential) (ok bool, err error) {
	if len(password) > MaxPasswordLength {
		return false, ErrPasswordTooLong
	}
	s, err := parseStored(c)
	if err != nil {
		return false, err
	}
	sum, err := derive(password, s.salt, s.params)
	if err != nil {
		return false, fmt.Errorf("hash password: %w", err)
	}
	return subtle.ConstantTimeCompare(sum, s.hash) == 1, nil
}

// NeedsRehash reports whether the credential was hashed differently from how
// the policy hashes now, so that a password just verified should be hashed
// again and stored. Keycloak does this after each successful login; it is
// how old PBKDF2 hashes move to Argon2. A policy that cannot hash (unknown
// algorithm) never asks for a rehash.
func NeedsRehash(c Credential, policy HashPolicy) bool {
	want, err := policy.params()
	if err != nil {
		return false
	}
	s, err := parseStored(c)
	if err != nil {
		return true
	}
	return s.params != want
}

// ParseHashPolicy reads hashAlgorithm(...) and hashIterations(...) out of a
// Keycloak password policy string such as
// "length(8) and hashAlgorithm(pbkdf2-sha256) and hashIterations(27500)".
// Other policies, and iteration counts that are not positive integers, are
// ignored. Terms are split on " and " as Keycloak splits them.
func ParseHashPolicy(passwordPolicy string) HashPolicy {
	var p HashPolicy
	for term := range strings.SplitSeq(passwordPolicy, " and ") {
		name, arg, ok := strings.Cut(term, "(")
		if !ok {
			continue
		}
		end := strings.LastIndexByte(arg, ')')
		if end < 0 {
			continue
		}
		arg = strings.TrimSpace(arg[:end])
		switch strings.TrimSpace(name) {
		case "hashAlgorithm":
			p.Algorithm = arg
		case "hashIterations":
			if n, err := strconv.Atoi(arg); err == nil && n > 0 {
				p.Iterations = n
			}
		}
	}
	return p
}

// CheckStoredPassword reports whether a stored (typically imported) password
// credential can be verified at all: readable JSON, a supported algorithm and
// parameters within the limits. Import uses it to refuse a file up front
// rather than leave a user who can never log in.
func CheckStoredPassword(c Credential) error {
	_, err := parseStored(c)
	return err
}

// CheckHashPolicy reports whether the hashing terms of a password policy
// (hashAlgorithm, hashIterations) name hashes within the bounds of check, so
// that a realm whose policy would hash beyond them is refused where it
// enters rather than failing at every later password change.
func CheckHashPolicy(passwordPolicy string) error {
	_, err := ParseHashPolicy(passwordPolicy).params()
	return err
}
