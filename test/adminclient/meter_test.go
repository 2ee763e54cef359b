package adminclient_test

// The coverage meter: how much of the admin REST API that Keycloak's own
// admin client can call does Gatehouse serve? The denominator comes from the
// library itself (its resource definitions at the version package-lock.json
// pins), not from our reading of Keycloak, so it cannot shrink to flatter us.
//
// Each endpoint is called once against a live server holding a fixture realm,
// with real ids in its path. An endpoint is served unless the answer is the
// server's "no such route" answer: Keycloak's 404 "Unable to find matching
// target resource method", or its 405 for a path served under other methods.
// Any other answer (200, 204, 400, 404 "User not found", 409 …) means a
// handler took the request.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/admin"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// servedFloor is the least number of in-scope endpoints the server must
// serve. Raise it as endpoints land; the test fails when the count falls.
const servedFloor = 279

// authzServedFloor is the same floor for the authorization services
// endpoints, counted apart (all but policy evaluation).
const authzServedFloor = 36

// libDir is the installed admin client, as `npm ci` lays it out.
const libDir = "node_modules/@keycloak/keycloak-admin-client/lib"

// endpoint is one call the admin client library can make.
type endpoint struct {
	Resource string // the resource file, e.g. "users"
	Names    []string
	Method   string
	Path     string // a URI template: /admin/realms/{realm}/users/{id}
	Apart    string // the subsystem it is counted under, "" for in scope
}

var (
	reBase    = regexp.MustCompile("super\\(client, \\{\\s*path: (\"[^\"]*\"|`[^`]*`)")
	reRequest = regexp.MustCompile(`(?s)(\w+) = this\.make(?:Update)?Request\(\{(.*?)\n\s*\}\);`)
	reMethod  = regexp.MustCompile(`method: "(\w+)"`)
	rePath    = regexp.MustCompile(`\bpath: "([^"]*)"`)
	reInterp  = regexp.MustCompile(`\$\{\w+ \? "([^"]*)" : ""\}`)
	reMeta    = regexp.MustCompile(`(?s)export const \w+RequestsMetadata = \{(.*?)\n\};`)
	reMetaOp  = regexp.MustCompile(`(?s)\n    (get|post|put|patch|delete): \{\s*uriTemplate: (\w+),`)
	reConst   = regexp.MustCompile(`export const (\w+) = "([^"]*)";`)
	reParam   = regexp.MustCompile(`\{[+?]?([^}]*)\}`)
)

// joinPath joins URL path pieces with exactly one slash between them.
// A ".." steps out of the base path, as the library's URL joining does.
func joinPath(parts ...string) string {
	return path.Clean("/" + strings.Join(parts, "/"))
}

// loadEndpoints reads every resource definition of the installed library:
// the makeRequest/makeUpdateRequest calls of lib/resources/*.js under each
// resource's base path, and the generated clients v2 request builders.
func loadEndpoints(dir string) ([]endpoint, error) {
	files, err := filepath.Glob(filepath.Join(dir, "resources", "*.js"))
	if err != nil {
		return nil, err
	}
	var eps []endpoint
	for _, f := range files {
		res := strings.TrimSuffix(filepath.Base(f), ".js")
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		src := string(b)
		m := reBase.FindStringSubmatch(src)
		if m == nil {
			continue // agent.js, resource.js, clientsV2.js
		}
		// The groups resource puts "organizations/{orgId}/" into its base
		// path when built for an organization: the realm's own groups are
		// the base path without it, and the calls named for organizations
		// ("listOrgGroups") go to the one with it.
		tpl := strings.Trim(m[1], "\"`")
		base := reInterp.ReplaceAllString(tpl, "")
		orgBase := reInterp.ReplaceAllString(tpl, "$1")
		for _, rm := range reRequest.FindAllStringSubmatch(src, -1) {
			mm := reMethod.FindStringSubmatch(rm[2])
			if mm == nil {
				return nil, fmt.Errorf("%s.%s: no method", res, rm[1])
			}
			p := ""
			if pm := rePath.FindStringSubmatch(rm[2]); pm != nil {
				p = pm[1]
			}
			b := base
			if strings.Contains(rm[1], "Org") {
				b = orgBase
			}
			eps = append(eps, endpoint{Resource: res, Names: []string{rm[1]}, Method: mm[1], Path: joinPath(b, p)})
		}
	}
	// Clients v2 is generated code: request builders with a URI template.
	err = filepath.WalkDir(filepath.Join(dir, "generated", "admin"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(p) != "index.js" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		src := string(b)
		consts := map[string]string{}
		for _, c := range reConst.FindAllStringSubmatch(src, -1) {
			consts[c[1]] = c[2]
		}
		for _, meta := range reMeta.FindAllStringSubmatch(src, -1) {
			for _, op := range reMetaOp.FindAllStringSubmatch(meta[1], -1) {
				tpl, ok := consts[op[2]]
				if !ok {
					return fmt.Errorf("%s: no template %s", p, op[2])
				}
				tpl = strings.TrimPrefix(tpl, "{+baseurl}")
				if i := strings.Index(tpl, "{?"); i >= 0 {
					tpl = tpl[:i]
				}
				eps = append(eps, endpoint{Resource: "clientsV2", Names: []string{op[1]},
					Method: strings.ToUpper(op[1]), Path: tpl})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// One endpoint per method and path; the library names some twice
	// (find and findOne with different queries).
	var out []endpoint
	seen := map[string]int{}
	for _, e := range eps {
		k := e.Method + " " + e.Path
		if i, ok := seen[k]; ok {
			out[i].Names = append(out[i].Names, e.Names...)
			continue
		}
		e.Apart = apart(e)
		seen[k] = len(out)
		out = append(out, e)
	}
	return out, nil
}

// apart names the subsystem an endpoint is counted under when it belongs to
// another piece of work (or is experimental in Keycloak), "" when in scope.
func apart(e endpoint) string {
	p := e.Path
	switch {
	case e.Resource == "clientsV2" || e.Resource == "workflows" || strings.Contains(p, "/vc/") || strings.HasSuffix(p, "/vc"):
		return "experimental"
	case e.Resource == "organizations" || strings.Contains(p, "/organizations"):
		return "organizations"
	case strings.Contains(p, "/authz/"):
		return "authorization services"
	case strings.Contains(p, "/clients-initial-access") || strings.Contains(p, "/client-registration-policy"):
		return "client registration"
	}
	return ""
}

// TestEndpointsParsed guards the parser: it must find the library's known
// resources and a plausible count, or a library upgrade silently shrinks the
// denominator.
func TestEndpointsParsed(t *testing.T) {
	if _, err := os.Stat(filepath.Join(libDir, "resources", "users.js")); err != nil {
		required(t, "node_modules is missing (run npm ci in test/adminclient)")
	}
	eps, err := loadEndpoints(libDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) < 300 {
		t.Fatalf("parsed %d endpoints; the library defines over 300", len(eps))
	}
	want := []string{"GET /admin/realms/{realm}/users/profile", "PUT /admin/realms/{realm}/users/{id}/groups/{groupId}",
		"GET /admin/realms/{realm}/groups", "GET /admin/serverinfo", "GET /admin/{realm}/console/whoami",
		"DELETE /admin/api/{realmName}/clients/v2/{id}", "POST /admin/realms/{realm}/clear-keys-cache"}
	have := map[string]bool{}
	for _, e := range eps {
		have[e.Method+" "+e.Path] = true
		if strings.Contains(e.Path, "${") || strings.Contains(e.Path, "//") {
			t.Errorf("%s %s: template left unexpanded", e.Method, e.Path)
		}
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("endpoint %q not parsed", w)
		}
	}
}

// fixture is the realm the meter calls into, and the ids of what it holds.
type fixture struct {
	base, realm, token string
	vals               map[string]string // path parameter → value
	byRes              map[string]map[string]string
}

// call sends one request with the admin token and returns status and body.
func (f *fixture) call(t *testing.T, method, path string, body any) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, f.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

// must sends a request that has to succeed and returns the id in Location,
// or the decoded body into out.
func (f *fixture) must(t *testing.T, method, path string, body, out any) string {
	t.Helper()
	st, b, h := f.call(t, method, path, body)
	if st >= 300 {
		t.Fatalf("fixture: %s %s: %d %s", method, path, st, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("fixture: %s %s: %v", method, path, err)
		}
	}
	loc := h.Get("Location")
	return loc[strings.LastIndex(loc, "/")+1:]
}

func (f *fixture) login(t *testing.T, realm, clientID, secret, user, pw string) map[string]any {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "client_id": {clientID}, "username": {user}, "password": {pw}}
	if secret != "" {
		form.Set("client_secret", secret)
	}
	res, err := http.PostForm(f.base+"/realms/"+realm+"/protocol/openid-connect/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok map[string]any
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || res.StatusCode != 200 {
		t.Fatalf("fixture: login %s/%s: %d %v", realm, user, res.StatusCode, tok)
	}
	return tok
}

// newFixture creates the realm "meter" with a user who has a password and a
// session, a confidential client with a role, a mapper and a service
// account, a group with a subgroup, a realm role and a client scope with a
// mapper; and records their ids under the path parameter names the library
// uses.
func newFixture(t *testing.T, base string) *fixture {
	f := &fixture{base: base, realm: "meter"}
	tok := f.login(t, "master", "admin-cli", "", "admin", "admin-pw")
	f.token = tok["access_token"].(string)
	r := "/admin/realms/" + f.realm
	f.must(t, "POST", "/admin/realms", map[string]any{"realm": f.realm, "enabled": true}, nil)
	userID := f.must(t, "POST", r+"/users", map[string]any{"username": "alice", "enabled": true,
		"email": "alice@example.com", "firstName": "Alice", "lastName": "Liddell",
		"credentials": []map[string]any{{"type": "password", "value": "alice-pw", "temporary": false}}}, nil)
	clientUUID := f.must(t, "POST", r+"/clients", map[string]any{"clientId": "app", "secret": "app-secret",
		"publicClient": false, "directAccessGrantsEnabled": true, "serviceAccountsEnabled": true,
		"authorizationServicesEnabled": true, "redirectUris": []string{"https://app.example/*"}}, nil)
	f.must(t, "POST", r+"/clients/"+clientUUID+"/roles", map[string]any{"name": "c1"}, nil)
	mapperID := f.must(t, "POST", r+"/clients/"+clientUUID+"/protocol-mappers/models", map[string]any{
		"name": "dept", "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-attribute-mapper",
		"config": map[string]string{"user.attribute": "dept", "claim.name": "dept", "jsonType.label": "String",
			"access.token.claim": "true"}}, nil)
	groupID := f.must(t, "POST", r+"/groups", map[string]any{"name": "team"}, nil)
	f.must(t, "POST", r+"/groups/"+groupID+"/children", map[string]any{"name": "sub"}, nil)
	f.must(t, "POST", r+"/roles", map[string]any{"name": "r1"}, nil)
	var rrole map[string]any
	f.must(t, "GET", r+"/roles/r1", nil, &rrole)
	scopeID := f.must(t, "POST", r+"/client-scopes", map[string]any{"name": "cs", "protocol": "openid-connect"}, nil)
	scopeMapperID := f.must(t, "POST", r+"/client-scopes/"+scopeID+"/protocol-mappers/models", map[string]any{
		"name": "team", "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-attribute-mapper",
		"config": map[string]string{"user.attribute": "team", "claim.name": "team", "jsonType.label": "String"}}, nil)
	var comps []map[string]any
	f.must(t, "GET", r+"/components", nil, &comps)
	componentID := ""
	if len(comps) > 0 {
		componentID, _ = comps[0]["id"].(string)
	}
	var flows []map[string]any
	f.must(t, "GET", r+"/authentication/flows", nil, &flows)
	var execs []map[string]any
	f.must(t, "GET", r+"/authentication/flows/browser/executions", nil, &execs)
	if len(flows) == 0 || len(execs) == 0 {
		t.Fatal("fixture: the realm has no flows")
	}
	f.login(t, f.realm, "app", "app-secret", "alice", "alice-pw")
	var sessions []map[string]any
	f.must(t, "GET", r+"/users/"+userID+"/sessions", nil, &sessions)
	if len(sessions) == 0 {
		t.Fatal("fixture: alice has no session")
	}
	var creds []map[string]any
	f.must(t, "GET", r+"/users/"+userID+"/credentials", nil, &creds)
	if len(creds) == 0 {
		t.Fatal("fixture: alice has no credential")
	}
	// An identity provider "idp" with a mapper, which alice is linked to.
	f.must(t, "POST", r+"/identity-provider/instances", map[string]any{"alias": "idp", "providerId": "oidc",
		"config": map[string]string{"clientId": "meter", "clientSecret": "s", "authorizationUrl": "https://up.example/auth",
			"tokenUrl": "https://up.example/token"}}, nil)
	idpMapperID := f.must(t, "POST", r+"/identity-provider/instances/idp/mappers", map[string]any{"name": "dept",
		"identityProviderMapper": "oidc-user-attribute-idp-mapper", "config": map[string]string{"claim": "dept", "user.attribute": "dept"}}, nil)
	f.must(t, "POST", r+"/users/"+userID+"/federated-identity/idp", map[string]any{"userId": "up-alice", "userName": "alice"}, nil)
	f.vals = map[string]string{
		"realm": f.realm, "realmName": f.realm,
		"userId": userID, "groupId": groupID, "parentId": groupID,
		"client": clientUUID, "clientUniqueId": clientUUID, "clientId": clientUUID, "clientUuid": clientUUID,
		"clientScopeId": scopeID, "scopeId": scopeID,
		"roleName": "r1", "name": "r1", "roleId": rrole["id"].(string),
		"sessionId": sessions[0]["id"].(string), "session": sessions[0]["id"].(string),
		"credentialId": creds[0]["id"].(string), "newPreviousCredentialId": creds[0]["id"].(string),
		"mapperId": mapperID, "protocol": "openid-connect",
		"path": "team", "key": "loginTitle", "selectedLocale": "en", "locale": "en", "themeType": "login",
		"node": "node1.example", "attr": "jwt.credential", "providerId": "keycloak-oidc-keycloak-json",
		"type": "js", "credentialScopeName": "x", "roleContainer": clientUUID,
		"alias": "idp", "federatedIdentityId": "idp",
		// Subsystems counted apart: any value routes the same.
		"orgId": "org", "invitationId": "inv", "flow": "browser", "flowId": "flow",
		"resourceId": "res", "resourceName": "res", "policyId": "pol",
		"permissionId": "perm",
	}
	// What {id} (and a few others) names depends on the resource.
	f.byRes = map[string]map[string]string{
		"users":               {"id": userID},
		"attackDetection":     {"id": userID},
		"clients":             {"id": clientUUID, "roleName": "c1", "type": "granted"}, // {type}: evaluate-scopes granted or not-granted
		"clientScopes":        {"id": scopeID, "mapperId": scopeMapperID},
		"groups":              {"id": groupID},
		"roles":               {"id": rrole["id"].(string)},
		"components":          {"id": componentID},
		"realms":              {"id": groupID},
		"userStorageProvider": {"id": componentID},
		"identityProviders":   {"id": idpMapperID, "providerId": "oidc"},
		"authenticationManagement": {"id": execs[0]["id"].(string), "flowId": flows[0]["id"].(string), "flow": "browser",
			"alias": "CONFIGURE_TOTP", "providerId": "auth-cookie"},
	}
	return f
}

// fill puts the fixture's values into a URI template.
func (f *fixture) fill(e endpoint) string {
	return reParam.ReplaceAllStringFunc(e.Path, func(m string) string {
		name := reParam.FindStringSubmatch(m)[1]
		if name == "type" && strings.Contains(e.Path, "/authz/") {
			return "resource" // a policy type: the resource permission
		}
		if v, ok := f.byRes[e.Resource][name]; ok {
			return url.PathEscape(v)
		}
		if v, ok := f.vals[name]; ok {
			return url.PathEscape(v)
		}
		return "x"
	})
}

// meterResult is one endpoint's answer.
type meterResult struct {
	endpoint
	Status int
	Served bool
}

// unservedBodies are the server's answers for a route it does not have.
var unservedBodies = []string{"Unable to find matching target resource method", "HTTP 405 Method Not Allowed"}

// runMeter calls every endpoint once. Deletions run last and the realm's
// own deletion after them, so that no call removes what a later one needs.
func runMeter(t *testing.T, f *fixture, eps []endpoint) []meterResult {
	order := slices.Clone(eps)
	rank := func(e endpoint) int {
		switch {
		case e.Method == "DELETE" && e.Resource == "realms" && e.Path == "/admin/realms/{realm}":
			return 3
		case e.Method == "DELETE":
			return 2
		case strings.HasSuffix(e.Path, "/logout") || strings.HasSuffix(e.Path, "/logout-all"):
			return 1
		}
		return 0
	}
	sort.SliceStable(order, func(i, j int) bool { return rank(order[i]) < rank(order[j]) })
	var out []meterResult
	for i, e := range order {
		if i%40 == 0 { // the admin token outlives 40 calls
			tok := f.login(t, "master", "admin-cli", "", "admin", "admin-pw")
			f.token = tok["access_token"].(string)
		}
		var body any
		if e.Method == "POST" || e.Method == "PUT" || e.Method == "PATCH" {
			body = map[string]any{}
		}
		st, b, _ := f.call(t, e.Method, f.fill(e), body)
		served := true
		if st == http.StatusNotFound || st == http.StatusMethodNotAllowed {
			var eb struct {
				Error string `json:"error"`
			}
			if json.Unmarshal(b, &eb) == nil && slices.Contains(unservedBodies, eb.Error) {
				served = false
			}
		}
		out = append(out, meterResult{endpoint: e, Status: st, Served: served})
	}
	return out
}

// TestAdminAPICoverage is the meter: it prints served/total per resource
// (go test -v shows it) and fails when the in-scope served count falls
// below servedFloor.
func TestAdminAPICoverage(t *testing.T) {
	if _, err := os.Stat(filepath.Join(libDir, "resources", "users.js")); err != nil {
		required(t, "node_modules is missing (run npm ci in test/adminclient)")
	}
	eps, err := loadEndpoints(libDir)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		if _, err := provision.Master(t.Context(), db, "admin", "admin-pw", time.Now()); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(server.New(server.Options{Store: db, Log: slog.New(slog.DiscardHandler)}))
		t.Cleanup(srv.Close)
		f := newFixture(t, srv.URL)
		results := runMeter(t, f, eps)
		served, total := report(t, results)
		if served < servedFloor {
			t.Errorf("in-scope endpoints served: %d of %d, below the floor of %d", served, total, servedFloor)
		}
		authzServed, authzTotal := 0, 0
		for _, r := range results {
			if r.Apart == "authorization services" {
				authzTotal++
				if r.Served {
					authzServed++
				}
			}
		}
		if authzServed < authzServedFloor {
			t.Errorf("authorization services endpoints served: %d of %d, below the floor of %d", authzServed, authzTotal, authzServedFloor)
		}
	})
}

// report logs the table and, when GATEHOUSE_METER_REPORT names a file,
// writes it there too (CI prints it). It returns the in-scope totals.
func report(t *testing.T, results []meterResult) (served, total int) {
	type row struct{ served, total int }
	in := map[string]*row{}
	out := map[string]*row{}
	for _, r := range results {
		m, key := in, r.Resource
		if r.Apart != "" {
			m, key = out, r.Apart
		}
		if m[key] == nil {
			m[key] = &row{}
		}
		m[key].total++
		if r.Served {
			m[key].served++
		}
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "resource\tserved\ttotal\t\n")
	var keys []string
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", k, in[k].served, in[k].total)
		served += in[k].served
		total += in[k].total
	}
	fmt.Fprintf(tw, "IN SCOPE\t%d\t%d\t\n", served, total)
	keys = keys[:0]
	for k := range out {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(tw, "counted apart:\t\t\t\n")
	aServed, aTotal := 0, 0
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", k, out[k].served, out[k].total)
		aServed += out[k].served
		aTotal += out[k].total
	}
	fmt.Fprintf(tw, "ALL\t%d\t%d\t\n", served+aServed, total+aTotal)
	tw.Flush()
	buf.WriteString("\nnot served (in scope):\n")
	for _, r := range results {
		if !r.Served && r.Apart == "" {
			fmt.Fprintf(&buf, "  %-6s %s  (%s.%s)\n", r.Method, r.Path, r.Resource, strings.Join(r.Names, ","))
		}
	}
	buf.WriteString("\nnot served (authorization services):\n")
	for _, r := range results {
		if !r.Served && r.Apart == "authorization services" {
			fmt.Fprintf(&buf, "  %-6s %s  (%s.%s) %d\n", r.Method, r.Path, r.Resource, strings.Join(r.Names, ","), r.Status)
		}
	}
	t.Logf("admin API coverage (@keycloak/keycloak-admin-client's endpoints):\n%s", buf.String())
	if p := os.Getenv("GATEHOUSE_METER_REPORT"); p != "" {
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Error(err)
		}
	}
	return served, total
}

// TestServedRoutesAnswer guards the meter's rule from the other side: every
// route the admin API registers answers through its handler, never with
// the server's "no such route" body, whatever its path parameters hold.
func TestServedRoutesAnswer(t *testing.T) {
	db := storetest.Open(t)
	if _, err := provision.Master(t.Context(), db, "admin", "admin-pw", time.Now()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Options{Store: db, Log: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	f := &fixture{base: srv.URL}
	f.token = f.login(t, "master", "admin-cli", "", "admin", "admin-pw")["access_token"].(string)
	h := &admin.Handler{Store: db, Now: time.Now}
	h.Register(http.NewServeMux())
	routes := h.Routes()
	if len(routes) < 100 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	param := regexp.MustCompile(`\{[^}]*\}`)
	for _, rt := range routes {
		method, pattern, _ := strings.Cut(rt, " ")
		if method == "DELETE" && pattern == "/admin/realms/{realm}" {
			continue // would remove master
		}
		p := param.ReplaceAllStringFunc(pattern, func(m string) string {
			if m == "{realm}" {
				return "master"
			}
			return "x"
		})
		var body any
		if method == "POST" || method == "PUT" {
			body = map[string]any{}
		}
		st, b, _ := f.call(t, method, p, body)
		var eb struct {
			Error string `json:"error"`
		}
		json.Unmarshal(b, &eb)
		if (st == http.StatusNotFound || st == http.StatusMethodNotAllowed) && slices.Contains(unservedBodies, eb.Error) {
			t.Errorf("%s answered as an unknown route: %d %s", rt, st, b)
		}
	}
}
