package store

import (
	"context"
	"sync/atomic"
)

// The configuration version on SQLite, without a statement while nothing
// has been committed.
//
// Every request reads config_version before its first cached read
// (configcache.go). On SQLite that read is a statement of its own, and each
// statement is a read transaction: a lock and an unlock of a read mark in
// the WAL's shared memory, which are fcntl calls. Under load it was 8 % of
// a client_credentials grant.
//
// In WAL mode, every commit, by any connection of any process on the file,
// rewrites the header of the WAL index (the "-shm" file, which every
// connection maps): the frame count, the checksum of the last frame, a
// change counter, and new salts when the log restarts. The header is a
// documented part of SQLite's file format, which every version of SQLite
// sharing a file must agree on. The committer writes it before its COMMIT
// returns. So a node that maps the header read-only and finds it unchanged
// since it last read the version knows that nothing has been committed
// since: the version it read then is still current. When the header has
// changed (any write at all, configuration or not), the node reads the
// version with a statement, as before, and remembers the header it saw
// *before* that statement.
//
// The header is written twice, second copy first; a reader that finds the
// two copies different has caught a writer midway and reads the version.
//
// The mapping stays valid as long as the file is the one SQLite uses: the
// node keeps one connection of its own open for its whole life (walIndex.pin),
// and SQLite deletes or truncates the shared-memory file only when the last
// connection of every process closes or opens first. Where the file cannot
// be found, mapped or recognised, every request reads the version with a
// statement.

// walHeaderWords is the size of one copy of the WAL-index header, in 32-bit
// words (48 bytes), and walIndexVersion its format's version (iVersion).
const (
	walHeaderWords  = 12
	walIndexVersion = 3007000
)

// walHeader is one copy of the WAL-index header, as raw words.
type walHeader [walHeaderWords]uint32

// walSeen is a version read and the header seen just before it.
type walSeen struct {
	header  walHeader
	version int64
}

// walIndex is a node's view of its SQLite file's WAL-index header.
type walIndex struct {
	// words is the mapped start of the shared-memory file: both copies
	// of the header.
	words *[2 * walHeaderWords]uint32
	seen  atomic.Pointer[walSeen]
	close func()
}

// header reads the header, or reports false when a writer is midway or
// the header is not one this code knows.
func (w *walIndex) header() (walHeader, bool) {
	var a, b walHeader
	for i := range a {
		a[i] = atomic.LoadUint32(&w.words[i])
	}
	for i := range b {
		b[i] = atomic.LoadUint32(&w.words[walHeaderWords+i])
	}
	// iVersion, the first word, is 0 until SQLite has set the header up.
	if a != b || a[0] != walIndexVersion {
		return walHeader{}, false
	}
	return a, true
}

// sqliteVersion reads the configuration version on SQLite: from memory when
// nothing has been committed since it was last read with a statement.
func (s *DB) sqliteVersion(ctx context.Context) (int64, error) {
	w := s.wal
	if w == nil {
		return s.ConfigVersion(ctx)
	}
	h, ok := w.header()
	if !ok {
		return s.ConfigVersion(ctx)
	}
	if seen := w.seen.Load(); seen != nil && seen.header == h {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return seen.version, nil
	}
	v, err := s.ConfigVersion(ctx)
	if err != nil {
		return 0, err
	}
	// Concurrent requests may store older pairs; each is still a version
	// read after its header was seen, so it is only less useful.
	w.seen.Store(&walSeen{header: h, version: v})
	return v, nil
}
