package authz

import (
	"encoding/json"
	"fmt"
)

// DropReference removes id from a policy config value that lists ids,
// either as plain strings (users, clients) or as objects with an "id"
// (roles, groups, client scopes). It returns the value without id, "" when
// nothing is left, and whether id was there. Entries keep their order and
// their other fields.
func DropReference(value, id string) (kept string, changed bool, err error) {
	if value == "" {
		return "", false, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal([]byte(value), &items); err != nil {
		return value, false, fmt.Errorf("read policy config list: %w", err)
	}
	out := items[:0]
	for _, it := range items {
		if referenceID(it) == id {
			changed = true
			continue
		}
		out = append(out, it)
	}
	if !changed {
		return value, false, nil
	}
	if len(out) == 0 {
		return "", true, nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return value, false, err
	}
	return string(b), true, nil
}

// referenceID is the id an entry of a config list names.
func referenceID(it json.RawMessage) string {
	var s string
	if json.Unmarshal(it, &s) == nil {
		return s
	}
	var o struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(it, &o) == nil {
		return o.ID
	}
	return ""
}
