// Package token builds, signs and verifies access, ID and refresh tokens, and
// turns protocol mappers into claims the way Keycloak 26 does.
//
// Everything here is a pure function of its Input: the caller loads the realm,
// client, user, sessions and client scopes, resolves roles and web origins,
// computes expiries (session.AccessExpiry, session.RefreshExpiry) and picks the
// key (keys.Active); this package only shapes and signs claims.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Token types, the typ claim.
const (
	TypeBearer  = "Bearer"
	TypeID      = "ID"
	TypeRefresh = "Refresh"
	TypeOffline = "Offline"
)

// Client and scope attributes this package reads.
const (
	// AttrLightweight is the client attribute behind the admin console's
	// "Always use lightweight access token".
	AttrLightweight = "client.use.lightweight.access.token.enabled"
	// AttrIncludeInTokenScope is the client scope attribute deciding whether
	// the scope's name appears in the scope claim.
	AttrIncludeInTokenScope = "include.in.token.scope"
	// attrIDTokenAlg is the client's ID token signature algorithm, which
	// decides the at_hash hash.
	attrIDTokenAlg     = "id.token.signed.response.alg"
	attrAccessTokenAlg = "access.token.signed.response.alg"
	// attrAuthzResponseAlg is the client's JARM signature algorithm.
	attrAuthzResponseAlg = "authorization.signed.response.alg"
	attrUserinfoAlg      = "userinfo.token.signed.response.alg"
)

// Input is everything a token is built from.
type Input struct {
	Issuer        string // https://host/realms/r
	Realm         realm.Realm
	Client        client.Client
	User          user.User
	UserSession   session.UserSession
	ClientSession session.ClientSession
	// Scopes are the client scopes in effect (default plus requested
	// optional), with their mappers, in the order the caller resolved them.
	Scopes []client.Scope
	// RealmRoles are the user's effective realm role names, already
	// filtered by the client's role scope.
	RealmRoles []string
	// ClientRoles maps a clientId to the user's effective role names of that
	// client, filtered the same way.
	ClientRoles map[string][]string
	// Groups are the user's group paths ("/top/sub"), for group mappers.
	Groups []string
	Now    time.Time
	// AccessExp and RefreshExp are epoch seconds computed by the caller
	// (session.AccessExpiry, session.RefreshExpiry). RefreshExp 0 means the
	// (offline) token has no expiry of its own; it is written as "exp":0.
	AccessExp, RefreshExp int64
	// Nonce from the authorization request; only the ID token carries it.
	Nonce string
	// Code is the authorization code returned beside the ID token in a
	// hybrid response; the ID token then carries its c_hash.
	Code string
	// ACR is "1" after the user authenticated for this request, "0" when an
	// existing SSO session was reused.
	ACR string
	// AllowedOrigins are the client's resolved web origins.
	AllowedOrigins []string
	// ServiceAccount marks a client_credentials token. Keycloak runs these on
	// a transient session and then puts sub in the access token directly,
	// whatever the scopes; sid and the client_id/clientHost/clientAddress
	// claims still come from the session and its notes.
	ServiceAccount bool
	// DPoPJkt is the thumbprint of the DPoP key the token request proved
	// (RFC 9449): the access token is bound to it (cnf.jkt, typ DPoP), and so
	// is a public client's refresh token, which has no other proof of who
	// holds it.
	DPoPJkt string
}

// ScopeString is the scope claim of access and refresh tokens (and the scope
// of the token response): "openid" first, then the names of the scopes in
// effect whose include.in.token.scope attribute is not "false", sorted, e.g.
// "openid email info offline_access profile". roles, web-origins, acr and
// basic carry include.in.token.scope=false and so never appear.
func ScopeString(scopes []client.Scope) string {
	names := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if s.Name == "" || s.Name == "openid" || s.Attributes[AttrIncludeInTokenScope] == "false" {
			continue
		}
		names = append(names, s.Name)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	return strings.Join(append([]string{"openid"}, names...), " ")
}

// Lightweight reports whether the client gets lightweight access tokens.
func Lightweight(c client.Client) bool { return c.Attributes[AttrLightweight] == "true" }

// Access returns the claims of an access token (typ Bearer).
//
// A lightweight access token (client attribute
// client.use.lightweight.access.token.enabled=true, as on admin-cli) carries
// only azp, exp, iat, iss, jti, scope, sid and typ, plus the claims of
// mappers flagged lightweight.claim=true.
func Access(in Input) map[string]any {
	c := map[string]any{
		"iat":   in.Now.Unix(),
		"jti":   NewAccessJTI(),
		"iss":   in.Issuer,
		"typ":   TypeBearer,
		"azp":   in.Client.ClientID,
		"scope": ScopeString(in.Scopes),
	}
	if in.AccessExp != 0 { // Keycloak 25+ leaves a zero exp out
		c["exp"] = in.AccessExp
	}
	if in.UserSession.ID != "" {
		c["sid"] = in.UserSession.ID
	}
	if in.ServiceAccount && in.User.ID != "" {
		c["sub"] = in.User.ID
	}
	if in.DPoPJkt != "" {
		c["typ"] = TypeDPoP
		c["cnf"] = map[string]any{"jkt": in.DPoPJkt}
	}
	b := newBuilder(c)
	b.run(in, kindAccess, Lightweight(in.Client))
	return b.finish()
}

// ID returns the claims of an ID token (typ ID) issued together with
// accessToken (the signed compact access token, for at_hash; empty for none).
// aud is the clientId, a string unless an audience mapper adds more; nonce
// is set when in.Nonce is. acr and auth_time come from the acr and basic
// scope mappers, as in Keycloak 26 where step-up authentication is on.
func ID(in Input, accessToken string) map[string]any {
	c := map[string]any{
		"iat": in.Now.Unix(),
		"jti": NewJTI(),
		"iss": in.Issuer,
		"typ": TypeID,
		"sub": in.User.ID,
		"azp": in.Client.ClientID,
	}
	if in.AccessExp != 0 {
		c["exp"] = in.AccessExp
	}
	if in.UserSession.ID != "" {
		c["sid"] = in.UserSession.ID
	}
	if in.Nonce != "" {
		c["nonce"] = in.Nonce
	}
	if accessToken != "" {
		c["at_hash"] = halfHash(idTokenAlg(in), accessToken)
	}
	if in.Code != "" { // OpenID Connect Core 3.3.2.11
		c["c_hash"] = halfHash(idTokenAlg(in), in.Code)
	}
	b := newBuilder(c)
	b.aud = []string{in.Client.ClientID}
	b.run(in, kindID, false)
	return b.finish()
}

// Refresh returns the claims of a refresh token: typ Refresh, or Offline when
// offline is set. aud is the issuer; exp is in.RefreshExp and is written even
// when 0 (an offline token without max lifespan). realm_access and
// resource_access are copied from what the access token carries, as Keycloak
// up to 24 did: an offline token shows the offline_access role it rests on.
func Refresh(in Input, offline bool) map[string]any {
	b := newBuilder(map[string]any{})
	b.run(in, kindAccess, Lightweight(in.Client))
	return RefreshFor(in, offline, b.claims)
}

// RefreshFor is Refresh beside an access token built from the same in,
// whose claims are access (Access(in)): its realm_access and
// resource_access are taken from there rather than mapped a second time.
// The refresh claims share those values with access.
func RefreshFor(in Input, offline bool, access map[string]any) map[string]any {
	typ := TypeRefresh
	if offline {
		typ = TypeOffline
	}
	c := map[string]any{
		"exp":   in.RefreshExp,
		"iat":   in.Now.Unix(),
		"jti":   NewJTI(),
		"iss":   in.Issuer,
		"aud":   in.Issuer,
		"sub":   in.User.ID,
		"typ":   typ,
		"azp":   in.Client.ClientID,
		"scope": ScopeString(in.Scopes),
	}
	if in.UserSession.ID != "" {
		c["sid"] = in.UserSession.ID
	}
	if in.DPoPJkt != "" && in.Client.PublicClient {
		c["cnf"] = map[string]any{"jkt": in.DPoPJkt}
	}
	for _, name := range []string{"realm_access", "resource_access"} {
		if v, ok := access[name]; ok {
			c[name] = v
		}
	}
	return c
}

// Userinfo returns the userinfo endpoint's claims: sub plus the claims of
// mappers that apply to userinfo (userinfo.token.claim=true, or, when that key
// is absent, id.token.claim=true, Keycloak's backwards-compatible reading).
func Userinfo(in Input) map[string]any {
	b := newBuilder(map[string]any{"sub": in.User.ID})
	b.run(in, kindUserinfo, false)
	return b.finish()
}

// Introspection returns the claims that mappers add to an introspection
// response: those flagged introspection.token.claim=true, or, when that key is
// absent, access.token.claim=true (Keycloak's backwards-compatible reading).
// The endpoint adds the token's own basic claims (jti, typ, iat, exp, iss,
// azp, sid, scope, nonce, aud) and client_id, username, token_type, active.
func Introspection(in Input) map[string]any {
	b := newBuilder(map[string]any{})
	if in.ServiceAccount && in.User.ID != "" {
		b.claims["sub"] = in.User.ID
	}
	b.run(in, kindIntrospection, false)
	return b.finish()
}

// idTokenAlg is the algorithm the ID token will be signed with.
func idTokenAlg(in Input) string { return IDAlg(in.Realm, in.Client) }

// AccessAlg is the algorithm a client's access tokens are signed with: its
// access.token.signed.response.alg, else the realm's default, else RS256.
func AccessAlg(rl realm.Realm, c client.Client) string {
	return clientAlg(rl, c, attrAccessTokenAlg)
}

// IDAlg is the algorithm a client's ID tokens are signed with: its
// id.token.signed.response.alg, else the realm's default, else RS256.
func IDAlg(rl realm.Realm, c client.Client) string { return clientAlg(rl, c, attrIDTokenAlg) }

// AuthorizationResponseAlg is the algorithm a client's JWT authorization
// responses (JARM) are signed with: its authorization.signed.response.alg,
// else the realm's default, else RS256.
func AuthorizationResponseAlg(rl realm.Realm, c client.Client) string {
	return clientAlg(rl, c, attrAuthzResponseAlg)
}

// UserinfoAlg is the algorithm a client wants its userinfo response signed
// with (userinfo.token.signed.response.alg), or "" for plain JSON. Keycloak
// treats "unsigned" as plain JSON too.
func UserinfoAlg(c client.Client) string {
	if a := c.Attributes[attrUserinfoAlg]; a != "unsigned" {
		return a
	}
	return ""
}

func clientAlg(rl realm.Realm, c client.Client, attr string) string {
	if a := c.Attributes[attr]; a != "" {
		return a
	}
	if a := rl.DefaultSignatureAlgorithm; a != "" {
		return a
	}
	return "RS256"
}

// halfHash is the OIDC Core 3.1.3.6 at_hash (and c_hash): the left half of
// the hash of the ASCII value, with the hash of the signing algorithm,
// base64url without padding.
func halfHash(alg, value string) string {
	var h hash.Hash
	switch {
	case strings.HasSuffix(alg, "384"):
		h = sha512.New384()
	case strings.HasSuffix(alg, "512"), alg == "EdDSA": // Ed25519 hashes with SHA-512
		h = sha512.New()
	default:
		h = sha256.New()
	}
	h.Write([]byte(value))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// NewJTI returns a random RFC 4122 version 4 UUID, the jti of ID and refresh
// tokens.
func NewJTI() string {
	var b [16]byte
	rand.Read(b[:])         // never fails: crypto/rand crashes the program instead
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant 10
	return formatUUID(b)
}

// formatUUID writes 16 bytes in the 8-4-4-4-12 lower-case hex form.
func formatUUID(b [16]byte) string {
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// NewAccessJTI returns an access token jti shaped like Keycloak 26's,
// "<6 lower-case letters>:<uuid>" (e.g. "onrtro:…"). Keycloak encodes the
// session type, token type and grant type in the prefix; clients treat the
// jti as opaque, so a random prefix keeps the shape without the meaning.
func NewAccessJTI() string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	prefix := make([]byte, 0, 6)
	var buf [16]byte
	for len(prefix) < 6 {
		rand.Read(buf[:])
		for _, c := range buf {
			// 234 = 9*26: rejecting larger bytes keeps letters uniform.
			if c < 234 && len(prefix) < 6 {
				prefix = append(prefix, letters[c%26])
			}
		}
	}
	return string(prefix) + ":" + NewJTI()
}
