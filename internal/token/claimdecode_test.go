package token

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"
)

// decodeClaimsSlow is decodeClaims without its fast path: what
// encoding/json says of a payload.
func decodeClaimsSlow(payload []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, io.ErrUnexpectedEOF
	}
	return claims, nil
}

var claimDecodeCases = []string{
	`{}`,
	` {"a" : 1 , "b":[ ] ,"c":{ }} `,
	`{"exp":1700000000,"iat":-0,"n":0.5,"e":1E+9,"f":-2.5e-3,"z":0}`,
	`{"typ":"Refresh","aud":["a","b"],"realm_access":{"roles":["x","y"]},"t":true,"f":false,"n":null}`,
	`{"name":"Zoë Ünal 😀","k":"a"}`,
	`{"dup":1,"dup":"last"}`,
	`{"dup":{"a":1},"dup":{"b":2}}`,
	`{"deep":[[[[{"a":[{}]}]]]]}`,
	// what the fast path leaves to encoding/json
	`{"esc":"a\"b\\c\u00e9\n"}`,
	"{\"bad\":\"\xff\"}",
	"{\"ctl\":\"a\x01\"}",
	`{"lead":01}`, `{"dot":1.}`, `{"exp":1e}`, `{"minus":-}`, `{"plus":+1}`,
	`{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":tru}`, `{"a":truex}`, `{"a":nul}`,
	`{"a":1} x`, `{"a":1}{}`, `[1]`, `null`, `"s"`, ``, `{`, `{"a":[1,]}`, `{"a":[1 2]}`,
	"\xef\xbb\xbf{}",
	// trailing bytes, numbers at the grammar's edges, empty containers,
	// escapes in keys, surrogates, nesting past the fast path's bound
	"{\"a\":1}\x00", "{\"a\":1}\v", "{\"a\":1} \t\r\n", `{"a":-01}`, `{"a":.5}`, `{"a":1e400}`, `{"a":-0.0e+00}`,
	`{"big":123456789012345678901234567890,"neg":-9223372036854775809}`, `{,}`, `{"a":[],"":{}}`,
	`{"k\u00e9y":"v"}`, `{"a":"\/"}`, `{"a":"\ud800"}`, `{"a":"\ud83d\ude00"}`, "{\"a\":\"\xed\xa0\x80\"}",
	"{\"a\":\"\x7f\"}", `{"a":true,"b":[null,false,{"c":[]}]}`,
	`{"a":` + strings.Repeat("[", maxClaimDepth) + strings.Repeat("]", maxClaimDepth) + `}`,
	`{"a":` + strings.Repeat("[", maxClaimDepth+1) + strings.Repeat("]", maxClaimDepth+1) + `}`,
}

// The fast path decodes what it accepts as encoding/json does, and leaves
// everything else to it, errors included.
func TestDecodeClaimsIsEncodingJSON(t *testing.T) {
	for _, in := range claimDecodeCases {
		checkDecodeClaims(t, []byte(in))
	}
	// The claims Gatehouse signs take the fast path.
	for _, in := range []string{claimDecodeCases[2], claimDecodeCases[3], claimDecodeCases[4]} {
		if _, ok := decodeClaimsFast([]byte(in)); !ok {
			t.Errorf("%s: not decoded by the fast path", in)
		}
	}
	payload, err := marshalClaims(Refresh(testInput(), false))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := decodeClaimsFast(payload); !ok {
		t.Errorf("a refresh token's claims are not decoded by the fast path: %s", payload)
	}
}

// A payload with an escape in it (marshalClaims escapes "&", "<", ">" and
// more) goes to encoding/json at once: the fast path, which leaves every
// escape to it, does not first read all it can of the payload.
func TestDecodeClaimsWithEscapesReadOnce(t *testing.T) {
	claims := Access(testInput())
	claims["name"] = "Tom & Jerry"
	payload, err := marshalClaims(claims)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(payload, []byte(`Tom \u0026 Jerry`)) {
		t.Fatalf("the name is not escaped: %s", payload)
	}
	checkDecodeClaims(t, payload)
	once := testing.AllocsPerRun(20, func() { decodeClaimsSlow(payload) })
	got := testing.AllocsPerRun(20, func() { decodeClaims(payload) })
	if got > once {
		t.Errorf("decodeClaims allocates %v times, encoding/json alone %v", got, once)
	}
}

func checkDecodeClaims(t *testing.T, in []byte) {
	t.Helper()
	want, wantErr := decodeClaimsSlow(in)
	fast, ok := decodeClaimsFast(in)
	if ok && (wantErr != nil || !reflect.DeepEqual(fast, want)) {
		t.Fatalf("%q: fast path gives %#v, encoding/json %#v (%v)", in, fast, want, wantErr)
	}
	got, err := decodeClaims(in)
	if (err != nil) != (wantErr != nil || want == nil) {
		t.Fatalf("%q: decodeClaims error %v, encoding/json %v", in, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decodeClaims %#v, encoding/json %#v", in, got, want)
	}
}

func FuzzDecodeClaims(f *testing.F) {
	for _, in := range claimDecodeCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkDecodeClaims(t, in) })
}
