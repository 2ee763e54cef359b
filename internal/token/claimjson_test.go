package token

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// A token's payload is the claim set as json.Marshal writes it; the
// encoder Sign uses must give the same bytes, or the same claims would be
// signed under another spelling.
func TestMarshalClaimsIsJSONMarshal(t *testing.T) {
	var every strings.Builder
	for b := 0; b < 0x80; b++ {
		every.WriteByte(byte(b))
	}
	cases := map[string]map[string]any{
		"empty": {},
		"registered claims": {"iat": int64(1700000000), "exp": int64(-5), "jti": "abc:123", "typ": "Bearer",
			"aud": []string{"a", "b"}, "min": int64(math.MinInt64), "max": int64(math.MaxInt64), "zero": 0},
		"every ASCII byte in a value and a key": {every.String(): every.String()},
		"HTML and separators":                   {"a<b>&c": "<script>&amp;\u2028\u2029</script>"},
		"invalid UTF-8":                         {"k\xff": "a\xffb\xc3", "ok": "é€😀"},
		"nested roles": {"realm_access": map[string]any{"roles": []string{"offline_access", "uma_authorization"}},
			"resource_access": map[string]any{"account": map[string]any{"roles": []string{"view-profile"}}}},
		"JSON mapper values": {"n": json.Number("12.50"), "f": 1.5e21, "small": 1e-7, "t": true, "no": false,
			"nil": nil, "list": []any{json.Number("1"), "x", nil, map[string]any{"z": 1, "a": []any{}}}},
		"nil and empty lists and maps": {"ns": []string(nil), "es": []string{}, "na": []any(nil),
			"nm": map[string]any(nil), "em": map[string]any{}},
		"other types": {"strs": map[string]string{"b": "1", "a": "<"}, "i32": int32(-7), "u": uint64(math.MaxUint64),
			"cnf": map[string]any{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}},
	}
	for name, claims := range cases {
		t.Run(name, func(t *testing.T) { sameAsMarshal(t, claims) })
	}
}

// The claims the builders make, mappers included, encode the same way.
func TestMarshalClaimsOfBuiltTokens(t *testing.T) {
	in := Input{
		Issuer: "https://sso.example/realms/r",
		Client: client.Client{ClientID: "app", ProtocolMappers: []client.ProtocolMapper{
			{ID: "m1", Name: "json", ProtocolMapper: MapperHardcodedClaim, Config: map[string]string{
				cfgClaimName: "x.y", cfgClaimValue: `{"b":[1,2.5,"<"],"a":null}`, cfgJSONType: "JSON", cfgAccess: "true", cfgID: "true"}},
			{ID: "m2", Name: "roles", ProtocolMapper: MapperRealmRole, Config: map[string]string{
				cfgClaimName: "realm_access.roles", cfgMultivalued: "true", cfgAccess: "true"}},
		}},
		User:           user.User{ID: "u1", Username: "alice"},
		UserSession:    session.UserSession{ID: "s1"},
		RealmRoles:     []string{"b", "a&"},
		ClientRoles:    map[string][]string{"app": {"r"}},
		Now:            time.Unix(1700000000, 0),
		AccessExp:      1700000300,
		RefreshExp:     1700001800,
		Nonce:          "n<",
		ACR:            "1",
		ServiceAccount: true,
	}
	access := Access(in)
	for name, claims := range map[string]map[string]any{
		"access": access, "id": ID(in, "tok"), "refresh": RefreshFor(in, false, access), "offline": Refresh(in, true),
	} {
		t.Run(name, func(t *testing.T) { sameAsMarshal(t, claims) })
	}
}

// A value json.Marshal refuses is refused too, not signed.
func TestMarshalClaimsRefusesWhatJSONRefuses(t *testing.T) {
	for name, v := range map[string]any{"NaN": math.NaN(), "bad number": json.Number("1x"), "channel": make(chan int)} {
		if _, err := marshalClaims(map[string]any{"v": []any{v}}); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}

// A claim set that holds itself is refused with json.Marshal's error
// rather than followed until the stack runs out (a fatal error no recover
// catches); a deep claim set that does not is encoded as json.Marshal
// encodes it.
func TestMarshalClaimsCycleAndDepth(t *testing.T) {
	self := map[string]any{}
	self["self"] = self
	list := []any{nil}
	list[0] = list
	deep := map[string]any{}
	for i := 0; i < 3*maxEncodeDepth; i++ {
		deep = map[string]any{"d": []any{deep}}
	}
	for name, claims := range map[string]map[string]any{
		"map holds itself":     self,
		"list holds itself":    {"s": list},
		"cycle below a struct": {"c": struct{ M map[string]any }{self}},
	} {
		_, want := json.Marshal(claims)
		if want == nil {
			t.Fatalf("%s: json.Marshal accepts it", name)
		}
		if _, err := marshalClaims(claims); err == nil || err.Error() != want.Error() {
			t.Errorf("%s: error %v, want %v", name, err, want)
		}
	}
	want, err := json.Marshal(deep)
	if err != nil {
		t.Fatal(err)
	}
	got, err := marshalClaims(deep)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("deep claims: %v, not as json.Marshal writes them", err)
	}
}

func FuzzMarshalClaims(f *testing.F) {
	f.Add("k", "v", int64(1), true)
	f.Add("<&>", "\u2028\xff\x00", int64(-1), false)
	f.Fuzz(func(t *testing.T, k, v string, n int64, b bool) {
		sameAsMarshal(t, map[string]any{k: v, v: []any{k, n, b}, "n": n, "m": map[string]any{v: []string{k, v}}})
	})
}

// sameAsMarshal checks that marshalClaims writes claims as json.Marshal
// does, and that neither fails.
func sameAsMarshal(t *testing.T, claims map[string]any) {
	t.Helper()
	want, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	got, err := marshalClaims(claims)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("marshalClaims:\n got %q\nwant %q", got, want)
	}
}

// str writes a settable claim's value as its JSON text, as before its
// fast paths: a long-typed auth_time and a boolean sub read the same.
func TestStrIsJSONText(t *testing.T) {
	for _, v := range []any{int64(0), int64(-42), int64(math.MaxInt64), true, false, 1.5, []any{"a"}} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := str(v); got != string(want) {
			t.Errorf("str(%#v) = %q, want %q", v, got, want)
		}
	}
}
