package ui

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Serving the static files parses no page: a node that only issues tokens
// never holds the parsed templates. The first page rendered parses them,
// and both agree on the static files' version. The test starts from a
// fresh default theme, as a new process does, whatever ran before it.
func TestAssetsParseNoPage(t *testing.T) {
	oldStatic, oldDefault := defaultStatic, Default
	t.Cleanup(func() { defaultStatic, Default = oldStatic, oldDefault })
	defaultStatic, Default = sync.OnceValue(readDefaultStatic), sync.OnceValue(parseDefault)
	before := parses.Load()
	h := Assets()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/resources/"+defaultStatic().Version()+"/login.css", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("login.css: %d", rec.Code)
	}
	if n := parses.Load() - before; n != 0 {
		t.Fatalf("serving a static file parsed the pages %d times", n)
	}
	if Default().Version() != defaultStatic().Version() {
		t.Fatalf("versions differ: pages %q, static files %q", Default().Version(), defaultStatic().Version())
	}
	if n := parses.Load() - before; n != 1 {
		t.Fatalf("the first page parsed the pages %d times", n)
	}
	Default()
	if n := parses.Load() - before; n != 1 {
		t.Fatalf("parsed again: %d", n)
	}
}
