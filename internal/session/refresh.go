package session

import "github.com/gatehouse-iam/gatehouse/internal/realm"

// RefreshUse is one presentation of a refresh token at the token endpoint,
// after its signature, expiry, session and user have been checked.
type RefreshUse struct {
	Jti string
	Iat int64 // epoch seconds
	// RotatedFrom is the token's lineage: the client session's current
	// refresh token when this one was minted (the token it was exchanged
	// for, after a refresh). HasLineage is false for a token minted while
	// the realm did not rotate, which carries no such claim.
	RotatedFrom string
	HasLineage  bool
}

// RefreshVerdict is what the rotation rule decides about a RefreshUse.
type RefreshVerdict int

const (
	// RefreshAccept: issue new tokens and store the decided client session.
	RefreshAccept RefreshVerdict = iota
	// RefreshRevokeFamily: refuse, and end the client session, so that
	// every token of the rotation family, the newest included, stops
	// working. A reused or superseded token may have been stolen; Keycloak's
	// validateTokenReuseForRefresh ends the client session on every such
	// refusal.
	RefreshRevokeFamily
)

// Keycloak's error_description for each refusal.
const (
	ReasonStale         = "Stale token"
	ReasonReuseExceeded = "Maximum allowed refresh token reuse exceeded"
)

// RefreshDecision is the outcome of DecideRefresh.
type RefreshDecision struct {
	Verdict RefreshVerdict
	Reason  string        // a Reason… constant when refused
	Session ClientSession // the client session to store when accepted
}

// DecideRefresh applies the realm's refresh token rotation
// (revokeRefreshToken, refreshTokenMaxReuse) to one use of a refresh token in
// client session cs, as the store holds it now (epoch seconds). The caller
// must decide on the stored row and write the result in one transaction
// (store.UpdateClientSession), so that N concurrent uses with max reuse 0
// give exactly one success on any number of nodes.
//
// With rotation off, any use is accepted and only the timestamp moves.
// With rotation on, a use is refused and the family ended when:
//
//   - the token was rotated out: it is neither the session's current token
//     nor one minted while the current one was (its lineage settles this
//     without a clock, even within one second);
//   - it is not the current token and was issued before the session's last
//     token (Keycloak's stale rule, for tokens without lineage);
//   - it is the current token and has been used refreshTokenMaxReuse times
//     after its first use already.
//
// Otherwise the token becomes current (its use count restarting when it
// was not), the use is counted and the timestamp is now.
func DecideRefresh(r realm.Realm, cs ClientSession, use RefreshUse, now int64) RefreshDecision {
	next := cs
	next.Timestamp = max(now, cs.Timestamp)
	if !r.RevokeRefreshToken {
		return RefreshDecision{Verdict: RefreshAccept, Session: next}
	}
	current := cs.CurrentRefreshToken
	if current != "" && current != use.Jti {
		if use.HasLineage && current != use.RotatedFrom {
			return RefreshDecision{Verdict: RefreshRevokeFamily, Reason: ReasonStale}
		}
		if use.Iat < cs.Timestamp {
			return RefreshDecision{Verdict: RefreshRevokeFamily, Reason: ReasonStale}
		}
	}
	count := cs.RefreshUseCount
	if current != use.Jti {
		count = 0
	}
	if count > r.RefreshTokenMaxReuse {
		return RefreshDecision{Verdict: RefreshRevokeFamily, Reason: ReasonReuseExceeded}
	}
	next.CurrentRefreshToken, next.RefreshUseCount = use.Jti, count+1
	return RefreshDecision{Verdict: RefreshAccept, Session: next}
}
