package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTryLock covers what is particular to SQLite's job locks: a lock is a
// file under <data>/locks, so its name must not leave that directory. One
// holder at a time is the shared suite's (storetest).
func TestTryLock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openTestDB(t, Options{Dir: dir})

	t.Run("OKFileInLocksDirectory", func(t *testing.T) {
		unlock, ok, err := db.TryLock(ctx, "conformance")
		require.NoError(t, err)
		require.True(t, ok)
		defer unlock()
		require.True(t, fileExists(filepath.Join(dir, "locks", "conformance.lock")))
	})

	t.Run("ErrBadName", func(t *testing.T) {
		for _, name := range []string{"../escape", "a/b", "", "Upper"} {
			_, _, err := db.TryLock(ctx, name)
			require.Error(t, err, "name %q", name)
		}
		_, err := os.Stat(filepath.Join(dir, "escape.lock"))
		require.ErrorIs(t, err, os.ErrNotExist)
	})
}
