package console

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gatehouse-iam/gatehouse/internal/jar"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
)

// clientAdvancedSpecs are the client's Advanced tab settings, each a
// client attribute, worded as Keycloak's console words them.
var clientAdvancedSpecs = func() []spec {
	algs := []option{{Value: "any", Label: "any"}}
	for _, a := range jar.Algorithms {
		algs = append(algs, option{Value: a, Label: a})
	}
	return []spec{
		{Kind: kindSection, Label: "Advanced settings"},
		{Kind: kindBool, Name: jar.RequirePARAttr, Label: "Pushed authorization request required",
			Help: "Whether the client may start a login only with a request_uri from the pushed authorization request endpoint."},
		{Kind: kindSection, Label: "Fine grain OpenID Connect configuration"},
		{Kind: kindSelect, Name: jar.SignatureAlgAttr, Label: "Request object signature algorithm",
			Help:    "The algorithm the client must sign its request objects with; 'none' allows unsigned ones, 'any' any algorithm.",
			Options: algs},
		{Kind: kindSelect, Name: jar.RequiredAttr, Label: "Request object required",
			Help: "Whether the client must send its authorization requests as a request object, and how.",
			Options: []option{{Value: "not required", Label: "not required"}, {Value: jar.RequiredRequestOrURI, Label: jar.RequiredRequestOrURI},
				{Value: jar.RequiredRequest, Label: jar.RequiredRequest}, {Value: jar.RequiredURI, Label: jar.RequiredURI}}},
	}
}()

// clientAdvanced shows and saves the client's Advanced tab: attributes
// only, sent as a partial update.
func (h *Handler) clientAdvanced(q *rq) error {
	x, err := q.loadClient()
	if err != nil {
		return err
	}
	v := q.clientView(x, "advanced")
	action := q.realmURL("/clients/" + seg(x.ID) + "/advanced")
	d := &realmData{settingsData: settingsData{Action: action, Editable: q.perms.can("manage-clients")}}
	v.Data = d
	if !q.post() {
		values := map[string]any{}
		for _, sp := range clientAdvancedSpecs {
			switch sp.Kind {
			case kindBool:
				values[sp.Name] = x.Attributes[sp.Name] == "true"
			case kindSelect:
				values[sp.Name] = x.Attributes[sp.Name]
				if x.Attributes[sp.Name] == "" {
					values[sp.Name] = sp.Options[0].Value
				}
			}
		}
		d.Settings = fromJSON(clientAdvancedSpecs, values)
		return q.render(http.StatusOK, "realm-settings.html", v)
	}
	settings, body, ok := fromForm(clientAdvancedSpecs, q)
	d.Settings = settings
	if !ok {
		v.Error = "Please correct the fields marked below."
		return q.render(http.StatusBadRequest, "realm-settings.html", v)
	}
	attrs := map[string]string{}
	for k, val := range body {
		switch val := val.(type) {
		case bool:
			attrs[k] = strconv.FormatBool(val)
		case string:
			attrs[k] = val
		}
	}
	if _, err := q.api(http.MethodPut, q.adminPath("/clients/"+seg(x.ID)), rep.Client{Attributes: attrs}, nil); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			markError(d.Settings, ae.Message)
		}
		return q.refused(v, "realm-settings.html", err)
	}
	return q.redirect(action, "saved")
}
