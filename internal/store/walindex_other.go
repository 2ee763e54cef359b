//go:build !unix

package store

import "context"

// openWALIndex maps nothing where mmap is missing: every request reads the
// configuration version with a statement.
func (s *DB) openWALIndex(context.Context) *walIndex { return nil }
