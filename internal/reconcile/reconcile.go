// Package reconcile makes a realm match a realm file, declaratively: it
// creates what the file lists and the realm lacks, updates what differs,
// and, when asked to prune, deletes what the file's lists no longer name.
// It is "gatehouse import --mode reconcile" and "--import-mode reconcile" at
// start, the answer to Keycloak's --import-realm, which skips any realm that
// exists.
//
// The rules, chosen so that a file from version control can be applied on
// every deploy:
//
//   - Objects are matched by their names, never their ids: client scopes
//     and realm roles by name, clients by clientId, client roles by clientId
//     and name, groups by path, users by username. Ids in the file are used
//     when an object is created; an existing object keeps its id.
//   - A property the file leaves out keeps its value, as in Keycloak's
//     partial updates; one the file sets is compared through the Keycloak
//     representation, ignoring order in lists and the ids the file does not
//     set. A list of role mappings, group memberships, composites or scope
//     links that the file sets is the whole list: extra entries go.
//   - A collection the file leaves out (no "users" key, say) is not managed;
//     --prune deletes only within collections the file carries, and never
//     built-in clients, their roles, built-in realm roles or built-in client
//     scopes, nor service-account users (they go with their client).
//   - Credentials change only when the file carries some for the user and
//     they differ: a plain "value" is checked against the stored hash, a
//     hash is compared as stored. A user's password is otherwise never
//     touched, and sessions are never touched at all (deleting a user or
//     client under --prune ends theirs, as it must).
//   - Realm keys (components) are only read when the realm is created.
//
// Everything happens in one transaction: the plan is computed by applying
// it, and a dry run rolls the transaction back, so the plan shown is exactly
// what a real run does. Applying the same file twice gives an empty plan the
// second time.
package reconcile

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Options say how far a reconcile goes.
type Options struct {
	Prune  bool      // delete what the file's lists no longer name
	DryRun bool      // compute and return the plan, write nothing
	Now    time.Time // creation times; required
}

// Op is what a change does to an object.
type Op string

const (
	Create Op = "create"
	Update Op = "update"
	Delete Op = "delete"
)

// Kind names a type of object, in the order plans list them.
type Kind string

const (
	KindRealm       Kind = "realm"
	KindClientScope Kind = "client-scope"
	KindClient      Kind = "client"
	KindRealmRole   Kind = "realm-role"
	KindClientRole  Kind = "client-role"
	KindGroup       Kind = "group"
	KindUser        Kind = "user"

	KindIdentityProvider       Kind = "identity-provider"
	KindIdentityProviderMapper Kind = "identity-provider-mapper"
)

var kindOrder = []Kind{KindRealm, KindClientScope, KindClient, KindRealmRole, KindClientRole, KindGroup,
	KindIdentityProvider, KindIdentityProviderMapper, KindUser}
var opOrder = []Op{Create, Update, Delete}

// Change is one line of a plan. Name is the object's natural key: a client
// role is "<clientId>/<role>", a group its path. Fields, for an update, are
// the representation's members that differ (never their values, which may
// be secrets).
type Change struct {
	Op     Op
	Kind   Kind
	Name   string
	Fields []string
}

func (c Change) String() string {
	s := fmt.Sprintf("%s %s %q", c.Op, c.Kind, c.Name)
	if len(c.Fields) > 0 {
		s += ": " + strings.Join(c.Fields, ", ")
	}
	return s
}

// Plan is what reconciling one realm changed, or would change in a dry run,
// ordered by kind, then operation, then name.
type Plan struct {
	Realm   string
	Changes []Change
}

// Lines renders the plan one change per line.
func (p Plan) Lines() []string {
	out := make([]string, len(p.Changes))
	for i, c := range p.Changes {
		out[i] = c.String()
	}
	return out
}

// errRollback ends a dry run's transaction without committing it.
var errRollback = errors.New("dry run")

// File reconciles the realm in a realm file (Keycloak's realm format).
func File(ctx context.Context, db *store.DB, data []byte, opts Options) (Plan, error) {
	x, err := rep.DecodeRealm(data)
	if err != nil {
		return Plan{Realm: x.Realm}, err
	}
	return Realm(ctx, db, x, opts)
}

// Realm makes realm x.Realm match x, creating it when it does not exist,
// in one transaction, and returns the plan it applied.
func Realm(ctx context.Context, db *store.DB, x rep.Realm, opts Options) (Plan, error) {
	plan := Plan{Realm: x.Realm}
	if opts.Now.IsZero() {
		return plan, errors.New("reconcile: Options.Now is required")
	}
	if strings.TrimSpace(x.Realm) == "" {
		return plan, fileErr("$.realm", "the realm name is missing")
	}
	err := db.InTx(ctx, func(tx *store.DB) error {
		r := &run{tx: tx, x: x, opts: opts, changes: map[changeKey]*Change{}}
		if err := r.run(ctx); err != nil {
			return err
		}
		plan.Changes = r.sorted()
		if opts.DryRun {
			return errRollback
		}
		return nil
	})
	if errors.Is(err, errRollback) {
		err = nil
	}
	if err != nil {
		plan.Changes = nil
	}
	return plan, err
}

// fileErr is an error about a place in the file, in the importer's form.
func fileErr(path, format string, args ...any) error {
	return &rep.ImportError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

type changeKey struct {
	kind Kind
	name string
}

// run is one reconcile inside its transaction.
type run struct {
	tx      *store.DB
	x       rep.Realm
	opts    Options
	realm   realm.Realm
	changes map[changeKey]*Change
}

func (r *run) run(ctx context.Context) error {
	cur, err := r.tx.GetRealmByName(ctx, r.x.Realm)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// A new realm is imported exactly as "gatehouse import" would, keys
		// and ids included; the steps below then find nothing to do.
		if _, err := rep.Import(ctx, r.tx, r.x, rep.ImportOptions{Now: r.opts.Now}); err != nil {
			return err
		}
		r.noteFileObjects()
		if cur, err = r.tx.GetRealmByName(ctx, r.x.Realm); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	r.realm = cur
	steps := []func(context.Context) error{
		r.realmSettings, r.clientScopes, r.clients, r.roles, r.composites, r.realmDefaults, r.groups, r.identityProviders, r.users,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// note records a change. Changes to one object merge: fields of updates
// join, and a created or deleted object needs no field list.
func (r *run) note(op Op, kind Kind, name string, fields ...string) {
	k := changeKey{kind, name}
	c, ok := r.changes[k]
	if !ok {
		c = &Change{Op: op, Kind: kind, Name: name}
		r.changes[k] = c
	} else if op != Update {
		c.Op = op
	}
	if c.Op != Update {
		c.Fields = nil
		return
	}
	for _, f := range fields {
		if !slices.Contains(c.Fields, f) {
			c.Fields = append(c.Fields, f)
		}
	}
	slices.Sort(c.Fields)
}

func (r *run) sorted() []Change {
	out := make([]Change, 0, len(r.changes))
	for _, c := range r.changes {
		if c.Op == Update && len(c.Fields) == 0 {
			continue
		}
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Change) int {
		return cmp.Or(
			cmp.Compare(slices.Index(kindOrder, a.Kind), slices.Index(kindOrder, b.Kind)),
			cmp.Compare(slices.Index(opOrder, a.Op), slices.Index(opOrder, b.Op)),
			strings.Compare(a.Name, b.Name))
	})
	return out
}

// noteFileObjects lists what the file holds as created, for a new realm.
func (r *run) noteFileObjects() {
	x := r.x
	r.note(Create, KindRealm, x.Realm)
	for _, s := range x.ClientScopes {
		r.note(Create, KindClientScope, s.Name)
	}
	for _, c := range x.Clients {
		r.note(Create, KindClient, c.ClientID)
	}
	if x.Roles != nil {
		for _, ro := range x.Roles.Realm {
			r.note(Create, KindRealmRole, ro.Name)
		}
		for cid, roles := range x.Roles.Client {
			for _, ro := range roles {
				r.note(Create, KindClientRole, cid+"/"+ro.Name)
			}
		}
	}
	var walk func(gs []rep.Group, parent string)
	walk = func(gs []rep.Group, parent string) {
		for _, g := range gs {
			p := role.GroupPath(parent, g.Name)
			r.note(Create, KindGroup, p)
			walk(g.SubGroups, p)
		}
	}
	walk(x.Groups, "")
	for _, p := range x.IdentityProviders {
		r.note(Create, KindIdentityProvider, p.Alias)
	}
	for _, m := range x.IdentityProviderMappers {
		r.note(Create, KindIdentityProviderMapper, m.IdentityProviderAlias+"/"+m.Name)
	}
	for _, u := range x.Users {
		r.note(Create, KindUser, strings.ToLower(strings.TrimSpace(u.Username)))
	}
}

// realmSettings updates the realm's own settings: what Realm.ApplyTo copies.
func (r *run) realmSettings(ctx context.Context) error {
	cur := r.realm
	want := cur
	r.x.ApplyTo(&want)
	want.ID, want.Name, want.DefaultRoleID = cur.ID, cur.Name, cur.DefaultRoleID
	fields := diff(rep.RealmFromDomain(cur), rep.RealmFromDomain(want), "id", "realm", "defaultRole")
	if len(fields) == 0 {
		return nil
	}
	if err := want.Validate(); err != nil {
		return fileErr("$", "%v", err)
	}
	if err := user.CheckHashPolicy(want.PasswordPolicy); err != nil {
		return fileErr("$.passwordPolicy", "%v", err)
	}
	if err := r.tx.UpdateRealm(ctx, cur.ID, func(x *realm.Realm) error { *x = want; return nil }); err != nil {
		return err
	}
	r.realm = want
	r.note(Update, KindRealm, cur.Name, fields...)
	return nil
}

// realmDefaults sets the default role and the client scopes new clients
// get, when the file names them.
func (r *run) realmDefaults(ctx context.Context) error {
	if d := r.x.DefaultRole; d != nil && d.Name != "" {
		ro, err := r.tx.GetRealmRole(ctx, r.realm.ID, d.Name)
		if errors.Is(err, store.ErrNotFound) {
			return fileErr("$.defaultRole.name", "default role %q is not among the realm roles", d.Name)
		}
		if err != nil {
			return err
		}
		if ro.ID != r.realm.DefaultRoleID {
			if err := r.tx.UpdateRealm(ctx, r.realm.ID, func(x *realm.Realm) error { x.DefaultRoleID = ro.ID; return nil }); err != nil {
				return err
			}
			r.realm.DefaultRoleID = ro.ID
			r.note(Update, KindRealm, r.realm.Name, "defaultRole")
		}
	}
	fields, err := r.syncLinks(ctx, store.RealmDefaults, r.x.DefaultDefaultClientScopes, r.x.DefaultOptionalClientScopes,
		"defaultDefaultClientScopes", "defaultOptionalClientScopes")
	if err != nil {
		return err
	}
	r.note(Update, KindRealm, r.realm.Name, fields...)
	return nil
}

// diff returns the members of two representations that differ, skipping
// ignore. Lists compare as sets, and an empty list or map equals a missing
// one: Keycloak's order carries no meaning there, and the domain does not
// tell empty from absent.
func diff(cur, want any, ignore ...string) []string {
	a, b := members(cur), members(want)
	var out []string
	for k := range a {
		if _, ok := b[k]; !ok {
			b[k] = nil
		}
	}
	for k, v := range b {
		if slices.Contains(ignore, k) {
			continue
		}
		if !reflect.DeepEqual(canonical(a[k]), canonical(v)) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func members(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("reconcile: marshal %T: %v", v, err))
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("reconcile: unmarshal %T: %v", v, err))
	}
	return m
}

// canonical sorts lists and drops empty ones, recursively.
func canonical(v any) any {
	switch t := v.(type) {
	case []any:
		if len(t) == 0 {
			return nil
		}
		items := make([]any, len(t))
		keys := make([]string, len(t))
		for i, e := range t {
			items[i] = canonical(e)
			b, _ := json.Marshal(items[i])
			keys[i] = string(b)
		}
		idx := make([]int, len(t))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(i, j int) int { return strings.Compare(keys[i], keys[j]) })
		out := make([]any, len(t))
		for i, j := range idx {
			out[i] = items[j]
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range t {
			if c := canonical(e); c != nil {
				out[k] = c
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return v
}

// sameSet reports whether two id lists hold the same ids.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// minus returns the ids of a that are not in b.
func minus(a, b []string) []string {
	var out []string
	for _, id := range a {
		if !slices.Contains(b, id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
