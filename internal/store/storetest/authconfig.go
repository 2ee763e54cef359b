package storetest

import (
	"errors"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

func authConfigTests() []struct {
	name string
	fn   func(t *testing.T, db *store.DB)
} {
	return []struct {
		name string
		fn   func(t *testing.T, db *store.DB)
	}{
		{"auth config: defaults until stored, init only once, edits in a transaction", testAuthConfig},
	}
}

func testAuthConfig(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "authcfg")
	got, err := db.GetAuthConfig(ctx(), r.ID)
	if err != nil || len(got.Flows) != len(flow.Defaults().Flows) || got.Flows[0].ID != "" {
		t.Fatalf("unstored model: %d flows, %v", len(got.Flows), err)
	}
	c := flow.Defaults()
	c.AssignIDs(store.NewID)
	if ok, err := db.InitAuthConfig(ctx(), r.ID, c); !ok || err != nil {
		t.Fatalf("first init: %v %v", ok, err)
	}
	if ok, err := db.InitAuthConfig(ctx(), r.ID, flow.Config{}); ok || err != nil {
		t.Fatalf("second init replaced the model: %v %v", ok, err)
	}
	got, err = db.GetAuthConfig(ctx(), r.ID)
	if err != nil || got.Flows[0].ID != c.Flows[0].ID || got.Flows[0].Executions[0].ID != c.Flows[0].Executions[0].ID {
		t.Fatalf("stored ids not kept: %v", err)
	}
	boom := errors.New("boom")
	err = db.UpdateAuthConfig(ctx(), r.ID, func(c *flow.Config) error {
		c.Bindings.Browser = "changed"
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update error: %v", err)
	}
	if err := db.UpdateAuthConfig(ctx(), r.ID, func(c *flow.Config) error { c.Bindings.DirectGrant = "x"; return nil }); err != nil {
		t.Fatal(err)
	}
	got, _ = db.GetAuthConfig(ctx(), r.ID)
	if got.Bindings.Browser != flow.BrowserFlow || got.Bindings.DirectGrant != "x" {
		t.Errorf("bindings after a failed and a good edit: %+v", got.Bindings)
	}
	if err := db.DeleteRealm(ctx(), r.ID); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.InitAuthConfig(ctx(), r.ID, c); err == nil && ok {
		t.Errorf("model stored for a deleted realm")
	}
}
