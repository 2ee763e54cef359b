// Package adminclient_test runs Keycloak's own admin client library,
// @keycloak/keycloak-admin-client at the version package.json pins, against
// a whole Gatehouse over HTTP: admin.test.mjs drives every admin resource
// through the library, so "Keycloak-compatible" is checked by the code
// Keycloak's users actually run rather than by our reading of the API.
// registration.test.mjs makes initial access tokens through it and registers
// a client with one. keys.test.mjs checks tokens: openid-client (pinned
// too) verifies the tokens of ES256 and Ed25519 realms through discovery,
// dpop.test.mjs obtains and uses DPoP-bound tokens with it, and
// par.test.mjs logs in through a pushed authorization request with it.
//
// The suite needs node and `npm ci` run in this directory. Without either
// the test skips, saying so; with GATEHOUSE_TEST_REQUIRE_ALL set (CI) it
// fails instead.
package adminclient_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/ldap/ldaptest"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// required fails the test when CI demands every dependency, else skips it.
func required(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv(storetest.RequireEnv) != "" {
		t.Fatalf("%s, and %s requires the admin client tests", msg, storetest.RequireEnv)
	}
	t.Skip(msg + "; skipping the admin client test")
}

// TestAdminClient serves Gatehouse with the bootstrap admin admin/admin-pw
// in master, then runs `node --test` in this directory with GATEHOUSE_URL
// pointing at it.
func TestAdminClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		required(t, "node is not installed")
	}
	// Go runs a test in its package directory, which is the npm package.
	if _, err := os.Stat("node_modules/@keycloak/keycloak-admin-client/package.json"); err != nil {
		required(t, "node_modules is missing (run npm ci in test/adminclient)")
	}
	d := ldaptest.Start(t)
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		if _, err := provision.Master(t.Context(), db, "admin", "admin-pw", time.Now()); err != nil {
			t.Fatal(err)
		}
		// Server logs are shown only when the suite fails: they say why a
		// call the library made was refused.
		var logs bytes.Buffer
		srv := httptest.NewServer(server.New(server.Options{Store: db,
			Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))}))
		t.Cleanup(srv.Close)

		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
		defer cancel()
		// No path: node finds *.test.mjs here, never under node_modules.
		cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec")
		cmd.Env = append(os.Environ(), "GATEHOUSE_URL="+srv.URL, "NO_COLOR=1",
			"GATEHOUSE_LDAP_URL="+d.URL, "GATEHOUSE_LDAP_BIND_DN="+ldaptest.BindDN, "GATEHOUSE_LDAP_BIND_PW="+ldaptest.BindPW,
			"GATEHOUSE_LDAP_USERS_DN="+ldaptest.PeopleDN, "GATEHOUSE_LDAP_GROUPS_DN="+ldaptest.GroupsDN)
		cmd.Stdout = t.Output()
		cmd.Stderr = t.Output()
		cmd.WaitDelay = 5 * time.Second
		if err := cmd.Run(); err != nil {
			srv.Close() // no more writes to logs
			t.Output().Write(logs.Bytes())
			t.Fatalf("node --test: %v", err)
		}
	})
}
