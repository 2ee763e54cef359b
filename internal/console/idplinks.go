package console

import (
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"slices"
	"strings"
)

// The "Identity provider links" tab of a user: the accounts at identity
// providers the user is linked to, and the forms that link one by hand or
// unlink it, through .../users/{id}/federated-identity.

// fedIdentity is the admin API's FederatedIdentityRepresentation.
type fedIdentity = rep.FederatedIdentity

// idpLinkRow is one provider of the realm with the user's link to it, if
// any.
type idpLinkRow struct {
	Alias, Name, Type string
	Linked            bool
	UserID, UserName  string
}

type idpLinksPage struct {
	Linked, Available []idpLinkRow
	Action            string
	Editable          bool
	// The link form's values after a refusal.
	Provider, UserID, UserName string
}

// userIDPLinks lists the user's links and links or unlinks an account.
func (h *Handler) userIDPLinks(q *rq) error {
	u, err := q.loadUser()
	if err != nil {
		return err
	}
	base := q.adminPath("/users/" + seg(u.ID) + "/federated-identity")
	action := q.realmURL("/users/" + seg(u.ID) + "/identity-provider-links")
	v := q.userView(u, "identity-provider-links")
	d := &idpLinksPage{Action: action, Editable: q.perms.can("manage-users")}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		alias := q.form("provider")
		switch q.form("action") {
		case "link":
			d.Provider, d.UserID, d.UserName = alias, q.form("userId"), q.form("userName")
			switch {
			case alias == "":
				err = &fieldError{"provider", "Choose an identity provider."}
			case d.UserID == "":
				err = &fieldError{"userId", "Enter the user's ID at the identity provider."}
			case d.UserName == "":
				err = &fieldError{"userName", "Enter the user's username at the identity provider."}
			default:
				_, err = q.api(http.MethodPost, base+"/"+seg(alias),
					fedIdentity{IdentityProvider: alias, UserID: d.UserID, UserName: d.UserName}, nil)
			}
			if err == nil {
				return q.redirect(action, "linked")
			}
		case "unlink":
			if _, err = q.api(http.MethodDelete, base+"/"+seg(alias), nil, nil); err == nil {
				return q.redirect(action, "unlinked")
			}
		default:
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	var links []fedIdentity
	if err := q.get(base, &links); err != nil {
		return err
	}
	// Reading the providers needs view-identity-providers; without it the
	// tab still lists the links, by alias.
	var xs []idpRep
	if q.perms.can("view-identity-providers") {
		if err := q.get(q.idpPath(""), &xs); err != nil {
			return err
		}
	}
	known := map[string]idpRep{}
	for _, x := range xs {
		known[x.Alias] = x
	}
	for _, l := range links {
		x := known[l.IdentityProvider]
		r := idpLinkRow{Alias: l.IdentityProvider, Name: x.DisplayName, Linked: true, UserID: l.UserID, UserName: l.UserName}
		if x.ProviderID != "" {
			t, _ := idpTypeOf(x.ProviderID)
			r.Type = t.Name
		}
		d.Linked = append(d.Linked, r)
	}
	for _, x := range xs {
		if slices.ContainsFunc(links, func(l fedIdentity) bool { return l.IdentityProvider == x.Alias }) {
			continue
		}
		t, _ := idpTypeOf(x.ProviderID)
		d.Available = append(d.Available, idpLinkRow{Alias: x.Alias, Name: x.DisplayName, Type: t.Name})
	}
	byAlias := func(a, b idpLinkRow) int { return strings.Compare(a.Alias, b.Alias) }
	slices.SortFunc(d.Linked, byAlias)
	slices.SortFunc(d.Available, byAlias)
	return q.render(status, "user-identity-provider-links.html", v)
}
