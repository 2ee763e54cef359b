package bearer

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// Proof verifies the DPoP proof (RFC 9449) of request r, whose absolute URL
// is htu, and spends its jti: a proof is accepted once, on any node sharing
// the store, for as long as its iat is acceptable. accessToken is the token
// the proof accompanies at a resource endpoint ("" at the token endpoint),
// which the proof's ath must hash. A refused proof is a *token.ProofError.
func Proof(ctx context.Context, db *store.DB, realmID string, r *http.Request, htu, accessToken string, now time.Time) (token.Proof, error) {
	vs := r.Header.Values("DPoP")
	if len(vs) > 1 {
		// RFC 9449 §4.3 step 1: exactly one proof.
		return token.Proof{}, &token.ProofError{Msg: "DPoP header verification failure"}
	}
	raw := ""
	if len(vs) == 1 {
		raw = vs[0]
	}
	p, err := token.VerifyProof(raw, r.Method, htu, now)
	if err != nil {
		return token.Proof{}, err
	}
	fresh, err := db.ConsumeOnce(ctx, realmID, p.ReplayKey(), p.ReplayUntil())
	if err != nil {
		return token.Proof{}, err
	}
	if !fresh {
		return token.Proof{}, &token.ProofError{Msg: "DPoP proof has already been used"}
	}
	if accessToken != "" {
		if err := p.CheckAccessToken(accessToken); err != nil {
			return token.Proof{}, err
		}
	}
	return p, nil
}

// Presented is an access token as a resource request carried it.
type Presented struct {
	Raw string
	// DPoP is set when the Authorization scheme was DPoP (RFC 9449 §7.1)
	// rather than Bearer.
	DPoP bool
}

// ValidateRequest validates the access token a resource request r presented
// (Validate), then its DPoP binding: a token bound to a key (typ DPoP) is
// accepted only under the DPoP scheme with a proof by that key for this
// request (htu is r's absolute URL), an unbound one only as Bearer, and a
// client requiring DPoP has no Bearer tokens at all. Every resource endpoint
// (userinfo, the admin and account APIs) goes through here. Refusals are
// ErrInvalid; those where DPoP was involved are a *Refusal, whose Challenge
// tells the client what the proof lacked.
func ValidateRequest(ctx context.Context, db *store.DB, rl realm.Realm, issuer string, r *http.Request, htu string, pt Presented, now time.Time) (Token, error) {
	// Under the DPoP scheme every refusal is a DPoP one (Refusal).
	refuse := func(err error) error {
		if pt.DPoP && errors.Is(err, ErrInvalid) {
			var rf *Refusal
			if !errors.As(err, &rf) {
				return tokenRefusal(rl.Name, "Token verification failed")
			}
		}
		return err
	}
	p, err := verify(ctx, db, rl, pt.Raw, now)
	if err != nil {
		return Token{}, refuse(err)
	}
	switch {
	case !pt.DPoP && p.Typ == token.TypeDPoP:
		return Token{}, tokenRefusal(rl.Name, "DPoP-bound token presented as Bearer")
	case pt.DPoP && p.Typ != token.TypeDPoP:
		return Token{}, tokenRefusal(rl.Name, "Token is not bound to a DPoP key")
	}
	t, err := Check(ctx, db, rl, issuer, p, now)
	if err != nil {
		return Token{}, refuse(err)
	}
	if !pt.DPoP {
		if t.Client.Attributes[token.AttrDPoPBound] == "true" {
			return Token{}, tokenRefusal(rl.Name, "DPoP proof is required for this client")
		}
		return t, nil
	}
	proof, err := Proof(ctx, db, rl.ID, r, htu, pt.Raw, now)
	var pe *token.ProofError
	if errors.As(err, &pe) {
		return Token{}, proofRefusal(rl.Name, pe.Msg)
	}
	if err != nil {
		return Token{}, err
	}
	if jkt := token.BoundKey(p.Raw); jkt == "" || jkt != proof.Jkt {
		return Token{}, proofRefusal(rl.Name, "DPoP confirmation doesn't match DPoP proof")
	}
	return t, nil
}
