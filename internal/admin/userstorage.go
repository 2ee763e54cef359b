package admin

import (
	"context"
	"errors"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/userstorage"
)

// User storage components: LDAP providers (providerType
// ldap.ProviderType, providerId "ldap", parent the realm) and their mappers
// (ldap.MapperProviderType, parent the provider), kept in the store's
// components table and served by the same /components endpoints as key
// providers and registration policies.
//
// A provider's config is checked by ldap.Parse before anything is stored; a
// new provider gets ldap.DefaultMappers in the same transaction. The bind
// password (bindCredential) is never given back: reads show
// secret.Mask, and an update sending the mask keeps the stored value.
// Deleting a provider deletes its mappers and the users imported from it.

// storedComponentType reports whether providerType is kept in the
// components table.
func storedComponentType(providerType string) bool { return userstorage.Stored(providerType) }

func storedComponentRep(c store.Component) componentRep {
	return componentRep{ID: c.ID, Name: c.Name, ProviderID: c.ProviderID, ProviderType: c.ProviderType,
		ParentID: c.ParentID, SubType: c.SubType, Config: userstorage.Mask(c.ProviderType, c.Config)}
}

// listStoredComponents lists stored components by the list call's type,
// parent and name filters.
func (h *Handler) listStoredComponents(rq *Request, typ, parent, name string) ([]componentRep, error) {
	if typ != "" && !storedComponentType(typ) {
		return nil, nil
	}
	if parent == rq.Realm.Name {
		parent = rq.Realm.ID
	}
	cs, err := h.Store.ListComponents(rq.R.Context(), rq.Realm.ID, typ, parent)
	if err != nil {
		return nil, err
	}
	var out []componentRep
	for _, c := range cs {
		if name != "" && c.Name != name {
			continue
		}
		out = append(out, storedComponentRep(c))
	}
	return out, nil
}

// componentErr turns a refused user storage setting into Keycloak's 400.
func componentErr(err error) error {
	if ce, ok := errors.AsType[*userstorage.ConfigError](err); ok {
		return badRequest(ce.Msg)
	}
	return err
}

// parentProvider returns the realm's LDAP provider with id.
func parentProvider(ctx context.Context, db *store.DB, realmID, id string) (store.Component, error) {
	p, err := db.GetComponent(ctx, realmID, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && p.ProviderType != ldap.ProviderType {
		return store.Component{}, badRequest("Invalid parentId: no user storage provider '" + id + "'")
	}
	return p, err
}

func (h *Handler) createStoredComponent(rq *Request, in componentRep) error {
	ctx := rq.R.Context()
	if in.Config == nil {
		in.Config = map[string][]string{}
	}
	c := store.Component{ID: in.ID, RealmID: rq.Realm.ID, ParentID: in.ParentID, Name: in.Name, ProviderID: in.ProviderID,
		ProviderType: in.ProviderType, SubType: in.SubType, Config: in.Config}
	if c.ID == "" {
		c.ID = store.NewID()
	}
	err := h.Store.InTx(ctx, func(tx *store.DB) error {
		switch in.ProviderType {
		case ldap.ProviderType:
			if c.ParentID == "" || c.ParentID == rq.Realm.Name {
				c.ParentID = rq.Realm.ID
			}
			if c.ParentID != rq.Realm.ID {
				return badRequest("Invalid parentId")
			}
			cfg, err := userstorage.CheckProvider(c.ProviderID, c.Config)
			if err != nil {
				return componentErr(err)
			}
			if err := tx.CreateComponent(ctx, c); err != nil {
				return err
			}
			for _, mc := range userstorage.DefaultMappers(c, cfg) {
				if err := tx.CreateComponent(ctx, mc); err != nil {
					return err
				}
			}
			return nil
		default: // a mapper
			parent, err := parentProvider(ctx, tx, rq.Realm.ID, c.ParentID)
			if err != nil {
				return err
			}
			if err := userstorage.CheckMapper(parent, c); err != nil {
				return componentErr(err)
			}
			if err := rq.requireMapperConfer(ctx, tx, c); err != nil {
				return err
			}
			return tx.CreateComponent(ctx, c)
		}
	})
	if errors.Is(err, store.ErrConflict) {
		return conflict("Component with id %s already exists", c.ID)
	}
	if err != nil {
		return err
	}
	return rq.Created(rq.URL("/components/" + c.ID))
}

// updateStoredComponent updates a stored component; found is false when
// the id names none.
func (h *Handler) updateStoredComponent(rq *Request, in componentRep) (found bool, err error) {
	ctx := rq.R.Context()
	id := rq.R.PathValue("id")
	err = h.Store.InTx(ctx, func(tx *store.DB) error {
		c, err := tx.GetComponent(ctx, rq.Realm.ID, id)
		if err != nil {
			return err
		}
		found = true
		if in.ID != "" && in.ID != c.ID {
			return badRequest("Component id does not match the path")
		}
		if in.ProviderID != "" && in.ProviderID != c.ProviderID {
			return badRequest("The providerId of a component cannot change")
		}
		if in.ProviderType != "" && in.ProviderType != c.ProviderType {
			return badRequest("The providerType of a component cannot change")
		}
		if in.ParentID != "" && in.ParentID != c.ParentID && !(c.ParentID == rq.Realm.ID && in.ParentID == rq.Realm.Name) {
			return badRequest("The parentId of a component cannot change")
		}
		if in.Name != "" {
			c.Name = in.Name
		}
		if in.SubType != "" {
			c.SubType = in.SubType
		}
		if in.Config != nil {
			if err := userstorage.KeepMasked(c.ProviderType, c.Config, in.Config); err != nil {
				return componentErr(err)
			}
			c.Config = in.Config
		}
		if c.ProviderType == ldap.ProviderType {
			_, err = userstorage.CheckProvider(c.ProviderID, c.Config)
		} else {
			var parent store.Component
			if parent, err = tx.GetComponent(ctx, rq.Realm.ID, c.ParentID); err == nil {
				err = userstorage.CheckMapper(parent, c)
			}
		}
		if err != nil {
			return componentErr(err)
		}
		if err := rq.requireMapperConfer(ctx, tx, c); err != nil {
			return err
		}
		return tx.UpdateComponent(ctx, c)
	})
	return storedOutcome(found, err)
}

// deleteStoredComponent deletes a stored component; found is false when
// the id names none. A provider takes its mappers and its imported users
// with it.
func (h *Handler) deleteStoredComponent(rq *Request) (found bool, err error) {
	ctx := rq.R.Context()
	id := rq.R.PathValue("id")
	err = h.Store.InTx(ctx, func(tx *store.DB) error {
		c, err := tx.GetComponent(ctx, rq.Realm.ID, id)
		if err != nil {
			return err
		}
		found = true
		if c.ProviderType == ldap.ProviderType {
			if _, err := tx.DeleteFederatedUsers(ctx, rq.Realm.ID, c.ID); err != nil {
				return err
			}
		}
		return tx.DeleteComponent(ctx, rq.Realm.ID, id)
	})
	return storedOutcome(found, err)
}

// getStoredComponent answers a stored component; found is false when the
// id names none.
func (h *Handler) getStoredComponent(rq *Request) (bool, error) {
	c, err := h.Store.GetComponent(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	return true, rq.JSON(storedComponentRep(c))
}

// storedOutcome is what an update or delete of a stored component reports:
// not found at all (another kind of component may have the id), gone
// meanwhile, or done.
func storedOutcome(found bool, err error) (bool, error) {
	if errors.Is(err, store.ErrNotFound) {
		if found {
			return true, errComponentNotFound
		}
		return false, nil
	}
	return true, err
}
