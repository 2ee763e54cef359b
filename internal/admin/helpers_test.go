package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// testServer is the whole Gatehouse over real HTTP and a real store, with
// the bootstrap admin "admin" / "admin-pw" in master.
type testServer struct {
	t   *testing.T
	URL string
	DB  *store.DB
	Log *bytes.Buffer
}

func newServer(t *testing.T, open func(testing.TB) *store.DB) *testServer {
	t.Helper()
	db := open(t)
	if _, err := provision.Master(context.Background(), db, "admin", "admin-pw", time.Now()); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	h := server.New(server.Options{Store: db, Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testServer{t: t, URL: srv.URL, DB: db, Log: &logs}
}

// token logs a user in with the password grant and returns the access token.
func (s *testServer) token(realmName, clientID, username, password string) string {
	s.t.Helper()
	form := url.Values{"grant_type": {"password"}, "client_id": {clientID}, "username": {username}, "password": {password}}
	resp, err := http.PostForm(s.URL+"/realms/"+realmName+"/protocol/openid-connect/token", form)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 200 {
		s.t.Fatalf("login %s/%s: %d %v", realmName, username, resp.StatusCode, body)
	}
	return body["access_token"].(string)
}

// adminToken is the bootstrap admin's token through admin-cli.
func (s *testServer) adminToken() string { return s.token("master", "admin-cli", "admin", "admin-pw") }

// do sends an admin API request; body is marshalled unless it is a string.
// It returns the status, the response headers and the raw body.
func (s *testServer) do(method, path, token string, body any) (int, http.Header, []byte) {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, s.URL+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	// Keycloak answers some failures 500 with an errorMessage on purpose (a
	// mail that could not be sent); anything else at 500 is a defect.
	if resp.StatusCode >= 500 && !bytes.HasPrefix(b, []byte(`{"errorMessage":`)) {
		s.t.Errorf("%s %s: server error %d: %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode, resp.Header, b
}

// get decodes a 200 JSON answer into v (which must be a pointer).
func (s *testServer) get(path, token string, v any) {
	s.t.Helper()
	st, _, b := s.do("GET", path, token, nil)
	if st != 200 {
		s.t.Fatalf("GET %s: %d %s", path, st, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		s.t.Fatalf("GET %s: %v: %s", path, err, b)
	}
}

// newRealm creates a realm the way the server does, for tests that need one.
func (s *testServer) newRealm(name string) realm.Realm {
	s.t.Helper()
	r := realm.New(store.NewID(), name)
	if err := provision.NewRealm(context.Background(), s.DB, r, time.Now()); err != nil {
		s.t.Fatal(err)
	}
	r, _ = s.DB.GetRealm(context.Background(), r.ID)
	return r
}

// realmAdmin creates a user in realm r holding the given realm-management
// roles, and returns a token for it through admin-cli of that realm.
func (s *testServer) realmAdmin(r realm.Realm, username string, roles ...string) string {
	s.t.Helper()
	ctx := context.Background()
	u := user.User{ID: store.NewID(), RealmID: r.ID, Username: username, Enabled: true, CreatedTimestamp: time.Now().UnixMilli()}
	if err := s.DB.CreateUser(ctx, u); err != nil {
		s.t.Fatal(err)
	}
	cred, _ := user.NewPasswordCredential(store.NewID(), u.ID, "pw-"+username, time.Now().UnixMilli(), user.HashPolicy{})
	s.DB.CreateCredential(ctx, cred)
	rm, err := s.DB.GetClientByClientID(ctx, r.ID, provision.RealmManagement)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, name := range roles {
		ro, err := s.DB.GetClientRole(ctx, r.ID, rm.ID, name)
		if err != nil {
			s.t.Fatalf("role %s: %v", name, err)
		}
		s.DB.AddUserRoles(ctx, u.ID, ro.ID)
	}
	return s.token(r.Name, "admin-cli", username, "pw-"+username)
}

// Both runs fn on SQLite and, when configured, PostgreSQL.
func both(t *testing.T, fn func(t *testing.T, s *testServer)) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) { fn(t, newServer(t, open)) })
}
