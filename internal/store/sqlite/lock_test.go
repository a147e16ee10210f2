package sqlite

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTryLock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, err := Open(ctx, Options{Dir: dir})
	require.NoError(t, err)
	defer a.Close()
	b, err := Open(ctx, Options{Dir: dir}) // a second process on the same directory
	require.NoError(t, err)
	defer b.Close()

	t.Run("OKOneHolderAtATime", func(t *testing.T) {
		unlock, ok, err := a.TryLock(ctx, "conformance")
		require.NoError(t, err)
		require.True(t, ok)
		_, ok, err = b.TryLock(ctx, "conformance")
		require.NoError(t, err)
		require.False(t, ok, "held by a")
		other, ok, err := b.TryLock(ctx, "other-job")
		require.NoError(t, err)
		require.True(t, ok, "locks are per name")
		other()
		unlock()
		unlock2, ok, err := b.TryLock(ctx, "conformance")
		require.NoError(t, err)
		require.True(t, ok, "free again after unlock")
		unlock2()
	})

	t.Run("ErrBadName", func(t *testing.T) {
		_, _, err := a.TryLock(ctx, "../escape")
		require.Error(t, err)
	})
}
