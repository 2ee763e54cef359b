package token

import (
	"encoding/json"
	"unicode/utf8"
)

// decodeClaimsFast reads the claims of a verified token when they are
// written the way Gatehouse writes them: an object of strings without
// escapes, numbers, booleans, null, and nested objects and arrays of the
// same. It gives what json.Decoder with UseNumber gives for that input
// (numbers as json.Number, objects as map[string]any, a repeated key's
// last value), without reflection. Anything else, an escape sequence,
// invalid UTF-8, a malformed document, returns ok false and decodeClaims
// asks encoding/json, which owns every other case and every error.
// decodeClaims does not call it for a payload with a backslash in it:
// those have an escape, which only encoding/json reads.
func decodeClaimsFast(data []byte) (claims map[string]any, ok bool) {
	d := claimDecoder{data: data}
	d.space()
	if d.i >= len(d.data) || d.data[d.i] != '{' {
		return nil, false
	}
	v, ok := d.value(0)
	if !ok {
		return nil, false
	}
	d.space()
	if d.i != len(d.data) {
		return nil, false
	}
	return v.(map[string]any), true
}

// maxClaimDepth bounds the nesting the fast path follows; deeper documents
// go to encoding/json, which has its own limit.
const maxClaimDepth = 64

type claimDecoder struct {
	data []byte
	i    int
}

func (d *claimDecoder) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *claimDecoder) value(depth int) (any, bool) {
	if depth > maxClaimDepth || d.i >= len(d.data) {
		return nil, false
	}
	switch c := d.data[d.i]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		return d.string()
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case d.literal("true"):
		return true, true
	case d.literal("false"):
		return false, true
	case d.literal("null"):
		return nil, true
	}
	return nil, false
}

func (d *claimDecoder) literal(s string) bool {
	if len(d.data)-d.i >= len(s) && string(d.data[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return true
	}
	return false
}

func (d *claimDecoder) object(depth int) (any, bool) {
	d.i++ // {
	m := map[string]any{}
	d.space()
	if d.i < len(d.data) && d.data[d.i] == '}' {
		d.i++
		return m, true
	}
	for {
		d.space()
		if d.i >= len(d.data) || d.data[d.i] != '"' {
			return nil, false
		}
		k, ok := d.string()
		if !ok {
			return nil, false
		}
		d.space()
		if d.i >= len(d.data) || d.data[d.i] != ':' {
			return nil, false
		}
		d.i++
		d.space()
		v, ok := d.value(depth + 1)
		if !ok {
			return nil, false
		}
		m[k.(string)] = v
		end, ok := d.next('}')
		if !ok {
			return nil, false
		}
		if end {
			return m, true
		}
	}
}

func (d *claimDecoder) array(depth int) (any, bool) {
	d.i++ // [
	out := []any{}
	d.space()
	if d.i < len(d.data) && d.data[d.i] == ']' {
		d.i++
		return out, true
	}
	for {
		d.space()
		v, ok := d.value(depth + 1)
		if !ok {
			return nil, false
		}
		out = append(out, v)
		end, ok := d.next(']')
		if !ok {
			return nil, false
		}
		if end {
			return out, true
		}
	}
}

// next reads what follows an element of an object or array: a comma (more
// to come), or closer (end is true). Anything else is not ok.
func (d *claimDecoder) next(closer byte) (end, ok bool) {
	d.space()
	if d.i >= len(d.data) {
		return false, false
	}
	switch d.data[d.i] {
	case ',':
		d.i++
		return false, true
	case closer:
		d.i++
		return true, true
	}
	return false, false
}

// string reads a string without escapes or control characters, of valid
// UTF-8.
func (d *claimDecoder) string() (any, bool) {
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.data); j++ {
		switch c := d.data[j]; {
		case c == '"':
			s := d.data[start:j]
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			d.i = j + 1
			return string(s), true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// number reads a number in JSON's grammar, kept as its text.
func (d *claimDecoder) number() (any, bool) {
	start, j := d.i, d.i
	digits := func() bool {
		n := j
		for j < len(d.data) && d.data[j] >= '0' && d.data[j] <= '9' {
			j++
		}
		return j > n
	}
	if d.data[j] == '-' {
		j++
	}
	switch {
	case j < len(d.data) && d.data[j] == '0':
		j++
	case !digits():
		return nil, false
	}
	if j < len(d.data) && d.data[j] == '.' {
		j++
		if !digits() {
			return nil, false
		}
	}
	if j < len(d.data) && (d.data[j] == 'e' || d.data[j] == 'E') {
		j++
		if j < len(d.data) && (d.data[j] == '+' || d.data[j] == '-') {
			j++
		}
		if !digits() {
			return nil, false
		}
	}
	d.i = j
	return json.Number(string(d.data[start:j])), true
}
