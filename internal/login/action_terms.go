package login

import (
	"net/http"
	"strconv"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// termsAttribute records when the user accepted the terms (epoch seconds),
// under Keycloak's attribute name.
const termsAttribute = "terms_and_conditions"

// TERMS_AND_CONDITIONS: the user accepts the terms, or declines them and
// the login ends with access_denied (Keycloak's termsAndConditionsDeclined).
func init() {
	registerActionPage(authn.ActionTermsAndConditions, actionPage{Challenge: termsPage, Process: acceptTerms})
}

func termsPage(a *actionRun, msg *ui.Message) (bool, error) {
	p := a.page("termsTitle")
	p.Message = msg
	a.render(http.StatusOK, "terms.html", p)
	return true, nil
}

func acceptTerms(a *actionRun) (actionResult, error) {
	declined := a.r.PostForm.Has("cancel")
	err := a.h.Store.UpdateUser(a.r.Context(), a.Realm.ID, a.User.ID, func(x *user.User) error {
		attrs := make(map[string][]string, len(x.Attributes)+1)
		for k, v := range x.Attributes {
			// Keycloak 21.0.0 briefly wrote the name in upper case.
			if k != "TERMS_AND_CONDITIONS" && k != termsAttribute {
				attrs[k] = v
			}
		}
		if !declined {
			attrs[termsAttribute] = []string{strconv.FormatInt(a.h.now(), 10)}
		}
		x.Attributes = attrs
		return nil
	})
	if err != nil {
		return actionShown, err
	}
	if declined {
		a.Error = "termsAndConditionsDeclined"
		return actionFailed, nil
	}
	return actionDone, nil
}
