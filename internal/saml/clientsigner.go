package saml

import "github.com/gatehouse-iam/gatehouse/internal/keys"

// Signer is the realm key that signs for the client, with the client's
// algorithm (RSA_SHA256 when unset), canonicalization and KeyName; nil
// when the client wants neither its documents nor its assertions signed.
func (s ClientSettings) Signer(ks []keys.Key) (*Signer, error) {
	if !s.ServerSignature && !s.AssertionSignature {
		return nil, nil
	}
	alg := s.SignatureAlgorithm
	if alg == "" {
		alg = RSASHA256
	}
	sg, err := SignerFor(ks, alg)
	if err != nil {
		return nil, err
	}
	sg.Canonicalization = s.Canonicalization
	if s.KeyNameTransformer != "" {
		sg.KeyName = s.KeyNameTransformer
	}
	return &sg, nil
}
