package rep

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// A realm file is read as Keycloak's Jackson reads it, which real exports
// rely on:
//
//   - a boolean or a number may be written as a string ("true", "3600"),
//     and a string field may hold a boolean or a number (realm attributes
//     holding true);
//   - a list may be given as its single element (a user attribute "phone":
//     "123" rather than ["123"]);
//   - an object holding a key twice keeps the last value, and the first is
//     not looked at;
//   - an unknown key is ignored.
//
// Gatehouse goes one step further on the last point: an ignored key is
// reported, by JSON path, so that an operator sees what the import did not
// keep. The report is derived from the representation structs themselves
// (their json tags), so a member starts being stored, and stops being
// reported, the day a field is added for it.

// storedTag on a map field of a representation lists the map keys whose
// entries the importer stores ("a,b"); entries under other keys are
// reported as not stored. Without it every entry is kept.
const storedTag = "stored"

// lenientDecode decodes data into v the way Jackson would, and returns the
// JSON paths of the members that v does not hold (sorted, in document
// order within an object).
func lenientDecode(data []byte, v any) (ignored []string, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		// Syntax errors are reported by decodeStrict on the original bytes.
		return nil, decodeStrict(data, v)
	}
	n := normalizer{}
	tree = n.value(tree, reflect.TypeOf(v).Elem(), "$")
	norm, err := json.Marshal(tree)
	if err != nil {
		return nil, importErr("$", "%v", err)
	}
	if err := decodeStrict(norm, v); err != nil {
		return nil, err
	}
	if x, ok := v.(*Realm); ok {
		x.upgradeLegacy()
	}
	return n.ignored, nil
}

// DecodeLenient decodes one JSON object in a realm file's format into v (a
// pointer to a representation struct) as a realm file is read, members of
// old exports upgraded, and returns the JSON paths of the members v does
// not hold.
func DecodeLenient(data []byte, v any) (ignored []string, err error) {
	return lenientDecode(data, v)
}

type normalizer struct {
	ignored []string
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	numberType      = reflect.TypeFor[json.Number]()
)

// value returns raw rewritten to fit t: members t has no field for are
// dropped (and reported), scalars coerced as Jackson coerces them.
func (n *normalizer) value(raw any, t reflect.Type, path string) any {
	if raw == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || t == numberType {
		return raw
	}
	switch t.Kind() {
	case reflect.Interface:
		return raw
	case reflect.Struct:
		obj, ok := raw.(map[string]any)
		if !ok {
			return raw // decodeStrict reports the mismatch with its path
		}
		fields := jsonFields(t)
		for _, k := range sortedKeys(obj) {
			f, ok := fields[k]
			if !ok {
				n.ignored = append(n.ignored, memberPath(path, k))
				delete(obj, k)
				continue
			}
			obj[k] = n.field(obj[k], f, memberPath(path, k))
		}
		return obj
	case reflect.Map:
		obj, ok := raw.(map[string]any)
		if !ok {
			return raw
		}
		for _, k := range sortedKeys(obj) {
			obj[k] = n.value(obj[k], t.Elem(), keyPath(path, k))
		}
		return obj
	case reflect.Slice:
		arr, ok := raw.([]any)
		if !ok {
			if _, isObj := raw.(map[string]any); isObj || t.Elem().Kind() == reflect.Uint8 {
				return raw
			}
			arr = []any{raw} // a single value where a list is expected
		}
		for i := range arr {
			arr[i] = n.value(arr[i], t.Elem(), path+"["+strconv.Itoa(i)+"]")
		}
		return arr
	case reflect.Bool:
		if s, ok := raw.(string); ok {
			if b, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
				return b
			}
		}
		return raw
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if s, ok := raw.(string); ok {
			s = strings.TrimSpace(s)
			if s == "" {
				return nil // Jackson reads an empty string as null here
			}
			if _, err := strconv.ParseFloat(s, 64); err == nil {
				return json.Number(s)
			}
		}
		return raw
	case reflect.String:
		switch x := raw.(type) {
		case bool:
			return strconv.FormatBool(x)
		case json.Number:
			return x.String()
		}
		return raw
	}
	return raw
}

// field normalises a struct member, applying its stored tag.
func (n *normalizer) field(raw any, f reflect.StructField, path string) any {
	stored, ok := f.Tag.Lookup(storedTag)
	if !ok {
		return n.value(raw, f.Type, path)
	}
	obj, isObj := raw.(map[string]any)
	if isObj {
		keep := strings.Split(stored, ",")
		for _, k := range sortedKeys(obj) {
			if !slices.Contains(keep, k) {
				n.ignored = append(n.ignored, keyPath(path, k))
				delete(obj, k)
			}
		}
	}
	return n.value(raw, f.Type, path)
}

// jsonFields maps each json name of struct t, embedded structs included, to
// its field.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, shadowed := out[k]; !shadowed {
						out[k] = v
					}
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

// memberPath appends an object member to a JSON path: .name when the name
// is a plain identifier, ["name"] otherwise.
func memberPath(path, k string) string {
	if k != "" && strings.IndexFunc(k, func(r rune) bool {
		return !(r == '_' || r == '$' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0 {
		return path + "." + k
	}
	return keyPath(path, k)
}

// keyPath appends a map key to a JSON path, always as ["key"].
func keyPath(path, k string) string {
	return path + "[" + strconv.Quote(k) + "]"
}
