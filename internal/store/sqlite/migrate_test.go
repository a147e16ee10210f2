package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// openRaw opens a bare writer on path for migration tests.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, writerParams))
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// userVersion reads PRAGMA user_version.
func userVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	require.NoError(t, db.QueryRow("PRAGMA user_version").Scan(&v))
	return v
}

// countFiles counts the .sql files of an embedded migration directory.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	files, err := fs.Glob(migrations, dir+"/*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return len(files)
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()

	t.Run("OKVersionEqualsFileCount", func(t *testing.T) {
		dir := t.TempDir()
		db, _ := openTestDB(t, Options{Dir: dir})
		createTenant(t, db, "acme")
		require.Equal(t, countFiles(t, controlMigrations), userVersion(t, openRaw(t, filepath.Join(dir, "control.db"))))
		require.Equal(t, countFiles(t, tenantMigrations), userVersion(t, openRaw(t, filepath.Join(dir, "tenants", "acme.db"))))
	})

	t.Run("OKReopenKeepsDataAndVersion", func(t *testing.T) {
		dir := t.TempDir()
		db, err := Open(ctx, Options{Dir: dir})
		require.NoError(t, err)
		p := mustCreateProject(t, createTenant(t, db, "acme"), "Survivor")
		require.NoError(t, db.Close())

		// The init migrations use plain CREATE TABLE: running them again
		// would fail, so a clean reopen proves they were skipped.
		db, _ = openTestDB(t, Options{Dir: dir})
		store, err := db.Tenants().Tenant(ctx, "acme")
		require.NoError(t, err)
		view(t, store, func(tx capability.Tx) error {
			got, err := tx.FindProjectByID(ctx, p.ID)
			require.NoError(t, err)
			require.Equal(t, p, got)
			return nil
		})
	})

	t.Run("OKUpgradesVersionOneTenant", func(t *testing.T) {
		dir := t.TempDir()
		db, _ := openTestDB(t, Options{Dir: dir})
		require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
		v1, err := fs.ReadFile(migrations, tenantMigrations+"/0001_init.sql")
		require.NoError(t, err)
		raw := openRaw(t, filepath.Join(dir, "tenants", "acme.db"))
		require.NoError(t, migrate(ctx, raw, fstest.MapFS{"m/0001_init.sql": {Data: v1}}, "m"))
		const at = "2024-01-02T03:04:05.000000000Z"
		_, err = raw.Exec(`INSERT INTO projects VALUES ('prj_old', 'Old', '', ?, ?);
			INSERT INTO tasks VALUES ('tsk_old', 'prj_old', 'Old task', '', 'cancelled', NULL, NULL, NULL, NULL, ?, ?)`, at, at, at, at)
		require.NoError(t, err)
		require.NoError(t, raw.Close())

		store, err := db.Tenants().Tenant(ctx, "acme")
		require.NoError(t, err)
		view(t, store, func(tx capability.Tx) error {
			task, err := tx.FindTaskByID(ctx, "tsk_old")
			require.NoError(t, err)
			require.Equal(t, "Old task", task.Title)
			require.Empty(t, task.CancelReason, "rows from before 0002 have no reason")
			types, err := tx.FindTaskTypes(ctx, "")
			require.NoError(t, err)
			require.NotEmpty(t, types, "the taxonomy is seeded on upgrade too")
			return nil
		})
		require.Equal(t, countFiles(t, tenantMigrations), userVersion(t, openRaw(t, filepath.Join(dir, "tenants", "acme.db"))))
	})

	t.Run("OKAppliesOnlyPending", func(t *testing.T) {
		raw := openRaw(t, filepath.Join(t.TempDir(), "x.db"))
		fsys := fstest.MapFS{
			"m/0001_log.sql": {Data: []byte("CREATE TABLE log (n INTEGER); INSERT INTO log VALUES (1);")},
		}
		require.NoError(t, migrate(ctx, raw, fsys, "m"))
		require.NoError(t, migrate(ctx, raw, fsys, "m"))
		fsys["m/0002_more.sql"] = &fstest.MapFile{Data: []byte("INSERT INTO log VALUES (2);")}
		require.NoError(t, migrate(ctx, raw, fsys, "m"))
		require.NoError(t, migrate(ctx, raw, fsys, "m"))
		var n int
		require.NoError(t, raw.QueryRow("SELECT count(*) FROM log").Scan(&n))
		require.Equal(t, 2, n, "each migration ran exactly once")
		require.Equal(t, 2, userVersion(t, raw))
	})

	t.Run("ErrFailingMigrationKeepsPreviousVersion", func(t *testing.T) {
		raw := openRaw(t, filepath.Join(t.TempDir(), "x.db"))
		fsys := fstest.MapFS{
			"m/0001_ok.sql":  {Data: []byte("CREATE TABLE a (n INTEGER);")},
			"m/0002_bad.sql": {Data: []byte("CREATE TABLE b (n INTEGER); INSERT INTO missing VALUES (1);")},
		}
		err := migrate(ctx, raw, fsys, "m")
		require.ErrorContains(t, err, "0002_bad.sql")
		require.Equal(t, 1, userVersion(t, raw))
		var n int
		require.NoError(t, raw.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name = 'b'").Scan(&n))
		require.Equal(t, 0, n, "the failed file's other statements rolled back")
	})

	t.Run("ErrNumberingGap", func(t *testing.T) {
		raw := openRaw(t, filepath.Join(t.TempDir(), "x.db"))
		fsys := fstest.MapFS{
			"m/0001_a.sql": {Data: []byte("CREATE TABLE a (n INTEGER);")},
			"m/0003_c.sql": {Data: []byte("CREATE TABLE c (n INTEGER);")},
		}
		require.ErrorContains(t, migrate(ctx, raw, fsys, "m"), "0003_c.sql")
		require.Equal(t, 0, userVersion(t, raw), "nothing runs when the set is broken")
	})

	t.Run("ErrDatabaseNewerThanBinary", func(t *testing.T) {
		raw := openRaw(t, filepath.Join(t.TempDir(), "x.db"))
		_, err := raw.Exec("PRAGMA user_version = 7")
		require.NoError(t, err)
		fsys := fstest.MapFS{"m/0001_a.sql": {Data: []byte("CREATE TABLE a (n INTEGER);")}}
		require.Error(t, migrate(ctx, raw, fsys, "m"))
		require.Equal(t, 7, userVersion(t, raw))
	})
}
