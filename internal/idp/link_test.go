package idp

import "testing"

func TestLinkHash(t *testing.T) {
	// The value a Keycloak server computes for these inputs (SHA-256 of the
	// concatenation, base64url without padding).
	const nonce, sid, client, alias = "4f6a2b8e-6d8b-4c1e-9a55-0d7c3e1f2a90", "b1c2d3e4-f5a6-4789-8abc-def012345678", "account-console", "github"
	got := LinkHash(nonce, sid, client, alias)
	if got != "0-fWrJAX_c74cdmbJC2DWPvUmMCmqDuXxApWVFiR7Vg" {
		t.Errorf("LinkHash = %q", got)
	}
	if !LinkHashValid(got, nonce, sid, client, alias) {
		t.Error("own hash refused")
	}
	for _, c := range []struct{ name, nonce, sid, client, alias string }{
		{"another nonce", "x", sid, client, alias},
		{"another session", nonce, "other", client, alias},
		{"another client", nonce, sid, "account", alias},
		{"another provider", nonce, sid, client, "google"},
	} {
		if LinkHashValid(got, c.nonce, c.sid, c.client, c.alias) {
			t.Errorf("%s: hash accepted", c.name)
		}
	}
}
