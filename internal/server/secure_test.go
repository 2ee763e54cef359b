package server

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A chunked body declares no length, so the limit must hold while the
// handler reads it.
func TestChunkedBodyOverLimitFailsToRead(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		wantErr bool
	}{
		{"body at the limit reads", MaxRequestBody, false},
		{"body over the limit fails", MaxRequestBody + 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var readErr error
			h := secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, readErr = io.ReadAll(r.Body)
			}))
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("a", tt.size)))
			req.ContentLength = -1
			h.ServeHTTP(httptest.NewRecorder(), req)
			var tooBig *http.MaxBytesError
			if got := errors.As(readErr, &tooBig); got != tt.wantErr {
				t.Errorf("read error = %v, want MaxBytesError: %v", readErr, tt.wantErr)
			}
		})
	}
}
