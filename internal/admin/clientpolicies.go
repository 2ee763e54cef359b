package admin

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/clientpolicy"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// clientPolicyRoutes serves the realm's client policies: profiles of
// executors and the policies that apply them (Realm settings → Client
// policies). Only executors and conditions Gatehouse runs are accepted.
func (h *Handler) clientPolicyRoutes(mux Mux) {
	const base = "/admin/realms/{realm}/client-policies"
	h.handle(mux, "GET "+base+"/profiles", "view-realm", h.getClientProfiles)
	h.handle(mux, "PUT "+base+"/profiles", "manage-realm", h.putClientProfiles)
	h.handle(mux, "GET "+base+"/policies", "view-realm", h.getClientPolicies)
	h.handle(mux, "PUT "+base+"/policies", "manage-realm", h.putClientPolicies)
}

func (h *Handler) getClientProfiles(rq *Request) error {
	pr, _, err := clientpolicy.Parse(rq.Realm.ClientProfiles, "")
	if err != nil {
		return err
	}
	out := map[string]any{"profiles": pr.Profiles}
	// Gatehouse has no built-in (global) profiles.
	if rq.R.URL.Query().Get("include-global-profiles") == "true" {
		out["globalProfiles"] = []clientpolicy.Profile{}
	}
	return rq.JSON(out)
}

func (h *Handler) getClientPolicies(rq *Request) error {
	_, po, err := clientpolicy.Parse("", rq.Realm.ClientPolicies)
	if err != nil {
		return err
	}
	out := map[string]any{"policies": po.Policies}
	if rq.R.URL.Query().Get("include-global-policies") == "true" {
		out["globalPolicies"] = []clientpolicy.Policy{}
	}
	return rq.JSON(out)
}

func (h *Handler) putClientProfiles(rq *Request) error {
	var pr clientpolicy.Profiles
	if err := rq.decode(&pr); err != nil {
		return err
	}
	if pr.Profiles == nil {
		pr.Profiles = []clientpolicy.Profile{}
	}
	b, err := json.Marshal(pr)
	if err != nil {
		return err
	}
	return h.saveClientPolicies(rq, func(r *realm.Realm) { r.ClientProfiles = string(b) })
}

func (h *Handler) putClientPolicies(rq *Request) error {
	var po clientpolicy.Policies
	if err := rq.decode(&po); err != nil {
		return err
	}
	if po.Policies == nil {
		po.Policies = []clientpolicy.Policy{}
	}
	b, err := json.Marshal(po)
	if err != nil {
		return err
	}
	return h.saveClientPolicies(rq, func(r *realm.Realm) { r.ClientPolicies = string(b) })
}

// saveClientPolicies applies edit in the realm's read-modify-write and
// stores the result only when profiles and policies are valid together (a
// policy may not name a profile that is gone).
func (h *Handler) saveClientPolicies(rq *Request, edit func(*realm.Realm)) error {
	err := h.Store.UpdateRealm(rq.R.Context(), rq.Realm.ID, func(r *realm.Realm) error {
		edit(r)
		pr, po, err := clientpolicy.Parse(r.ClientProfiles, r.ClientPolicies)
		if err != nil {
			return err
		}
		if err := clientpolicy.ValidateProfiles(pr); err != nil {
			return badRequest(err.Error())
		}
		if err := clientpolicy.ValidatePolicies(po, pr); err != nil {
			return badRequest(err.Error())
		}
		return nil
	})
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// applyClientPolicies runs the realm's client policies on a client being
// created or updated (clientpolicy.Set.OnSave).
func (rq *Request) applyClientPolicies(c *client.Client) error {
	set, err := clientpolicy.FromRealm(rq.Realm.ClientProfiles, rq.Realm.ClientPolicies)
	if err != nil {
		return err
	}
	err = set.OnSave(c)
	var pe *clientpolicy.Error
	if errors.As(err, &pe) {
		return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": pe.Code, "error_description": pe.Description}}
	}
	return err
}
