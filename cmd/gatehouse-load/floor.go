package main

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// runFloor is -floor: a token endpoint that does only what no token
// endpoint can avoid, to measure beside a Gatehouse on the same core. It
// asks the Gatehouse at -like for one client_credentials token, then
// answers every client_credentials request for -client and -secret with
// the same claims (a fresh iat, exp and jti), signed with the same
// algorithm through the same signing code, in the same response body, over
// the same HTTP server. It looks nothing up: no realm, client, user or
// role, no database. What a Gatehouse spends beyond the floor is what
// issuing a token there costs beyond its HTTP exchange and its signature.
func runFloor(args []string) error {
	fs := flag.NewFlagSet("gatehouse-load -floor", flag.ContinueOnError)
	listen := fs.String("floor", "127.0.0.1:18095", "loopback address to listen on")
	like := fs.String("like", "http://127.0.0.1:8080", "the Gatehouse (loopback only) whose token to imitate, including any relative path")
	realm := fs.String("realm", "ldap-demo", "realm name")
	clientID := fs.String("client", "ldap-app", "confidential client id with a service account")
	secret := fs.String("secret", "password", "its client secret, sent with client_secret_basic")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkLoopbackListen("-floor", *listen); err != nil {
		return err // before asking the model for anything
	}
	base, err := loopbackURL(*like)
	if err != nil {
		return fmt.Errorf("-like: %w", err)
	}
	hc := &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: loopbackDialer().DialContext}, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	h, err := newFloor(context.Background(), hc, tokenEndpoint(base, *realm), *clientID, *secret, time.Now)
	if err != nil {
		return err
	}
	return serveLoopback("-floor", *listen, h, fmt.Sprintf("floor on %s, imitating %s tokens of %s", *listen, h.key.Algorithm, *realm))
}

func tokenEndpoint(base *url.URL, realm string) string {
	return strings.TrimSuffix(base.String(), "/") + "/realms/" + url.PathEscape(realm) + "/protocol/openid-connect/token"
}

// floor is -floor's handler.
type floor struct {
	clientID, secret string
	key              keys.Key
	claims           map[string]any // the model token's, iat, exp and jti replaced per request
	lifespan         int64          // exp - iat of the model token
	body             map[string]any // the model response, access_token replaced per request
	now              func() time.Time
}

// newFloor fetches the model token from endpoint and makes a key of its
// algorithm.
func newFloor(ctx context.Context, hc *http.Client, endpoint, clientID, secret string, now func() time.Time) (*floor, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("model token: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("model token: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("model token: %s: %s", res.Status, raw)
	}
	f := &floor{clientID: clientID, secret: secret, now: now}
	if err := json.Unmarshal(raw, &f.body); err != nil {
		return nil, fmt.Errorf("model token response: %w", err)
	}
	at, _ := f.body["access_token"].(string)
	parts := strings.Split(at, ".")
	if len(parts) != 3 {
		return nil, errors.New("model token: access_token is not a compact JWS")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	var ok bool
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, fmt.Errorf("model token header: %w", err)
	}
	var claims any
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, fmt.Errorf("model token claims: %w", err)
	}
	// Numbers as the server holds them, so the floor pays no more to
	// encode them than the server does.
	if f.claims, ok = plainNumbers(claims).(map[string]any); !ok {
		return nil, errors.New("model token claims: not a JSON object")
	}
	iat, _ := f.claims["iat"].(int64)
	exp, _ := f.claims["exp"].(int64)
	f.lifespan = exp - iat
	if f.key, err = keys.Fallback(header.Alg, "floor", now()); err != nil {
		return nil, fmt.Errorf("model token: %w", err)
	}
	return f, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	return d.Decode(v)
}

// plainNumbers turns the json.Numbers in v into int64 (or float64 when
// not whole).
func plainNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		n, _ := v.Float64()
		return n
	case map[string]any:
		for k, e := range v {
			v[k] = plainNumbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = plainNumbers(e)
		}
	}
	return v
}

func (f *floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/protocol/openid-connect/token") {
		http.NotFound(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		floorError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	if !ok || id != f.clientID || subtle.ConstantTimeCompare([]byte(secret), []byte(f.secret)) != 1 {
		floorError(w, http.StatusUnauthorized, "unauthorized_client")
		return
	}
	now := f.now().Unix()
	claims := maps.Clone(f.claims)
	claims["iat"], claims["jti"] = now, token.NewAccessJTI()
	if f.lifespan > 0 {
		claims["exp"] = now + f.lifespan
	}
	at, err := token.Sign(claims, f.key)
	if err != nil {
		floorError(w, http.StatusInternalServerError, "unknown_error")
		return
	}
	body := maps.Clone(f.body)
	body["access_token"] = at
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	json.NewEncoder(w).Encode(body)
}

func floorError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}
