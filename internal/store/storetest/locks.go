package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// testLocks covers the job locks: one holder at a time among every opener
// of the database, per name, free again after unlock.
func testLocks(t *testing.T, e *env) {
	ctx := context.Background()
	require.NotNil(t, e.TryLock, "Stores.TryLock is required")
	other := e.OpenAgain(t, e.opts) // another process or node
	tryLock := func(t *testing.T, s Stores, name string) (func(), bool) {
		t.Helper()
		unlock, ok, err := s.TryLock(ctx, name)
		require.NoError(t, err)
		require.Equal(t, ok, unlock != nil, "an unlock func exactly when the lock was taken")
		return unlock, ok
	}

	t.Run("OKOneHolderAtATime", func(t *testing.T) {
		unlock, ok := tryLock(t, e.Stores, "conformance")
		require.True(t, ok)
		_, ok = tryLock(t, other, "conformance")
		require.False(t, ok, "held by the first opener")
		unlock()
		unlock, ok = tryLock(t, other, "conformance")
		require.True(t, ok, "free again after unlock")
		_, ok = tryLock(t, e.Stores, "conformance")
		require.False(t, ok, "held by the second opener")
		unlock()
	})

	t.Run("OKLocksArePerName", func(t *testing.T) {
		unlock, ok := tryLock(t, e.Stores, "conformance")
		require.True(t, ok)
		defer unlock()
		other, ok := tryLock(t, other, "other-job")
		require.True(t, ok)
		other()
	})
}
