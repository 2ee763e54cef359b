// Package bearer validates the access tokens that resource endpoints (the
// admin REST API, the account API, userinfo) receive: signature with the
// algorithm pinned to the realm's key, type, issuer, expiry, revocation,
// not-before, and a live session, client and user behind the token.
package bearer

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// ErrInvalid is every reason a token is not accepted; the reason itself is
// never told to the caller.
var ErrInvalid = errors.New("token is not active")

// Token is an access token that passed every check, with what it stands for.
type Token struct {
	Claims        token.Parsed
	Client        client.Client
	User          user.User
	UserSession   session.UserSession
	ClientSession session.ClientSession
	// HasSession is false for service-account tokens, which Keycloak 26
	// issues from a transient session.
	HasSession bool
}

// Validate checks raw as a Bearer access token of realm rl whose issuer is
// issuer. A DPoP-bound token is refused: it needs the proof of
// ValidateRequest. It answers ErrInvalid or a storage error.
func Validate(ctx context.Context, db *store.DB, rl realm.Realm, issuer, raw string, now time.Time) (Token, error) {
	p, err := verify(ctx, db, rl, raw, now)
	if err != nil {
		return Token{}, err
	}
	if p.Typ != token.TypeBearer {
		return Token{}, ErrInvalid
	}
	return Check(ctx, db, rl, issuer, p, now)
}

// verify checks raw's signature against the realm's keys and that it is an
// access token (Bearer or DPoP-bound). A token presented again is checked
// against the node's memory of its signature (token.VerifySignedCached).
func verify(ctx context.Context, db *store.DB, rl realm.Realm, raw string, now time.Time) (token.Parsed, error) {
	ks, err := db.ListKeys(ctx, rl.ID)
	if err != nil {
		return token.Parsed{}, err
	}
	claims, err := token.VerifySignedCached(raw, ks, now)
	if err != nil {
		return token.Parsed{}, ErrInvalid
	}
	p, err := token.Parse(claims)
	if err != nil || !token.IsAccessType(p.Typ) {
		return token.Parsed{}, ErrInvalid
	}
	return p, nil
}

// Check applies the checks that follow signature verification to a token of
// any type (introspection uses it for refresh tokens too).
func Check(ctx context.Context, db *store.DB, rl realm.Realm, issuer string, p token.Parsed, nowT time.Time) (Token, error) {
	now := nowT.Unix()
	if p.Iss != issuer {
		return Token{}, ErrInvalid
	}
	if (p.Exp != 0 && now >= p.Exp) || (p.Exp == 0 && p.Typ != token.TypeOffline) {
		return Token{}, ErrInvalid
	}
	if p.Iat < rl.NotBefore {
		return Token{}, ErrInvalid
	}
	t := Token{Claims: p}
	c, err := db.GetClientByClientID(ctx, rl.ID, p.Azp)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!c.Enabled || p.Iat < c.NotBefore)) {
		return Token{}, ErrInvalid
	}
	if err != nil {
		return Token{}, err
	}
	t.Client = c
	// Revocation, sessions and user are read in one query: they are what
	// changes between two uses of a token, unlike the realm and client.
	jti := ""
	if token.IsAccessType(p.Typ) {
		jti = p.Jti // refresh tokens are revoked by ending their session
	}
	var st store.TokenState
	if p.Sid != "" {
		st, err = db.SessionTokenState(ctx, rl.ID, jti, p.Sid, c.ID)
	} else {
		// A token without a session rests on a transient one, which only
		// a service account gets: from the client credentials grant, or
		// from a token exchange of such a token (then azp is the requester).
		userID := p.Sub
		if userID == "" {
			sa, err := db.GetServiceAccount(ctx, rl.ID, c.ID)
			if err != nil {
				return Token{}, ErrInvalid
			}
			userID = sa.ID
		}
		st, err = db.UserTokenState(ctx, rl.ID, jti, userID)
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && st.Revoked) {
		return Token{}, ErrInvalid
	}
	if err != nil {
		return Token{}, err
	}
	if p.Sid != "" {
		us := st.UserSession
		if !session.Valid(rl, us, now) || (p.Typ == token.TypeOffline && !us.Offline) {
			return Token{}, ErrInvalid
		}
		t.UserSession, t.ClientSession, t.HasSession = us, st.ClientSession, true
	}
	u := st.User
	if !u.Enabled || p.Iat < u.NotBefore {
		return Token{}, ErrInvalid
	}
	if p.Sub != "" && p.Sub != u.ID {
		return Token{}, ErrInvalid
	}
	if !t.HasSession {
		if err := checkServiceAccount(ctx, db, rl, c, u); err != nil {
			return Token{}, err
		}
	}
	t.User = u
	return t, nil
}

// checkServiceAccount accepts u as the subject of a token without a session
// only when u is the service account of a client that is enabled and still
// has service accounts on (c, the token's azp, or the client whose token
// was exchanged).
func checkServiceAccount(ctx context.Context, db *store.DB, rl realm.Realm, c client.Client, u user.User) error {
	if u.ServiceAccountClientID == "" {
		return ErrInvalid
	}
	owner := c
	if u.ServiceAccountClientID != c.ID {
		var err error
		owner, err = db.GetClient(ctx, rl.ID, u.ServiceAccountClientID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrInvalid
		}
		if err != nil {
			return err
		}
	}
	if !owner.Enabled || !owner.ServiceAccountsEnabled {
		return ErrInvalid
	}
	return nil
}

// FromRequest reads the access token of a resource request from the
// Authorization header, under the Bearer (RFC 6750) or DPoP (RFC 9449)
// scheme (Raw "" when there is none).
func FromRequest(r *http.Request) Presented {
	h := r.Header.Get("Authorization")
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok {
		return Presented{}
	}
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return Presented{Raw: strings.TrimSpace(rest)}
	case strings.EqualFold(scheme, token.TypeDPoP):
		return Presented{Raw: strings.TrimSpace(rest), DPoP: true}
	}
	return Presented{}
}

// IssuerRealm returns the realm name of an issuer URL under base
// ("{base}/realms/{name}"), or "" when the issuer is not ours.
func IssuerRealm(base, issuer string) string {
	prefix := base + "/realms/"
	if !strings.HasPrefix(issuer, prefix) {
		return ""
	}
	name := issuer[len(prefix):]
	if name == "" || strings.Contains(name, "/") {
		return ""
	}
	return name
}
