package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
)

// The Evaluate section of a client's Authorization tab: which permissions
// a user (or a client, or a set of realm roles) would get for some or all
// resources and scopes, with the outcome of every policy, from the admin
// API's .../policy/evaluate.

// evaluationRequest is Keycloak's PolicyEvaluationRequest.
type evaluationRequest struct {
	Context      map[string]map[string]string `json:"context"`
	Resources    []authzResourceRef           `json:"resources"`
	RoleIDs      []string                     `json:"roleIds"`
	ClientID     string                       `json:"clientId,omitempty"`
	UserID       string                       `json:"userId,omitempty"`
	Entitlements bool                         `json:"entitlements"`
}

// authzResourceRef names a resource and the scopes asked for; a
// reference with only scopes asks for every resource with those scopes.
type authzResourceRef struct {
	ID     string       `json:"_id,omitempty"`
	Name   string       `json:"name,omitempty"`
	Scopes []authzScope `json:"scopes"`
}

// evaluationResponse is Keycloak's PolicyEvaluationResponse.
type evaluationResponse struct {
	Status  string             `json:"status"`
	Results []evaluationResult `json:"results"`
}

type evaluationResult struct {
	Resource      *authzResource `json:"resource"`
	Scopes        []authzScope   `json:"scopes"`
	Policies      []policyResult `json:"policies"`
	Status        string         `json:"status"`
	AllowedScopes []authzScope   `json:"allowedScopes"`
	DeniedScopes  []authzScope   `json:"deniedScopes"`
}

// policyResult is one policy's (or permission's) outcome, with those of
// the policies it is made of.
type policyResult struct {
	Policy             policyRow      `json:"policy"`
	Status             string         `json:"status"`
	AssociatedPolicies []policyResult `json:"associatedPolicies"`
	Scopes             []string       `json:"scopes"`
}

// ResourceName is the result's resource as the page names it.
func (r evaluationResult) ResourceName() string {
	if r.Resource == nil || r.Resource.Name == "" {
		return "Any resource with scopes " + scopeList(r.Scopes)
	}
	return firstOf(r.Resource.DisplayName, r.Resource.Name)
}

// Allowed and Denied list the result's granted and refused scopes.
func (r evaluationResult) Allowed() string { return scopeList(r.AllowedScopes) }
func (r evaluationResult) Denied() string  { return scopeList(r.DeniedScopes) }

func scopeList(ss []authzScope) string {
	names := make([]string, 0, len(ss))
	for _, s := range ss {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

type authzEvaluateData struct {
	authzPage
	Clients   []option
	Username  string
	Roles     []option // realm roles, by name
	Resources []option
	Scopes    []option
	Context   string // name=value lines
	Done      bool   // an evaluation ran
	Result    evaluationResponse
}

// authzEvaluate shows the evaluation form and, on POST, the evaluation's
// results.
func (h *Handler) authzEvaluate(q *rq) error {
	x, err := q.authzClient()
	if err != nil {
		return err
	}
	v, p := q.authzView(x, "evaluate")
	d := &authzEvaluateData{authzPage: p}
	v.Data = d
	chosenClient, chosenRoles, chosenResources, chosenScopes := x.ID, []string(nil), []string(nil), []string(nil)
	if q.post() {
		chosenClient, d.Username, d.Context = q.form("clientId"), q.form("user"), q.r.PostForm.Get("context")
		chosenRoles, chosenResources, chosenScopes = q.r.PostForm["roleIds"], q.r.PostForm["resources"], q.r.PostForm["scopes"]
	}
	var cs []rep.Client
	if err := q.get(q.adminPath("/clients"), &cs); err != nil {
		return err
	}
	for _, c := range cs {
		d.Clients = append(d.Clients, option{Value: c.ID, Label: c.ClientID, Selected: c.ID == chosenClient})
	}
	var roles []rep.Role
	if err := q.get(q.adminPath("/roles"), &roles); err != nil {
		return err
	}
	slices.SortFunc(roles, func(a, b rep.Role) int { return strings.Compare(a.Name, b.Name) })
	for _, r := range roles {
		d.Roles = append(d.Roles, option{Value: r.Name, Label: r.Name, Selected: slices.Contains(chosenRoles, r.Name)})
	}
	var rs []authzResource
	if err := q.get(q.authzAPI(x, "/resource?deep=false"), &rs); err != nil {
		return err
	}
	names := map[string]string{}
	for _, r := range rs {
		names[r.ID] = r.Name
		d.Resources = append(d.Resources, option{Value: r.ID, Label: firstOf(r.DisplayName, r.Name), Selected: slices.Contains(chosenResources, r.ID)})
	}
	var ss []authzScope
	if err := q.get(q.authzAPI(x, "/scope"), &ss); err != nil {
		return err
	}
	d.Scopes = scopeOptions(ss, chosenScopes)
	if !q.post() {
		return q.render(http.StatusOK, "authz-evaluate.html", v)
	}

	req := evaluationRequest{Context: map[string]map[string]string{"attributes": {}}, RoleIDs: nonNil(chosenRoles),
		ClientID: chosenClient, Resources: []authzResourceRef{}}
	attrs, err := parseAttributes("context", d.Context)
	if err != nil {
		return q.refused(v, "authz-evaluate.html", err)
	}
	for k, vals := range attrs {
		req.Context["attributes"][k] = strings.Join(vals, ",")
	}
	if d.Username != "" {
		var us []rep.User
		if err := q.get(q.adminPath("/users?exact=true&username="+url.QueryEscape(d.Username)), &us); err != nil {
			return err
		}
		if len(us) == 0 {
			return q.refused(v, "authz-evaluate.html", &fieldError{"user", "No user named " + d.Username + "."})
		}
		req.UserID = us[0].ID
	}
	if req.UserID == "" && len(req.RoleIDs) == 0 && req.ClientID == "" {
		return q.refused(v, "authz-evaluate.html", &fieldError{"user", "Enter a user, or choose a client or roles."})
	}
	scopes := []authzScope{}
	for _, s := range chosenScopes {
		scopes = append(scopes, authzScope{Name: s})
	}
	for _, id := range chosenResources {
		req.Resources = append(req.Resources, authzResourceRef{ID: id, Name: names[id], Scopes: scopes})
	}
	if len(req.Resources) == 0 && len(scopes) > 0 {
		req.Resources = append(req.Resources, authzResourceRef{Scopes: scopes})
	}
	if _, err := q.api(http.MethodPost, q.authzAPI(x, "/policy/evaluate"), req, &d.Result); err != nil {
		return q.refused(v, "authz-evaluate.html", err)
	}
	d.Done = true
	return q.render(http.StatusOK, "authz-evaluate.html", v)
}
