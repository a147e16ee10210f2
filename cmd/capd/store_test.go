package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/store/pgtest"
)

// TestStoreFlag: every command runs on the store --store (or CAPD_STORE)
// names, and a bad value says what a good one looks like.
func TestStoreFlag(t *testing.T) {
	t.Run("OKManagementCommandsOnPostgres", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		out, err := runCLI(t, "tenants", "create", "acme-co", "--store", dsn)
		require.NoError(t, err, out)
		out, err = runCLI(t, "keys", "create", "--tenant", "acme-co", "--store", dsn)
		require.NoError(t, err, out)
		t.Setenv("CAPD_STORE", dsn)
		out, err = runCLI(t, "tenants", "list") // the store from the environment
		require.NoError(t, err, out)
		assert.Contains(t, out, "acme-co")
		out, err = runCLI(t, "tenants", "list", "--data", t.TempDir(), "--store", "sqlite")
		require.NoError(t, err, out)
		assert.NotContains(t, out, "acme-co", "--store sqlite is the data directory's, not the environment's")
	})

	for _, c := range []struct {
		name, store string
		want        []string
	}{
		{"ErrUnknownScheme", "mysql://root:hunter2@db/capd", []string{"--store", "postgres://", "sqlite:DIR"}},
		{"ErrSqliteWithoutDir", "sqlite:", []string{"sqlite:DIR"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := runCLI(t, "tenants", "list", "--store", c.store)
			require.Error(t, err)
			assert.Equal(t, 2, exitCode(err), "a usage error")
			for _, w := range c.want {
				assert.Contains(t, out+err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "hunter2", "never echo a password")
		})
	}

	t.Run("ErrUnreachable", func(t *testing.T) {
		_, err := runCLI(t, "tenants", "list", "--store", "postgres://capd:hunter2@127.0.0.1:1/capd?connect_timeout=2")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "open postgres")
		assert.NotContains(t, err.Error(), "hunter2", "never echo a password")
	})

	t.Run("ErrSQLiteOnlyFlagOnPostgres", func(t *testing.T) {
		_, err := runCLI(t, "serve", "--store", pgtest.DSN(t), "--tenant-max-pages", "100", "--addr", "127.0.0.1:0")
		require.Error(t, err)
		assert.Equal(t, 2, exitCode(err))
		assert.Contains(t, err.Error(), "--tenant-max-pages")
	})
}
