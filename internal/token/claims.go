package token

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
)

// Parsed holds the registered claims endpoints check, read from verified
// claims. Raw keeps every claim.
type Parsed struct {
	Typ, Jti, Sid, Sub, Azp, Iss, Scope, Nonce string
	// Aud is the audience whether the token wrote a string or an array.
	Aud                []string
	Exp, Iat, AuthTime int64
	Raw                map[string]any
}

// Parse reads the registered claims of m (as returned by Verify, or built by
// Access and friends). A claim of the wrong JSON type is an error wrapping
// ErrInvalid; a missing one is left zero.
func Parse(m map[string]any) (Parsed, error) {
	p := Parsed{Raw: m}
	for name, dst := range map[string]*string{
		"typ": &p.Typ, "jti": &p.Jti, "sid": &p.Sid, "sub": &p.Sub, "azp": &p.Azp,
		"iss": &p.Iss, "scope": &p.Scope, "nonce": &p.Nonce,
	} {
		v, ok := m[name]
		if !ok || v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return Parsed{}, fmt.Errorf("%w: claim %s is not a string", ErrInvalid, name)
		}
		*dst = s
	}
	for name, dst := range map[string]*int64{"exp": &p.Exp, "iat": &p.Iat, "auth_time": &p.AuthTime} {
		v, ok := m[name]
		if !ok || v == nil {
			continue
		}
		n, ok := number(v)
		if !ok {
			return Parsed{}, fmt.Errorf("%w: claim %s is not an integer", ErrInvalid, name)
		}
		*dst = n
	}
	switch aud := m["aud"].(type) {
	case nil:
	case string:
		p.Aud = []string{aud}
	case []string:
		p.Aud = slices.Clone(aud)
	case []any:
		for _, a := range aud {
			s, ok := a.(string)
			if !ok {
				return Parsed{}, fmt.Errorf("%w: aud holds a non-string", ErrInvalid)
			}
			p.Aud = append(p.Aud, s)
		}
	default:
		return Parsed{}, fmt.Errorf("%w: aud is neither a string nor an array", ErrInvalid)
	}
	return p, nil
}

// number reads an integral JSON number in any of the forms claims hold it:
// json.Number from Verify, int64 from the builders, float64 from a plain
// json.Unmarshal.
func number(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		f, err := n.Float64()
		if err != nil {
			return 0, false
		}
		return integral(f)
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case float64:
		return integral(n)
	}
	return 0, false
}

func integral(f float64) (int64, bool) {
	if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// Expired reports whether the token has expired at now, by Keycloak's rule
// (JsonWebToken.isExpired): an exp of 0 never expires, otherwise the token
// is expired once now is past exp.
func (p Parsed) Expired(now time.Time) bool {
	return p.Exp != 0 && now.Unix() > p.Exp
}

// HasAudience reports whether aud names a.
func (p Parsed) HasAudience(a string) bool { return slices.Contains(p.Aud, a) }
