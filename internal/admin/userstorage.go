package admin

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/store"
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
// ldap.MaskedSecret, and an update sending the mask keeps the stored value.
// Deleting a provider deletes its mappers and the users imported from it.

// storedComponentType reports whether providerType is kept in the
// components table.
func storedComponentType(providerType string) bool {
	return providerType == ldap.ProviderType || providerType == ldap.MapperProviderType
}

// secretKeys are the config keys of a component type never shown.
func secretKeys(providerType string) []string {
	if providerType == ldap.ProviderType {
		return []string{ldap.KeyBindCredential}
	}
	return nil
}

// MaskComponentSecrets returns cfg with every secret of the component type
// replaced by ldap.MaskedSecret (an empty secret stays empty): what reads
// and partial exports show.
func MaskComponentSecrets(providerType string, cfg map[string][]string) map[string][]string {
	out := make(map[string][]string, len(cfg))
	for k, v := range cfg {
		out[k] = slices.Clone(v)
	}
	for _, k := range secretKeys(providerType) {
		for i, v := range out[k] {
			if v != "" {
				out[k][i] = ldap.MaskedSecret
			}
		}
	}
	return out
}

// keepMaskedSecrets puts the stored value back wherever an update sent the
// mask for a secret.
func keepMaskedSecrets(providerType string, stored, in map[string][]string) {
	for _, k := range secretKeys(providerType) {
		if v := in[k]; len(v) == 1 && v[0] == ldap.MaskedSecret {
			in[k] = slices.Clone(stored[k])
		}
	}
}

func storedComponentRep(c store.Component) componentRep {
	return componentRep{ID: c.ID, Name: c.Name, ProviderID: c.ProviderID, ProviderType: c.ProviderType,
		ParentID: c.ParentID, SubType: c.SubType, Config: MaskComponentSecrets(c.ProviderType, c.Config)}
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

// checkProvider refuses a provider the ldap package cannot run.
func checkProvider(in componentRep) (ldap.Config, error) {
	if in.ProviderID != ldap.ProviderID {
		return ldap.Config{}, badRequest("Unsupported user storage provider " + quoteID(in.ProviderID) + ": only ldap is available")
	}
	cfg, err := ldap.Parse(in.Config)
	if ce, ok := errors.AsType[*ldap.ConfigError](err); ok {
		return cfg, badRequest(ce.Msg)
	}
	return cfg, err
}

func quoteID(s string) string { return "'" + s + "'" }

// mapperRequired are, per mapper type, the config keys that must be set
// and the names administrators know them by.
var mapperRequired = map[string][][2]string{
	ldap.MapperUserAttribute:      {{"user.model.attribute", "User Model Attribute"}, {"ldap.attribute", "LDAP Attribute"}},
	ldap.MapperFullName:           {{"ldap.full.name.attribute", "LDAP Full Name Attribute"}},
	ldap.MapperHardcodedRole:      {{"role", "Role"}},
	ldap.MapperHardcodedAttribute: {{"ldap.attribute.name", "LDAP Attribute Name"}, {"ldap.attribute.value", "LDAP Attribute Value"}},
	ldap.MapperHardcodedGroup:     {{"group", "Group"}},
	ldap.MapperGroup:              {{"groups.dn", "LDAP Groups DN"}},
	ldap.MapperRole:               {{"roles.dn", "LDAP Roles DN"}},
	ldap.MapperCertificate:        {{"user.model.attribute", "User Model Attribute"}, {"ldap.attribute", "LDAP Attribute"}},
	ldap.MapperMSADAccountControl: {},
}

// checkMapper refuses a mapper of an unknown type or missing a mandatory
// setting.
func checkMapper(in componentRep) error {
	req, ok := mapperRequired[in.ProviderID]
	if !ok {
		return badRequest("Unsupported LDAP mapper " + quoteID(in.ProviderID))
	}
	for _, r := range req {
		if v := in.Config[r[0]]; len(v) == 0 || strings.TrimSpace(v[0]) == "" {
			return badRequest("Missing configuration for '" + r[1] + "'")
		}
	}
	return nil
}

// parentProvider returns the realm's LDAP provider with id.
func parentProvider(ctx context.Context, db *store.DB, realmID, id string) (store.Component, error) {
	p, err := db.GetComponent(ctx, realmID, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && p.ProviderType != ldap.ProviderType {
		return store.Component{}, badRequest("Invalid parentId: no user storage provider " + quoteID(id))
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
			cfg, err := checkProvider(in)
			if err != nil {
				return err
			}
			if err := tx.CreateComponent(ctx, c); err != nil {
				return err
			}
			for _, m := range ldap.DefaultMappers(cfg) {
				mc := store.Component{ID: m.ID, RealmID: rq.Realm.ID, ParentID: c.ID, Name: m.Name, ProviderID: m.ProviderID,
					ProviderType: ldap.MapperProviderType, Config: m.Config}
				if mc.ID == "" {
					mc.ID = store.NewID()
				}
				if err := tx.CreateComponent(ctx, mc); err != nil {
					return err
				}
			}
			return nil
		default: // a mapper
			if _, err := parentProvider(ctx, tx, rq.Realm.ID, c.ParentID); err != nil {
				return err
			}
			if err := checkMapper(in); err != nil {
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
			keepMaskedSecrets(c.ProviderType, c.Config, in.Config)
			c.Config = in.Config
		}
		check := componentRep{ProviderID: c.ProviderID, Config: c.Config}
		if c.ProviderType == ldap.ProviderType {
			_, err = checkProvider(check)
		} else {
			err = checkMapper(check)
		}
		if err != nil {
			return err
		}
		return tx.UpdateComponent(ctx, c)
	})
	if errors.Is(err, store.ErrNotFound) {
		if found {
			return true, errComponentNotFound
		}
		return false, nil
	}
	return true, err
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
	if errors.Is(err, store.ErrNotFound) {
		if found {
			return true, errComponentNotFound
		}
		return false, nil
	}
	return true, err
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
