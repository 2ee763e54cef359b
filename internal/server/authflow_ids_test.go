package server_test

import (
	"slices"
	"sort"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/authflow"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	_ "github.com/gatehouse-iam/gatehouse/internal/server"
)

// implementedElsewhere are the ids of flow.Runnable whose implementations
// register from packages not built into this binary yet (registration and
// reset-credentials pages). The list must shrink to nothing as they land:
// an id registered and still listed here fails the test.
var implementedElsewhere = []string{}

// TestRunnableIsRegistered: the authenticators the engine runs are exactly
// those flow.Runnable declares, so a flow the admin API accepts is a flow
// a login can walk.
func TestRunnableIsRegistered(t *testing.T) {
	registered := authflow.IDs()
	var runnable []string
	for id := range flow.Runnable {
		runnable = append(runnable, id)
	}
	sort.Strings(runnable)
	for _, id := range registered {
		if !flow.Runnable[id] {
			t.Errorf("authenticator %s is registered but not in flow.Runnable", id)
		}
		if slices.Contains(implementedElsewhere, id) {
			t.Errorf("authenticator %s is registered: take it off implementedElsewhere", id)
		}
	}
	for _, id := range runnable {
		if !slices.Contains(registered, id) && !slices.Contains(implementedElsewhere, id) {
			t.Errorf("flow.Runnable has %s, which no authenticator implements", id)
		}
	}
}
