package keys

import "testing"

func TestActive(t *testing.T) {
	key := func(id string, alg string, prio, created int64, enabled, active bool) Key {
		return Key{ID: id, Kid: "kid-" + id, Algorithm: alg, Priority: prio, CreatedAt: created, Enabled: enabled, Active: active}
	}
	tests := []struct {
		name   string
		keys   []Key
		alg    string
		wantID string // "" means none
	}{
		{"no keys", nil, "RS256", ""},
		{"highest priority wins",
			[]Key{key("a", "RS256", 100, 1, true, true), key("b", "RS256", 200, 1, true, true), key("c", "RS256", 50, 9, true, true)},
			"RS256", "b"},
		{"equal priority: newest wins",
			[]Key{key("a", "RS256", 100, 1, true, true), key("b", "RS256", 100, 5, true, true), key("c", "RS256", 100, 3, true, true)},
			"RS256", "b"},
		{"equal priority and age: lowest id wins whatever the order",
			[]Key{key("b", "RS256", 100, 1, true, true), key("a", "RS256", 100, 1, true, true)},
			"RS256", "a"},
		{"disabled key is ignored despite higher priority",
			[]Key{key("a", "RS256", 100, 1, true, true), key("b", "RS256", 999, 1, false, true)},
			"RS256", "a"},
		{"passive key is ignored despite higher priority",
			[]Key{key("a", "RS256", 100, 1, true, true), key("b", "RS256", 999, 1, true, false)},
			"RS256", "a"},
		{"only passive keys: none active",
			[]Key{key("a", "RS256", 100, 1, true, false)},
			"RS256", ""},
		{"other algorithm is ignored",
			[]Key{key("a", "RS256", 100, 1, true, true), key("h", "HS512", 999, 1, true, true)},
			"RS256", "a"},
		{"HMAC key chosen for HS512",
			[]Key{key("a", "RS256", 100, 1, true, true), key("h", "HS512", 100, 1, true, true)},
			"HS512", "h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Active(tt.keys, tt.alg)
			if ok != (tt.wantID != "") || got.ID != tt.wantID {
				t.Errorf("Active = %q, %v; want %q", got.ID, ok, tt.wantID)
			}
		})
	}
}

func TestVerification(t *testing.T) {
	keys := []Key{
		{ID: "1", Kid: "active", Enabled: true, Active: true},
		{ID: "2", Kid: "passive", Enabled: true, Active: false},
		{ID: "3", Kid: "disabled", Enabled: false, Active: true},
		{ID: "4", Kid: "", Enabled: true, Active: true},
	}
	tests := []struct {
		name   string
		kid    string
		wantID string
	}{
		{"active key verifies", "active", "1"},
		{"passive key still verifies", "passive", "2"},
		{"disabled key does not verify", "disabled", ""},
		{"unknown kid", "nope", ""},
		{"empty kid matches nothing, even a key without kid", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Verification(keys, tt.kid)
			if ok != (tt.wantID != "") || got.ID != tt.wantID {
				t.Errorf("Verification(%q) = %q, %v; want %q", tt.kid, got.ID, ok, tt.wantID)
			}
		})
	}
}
