package store

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A SQLite node says at start when it cannot read the WAL index, and so
// reads the configuration version with a statement on every request; it
// says nothing when it can.
func TestListenSaysWhenWALIndexUnread(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the WAL index is mapped on unix only")
	}
	db, err := Open(t.Context(), SQLite, filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	said := func() string {
		var buf bytes.Buffer
		db.ListenConfigChanges(t.Context(), slog.New(slog.NewTextHandler(&buf, nil)))
		return buf.String()
	}
	if out := said(); out != "" {
		t.Fatalf("a node reading the WAL index logged: %s", out)
	}
	w := db.wal
	db.wal = nil // as where the index could not be mapped
	out := said()
	db.wal = w
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "WAL index") {
		t.Fatalf("a node without the WAL index said %q", out)
	}
}
