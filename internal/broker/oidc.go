// Package broker logs users in to Gatehouse through another OpenID Connect
// provider (identity brokering): it builds the authorization request sent
// to the upstream provider, redeems the code it sends back, validates the
// upstream ID token, and turns what the upstream says about the user into a
// BrokeredIdentity the login pages link to a local user.
//
// Every request to the upstream (discovery, token, userinfo, JWKS) goes
// through the SSRF-safe outbound client. The package writes no HTTP
// responses: package login serves the broker endpoints and calls it.
package broker

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-iam/gatehouse/internal/clientkeys"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// Configuration keys of an OpenID Connect identity provider, as the admin
// API and a realm export name them.
const (
	CfgAuthorizationURL   = "authorizationUrl"
	CfgTokenURL           = "tokenUrl"
	CfgUserInfoURL        = "userInfoUrl"
	CfgJWKSURL            = "jwksUrl"
	CfgUseJWKSURL         = "useJwksUrl"
	CfgIssuer             = "issuer"
	CfgLogoutURL          = "logoutUrl"
	CfgClientID           = "clientId"
	CfgClientSecret       = "clientSecret"
	CfgClientAuthMethod   = "clientAuthMethod"
	CfgAssertionAlg       = "clientAssertionSigningAlg"
	CfgDefaultScope       = "defaultScope"
	CfgPrompt             = "prompt"
	CfgPKCEEnabled        = "pkceEnabled"
	CfgPKCEMethod         = "pkceMethod"
	CfgDisableUserInfo    = "disableUserInfo"
	CfgDisableNonce       = "disableNonce"
	CfgClockSkew          = "allowedClockSkew"
	CfgPassLoginHint      = "loginHint"
	CfgPassUILocales      = "uiLocales"
	CfgValidateSignature  = "validateSignature"
	CfgSignatureAlgorithm = "idTokenSignatureAlgorithm"
	CfgBackchannelLogout  = "backchannelSupported"
)

// Client authentication methods at the upstream token endpoint.
const (
	AuthSecretPost  = "client_secret_post"
	AuthSecretBasic = "client_secret_basic"
	AuthPrivateJWT  = "private_key_jwt"
	AuthSecretJWT   = "client_secret_jwt"
)

// Errors of a login through an upstream provider. Each wraps the cause for
// the log; none carries a token or secret.
var (
	// ErrConfig: the provider's configuration cannot run a login.
	ErrConfig = errors.New("broker: identity provider misconfigured")
	// ErrUpstream: the upstream answered with an error or garbage.
	ErrUpstream = errors.New("broker: upstream provider error")
	// ErrIDToken: the upstream ID token failed validation.
	ErrIDToken = errors.New("broker: invalid ID token")
)

// maxUpstreamBody bounds what is read from the upstream's endpoints.
const maxUpstreamBody = 256 << 10

// OIDC is one upstream OpenID Connect provider, built from an identity
// provider's configuration.
type OIDC struct {
	Alias  string
	Config map[string]string
	// Out makes every request; Keys caches the upstream's JWKS.
	Out  *outbound.Client
	Keys *clientkeys.Loader
	// RealmKeys are the realm's keys: private_key_jwt signs with its
	// active key of the configured algorithm.
	RealmKeys []keys.Key
	Now       time.Time
	// Social is the social kind (github...) whose profile mapping applies
	// when the provider issues no ID tokens; "" for OpenID Connect.
	Social string
}

// AuthRequest is what the login sends the browser to the upstream with.
type AuthRequest struct {
	RedirectURI string
	State       string
	Nonce       string
	// Verifier is the PKCE code verifier kept with the login ("" when
	// PKCE is off).
	Verifier string
	// Passed through from the client's request when configured.
	LoginHint, UILocales, ACRValues, Prompt string
}

// AuthURL is the upstream authorization endpoint with the request's
// parameters (authorization code flow).
func (p *OIDC) AuthURL(a AuthRequest) (string, error) {
	base := p.Config[CfgAuthorizationURL]
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%w: authorizationUrl %q", ErrConfig, base)
	}
	if p.Config[CfgClientID] == "" {
		return "", fmt.Errorf("%w: no clientId", ErrConfig)
	}
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", p.Config[CfgClientID])
	q.Set("redirect_uri", a.RedirectURI)
	q.Set("state", a.State)
	if p.idTokens() {
		q.Set("scope", Scope(p.Config[CfgDefaultScope]))
	} else if sc := p.Config[CfgDefaultScope]; sc != "" {
		q.Set("scope", sc)
	}
	if p.Config[CfgDisableNonce] != "true" && p.idTokens() {
		q.Set("nonce", a.Nonce)
	}
	if a.Verifier != "" {
		method := PKCEMethod(p.Config)
		q.Set("code_challenge_method", method)
		q.Set("code_challenge", Challenge(a.Verifier, method))
	}
	prompt := p.Config[CfgPrompt]
	if prompt == "" || prompt == "unspecified" {
		prompt = a.Prompt
	}
	if prompt != "" {
		q.Set("prompt", prompt)
	}
	if a.LoginHint != "" && p.Config[CfgPassLoginHint] == "true" {
		q.Set("login_hint", a.LoginHint)
	}
	if a.UILocales != "" && p.Config[CfgPassUILocales] == "true" {
		q.Set("ui_locales", a.UILocales)
	}
	if a.ACRValues != "" {
		q.Set("acr_values", a.ACRValues)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Scope is the scope sent upstream: the configured default scope, which
// always includes openid.
func Scope(configured string) string {
	fields := strings.Fields(configured)
	if !slices.Contains(fields, "openid") {
		fields = append([]string{"openid"}, fields...)
	}
	return strings.Join(fields, " ")
}

// PKCEEnabled says whether logins through the provider use PKCE.
func PKCEEnabled(cfg map[string]string) bool { return cfg[CfgPKCEEnabled] == "true" }

// PKCEMethod is the configured code challenge method, S256 by default.
func PKCEMethod(cfg map[string]string) string {
	if cfg[CfgPKCEMethod] == "plain" {
		return "plain"
	}
	return "S256"
}

// Challenge derives the code challenge of verifier (RFC 7636 §4.2).
func Challenge(verifier, method string) string {
	if method == "plain" {
		return verifier
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Tokens is the upstream token endpoint's answer.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresIn    int64  `json:"expires_in,omitempty"`
	Scope        string `json:"scope,omitempty"`
	// Raw is the answer as received, what storeToken keeps.
	Raw string `json:"-"`
}

// Exchange redeems the authorization code at the upstream token endpoint,
// authenticating as the configured client.
func (p *OIDC) Exchange(ctx context.Context, code, redirectURI, verifier string) (Tokens, error) {
	var t Tokens
	tokenURL := p.Config[CfgTokenURL]
	if tokenURL == "" {
		return t, fmt.Errorf("%w: no tokenUrl", ErrConfig)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}}
	if err := p.authenticate(form, header, tokenURL); err != nil {
		return t, err
	}
	resp, err := p.Out.Do(ctx, http.MethodPost, tokenURL, header, strings.NewReader(form.Encode()), maxUpstreamBody)
	if err != nil {
		return t, fmt.Errorf("%w: token endpoint: %w", ErrUpstream, err)
	}
	if resp.Status != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(resp.Body, &e)
		return t, fmt.Errorf("%w: token endpoint answered %d %s", ErrUpstream, resp.Status, e.Error)
	}
	if err := json.Unmarshal(resp.Body, &t); err != nil {
		return t, fmt.Errorf("%w: token endpoint: %w", ErrUpstream, err)
	}
	if t.AccessToken == "" {
		return t, fmt.Errorf("%w: token endpoint returned no access token", ErrUpstream)
	}
	t.Raw = string(resp.Body)
	return t, nil
}

// authenticate adds the client's credentials to a token request.
func (p *OIDC) authenticate(form url.Values, header http.Header, audience string) error {
	id, secret := p.Config[CfgClientID], p.Config[CfgClientSecret]
	switch method := p.Config[CfgClientAuthMethod]; method {
	case "", AuthSecretPost:
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	case AuthSecretBasic:
		// RFC 6749 §2.3.1: both halves form-encoded before base64.
		header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString(
			[]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret))))
	case AuthPrivateJWT, AuthSecretJWT:
		assertion, err := p.assertion(method, audience)
		if err != nil {
			return err
		}
		form.Set("client_id", id)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
	default:
		return fmt.Errorf("%w: clientAuthMethod %q", ErrConfig, method)
	}
	return nil
}

// assertion is the signed JWT the client authenticates with (RFC 7523):
// private_key_jwt signs with the realm's active key of the configured
// algorithm (RS256 by default), whose public half the upstream knows from
// the realm's JWKS; client_secret_jwt MACs with the client secret.
func (p *OIDC) assertion(method, audience string) (string, error) {
	id := p.Config[CfgClientID]
	now := p.Now.Unix()
	claims := map[string]any{"iss": id, "sub": id, "aud": audience, "jti": randomText(),
		"iat": now, "exp": now + 60}
	alg := p.Config[CfgAssertionAlg]
	if method == AuthSecretJWT {
		if alg == "" {
			alg = keys.HS256
		}
		if !slices.Contains(keys.HMACAlgorithms, alg) || p.Config[CfgClientSecret] == "" {
			return "", fmt.Errorf("%w: client_secret_jwt needs a client secret and an HMAC algorithm", ErrConfig)
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: []byte(p.Config[CfgClientSecret])},
			(&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrConfig, err)
		}
		payload, _ := json.Marshal(claims)
		obj, err := signer.Sign(payload)
		if err != nil {
			return "", err
		}
		return obj.CompactSerialize()
	}
	if alg == "" {
		alg = keys.RS256
	}
	k, ok := activeKey(p.RealmKeys, alg)
	if !ok {
		return "", fmt.Errorf("%w: the realm has no active %s key for private_key_jwt", ErrConfig, alg)
	}
	return token.Sign(claims, k)
}

func activeKey(ks []keys.Key, alg string) (keys.Key, bool) {
	var best keys.Key
	found := false
	for _, k := range ks {
		if k.Enabled && k.Active && k.Use != "enc" && k.Algorithm == alg && (!found || k.Priority > best.Priority) {
			best, found = k, true
		}
	}
	return best, found
}

// acceptedAlgs are the algorithms an upstream ID token may be signed with:
// the pinned one when configured, else every public-key algorithm. An
// HMAC algorithm is accepted only when pinned (the token is then MACed
// with the client secret); "none" never.
func (p *OIDC) acceptedAlgs() ([]jose.SignatureAlgorithm, error) {
	if pinned := p.Config[CfgSignatureAlgorithm]; pinned != "" {
		if !keys.Signs(pinned) {
			return nil, fmt.Errorf("%w: idTokenSignatureAlgorithm %q", ErrConfig, pinned)
		}
		return []jose.SignatureAlgorithm{jose.SignatureAlgorithm(pinned)}, nil
	}
	var algs []jose.SignatureAlgorithm
	for _, a := range keys.AsymmetricAlgorithms {
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	return algs, nil
}

// Claims are an upstream ID token's (and userinfo's) claims.
type Claims map[string]any

// String returns claim name as a string ("" when absent or not a string).
func (c Claims) String(name string) string {
	switch v := c[name].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// audiences is the aud claim, a string or a list of strings.
func (c Claims) audiences() []string {
	switch v := c["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, a := range v {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// VerifyIDToken checks an upstream ID token: its signature with the
// upstream's keys and an accepted algorithm, its issuer, its audience (the
// configured client, named as authorized party when there are several),
// its expiry and the nonce the login sent (OpenID Connect Core §3.1.3.7).
func (p *OIDC) VerifyIDToken(ctx context.Context, raw, nonce string) (Claims, error) {
	claims, err := p.verifySigned(ctx, raw)
	if err != nil {
		return nil, err
	}
	if err := p.checkClaims(claims, nonce); err != nil {
		return nil, err
	}
	return claims, nil
}

// verifySigned checks a JWS from the upstream (its signature, with an
// accepted algorithm and the upstream's key) and returns its claims.
func (p *OIDC) verifySigned(ctx context.Context, raw string) (Claims, error) {
	algs, err := p.acceptedAlgs()
	if err != nil {
		return nil, err
	}
	jws, err := jose.ParseSignedCompact(raw, algs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIDToken, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: want one signature", ErrIDToken)
	}
	h := jws.Signatures[0].Protected
	var key any
	if slices.Contains(keys.HMACAlgorithms, h.Algorithm) {
		if p.Config[CfgClientSecret] == "" {
			return nil, fmt.Errorf("%w: HMAC-signed token and no client secret", ErrIDToken)
		}
		key = []byte(p.Config[CfgClientSecret])
	} else {
		jwksURL := p.Config[CfgJWKSURL]
		if jwksURL == "" {
			return nil, fmt.Errorf("%w: no jwksUrl to verify the ID token with", ErrConfig)
		}
		if key, err = p.Keys.KeyAt(ctx, jwksURL, h.KeyID, h.Algorithm); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrIDToken, err)
		}
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %w", ErrIDToken, err)
	}
	claims, err := decode(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIDToken, err)
	}
	return claims, nil
}

// backchannelLogoutEvent is the member of a logout token's events claim
// (OpenID Connect Back-Channel Logout 1.0 §2.4).
const backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// VerifyLogoutToken checks a logout token the upstream posted to the
// broker's back-channel logout endpoint (OpenID Connect Back-Channel
// Logout 1.0 §2.6): signature, issuer, audience, a recent iat, the logout
// event, no nonce, and a sub or sid. It returns the sub and sid.
func (p *OIDC) VerifyLogoutToken(ctx context.Context, raw string) (sub, sid string, err error) {
	c, err := p.verifySigned(ctx, raw)
	if err != nil {
		return "", "", err
	}
	if iss := p.Config[CfgIssuer]; iss == "" || c.String("iss") != iss {
		return "", "", fmt.Errorf("%w: wrong issuer", ErrIDToken)
	}
	if !slices.Contains(c.audiences(), p.Config[CfgClientID]) {
		return "", "", fmt.Errorf("%w: wrong audience", ErrIDToken)
	}
	now, skew := p.Now.Unix(), p.skew()
	iat, perr := strconv.ParseInt(c.String("iat"), 10, 64)
	if perr != nil || iat-skew > now+60 || iat+skew < now-300 {
		return "", "", fmt.Errorf("%w: iat out of range", ErrIDToken)
	}
	if exp, perr := strconv.ParseInt(c.String("exp"), 10, 64); perr == nil && exp+skew <= now {
		return "", "", fmt.Errorf("%w: expired", ErrIDToken)
	}
	ev, _ := c["events"].(map[string]any)
	if _, ok := ev[backchannelLogoutEvent]; !ok {
		return "", "", fmt.Errorf("%w: not a logout token", ErrIDToken)
	}
	if _, has := c["nonce"]; has {
		return "", "", fmt.Errorf("%w: logout token with a nonce", ErrIDToken)
	}
	sub, sid = c.String("sub"), c.String("sid")
	if sub == "" && sid == "" {
		return "", "", fmt.Errorf("%w: neither sub nor sid", ErrIDToken)
	}
	return sub, sid, nil
}

func decode(b []byte) (Claims, error) {
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var c Claims
	if err := d.Decode(&c); err != nil {
		return nil, err
	}
	return c, nil
}

func (p *OIDC) skew() int64 {
	n, _ := strconv.ParseInt(p.Config[CfgClockSkew], 10, 64)
	return max(n, 0)
}

func (p *OIDC) checkClaims(c Claims, nonce string) error {
	if iss := p.Config[CfgIssuer]; iss != "" && c.String("iss") != iss {
		return fmt.Errorf("%w: wrong issuer", ErrIDToken)
	}
	id := p.Config[CfgClientID]
	aud := c.audiences()
	if !slices.Contains(aud, id) {
		return fmt.Errorf("%w: wrong audience", ErrIDToken)
	}
	if azp := c.String("azp"); (len(aud) > 1 || azp != "") && azp != id {
		return fmt.Errorf("%w: wrong authorized party", ErrIDToken)
	}
	now, skew := p.Now.Unix(), p.skew()
	exp, err := strconv.ParseInt(c.String("exp"), 10, 64)
	if err != nil || exp+skew <= now {
		return fmt.Errorf("%w: expired", ErrIDToken)
	}
	if iat, err := strconv.ParseInt(c.String("iat"), 10, 64); err == nil && iat-skew > now+60 {
		return fmt.Errorf("%w: issued in the future", ErrIDToken)
	}
	if p.Config[CfgDisableNonce] != "true" && !equal(c.String("nonce"), nonce) {
		return fmt.Errorf("%w: wrong nonce", ErrIDToken)
	}
	if c.String("sub") == "" {
		return fmt.Errorf("%w: no subject", ErrIDToken)
	}
	return nil
}

// UserInfo fetches the upstream userinfo with the access token; its sub
// must be the ID token's (OpenID Connect Core §5.3.2).
func (p *OIDC) UserInfo(ctx context.Context, accessToken, sub string) (Claims, error) {
	u := p.Config[CfgUserInfoURL]
	if u == "" || p.Config[CfgDisableUserInfo] == "true" {
		return nil, nil
	}
	resp, err := p.Out.Get(ctx, u, http.Header{"Authorization": {"Bearer " + accessToken}, "Accept": {"application/json"}}, maxUpstreamBody)
	if err != nil {
		return nil, fmt.Errorf("%w: userinfo: %w", ErrUpstream, err)
	}
	if resp.Status != http.StatusOK {
		return nil, fmt.Errorf("%w: userinfo answered %d", ErrUpstream, resp.Status)
	}
	c, err := decode(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: userinfo is not a JSON object (signed userinfo is not supported): %w", ErrUpstream, err)
	}
	if c.String("sub") != sub {
		return nil, fmt.Errorf("%w: userinfo names another subject", ErrUpstream)
	}
	return c, nil
}

// Identity is the user as the upstream describes them.
type Identity struct {
	// ID is the upstream's subject, the federated user id.
	ID            string `json:"id"`
	Username      string `json:"username"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified,omitempty"`
	FirstName     string `json:"first_name,omitempty"`
	LastName      string `json:"last_name,omitempty"`
	// Claims are the ID token's claims overlaid with userinfo's, what the
	// attribute and role mappers read.
	Claims Claims `json:"claims,omitempty"`
	// Token is the token response (kept when storeToken is on); IDToken
	// the upstream ID token (its sid ties back-channel logouts).
	Token   string `json:"token,omitempty"`
	IDToken string `json:"id_token,omitempty"`
	// SessionID is the upstream's sid claim (a SAML SessionIndex).
	SessionID string `json:"sid,omitempty"`
	// SAML is what a SAML upstream's assertion said (nil for the others).
	SAML *SAMLIdentity `json:"saml,omitempty"`
}

// Login finishes a login at the upstream: redeems code, validates the ID
// token against nonce, reads userinfo, and describes the user.
func (p *OIDC) Login(ctx context.Context, code, redirectURI, verifier, nonce string) (Identity, error) {
	if !p.idTokens() {
		return p.loginOAuth2(ctx, code, redirectURI)
	}
	var id Identity
	t, err := p.Exchange(ctx, code, redirectURI, verifier)
	if err != nil {
		return id, err
	}
	if t.IDToken == "" {
		return id, fmt.Errorf("%w: no ID token in the token response", ErrIDToken)
	}
	claims, err := p.VerifyIDToken(ctx, t.IDToken, nonce)
	if err != nil {
		return id, err
	}
	sub := claims.String("sub")
	info, err := p.UserInfo(ctx, t.AccessToken, sub)
	if err != nil {
		return id, err
	}
	for k, v := range info {
		claims[k] = v
	}
	id = Identity{ID: sub, Username: claims.String("preferred_username"), Email: claims.String("email"),
		EmailVerified: claims.String("email_verified") == "true", FirstName: claims.String("given_name"),
		LastName: claims.String("family_name"), Claims: claims, Token: t.Raw, IDToken: t.IDToken, SessionID: claims.String("sid")}
	if id.Username == "" {
		id.Username = sub
	}
	return id, nil
}
