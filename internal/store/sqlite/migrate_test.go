package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sync"
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

// gooseVersions lists the versions goose's table records as applied, in
// the order they were recorded.
func gooseVersions(t *testing.T, db *sql.DB) []int {
	t.Helper()
	rows, err := db.Query("SELECT version_id FROM " + gooseTable + " WHERE is_applied ORDER BY id")
	require.NoError(t, err)
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		require.NoError(t, rows.Scan(&v))
		vs = append(vs, v)
	}
	require.NoError(t, rows.Err())
	return vs
}

// upTo returns 0, 1, ..., n: goose's table of a database at version n,
// each version recorded once.
func upTo(n int) []int {
	vs := make([]int, n+1)
	for i := range vs {
		vs[i] = i
	}
	return vs
}

// countFiles counts the .sql files of an embedded migration directory.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	files, err := fs.Glob(migrations, dir+"/*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return len(files)
}

// migrateBeforeGoose applies the first k files of the embedded dir as capd
// did before it used goose: each file run whole in its own transaction
// together with a user_version bump, and no version table.
func migrateBeforeGoose(t *testing.T, db *sql.DB, dir string, k int) {
	t.Helper()
	files, err := migrationFiles(migrations, dir)
	require.NoError(t, err)
	for i, name := range files[:k] {
		body, err := fs.ReadFile(migrations, path.Join(dir, name))
		require.NoError(t, err)
		tx, err := db.Begin()
		require.NoError(t, err)
		_, err = tx.Exec(string(body))
		require.NoError(t, err, name)
		_, err = tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", i+1))
		require.NoError(t, err)
		require.NoError(t, tx.Commit())
	}
}

// gooseFile is a goose migration whose Up section is stmts.
func gooseFile(stmts string) *fstest.MapFile {
	return &fstest.MapFile{Data: []byte("-- +goose Up\n" + stmts + "\n")}
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()

	t.Run("OKVersionEqualsFileCount", func(t *testing.T) {
		dir := t.TempDir()
		db := openTestDB(t, Options{Dir: dir})
		createTenant(t, db, "acme")
		for file, migs := range map[string]string{
			filepath.Join(dir, "control.db"):         controlMigrations,
			filepath.Join(dir, "tenants", "acme.db"): tenantMigrations,
		} {
			raw := openRaw(t, file)
			require.Equal(t, countFiles(t, migs), userVersion(t, raw), file)
			require.Equal(t, upTo(countFiles(t, migs)), gooseVersions(t, raw), file)
		}
	})

	t.Run("OKReopenKeepsDataAndVersion", func(t *testing.T) {
		dir := t.TempDir()
		db, err := Open(ctx, Options{Dir: dir})
		require.NoError(t, err)
		p := mustCreateProject(t, createTenant(t, db, "acme"), "Survivor")
		require.NoError(t, db.Close())

		// The init migrations use plain CREATE TABLE: running them again
		// would fail, so a clean reopen proves they were skipped.
		db = openTestDB(t, Options{Dir: dir})
		store, err := db.Tenants().Tenant(ctx, "acme")
		require.NoError(t, err)
		view(t, store, func(tx capability.Tx) error {
			got, err := tx.FindProjectByID(ctx, p.ID)
			require.NoError(t, err)
			require.Equal(t, p, got)
			return nil
		})
		file := openRaw(t, filepath.Join(dir, "tenants", "acme.db"))
		require.Equal(t, upTo(countFiles(t, tenantMigrations)), gooseVersions(t, file))
	})

	t.Run("OKUpgradesVersionOneTenantFromBeforeGoose", func(t *testing.T) {
		dir := t.TempDir()
		db := openTestDB(t, Options{Dir: dir})
		require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
		file := filepath.Join(dir, "tenants", "acme.db")
		raw := openRaw(t, file)
		migrateBeforeGoose(t, raw, tenantMigrations, 1)
		const at = "2024-01-02T03:04:05.000000000Z"
		_, err := raw.Exec(`INSERT INTO projects VALUES ('prj_old', 'Old', '', ?, ?);
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
		raw = openRaw(t, file)
		require.Equal(t, countFiles(t, tenantMigrations), userVersion(t, raw))
		require.Equal(t, upTo(countFiles(t, tenantMigrations)), gooseVersions(t, raw))
	})

	// Every version below the newest that a database from before goose
	// can be at, for both kinds of database: goose's table is created with
	// the versions already applied, goose applies the rest, and the rows
	// written before are still there.
	t.Run("OKAdoptsEveryVersionFromBeforeGoose", func(t *testing.T) {
		const at = "2024-01-02T03:04:05.000000000Z"
		for _, tc := range []struct {
			dir    string
			pool   pool
			insert string // a row into a table of 0001
			table  string // that table, whose name column must read "Kept"
		}{
			{controlMigrations, controlPool, "INSERT INTO tenants VALUES ('kept', 'Kept', '" + at + "')", "tenants"},
			{tenantMigrations, tenantPool, "INSERT INTO projects VALUES ('prj_kept', 'Kept', '', '" + at + "', '" + at + "')", "projects"},
		} {
			n := countFiles(t, tc.dir)
			for k := 1; k < n; k++ {
				t.Run(fmt.Sprintf("%s/%d", path.Base(tc.dir), k), func(t *testing.T) {
					file := filepath.Join(t.TempDir(), "x.db")
					raw := openRaw(t, file)
					migrateBeforeGoose(t, raw, tc.dir, k)
					var before int
					require.NoError(t, raw.QueryRow("SELECT count(*) FROM sqlite_schema").Scan(&before))
					_, err := raw.Exec(tc.insert)
					require.NoError(t, err)
					require.NoError(t, raw.Close())

					d, err := openDatabase(ctx, file, tc.pool, migrations, tc.dir)
					require.NoError(t, err)
					require.NoError(t, d.close())

					raw = openRaw(t, file)
					require.Equal(t, n, userVersion(t, raw))
					require.Equal(t, upTo(n), gooseVersions(t, raw))
					var name string
					require.NoError(t, raw.QueryRow("SELECT name FROM "+tc.table).Scan(&name))
					require.Equal(t, "Kept", name)
					var after int
					require.NoError(t, raw.QueryRow("SELECT count(*) FROM sqlite_schema").Scan(&after))
					require.Greater(t, after, before, "goose's table, at least, was added")
				})
			}
		}
	})

	t.Run("OKAdoptsNewestFromBeforeGooseAtNextMigration", func(t *testing.T) {
		// A database already at the newest version is current by its
		// user_version alone: opening it writes nothing. The first open
		// with a migration to apply adopts it and applies that one.
		file := filepath.Join(t.TempDir(), "x.db")
		raw := openRaw(t, file)
		n := countFiles(t, tenantMigrations)
		migrateBeforeGoose(t, raw, tenantMigrations, n)
		require.NoError(t, raw.Close())

		d, err := openDatabase(ctx, file, tenantPool, migrations, tenantMigrations)
		require.NoError(t, err)
		require.Zero(t, d.writer.Stats().OpenConnections, "a current database is opened without the writer")
		require.NoError(t, d.close())

		next := fstest.MapFS{}
		files, err := migrationFiles(migrations, tenantMigrations)
		require.NoError(t, err)
		for _, name := range files {
			body, err := fs.ReadFile(migrations, path.Join(tenantMigrations, name))
			require.NoError(t, err)
			next["m/"+name] = &fstest.MapFile{Data: body}
		}
		next[fmt.Sprintf("m/%04d_next.sql", n+1)] = gooseFile("CREATE TABLE next (n INTEGER);")
		d, err = openDatabase(ctx, file, tenantPool, next, "m")
		require.NoError(t, err)
		require.NoError(t, d.close())

		raw = openRaw(t, file)
		require.Equal(t, n+1, userVersion(t, raw))
		require.Equal(t, upTo(n+1), gooseVersions(t, raw))
	})

	t.Run("OKSchemaSameWithOrWithoutGoose", func(t *testing.T) {
		// The files mean the same whether goose splits them into
		// statements or SQLite runs them whole, as before goose.
		for _, dir := range []string{controlMigrations, tenantMigrations} {
			old := openRaw(t, filepath.Join(t.TempDir(), "old.db"))
			migrateBeforeGoose(t, old, dir, countFiles(t, dir))
			cur := openRaw(t, filepath.Join(t.TempDir(), "cur.db"))
			require.NoError(t, migrate(ctx, cur, migrations, dir))
			require.Equal(t, schemaOf(t, old), schemaOf(t, cur), dir)
		}
	})

	t.Run("OKAppliesOnlyPending", func(t *testing.T) {
		raw := openRaw(t, filepath.Join(t.TempDir(), "x.db"))
		fsys := fstest.MapFS{
			"m/0001_log.sql": gooseFile("CREATE TABLE log (n INTEGER);\nINSERT INTO log VALUES (1);"),
		}
		require.NoError(t, migrate(ctx, raw, fsys, "m"))
		require.NoError(t, migrate(ctx, raw, fsys, "m"))
		fsys["m/0002_more.sql"] = gooseFile("INSERT INTO log VALUES (2);")
		require.NoError(t, migrate(ctx, raw, fsys, "m"))
		require.NoError(t, migrate(ctx, raw, fsys, "m"))
		var n int
		require.NoError(t, raw.QueryRow("SELECT count(*) FROM log").Scan(&n))
		require.Equal(t, 2, n, "each migration ran exactly once")
		require.Equal(t, 2, userVersion(t, raw))
		require.Equal(t, upTo(2), gooseVersions(t, raw))
	})

	t.Run("OKStatementBlock", func(t *testing.T) {
		// A trigger's body holds semicolons, so goose must be told where
		// the statement ends.
		raw := openRaw(t, filepath.Join(t.TempDir(), "x.db"))
		fsys := fstest.MapFS{
			"m/0001_log.sql": gooseFile(`CREATE TABLE log (n INTEGER);
CREATE TABLE seen (n INTEGER);
-- +goose StatementBegin
CREATE TRIGGER log_seen AFTER INSERT ON log BEGIN
    INSERT INTO seen VALUES (new.n);
END;
-- +goose StatementEnd
INSERT INTO log VALUES (7);`),
		}
		require.NoError(t, migrate(ctx, raw, fsys, "m"))
		var n int
		require.NoError(t, raw.QueryRow("SELECT n FROM seen").Scan(&n))
		require.Equal(t, 7, n)
	})

	t.Run("ErrFailingMigrationKeepsPreviousVersion", func(t *testing.T) {
		raw := openRaw(t, filepath.Join(t.TempDir(), "x.db"))
		fsys := fstest.MapFS{
			"m/0001_ok.sql":  gooseFile("CREATE TABLE a (n INTEGER);"),
			"m/0002_bad.sql": gooseFile("CREATE TABLE b (n INTEGER);\nINSERT INTO missing VALUES (1);"),
		}
		err := migrate(ctx, raw, fsys, "m")
		require.ErrorContains(t, err, "migration m/0002_bad.sql: ")
		require.ErrorContains(t, err, "no such table: missing")
		require.Equal(t, 1, userVersion(t, raw))
		require.Equal(t, upTo(1), gooseVersions(t, raw))
		var n int
		require.NoError(t, raw.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name = 'b'").Scan(&n))
		require.Equal(t, 0, n, "the failed file's other statements rolled back")

		// Once the file is fixed, the next open picks up where it failed.
		fsys["m/0002_bad.sql"] = gooseFile("CREATE TABLE b (n INTEGER);")
		require.NoError(t, migrate(ctx, raw, fsys, "m"))
		require.Equal(t, 2, userVersion(t, raw))
		require.Equal(t, upTo(2), gooseVersions(t, raw))
	})

	t.Run("ErrUnparsableMigrationRunsNothing", func(t *testing.T) {
		raw := openRaw(t, filepath.Join(t.TempDir(), "x.db"))
		fsys := fstest.MapFS{
			"m/0001_ok.sql":   gooseFile("CREATE TABLE a (n INTEGER);"),
			"m/0002_bare.sql": {Data: []byte("CREATE TABLE b (n INTEGER);\n")},
		}
		require.ErrorContains(t, migrate(ctx, raw, fsys, "m"), "0002_bare.sql")
		require.Equal(t, 0, userVersion(t, raw))
		var n int
		require.NoError(t, raw.QueryRow("SELECT count(*) FROM sqlite_schema").Scan(&n))
		require.Equal(t, 0, n, "not even goose's table is left behind")
	})

	t.Run("ErrNumberingGap", func(t *testing.T) {
		raw := openRaw(t, filepath.Join(t.TempDir(), "x.db"))
		fsys := fstest.MapFS{
			"m/0001_a.sql": gooseFile("CREATE TABLE a (n INTEGER);"),
			"m/0003_c.sql": gooseFile("CREATE TABLE c (n INTEGER);"),
		}
		require.ErrorContains(t, migrate(ctx, raw, fsys, "m"), "0003_c.sql")
		require.Equal(t, 0, userVersion(t, raw), "nothing runs when the set is broken")
	})

	t.Run("ErrDatabaseNewerThanBinary", func(t *testing.T) {
		raw := openRaw(t, filepath.Join(t.TempDir(), "x.db"))
		_, err := raw.Exec("PRAGMA user_version = 7")
		require.NoError(t, err)
		fsys := fstest.MapFS{"m/0001_a.sql": gooseFile("CREATE TABLE a (n INTEGER);")}
		require.ErrorContains(t, migrate(ctx, raw, fsys, "m"), "use a newer capd")
		require.Equal(t, 7, userVersion(t, raw))
	})

	t.Run("ErrGooseNewerThanBinary", func(t *testing.T) {
		// goose's table is the record: a stale stamp does not hide a
		// version this binary does not know.
		raw := openRaw(t, filepath.Join(t.TempDir(), "x.db"))
		fsys := fstest.MapFS{
			"m/0001_a.sql": gooseFile("CREATE TABLE a (n INTEGER);"),
			"m/0002_b.sql": gooseFile("CREATE TABLE b (n INTEGER);"),
		}
		require.NoError(t, migrate(ctx, raw, fsys, "m"))
		_, err := raw.Exec("PRAGMA user_version = 1")
		require.NoError(t, err)
		delete(fsys, "m/0002_b.sql")
		require.ErrorContains(t, migrate(ctx, raw, fsys, "m"), "use a newer capd")
	})

	t.Run("ErrOpenNewerThanBinary", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "x.db")
		raw := openRaw(t, file)
		require.NoError(t, migrate(ctx, raw, migrations, tenantMigrations))
		_, err := raw.Exec(fmt.Sprintf("PRAGMA user_version = %d", countFiles(t, tenantMigrations)+1))
		require.NoError(t, err)
		_, err = openDatabase(ctx, file, tenantPool, migrations, tenantMigrations)
		require.ErrorContains(t, err, "use a newer capd")
	})
}

// TestConcurrentFirstOpen opens one database from several handles at once,
// each with its own connections as a separate process would have. goose
// alone would let two of them read "nothing applied" and both run 0001;
// migrate's write lock must make every open but one find the work done.
func TestConcurrentFirstOpen(t *testing.T) {
	ctx := context.Background()
	const handles = 6
	n := countFiles(t, tenantMigrations)

	// openAll opens file from every handle at once and closes them.
	openAll := func(t *testing.T, file string) {
		t.Helper()
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, handles)
		for i := range handles {
			wg.Go(func() {
				<-start
				d, err := openDatabase(ctx, file, tenantPool, migrations, tenantMigrations)
				if err == nil {
					err = d.close()
				}
				errs[i] = err
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "handle %d", i)
		}
	}

	t.Run("OKNewDatabase", func(t *testing.T) {
		for round := range 5 {
			file := filepath.Join(t.TempDir(), fmt.Sprintf("r%d.db", round))
			openAll(t, file)
			raw := openRaw(t, file)
			require.Equal(t, n, userVersion(t, raw))
			require.Equal(t, upTo(n), gooseVersions(t, raw), "each version applied once")
		}
	})

	t.Run("OKDatabaseFromBeforeGoose", func(t *testing.T) {
		for round := range 5 {
			file := filepath.Join(t.TempDir(), fmt.Sprintf("r%d.db", round))
			raw := openRaw(t, file)
			migrateBeforeGoose(t, raw, tenantMigrations, 1)
			require.NoError(t, raw.Close())
			openAll(t, file)
			raw = openRaw(t, file)
			require.Equal(t, n, userVersion(t, raw))
			require.Equal(t, upTo(n), gooseVersions(t, raw), "adopted once, each version applied once")
		}
	})
}

// schemaOf lists the SQL of every table and index of db but goose's.
func schemaOf(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT sql FROM sqlite_schema
		WHERE sql IS NOT NULL AND name NOT IN (?, 'sqlite_sequence') ORDER BY name`, gooseTable)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}
