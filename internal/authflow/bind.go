package authflow

import (
	"errors"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
)

// Keycloak's client binding override keys (authenticationFlowBindingOverrides).
const (
	OverrideBrowser     = "browser"
	OverrideDirectGrant = "direct_grant"
)

// ErrFlowConfig is a flow that cannot run: a binding to a missing flow, a
// sub-flow that does not exist, an execution naming an authenticator
// nobody registered. The login fails; an administrator must fix the flow.
var ErrFlowConfig = errors.New("authentication flow misconfigured")

// Bound returns the top-level flow that authenticates kind for client c:
// the client's override (a flow id) when it has one, else the realm's
// binding.
func Bound(model flow.Config, c client.Client, kind Kind) (flow.Config, flow.Flow, error) {
	key, binding := OverrideBrowser, model.Bindings.Browser
	switch kind {
	case DirectGrant:
		key, binding = OverrideDirectGrant, model.Bindings.DirectGrant
	case Registration:
		key, binding = "", model.Bindings.Registration
	case ResetCredentials:
		key, binding = "", model.Bindings.ResetCredentials
	case FirstBrokerLogin:
		// The identity provider names the flow; the login's state holds it.
		key, binding = "", flow.FirstBrokerLoginFlow
	}
	if id := c.AuthFlowOverrides[key]; key != "" && id != "" {
		if f, ok := model.FlowByID(id); ok {
			return model, f, nil
		}
		if f, ok := model.FlowByAlias(id); ok {
			return model, f, nil
		}
		return model, flow.Flow{}, fmt.Errorf("%w: client %s overrides the %s flow with %q, which does not exist", ErrFlowConfig, c.ClientID, key, id)
	}
	f, ok := model.FlowByAlias(binding)
	if !ok {
		return model, flow.Flow{}, fmt.Errorf("%w: the realm's %s binding %q names no flow", ErrFlowConfig, key, binding)
	}
	return model, f, nil
}

// Check reports the first reason the flow top cannot run: what
// flow.CheckBindable finds (a missing sub-flow, an authenticator outside
// flow.Runnable), or an enabled execution whose authenticator is in
// flow.Runnable but not registered in this binary. Disabled executions are
// not looked at, as Keycloak ignores them.
func Check(model flow.Config, top flow.Flow) error {
	if err := flow.CheckBindable(model, top.Alias); err != nil {
		return fmt.Errorf("%w: %v", ErrFlowConfig, err)
	}
	return check(model, top, 0)
}

func check(model flow.Config, f flow.Flow, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: flow %q nests too deep (a cycle?)", ErrFlowConfig, f.Alias)
	}
	for _, e := range f.Executions {
		if e.Requirement == flow.Disabled {
			continue
		}
		if !e.AuthenticatorFlow {
			if f.ProviderID == flow.FormFlow {
				if _, ok := lookupFormAction(e.Authenticator); !ok {
					return fmt.Errorf("%w: flow %q: unknown form action %q", ErrFlowConfig, f.Alias, e.Authenticator)
				}
				continue
			}
			if _, ok := Lookup(e.Authenticator); !ok {
				return fmt.Errorf("%w: flow %q: unknown authenticator %q", ErrFlowConfig, f.Alias, e.Authenticator)
			}
			continue
		}
		sub, ok := model.FlowByAlias(e.FlowAlias)
		if !ok {
			return fmt.Errorf("%w: flow %q: sub-flow %q does not exist", ErrFlowConfig, f.Alias, e.FlowAlias)
		}
		if sub.ProviderID == flow.FormFlow {
			if _, ok := lookupFormAuthenticator(e.Authenticator); !ok {
				return fmt.Errorf("%w: flow %q: unknown form authenticator %q", ErrFlowConfig, f.Alias, e.Authenticator)
			}
		}
		if err := check(model, sub, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// maxDepth bounds sub-flow nesting; Keycloak's console cannot build a
// cycle, but an imported document could.
const maxDepth = 16
