package login

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/ui"
)

// Every message key this package names must have an English text; a
// missing one would show the bare key to the user.
func TestMessageKeysExist(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	literal := regexp.MustCompile(`"([a-z][A-Za-z]*(?:Message|Title|Logout|Continue|Error))"`)
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			if m[1] == "confirmLogout" || m[1] == "errorMessage" { // a form field and a JSON member, Keycloak's names
				continue
			}
			seen++
			if ui.Text("en", m[1]) == m[1] {
				t.Errorf("%s: message %q has no text", f, m[1])
			}
		}
	}
	if seen < 10 {
		t.Fatalf("found only %d message keys; the pattern is wrong", seen)
	}
	for _, a := range []string{"UPDATE_PASSWORD", "VERIFY_EMAIL", "CONFIGURE_TOTP", "UPDATE_PROFILE", "TERMS_AND_CONDITIONS"} {
		if k := "requiredAction." + a; ui.Text("en", k) == k {
			t.Errorf("no name for required action %s", a)
		}
	}
}
