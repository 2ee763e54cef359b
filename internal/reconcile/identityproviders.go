package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// identityProviders makes the realm's identity providers (matched by
// alias) and their mappers (by provider alias and name) those of the file,
// when the file carries the lists. A provider or mapper the file names is
// taken whole; a secret the file gives as the mask keeps the stored one.
// Deleting a provider under --prune takes its mappers and users' links.
func (r *run) identityProviders(ctx context.Context) error {
	if r.x.IdentityProviders == nil && r.x.IdentityProviderMappers == nil {
		return nil
	}
	list, err := r.tx.ListIdentityProviders(ctx, r.realm.ID)
	if err != nil {
		return err
	}
	cur := map[string]idp.Provider{}
	for _, p := range list {
		cur[p.Alias] = p
	}
	kinds := map[string]string{}
	for _, p := range list {
		kinds[p.Alias] = p.ProviderID
	}
	if r.x.IdentityProviders != nil {
		named := map[string]bool{}
		for i, xp := range r.x.IdentityProviders {
			path := fmt.Sprintf("$.identityProviders[%d]", i)
			want := xp.ToDomain()
			named[want.Alias] = true
			old, exists := cur[want.Alias]
			if exists {
				want.InternalID = old.InternalID
				idp.KeepMaskedSecrets(want.Config, old.Config)
			}
			if err := rep.CheckProvider(ctx, r.tx, r.realm, want); idp.IsValidationError(err) {
				return fileErr(path, "%v", err)
			} else if err != nil {
				return err
			}
			kinds[want.Alias] = want.ProviderID
			if !exists {
				if _, err := r.tx.CreateIdentityProvider(ctx, r.realm.ID, want); err != nil {
					if errors.Is(err, store.ErrConflict) {
						return fileErr(path+".alias", "identity provider %s is there twice", want.Alias)
					}
					return err
				}
				r.note(Create, KindIdentityProvider, want.Alias)
				continue
			}
			fields := diff(rep.IdentityProviderFromDomain(old), rep.IdentityProviderFromDomain(want), "internalId")
			if len(fields) == 0 {
				continue
			}
			if err := r.tx.UpdateIdentityProvider(ctx, r.realm.ID, old.Alias, func(p *idp.Provider) error { *p = want; return nil }); err != nil {
				return err
			}
			r.note(Update, KindIdentityProvider, want.Alias, fields...)
		}
		if r.opts.Prune {
			for _, p := range list {
				if named[p.Alias] {
					continue
				}
				if err := adminperm.DeleteIdentityProvider(ctx, r.tx, r.realm.ID, p.Alias); err != nil {
					return err
				}
				delete(kinds, p.Alias)
				r.note(Delete, KindIdentityProvider, p.Alias)
			}
		}
	}
	if r.x.IdentityProviderMappers == nil {
		return nil
	}
	existing, err := r.tx.ListRealmIdentityProviderMappers(ctx, r.realm.ID)
	if err != nil {
		return err
	}
	curM := map[string]idp.Mapper{}
	for _, m := range existing {
		curM[m.IdentityProviderAlias+"/"+m.Name] = m
	}
	named := map[string]bool{}
	for i, xm := range r.x.IdentityProviderMappers {
		path := fmt.Sprintf("$.identityProviderMappers[%d]", i)
		want := xm.ToDomain()
		key := want.IdentityProviderAlias + "/" + want.Name
		named[key] = true
		kind, ok := kinds[want.IdentityProviderAlias]
		if !ok {
			return fileErr(path+".identityProviderAlias", "identity provider %s is not among the realm's", want.IdentityProviderAlias)
		}
		if _, err := rep.CheckProviderMapper(ctx, r.tx, r.realm.ID, kind, want); idp.IsValidationError(err) {
			return fileErr(path, "%v", err)
		} else if err != nil {
			return err
		}
		old, exists := curM[key]
		if !exists {
			if _, err := r.tx.CreateIdentityProviderMapper(ctx, r.realm.ID, want); err != nil {
				if errors.Is(err, store.ErrConflict) {
					return fileErr(path+".name", "mapper %s is there twice, or its id is taken", key)
				}
				return err
			}
			r.note(Create, KindIdentityProviderMapper, key)
			continue
		}
		want.ID = old.ID
		fields := diff(rep.IdentityProviderMapperFromDomain(old), rep.IdentityProviderMapperFromDomain(want), "id")
		if len(fields) == 0 {
			continue
		}
		if err := r.tx.UpdateIdentityProviderMapper(ctx, r.realm.ID, old.ID, func(m *idp.Mapper) error { *m = want; return nil }); err != nil {
			return err
		}
		r.note(Update, KindIdentityProviderMapper, key, fields...)
	}
	if r.opts.Prune {
		for _, m := range existing {
			key := m.IdentityProviderAlias + "/" + m.Name
			if named[key] {
				continue
			}
			if err := r.tx.DeleteIdentityProviderMapper(ctx, r.realm.ID, m.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err // a pruned provider took its mappers already
			}
			if _, kept := kinds[m.IdentityProviderAlias]; kept {
				r.note(Delete, KindIdentityProviderMapper, key)
			}
		}
	}
	return nil
}
