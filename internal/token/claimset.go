package token

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gatehouse-iam/gatehouse/internal/client"
)

// mapClaim converts a user, session or constant value (a string or a list of
// strings) with the mapper's jsonType.label and multivalued settings and
// writes it under the mapper's claim name.
func (b *builder) mapClaim(m client.ProtocolMapper, value any) {
	multi := m.Config[cfgMultivalued] == "true"
	b.put(m, convert(m.Config[cfgJSONType], multi, value), multi, false)
}

// mapRoles writes a role mapper's roles: prefixed, sorted and deduplicated,
// with ${client_id} in the claim name replaced by clientID. Two mappers
// writing the same list merge into it.
func (b *builder) mapRoles(m client.ProtocolMapper, roles []string, prefix, clientID, defaultClaim string) {
	if len(roles) == 0 {
		return
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = prefix + r
	}
	slices.Sort(names)
	names = slices.Compact(names)
	claim := m.Config[cfgClaimName]
	if claim == "" {
		claim = defaultClaim
	}
	if clientID != "" {
		// Dots and backslashes in a clientId must not split the claim path.
		esc := claimPathEscaper.Replace(clientID)
		claim = strings.ReplaceAll(claim, "${client_id}", esc)
	}
	multi := m.Config[cfgMultivalued] == "true"
	b.putAt(claim, convert(m.Config[cfgJSONType], multi, names), multi, true)
}

// claimPathEscaper escapes a clientId for use as one claim path component.
var claimPathEscaper = strings.NewReplacer(`\`, `\\`, ".", `\.`)

// Claims set on the token object rather than in its claim map (Keycloak's
// OIDCAttributeMapperHelper property setters): a mapper may set these…
var settable = map[string]bool{"sub": true, "azp": true, "acr": true, "auth_time": true, "aud": true}

// …and may not touch these, which the server assigns. sid is our addition:
// Keycloak would write it twice.
var fixed = map[string]bool{
	"jti": true, "typ": true, "iat": true, "exp": true, "iss": true, "scope": true,
	"nonce": true, "session_state": true, "sid": true,
}

// put writes v at the mapper's claim path. A multivalued value merges into a
// list already there (roles keep a sorted set); a single value replaces.
func (b *builder) put(m client.ProtocolMapper, v any, merge, roles bool) {
	b.putAt(m.Config[cfgClaimName], v, merge, roles)
}

// putAt is put with the claim name given.
func (b *builder) putAt(claim string, v any, merge, roles bool) {
	if v == nil {
		return
	}
	path := splitClaimPath(claim)
	if len(path) == 0 {
		return
	}
	if settable[path[0]] || fixed[path[0]] {
		if len(path) == 1 && settable[path[0]] {
			b.set(path[0], v)
		}
		return
	}
	obj := b.claims
	for _, c := range path[:len(path)-1] {
		switch next := obj[c].(type) {
		case map[string]any:
			obj = next
		case nil:
			nested := map[string]any{}
			obj[c] = nested
			obj = nested
		default:
			return // a scalar is in the way; leave it alone
		}
	}
	leaf := path[len(path)-1]
	if old, ok := obj[leaf]; ok && (merge || roles) && isList(v) {
		v = mergeLists(old, v, roles)
	}
	obj[leaf] = v
}

// set assigns one of the settable top-level claims.
func (b *builder) set(name string, v any) {
	switch name {
	case "aud":
		// Keycloak's setter replaces the audience.
		b.aud = nil
		for _, a := range toSlice(v) {
			b.addAudience(str(a))
		}
	case "auth_time":
		if n, err := strconv.ParseInt(str(v), 10, 64); err == nil {
			b.claims[name] = n
		}
	default:
		b.claims[name] = str(v)
	}
}

// convert applies jsonType.label to a string or []string, as Keycloak's
// mapAttributeValue does: a list becomes a list when multivalued, else its
// first value. Types: String, long, int, boolean, JSON; any other label
// (including none) keeps the string. A value that does not parse as its type
// (Keycloak fails the whole request) is dropped. nil means no claim.
func convert(typ string, multi bool, value any) any {
	switch v := value.(type) {
	case string:
		return convertOne(typ, v)
	case []string:
		if len(v) == 0 {
			return nil
		}
		if !multi {
			return convertOne(typ, v[0])
		}
		if typ == "" || typ == "String" {
			return slices.Clone(v)
		}
		out := make([]any, 0, len(v))
		for _, s := range v {
			if c := convertOne(typ, s); c != nil {
				out = append(out, c)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return nil
}

func convertOne(typ, s string) any {
	switch typ {
	case "long":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil
		}
		return n
	case "int":
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil
		}
		return n
	case "boolean":
		// Java's Boolean.valueOf: anything but "true" (any case) is false.
		return strings.EqualFold(s, "true")
	case "JSON":
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil || dec.More() || v == nil {
			return nil
		}
		return v
	}
	if s == "" {
		return nil
	}
	return s
}

// claimComponent and backslashed are Keycloak's JsonUtils.splitClaimPath: a
// component is one or more characters that are either a backslash-escaped
// character or neither backslash nor dot, ended by a dot.
var (
	claimComponent = regexp.MustCompile(`^((?:\\.|[^\\.])+?)\.`)
	backslashed    = regexp.MustCompile(`\\(.)`)
)

// splitClaimPath splits a claim name on unescaped dots: "realm_access.roles"
// is two components, `a\.b` is the single component "a.b".
//
// Claim names are configuration, so the same few are split on every
// request: the answers are kept (up to maxSplitClaims names) and shared,
// and callers must not modify them.
func splitClaimPath(claim string) []string {
	if v, ok := splitClaims.Load(claim); ok {
		return v.([]string)
	}
	out := splitClaimPathUncached(claim)
	if splitClaimsCount.Load() < maxSplitClaims {
		if _, loaded := splitClaims.LoadOrStore(claim, slices.Clip(out)); !loaded {
			splitClaimsCount.Add(1)
		}
	}
	return out
}

const maxSplitClaims = 4096

var (
	splitClaims      sync.Map // claim name → []string
	splitClaimsCount atomic.Int64
)

func splitClaimPathUncached(claim string) []string {
	var out []string
	rest := claim
	for {
		m := claimComponent.FindStringSubmatchIndex(rest)
		if m == nil {
			break
		}
		out = append(out, backslashed.ReplaceAllString(rest[m[2]:m[3]], "$1"))
		rest = rest[m[1]:]
	}
	if rest != "" {
		out = append(out, backslashed.ReplaceAllString(rest, "$1"))
	}
	return out
}

func isList(v any) bool {
	switch v.(type) {
	case []string, []any:
		return true
	}
	return false
}

func toSlice(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	case nil:
		return nil
	}
	return []any{v}
}

// mergeLists appends the members of add that old lacks. Lists of strings stay
// []string; sorted keeps role lists in order.
func mergeLists(old, add any, sorted bool) any {
	all := append(slices.Clone(toSlice(old)), toSlice(add)...)
	var out []any
	seen := map[string]bool{}
	for _, v := range all {
		k, _ := json.Marshal(v)
		if !seen[string(k)] {
			seen[string(k)] = true
			out = append(out, v)
		}
	}
	strs := make([]string, 0, len(out))
	for _, v := range out {
		s, ok := v.(string)
		if !ok {
			return out
		}
		strs = append(strs, s)
	}
	if sorted {
		slices.Sort(strs)
	}
	return strs
}

func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case int64: // a long-typed claim, such as auth_time
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}
