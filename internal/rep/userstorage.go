package rep

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/userstorage"
)

// userStorage imports the file's user storage providers with their mapper
// sub-components, ids kept so that users' federationLink still names their
// provider. Each is checked as the admin API checks it; a file's provider
// comes with the mappers it lists and no others. Providers Gatehouse cannot
// run (kerberos, custom ones) are reported and left out.
func (im *importer) userStorage(ctx context.Context) error {
	for i, c := range im.x.Components[ldap.ProviderType] {
		path := fmt.Sprintf("$.components[%q][%d]", ldap.ProviderType, i)
		if c.ProviderID != ldap.ProviderID {
			im.warn(path, "user storage provider %q is not supported and not imported", c.ProviderID)
			continue
		}
		p := store.Component{ID: c.ID, RealmID: im.realm.ID, ParentID: im.realm.ID, Name: c.Name, ProviderID: c.ProviderID,
			ProviderType: ldap.ProviderType, SubType: c.SubType, Config: c.Config}
		if p.ID == "" {
			p.ID = store.NewID()
		}
		if err := im.storeComponent(ctx, p, path, func() error {
			_, err := userstorage.CheckProvider(p.ProviderID, p.Config)
			return err
		}); err != nil {
			return err
		}
		if v := c.Config[ldap.KeyBindCredential]; len(v) == 1 && v[0] == secret.Mask {
			im.warn(path, "the bind credential was masked in the file: set it before the provider can bind")
		}
		// A mapper listed with part of its settings takes the others from
		// the default mapper of the same name and type, as a file written
		// to adjust the default mappers expects.
		defaults := map[[2]string]map[string][]string{}
		if cfg, err := ldap.Parse(p.Config); err == nil {
			for _, d := range userstorage.DefaultMappers(p, cfg) {
				defaults[[2]string{d.ProviderID, d.Name}] = d.Config
			}
		}
		for _, t := range sortedKeys(c.SubComponents) {
			for j, m := range c.SubComponents[t] {
				mpath := fmt.Sprintf("%s.subComponents[%q][%d]", path, t, j)
				if t != ldap.MapperProviderType {
					im.warn(mpath, "component type %q under a user storage provider is not imported", t)
					continue
				}
				mc := store.Component{ID: m.ID, RealmID: im.realm.ID, ParentID: p.ID, Name: m.Name, ProviderID: m.ProviderID,
					ProviderType: ldap.MapperProviderType, SubType: m.SubType, Config: map[string][]string{}}
				for k, v := range defaults[[2]string{m.ProviderID, m.Name}] {
					mc.Config[k] = v
				}
				for k, v := range m.Config {
					mc.Config[k] = v
				}
				if err := im.storeComponent(ctx, mc, mpath, func() error { return userstorage.CheckMapper(p, mc) }); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (im *importer) storeComponent(ctx context.Context, c store.Component, path string, check func() error) error {
	if c.ID == "" {
		c.ID = store.NewID()
	}
	if c.Config == nil {
		c.Config = map[string][]string{}
	}
	if err := check(); err != nil {
		return importErr(path, "%v", err)
	}
	err := im.tx.CreateComponent(ctx, c)
	if errors.Is(err, store.ErrConflict) {
		return importErr(path+".id", "component id %q is used by another component", c.ID)
	}
	return err
}

// exportUserStorage is the realm's user storage providers (those whose
// parent is the realm) with their mappers as sub-components, as a realm
// export holds them; secrets are included, as in the rest of a full
// export.
func exportUserStorage(ctx context.Context, tx *store.DB, realmID string) ([]Component, error) {
	all, err := tx.ListComponents(ctx, realmID, "", "")
	if err != nil {
		return nil, err
	}
	var out []Component
	for _, p := range all {
		if p.ProviderType != ldap.ProviderType || p.ParentID != realmID {
			continue
		}
		x := Component{ID: p.ID, Name: p.Name, ProviderID: p.ProviderID, SubType: p.SubType, SubComponents: map[string][]Component{}, Config: p.Config}
		for _, m := range all {
			if m.ParentID == p.ID {
				x.SubComponents[m.ProviderType] = append(x.SubComponents[m.ProviderType], Component{ID: m.ID, Name: m.Name,
					ProviderID: m.ProviderID, SubType: m.SubType, SubComponents: map[string][]Component{}, Config: m.Config})
			}
		}
		for _, subs := range x.SubComponents {
			slices.SortFunc(subs, func(a, b Component) int { return cmpNameID(a, b) })
		}
		out = append(out, x)
	}
	slices.SortFunc(out, cmpNameID)
	return out, nil
}

func cmpNameID(a, b Component) int {
	switch {
	case a.Name < b.Name:
		return -1
	case a.Name > b.Name:
		return 1
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}
