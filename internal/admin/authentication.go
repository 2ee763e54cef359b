package admin

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The authentication management API: the realm's flows, their executions,
// authenticator configs and required actions (package flow's Config), with
// Keycloak's paths, representations and refusals. Built-in flows keep their
// shape: they may be copied, and their steps' requirements changed, but
// steps are not added to, removed from or moved within them, and they are
// not deleted.

func (h *Handler) authenticationRoutes(mux Mux) {
	const a = "/admin/realms/{realm}/authentication"
	h.handle(mux, "GET "+a+"/authenticator-providers", "view-realm", providerList(flow.KindAuthenticator))
	h.handle(mux, "GET "+a+"/client-authenticator-providers", "view-realm", providerList(flow.KindClient))
	h.handle(mux, "GET "+a+"/form-providers", "view-realm", providerList(flow.KindForm))
	h.handle(mux, "GET "+a+"/form-action-providers", "view-realm", providerList(flow.KindFormAction))
	h.handle(mux, "GET "+a+"/config-description/{providerId}", "view-realm", configDescription)
	h.handle(mux, "GET "+a+"/per-client-config-description", "view-realm", perClientConfigDescription)

	h.handle(mux, "GET "+a+"/flows", "view-realm", h.listFlows)
	h.handle(mux, "POST "+a+"/flows", "manage-realm", h.createFlow)
	h.handle(mux, "GET "+a+"/flows/{id}", "view-realm", h.getFlow)
	h.handle(mux, "PUT "+a+"/flows/{id}", "manage-realm", h.updateFlow)
	h.handle(mux, "DELETE "+a+"/flows/{id}", "manage-realm", h.deleteFlow)
	h.handle(mux, "POST "+a+"/flows/{id}/copy", "manage-realm", h.copyFlow)
	h.handle(mux, "GET "+a+"/flows/{id}/executions", "view-realm", h.listExecutions)
	h.handle(mux, "PUT "+a+"/flows/{id}/executions", "manage-realm", h.updateExecution)
	h.handle(mux, "POST "+a+"/flows/{id}/executions/execution", "manage-realm", h.addExecution)
	h.handle(mux, "POST "+a+"/flows/{id}/executions/flow", "manage-realm", h.addSubFlow)

	h.handle(mux, "POST "+a+"/executions", "manage-realm", h.createExecution)
	h.handle(mux, "GET "+a+"/executions/{id}", "manage-realm", h.getExecution)
	h.handle(mux, "DELETE "+a+"/executions/{id}", "manage-realm", h.deleteExecution)
	h.handle(mux, "POST "+a+"/executions/{id}/raise-priority", "manage-realm", h.moveExecution(-1))
	h.handle(mux, "POST "+a+"/executions/{id}/lower-priority", "manage-realm", h.moveExecution(+1))
	h.handle(mux, "POST "+a+"/executions/{id}/config", "manage-realm", h.createExecutionConfig)
	h.handle(mux, "GET "+a+"/executions/{id}/config/{configId}", "view-realm", h.getConfig)

	h.handle(mux, "GET "+a+"/config/{configId}", "view-realm", h.getConfig)
	h.handle(mux, "PUT "+a+"/config/{configId}", "manage-realm", h.updateConfig)
	h.handle(mux, "DELETE "+a+"/config/{configId}", "manage-realm", h.deleteConfig)

	h.handle(mux, "GET "+a+"/required-actions", "view-realm", h.listRequiredActions)
	h.handle(mux, "GET "+a+"/required-actions/{alias}", "view-realm", h.getRequiredAction)
	h.handle(mux, "PUT "+a+"/required-actions/{alias}", "manage-realm", h.updateRequiredAction)
	h.handle(mux, "DELETE "+a+"/required-actions/{alias}", "manage-realm", h.deleteRequiredAction)
	h.handle(mux, "POST "+a+"/required-actions/{alias}/raise-priority", "manage-realm", h.moveRequiredAction(-1))
	h.handle(mux, "POST "+a+"/required-actions/{alias}/lower-priority", "manage-realm", h.moveRequiredAction(+1))
	h.handle(mux, "GET "+a+"/required-actions/{alias}/config-description", "view-realm", h.requiredActionConfigDescription)
	h.handle(mux, "GET "+a+"/required-actions/{alias}/config", "view-realm", h.getRequiredActionConfig)
	h.handle(mux, "PUT "+a+"/required-actions/{alias}/config", "manage-realm", h.updateRequiredActionConfig)
	h.handle(mux, "DELETE "+a+"/required-actions/{alias}/config", "manage-realm", h.deleteRequiredActionConfig)
	h.handle(mux, "GET "+a+"/unregistered-required-actions", "view-realm", h.unregisteredRequiredActions)
	h.handle(mux, "POST "+a+"/register-required-action", "manage-realm", h.registerRequiredAction)
}

// Keycloak's refusals of this API. A JAX-RS exception's message is the
// body's "error"; ErrorResponse's are "errorMessage".
var (
	errFlowNotFound = notFound("Could not find flow with id")
	// Listing the executions of, or copying, an unknown flow: no body.
	errFlowAliasNotFound = &web.Error{Status: http.StatusNotFound}
	errIllegalExecution  = notFound("Illegal execution")
	errConfigNotFound    = notFound("Could not find authenticator config")
	errActionNotFound    = notFound("Failed to find required action.")
	errBuiltInFlowDelete = authError("Can't delete built in flow")
	errBuiltInAdd        = authError("It is illegal to add execution to a built in flow")
	errBuiltInAddFlow    = authError("It is illegal to add sub-flow to a built in flow")
	errBuiltInModify     = authError("It is illegal to modify execution in a built in flow")
	errBuiltInRemove     = authError("It is illegal to remove execution from a built in flow")
	errParentFlowMissing = authError("Parent flow doesn't exist")
)

// authError is a 400 with Keycloak's {"error": msg} body.
func authError(msg string) *web.Error {
	return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": msg}}
}

// flowError turns package flow's refusals into 400 errorMessage bodies.
func flowError(err error) error {
	var fe *flow.Error
	if errors.As(err, &fe) {
		return badRequest(fe.Msg)
	}
	return err
}

// authConfig reads the realm's model. A realm created before the model was
// stored gets its built-in one with ids here, once.
func (h *Handler) authConfig(ctx context.Context, realmID string) (flow.Config, error) {
	c, err := h.Store.GetAuthConfig(ctx, realmID)
	if err != nil || hasIDs(c) {
		return c, err
	}
	if err := h.editAuth(ctx, realmID, func(*flow.Config) error { return nil }); err != nil {
		return flow.Config{}, err
	}
	return h.Store.GetAuthConfig(ctx, realmID)
}

func hasIDs(c flow.Config) bool {
	for _, f := range c.Flows {
		if f.ID == "" {
			return false
		}
		for _, e := range f.Executions {
			if e.ID == "" {
				return false
			}
		}
	}
	for _, a := range c.Configs {
		if a.ID == "" {
			return false
		}
	}
	return true
}

// editAuth changes the realm's model in one transaction; new parts get ids.
func (h *Handler) editAuth(ctx context.Context, realmID string, edit func(*flow.Config) error) error {
	return h.Store.UpdateAuthConfig(ctx, realmID, func(c *flow.Config) error {
		if err := edit(c); err != nil {
			return err
		}
		c.AssignIDs(store.NewID)
		return nil
	})
}

// editAuthNoContent edits the request's realm's model and answers 204.
func (h *Handler) editAuthNoContent(rq *Request, edit func(*flow.Config) error) error {
	if err := h.editAuth(rq.R.Context(), rq.Realm.ID, edit); err != nil {
		return err
	}
	return rq.NoContent()
}

// flowIndex finds a flow by id or, as Keycloak's flowAlias paths also
// accept, by alias.
func flowIndex(c *flow.Config, key string) int {
	if i := slices.IndexFunc(c.Flows, func(f flow.Flow) bool { return f.ID == key }); i >= 0 {
		return i
	}
	return slices.IndexFunc(c.Flows, func(f flow.Flow) bool { return f.Alias == key })
}

// execIndex finds an execution by id: its flow's index and its own.
func execIndex(c *flow.Config, id string) (int, int) {
	for i, f := range c.Flows {
		if j := slices.IndexFunc(f.Executions, func(e flow.Execution) bool { return e.ID == id }); j >= 0 && id != "" {
			return i, j
		}
	}
	return -1, -1
}

// sortExecutions keeps a flow's executions in priority order, the order
// every list and move works on.
func sortExecutions(f *flow.Flow) {
	slices.SortStableFunc(f.Executions, func(a, b flow.Execution) int { return cmp.Compare(a.Priority, b.Priority) })
}

func nextPriority(f flow.Flow) int {
	if len(f.Executions) == 0 {
		return 0
	}
	sortExecutions(&f)
	return f.Executions[len(f.Executions)-1].Priority + 1
}

// bindingGuard refuses a change that leaves a flow the realm or a client
// binds for a login unable to run, naming the authenticator; flows that
// could not run before the change are left to the import report.
type bindingGuard struct {
	was       map[string]string // binding → reason, before
	overrides map[string]bool   // flow ids clients bind
	wasBad    map[string]bool   // of those, the ones not runnable before
}

func (h *Handler) newBindingGuard(ctx context.Context, realmID string) (*bindingGuard, error) {
	ids, err := h.flowsBoundByClients(ctx, realmID)
	if err != nil {
		return nil, err
	}
	return &bindingGuard{overrides: ids}, nil
}

// before records the model as it is before the edit.
func (g *bindingGuard) before(c flow.Config) {
	g.was, g.wasBad = flow.NotRunnable(c), map[string]bool{}
	for _, f := range c.Flows {
		if g.overrides[f.ID] && flow.CheckBindable(c, f.Alias) != nil {
			g.wasBad[f.ID] = true
		}
	}
}

// after checks the edited model.
func (g *bindingGuard) after(c flow.Config) error {
	bad := flow.NotRunnable(c)
	for _, k := range slices.Sorted(maps.Keys(bad)) {
		if g.was[k] == "" {
			return badRequest(bad[k])
		}
	}
	for _, f := range c.Flows {
		if g.overrides[f.ID] && !g.wasBad[f.ID] {
			if err := flow.CheckBindable(c, f.Alias); err != nil {
				return flowError(err)
			}
		}
	}
	return nil
}

// flowsBoundByClients returns the ids of the flows clients bind.
func (h *Handler) flowsBoundByClients(ctx context.Context, realmID string) (map[string]bool, error) {
	cs, err := h.Store.ListClients(ctx, realmID)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, cl := range cs {
		for _, v := range cl.AuthFlowOverrides {
			out[v] = true
		}
	}
	return out, nil
}

// Providers.

type providerRep struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
}

// providerList answers the providers of a kind that Gatehouse runs (all of
// a form's, the page being the flow itself).
func providerList(kind string) endpoint {
	return func(rq *Request) error {
		out := []providerRep{}
		for _, p := range flow.Providers {
			if p.Kind != kind || (kind == flow.KindAuthenticator && !flow.Runnable[p.ID]) {
				continue
			}
			out = append(out, providerRep{ID: p.ID, DisplayName: p.DisplayName, Description: p.Description})
		}
		return rq.JSON(out)
	}
}

type configPropertyRep struct {
	Name         string   `json:"name"`
	Label        string   `json:"label"`
	HelpText     string   `json:"helpText"`
	Type         string   `json:"type"`
	DefaultValue any      `json:"defaultValue,omitempty"`
	Options      []string `json:"options,omitzero"`
	Secret       bool     `json:"secret"`
	Required     bool     `json:"required"`
	ReadOnly     bool     `json:"readOnly"`
}

func propertyReps(ps []flow.Property) []configPropertyRep {
	out := []configPropertyRep{}
	for _, p := range ps {
		out = append(out, configPropertyRep{Name: p.Name, Label: p.Label, HelpText: p.HelpText, Type: p.Type, DefaultValue: p.Default, Options: p.Options})
	}
	return out
}

func configDescription(rq *Request) error {
	p, ok := flow.ProviderByID(rq.R.PathValue("providerId"))
	if !ok {
		return notFound("Could not find authenticator provider")
	}
	return rq.JSON(struct {
		Name       string              `json:"name"`
		ProviderID string              `json:"providerId"`
		HelpText   string              `json:"helpText"`
		Properties []configPropertyRep `json:"properties"`
	}{p.DisplayName, p.ID, p.Description, propertyReps(p.Properties)})
}

func perClientConfigDescription(rq *Request) error {
	out := map[string][]configPropertyRep{}
	for _, p := range flow.Providers {
		if p.Kind == flow.KindClient {
			out[p.ID] = propertyReps(p.Properties)
		}
	}
	return rq.JSON(out)
}

// Flows.

// listFlows answers the top-level flows by alias, without "saml ecp" as
// Keycloak leaves it out.
func (h *Handler) listFlows(rq *Request) error {
	c, err := h.authConfig(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return err
	}
	out := []rep.AuthenticationFlow{}
	for _, f := range c.Flows {
		if f.TopLevel && f.Alias != flow.SAMLECPFlow {
			out = append(out, rep.FlowFromDomain(f))
		}
	}
	slices.SortFunc(out, func(a, b rep.AuthenticationFlow) int { return strings.Compare(a.Alias, b.Alias) })
	return rq.JSON(out)
}

func (h *Handler) getFlow(rq *Request) error {
	c, err := h.authConfig(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return err
	}
	f, ok := c.FlowByID(rq.R.PathValue("id"))
	if !ok {
		return errFlowNotFound
	}
	return rq.JSON(rep.FlowFromDomain(f))
}

var flowProviders = []string{flow.BasicFlow, flow.FormFlow, flow.ClientFlow}

func (h *Handler) createFlow(rq *Request) error {
	var in rep.AuthenticationFlow
	if err := rq.decode(&in); err != nil {
		return err
	}
	if in.Alias == "" {
		return conflict("Failed to create flow with empty alias name")
	}
	if in.ProviderID == "" {
		in.ProviderID = flow.BasicFlow
	}
	if !slices.Contains(flowProviders, in.ProviderID) {
		return badRequest("Unknown flow provider " + in.ProviderID)
	}
	id := store.NewID()
	err := h.editAuth(rq.R.Context(), rq.Realm.ID, func(c *flow.Config) error {
		if _, ok := c.FlowByAlias(in.Alias); ok {
			return conflict("Flow %s already exists", in.Alias)
		}
		c.Flows = append(c.Flows, flow.Flow{ID: id, Alias: in.Alias, Description: in.Description, ProviderID: in.ProviderID, TopLevel: in.TopLevel})
		return nil
	})
	if err != nil {
		return err
	}
	return rq.Created(rq.URL("/authentication/flows/" + id))
}

// updateFlow renames a flow or changes its description; the sub-flow
// executions and bindings that name it follow the new alias. Keycloak
// answers 202 with the flow.
func (h *Handler) updateFlow(rq *Request) error {
	var in rep.AuthenticationFlow
	if err := rq.decode(&in); err != nil {
		return err
	}
	var out flow.Flow
	err := h.editAuth(rq.R.Context(), rq.Realm.ID, func(c *flow.Config) error {
		i := slices.IndexFunc(c.Flows, func(f flow.Flow) bool { return f.ID == rq.R.PathValue("id") })
		if i < 0 {
			return errFlowNotFound
		}
		if in.Alias == "" {
			return conflict("Failed to update flow with empty alias name")
		}
		if other, ok := c.FlowByAlias(in.Alias); ok && other.ID != c.Flows[i].ID {
			return conflict("Flow alias name already exists")
		}
		renameFlow(c, c.Flows[i].Alias, in.Alias)
		c.Flows[i].Description = in.Description
		out = c.Flows[i]
		return nil
	})
	if err != nil {
		return err
	}
	return web.WriteJSON(rq.W, http.StatusAccepted, rep.FlowFromDomain(out))
}

// renameFlow changes a flow's alias everywhere the model names it.
func renameFlow(c *flow.Config, from, to string) {
	if from == to {
		return
	}
	for i := range c.Flows {
		if c.Flows[i].Alias == from {
			c.Flows[i].Alias = to
		}
		for j := range c.Flows[i].Executions {
			if e := &c.Flows[i].Executions[j]; e.AuthenticatorFlow && e.FlowAlias == from {
				e.FlowAlias = to
			}
		}
	}
	for _, b := range c.Bindings.Refs() {
		if *b.Alias == from {
			*b.Alias = to
		}
	}
}

// deleteFlow deletes a flow with its sub-flows and their configs. A flow
// the realm or a client binds is in use and stays.
func (h *Handler) deleteFlow(rq *Request) error {
	ctx := rq.R.Context()
	id := rq.R.PathValue("id")
	bound, err := h.flowsBoundByClients(ctx, rq.Realm.ID)
	if err != nil {
		return err
	}
	return h.editAuthNoContent(rq, func(c *flow.Config) error {
		f, ok := c.FlowByID(id)
		if !ok {
			return notFound("Flow not found")
		}
		if f.BuiltIn {
			return errBuiltInFlowDelete
		}
		if bound[id] || c.Bindings.Binds(f.Alias) {
			return authError("Cannot remove authentication flow, it is currently in use")
		}
		return deleteFlowTree(c, f.Alias)
	})
}

// deleteFlowTree removes the flow alias, its executions' configs and,
// depth first, its sub-flows. A built-in sub-flow stops it, as in Keycloak.
func deleteFlowTree(c *flow.Config, alias string) error {
	f, ok := c.FlowByAlias(alias)
	if !ok {
		return nil // a missing sub-flow does not stop the deletion
	}
	for _, e := range f.Executions {
		if err := deleteExecutionParts(c, e); err != nil {
			return err
		}
	}
	c.Flows = slices.DeleteFunc(c.Flows, func(x flow.Flow) bool { return x.Alias == alias })
	return nil
}

// deleteExecutionParts removes what an execution owns: its sub-flow tree
// and its authenticator config.
func deleteExecutionParts(c *flow.Config, e flow.Execution) error {
	if e.AuthenticatorFlow {
		if sub, ok := c.FlowByAlias(e.FlowAlias); ok && sub.BuiltIn {
			return errBuiltInRemove
		}
		if err := deleteFlowTree(c, e.FlowAlias); err != nil {
			return err
		}
	}
	if e.AuthenticatorConfig != "" {
		c.Configs = slices.DeleteFunc(c.Configs, func(a flow.AuthenticatorConfig) bool { return a.Alias == e.AuthenticatorConfig })
	}
	return nil
}

// copyFlow copies a flow under body's newName: sub-flows become "<newName>
// <alias>", configs "<newName> <alias>", nothing of it built in.
func (h *Handler) copyFlow(rq *Request) error {
	var in map[string]string
	if err := rq.decode(&in); err != nil {
		return err
	}
	newName := in["newName"]
	if strings.TrimSpace(newName) == "" {
		return badRequest("Failed to create flow with empty alias name")
	}
	err := h.editAuth(rq.R.Context(), rq.Realm.ID, func(c *flow.Config) error {
		if _, ok := c.FlowByAlias(newName); ok {
			return conflict("New flow alias name already exists")
		}
		i := flowIndex(c, rq.R.PathValue("id"))
		if i < 0 {
			return errFlowAliasNotFound
		}
		return copyTree(c, c.Flows[i], newName, newName, true)
	})
	if err != nil {
		return err
	}
	rq.W.WriteHeader(http.StatusCreated)
	return nil
}

func copyTree(c *flow.Config, from flow.Flow, alias, prefix string, top bool) error {
	to := flow.Flow{Alias: alias, Description: from.Description, ProviderID: from.ProviderID, TopLevel: from.TopLevel && top}
	for _, e := range from.Executions {
		e.ID = ""
		if e.AuthenticatorFlow {
			sub, ok := c.FlowByAlias(e.FlowAlias)
			if !ok {
				return authError("Sub-flow " + e.FlowAlias + " does not exist")
			}
			subAlias := prefix + " " + sub.Alias
			if _, taken := c.FlowByAlias(subAlias); taken {
				return conflict("Flow %s already exists", subAlias)
			}
			if err := copyTree(c, sub, subAlias, prefix, false); err != nil {
				return err
			}
			e.FlowAlias = subAlias
		}
		if e.AuthenticatorConfig != "" {
			if a, ok := c.ConfigByAlias(e.AuthenticatorConfig); ok {
				a.ID, a.Alias = "", prefix+" "+a.Alias
				if _, taken := c.ConfigByAlias(a.Alias); taken {
					return conflict("Authenticator config %s already exists", a.Alias)
				}
				a.Config = cloneConfig(a.Config)
				c.Configs = append(c.Configs, a)
				e.AuthenticatorConfig = a.Alias
			}
		}
		to.Executions = append(to.Executions, e)
	}
	c.Flows = append(c.Flows, to)
	return nil
}

func cloneConfig(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Executions.

// executionInfo is Keycloak's AuthenticationExecutionInfoRepresentation.
type executionInfo struct {
	ID                   string   `json:"id"`
	Requirement          string   `json:"requirement"`
	DisplayName          string   `json:"displayName"`
	Alias                string   `json:"alias,omitempty"`
	Description          string   `json:"description,omitempty"`
	RequirementChoices   []string `json:"requirementChoices"`
	Configurable         bool     `json:"configurable"`
	AuthenticationFlow   *bool    `json:"authenticationFlow,omitempty"`
	ProviderID           string   `json:"providerId,omitempty"`
	AuthenticationConfig string   `json:"authenticationConfig,omitempty"`
	FlowID               string   `json:"flowId,omitempty"`
	Level                int      `json:"level"`
	Index                int      `json:"index"`
	Priority             int      `json:"priority"`
}

// executionInfos lists a flow's executions depth first, each sub-flow's
// steps after it one level deeper, as the console draws them.
func executionInfos(c flow.Config, f flow.Flow, level int, out []executionInfo) []executionInfo {
	sortExecutions(&f)
	for i, e := range f.Executions {
		x := executionInfo{ID: e.ID, Requirement: e.Requirement, Level: level, Index: i, Priority: e.Priority, RequirementChoices: []string{}}
		if e.AuthenticatorFlow {
			sub, _ := c.FlowByAlias(e.FlowAlias)
			switch sub.ProviderID {
			case flow.FormFlow:
				x.RequirementChoices = []string{flow.Required, flow.Disabled}
				x.ProviderID = e.Authenticator
				x.AuthenticationConfig = configID(c, e.AuthenticatorConfig)
			case flow.ClientFlow:
				x.RequirementChoices = []string{flow.Alternative, flow.Required, flow.Disabled}
			default:
				x.RequirementChoices = []string{flow.Required, flow.Alternative, flow.Disabled, flow.Conditional}
			}
			yes := true
			x.DisplayName, x.Description, x.AuthenticationFlow, x.FlowID = e.FlowAlias, sub.Description, &yes, sub.ID
			out = append(out, x)
			out = executionInfos(c, sub, level+1, out)
			continue
		}
		p, ok := flow.ProviderByID(e.Authenticator)
		if !ok {
			// An imported flow may name an authenticator Gatehouse does
			// not know; it is shown by its id.
			p = flow.Provider{DisplayName: e.Authenticator, Choices: []string{flow.Required, flow.Alternative, flow.Disabled}}
		}
		x.DisplayName, x.Description, x.Configurable = p.DisplayName, p.Description, p.Configurable
		x.RequirementChoices = slices.Clone(p.Choices)
		x.ProviderID = e.Authenticator
		if e.AuthenticatorConfig != "" {
			x.AuthenticationConfig = configID(c, e.AuthenticatorConfig)
			if p.Configurable {
				x.Alias = e.AuthenticatorConfig
			}
		}
		out = append(out, x)
	}
	return out
}

func configID(c flow.Config, alias string) string {
	a, _ := c.ConfigByAlias(alias)
	return a.ID
}

func (h *Handler) listExecutions(rq *Request) error {
	c, err := h.authConfig(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return err
	}
	i := flowIndex(&c, rq.R.PathValue("id"))
	if i < 0 {
		return errFlowAliasNotFound
	}
	return rq.JSON(executionInfos(c, c.Flows[i], 0, []executionInfo{}))
}

// updateExecution changes an execution's requirement (built-in flows
// included) or, for a sub-flow, its alias and description. A change that
// leaves a bound flow naming an authenticator Gatehouse does not run is
// refused. Keycloak answers 202.
func (h *Handler) updateExecution(rq *Request) error {
	var in executionInfo
	if err := rq.decode(&in); err != nil {
		return err
	}
	ctx := rq.R.Context()
	guard, err := h.newBindingGuard(ctx, rq.Realm.ID)
	if err != nil {
		return err
	}
	err = h.editAuth(ctx, rq.Realm.ID, func(c *flow.Config) error {
		if flowIndex(c, rq.R.PathValue("id")) < 0 {
			return notFound("flow not found")
		}
		guard.before(*c)
		fi, ei := execIndex(c, in.ID)
		if fi < 0 {
			return errIllegalExecution
		}
		e := &c.Flows[fi].Executions[ei]
		if in.Requirement != "" && in.Requirement != e.Requirement {
			if !slices.Contains(flow.Requirements, in.Requirement) {
				return badRequest("Unknown requirement " + in.Requirement)
			}
			e.Requirement = in.Requirement
			return guard.after(*c)
		}
		if in.Priority != 0 && in.Priority != e.Priority {
			if c.Flows[fi].BuiltIn {
				return errBuiltInModify
			}
			e.Priority = in.Priority
			return nil
		}
		if !e.AuthenticatorFlow || in.AuthenticationFlow == nil {
			return nil
		}
		sub := flowIndex(c, e.FlowAlias)
		if sub < 0 {
			return errIllegalExecution
		}
		if in.DisplayName != "" && in.DisplayName != e.FlowAlias {
			if _, taken := c.FlowByAlias(in.DisplayName); taken {
				return conflict("Flow alias name already exists")
			}
			renameFlow(c, e.FlowAlias, in.DisplayName)
		}
		c.Flows[sub].Description = in.Description
		return nil
	})
	if err != nil {
		return err
	}
	rq.W.WriteHeader(http.StatusAccepted)
	return nil
}

// addExecution adds the authenticator body.provider to a flow, DISABLED
// unless the provider allows one requirement only. Only authenticators
// Gatehouse runs may be added.
func (h *Handler) addExecution(rq *Request) error {
	var in map[string]string
	if err := rq.decode(&in); err != nil {
		return err
	}
	id := store.NewID()
	err := h.editAuth(rq.R.Context(), rq.Realm.ID, func(c *flow.Config) error {
		i := flowIndex(c, rq.R.PathValue("id"))
		if i < 0 {
			return errParentFlowMissing
		}
		if c.Flows[i].BuiltIn {
			return errBuiltInAdd
		}
		p, err := providerFor(c.Flows[i], in["provider"])
		if err != nil {
			return err
		}
		req := flow.Disabled
		if len(p.Choices) == 1 {
			req = p.Choices[0]
		}
		c.Flows[i].Executions = append(c.Flows[i].Executions, flow.Execution{ID: id, Authenticator: p.ID, Requirement: req, Priority: nextPriority(c.Flows[i])})
		return nil
	})
	if err != nil {
		return err
	}
	return rq.Created(rq.URL("/authentication/executions/" + id))
}

// providerFor checks that id names a provider of the kind flow f takes and
// that Gatehouse runs it.
func providerFor(f flow.Flow, id string) (flow.Provider, error) {
	kind := flow.KindAuthenticator
	switch f.ProviderID {
	case flow.ClientFlow:
		kind = flow.KindClient
	case flow.FormFlow:
		kind = flow.KindFormAction
	}
	p, ok := flow.ProviderByID(id)
	if !ok || p.Kind != kind {
		return flow.Provider{}, authError("No authentication provider found for id: " + id)
	}
	if kind != flow.KindClient && !flow.Runnable[id] {
		return flow.Provider{}, badRequest("Authenticator " + id + " is not run by Gatehouse")
	}
	return p, nil
}

// addSubFlow adds a new sub-flow (body: alias, type, provider, description)
// to a flow, DISABLED.
func (h *Handler) addSubFlow(rq *Request) error {
	var in map[string]string
	if err := rq.decode(&in); err != nil {
		return err
	}
	typ := cmp.Or(in["type"], flow.BasicFlow)
	if !slices.Contains(flowProviders, typ) {
		return badRequest("Unknown flow provider " + typ)
	}
	if strings.TrimSpace(in["alias"]) == "" {
		return conflict("Failed to create flow with empty alias name")
	}
	id := store.NewID()
	err := h.editAuth(rq.R.Context(), rq.Realm.ID, func(c *flow.Config) error {
		i := flowIndex(c, rq.R.PathValue("id"))
		if i < 0 {
			return errorMessage(http.StatusBadRequest, "Parent flow doesn't exist")
		}
		if c.Flows[i].BuiltIn {
			return errBuiltInAddFlow
		}
		if _, ok := c.FlowByAlias(in["alias"]); ok {
			return conflict("New flow alias name already exists")
		}
		e := flow.Execution{AuthenticatorFlow: true, FlowAlias: in["alias"], Requirement: flow.Disabled, Priority: nextPriority(c.Flows[i])}
		if typ == flow.FormFlow {
			if p, ok := flow.ProviderByID(in["provider"]); !ok || p.Kind != flow.KindForm {
				return authError("No authentication provider found for id: " + in["provider"])
			}
			e.Authenticator = in["provider"]
		}
		c.Flows[i].Executions = append(c.Flows[i].Executions, e)
		c.Flows = append(c.Flows, flow.Flow{ID: id, Alias: in["alias"], Description: in["description"], ProviderID: typ})
		return nil
	})
	if err != nil {
		return err
	}
	return rq.Created(rq.URL("/authentication/flows/" + id))
}

// executionRep is Keycloak's AuthenticationExecutionRepresentation, by
// which POST /executions creates and GET /executions/{id} reads.
type executionRep struct {
	ID                  string `json:"id,omitempty"`
	AuthenticatorConfig string `json:"authenticatorConfig,omitempty"`
	Authenticator       string `json:"authenticator,omitempty"`
	AuthenticatorFlow   bool   `json:"authenticatorFlow"`
	Requirement         string `json:"requirement"`
	Priority            int    `json:"priority"`
	FlowID              string `json:"flowId,omitempty"`
	ParentFlow          string `json:"parentFlow,omitempty"`
}

func (h *Handler) createExecution(rq *Request) error {
	var in executionRep
	if err := rq.decode(&in); err != nil {
		return err
	}
	if in.ParentFlow == "" {
		return authError("parent flow not set on new execution")
	}
	if in.Requirement == "" {
		in.Requirement = flow.Disabled
	}
	if !slices.Contains(flow.Requirements, in.Requirement) {
		return badRequest("Unknown requirement " + in.Requirement)
	}
	id := store.NewID()
	ctx := rq.R.Context()
	guard, err := h.newBindingGuard(ctx, rq.Realm.ID)
	if err != nil {
		return err
	}
	err = h.editAuth(ctx, rq.Realm.ID, func(c *flow.Config) error {
		guard.before(*c)
		i := slices.IndexFunc(c.Flows, func(f flow.Flow) bool { return f.ID == in.ParentFlow })
		if i < 0 {
			return authError("execution parent flow does not exist")
		}
		if c.Flows[i].BuiltIn {
			return errBuiltInAdd
		}
		e := flow.Execution{ID: id, Authenticator: in.Authenticator, AuthenticatorFlow: in.AuthenticatorFlow, Requirement: in.Requirement, Priority: nextPriority(c.Flows[i])}
		if in.AuthenticatorFlow {
			sub, ok := c.FlowByID(in.FlowID)
			if !ok {
				return authError("execution flow does not exist")
			}
			e.FlowAlias = sub.Alias
		} else if _, err := providerFor(c.Flows[i], in.Authenticator); err != nil {
			return err
		}
		if in.AuthenticatorConfig != "" {
			a, ok := configByID(*c, in.AuthenticatorConfig)
			if !ok {
				return errConfigNotFound
			}
			e.AuthenticatorConfig = a.Alias
		}
		c.Flows[i].Executions = append(c.Flows[i].Executions, e)
		if err := flow.Validate(*c); err != nil {
			return flowError(err)
		}
		return guard.after(*c)
	})
	if err != nil {
		return err
	}
	return rq.Created(rq.URL("/authentication/executions/" + id))
}

func configByID(c flow.Config, id string) (flow.AuthenticatorConfig, bool) {
	i := slices.IndexFunc(c.Configs, func(a flow.AuthenticatorConfig) bool { return a.ID == id })
	if i < 0 || id == "" {
		return flow.AuthenticatorConfig{}, false
	}
	return c.Configs[i], true
}

func (h *Handler) getExecution(rq *Request) error {
	c, err := h.authConfig(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return err
	}
	fi, ei := execIndex(&c, rq.R.PathValue("id"))
	if fi < 0 {
		return errIllegalExecution
	}
	e := c.Flows[fi].Executions[ei]
	x := executionRep{ID: e.ID, Authenticator: e.Authenticator, AuthenticatorFlow: e.AuthenticatorFlow, Requirement: e.Requirement,
		Priority: e.Priority, ParentFlow: c.Flows[fi].ID, AuthenticatorConfig: configID(c, e.AuthenticatorConfig)}
	if e.AuthenticatorFlow {
		sub, _ := c.FlowByAlias(e.FlowAlias)
		x.FlowID = sub.ID
	}
	return rq.JSON(x)
}

func (h *Handler) deleteExecution(rq *Request) error {
	return h.editAuthNoContent(rq, func(c *flow.Config) error {
		fi, ei := execIndex(c, rq.R.PathValue("id"))
		if fi < 0 {
			return errIllegalExecution
		}
		if c.Flows[fi].BuiltIn {
			return errBuiltInRemove
		}
		e := c.Flows[fi].Executions[ei]
		c.Flows[fi].Executions = slices.Delete(c.Flows[fi].Executions, ei, ei+1)
		return deleteExecutionParts(c, e)
	})
}

// moveExecution swaps an execution's priority with its neighbour's (by
// -1 raises it, +1 lowers it); at either end nothing changes.
func (h *Handler) moveExecution(by int) endpoint {
	return func(rq *Request) error {
		err := h.editAuth(rq.R.Context(), rq.Realm.ID, func(c *flow.Config) error {
			fi, _ := execIndex(c, rq.R.PathValue("id"))
			if fi < 0 {
				return errIllegalExecution
			}
			f := &c.Flows[fi]
			if f.BuiltIn {
				return errBuiltInModify
			}
			sortExecutions(f)
			_, ei := execIndex(c, rq.R.PathValue("id"))
			other := ei + by
			if other < 0 || other >= len(f.Executions) {
				return nil
			}
			a, b := &f.Executions[ei], &f.Executions[other]
			a.Priority, b.Priority = b.Priority, a.Priority
			sortExecutions(f)
			return nil
		})
		if err != nil {
			return err
		}
		return rq.NoContent()
	}
}

// Authenticator configs.

func (h *Handler) createExecutionConfig(rq *Request) error {
	var in rep.AuthenticatorConfig
	if err := rq.decode(&in); err != nil {
		return err
	}
	if in.Alias == "" {
		return badRequest("Alias missing")
	}
	id := store.NewID()
	err := h.editAuth(rq.R.Context(), rq.Realm.ID, func(c *flow.Config) error {
		fi, ei := execIndex(c, rq.R.PathValue("id"))
		if fi < 0 {
			return errIllegalExecution
		}
		if _, taken := c.ConfigByAlias(in.Alias); taken {
			return conflict("Authenticator config %s already exists", in.Alias)
		}
		c.Configs = append(c.Configs, flow.AuthenticatorConfig{ID: id, Alias: in.Alias, Config: cloneConfig(in.Config)})
		c.Flows[fi].Executions[ei].AuthenticatorConfig = in.Alias
		return nil
	})
	if err != nil {
		return err
	}
	return rq.Created(rq.URL("/authentication/config/" + id))
}

func (h *Handler) getConfig(rq *Request) error {
	c, err := h.authConfig(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return err
	}
	a, ok := configByID(c, rq.R.PathValue("configId"))
	if !ok {
		return errConfigNotFound
	}
	return rq.JSON(rep.ConfigFromDomain(a))
}

// updateConfig replaces a config's settings and alias; executions naming
// it follow the new alias.
func (h *Handler) updateConfig(rq *Request) error {
	var in rep.AuthenticatorConfig
	if err := rq.decode(&in); err != nil {
		return err
	}
	return h.editAuthNoContent(rq, func(c *flow.Config) error {
		i := slices.IndexFunc(c.Configs, func(a flow.AuthenticatorConfig) bool { return a.ID == rq.R.PathValue("configId") })
		if i < 0 {
			return errConfigNotFound
		}
		old := c.Configs[i].Alias
		if in.Alias != "" && in.Alias != old {
			if _, taken := c.ConfigByAlias(in.Alias); taken {
				return conflict("Authenticator config %s already exists", in.Alias)
			}
			c.Configs[i].Alias = in.Alias
			for fi := range c.Flows {
				for ei := range c.Flows[fi].Executions {
					if e := &c.Flows[fi].Executions[ei]; e.AuthenticatorConfig == old {
						e.AuthenticatorConfig = in.Alias
					}
				}
			}
		}
		c.Configs[i].Config = cloneConfig(in.Config)
		return nil
	})
}

func (h *Handler) deleteConfig(rq *Request) error {
	return h.editAuthNoContent(rq, func(c *flow.Config) error {
		a, ok := configByID(*c, rq.R.PathValue("configId"))
		if !ok {
			return errConfigNotFound
		}
		c.Configs = slices.DeleteFunc(c.Configs, func(x flow.AuthenticatorConfig) bool { return x.ID == a.ID })
		for fi := range c.Flows {
			for ei := range c.Flows[fi].Executions {
				if e := &c.Flows[fi].Executions[ei]; e.AuthenticatorConfig == a.Alias {
					e.AuthenticatorConfig = ""
				}
			}
		}
		return nil
	})
}

// Required actions.

func (h *Handler) listRequiredActions(rq *Request) error {
	c, err := h.authConfig(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return err
	}
	out := []rep.RequiredAction{}
	for _, a := range rep.SortedRequiredActions(c.RequiredActions) {
		out = append(out, rep.RequiredActionFromDomain(a))
	}
	return rq.JSON(out)
}

func (h *Handler) getRequiredAction(rq *Request) error {
	c, err := h.authConfig(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return err
	}
	a, ok := c.RequiredActionByAlias(rq.R.PathValue("alias"))
	if !ok {
		return notFound("Failed to find required action")
	}
	return rq.JSON(rep.RequiredActionFromDomain(a))
}

// updateRequiredAction sets name, alias, enabled, default action, priority
// and config, as Keycloak's update does; the provider stays.
func (h *Handler) updateRequiredAction(rq *Request) error {
	var in rep.RequiredAction
	if err := rq.decode(&in); err != nil {
		return err
	}
	err := h.editAuth(rq.R.Context(), rq.Realm.ID, func(c *flow.Config) error {
		i := slices.IndexFunc(c.RequiredActions, func(a flow.RequiredAction) bool { return a.Alias == rq.R.PathValue("alias") })
		if i < 0 {
			return notFound("Failed to find required action")
		}
		a := &c.RequiredActions[i]
		if in.Alias != "" && in.Alias != a.Alias {
			if _, taken := c.RequiredActionByAlias(in.Alias); taken {
				return conflict("Required action %s already exists", in.Alias)
			}
			a.Alias = in.Alias
		}
		a.Name, a.Enabled, a.DefaultAction, a.Priority = in.Name, in.Enabled, in.DefaultAction, in.Priority
		a.Config = in.ToDomain().Config
		return nil
	})
	if err != nil {
		return err
	}
	return rq.NoContent()
}

func (h *Handler) deleteRequiredAction(rq *Request) error {
	err := h.editAuth(rq.R.Context(), rq.Realm.ID, func(c *flow.Config) error {
		i := slices.IndexFunc(c.RequiredActions, func(a flow.RequiredAction) bool { return a.Alias == rq.R.PathValue("alias") })
		if i < 0 {
			return errActionNotFound
		}
		c.RequiredActions = slices.Delete(c.RequiredActions, i, i+1)
		return nil
	})
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// moveRequiredAction swaps a required action's priority with its
// neighbour's in the priority order.
func (h *Handler) moveRequiredAction(by int) endpoint {
	return func(rq *Request) error {
		err := h.editAuth(rq.R.Context(), rq.Realm.ID, func(c *flow.Config) error {
			c.RequiredActions = rep.SortedRequiredActions(c.RequiredActions)
			i := slices.IndexFunc(c.RequiredActions, func(a flow.RequiredAction) bool { return a.Alias == rq.R.PathValue("alias") })
			if i < 0 {
				return errActionNotFound
			}
			j := i + by
			if j < 0 || j >= len(c.RequiredActions) {
				return nil
			}
			a, b := &c.RequiredActions[i], &c.RequiredActions[j]
			a.Priority, b.Priority = b.Priority, a.Priority
			c.RequiredActions = rep.SortedRequiredActions(c.RequiredActions)
			return nil
		})
		if err != nil {
			return err
		}
		return rq.NoContent()
	}
}

// unregisteredRequiredActions lists the built-in required actions the
// realm does not have.
func (h *Handler) unregisteredRequiredActions(rq *Request) error {
	c, err := h.authConfig(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return err
	}
	out := []map[string]string{}
	for _, a := range flow.DefaultRequiredActions() {
		if !slices.ContainsFunc(c.RequiredActions, func(x flow.RequiredAction) bool { return x.ProviderID == a.ProviderID }) {
			out = append(out, map[string]string{"name": a.Name, "providerId": a.ProviderID})
		}
	}
	return rq.JSON(out)
}

// registerRequiredAction registers a built-in required action the realm
// lacks, enabled, after the others.
func (h *Handler) registerRequiredAction(rq *Request) error {
	var in map[string]string
	if err := rq.decode(&in); err != nil {
		return err
	}
	i := slices.IndexFunc(flow.DefaultRequiredActions(), func(a flow.RequiredAction) bool { return a.ProviderID == in["providerId"] })
	if i < 0 || in["providerId"] == "" {
		return authError("Required Action Provider with given providerId not found")
	}
	err := h.editAuth(rq.R.Context(), rq.Realm.ID, func(c *flow.Config) error {
		if _, taken := c.RequiredActionByAlias(in["providerId"]); taken {
			return conflict("Required action %s already exists", in["providerId"])
		}
		next := 0
		if s := rep.SortedRequiredActions(c.RequiredActions); len(s) > 0 {
			next = s[len(s)-1].Priority + 1
		}
		c.RequiredActions = append(c.RequiredActions, flow.RequiredAction{Alias: in["providerId"], Name: in["name"], ProviderID: in["providerId"],
			Enabled: true, Priority: next, Config: map[string]string{}})
		return nil
	})
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// Required action configs: the actions that re-authenticate the user take
// the maximum age of that authentication, as in Keycloak 26.

var maxAuthAge = flow.Property{Name: "max_auth_age", Label: "Maximum Age of Authentication",
	HelpText: "How many seconds old the user's authentication may be before the action asks to log in again.", Type: "String", Default: "300"}

func requiredActionProperties(providerID string) ([]flow.Property, bool) {
	switch providerID {
	case "UPDATE_PASSWORD", "UPDATE_EMAIL", "CONFIGURE_TOTP", "webauthn-register", "webauthn-register-passwordless", "CONFIGURE_RECOVERY_AUTHN_CODES":
		return []flow.Property{maxAuthAge}, true
	}
	return nil, false
}

// configurableAction finds the path's required action and its settings;
// one that takes none is refused.
func (h *Handler) configurableAction(rq *Request) (flow.RequiredAction, []flow.Property, error) {
	c, err := h.authConfig(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return flow.RequiredAction{}, nil, err
	}
	a, ok := c.RequiredActionByAlias(rq.R.PathValue("alias"))
	if !ok {
		return a, nil, errActionNotFound
	}
	props, ok := requiredActionProperties(a.ProviderID)
	if !ok {
		return a, nil, authError("Required action " + a.Alias + " is not configurable")
	}
	return a, props, nil
}

func (h *Handler) requiredActionConfigDescription(rq *Request) error {
	_, props, err := h.configurableAction(rq)
	if err != nil {
		return err
	}
	return rq.JSON(map[string]any{"properties": propertyReps(props)})
}

func (h *Handler) getRequiredActionConfig(rq *Request) error {
	a, _, err := h.configurableAction(rq)
	if err != nil {
		return err
	}
	return rq.JSON(map[string]any{"config": rep.RequiredActionFromDomain(a).Config})
}

func (h *Handler) updateRequiredActionConfig(rq *Request) error {
	if _, _, err := h.configurableAction(rq); err != nil {
		return err
	}
	var in struct {
		Config map[string]string `json:"config"`
	}
	if err := rq.decode(&in); err != nil {
		return err
	}
	return h.setRequiredActionConfig(rq, cloneConfig(in.Config))
}

func (h *Handler) deleteRequiredActionConfig(rq *Request) error {
	if _, _, err := h.configurableAction(rq); err != nil {
		return err
	}
	return h.setRequiredActionConfig(rq, map[string]string{})
}

func (h *Handler) setRequiredActionConfig(rq *Request, config map[string]string) error {
	err := h.editAuth(rq.R.Context(), rq.Realm.ID, func(c *flow.Config) error {
		i := slices.IndexFunc(c.RequiredActions, func(a flow.RequiredAction) bool { return a.Alias == rq.R.PathValue("alias") })
		if i < 0 {
			return errActionNotFound
		}
		c.RequiredActions[i].Config = config
		return nil
	})
	if err != nil {
		return err
	}
	return rq.NoContent()
}
