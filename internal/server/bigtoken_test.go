package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// Regression (issue 13): the master realm's admin tokens carry the roles of
// every realm's "<realm>-realm" client, so they grow with each realm; past
// about 28 realms they were over the 16 KiB the admin API accepted, and
// every admin call of the bootstrap admin answered 401. Every token the
// server issues must be accepted where it is presented, through the real
// listener and its header limit.
func TestAdminTokenOfManyRealms(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := t.Context()
		start := time.Now()
		if _, err := provision.Master(ctx, db, "admin", "pw", start); err != nil {
			t.Fatal(err)
		}
		const realms = 200
		for i := range realms {
			if err := provision.NewRealm(ctx, db, realm.New(store.NewID(), fmt.Sprintf("tenant-%03d", i)), start); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%d realms created in %s", realms, time.Since(start).Round(time.Millisecond))
		// An automation client administering the server, as Terraform's
		// provider uses one: a service account holding master's admin role.
		m, err := db.GetRealmByName(ctx, realm.MasterName)
		if err != nil {
			t.Fatal(err)
		}
		c := client.New(store.NewID(), m.ID, "automation")
		c.Secret, c.ServiceAccountsEnabled = "automation-secret", true
		if err := provision.CreateClient(ctx, db, c, start); err != nil {
			t.Fatal(err)
		}
		sa, err := db.GetServiceAccount(ctx, m.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		adminRole, err := db.GetRealmRole(ctx, m.ID, "admin")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.AddUserRoles(ctx, sa.ID, adminRole.ID); err != nil {
			t.Fatal(err)
		}

		cfg := devConfig(t, "--http-port", strconv.Itoa(freePort(t)))
		h := server.New(server.Options{Store: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Limits: server.DefaultLimits()})
		rctx, cancel := context.WithCancel(context.Background())
		listening, errc := runServer(t, rctx, cfg, h)
		t.Cleanup(func() { cancel(); <-errc })
		base := strings.TrimSuffix(listening[0], "/")

		grant := func(form url.Values) string {
			t.Helper()
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			if st, err := postFormJSON(base+"/realms/master/protocol/openid-connect/token", form, &tok); err != nil || st != http.StatusOK || tok.AccessToken == "" {
				t.Fatalf("%s grant: %d %v", form.Get("grant_type"), st, err)
			}
			return tok.AccessToken
		}
		tokens := map[string]string{
			"the admin user's (admin-cli)": grant(url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"},
				"username": {"admin"}, "password": {"pw"}}),
			"the automation service account's": grant(url.Values{"grant_type": {"client_credentials"},
				"client_id": {"automation"}, "client_secret": {"automation-secret"}}),
		}
		for who, tok := range tokens {
			t.Logf("%s access token with %d realms: %d bytes", who, realms+1, len(tok))
			useBigToken(t, base, who, tok, realms+1)
		}
		// Introspection takes the token in a form parameter.
		var in struct {
			Active bool `json:"active"`
		}
		st, err := postFormJSON(base+"/realms/master/protocol/openid-connect/token/introspect", url.Values{
			"client_id": {"automation"}, "client_secret": {"automation-secret"},
			"token": {tokens["the automation service account's"]}}, &in)
		if err != nil || st != http.StatusOK || !in.Active {
			t.Errorf("introspecting the service account's token: %d active=%v %v", st, in.Active, err)
		}
	})
}

func useBigToken(t *testing.T, base, who, tok string, realms int) {
	t.Helper()
	for _, p := range []string{"/admin/realms", "/admin/realms/tenant-199/clients", "/realms/master/protocol/openid-connect/userinfo"} {
		req, _ := http.NewRequest(http.MethodGet, base+p, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s with %s token: %d %.200s", p, who, res.StatusCode, body)
			continue
		}
		if p == "/admin/realms" {
			var list []map[string]any
			if err := json.Unmarshal(body, &list); err != nil || len(list) != realms {
				t.Errorf("GET /admin/realms: %d realms, %v", len(list), err)
			}
		}
	}
}

// postFormJSON posts form to u and decodes the JSON answer into v.
func postFormJSON(u string, form url.Values, v any) (int, error) {
	res, err := http.PostForm(u, form)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	return res.StatusCode, json.NewDecoder(res.Body).Decode(v)
}
