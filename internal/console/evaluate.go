package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// evaluateData is the client's Client scopes → Evaluate tab: the mappers a
// scope parameter brings in, and an example token for a user, built by the
// admin API's evaluate-scopes endpoints (the token endpoint's own code).
type evaluateData struct {
	Scope, Username, Kind string
	Mappers               []evalMapper
	Example               string // pretty JSON
	Error                 string
}

type evalMapper struct {
	MapperName, ContainerName, ContainerType, ProtocolMapper string
}

// clientEvaluate shows what a token for the client would carry.
func (h *Handler) clientEvaluate(q *rq) error {
	x, err := q.loadClient()
	if err != nil {
		return err
	}
	v := q.clientView(x, "evaluate")
	qs := q.r.URL.Query()
	d := &evaluateData{Scope: strings.TrimSpace(qs.Get("scope")), Username: strings.TrimSpace(qs.Get("user")), Kind: qs.Get("kind")}
	if d.Scope == "" {
		d.Scope = "openid"
	}
	if d.Kind != "id-token" && d.Kind != "userinfo" {
		d.Kind = "access-token"
	}
	v.Data = d
	base := q.adminPath("/clients/" + seg(x.ID) + "/evaluate-scopes")
	if err := q.get(base+"/protocol-mappers?scope="+url.QueryEscape(d.Scope), &d.Mappers); err != nil {
		return err
	}
	if d.Username != "" {
		var users []struct{ ID string }
		if err := q.get(q.adminPath("/users?exact=true&username="+url.QueryEscape(d.Username)), &users); err != nil {
			return err
		}
		if len(users) == 0 {
			d.Error = "No user named " + d.Username
		} else {
			var example map[string]any
			path := base + "/generate-example-" + d.Kind + "?scope=" + url.QueryEscape(d.Scope) + "&userId=" + url.QueryEscape(users[0].ID)
			if err := q.get(path, &example); err != nil {
				return err
			}
			b, _ := json.MarshalIndent(example, "", "  ")
			d.Example = string(b)
		}
	}
	return q.render(http.StatusOK, "client-evaluate.html", v)
}

// adapterConfigs are the adapter configuration files the Action menu offers.
var adapterConfigs = map[string]string{
	"keycloak-oidc-keycloak-json":   "keycloak.json",
	"keycloak-oidc-jboss-subsystem": "keycloak-oidc-subsystem.xml",
	"saml-idp-descriptor":           "client-tailored-saml-idp-metadata.xml",
	"keycloak-saml":                 "keycloak-saml.xml",
}

// clientAdapterConfig downloads the client's adapter configuration
// (Action → Download adapter config).
func (h *Handler) clientAdapterConfig(q *rq) error {
	x, err := q.loadClient()
	if err != nil {
		return err
	}
	provider := q.r.URL.Query().Get("provider")
	name, ok := adapterConfigs[provider]
	if !ok {
		provider, name = "keycloak-oidc-keycloak-json", adapterConfigs["keycloak-oidc-keycloak-json"]
	}
	res, err := h.call(q.r, http.MethodGet, q.adminPath("/clients/"+seg(x.ID)+"/installation/providers/"+seg(provider)), q.sess.Access, "", nil)
	if err != nil {
		return err
	}
	if res.status != http.StatusOK {
		return readError(res)
	}
	return q.download(name, "application/octet-stream", res.body.Bytes())
}

// download answers a file for the browser to save as name.
func (q *rq) download(name, contentType string, body []byte) error {
	hdr := q.w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	_, err := q.w.Write(body)
	return err
}
