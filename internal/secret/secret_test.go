package secret

import "testing"

// The mask is part of the wire format: admin clients written for Keycloak
// compare against this exact string, so it must never drift.
func TestMaskIsKeycloaksPlaceholder(t *testing.T) {
	if Mask != "**********" {
		t.Fatalf("Mask = %q, want ten asterisks", Mask)
	}
}
