package realm

import (
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"demo", true},
		{"ldap-demo.es_256", true},
		{"9lives", true},
		{strings.Repeat("a", 255), true},
		{strings.Repeat("a", 256), false},
		{".hidden", false},
		{"-dash", false},
		{"with space", false},
		{"slash/realm", false},
		{"trailing\n", false},
		{"ümlaut", false},
	} {
		err := New("id", c.name).Validate()
		if (err == nil) != c.ok {
			t.Errorf("%.20q: err %v, want ok=%v", c.name, err, c.ok)
		}
	}
}
