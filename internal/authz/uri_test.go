package authz

import "testing"

func TestMatchURI(t *testing.T) {
	for _, c := range []struct {
		pattern, uri string
		want         bool
	}{
		{"/albums/7", "/albums/7", true},
		{"/albums/7", "/albums/8", false},
		{"/albums/*", "/albums/7", true},
		{"/albums/*", "/albums/7/photos/1", true},
		{"/albums/*", "/albums", true},
		{"/albums/*", "/albumsX", false},
		{"/albums/{id}", "/albums/7", true},
		{"/albums/{id}", "/albums/7/photos", false},
		{"/albums/{id}/photos/{p}", "/albums/7/photos/9", true},
		{"/albums/*/photos", "/albums/7/photos", true},
		{"*", "/anything", true},
		{"/api", "/api/x", false},
	} {
		if got := MatchURI(c.pattern, c.uri); got != c.want {
			t.Errorf("MatchURI(%q, %q) = %v, want %v", c.pattern, c.uri, got, c.want)
		}
	}
}
