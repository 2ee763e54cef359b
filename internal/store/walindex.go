package store

import (
	"context"
	"sync"
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
// The mapping stays valid as long as the file is the one SQLite uses, and
// the index in it is the one SQLite keeps. SQLite deletes the file only when
// the last connection of every process closes, and truncates and rebuilds it
// only in a process that finds no other holding its shared lock on the file
// (the "dead man switch"). So the node keeps one connection of its own open
// for its whole life (walIndex.pin), and keeps its own descriptor of the file
// open until every connection has closed: closing any descriptor of a file
// drops all of the process's fcntl locks on it, SQLite's included. A header
// that SQLite has just rebuilt (change counter 0) is never trusted: one
// rebuilt over an empty WAL is always the same bytes. Where the file cannot
// be found, mapped or recognised, every request reads the version with a
// statement. Like SQLite's WAL mode itself, this needs a file system where
// a mapping is coherent across processes (not a network file system).

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
	// mu guards the mapping against Close: a request still running when
	// the node closes (a shutdown that timed out) reads nothing unmapped.
	mu     sync.RWMutex
	closed bool
	// words is the mapped start of the shared-memory file, both copies of
	// the header; nil when it could not be mapped.
	words *[2 * walHeaderWords]uint32
	seen  atomic.Pointer[walSeen]
	// unmap, release and closeFile undo the mapping, the pinned connection
	// and the descriptor (walindex_unix.go).
	unmap, release, closeFile func()
}

// header reads the header, or reports false when a writer is midway, the
// header is not one this code knows or has just been rebuilt, or the node
// has closed.
func (w *walIndex) header() (walHeader, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed || w.words == nil {
		return walHeader{}, false
	}
	var a, b walHeader
	for i := range a {
		a[i] = atomic.LoadUint32(&w.words[i])
	}
	for i := range b {
		b[i] = atomic.LoadUint32(&w.words[walHeaderWords+i])
	}
	// iVersion, the first word, is 0 until SQLite has set the header up;
	// iChange, the third, is raised by every commit and is 0 only in a
	// header rebuilt from the WAL file.
	if a != b || a[0] != walIndexVersion || a[2] == 0 {
		return walHeader{}, false
	}
	return a, true
}

// shut unmaps the header and releases the pinned connection; the
// descriptor is closed by closeFile, once the node's other connections
// have closed too (DB.Close).
func (w *walIndex) shut() {
	w.mu.Lock()
	w.closed = true
	if w.unmap != nil {
		w.unmap()
	}
	w.mu.Unlock()
	if w.release != nil {
		w.release()
	}
}

// versionFromWAL reports whether requests read the configuration version
// from the WAL-index header while nothing is committed: the header is
// mapped and of the format this code knows.
func (s *DB) versionFromWAL() bool {
	w := s.wal
	if w == nil {
		return false
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	return !w.closed && w.words != nil && atomic.LoadUint32(&w.words[0]) == walIndexVersion
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
