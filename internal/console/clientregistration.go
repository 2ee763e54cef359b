package console

import (
	"net/http"
	"strconv"
	"strings"
)

// The Clients section's "Initial access token" and "Client registration"
// tabs: the realm's initial access tokens and its client registration
// policies (anonymous and authenticated), through the admin API.

const regPolicyType = "org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy"

// clientsTabs are the tabs of the Clients section.
func (q *rq) clientsTabs(current string) []tabLink {
	return tabs(q.realmURL(""), current, "list", "/clients", "Clients list",
		"initial-access", "/initial-access-tokens", "Initial access token", "registration", "/client-registration", "Client registration")
}

// regPolicy is a client registration policy component.
type regPolicy struct {
	ID           string              `json:"id,omitempty"`
	Name         string              `json:"name,omitempty"`
	ProviderID   string              `json:"providerId,omitempty"`
	ProviderType string              `json:"providerType"`
	SubType      string              `json:"subType,omitempty"`
	Config       map[string][]string `json:"config"`
}

// regProvider is a policy provider with its settings.
type regProvider struct {
	ID         string `json:"id"`
	HelpText   string `json:"helpText"`
	Properties []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"properties"`
}

// policyGroup is the policies of one sub type.
type policyGroup struct {
	Sub, Title string
	Policies   []regPolicy
}

type registrationPage struct {
	Editable  bool
	Action    string
	Groups    []policyGroup
	Providers []regProvider
}

// clientRegistration lists the realm's policies and adds and deletes them.
func (h *Handler) clientRegistration(q *rq) error {
	v := q.view("Clients", "clients", "registration")
	v.Tabs = q.clientsTabs("registration")
	action := q.realmURL("/client-registration")
	d := &registrationPage{Editable: q.perms.can("manage-realm"), Action: action}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		var err error
		switch q.form("action") {
		case "add":
			name := q.form("name")
			if name == "" {
				name = q.form("providerId")
			}
			_, err = q.api(http.MethodPost, q.adminPath("/components"), regPolicy{Name: name, ProviderID: q.form("providerId"),
				ProviderType: regPolicyType, SubType: q.form("subType"), Config: map[string][]string{}}, nil)
		case "delete":
			_, err = q.api(http.MethodDelete, q.adminPath("/components/"+seg(q.form("id"))), nil, nil)
		default:
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if err == nil {
			return q.redirect(action, "saved")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	var ps []regPolicy
	if err := q.get(q.adminPath("/components?type="+regPolicyType), &ps); err != nil {
		return err
	}
	d.Groups = []policyGroup{{Sub: "anonymous", Title: "Anonymous access policies"}, {Sub: "authenticated", Title: "Authenticated access policies"}}
	for _, p := range ps {
		for i := range d.Groups {
			if d.Groups[i].Sub == p.SubType {
				d.Groups[i].Policies = append(d.Groups[i].Policies, p)
			}
		}
	}
	if err := q.get(q.adminPath("/client-registration-policy/providers"), &d.Providers); err != nil {
		return err
	}
	return q.render(status, "client-registration.html", v)
}

type policyField struct {
	Name, Type, Value string
	Multi             bool
}

type policyPage struct {
	Editable bool
	Action   string
	Back     string
	Policy   regPolicy
	Help     string
	Fields   []policyField
}

// clientRegistrationPolicy edits one policy's name and settings; a
// setting of several values takes one per line.
func (h *Handler) clientRegistrationPolicy(q *rq) error {
	v := q.view("Clients", "clients", "registration")
	v.Tabs = q.clientsTabs("registration")
	id := q.r.PathValue("id")
	action := q.realmURL("/client-registration/" + seg(id))
	d := &policyPage{Editable: q.perms.can("manage-realm"), Action: action, Back: q.realmURL("/client-registration")}
	v.Data = d
	if err := q.get(q.adminPath("/components/"+seg(id)), &d.Policy); err != nil {
		return err
	}
	var provs []regProvider
	if err := q.get(q.adminPath("/client-registration-policy/providers"), &provs); err != nil {
		return err
	}
	var prov regProvider
	for _, p := range provs {
		if p.ID == d.Policy.ProviderID {
			prov = p
		}
	}
	d.Help = prov.HelpText
	status := http.StatusOK
	if q.post() {
		in := regPolicy{Name: q.form("name"), ProviderType: regPolicyType, Config: map[string][]string{}}
		for _, pr := range prov.Properties {
			vals := []string{}
			for l := range strings.SplitSeq(q.r.PostForm.Get("cfg-"+pr.Name), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					vals = append(vals, l)
				}
			}
			if pr.Type == "boolean" {
				vals = []string{strconv.FormatBool(q.form("cfg-"+pr.Name) == "on")}
			}
			in.Config[pr.Name] = vals
		}
		_, err := q.api(http.MethodPut, q.adminPath("/components/"+seg(id)), in, nil)
		if err == nil {
			return q.redirect(action, "saved")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	for _, pr := range prov.Properties {
		multi := strings.HasPrefix(pr.Type, "Multivalued")
		val := strings.Join(d.Policy.Config[pr.Name], "\n")
		if pr.Type == "boolean" && val == "" {
			val = "true"
		}
		d.Fields = append(d.Fields, policyField{Name: pr.Name, Type: pr.Type, Value: val, Multi: multi})
	}
	return q.render(status, "client-registration-policy.html", v)
}

type initialAccess struct {
	ID             string `json:"id"`
	Timestamp      int64  `json:"timestamp"`
	Expiration     int64  `json:"expiration"`
	Count          int64  `json:"count"`
	RemainingCount int64  `json:"remainingCount"`
	Token          string `json:"token,omitempty"`
}

type initialAccessPage struct {
	Editable bool
	Action   string
	Tokens   []initialAccess
	Created  string // the token just made, shown once
}

// clientInitialAccess lists, creates and deletes initial access tokens.
func (h *Handler) clientInitialAccess(q *rq) error {
	v := q.view("Clients", "clients", "initial-access")
	v.Tabs = q.clientsTabs("initial-access")
	action := q.realmURL("/initial-access-tokens")
	d := &initialAccessPage{Editable: q.perms.can("manage-clients"), Action: action}
	v.Data = d
	base := q.adminPath("/clients-initial-access")
	status := http.StatusOK
	if q.post() {
		var err error
		switch q.form("action") {
		case "create":
			exp, eerr := strconv.ParseInt(q.form("expiration"), 10, 64)
			count, cerr := strconv.ParseInt(q.form("count"), 10, 64)
			if eerr != nil || exp < 0 {
				err = &fieldError{"expiration", "Enter a whole number of seconds (0: never)."}
			} else if cerr != nil || count < 1 {
				err = &fieldError{"count", "Enter a whole number, at least 1."}
			} else {
				var made initialAccess
				if _, err = q.api(http.MethodPost, base, map[string]int64{"expiration": exp, "count": count}, &made); err == nil {
					d.Created = made.Token
				}
			}
		case "delete":
			if _, err = q.api(http.MethodDelete, base+"/"+seg(q.form("id")), nil, nil); err == nil {
				return q.redirect(action, "deleted")
			}
		default:
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if err != nil {
			if status, err = failed(v, err); err != nil {
				return err
			}
		}
	}
	if err := q.get(base, &d.Tokens); err != nil {
		return err
	}
	return q.render(status, "client-initial-access.html", v)
}
