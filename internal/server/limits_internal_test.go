package server

import (
	"strings"
	"testing"
)

func TestJSONDepth(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"scalar", `"x"`, 0},
		{"flat object", `{"a":1,"b":[1,2]}`, 2},
		{"siblings do not add up", `[[1],[2],[3]]`, 2},
		{"brackets in strings do not count", `{"a":"[[[{{{"}`, 1},
		{"escaped quote keeps the string open", `{"a":"\"[[[["}`, 1},
		{"escaped backslash closes it", `{"a":"\\",  "b":[[1]]}`, 3},
		{"stops counting past the limit", strings.Repeat("[", 1000), 33},
		{"unbalanced closers", `]]]][`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jsonDepth([]byte(tt.in), 32); got != tt.want {
				t.Errorf("jsonDepth(%.40q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

// BenchmarkJSONDepth scans a 1 MiB admin document: the check must cost far
// less than the decode the handler does next.
func BenchmarkJSONDepth(b *testing.B) {
	doc := []byte(`[` + strings.Repeat(`{"name":"x","attributes":{"k":["v","w"]}},`, 1<<20/44) + `{}]`)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		jsonDepth(doc, maxJSONDepth)
	}
}
