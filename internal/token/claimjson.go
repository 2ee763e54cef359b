package token

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// marshalClaims encodes a claim set exactly as json.Marshal does (object
// keys sorted, HTML characters and U+2028/U+2029 escaped, invalid UTF-8
// replaced), byte for byte, so a token's payload does not depend on which
// of the two wrote it. It exists because json.Marshal reaches every
// nested map and slice through reflection and sorts map keys through
// reflect values, a visible share of a token's cost besides its signature.
// The types the builders produce (string, bool, int64, json.Number, nested
// maps and lists) are written here; any other value is handed to
// json.Marshal, which writes it the same way inside an object as alone.
// What it writes without an escape decodeClaimsFast reads back; a payload
// with one (a value with "&", say) is read by encoding/json (decodeClaims).
//
// json.Marshal owns every failure: when anything in the claim set is
// refused, or the set nests deeper than maxEncodeDepth (one that holds
// itself nests without end), the whole set is encoded again by
// json.Marshal, whose bytes or error are returned, the cycle it reports
// included.
func marshalClaims(claims map[string]any) ([]byte, error) {
	buf, err := appendJSON(make([]byte, 0, 1024), claims, 0)
	if err != nil {
		return json.Marshal(claims)
	}
	return buf, nil
}

// maxEncodeDepth bounds the nesting appendJSON follows; json.Marshal starts
// looking for cycles at the same depth.
const maxEncodeDepth = 1000

var errTooDeep = errors.New("claims nested too deep")

func appendJSON(buf []byte, v any, depth int) ([]byte, error) {
	if depth > maxEncodeDepth {
		return nil, errTooDeep
	}
	switch v := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case string:
		return appendJSONString(buf, v), nil
	case bool:
		if v {
			return append(buf, "true"...), nil
		}
		return append(buf, "false"...), nil
	case int64:
		return strconv.AppendInt(buf, v, 10), nil
	case int:
		return strconv.AppendInt(buf, int64(v), 10), nil
	case map[string]any:
		if v == nil {
			return append(buf, "null"...), nil
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, strings.Compare)
		buf = append(buf, '{')
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, k)
			buf = append(buf, ':')
			var err error
			if buf, err = appendJSON(buf, v[k], depth+1); err != nil {
				return nil, err
			}
		}
		return append(buf, '}'), nil
	case []string:
		if v == nil {
			return append(buf, "null"...), nil
		}
		buf = append(buf, '[')
		for i, s := range v {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, s)
		}
		return append(buf, ']'), nil
	case []any:
		if v == nil {
			return append(buf, "null"...), nil
		}
		buf = append(buf, '[')
		for i, e := range v {
			if i > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = appendJSON(buf, e, depth+1); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	}
	// json.Number (whose validation json.Marshal owns), floats, and
	// whatever else a caller put in.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(buf, b...), nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as encoding/json does with HTML escaping on,
// its default.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch b {
			case '\\', '"':
				buf = append(buf, '\\', b)
			case '\b':
				buf = append(buf, '\\', 'b')
			case '\f':
				buf = append(buf, '\\', 'f')
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
