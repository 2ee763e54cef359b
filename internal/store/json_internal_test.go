package store

import (
	"encoding/json"
	"reflect"
	"testing"
)

// fromJSON's shortcuts for empty documents answer what json.Unmarshal does.
func TestFromJSONEmptyShortcuts(t *testing.T) {
	for _, doc := range []string{"{}", "[]", `{"a":["b"]}`, `["x"]`} {
		for _, mk := range []func() any{
			func() any { return new(map[string][]string) },
			func() any { m := map[string][]string{"k": {"v"}}; return &m },
			func() any { return new(map[string]string) },
			func() any { m := map[string]string{"k": "v"}; return &m },
			func() any { return new([]string) },
			func() any { s := []string{"a", "b"}; return &s },
		} {
			got, want := mk(), mk()
			errGot := fromJSON(doc, got)
			errWant := json.Unmarshal([]byte(doc), want)
			if (errGot == nil) != (errWant == nil) || !reflect.DeepEqual(got, want) {
				t.Errorf("fromJSON(%s) into %T: %#v (%v), json.Unmarshal: %#v (%v)", doc, got, got, errGot, want, errWant)
			}
		}
	}
}
