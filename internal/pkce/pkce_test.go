package pkce

import (
	"strings"
	"testing"
)

// A verifier and its S256 challenge, computed outside Go.
const (
	rfcVerifier  = "dBjftJeZ4CVP-mB92K9uhvW1Ot8oMXAYTxS5tx1Jbd4"
	rfcChallenge = "IvrzI6JB0v6AHKm6zol6slKCRBIFr6ZlLqqWVRPie0w"
)

func TestVerify(t *testing.T) {
	for _, tc := range []struct {
		challenge, method, verifier, want string
	}{
		{rfcChallenge, "S256", rfcVerifier, ""},
		{rfcVerifier, "plain", rfcVerifier, ""},
		{rfcChallenge, "S256", "", "PKCE code verifier not specified"},
		{rfcChallenge, "S256", "short", "PKCE verification failed: Invalid code verifier"},
		{rfcChallenge, "S256", rfcVerifier[1:] + "x", "PKCE verification failed: Code mismatch"},
		{rfcChallenge, "plain", rfcVerifier, "PKCE verification failed: Code mismatch"},
		{"", "", rfcVerifier, "PKCE code verifier specified but challenge not present in authorization"},
		{"", "", "", ""},
	} {
		if got := Verify(tc.challenge, tc.method, tc.verifier); got != tc.want {
			t.Errorf("Verify(%q, %q, %q) = %q, want %q", tc.challenge, tc.method, tc.verifier, got, tc.want)
		}
	}
}

func TestCheckChallenge(t *testing.T) {
	for _, tc := range []struct {
		required, challenge, method string
		wantMethod, wantDesc        string
	}{
		{"", "", "", "", ""},
		{"", rfcChallenge, "", "plain", ""},
		{"", rfcChallenge, "S256", "S256", ""},
		{"", rfcChallenge, "S512", "", "Invalid parameter: invalid code_challenge_method"},
		{"", "", "S256", "", "Missing parameter: code_challenge"},
		{"", "short", "S256", "", "Invalid parameter: code_challenge"},
		{"", strings.Repeat("a", 43), "S256", "S256", ""},
		{"", strings.Repeat("a", 128), "S256", "S256", ""},
		{"", strings.Repeat("a", 129), "S256", "", "Invalid parameter: code_challenge"},
		{"", strings.Repeat("a", 42) + "+", "S256", "", "Invalid parameter: code_challenge"},
		{"S256", "", "", "", "Missing parameter: code_challenge_method"},
		{"S256", rfcChallenge, "plain", "", "Invalid parameter: code challenge method is not configured one"},
		{"S256", "", "S256", "", "Missing parameter: code_challenge"},
		{"S256", rfcChallenge, "S256", "S256", ""},
	} {
		m, d := CheckChallenge(tc.required, tc.challenge, tc.method)
		if m != tc.wantMethod || d != tc.wantDesc {
			t.Errorf("CheckChallenge(%q, %q, %q) = %q, %q; want %q, %q", tc.required, tc.challenge, tc.method, m, d, tc.wantMethod, tc.wantDesc)
		}
	}
}
