package account

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
)

// The console's Resources page: the user's resources with whom they are
// shared, a form to share one with a user by username and scopes, revoke
// and approve/deny buttons, the resources others shared with the user and
// the user's own requests still waiting. Every button is a form over the
// same rule as the API's PUT .../permissions (setPermission).

// resourceView is one resource on the page.
type resourceView struct {
	ID, Name, Client string
	Scopes           []string // the resource's scope names, for the share form
	Shared           []holderView
	Requests         []holderView // others' requests waiting for the owner
	ShareLabel       string
}

// holderView is a user and the scopes they hold or ask for.
type holderView struct {
	Username, Scopes string
	RevokeLabel      string
	ApproveLabel     string
	DenyLabel        string
}

// resourcesPage fills the Resources page.
func (h *Handler) resourcesPage(r *http.Request, cs *consoleSession, p *consolePage) error {
	x := h.resourceIndex(r.Context(), cs.realm)
	os, err := x.owned(cs.user.ID, "")
	if err != nil {
		return err
	}
	p.ManageResources = holdsAny(cs.roles, canManageAccount)
	for _, o := range os {
		v := resourceView{ID: o.ID, Name: firstNonEmpty(o.DisplayName, o.Name), Client: clientTitle(p.Lang, o.client.Name, o.client.ClientID)}
		v.Scopes = o.scopeNames(o.ScopeIDs)
		v.ShareLabel = p.T("accountShareLabel", v.Name)
		shared, err := x.sharedWith(o, true)
		if err != nil {
			return err
		}
		for _, s := range shared {
			v.Shared = append(v.Shared, holderView{Username: s.Username, Scopes: strings.Join(s.Scopes, ", "),
				RevokeLabel: p.T("accountRevokeLabel", v.Name, s.Username)})
		}
		pending, err := x.sharedWith(o, false)
		if err != nil {
			return err
		}
		for _, s := range pending {
			v.Requests = append(v.Requests, holderView{Username: s.Username, Scopes: strings.Join(s.Scopes, ", "),
				ApproveLabel: p.T("accountApproveLabel", s.Username, v.Name), DenyLabel: p.T("accountDenyLabel", s.Username, v.Name)})
		}
		p.MyResources = append(p.MyResources, v)
	}
	for _, granted := range []bool{true, false} {
		rs, err := x.requested(cs.user.ID, "", granted)
		if err != nil {
			return err
		}
		for _, rr := range rs {
			v := resourceView{ID: rr.ID, Name: firstNonEmpty(rr.DisplayName, rr.Name), Client: clientTitle(p.Lang, rr.Client.Name, rr.Client.ClientID)}
			for _, s := range rr.Scopes {
				v.Scopes = append(v.Scopes, s.Name)
			}
			if granted {
				p.SharedWithMe = append(p.SharedWithMe, v)
			} else {
				p.MyRequests = append(p.MyRequests, v)
			}
		}
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// resourceFormScopePrefix starts the share form's scope checkboxes
// ("scope.view"): console forms carry each field once.
const resourceFormScopePrefix = "scope."

// resourceForm serves the Resources page's buttons: share (resource,
// username, scope.<name>), revoke, approve and deny (resource, username).
func (h *Handler) resourceForm(action string) formFunc {
	return func(w http.ResponseWriter, r *http.Request, cs *consoleSession, form url.Values) error {
		if !cs.realm.UserManagedAccessAllowed {
			// The page's own answer: the realm offers no Resources page.
			return h.showSection(w, r, cs, sectionResources, http.StatusNotFound, nil)
		}
		ctx := r.Context()
		lang := pickLocale(cs.realm, r)
		refuse := func(key string) error {
			st := &pageState{message: &ui.Message{Type: "error", Text: ui.Text(lang, key)}}
			return h.showSection(w, r, cs, sectionResources, http.StatusBadRequest, st)
		}
		x := h.resourceIndex(ctx, cs.realm)
		o, ok, err := x.get(form.Get("resource"))
		if err != nil {
			return err
		}
		if !ok || o.Owner != cs.user.ID {
			return refuse("accountResourceNotFoundMessage")
		}
		u, err := h.userByNameOrID(ctx, cs.realm, strings.TrimSpace(form.Get("username")))
		if errors.Is(err, store.ErrNotFound) {
			return refuse("accountShareUserNotFoundMessage")
		}
		if err != nil {
			return err
		}
		if u.ID == cs.user.ID {
			return refuse("accountShareWithYourselfMessage")
		}
		granted, err := x.scopeIDsOf(o, u.ID, true)
		if err != nil {
			return err
		}
		pending, err := x.scopeIDsOf(o, u.ID, false)
		if err != nil {
			return err
		}
		scopes, done := granted, ""
		switch action {
		case "share":
			added := false
			for k := range form {
				if name, ok := strings.CutPrefix(k, resourceFormScopePrefix); ok {
					id, ok := o.scopeID(name)
					if !ok {
						return refuse("accountResourceNotFoundMessage")
					}
					if !slices.Contains(scopes, id) {
						scopes = append(scopes, id)
					}
					added = true
				}
			}
			if !added {
				return refuse("accountShareChooseScopesMessage")
			}
			done = "shared"
		case "revoke":
			scopes, done = []string{}, "revoked"
		case "approve":
			scopes, done = append(scopes, pending...), "approved"
		case "deny":
			done = "denied"
		}
		if err := setPermission(ctx, h.Store, cs.realm, o, u.ID, scopes, h.nowMS()); err != nil {
			return err
		}
		h.Log.InfoContext(ctx, "account: resource permissions updated", "realm", cs.realm.Name, "user", cs.user.ID, "resource", o.ID, "action", action)
		return h.done(w, r, cs, sectionResources, done)
	}
}
