package oidc_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// A direct grant flow that cannot run is answered with a generic error: the
// flow's alias and authenticator names stay in the server's log.
func TestPasswordGrantFlowErrorIsGeneric(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnv(t, open)
		err := e.db.UpdateAuthConfig(context.Background(), e.realm.ID, func(c *flow.Config) error {
			c.Flows = append(c.Flows, flow.Flow{ID: "secret-grant", Alias: "secret grant flow", ProviderID: flow.BasicFlow, TopLevel: true,
				Executions: []flow.Execution{{ID: "x1", Authenticator: "secret-authenticator", Requirement: flow.Required, Priority: 10}}})
			c.Bindings.DirectGrant = "secret grant flow"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		st, body := e.password("openid")
		if st != http.StatusInternalServerError || body["error"] != "unknown_error" {
			t.Fatalf("password grant on a broken flow: %d %v", st, body)
		}
		if s := fmt.Sprint(body); strings.Contains(s, "secret") {
			t.Errorf("the error names the flow's parts: %s", s)
		}
	})
}
