package client

// Signature algorithms a client's signed assertion (private_key_jwt with
// client-jwt, client_secret_jwt with client-secret-jwt) may use.
var (
	AssertionAsymmetricAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
	AssertionSymmetricAlgorithms  = []string{"HS256", "HS384", "HS512"}
)
