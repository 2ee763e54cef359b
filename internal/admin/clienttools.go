package admin

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// clientToolRoutes serves the client's actions beside its settings: the
// rotated secret, the registration access token, revocation push, cluster
// nodes, adapter configuration downloads, key certificates, and the
// fine-grained permission switch.
func (h *Handler) clientToolRoutes(mux Mux) {
	var a clientsAPI
	const one = "/admin/realms/{realm}/clients/{id}"
	// The rotated secret authenticates like the current one, so it is shown
	// only to those who may change it, as the current one is.
	h.handle(mux, "GET "+one+"/client-secret/rotated", clientManage, a.getRotatedSecret)
	h.handle(mux, "DELETE "+one+"/client-secret/rotated", clientManage, a.invalidateRotatedSecret)
	h.handle(mux, "POST "+one+"/registration-access-token", clientManage, a.regenerateRegistrationToken)
	// Keycloak lets configure push revocation and register nodes: neither
	// touches how the client authenticates.
	h.handle(mux, "POST "+one+"/push-revocation", clientConfigure, a.pushRevocation)
	h.handle(mux, "POST "+one+"/nodes", clientConfigure, a.registerNode)
	h.handle(mux, "DELETE "+one+"/nodes/{node}", clientConfigure, a.unregisterNode)
	h.handle(mux, "GET "+one+"/test-nodes-available", clientConfigure, a.testNodes)
	h.handle(mux, "GET "+one+"/installation/providers/{provider}", clientView, a.installation)
	h.handle(mux, "GET "+one+"/management/permissions", clientView, a.permissions)
	h.handle(mux, "PUT "+one+"/management/permissions", clientManage, a.permissions)
	h.certificateRoutes(mux, one+"/certificates/{attr}")
}

// editClient loads the client, checks the caller may take it over (its
// service account must not outrank the caller), and applies edit in the
// store's read-modify-write; it returns the stored result.
func (a clientsAPI) editClient(rq *Request, edit func(*client.Client) error) (client.Client, error) {
	c, err := a.load(rq)
	if err != nil {
		return c, err
	}
	if err := rq.requireClientTakeover(rq.R.Context(), c.ID); err != nil {
		return c, err
	}
	err = rq.h.Store.UpdateClient(rq.R.Context(), rq.Realm.ID, c.ID, func(cur *client.Client) error {
		if err := edit(cur); err != nil {
			return err
		}
		c = *cur
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return c, a.notFound()
	}
	return c, err
}

func (a clientsAPI) getRotatedSecret(rq *Request) error {
	c, err := a.load(rq)
	if err != nil {
		return err
	}
	if err := rq.requireClientTakeover(rq.R.Context(), c.ID); err != nil {
		return err
	}
	s, live := c.RotatedSecret(rq.Now())
	if !live {
		return notFound("Client does not have a rotated secret")
	}
	return rq.JSON(clientSecretRep{Type: "secret", Value: s})
}

// invalidateRotatedSecret ends the rotated secret's grace period at once;
// it answers 204 whether or not there was one.
func (a clientsAPI) invalidateRotatedSecret(rq *Request) error {
	_, err := a.editClient(rq, func(c *client.Client) error {
		c.InvalidateRotatedSecret()
		return nil
	})
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// regenerateRegistrationToken replaces the client's registration access
// token and answers the client with the new one, as Keycloak does. The
// client stores only the token's id; the token retires the previous one.
func (a clientsAPI) regenerateRegistrationToken(rq *Request) error {
	// The token's holder may give the client a service account, which
	// holds the realm's default roles.
	if err := rq.requireServiceAccount(rq.R.Context()); err != nil {
		return err
	}
	jti := store.NewID()
	// Signed before it is stored, so a missing key changes nothing.
	raw, err := rq.h.signRegistrationToken(rq.R.Context(), rq.Realm,
		token.RegistrationAccess(jti, rq.h.URLs.RealmURL(rq.R, rq.Realm.Name), token.RegistrationAuthenticated, rq.Now().Unix()))
	if err != nil {
		return err
	}
	c, err := a.editClient(rq, func(c *client.Client) error {
		c.RegistrationAccessToken = jti
		return nil
	})
	if err != nil {
		return err
	}
	links, err := rq.h.Store.ClientScopeLinks(rq.R.Context(), rq.Realm.ID, c.ID)
	if err != nil {
		return err
	}
	names, err := a.scopeNames(rq)
	if err != nil {
		return err
	}
	x, err := a.rep(rq, c, links, names)
	if err != nil {
		return err
	}
	x.RegistrationAccessToken = &raw
	return rq.JSON(x)
}

// pushRevocation pushes the client's not-before to its admin URL. Gatehouse
// sends no such request yet, so a client with an admin URL is reported as
// failed and one without is not reported at all.
func (a clientsAPI) pushRevocation(rq *Request) error {
	c, err := a.load(rq)
	if err != nil {
		return err
	}
	return rq.JSON(unnotifiedClients([]client.Client{c}))
}

// registerNode records a cluster node of the client (an application
// instance announcing itself), with the time it registered.
func (a clientsAPI) registerNode(rq *Request) error {
	var body map[string]string
	if err := rq.decode(&body); err != nil {
		return err
	}
	node := body["node"]
	if node == "" {
		return badRequest("Node not found in params")
	}
	_, err := a.editClient(rq, func(c *client.Client) error {
		c.RegisteredNodes = maps.Clone(c.RegisteredNodes)
		if c.RegisteredNodes == nil {
			c.RegisteredNodes = map[string]int64{}
		}
		c.RegisteredNodes[node] = rq.Now().Unix()
		return nil
	})
	if err != nil {
		return err
	}
	return rq.NoContent()
}

func (a clientsAPI) unregisterNode(rq *Request) error {
	node := rq.R.PathValue("node")
	_, err := a.editClient(rq, func(c *client.Client) error {
		if _, ok := c.RegisteredNodes[node]; !ok {
			return notFound("Client does not have node ")
		}
		c.RegisteredNodes = maps.Clone(c.RegisteredNodes)
		delete(c.RegisteredNodes, node)
		return nil
	})
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// testNodes would ask each registered node whether it is up. Gatehouse
// makes no request to a client's nodes, so each is reported as failed.
func (a clientsAPI) testNodes(rq *Request) error {
	c, err := a.load(rq)
	if err != nil {
		return err
	}
	var res globalRequestResult
	for _, n := range slices.Sorted(maps.Keys(c.RegisteredNodes)) {
		res.FailedRequests = append(res.FailedRequests, n)
	}
	return rq.JSON(res)
}

// permissions answers GET and PUT .../management/permissions: the
// client's fine-grained admin permissions (package adminperm).
func (a clientsAPI) permissions(rq *Request) error {
	c, err := a.load(rq)
	if err != nil {
		return err
	}
	return managementPermissions(rq, adminperm.Client, c.ID)
}

// installation answers an adapter configuration for the client
// ("Action → Download adapter config" in the console).
func (a clientsAPI) installation(rq *Request) error {
	c, err := a.load(rq)
	if err != nil {
		return err
	}
	if c.Protocol == protocolSAML {
		body, ok, err := a.samlInstallation(rq, c, rq.R.PathValue("provider"))
		if err != nil {
			return err
		}
		if !ok {
			return notFound("Unknown Provider")
		}
		rq.W.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		_, err = rq.W.Write([]byte(body))
		return err
	}
	ctx := rq.R.Context()
	roles, err := rq.h.Store.ListClientRoles(ctx, rq.Realm.ID, c.ID)
	if err != nil {
		return err
	}
	scopes, err := rq.h.Store.ListClientScopes(ctx, rq.Realm.ID)
	if err != nil {
		return err
	}
	// A client is told to check the audience of the tokens it receives when
	// it has roles of its own, or a client scope adds it as an audience.
	verifyAudience := len(roles) > 0
	for _, s := range scopes {
		for _, m := range s.ProtocolMappers {
			if m.ProtocolMapper == token.MapperAudience && m.Config["included.client.audience"] == c.ClientID {
				verifyAudience = true
			}
		}
	}
	cfg := adapterConfig{
		realm: rq.Realm.Name, authServer: rq.h.URLs.Base(rq.R) + "/", sslRequired: rq.Realm.SSLRequired,
		resource: c.ClientID, bearerOnly: c.BearerOnly, public: c.PublicClient && !c.BearerOnly,
		verifyAudience: verifyAudience, roleMappings: len(roles) > 0, credentials: adapterCredentials(c),
	}
	// The file carries the client's secret, which only those who may change
	// it see (SECURITY.md M8).
	if slices.ContainsFunc(cfg.credentials, func(c adapterCredential) bool { return c.value != "" || c.fields != nil }) {
		if err := rq.Require("manage-clients"); err != nil {
			return err
		}
		if err := rq.requireClientTakeover(ctx, c.ID); err != nil {
			return err
		}
	}
	var body string
	switch rq.R.PathValue("provider") {
	case "keycloak-oidc-keycloak-json":
		body = cfg.json()
	case "keycloak-oidc-jboss-subsystem":
		body = cfg.xml()
	default:
		return notFound("Unknown Provider")
	}
	rq.W.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	_, err = rq.W.Write([]byte(body))
	return err
}

// adapterConfig is what the OIDC adapter configurations say of a client.
type adapterConfig struct {
	realm, authServer, sslRequired, resource         string
	bearerOnly, public, verifyAudience, roleMappings bool
	credentials                                      []adapterCredential
}

// adapterCredential is one credential entry: a value, or named fields.
type adapterCredential struct {
	name   string
	value  string
	fields [][2]string
}

// adapterCredentials is what the client's authenticator tells an adapter,
// or nothing when the client does not authenticate (public, or bearer-only
// without a service account).
func adapterCredentials(c client.Client) []adapterCredential {
	if c.PublicClient || c.BearerOnly && !c.ServiceAccountsEnabled && c.NodeReRegistrationTimeout <= 0 {
		return nil
	}
	switch c.ClientAuthenticatorType {
	case "client-jwt":
		return []adapterCredential{{name: "jwt", fields: [][2]string{
			{"client-keystore-file", "REPLACE WITH THE LOCATION OF YOUR KEYSTORE FILE"},
			{"client-keystore-type", "jks"},
			{"client-keystore-password", "REPLACE WITH THE KEYSTORE PASSWORD"},
			{"client-key-password", "REPLACE WITH THE KEY PASSWORD IN KEYSTORE"},
			{"client-key-alias", c.ClientID},
			{"token-timeout", "10"},
		}}}
	case "client-secret-jwt":
		return []adapterCredential{{name: "secret-jwt", fields: [][2]string{{"secret", c.Secret}}}}
	case "client-x509":
		return nil
	}
	return []adapterCredential{{name: "secret", value: c.Secret}}
}

// json is the keycloak.json file, pretty-printed with the field order and
// spacing the Keycloak adapters' own files have.
func (c adapterConfig) json() string {
	var b strings.Builder
	q := func(s string) string { j, _ := json.Marshal(s); return string(j) }
	field := func(k, v string) { fmt.Fprintf(&b, ",\n  %q : %s", k, v) }
	fmt.Fprintf(&b, "{\n  \"realm\" : %s", q(c.realm))
	if c.bearerOnly {
		field("bearer-only", "true")
	}
	field("auth-server-url", q(c.authServer))
	field("ssl-required", q(c.sslRequired))
	field("resource", q(c.resource))
	if c.public {
		field("public-client", "true")
	}
	if c.verifyAudience {
		field("verify-token-audience", "true")
	}
	if len(c.credentials) > 0 {
		b.WriteString(",\n  \"credentials\" : {")
		for i, cr := range c.credentials {
			if i > 0 {
				b.WriteString(",")
			}
			if cr.fields == nil {
				fmt.Fprintf(&b, "\n    %q : %s", cr.name, q(cr.value))
				continue
			}
			fmt.Fprintf(&b, "\n    %q : {", cr.name)
			for j, f := range cr.fields {
				if j > 0 {
					b.WriteString(",")
				}
				v := q(f[1])
				if f[0] == "token-timeout" {
					v = f[1]
				}
				fmt.Fprintf(&b, "\n      %q : %s", f[0], v)
			}
			b.WriteString("\n    }")
		}
		b.WriteString("\n  }")
	}
	if c.roleMappings {
		field("use-resource-role-mappings", "true")
	}
	field("confidential-port", "0")
	b.WriteString("\n}")
	return b.String()
}

// xml is the secure-deployment element of the WildFly/JBoss OIDC subsystem.
func (c adapterConfig) xml() string {
	var b bytes.Buffer
	esc := func(s string) string {
		var e bytes.Buffer
		_ = xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	b.WriteString("<secure-deployment name=\"WAR MODULE NAME.war\">\n")
	fmt.Fprintf(&b, "    <realm>%s</realm>\n", esc(c.realm))
	fmt.Fprintf(&b, "    <auth-server-url>%s</auth-server-url>\n", esc(c.authServer))
	if c.bearerOnly {
		b.WriteString("    <bearer-only>true</bearer-only>\n")
	} else if c.public {
		b.WriteString("    <public-client>true</public-client>\n")
	}
	fmt.Fprintf(&b, "    <ssl-required>%s</ssl-required>\n", esc(strings.ToUpper(c.sslRequired)))
	fmt.Fprintf(&b, "    <resource>%s</resource>\n", esc(c.resource))
	if c.verifyAudience {
		b.WriteString("    <verify-token-audience>true</verify-token-audience>\n")
	}
	for _, cr := range c.credentials {
		if cr.fields == nil {
			fmt.Fprintf(&b, "    <credential name=\"%s\">%s</credential>\n", esc(cr.name), esc(cr.value))
			continue
		}
		fmt.Fprintf(&b, "    <credential name=\"%s\">\n", esc(cr.name))
		for _, f := range cr.fields {
			fmt.Fprintf(&b, "        <%s>%s</%s>\n", f[0], esc(f[1]), f[0])
		}
		b.WriteString("    </credential>\n")
	}
	if c.roleMappings {
		b.WriteString("    <use-resource-role-mappings>true</use-resource-role-mappings>\n")
	}
	b.WriteString("</secure-deployment>\n")
	return b.String()
}
