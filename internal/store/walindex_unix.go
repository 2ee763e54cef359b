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
// walindex.go). It returns nil, and the node reads the version with a
// statement, when anything is not as expected.
func (s *DB) openWALIndex(ctx context.Context) *walIndex {
	pin, err := s.sql.Conn(ctx)
	if err != nil {
		return nil
	}
	// A read opens the WAL and its shared memory on this connection,
	// which then holds them until the node closes.
	var v int64
	if err := pin.QueryRowContext(ctx, `SELECT version FROM config_version WHERE id = 1`).Scan(&v); err != nil {
		pin.Close()
		return nil
	}
	// The file as SQLite itself names it (its full path, links
	// resolved): the shared memory is that name with "-shm".
	var seq int
	var name, file string
	if err := pin.QueryRowContext(ctx, `SELECT seq, name, file FROM pragma_database_list WHERE name = 'main'`).Scan(&seq, &name, &file); err != nil || file == "" {
		pin.Close()
		return nil
	}
	f, err := os.Open(file + "-shm")
	if err != nil {
		pin.Close()
		return nil
	}
	defer f.Close() // the mapping outlives the descriptor
	mem, err := syscall.Mmap(int(f.Fd()), 0, os.Getpagesize(), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		pin.Close()
		return nil
	}
	w := &walIndex{
		words: (*[2 * walHeaderWords]uint32)(unsafe.Pointer(&mem[0])),
		close: func() {
			syscall.Munmap(mem)
			pin.Close()
		},
	}
	if _, ok := w.header(); !ok {
		w.close()
		return nil
	}
	return w
}
