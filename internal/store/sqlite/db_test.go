package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()

	t.Run("OKCreatesLayout", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		openTestDB(t, Options{Dir: dir})
		require.True(t, fileExists(filepath.Join(dir, "control.db")))
		for _, d := range []string{dir, filepath.Join(dir, "tenants")} {
			info, err := os.Stat(d)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o700), info.Mode().Perm(), d)
		}
	})

	t.Run("OKPathNeedingEscapes", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "my data?x=1#frag %20")
		db := openTestDB(t, Options{Dir: dir})
		createTenant(t, db, "acme")
		require.True(t, fileExists(filepath.Join(dir, "control.db")))
		require.True(t, fileExists(filepath.Join(dir, "tenants", "acme.db")))
	})

	t.Run("ErrNoDir", func(t *testing.T) {
		_, err := Open(ctx, Options{})
		require.Error(t, err)
	})
}

func TestConnectionSettings(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t, Options{})
	createTenant(t, db, "acme")

	pragma := func(t *testing.T, q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}, name string) string {
		t.Helper()
		var v string
		require.NoError(t, q.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v))
		return v
	}

	for name, d := range map[string]*database{"control": db.control.db, "tenant": liveDatabase(db, "acme")} {
		t.Run("OK"+name, func(t *testing.T) {
			for _, conn := range []*sql.DB{d.writer, d.reader} {
				require.Equal(t, "wal", pragma(t, conn, "journal_mode"))
				require.Equal(t, "1", pragma(t, conn, "synchronous"), "NORMAL")
				require.Equal(t, "5000", pragma(t, conn, "busy_timeout"))
				require.Equal(t, "1", pragma(t, conn, "foreign_keys"))
			}
			require.Equal(t, "0", pragma(t, d.writer, "query_only"))
			require.Equal(t, "1", pragma(t, d.reader, "query_only"))
			require.Equal(t, 1, d.writer.Stats().MaxOpenConnections)
			require.Equal(t, maxReaders, d.reader.Stats().MaxOpenConnections)
		})
	}

	t.Run("OKUpdateTakesWriteLockUpFront", func(t *testing.T) {
		// While an Update is open, another connection cannot begin a
		// write, even though the Update has not written yet.
		store, err := db.Tenants().Tenant(ctx, "acme")
		require.NoError(t, err)
		other := openRaw(t, liveDatabase(db, "acme").path)
		_, err = other.Exec("PRAGMA busy_timeout = 0")
		require.NoError(t, err)
		require.NoError(t, store.Update(ctx, func(capability.Tx) error {
			_, err := other.Exec("BEGIN IMMEDIATE")
			require.Error(t, err, "the write lock is held")
			return nil
		}))
	})
}
