package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// TestPinKey stores a key's pins, returns them on authentication and in
// listings, replaces them, and refuses unknown keys.
func TestPinKey(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{Dir: t.TempDir()})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	token, key, err := db.Control().CreateKey(ctx, "acme", capability.AllScopes, time.Time{})
	require.NoError(t, err)

	t.Run("OK", func(t *testing.T) {
		pins := map[string]string{"projects.create_task": "0.1.0", "projects.get_task": "0.1.0"}
		require.NoError(t, db.Control().PinKey(ctx, key.Prefix, pins))
		p, err := db.Control().Authenticate(ctx, token)
		require.NoError(t, err)
		require.Equal(t, pins, p.Pins)
		keys, err := db.Control().ListKeys(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, pins, keys[0].Pins)
	})
	t.Run("Clear", func(t *testing.T) {
		require.NoError(t, db.Control().PinKey(ctx, key.Prefix, nil))
		p, err := db.Control().Authenticate(ctx, token)
		require.NoError(t, err)
		require.Nil(t, p.Pins)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		require.ErrorIs(t, db.Control().PinKey(ctx, "zzzzzzzz", map[string]string{"a.b": "0.1.0"}), capability.ErrNotFound)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		require.Equal(t, capability.CodeInvalidInput, capability.ErrorCode(db.Control().PinKey(ctx, key.Prefix, map[string]string{"a.b": "0.1.0,x"})))
	})
}
