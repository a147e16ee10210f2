package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// TestCopyTenant checks that a copy holds the tenant's data, and that
// writing to the copy leaves the live database untouched.
func TestCopyTenant(t *testing.T) {
	ctx := context.Background()
	live, err := Open(ctx, Options{Dir: t.TempDir()})
	require.NoError(t, err)
	defer live.Close()
	require.NoError(t, live.Control().CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	store, err := live.Tenants().Tenant(ctx, "acme")
	require.NoError(t, err)
	p := &capability.Project{Name: "Live"}
	require.NoError(t, store.Update(ctx, func(tx capability.Tx) error { return tx.CreateProject(ctx, p) }))

	scratchDir := t.TempDir()
	scratch, err := Open(ctx, Options{Dir: scratchDir})
	require.NoError(t, err)
	defer scratch.Close()
	require.NoError(t, scratch.Control().CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	require.NoError(t, live.Tenants().CopyTenant(ctx, "acme", filepath.Join(scratchDir, "tenants", "acme.db")))

	t.Run("OK", func(t *testing.T) {
		copyStore, err := scratch.Tenants().Tenant(ctx, "acme")
		require.NoError(t, err)
		require.NoError(t, copyStore.View(ctx, func(tx capability.Tx) error {
			got, err := tx.FindProjectByID(ctx, p.ID)
			require.NoError(t, err)
			require.Equal(t, "Live", got.Name)
			return nil
		}))
		require.NoError(t, copyStore.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateProject(ctx, &capability.Project{Name: "Scratch only"})
		}))
		require.NoError(t, store.View(ctx, func(tx capability.Tx) error {
			_, err := tx.FindProjectByName(ctx, "Scratch only")
			require.ErrorIs(t, err, capability.ErrNotFound, "the live database is untouched")
			return nil
		}))
	})
	t.Run("ErrTargetExists", func(t *testing.T) {
		require.Error(t, live.Tenants().CopyTenant(ctx, "acme", filepath.Join(scratchDir, "tenants", "acme.db")))
	})
	t.Run("ErrUnknownTenant", func(t *testing.T) {
		require.ErrorIs(t, live.Tenants().CopyTenant(ctx, "nobody", filepath.Join(t.TempDir(), "x.db")), capability.ErrNotFound)
	})
}
