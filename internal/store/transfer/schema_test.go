package transfer_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/pgtest"
	"github.com/capd-dev/capd/internal/store/postgres"
	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/internal/store/transfer"
	"github.com/capd-dev/capd/internal/store/transfer/transfertest"
)

// TestSchemaDriftStopsTheCopy adds a table or a column to one engine's
// schema, as a later migration would without transfer support, and expects
// migrate to refuse naming it rather than leave its data behind. The same
// checks run on every real migrate, so this is also what makes
// TestMigrateMovesEverything fail when the migrations and the table list
// part ways.
func TestSchemaDriftStopsTheCopy(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		sqlite string // run on the first tenant's database
		pg     string // run on the target before the copy
		want   string
	}{
		{name: "SQLiteTable", sqlite: "CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT NOT NULL) STRICT", want: "table notes is not one capd migrate knows how to move"},
		{name: "SQLiteColumn", sqlite: "ALTER TABLE tasks ADD COLUMN estimate INTEGER", want: "column tasks.estimate (INTEGER) is not one capd migrate knows how to move"},
		{name: "PostgresControlColumn", pg: "ALTER TABLE capd_control.api_keys ADD COLUMN note text", want: "column api_keys.note"},
		{name: "PostgresControlTable", pg: "CREATE TABLE capd_control.audit_exports (id bigint PRIMARY KEY)", want: "table audit_exports"},
		{name: "PostgresType", pg: "ALTER TABLE capd_control.calls ALTER COLUMN duration_us TYPE integer", want: "column calls.duration_us is integer, capd migrate expects bigint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := transfertest.Populate(t, t.TempDir(), transfertest.Options{Tenants: 1, Tasks: 2})
			if tc.sqlite != "" {
				db, err := sql.Open("sqlite", sqlite.TenantPath(f.Dir, f.Tenants[0]))
				require.NoError(t, err)
				_, err = db.Exec(tc.sqlite)
				require.NoError(t, err)
				require.NoError(t, db.Close())
			}
			src, err := transfer.OpenSource(ctx, f.Dir)
			require.NoError(t, err)
			defer src.Close()
			dst, err := postgres.Open(ctx, pgtest.DSN(t), postgres.Options{})
			require.NoError(t, err)
			defer dst.Close()
			if tc.pg != "" {
				_, err := dst.Pool().Exec(ctx, tc.pg)
				require.NoError(t, err)
			}
			_, err = transfer.Migrate(ctx, src, dst, transfer.Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			ts, err := dst.Control().ListTenants(ctx)
			require.NoError(t, err)
			assert.Empty(t, ts, "nothing was committed")
		})
	}
}

// TestMigrateUpgradesACopyOfAnOlderDatabase gives a tenant a database last
// written by an older capd (schema version 2 of 3): migrate reads an
// upgraded copy, moves its rows, says so, and leaves the old file as it
// was.
func TestMigrateUpgradesACopyOfAnOlderDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "old-tenant"}))
	require.NoError(t, db.Close())

	path := sqlite.TenantPath(dir, "old-tenant")
	old, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	for _, name := range []string{"0001_init.sql", "0002_work.sql"} {
		body, err := os.ReadFile(filepath.Join("..", "sqlite", "migrations", "tenant", name))
		require.NoError(t, err)
		_, err = old.Exec(string(body))
		require.NoError(t, err, name)
	}
	_, err = old.Exec(`PRAGMA user_version = 2;
		INSERT INTO projects VALUES ('prj_old', 'Legacy', '', '2024-01-02T03:04:05.000000000Z', '2024-01-02T03:04:05.000000000Z')`)
	require.NoError(t, err)
	require.NoError(t, old.Close())
	before := fileHashes(t, dir)

	src, err := transfer.OpenSource(ctx, dir)
	require.NoError(t, err)
	defer src.Close()
	dst, err := postgres.Open(ctx, pgtest.DSN(t), postgres.Options{})
	require.NoError(t, err)
	defer dst.Close()
	r, err := transfer.Migrate(ctx, src, dst, transfer.Options{})
	require.NoError(t, err)
	requireOK(t, r)
	assert.Equal(t, []string{"tenants/old-tenant.db"}, r.Upgraded)
	assert.Equal(t, before, fileHashes(t, dir), "the old file is untouched")

	s, err := dst.Tenants().Tenant(ctx, "old-tenant")
	require.NoError(t, err)
	require.NoError(t, s.View(ctx, func(tx capability.Tx) error {
		p, err := tx.FindProjectByID(ctx, "prj_old")
		if err == nil {
			assert.Equal(t, "Legacy", p.Name)
		}
		return err
	}))
}
