package token

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// claimGen turns fuzz bytes into a claim set of the value types builders,
// mappers and callers may put in one: every type marshalClaims writes
// itself, the ones it hands to json.Marshal, nil and empty maps and lists,
// nesting, and a map that holds one of the maps around it (a cycle).
// An exhausted input reads as zero bytes.
type claimGen struct {
	b       []byte
	n       int              // values made, to bound the size
	parents []map[string]any // the maps being filled, outermost first
}

func (g *claimGen) byte() byte {
	if len(g.b) == 0 {
		return 0
	}
	c := g.b[0]
	g.b = g.b[1:]
	return c
}

func (g *claimGen) str() string {
	n := min(int(g.byte()%12), len(g.b))
	s := string(g.b[:n])
	g.b = g.b[n:]
	return s
}

func (g *claimGen) u64() uint64 {
	var x [8]byte
	n := copy(x[:], g.b)
	g.b = g.b[n:]
	return binary.LittleEndian.Uint64(x[:])
}

var genFloats = []float64{0, math.Copysign(0, -1), 1e20, 1e21, 1e-6, 1e-7, 123456789e300, 5e-324,
	math.MaxFloat64, math.NaN(), math.Inf(1), math.Inf(-1), 0.1, -1.5e-7}

var genStrings = []string{"<", ">", "&", "\u2028", "\u2029", "\x00", "\x1f", "\x7f", "\xff", "\xed\xa0\x80",
	"\b\f\n\r\t", `"\`, "\ufeff", "\U0001F600", "\xe2\x80", "a\u2028\xffb<", "é"}

type genStruct struct{ A string }

// genMarshaler writes JSON with whitespace and HTML characters, which
// json.Marshal compacts and escapes.
type genMarshaler struct{}

func (genMarshaler) MarshalJSON() ([]byte, error) { return []byte(` { "z" : "<&>" , "a" : 1 } `), nil }

// claims makes a claim set of up to 7 claims.
func (g *claimGen) claims() map[string]any {
	m := map[string]any{}
	g.parents = append(g.parents, m)
	for i := int(g.byte() % 8); i > 0; i-- {
		m[g.str()] = g.value(0)
	}
	g.parents = g.parents[:len(g.parents)-1]
	return m
}

func (g *claimGen) value(depth int) any {
	g.n++
	if g.n > 200 || depth > 6 {
		return g.str()
	}
	switch g.byte() % 25 {
	case 0:
		return nil
	case 1:
		return g.str()
	case 2:
		return genStrings[int(g.byte())%len(genStrings)] + g.str()
	case 3:
		return g.byte()%2 == 0
	case 4:
		return int64(g.u64())
	case 5:
		return int(g.u64())
	case 6:
		return math.Float64frombits(g.u64())
	case 7:
		return genFloats[int(g.byte())%len(genFloats)]
	case 8:
		return json.Number(g.str())
	case 9:
		m := map[string]any{}
		g.parents = append(g.parents, m)
		for i := int(g.byte() % 5); i > 0; i-- {
			m[g.str()] = g.value(depth + 1)
		}
		g.parents = g.parents[:len(g.parents)-1]
		return m
	case 10:
		return map[string]any(nil)
	case 11:
		var s []string
		for i := int(g.byte() % 5); i > 0; i-- {
			s = append(s, g.str())
		}
		if g.byte()%2 == 0 && s == nil {
			s = []string{}
		}
		return s
	case 12:
		return []string(nil)
	case 13:
		s := []any{}
		for i := int(g.byte() % 5); i > 0; i-- {
			s = append(s, g.value(depth+1))
		}
		return s
	case 14:
		return []any(nil)
	case 15:
		m := map[string]string{}
		for i := int(g.byte() % 3); i > 0; i-- {
			m[g.str()] = g.str()
		}
		return m
	case 16:
		return int32(g.u64())
	case 17:
		return uint64(g.u64())
	case 18:
		return float32(math.Float64frombits(g.u64()))
	case 19:
		return genStruct{A: g.str()}
	case 20:
		return genMarshaler{}
	case 21:
		return []byte(g.str())
	case 22:
		return json.RawMessage(g.str())
	case 23:
		return map[string][]string{g.str(): {g.str()}}
	default:
		if len(g.parents) == 0 {
			return nil
		}
		return g.parents[int(g.byte())%len(g.parents)]
	}
}

// genSeed writes claimGen's input: a byte or int is one byte, a string its
// length (under 12) and its bytes, a uint64 eight bytes.
func genSeed(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case int:
			b = append(b, byte(p))
		case string:
			b = append(append(b, byte(len(p))), p...)
		case uint64:
			b = binary.LittleEndian.AppendUint64(b, p)
		}
	}
	return b
}

// claimGenSeeds holds a claim set for each case the generator has, the
// special strings and floats each, and nesting, key order and cycles.
func claimGenSeeds() [][]byte {
	const k = "k"
	seeds := [][]byte{
		genSeed(0),
		genSeed(3, "b", 1, "x", "a", 3, 1, "", 0), // key order, empty key, bool
		genSeed(1, k, 4, uint64(1<<63)),           // min int64
		genSeed(1, k, 4, uint64(1<<63-1)),         // max int64
		genSeed(1, k, 5, uint64(1<<64-1)),         // int -1
		genSeed(1, k, 6, math.Float64bits(-0.5)),
		genSeed(1, k, 8, "12.50"), genSeed(1, k, 8, ""), genSeed(1, k, 8, "1x"), genSeed(1, k, 8, "-0e+1"),
		genSeed(2, k, 9, 2, "b", 1, "<", "a", 0, "n", 10), // nested map, nil map
		genSeed(1, k, 11, 2, "a", "b<"), genSeed(1, k, 11, 0, 0), genSeed(1, k, 11, 0, 1), genSeed(1, k, 12),
		genSeed(1, k, 13, 3, 0, 4, uint64(7), 9, 0), genSeed(1, k, 13, 0), genSeed(1, k, 14),
		genSeed(1, k, 15, 2, "b", "1", "a", "<"),
		genSeed(1, k, 16, uint64(1<<64-7)), genSeed(1, k, 17, uint64(1<<64-1)),
		genSeed(1, k, 18, math.Float64bits(3.4e38)), genSeed(1, k, 18, math.Float64bits(1e-45)),
		genSeed(1, k, 19, "<&>"), genSeed(1, k, 20), genSeed(1, k, 21, "\xff\x00"),
		genSeed(1, k, 22, `{"a":[1]}`), genSeed(1, k, 22, "{ }"), genSeed(1, k, 22, "{"), genSeed(1, k, 22, ""),
		genSeed(1, k, 23, "r", "<"),
		// a map holding itself, the claim set holding itself, a list
		// holding the claim set
		genSeed(1, k, 9, 1, "self", 24, 1), genSeed(1, k, 24, 0), genSeed(1, k, 13, 1, 24, 0),
		// nesting to the generator's depth
		genSeed(1, k, 9, 1, k, 13, 1, 9, 1, k, 13, 1, 9, 1, k, 13, 1, 9, 1, k, 1, "deep"),
	}
	for i, s := range genStrings {
		seeds = append(seeds, genSeed(1, s, 2, i, "x"))
	}
	for i := range genFloats {
		seeds = append(seeds, genSeed(1, k, 7, i))
	}
	return seeds
}

// marshalClaims writes any claim set as json.Marshal does, byte for byte,
// and fails where json.Marshal fails, with its error.
func FuzzMarshalClaimValues(f *testing.F) {
	for _, s := range claimGenSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		claims := (&claimGen{b: b}).claims()
		want, wantErr := json.Marshal(claims)
		got, err := marshalClaims(claims)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("claims of %q: error %v, json.Marshal %v", b, err, wantErr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("claims of %q:\n got %s\nwant %s", b, got, want)
		}
	})
}

// What marshalClaims writes decodeClaims reads back as encoding/json does,
// and a payload without an escape in it takes the fast path.
func FuzzClaimsRoundTrip(f *testing.F) {
	for _, s := range claimGenSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		payload, err := marshalClaims((&claimGen{b: b}).claims())
		if err != nil {
			return
		}
		want, wantErr := decodeClaimsSlow(payload)
		got, err := decodeClaims(payload)
		if err != nil || wantErr != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: decodeClaims %#v (%v), encoding/json %#v (%v)", payload, got, err, want, wantErr)
		}
		if bytes.IndexByte(payload, '\\') < 0 {
			if _, ok := decodeClaimsFast(payload); !ok {
				t.Fatalf("%s: not read by the fast path", payload)
			}
		}
	})
}
