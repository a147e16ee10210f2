package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/capd-dev/capd/internal/store/storecore"
)

// TryLock takes the lock name if no process holds it, and reports whether
// it did. Several capd processes may serve one data directory (two
// `capd serve` on different ports, say), so the lock is an flock on
// <data>/locks/<name>.lock, which the kernel drops when the process dies.
// Used so that one process at a time runs a scheduled job.
func (db *DB) TryLock(_ context.Context, name string) (unlock func(), ok bool, err error) {
	if err := storecore.ValidateSlug(name); err != nil {
		return nil, false, fmt.Errorf("lock name %q: %w", name, err)
	}
	dir := filepath.Join(db.dir, "locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(filepath.Join(dir, name+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	return func() { f.Close() }, true, nil // closing the file releases the lock
}
