package sqlite

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// requireEmptyWAL checks that the database at path holds all its data: its
// WAL, kept on close, is empty or absent.
func requireEmptyWAL(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path + "-wal")
	if err == nil {
		require.Zero(t, st.Size(), "the WAL was checkpointed into the database and emptied")
	} else {
		require.ErrorIs(t, err, os.ErrNotExist)
	}
}

func TestKeepWALFiles(t *testing.T) {
	ctx := context.Background()

	t.Run("OKClosedDatabaseFileHoldsEverything", func(t *testing.T) {
		dir := t.TempDir()
		db, err := Open(ctx, Options{Dir: dir})
		require.NoError(t, err)
		store := createTenant(t, db, "acme")
		p := mustCreateProject(t, store, "Kept")
		require.NoError(t, db.Close())
		path := db.Tenants().path("acme")
		require.FileExists(t, path+"-wal", "kept for the next open")
		requireEmptyWAL(t, path)

		// The database file alone is the tenant: moved without its -wal
		// and -shm files, it opens with every row.
		moved := t.TempDir()
		db2, err := Open(ctx, Options{Dir: moved})
		require.NoError(t, err)
		defer db2.Close()
		require.NoError(t, db2.Control().CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(db2.Tenants().path("acme"), data, 0o600))
		store2, err := db2.Tenants().Tenant(ctx, "acme")
		require.NoError(t, err)
		view(t, store2, func(tx capability.Tx) error {
			got, err := tx.FindProjectByID(ctx, p.ID)
			require.NoError(t, err)
			require.Equal(t, "Kept", got.Name)
			return nil
		})
	})
}
