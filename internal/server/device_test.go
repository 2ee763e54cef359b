package server_test

import (
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

const (
	devPassword = "dev-Right-pw-9"
	devSecret   = "box-secret"
)

// devClock runs with real time, so x/oauth2's waits between polls pass
// on the servers too, and can be moved forward past a code's expiry.
type devClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *devClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.offset) }
func (c *devClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// devEnv is realm "dev" with the device grant on for the public client
// "tv" and the confidential client "box", off for "plain", and user
// "ann"; nodes servers share one database.
type devEnv struct {
	t     *testing.T
	db    *store.DB
	rl    realm.Realm
	clock *devClock
	srvs  []*httptest.Server
}

func newDevEnv(t *testing.T, db *store.DB, nodes int) *devEnv {
	t.Helper()
	ctx := t.Context()
	ck := &devClock{}
	if _, err := provision.Master(ctx, db, "admin", "admin-pw", ck.Now()); err != nil {
		t.Fatal(err)
	}
	rl := realm.New(store.NewID(), "dev")
	rl.OAuth2DevicePollingInterval = 1 // x/oauth2 waits one interval before each poll
	rl.EventsEnabled = true
	if err := provision.NewRealm(ctx, db, rl, ck.Now()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id      string
		public  bool
		enabled bool
	}{{"tv", true, true}, {"box", false, true}, {"plain", true, false}} {
		cl := client.New(store.NewID(), rl.ID, c.id)
		cl.PublicClient = c.public
		if !c.public {
			cl.Secret = devSecret
		}
		if c.enabled {
			cl.Attributes["oauth2.device.authorization.grant.enabled"] = "true"
		}
		if err := provision.CreateClient(ctx, db, cl, ck.Now()); err != nil {
			t.Fatal(err)
		}
	}
	addUser(t, db, rl.ID, "ann", devPassword, ck.Now())
	e := &devEnv{t: t, db: db, rl: rl, clock: ck}
	for range nodes {
		srv := httptest.NewServer(server.New(server.Options{Store: db, Now: ck.Now, Log: slog.New(slog.NewTextHandler(t.Output(), nil))}))
		t.Cleanup(srv.Close)
		e.srvs = append(e.srvs, srv)
	}
	return e
}

// addUser creates an enabled user with a password and an email address.
func addUser(t testing.TB, db *store.DB, realmID, username, password string, now time.Time) user.User {
	t.Helper()
	u := user.User{ID: store.NewID(), RealmID: realmID, Username: username, Email: username + "@example.com", Enabled: true,
		CreatedTimestamp: now.UnixMilli()}
	if err := db.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	cred, err := user.NewPasswordCredential(store.NewID(), u.ID, password, now.UnixMilli(), user.HashPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ReplacePassword(t.Context(), cred); err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *devEnv) config(node int, clientID string) *oauth2.Config {
	base := e.srvs[node].URL + "/realms/dev/protocol/openid-connect/"
	cfg := &oauth2.Config{ClientID: clientID, Scopes: []string{"openid", "email"},
		Endpoint: oauth2.Endpoint{DeviceAuthURL: base + "auth/device", TokenURL: base + "token", AuthStyle: oauth2.AuthStyleInParams}}
	if clientID == "box" {
		cfg.ClientSecret = devSecret
	}
	return cfg
}

// poll is one raw device code poll at node: status and body.
func (e *devEnv) poll(node int, clientID, deviceCode string) (int, string) {
	e.t.Helper()
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {clientID}, "device_code": {deviceCode}}
	return e.postForm(node, "/realms/dev/protocol/openid-connect/token", form)
}

func (e *devEnv) postForm(node int, path string, form url.Values) (int, string) {
	e.t.Helper()
	resp, err := http.PostForm(e.srvs[node].URL+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// devBrowser is a user's browser: cookies kept, redirects not followed.
type devBrowser struct {
	t *testing.T
	c *http.Client
}

func newDevBrowser(t *testing.T) *devBrowser {
	jar, _ := cookiejar.New(nil)
	return &devBrowser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type devPage struct {
	status int
	url    *url.URL
	loc    string
	body   string
}

func (b *devBrowser) do(req *http.Request) devPage {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return devPage{status: resp.StatusCode, url: resp.Request.URL, loc: resp.Header.Get("Location"), body: string(body)}
}

func (b *devBrowser) get(u string) devPage {
	b.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

// submit posts the page's form with the hidden fields it carries and
// extra.
func (b *devBrowser) submit(p devPage, extra url.Values) devPage {
	b.t.Helper()
	m := formActionRe.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("no form on the page (%d): %s", p.status, p.body)
	}
	action, err := p.url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		b.t.Fatal(err)
	}
	fields := url.Values{}
	for _, h := range hiddenInputRe.FindAllStringSubmatch(p.body, -1) {
		fields.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	for k, v := range extra {
		fields[k] = v
	}
	req, _ := http.NewRequest("POST", action.String(), strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// follow reads the page a redirect points at.
func (b *devBrowser) follow(p devPage) devPage {
	b.t.Helper()
	if p.status != http.StatusFound {
		b.t.Fatalf("status %d, want a redirect: %s", p.status, p.body)
	}
	u, _ := p.url.Parse(p.loc)
	return b.get(u.String())
}

var userCodeRe = regexp.MustCompile(`^[A-Z]{4}-[A-Z]{4}$`)

// approve opens verification_uri_complete at node in b, signs ann in when
// the browser has no session, and answers the consent page; it returns
// where the browser ends.
func (e *devEnv) approve(b *devBrowser, node int, da *oauth2.DeviceAuthResponse, accept bool) devPage {
	e.t.Helper()
	u, _ := url.Parse(da.VerificationURIComplete)
	page := b.get(e.srvs[node].URL + u.RequestURI())
	if strings.Contains(page.body, `name="password"`) {
		page = b.submit(page, url.Values{"username": {"ann"}, "password": {devPassword}})
	}
	if page.status != http.StatusOK || !strings.Contains(page.body, "Grant Access to tv") || !strings.Contains(page.body, "Email address") {
		e.t.Fatalf("no consent page naming the client and its scopes (%d): %s", page.status, page.body)
	}
	answer := url.Values{"accept": {"yes"}}
	if !accept {
		answer = url.Values{"cancel": {"yes"}}
	}
	return b.submit(page, answer)
}

func wantRetrieveError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
}

func TestDeviceAuthorizationGrant(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newDevEnv(t, open(t), 1)
		ctx := t.Context()
		base := e.srvs[0].URL + "/realms/dev"

		var disc map[string]any
		r := get(t, base+"/.well-known/openid-configuration", nil)
		json.Unmarshal(r.body, &disc)
		if disc["device_authorization_endpoint"] != base+"/protocol/openid-connect/auth/device" ||
			!strings.Contains(string(r.body), `"urn:ietf:params:oauth:grant-type:device_code"`) {
			t.Errorf("discovery does not advertise the device grant: %s", r.body)
		}

		tv := e.config(0, "tv")
		da, err := tv.DeviceAuth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !userCodeRe.MatchString(da.UserCode) || da.VerificationURI != base+"/device" ||
			da.VerificationURIComplete != base+"/device?user_code="+da.UserCode || da.Interval != 1 {
			t.Fatalf("device authorization response: %+v", da)
		}
		if left := time.Until(da.Expiry); left < 590*time.Second || left > 600*time.Second {
			t.Errorf("expires in %v, want the realm's 600 s", left)
		}

		t.Run("polls before approval are pending, then too fast", func(t *testing.T) {
			if st, body := e.poll(0, "tv", da.DeviceCode); st != 400 || body != `{"error":"authorization_pending","error_description":"The authorization request is still pending"}` {
				t.Errorf("first poll: %d %s", st, body)
			}
			if st, body := e.poll(0, "tv", da.DeviceCode); st != 400 || body != `{"error":"slow_down","error_description":"Slow down"}` {
				t.Errorf("poll within the interval: %d %s", st, body)
			}
		})

		b := newDevBrowser(t)
		t.Run("unknown user code on the page", func(t *testing.T) {
			form := b.get(base + "/device")
			if form.status != 200 || !strings.Contains(form.body, `name="device_user_code"`) {
				t.Fatalf("verification page: %d %s", form.status, form.body)
			}
			wrong := "ZZZZ-ZZZZ"
			if wrong == da.UserCode {
				wrong = "YYYY-YYYY"
			}
			page := b.submit(form, url.Values{"device_user_code": {wrong}})
			if page.status != 200 || !strings.Contains(page.body, "Invalid code, please try again.") || !strings.Contains(page.body, `name="device_user_code"`) {
				t.Errorf("wrong user code: %d %s", page.status, page.body)
			}
		})

		t.Run("approved through the page, then tokens", func(t *testing.T) {
			end := e.approve(b, 0, da, true)
			if end.status != http.StatusFound || !strings.HasSuffix(end.loc, "/realms/dev/device/status") {
				t.Fatalf("after approval: %d %q %s", end.status, end.loc, end.body)
			}
			if done := b.follow(end); !strings.Contains(done.body, "Device Login Successful") {
				t.Errorf("status page: %s", done.body)
			}
			tok, err := tv.DeviceAccessToken(ctx, da)
			if err != nil {
				t.Fatal(err)
			}
			claims := claims(t, tok.AccessToken)
			if claims["azp"] != "tv" || claims["preferred_username"] != "ann" || !strings.Contains(claims["scope"].(string), "email") {
				t.Errorf("access token claims: %v", claims)
			}
			if tok.RefreshToken == "" || tok.Extra("id_token") == nil {
				t.Errorf("no refresh or ID token: %+v", tok)
			}
			st, body := e.postForm(0, "/realms/dev/protocol/openid-connect/token", url.Values{"grant_type": {"refresh_token"},
				"client_id": {"tv"}, "refresh_token": {tok.RefreshToken}})
			if st != 200 {
				t.Errorf("refresh: %d %s", st, body)
			}
			e.clock.Add(2 * time.Second)
			if st, body := e.poll(0, "tv", da.DeviceCode); st != 400 || body != `{"error":"invalid_grant","error_description":"Device code not valid"}` {
				t.Errorf("second redemption: %d %s", st, body)
			}
			// The code is used: the page no longer takes it.
			if page := b.get(da.VerificationURIComplete); !strings.Contains(page.body, "Invalid code, please try again.") {
				t.Errorf("used user code on the page: %s", page.body)
			}
		})

		t.Run("denied", func(t *testing.T) {
			da, err := tv.DeviceAuth(ctx)
			if err != nil {
				t.Fatal(err)
			}
			end := e.approve(b, 0, da, false) // the browser's SSO session skips the form
			if end.status != http.StatusFound || !strings.HasSuffix(end.loc, "/device/status?error=access_denied") {
				t.Fatalf("after denial: %d %q", end.status, end.loc)
			}
			if page := b.follow(end); !strings.Contains(page.body, "Consent denied for connecting the device.") {
				t.Errorf("status page: %s", page.body)
			}
			_, err = tv.DeviceAccessToken(ctx, da)
			wantRetrieveError(t, err, "access_denied")
		})

		t.Run("expired", func(t *testing.T) {
			da, err := tv.DeviceAuth(ctx)
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Add(601 * time.Second)
			if st, body := e.poll(0, "tv", da.DeviceCode); st != 400 || body != `{"error":"expired_token","error_description":"Device code is expired"}` {
				t.Errorf("poll after expiry: %d %s", st, body)
			}
			if page := b.get(da.VerificationURIComplete); !strings.Contains(page.body, "The code has expired.") {
				t.Errorf("expired user code on the page: %s", page.body)
			}
		})

		t.Run("confidential client authenticates", func(t *testing.T) {
			box := e.config(0, "box")
			if _, err := box.DeviceAuth(ctx, oauth2.SetAuthURLParam("client_secret", devSecret)); err != nil {
				t.Errorf("with its secret: %v", err)
			}
			_, err := box.DeviceAuth(ctx, oauth2.SetAuthURLParam("client_secret", "wrong"))
			wantRetrieveError(t, err, "invalid_client")
			_, err = box.DeviceAuth(ctx)
			wantRetrieveError(t, err, "unauthorized_client") // no secret
		})

		t.Run("client without the switch", func(t *testing.T) {
			st, body := e.postForm(0, "/realms/dev/protocol/openid-connect/auth/device", url.Values{"client_id": {"plain"}})
			if st != 400 || body != `{"error":"unauthorized_client","error_description":"Client is not allowed to initiate OAuth 2.0 Device Authorization Grant. The flow is disabled for the client."}` {
				t.Errorf("device authorization: %d %s", st, body)
			}
			if st, body := e.poll(0, "plain", "whatever"); st != 400 || body != `{"error":"invalid_grant","error_description":"Client not allowed OAuth 2.0 Device Authorization Grant"}` {
				t.Errorf("token request: %d %s", st, body)
			}
			// Another client's device code is not the caller's.
			da, err := tv.DeviceAuth(ctx)
			if err != nil {
				t.Fatal(err)
			}
			st, body = e.postForm(0, "/realms/dev/protocol/openid-connect/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
				"client_id": {"box"}, "client_secret": {devSecret}, "device_code": {da.DeviceCode}})
			if st != 400 || body != `{"error":"invalid_grant","error_description":"Device code not valid"}` {
				t.Errorf("another client's device code: %d %s", st, body)
			}
		})

		t.Run("events", func(t *testing.T) {
			evs, err := e.db.ListEvents(ctx, e.rl.ID, store.EventQuery{Max: 1000})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]string{}
			for _, ev := range evs {
				seen[ev.Type] = ev.Error
			}
			for typ, errCode := range map[string]string{"OAUTH2_DEVICE_AUTH": "", "OAUTH2_DEVICE_AUTH_ERROR": "unauthorized_client",
				"OAUTH2_DEVICE_VERIFY_USER_CODE": "", "OAUTH2_DEVICE_VERIFY_USER_CODE_ERROR": "invalid_oauth2_user_code",
				"OAUTH2_DEVICE_CODE_TO_TOKEN": "", "LOGIN": ""} {
				if got, ok := seen[typ]; !ok || (errCode != "" && got == "") {
					t.Errorf("event %s: recorded %v, error %q", typ, ok, got)
				}
			}
			if _, ok := seen["OAUTH2_DEVICE_CODE_TO_TOKEN_ERROR"]; !ok {
				t.Error("no OAUTH2_DEVICE_CODE_TO_TOKEN_ERROR for the refused polls")
			}
		})
	})
}

// The realm's lifespan and interval are set through the admin API, read
// back from it, and govern the next device authorization.
func TestDeviceGrantRealmSettings(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newDevEnv(t, open(t), 1)
		base := e.srvs[0].URL
		st, body := e.postForm(0, "/realms/master/protocol/openid-connect/token", url.Values{"grant_type": {"password"},
			"client_id": {"admin-cli"}, "username": {"admin"}, "password": {"admin-pw"}})
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal([]byte(body), &tok); err != nil || st != 200 {
			t.Fatalf("admin token: %d %s", st, body)
		}
		auth := map[string]string{"Authorization": "Bearer " + tok.AccessToken, "Content-Type": "application/json"}
		r := do(t, http.MethodPut, base+"/admin/realms/dev", auth, strings.NewReader(`{"oauth2DeviceCodeLifespan":120,"oauth2DevicePollingInterval":3}`))
		if r.status != http.StatusNoContent {
			t.Fatalf("PUT realm: %d %s", r.status, r.body)
		}
		r = get(t, base+"/admin/realms/dev", auth)
		var rep map[string]any
		json.Unmarshal(r.body, &rep)
		if rep["oauth2DeviceCodeLifespan"] != 120.0 || rep["oauth2DevicePollingInterval"] != 3.0 {
			t.Errorf("realm representation: %v %v", rep["oauth2DeviceCodeLifespan"], rep["oauth2DevicePollingInterval"])
		}
		st, body = e.postForm(0, "/realms/dev/protocol/openid-connect/auth/device", url.Values{"client_id": {"tv"}})
		var da struct {
			ExpiresIn int64 `json:"expires_in"`
			Interval  int64 `json:"interval"`
		}
		if err := json.Unmarshal([]byte(body), &da); err != nil || st != 200 || da.ExpiresIn != 120 || da.Interval != 3 {
			t.Errorf("device authorization: %d %s", st, body)
		}
	})
}

// A code started on one node is approved on a second and redeemed on a
// third: all of the grant's state is in the shared database.
func TestDeviceAuthorizationGrantAcrossNodes(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newDevEnv(t, open(t), 3)
		da, err := e.config(0, "tv").DeviceAuth(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		b := newDevBrowser(t)
		if end := e.approve(b, 1, da, true); end.status != http.StatusFound || !strings.HasSuffix(end.loc, "/device/status") {
			t.Fatalf("approval on node 1: %d %q", end.status, end.loc)
		}
		tok, err := e.config(2, "tv").DeviceAccessToken(t.Context(), da)
		if err != nil {
			t.Fatalf("poll on node 2: %v", err)
		}
		if c := claims(t, tok.AccessToken); c["preferred_username"] != "ann" {
			t.Errorf("access token claims: %v", c)
		}
	})
}
