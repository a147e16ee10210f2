package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// findIdempotent reads the stored result of key and requires it to exist.
func findIdempotent(t testing.TB, s capability.TenantStore, key string) *capability.IdempotentResult {
	t.Helper()
	return read(t, s, func(ctx context.Context, tx capability.Tx) (*capability.IdempotentResult, error) {
		return tx.FindIdempotentResult(ctx, key)
	})
}

// testIdempotency covers storing and finding the results of writes made
// with an idempotency key.
func testIdempotency(t *testing.T, e *env) {
	ctx := context.Background()
	s := e.tenant(t, "idempotency")

	var first *capability.IdempotentResult
	t.Run("OK", func(t *testing.T) {
		first = &capability.IdempotentResult{Key: "k1", Capability: "projects.create_task@0.1.0", ArgsHash: "h1", Result: []byte(`{"ok": true}`)}
		want := e.clock.Peek()
		update(t, s, func(tx capability.Tx) error { return tx.SaveIdempotentResult(ctx, first) })
		requireInstant(t, want, first.CreatedAt)
		require.Equal(t, first, findIdempotent(t, s, "k1"), "what the caller holds is what a read returns")
	})

	t.Run("OKGivenTimeAndBinaryResult", func(t *testing.T) {
		created := time.Date(2025, 1, 2, 3, 4, 5, 6070809, cet)
		r := &capability.IdempotentResult{Key: "k-binary", Capability: "c@1.0.0", ArgsHash: "h", Result: []byte{0, 1, 2, 255}, CreatedAt: created}
		update(t, s, func(tx capability.Tx) error { return tx.SaveIdempotentResult(ctx, r) })
		requireInstant(t, created, r.CreatedAt)
		require.Equal(t, r, findIdempotent(t, s, "k-binary"))
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		view(t, s, func(tx capability.Tx) error {
			for _, key := range []string{"k2", "K1", ""} {
				_, err := tx.FindIdempotentResult(ctx, key)
				require.ErrorIs(t, err, capability.ErrNotFound, "key %q", key)
			}
			return nil
		})
	})

	t.Run("OKRolledBackWithTheWrite", func(t *testing.T) {
		errReject := capability.Errorf(capability.CodeInvalidTransition, "rejected")
		err := s.Update(ctx, func(tx capability.Tx) error {
			require.NoError(t, tx.SaveIdempotentResult(ctx, &capability.IdempotentResult{Key: "k-lost", Capability: "c@1.0.0", ArgsHash: "h", Result: []byte(`{}`)}))
			return errReject
		})
		require.ErrorIs(t, err, errReject)
		view(t, s, func(tx capability.Tx) error {
			_, err := tx.FindIdempotentResult(ctx, "k-lost")
			require.ErrorIs(t, err, capability.ErrNotFound, "a result is kept exactly when its write is")
			return nil
		})
	})

	t.Run("OKReplaces", func(t *testing.T) {
		replaced := &capability.IdempotentResult{Key: "k1", Capability: "c@1.0.0", ArgsHash: "h2", Result: []byte(`{}`)}
		update(t, s, func(tx capability.Tx) error { return tx.SaveIdempotentResult(ctx, replaced) })
		require.Equal(t, replaced, findIdempotent(t, s, "k1"))
		require.True(t, replaced.CreatedAt.After(first.CreatedAt))
	})
}
