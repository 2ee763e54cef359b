package grant

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Issue is what a grant hands to Mint: the token endpoint's grants, and
// the authorization endpoint's implicit and hybrid responses.
type Issue struct {
	Realm         realm.Realm
	Client        client.Client
	User          user.User
	UserSession   session.UserSession
	ClientSession session.ClientSession
	Scopes        Scopes
	Refresh       bool // issue a refresh token
	ACR           string
	Nonce         string
	// NoAccess mints an ID token alone (response_type=id_token); the
	// access token is built for its claims but not returned.
	NoAccess bool
	// Code is the authorization code issued beside the ID token in a hybrid
	// response, for the ID token's c_hash.
	Code string
	// Implicit marks the implicit flow (tokens and no code), whose access
	// token lives the realm's implicit-flow lifespan.
	Implicit bool
	// RotatedFrom is the jti of the refresh token a refresh grant used;
	// other grants leave it empty and the client session's current refresh
	// token stands in (see ClaimRotatedFrom).
	RotatedFrom string
	// Audience, on a token exchange that asked for one, narrows the access
	// token's client roles and aud to these clientIds.
	Audience []string
	// Authorization is the "authorization" claim of a requesting party
	// token (the uma-ticket grant): the permissions it grants, carried by
	// its refresh token too so a refresh keeps them. nil for other tokens.
	Authorization any
	// ResourceServer is the clientId an RPT is for, added to its aud and
	// carried by its refresh token (ClaimResourceServer) so a refreshed
	// RPT keeps it.
	ResourceServer string
	// Keys are the realm's keys when the grant has just read them (the
	// refresh grant, to verify the token it redeems); nil reads them.
	Keys []keys.Key
	// Issuer is the realm's issuer URL and Origins the client's resolved web
	// origins, both as the request's host sees them.
	Issuer  string
	Origins []string
	// DPoPJkt binds the access token (and a public client's refresh token)
	// to the key of the request's DPoP proof (RFC 9449); "" for none.
	DPoPJkt string
	Now     time.Time
}

// Minted is what Mint signed.
type Minted struct {
	Access, Refresh, ID string
	// AccessExp and RefreshExp are epoch seconds (RefreshExp 0: none).
	AccessExp, RefreshExp int64
	// Scopes are the scopes in effect once role scope applied.
	Scopes Scopes
}

// ClaimRotatedFrom names the refresh token claim holding the client
// session's current refresh token when the token was minted: the jti of the
// refresh token it was exchanged for, or for another grant whatever token was
// current in a reused client session ("" in a new one). It is written only
// while the realm rotates refresh tokens.
const ClaimRotatedFrom = "rotated_from"

// ClaimResourceServer names the refresh token claim of an RPT holding the
// clientId of the resource server it is for (Issue.ResourceServer).
const ClaimResourceServer = "resource_server"

// AudienceError refuses a requested audience the token would not carry.
type AudienceError struct{ Missing []string }

func (e *AudienceError) Error() string {
	return "requested audience not available: " + strings.Join(e.Missing, ", ")
}

// Mint builds and signs the tokens of x: an access token, a refresh token
// when x.Refresh, an ID token when "openid" was asked for.
func Mint(ctx context.Context, db *store.DB, log *slog.Logger, x Issue) (Minted, error) {
	ks := x.Keys
	if ks == nil {
		var err error
		if ks, err = db.ListKeys(ctx, x.Realm.ID); err != nil {
			return Minted{}, err
		}
	}
	sigKey, err := provision.SigningKey(ctx, db, log, x.Realm, &ks, token.AccessAlg(x.Realm, x.Client), x.Now)
	if err != nil {
		return Minted{}, err
	}
	acc, err := Resolve(ctx, db, x.Realm, x.Client, x.User, x.Scopes)
	if err != nil {
		return Minted{}, err
	}
	x.Scopes.Scopes = acc.Scopes
	if x.Audience != nil {
		acc.ClientRoles = narrowClientRoles(acc.ClientRoles, x.Audience)
	}
	nowS := x.Now.Unix()
	in := token.Input{
		Issuer:         x.Issuer,
		Realm:          x.Realm,
		Client:         x.Client,
		User:           x.User,
		UserSession:    x.UserSession,
		ClientSession:  x.ClientSession,
		Scopes:         acc.Scopes,
		RealmRoles:     acc.RealmRoles,
		ClientRoles:    acc.ClientRoles,
		Groups:         acc.Groups,
		Now:            x.Now,
		AccessExp:      session.AccessExpiry(x.Realm, x.Client, x.UserSession, nowS),
		Nonce:          x.Nonce,
		ACR:            x.ACR,
		Code:           x.Code,
		AllowedOrigins: x.Origins,
		ServiceAccount: x.User.ServiceAccountClientID != "",
		DPoPJkt:        x.DPoPJkt,
	}
	if x.Implicit {
		in.AccessExp = session.ImplicitAccessExpiry(x.Realm, x.UserSession, nowS)
	}
	if x.Refresh {
		in.RefreshExp = session.RefreshExpiry(x.Realm, x.Client, x.UserSession, nowS)
	}
	accessClaims := token.Access(in)
	if x.Audience != nil {
		if missing := narrowAud(accessClaims, x.Audience); len(missing) > 0 {
			return Minted{}, &AudienceError{Missing: missing}
		}
	}
	if x.Authorization != nil {
		accessClaims["authorization"] = x.Authorization
	}
	if x.ResourceServer != "" {
		addAud(accessClaims, x.ResourceServer)
	}
	out := Minted{AccessExp: in.AccessExp, Scopes: x.Scopes}
	if out.Access, err = token.Sign(accessClaims, sigKey); err != nil {
		return Minted{}, err
	}
	if x.Refresh {
		hmacKey, err := provision.SigningKey(ctx, db, log, x.Realm, &ks, keys.HS512, x.Now)
		if err != nil {
			return Minted{}, err
		}
		claims := token.RefreshFor(in, x.UserSession.Offline, accessClaims)
		if x.Authorization != nil {
			claims["authorization"] = x.Authorization
			if x.ResourceServer != "" {
				claims[ClaimResourceServer] = x.ResourceServer
			}
		}
		if x.Realm.RevokeRefreshToken { // the token's lineage, for session.DecideRefresh
			from := x.RotatedFrom
			if from == "" {
				from = x.ClientSession.CurrentRefreshToken // "" in a new client session
			}
			claims[ClaimRotatedFrom] = from
		}
		if out.Refresh, err = token.Sign(claims, hmacKey); err != nil {
			return Minted{}, err
		}
		out.RefreshExp = in.RefreshExp
	}
	if x.Scopes.OpenID {
		idKey, err := provision.SigningKey(ctx, db, log, x.Realm, &ks, token.IDAlg(x.Realm, x.Client), x.Now)
		if err != nil {
			return Minted{}, err
		}
		hashed := out.Access
		if x.NoAccess {
			hashed = "" // no at_hash for a token not returned
		}
		if out.ID, err = token.Sign(token.ID(in, hashed), idKey); err != nil {
			return Minted{}, err
		}
	}
	if x.NoAccess {
		out.Access = ""
	}
	return out, nil
}

// narrowClientRoles restricts an exchanged token's client roles to those of
// the audience asked for; narrowAud then restricts its aud. A requested
// client the token would not reach (the user holds none of its roles, say)
// is refused rather than silently dropped.
func narrowClientRoles(roles map[string][]string, audience []string) map[string][]string {
	out := make(map[string][]string, len(audience))
	for _, a := range audience {
		if rs, ok := roles[a]; ok {
			out[a] = rs
		}
	}
	return out
}

// narrowAud sets claims' aud to the requested audience it contains, and
// returns the requested clients that were not there.
func narrowAud(claims map[string]any, audience []string) []string {
	var have []string
	switch v := claims["aud"].(type) {
	case string:
		have = []string{v}
	case []string:
		have = v
	}
	var kept, missing []string
	for _, a := range audience {
		if slices.Contains(have, a) {
			kept = append(kept, a)
		} else {
			missing = append(missing, a)
		}
	}
	switch len(kept) {
	case 0:
		delete(claims, "aud")
	case 1:
		claims["aud"] = kept[0]
	default:
		claims["aud"] = kept
	}
	return missing
}

// addAud adds a clientId to claims' aud unless it is there.
func addAud(claims map[string]any, a string) {
	switch v := claims["aud"].(type) {
	case string:
		if v != a {
			claims["aud"] = []string{v, a}
		}
	case []string:
		if !slices.Contains(v, a) {
			claims["aud"] = append(slices.Clone(v), a)
		}
	default:
		claims["aud"] = a
	}
}
