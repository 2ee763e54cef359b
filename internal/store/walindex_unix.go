//go:build unix

package store

import (
	"context"
	"os"
	"syscall"
	"unsafe"
)

// openWALIndex maps the WAL-index header of the node's SQLite file, read
// only, once a connection of the node's own holds the file open (see
// walindex.go). It returns nil, or an index that is never mapped, and the
// node reads the version with a statement, when anything is not as
// expected.
func (s *DB) openWALIndex(ctx context.Context) *walIndex {
	pin, err := s.sql.Conn(ctx)
	if err != nil {
		return nil
	}
	// A read opens the WAL and its shared memory on this connection, which
	// then holds them until the node closes. Nothing else runs on it: it
	// can never be found broken and closed by database/sql.
	var file string
	if err := pin.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil || file == "" {
		pin.Close()
		return nil
	}
	// The file as SQLite itself names it (its full path, links resolved):
	// the shared memory is that name with "-shm".
	f, err := os.Open(file + "-shm")
	if err != nil {
		pin.Close()
		return nil
	}
	// From here on f stays open until DB.Close has closed every
	// connection (see walindex.go): closing it would drop SQLite's locks.
	w := &walIndex{
		release:   func() { pin.Close() },
		closeFile: func() { f.Close() },
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, os.Getpagesize(), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return w
	}
	w.words = (*[2 * walHeaderWords]uint32)(unsafe.Pointer(&mem[0]))
	w.unmap = func() {
		w.words = nil
		syscall.Munmap(mem)
	}
	return w
}
