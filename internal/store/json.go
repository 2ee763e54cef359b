package store

import (
	"encoding/json"
	"fmt"
)

// toJSON encodes a value stored as a JSON column. Nil maps and slices are
// stored as empty ones so both dialects hold the same text.
func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Every type stored this way is a plain struct, map or slice.
		panic(fmt.Sprintf("store: encode %T: %v", v, err))
	}
	return string(b)
}

func fromJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	// Most users, sessions and clients store empty attributes, notes and
	// lists: those skip the decoder, with json.Unmarshal's own result (a
	// nil map becomes an empty one, a slice is emptied).
	switch p := v.(type) {
	case *map[string][]string:
		if s == "{}" {
			if *p == nil {
				*p = map[string][]string{}
			}
			return nil
		}
	case *map[string]string:
		if s == "{}" {
			if *p == nil {
				*p = map[string]string{}
			}
			return nil
		}
	case *[]string:
		if s == "[]" {
			if *p == nil {
				*p = []string{}
			} else {
				*p = (*p)[:0]
			}
			return nil
		}
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("decode stored %T: %w", v, err)
	}
	return nil
}

// placeholders returns "$from, $from+1, ..." for n arguments.
func placeholders(from, n int) string {
	b := make([]byte, 0, n*4)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, "$%d", from+i)
	}
	return string(b)
}
