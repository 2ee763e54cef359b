package store

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// configChannel is the PostgreSQL notification channel of configuration
// changes. The payload is "<schema> <version>": nodes of another Gatehouse
// in another schema of the same database ignore it.
const configChannel = "gatehouse_config"

// ListenConfigChanges makes the node drop its configuration cache as soon
// as another node commits a configuration change, by PostgreSQL
// LISTEN/NOTIFY on a connection of its own, reconnecting after a failure,
// until ctx ends or the store is closed. The version read every request
// makes stays the guarantee (see configcache.go); the notification only
// frees the old snapshot early. On SQLite, one node, there is nothing to
// listen to; it only says when the node cannot read SQLite's WAL index and
// so reads the version with a statement on every request (walindex.go).
func (s *DB) ListenConfigChanges(ctx context.Context, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if s.dialect != Postgres {
		if s.dialect == SQLite && !s.versionFromWAL() {
			log.Warn("SQLite's WAL index cannot be read here: every request reads the configuration version with a statement")
		}
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	if old := s.cache.stop.Swap(&cancel); old != nil {
		(*old)()
	}
	ready := make(chan struct{})
	signal := sync.OnceFunc(func() { close(ready) })
	go func() {
		for ctx.Err() == nil {
			err := s.listen(ctx, signal)
			if ctx.Err() != nil {
				return
			}
			log.Warn("configuration listener lost its connection; retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	// Wait for LISTEN to be in place (or for the first attempt to fail), so
	// that a node that starts serving has its listener running.
	select {
	case <-ready:
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
	}
}

// listen holds one listening connection until it fails or ctx ends.
func (s *DB) listen(ctx context.Context, listening func()) error {
	defer listening()
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+configChannel); err != nil {
		return err
	}
	// Notifications sent while no connection listened are lost: start over
	// from the database.
	s.cache.changed(0)
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		from, v, ok := strings.Cut(n.Payload, " ")
		if !ok || from != schema {
			continue
		}
		version, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		s.cache.notified.Add(1)
		s.cache.changed(version)
	}
}

func (c *configCache) stopListening() {
	if stop := c.stop.Swap(nil); stop != nil {
		(*stop)()
	}
}

// ConfigNotifications reports how many configuration change notifications
// the node's listener has received.
func (s *DB) ConfigNotifications() int64 { return s.cache.notified.Load() }
