package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// TestTenant covers what is particular to SQLite in opening tenants: one
// database file per tenant, created on first use and never for a slug that
// is unknown or malformed. The rest is the shared suite's (storetest).
func TestTenant(t *testing.T) {
	ctx := context.Background()

	t.Run("OKOneFilePerTenantCreatedOnFirstUse", func(t *testing.T) {
		dir := t.TempDir()
		db := openTestDB(t, Options{Dir: dir})
		for _, slug := range []string{"tenant-a", "tenant-b"} {
			require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: slug}))
		}
		require.False(t, fileExists(filepath.Join(dir, "tenants", "tenant-a.db")))
		_, err := db.Tenants().Tenant(ctx, "tenant-a")
		require.NoError(t, err)
		require.True(t, fileExists(filepath.Join(dir, "tenants", "tenant-a.db")))
		require.False(t, fileExists(filepath.Join(dir, "tenants", "tenant-b.db")))
		require.Equal(t, 1, db.Tenants().OpenCount())
		_, err = db.Tenants().Tenant(ctx, "tenant-b")
		require.NoError(t, err)
		require.True(t, fileExists(filepath.Join(dir, "tenants", "tenant-b.db")))
		require.Equal(t, 2, db.Tenants().OpenCount())
	})

	t.Run("ErrNotFoundCreatesNoFile", func(t *testing.T) {
		dir := t.TempDir()
		db := openTestDB(t, Options{Dir: dir})
		_, err := db.Tenants().Tenant(ctx, "ghost")
		require.ErrorIs(t, err, capability.ErrNotFound)
		require.False(t, fileExists(filepath.Join(dir, "tenants", "ghost.db")))
		require.Equal(t, 0, db.Tenants().OpenCount())
	})

	t.Run("ErrInvalidSlugCreatesNoFile", func(t *testing.T) {
		dir := t.TempDir()
		db := openTestDB(t, Options{Dir: dir})
		for _, slug := range []string{"", "a", "../acme", "Acme", "acme.db", "-acme", "ac/me", "ac me", "acme\x00"} {
			_, err := db.Tenants().Tenant(ctx, slug)
			require.Equal(t, capability.CodeInvalidInput, capability.ErrorCode(err), "slug %q", slug)
		}
		entries, err := os.ReadDir(filepath.Join(dir, "tenants"))
		require.NoError(t, err)
		require.Empty(t, entries)
		require.False(t, fileExists(filepath.Join(dir, "acme.db")), "nothing escaped the tenants directory")
	})

	t.Run("ErrAfterClose", func(t *testing.T) {
		db, err := Open(ctx, Options{Dir: t.TempDir()})
		require.NoError(t, err)
		store := createTenant(t, db, "acme")
		require.NoError(t, db.Close())
		require.Error(t, store.View(ctx, func(capability.Tx) error { return nil }))
		_, err = db.Tenants().Tenant(ctx, "acme")
		require.Error(t, err)
		require.NoError(t, db.Close(), "Close is idempotent")
	})
}
