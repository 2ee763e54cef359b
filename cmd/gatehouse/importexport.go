package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/reconcile"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// exportSuffix names the files export --dir writes and Keycloak's kc.sh
// export writes: <realm>-realm.json.
const exportSuffix = "-realm.json"

// runImport is "gatehouse import": one file or every *.json in a directory.
// A realm that exists is an error unless --override, so a mistyped command
// cannot silently replace production data. With --mode reconcile each realm
// is made to match its file instead, and the plan is printed to stdout.
func runImport(ctx context.Context, cfg config.Config, log *slog.Logger, stdout, stderr io.Writer) int {
	db, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: open database: %s\n", oneLine(err.Error()))
		return exitFail
	}
	defer db.Close()
	opts := importOptions(cfg, false, time.Now())
	opts.plan = stdout
	if cfg.File != "" {
		err = importFile(ctx, log, db, cfg.File, opts)
	} else {
		err = importDir(ctx, log, db, cfg.Dir, opts)
	}
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %s\n", oneLine(err.Error()))
		return exitFail
	}
	return exitOK
}

// realmImport says how realm files are applied.
type realmImport struct {
	create rep.ImportOptions
	// reconcile, when set, makes each realm match its file (--mode
	// reconcile, or --import-mode reconcile at start) instead.
	reconcile *reconcile.Options
	// plan receives a reconcile's plan, one change per line; nil logs it.
	plan io.Writer
}

// importOptions reads the import options of cfg: the import command's, or
// with atStart those of --import-realm, which skips existing realms unless
// told to reconcile them.
func importOptions(cfg config.Config, atStart bool, now time.Time) realmImport {
	if atStart {
		if cfg.ImportRealmMode == config.ImportReconcile {
			return realmImport{reconcile: &reconcile.Options{Prune: cfg.ImportPrune, Now: now}}
		}
		return realmImport{create: rep.ImportOptions{SkipExisting: true, Now: now}}
	}
	if cfg.ImportMode == config.ImportReconcile {
		return realmImport{reconcile: &reconcile.Options{Prune: cfg.Prune, DryRun: cfg.DryRun, Now: now}}
	}
	return realmImport{create: rep.ImportOptions{Override: cfg.Override, Now: now}}
}

// importDir imports every *.json file in dir, in name order, each realm in its
// own transaction. At start (--import-realm) a realm that exists is left as
// it is, or reconciled with --import-mode reconcile. A missing dir is an
// error wrapping os.ErrNotExist.
func importDir(ctx context.Context, log *slog.Logger, db *store.DB, dir string, opts realmImport) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read import directory: %w", err)
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		if err := importFile(ctx, log, db, filepath.Join(dir, e.Name()), opts); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		log.Warn("no *.json realm file to import", "dir", dir)
	}
	return nil
}

func importFile(ctx context.Context, log *slog.Logger, db *store.DB, path string, opts realmImport) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if opts.reconcile != nil {
		return reconcileFile(ctx, log, db, path, data, opts)
	}
	create := opts.create
	create.Log = log // a weak or unsupported key provider is said here
	done, err := rep.ImportRealms(ctx, db, data, create)
	if errors.Is(err, rep.ErrRealmExists) {
		return fmt.Errorf("import %s: %w; add --override to replace it", path, err)
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	for _, d := range done {
		if d.Skipped {
			log.Info("realm exists, import skipped", "realm", d.Realm, "file", path)
			continue
		}
		// What the file holds and Gatehouse does not keep is said, one
		// line a member, rather than dropped in silence.
		for _, p := range d.Ignored {
			log.Warn("not imported", "realm", d.Realm, "file", path, "path", p)
		}
		// A bound flow naming an authenticator Gatehouse does not run is
		// kept; logins through that binding fail until it is changed.
		for _, b := range slices.Sorted(maps.Keys(d.NotRunnable)) {
			log.Warn("flow cannot run", "realm", d.Realm, "file", path, "binding", b, "reason", d.NotRunnable[b])
		}
		log.Info("imported realm", "realm", d.Realm, "file", path)
	}
	return nil
}

// reconcileRetries is how often a reconcile that lost a race is run again:
// two nodes starting together on an empty database both try to create the
// realm, and the second finds it created by the first.
const reconcileRetries = 3

// reconcileFile makes the file's realm match it and reports the plan: to
// opts.plan as a header line and one indented line per change, or to the
// log, one record per change.
func reconcileFile(ctx context.Context, log *slog.Logger, db *store.DB, path string, data []byte, opts realmImport) error {
	var (
		plan reconcile.Plan
		err  error
	)
	for attempt := 0; ; attempt++ {
		plan, err = reconcile.File(ctx, db, data, *opts.reconcile)
		if attempt < reconcileRetries && errors.Is(err, store.ErrConflict) {
			continue
		}
		break
	}
	if err != nil {
		return fmt.Errorf("reconcile %s: %w", path, err)
	}
	dry := opts.reconcile.DryRun
	if opts.plan != nil {
		summary := fmt.Sprintf("%d changes", len(plan.Changes))
		switch len(plan.Changes) {
		case 0:
			summary = "no changes"
		case 1:
			summary = "1 change"
		}
		if dry {
			summary += ", dry run: nothing written"
		}
		fmt.Fprintf(opts.plan, "realm %q (%s): %s\n", plan.Realm, path, summary)
		for _, line := range plan.Lines() {
			fmt.Fprintf(opts.plan, "  %s\n", line)
		}
	} else {
		for _, line := range plan.Lines() {
			log.Info("reconcile", "realm", plan.Realm, "change", line)
		}
	}
	log.Info("reconciled realm", "realm", plan.Realm, "file", path, "changes", len(plan.Changes), "dry_run", dry)
	return nil
}

// runExport is "gatehouse export": --realm R --file F writes one realm to F;
// --dir D writes every realm, or only --realm R, as D/<realm>-realm.json.
func runExport(ctx context.Context, cfg config.Config, log *slog.Logger, stderr io.Writer) int {
	if cfg.File != "" && cfg.Realm == "" {
		fmt.Fprintln(stderr, "gatehouse: export --file needs --realm; use --dir to export every realm")
		return exitUsage
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: open database: %s\n", oneLine(err.Error()))
		return exitFail
	}
	defer db.Close()
	if err := export(ctx, log, db, cfg); err != nil {
		fmt.Fprintf(stderr, "gatehouse: %s\n", oneLine(err.Error()))
		return exitFail
	}
	return exitOK
}

func export(ctx context.Context, log *slog.Logger, db *store.DB, cfg config.Config) error {
	if cfg.File != "" {
		return exportRealm(ctx, log, db, cfg.Realm, cfg.File)
	}
	names := []string{cfg.Realm}
	if cfg.Realm == "" {
		realms, err := db.ListRealms(ctx)
		if err != nil {
			return fmt.Errorf("list realms: %w", err)
		}
		names = names[:0]
		for _, r := range realms {
			names = append(names, r.Name)
		}
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for _, name := range names {
		// A realm name is free text; it must not choose where the file goes.
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || strings.ContainsRune(name, 0) {
			return fmt.Errorf("export realm %q: the name cannot be a file name; use --realm with --file", name)
		}
		if err := exportRealm(ctx, log, db, name, filepath.Join(cfg.Dir, name+exportSuffix)); err != nil {
			return err
		}
	}
	return nil
}

func exportRealm(ctx context.Context, log *slog.Logger, db *store.DB, name, path string) error {
	data, err := rep.Export(ctx, db, name)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("export: realm %q does not exist", name)
	}
	if err != nil {
		return fmt.Errorf("export realm %q: %w", name, err)
	}
	if err := writeFileAtomic(path, data); err != nil {
		return fmt.Errorf("export realm %q: %w", name, err)
	}
	log.Info("exported realm", "realm", name, "file", path)
	return nil
}

// writeFileAtomic replaces path with data or leaves it untouched: a realm
// export holds password hashes and private keys, so it is readable by its
// owner only, and an interrupted export never leaves half a file to import.
func writeFileAtomic(path string, data []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
