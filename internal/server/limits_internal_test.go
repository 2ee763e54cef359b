package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
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

// The login form's handler reads the form the guard parsed to count the
// username, not a second parse of its own (issue 12, hole 3).
func TestGuardHandsItsFormToTheHandler(t *testing.T) {
	var seen url.Values
	var bodyRead bool
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.PostForm
		r.Body = readCloser{Reader: readSpy{&bodyRead}, Closer: r.Body}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
	})
	g := &guard{next: next, mux: http.NewServeMux(), now: time.Now, log: slog.New(slog.DiscardHandler),
		realms: &realmCache{entries: map[string]cachedRealm{}}}
	req := httptest.NewRequest(http.MethodPost, "/realms/r/login-actions/authenticate?username=other",
		strings.NewReader("username=bob&password=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	g.ServeHTTP(httptest.NewRecorder(), req)
	if seen.Get("username") != "bob" || seen.Has("other") {
		t.Errorf("the handler saw PostForm %v, want the guard's parse of the body", seen)
	}
	if bodyRead {
		t.Error("the handler parsed the body a second time")
	}
}

type readSpy struct{ read *bool }

func (s readSpy) Read([]byte) (int, error) { *s.read = true; return 0, io.EOF }
