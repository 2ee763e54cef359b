//go:build unix

package store

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"
)

// openWALIndex maps the WAL-index header of the SQLite file at path, read
// only, once a connection of the node's own holds the file open (see
// walindex.go). It returns nil, and the node reads the version with a
// statement, when anything is not as expected.
func (s *DB) openWALIndex(ctx context.Context, path string) *walIndex {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil
	}
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
	f, err := os.Open(real + "-shm")
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
