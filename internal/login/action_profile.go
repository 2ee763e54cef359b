package login

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/profile"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
)

// UPDATE_PROFILE and VERIFY_PROFILE: Keycloak's "Update Account
// Information" form, built from the realm's user profile as the user sees
// it, and stored through authn.UpdateProfile, the same rule as the account
// console's.
func init() {
	p := actionPage{Challenge: updateProfilePage, Process: updateProfile}
	registerActionPage(authn.ActionUpdateProfile, p)
	registerActionPage(authn.ActionVerifyProfile, p)
}

// profileFields are the form's inputs: every attribute the user may see,
// in profile order, with the user's values, or typed (what the last
// submission held) and the errors of that submission.
func profileFields(a *actionRun, p ui.Page, typed map[string]string, errs map[string]string) []ui.Field {
	cfg, pctx := profile.Load(a.Realm.UserProfile), profile.Account(a.Realm.EditUsernameAllowed)
	values := profile.Values(a.User.Attributes, a.User.Username, a.User.Email, a.User.FirstName, a.User.LastName)
	var out []ui.Field
	for _, m := range cfg.Metadata(pctx).Attributes {
		if m.Name == "username" && !a.Realm.EditUsernameAllowed {
			continue // Keycloak's form leaves the username out unless it may change
		}
		f := ui.Field{Name: m.Name, Label: ui.Resolve(p.Lang, m.DisplayName), Required: m.Required, ReadOnly: m.ReadOnly,
			Error: errs[m.Name]}
		if f.Label == "" {
			f.Label = m.Name
		}
		if m.Name == "email" {
			f.Type = "email"
		}
		if v, ok := typed[m.Name]; ok {
			f.Value = v
		} else if vs := values[m.Name]; len(vs) > 0 {
			f.Value = vs[0]
		}
		out = append(out, f)
	}
	return out
}

func updateProfilePage(a *actionRun, msg *ui.Message) (bool, error) {
	p := a.page("loginProfileTitle")
	p.Fields = profileFields(a, p, nil, nil)
	p.Message = msg
	a.render(http.StatusOK, "update-profile.html", p)
	return true, nil
}

func updateProfile(a *actionRun) (actionResult, error) {
	p := a.page("loginProfileTitle")
	in := authn.ProfileUpdate{Attributes: map[string][]string{}}
	for k, v := range a.User.Attributes {
		in.Attributes[k] = v
	}
	typed := map[string]string{}
	for _, f := range profileFields(a, p, nil, nil) {
		if f.ReadOnly || !a.r.PostForm.Has(f.Name) {
			continue
		}
		v := strings.TrimSpace(posted(a.r, f.Name))
		typed[f.Name] = v
		switch f.Name {
		case "username":
			in.Username = &v
		case "email":
			in.Email = &v
		case "firstName":
			in.FirstName = &v
		case "lastName":
			in.LastName = &v
		default:
			if v == "" {
				delete(in.Attributes, f.Name)
			} else {
				in.Attributes[f.Name] = []string{v}
			}
		}
	}
	_, err := authn.UpdateProfile(a.r.Context(), a.h.Store, a.Realm, a.User.ID, in)
	var pe *profile.Errors
	if errors.As(err, &pe) {
		errs := map[string]string{}
		for _, fe := range pe.List {
			args := []string{ui.Resolve(p.Lang, fe.Params[0])}
			args = append(args, fe.Params[1:]...)
			if _, seen := errs[fe.Field]; !seen {
				errs[fe.Field] = p.T(fe.Message, args...)
			}
		}
		p.Fields = profileFields(a, p, typed, errs)
		p.Message = &ui.Message{Type: "error", Text: errs[pe.List[0].Field]}
		a.render(http.StatusOK, "update-profile.html", p)
		return actionShown, nil
	}
	if err != nil {
		return actionShown, err
	}
	return actionDone, nil
}
