package admin

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/regpolicy"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Components: the realm's key providers, its client registration
// policies (regpolicies.go) and its user storage providers with their
// mappers (userstorage.go), the last two found by id before the keys. Each realm key is one component whose id is the key's id; creating
// one generates or imports a key (every provider in keys.Providers),
// updating one changes its name, priority, algorithm and whether it is
// active (signs) and enabled (verifies), or makes a new key when its size,
// curve or imported material changes, and deleting one deletes the key.
// Rotation is adding a key with a higher priority and then making the old
// one passive: tokens it signed still verify until it is disabled or
// deleted.
//
// A change that would leave the realm without an active, enabled RS256 or
// HS512 key is refused: the realm could no longer issue tokens.
func (h *Handler) componentRoutes(mux Mux) {
	const base = "/admin/realms/{realm}/components"
	h.handle(mux, "GET "+base, "view-realm", h.listComponents)
	h.handle(mux, "POST "+base, "manage-realm", h.createComponent)
	h.handle(mux, "GET "+base+"/{id}", "view-realm", h.getComponent)
	h.handle(mux, "PUT "+base+"/{id}", "manage-realm", h.updateComponent)
	h.handle(mux, "DELETE "+base+"/{id}", "manage-realm", h.deleteComponent)
}

// KeyProviderType is Keycloak's providerType of key providers.
const KeyProviderType = "org.keycloak.keys.KeyProvider"

// componentRep is Keycloak's ComponentRepresentation of a key provider. It
// never carries private keys or secrets.
type componentRep struct {
	ID           string              `json:"id,omitempty"`
	Name         string              `json:"name,omitempty"`
	ProviderID   string              `json:"providerId,omitempty"`
	ProviderType string              `json:"providerType,omitempty"`
	ParentID     string              `json:"parentId,omitempty"`
	SubType      string              `json:"subType,omitempty"`
	Config       map[string][]string `json:"config,omitempty"`
}

var errComponentNotFound = notFound("Could not find component")

func keyComponent(k keys.Key) componentRep {
	return componentRep{
		ID: k.ID, Name: k.DisplayName(), ProviderID: k.ProviderID, ProviderType: KeyProviderType, ParentID: k.RealmID,
		Config: keys.AdminConfig(k),
	}
}

// configError turns a refused key provider setting into Keycloak's 400.
func configError(err error) error {
	if ce, ok := errors.AsType[*keys.ConfigError](err); ok {
		return badRequest(ce.Msg)
	}
	return err
}

func (h *Handler) listComponents(rq *Request) error {
	out := []componentRep{}
	q := rq.R.URL.Query()
	typ, parent, name := q.Get("type"), q.Get("parent"), q.Get("name")
	stored, err := h.listStoredComponents(rq, typ, parent, name)
	if err != nil {
		return err
	}
	if parent != "" && parent != rq.Realm.ID && parent != rq.Realm.Name {
		// Only stored components (mappers) have another parent than the realm.
		return rq.JSON(append(out, stored...))
	}
	out = append(out, listPolicies(rq)...)
	out = append(out, stored...)
	if typ != "" && typ != KeyProviderType {
		return rq.JSON(out)
	}
	ks, err := h.Store.ListKeys(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return err
	}
	for _, k := range ks {
		if name != "" && name != k.DisplayName() {
			continue
		}
		out = append(out, keyComponent(k))
	}
	return rq.JSON(out)
}

// findKey returns the realm's keys and the index of the one with id.
func (h *Handler) findKey(rq *Request) ([]keys.Key, int, error) {
	return findKeyIn(rq, h.Store)
}

func findKeyIn(rq *Request, db *store.DB) ([]keys.Key, int, error) {
	ks, err := db.ListKeys(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return nil, 0, err
	}
	id := rq.R.PathValue("id")
	for i, k := range ks {
		if k.ID == id {
			return ks, i, nil
		}
	}
	return nil, 0, errComponentNotFound
}

func (h *Handler) getComponent(rq *Request) error {
	ps := regpolicy.Of(rq.Realm)
	if i := findPolicy(ps, rq.R.PathValue("id")); i >= 0 {
		return rq.JSON(policyComponent(rq.Realm, ps[i]))
	}
	if found, err := h.getStoredComponent(rq); found || err != nil {
		return err
	}
	ks, i, err := h.findKey(rq)
	if err != nil {
		return err
	}
	return rq.JSON(keyComponent(ks[i]))
}

// checkSigning refuses a change (after is the realm's keys with it) that
// leaves no active, enabled RS256 or HS512 key where there was one.
func checkSigning(before, after []keys.Key) error {
	for _, alg := range []string{keys.RS256, keys.HS512} {
		if _, had := keys.Active(before, alg); !had {
			continue
		}
		if _, has := keys.Active(after, alg); !has {
			return badRequest("The realm needs at least one active and enabled " + alg + " key: add another one first")
		}
	}
	return nil
}

func (h *Handler) createComponent(rq *Request) error {
	var in componentRep
	if err := rq.decode(&in); err != nil {
		return err
	}
	if in.ProviderType == regpolicy.ProviderType {
		return h.createPolicy(rq, in)
	}
	if storedComponentType(in.ProviderType) {
		return h.createStoredComponent(rq, in)
	}
	if in.ProviderType != "" && in.ProviderType != KeyProviderType {
		return badRequest("Unsupported providerType " + in.ProviderType)
	}
	if in.ParentID != "" && in.ParentID != rq.Realm.ID && in.ParentID != rq.Realm.Name {
		return badRequest("Invalid parentId")
	}
	if !slices.Contains(keys.Providers, in.ProviderID) {
		return badRequest("Unsupported key provider " + strconv.Quote(in.ProviderID) + ": use one of " + strings.Join(keys.Providers, ", "))
	}
	k, err := keys.FromComponent("", keys.Params{ProviderID: in.ProviderID, Name: in.Name, Config: in.Config}, rq.Realm.Name, rq.Now())
	if err != nil {
		return configError(err)
	}
	k.RealmID = rq.Realm.ID
	if w := k.Weakness(); w != "" {
		h.Log.Warn("weak realm key added", "realm", rq.Realm.Name, "kid", k.Kid, "reason", w)
	}
	if err := h.Store.CreateKey(rq.R.Context(), k); err != nil {
		return err
	}
	return rq.Created(rq.URL("/components/" + k.ID))
}

func (h *Handler) updateComponent(rq *Request) error {
	var in componentRep
	if err := rq.decode(&in); err != nil {
		return err
	}
	if found, err := h.updatePolicy(rq, in); found || err != nil {
		if err != nil {
			return err
		}
		return rq.NoContent()
	}
	if found, err := h.updateStoredComponent(rq, in); found || err != nil {
		if err != nil {
			return err
		}
		return rq.NoContent()
	}
	return h.withKeysLocked(rq, func(tx *store.DB) error {
		return updateKeyIn(rq, tx, in)
	})
}

// withKeysLocked runs fn in a transaction holding the realm's row lock, so
// two concurrent changes cannot both pass the "keep one signing key" check
// and together leave the realm without one.
func (h *Handler) withKeysLocked(rq *Request, fn func(tx *store.DB) error) error {
	ctx := rq.R.Context()
	return h.Store.InTx(ctx, func(tx *store.DB) error {
		if err := tx.UpdateRealm(ctx, rq.Realm.ID, func(*realm.Realm) error { return nil }); err != nil {
			return err
		}
		return fn(tx)
	})
}

func updateKeyIn(rq *Request, tx *store.DB, in componentRep) error {
	ks, i, err := findKeyIn(rq, tx)
	if err != nil {
		return err
	}
	if in.ID != "" && in.ID != ks[i].ID {
		return badRequest("Component id does not match the path")
	}
	if in.ProviderID != "" && in.ProviderID != ks[i].ProviderID {
		return badRequest("The providerId of a component cannot change")
	}
	k := ks[i]
	if keys.MaterialChanged(k, in.Config) {
		// Settings that decide the key (size, curve, imported material)
		// make a new one under the same component, as Keycloak does.
		merged := keys.AdminConfig(k)
		maps.Copy(merged, in.Config)
		name := in.Name
		if name == "" {
			name = k.DisplayName()
		}
		fresh, err := keys.FromComponent(k.ID, keys.Params{ProviderID: k.ProviderID, Name: name, Config: merged}, rq.Realm.Name, rq.Now())
		if err != nil {
			return configError(err)
		}
		fresh.RealmID = k.RealmID
		k = fresh
	} else {
		if err := keys.ApplyState(in.Config, &k); err != nil {
			return configError(err)
		}
		if err := keys.Retarget(&k, in.Config); err != nil {
			return configError(err)
		}
		if in.Name != "" {
			k.Name = in.Name
		}
	}
	after := append([]keys.Key(nil), ks...)
	after[i] = k
	if err := checkSigning(ks, after); err != nil {
		return err
	}
	err = tx.ReplaceKey(rq.R.Context(), k)
	if errors.Is(err, store.ErrNotFound) {
		return errComponentNotFound
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}

func (h *Handler) deleteComponent(rq *Request) error {
	if found, err := h.deletePolicy(rq); found || err != nil {
		if err != nil {
			return err
		}
		return rq.NoContent()
	}
	if found, err := h.deleteStoredComponent(rq); found || err != nil {
		if err != nil {
			return err
		}
		return rq.NoContent()
	}
	return h.withKeysLocked(rq, func(tx *store.DB) error { return deleteKeyIn(rq, tx) })
}

func deleteKeyIn(rq *Request, tx *store.DB) error {
	ks, i, err := findKeyIn(rq, tx)
	if err != nil {
		return err
	}
	after := append(append([]keys.Key(nil), ks[:i]...), ks[i+1:]...)
	if err := checkSigning(ks, after); err != nil {
		return err
	}
	err = tx.DeleteKey(rq.R.Context(), rq.Realm.ID, ks[i].ID)
	if errors.Is(err, store.ErrNotFound) {
		return errComponentNotFound
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}
